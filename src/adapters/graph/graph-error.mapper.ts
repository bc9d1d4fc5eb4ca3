import { GraphClientError, GraphError } from '@microsoft/microsoft-graph-client';
import { DirectoryError } from '../../application/ports/tenant-directory';
import type { DirectoryFailure, DirectoryFailureReason } from '../../domain/execution/directory';

/**
 * A Graph request that did not succeed, classified once at the boundary.
 * @remarks `ambiguous` means the request may have been applied even though no success came back
 * (no answer, or a 5xx): a create must be reconciled by reading before it is sent again.
 */
export interface GraphRefusal {
  readonly failure: DirectoryFailure;
  readonly ambiguous: boolean;
}

/** What Graph said (or failed to say) about one request, before classification. */
export interface GraphErrorFacts {
  /** HTTP status; absent when no response arrived. */
  readonly status?: number;
  readonly code?: string;
  readonly message?: string;
  readonly requestId?: string;
  readonly retryAfterMs?: number;
  /** Set when no usable response arrived: the connection failed or the request timed out. */
  readonly transport?: 'network' | 'timeout';
}

/**
 * Message patterns for Graph's `Request_BadRequest` family, whose `code` does not tell the cases apart.
 * @remarks Strings as observed from the directory (reference §1.6); matched case-insensitively and
 * loosely because Microsoft rewords them.
 */
const BAD_REQUEST_PATTERNS: readonly (readonly [RegExp, DirectoryFailureReason])[] = [
  [/does not have any available licen[cs]es|no available licen[cs]es/i, 'no_free_seats'],
  [/invalid usage location/i, 'no_usage_location'],
  [/inherited from a group/i, 'inherited_licence'],
  [/mail-enabled security group|distribution list/i, 'mail_enabled_group'],
  [/already exists?\b/i, 'already_exists'],
];

const FORBIDDEN_CODES = new Set([
  'Authorization_RequestDenied',
  'Authorization_IdentityNotFound',
  'InvalidAuthenticationToken',
  'ErrorAccessDenied',
  'AccessDenied',
]);

const NOT_FOUND_CODES = new Set([
  'Request_ResourceNotFound',
  'ResourceNotFound',
  'ErrorItemNotFound',
  'MailboxNotEnabledForRESTAPI',
]);

/** 429 and 503 are Graph's throttling answers; 500, 502 and 504 are outages worth another try. */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Classifies what Graph answered into Cabinet's failure reasons, keeping Graph's own code, message and request id. */
export function classifyGraphError(facts: GraphErrorFacts): DirectoryFailure {
  const code =
    facts.code ?? (facts.transport ? transportCode(facts.transport) : `HTTP${facts.status ?? ''}`);
  const message = facts.message ?? transportMessage(facts);
  const reason = reasonOf(facts, code, message);
  return {
    reason,
    code,
    message,
    ...(facts.status !== undefined ? { httpStatus: facts.status } : {}),
    ...(facts.requestId ? { requestId: facts.requestId } : {}),
    retryable: isRetryable(facts),
    ...(facts.retryAfterMs !== undefined ? { retryAfterMs: facts.retryAfterMs } : {}),
  };
}

function reasonOf(facts: GraphErrorFacts, code: string, message: string): DirectoryFailureReason {
  if (facts.transport) return 'unavailable';
  const status = facts.status;
  if (status === 429) return 'throttled';
  if (FORBIDDEN_CODES.has(code) || status === 401 || status === 403) return 'forbidden';
  if (NOT_FOUND_CODES.has(code) || status === 404) return 'not_found';
  if (status !== undefined && status >= 500) return 'unavailable';
  if (status === 400 || status === 409 || status === 422 || code === 'Request_BadRequest') {
    const match = BAD_REQUEST_PATTERNS.find(([pattern]) => pattern.test(message));
    return match ? match[1] : 'invalid';
  }
  return 'unknown';
}

function isRetryable(facts: GraphErrorFacts): boolean {
  return (
    facts.transport !== undefined ||
    (facts.status !== undefined && RETRYABLE_STATUSES.has(facts.status))
  );
}

function transportCode(transport: 'network' | 'timeout'): string {
  return transport === 'timeout' ? 'Timeout' : 'NoResponse';
}

function transportMessage(facts: GraphErrorFacts): string {
  if (facts.transport === 'timeout') return 'Microsoft Graph did not answer in time.';
  if (facts.transport === 'network')
    return 'The connection to Microsoft Graph failed before an answer arrived.';
  return `Microsoft Graph answered HTTP ${facts.status ?? 'without a status'}.`;
}

/** No usable answer: either the request never completed or the answer could not be read. */
function isTransport(
  status: number | undefined,
  code: string | undefined,
): 'network' | 'timeout' | undefined {
  if (code === 'TimeoutError' || code === 'AbortError') return 'timeout';
  if (status === undefined || status < 0 || code === 'TypeError' || code === 'SyntaxError')
    return 'network';
  return undefined;
}

/**
 * A refusal from what the Graph SDK threw. Token failures arrive as a `GraphClientError` carrying
 * the token provider's {@link DirectoryError}: nothing was sent, so they are never ambiguous.
 */
export function refusalFromError(error: unknown, nowMs: number): GraphRefusal {
  if (error instanceof DirectoryError) return { failure: error.failure, ambiguous: false };
  if (error instanceof GraphClientError && error.customError instanceof DirectoryError)
    return { failure: error.customError.failure, ambiguous: false };
  if (error instanceof GraphError) {
    const status = error.statusCode > 0 ? error.statusCode : undefined;
    const transport = isTransport(status, error.code ?? undefined);
    if (transport) return transportRefusal(transport);
    const retryAfterMs = parseRetryAfter(error.headers?.get('retry-after'), nowMs);
    return refusal({
      status,
      ...(error.code ? { code: error.code } : {}),
      ...(error.message ? { message: error.message } : {}),
      ...(error.requestId ? { requestId: error.requestId } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return transportRefusal('timeout');
  return transportRefusal('network');
}

function transportRefusal(transport: 'network' | 'timeout'): GraphRefusal {
  return { failure: classifyGraphError({ transport }), ambiguous: true };
}

function refusal(facts: GraphErrorFacts): GraphRefusal {
  const failure = classifyGraphError(facts);
  return { failure, ambiguous: facts.status === undefined || facts.status >= 500 };
}

/** One sub-response of a `$batch` answer (JSON batching format). */
export interface BatchSubResponse {
  readonly id: string;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** A refusal from a failed `$batch` sub-response, which carries the same error envelope as a plain response. */
export function refusalFromBatchResponse(response: BatchSubResponse, nowMs: number): GraphRefusal {
  const envelope = errorEnvelope(response.body);
  const retryAfterMs = parseRetryAfter(headerOf(response.headers, 'retry-after'), nowMs);
  return refusal({
    status: response.status,
    ...envelope,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

function errorEnvelope(body: unknown): { code?: string; message?: string; requestId?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return {};
  const { code, message, innerError } = error as {
    code?: unknown;
    message?: unknown;
    innerError?: unknown;
  };
  const requestId =
    typeof innerError === 'object' && innerError !== null
      ? (innerError as Record<string, unknown>)['request-id']
      : undefined;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
    ...(typeof requestId === 'string' ? { requestId } : {}),
  };
}

/** Header lookup that ignores case: batch sub-responses spell `Retry-After` either way. */
export function headerOf(
  headers: Readonly<Record<string, string>> | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers))
    if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/**
 * `Retry-After` as milliseconds from now: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * A date in the past means "now" (0); anything unparseable is ignored.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Graph's answer to removing a member or owner that is not there ("One or more removed object
 * references do not exist"), whether it comes as 404 or 400: the command's aim already holds.
 */
export function isMissingReference(failure: DirectoryFailure): boolean {
  return (
    failure.reason === 'not_found' ||
    /removed object references? do(es)? not exist/i.test(failure.message)
  );
}

/**
 * Graph's answers to assigning a licence the user already has, or removing one the user does not
 * have: the command's aim already holds.
 */
export function isLicenceAlreadySo(failure: DirectoryFailure): boolean {
  return (
    failure.reason !== 'no_free_seats' &&
    /already (been )?assigned|does not have (a |the )?corresponding licen[cs]e|is not assigned/i.test(
      failure.message,
    )
  );
}
