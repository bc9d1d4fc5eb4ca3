import type { Request, Response } from 'restify';
import type { z } from 'zod';
import { ConcurrencyError, StorageUnavailableError } from '../../application/ports/errors';
import type { Person } from '../../domain/change-request/change-request';
import { DomainError, ValidationError, type FieldIssue } from '../../domain/shared/errors';
import type { Result } from '../../domain/shared/result';
import type { TokenFailure } from './sso-token';

/** Tab API bodies are a few form fields; anything bigger is refused before a use case sees it. */
export const TAB_MAX_BODY_BYTES = 16 * 1024;

/** A refusal the tab shows as is: HTTP status, stable code, a message for people, and field issues. */
export class TabHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: readonly FieldIssue[],
  ) {
    super(message);
    this.name = 'TabHttpError';
  }
}

/** What a handler gets: the verified caller, the request and its id for error reports. */
export interface TabContext {
  readonly actor: Person;
  readonly req: Request;
  readonly requestId: string;
}

/** Verifies the bearer token of a request; the one place the tab learns who is calling. */
export type Authenticate = (token: string | undefined) => Promise<Result<Person, TokenFailure>>;

export type TabHandler = (ctx: TabContext) => Promise<{
  readonly status?: number;
  readonly body: unknown;
  /** A file to download instead of JSON: its bytes go out as they are, with these headers. */
  readonly file?: { readonly bytes: Buffer; readonly headers: Readonly<Record<string, string>> };
}>;

/**
 * Wraps an API handler: authenticates, runs it, and maps every outcome to JSON in one place.
 * @remarks Nothing from the token or its claims is logged; refusals log only their reason code.
 */
export function apiRoute(
  authenticate: Authenticate,
  log: (message: string) => void,
  handler: TabHandler,
): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const requestId = req.id();
    res.header('x-request-id', requestId);
    res.header('cache-control', 'no-store');
    try {
      const actor = await authenticateRequest(authenticate, req, log);
      checkBody(req);
      const { status, body, file } = await handler({ actor, req, requestId });
      if (file) {
        res.writeHead(status ?? 200, { ...file.headers, 'content-length': file.bytes.length });
        res.end(file.bytes);
      } else res.send(status ?? 200, body);
    } catch (error: unknown) {
      sendError(res, requestId, error, log, req);
    }
  };
}

/** Same error mapping for the routes that need no sign-in (sandbox people, token issuing). */
export function openRoute(
  log: (message: string) => void,
  handler: (req: Request) => Promise<{ readonly status?: number; readonly body: unknown }>,
): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const requestId = req.id();
    res.header('x-request-id', requestId);
    res.header('cache-control', 'no-store');
    try {
      checkBody(req);
      const { status, body } = await handler(req);
      res.send(status ?? 200, body);
    } catch (error: unknown) {
      sendError(res, requestId, error, log, req);
    }
  };
}

/** A use case's refusal becomes the HTTP error the tab shows; success passes through. */
export function unwrap<T>(result: Result<T, DomainError>): T {
  if (result.ok) return result.value;
  throw result.error;
}

/** Parses a body or query with a zod schema; a failure lists every field to fix (400). */
export function parseInput<S extends z.ZodTypeAny>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data as z.infer<S>;
  const issues = parsed.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : 'body',
    message: issue.message,
  }));
  throw new ValidationError(issues);
}

/** Refusals about the thing the URL names (request, run, checklist item): 404. */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  'CR.NOT_FOUND',
  'CLIENT.NOT_FOUND',
  'EXEC.RUN_NOT_FOUND',
  'EXEC.CHECKLIST_ITEM_NOT_FOUND',
]);

/**
 * HTTP status for a use case's refusal: not found (never saying whether it exists elsewhere), not
 * allowed, bad input; everything else, including what the client's directory says (user not found,
 * no free seats), conflicts with the state of things: 409 with the message saying what to fix.
 */
export function statusForDomainError(code: string): number {
  if (NOT_FOUND_CODES.has(code)) return 404;
  if (
    code.startsWith('ACCESS.') ||
    /\.(NOT_ALLOWED|NOT_STAFF|NOT_AN_APPROVER|SELF_APPROVAL|NOT_REQUESTER)$/.test(code)
  )
    return 403;
  if (/\.(INVALID_INPUT|REASON_REQUIRED|TEXT_TOO_LONG)$/.test(code)) return 400;
  return 409;
}

/** What the caller is told about a refused token: enough to act on, nothing about why a forgery failed. */
function tokenRefusal(failure: TokenFailure): {
  readonly status: number;
  readonly message: string;
} {
  switch (failure) {
    case 'missing':
      return { status: 401, message: 'Sign in to Cabinet first: the request carried no token.' };
    case 'expired':
      return { status: 401, message: 'Your sign-in has expired. Sign in again.' };
    case 'not_yet_valid':
      return {
        status: 401,
        message: 'Your sign-in is not valid yet. Check this device’s clock and sign in again.',
      };
    case 'keys_unavailable':
      return {
        status: 503,
        message: 'Your sign-in could not be checked right now. Try again in a minute.',
      };
    case 'unauthorized_client':
      return {
        status: 401,
        message: 'Your sign-in was not accepted by Cabinet. Open Cabinet from Microsoft Teams.',
      };
    // An unknown tenant gets the same answer as a forgery: which tenants Cabinet serves is not for strangers.
    case 'malformed':
    case 'unsupported_version':
    case 'wrong_issuer':
    case 'wrong_audience':
    case 'missing_scope':
    case 'unknown_tenant':
    case 'bad_signature':
      return { status: 401, message: 'Your sign-in was not accepted by Cabinet. Sign in again.' };
  }
}

async function authenticateRequest(
  authenticate: Authenticate,
  req: Request,
  log: (message: string) => void,
): Promise<Person> {
  const header = req.header('authorization', '');
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header.trim());
  const result = await authenticate(match?.[1]);
  if (result.ok) return result.value;
  log(`tab sign-in refused (${result.error}) for ${req.method} ${routeOf(req)}`);
  const { status, message } = tokenRefusal(result.error);
  throw new TabHttpError(status, `AUTH.${result.error.toUpperCase()}`, message);
}

function checkBody(req: Request): void {
  if (req.method !== 'POST') return;
  const declared = Number(req.header('content-length', '0'));
  const size = Number.isFinite(declared) && declared > 0 ? declared : jsonSize(req.body);
  if (size > TAB_MAX_BODY_BYTES) {
    throw new TabHttpError(
      413,
      'HTTP.BODY_TOO_LARGE',
      `The request is larger than ${TAB_MAX_BODY_BYTES / 1024} KiB; send only the form fields.`,
    );
  }
  if (size > 0 && !req.is('json')) {
    throw new TabHttpError(415, 'HTTP.NOT_JSON', 'Send the request body as application/json.');
  }
}

function jsonSize(body: unknown): number {
  return body === undefined ? 0 : Buffer.byteLength(JSON.stringify(body) ?? '');
}

function sendError(
  res: Response,
  requestId: string,
  error: unknown,
  log: (message: string) => void,
  req: Request,
): void {
  const body = (status: number, code: string, message: string, extra: object = {}): void => {
    res.send(status, { error: { code, message, requestId, ...extra } });
  };
  if (error instanceof TabHttpError) {
    if (error.status === 401) res.header('www-authenticate', 'Bearer error="invalid_token"');
    body(error.status, error.code, error.message, error.issues ? { issues: error.issues } : {});
    return;
  }
  if (error instanceof ValidationError) {
    body(400, error.code, error.message, { issues: error.issues });
    return;
  }
  if (error instanceof DomainError) {
    body(statusForDomainError(error.code), error.code, tabMessage(error));
    return;
  }
  if (error instanceof ConcurrencyError) {
    body(
      409,
      'HTTP.CHANGED',
      'Someone changed this request while you were working on it. Reload and try again.',
    );
    return;
  }
  log(`tab ${req.method} ${routeOf(req)} failed [${requestId}]: ${describe(error)}`);
  if (error instanceof StorageUnavailableError) {
    body(
      503,
      'HTTP.STORAGE_UNAVAILABLE',
      'Cabinet cannot reach its storage right now. Nothing was changed; try again in a minute.',
    );
    return;
  }
  body(
    500,
    'HTTP.UNEXPECTED',
    `Something went wrong on Cabinet's side. Quote ${requestId} to your administrator.`,
  );
}

/** The use case's message, except where it speaks of cards the tab does not have. */
function tabMessage(error: DomainError): string {
  if (error.code === 'CR.STALE_VERSION' && typeof error.details.current === 'number')
    return `The request changed while you had it open (it is now at version ${error.details.current}). Reload the page to see what changed, then preview again.`;
  return error.message;
}

/** The route pattern, not the URL: paths carry request ids that are not worth repeating in logs. */
function routeOf(req: Request): string {
  return req.getRoute()?.path?.toString() ?? 'unknown route';
}

function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 5; ) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(' <- ');
}
