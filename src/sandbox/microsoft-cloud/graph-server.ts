import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { resolveRoute, type RouteResolution } from './graph-routes';
import {
  errorBody,
  GraphFault,
  insufficientPrivileges,
  ODATA_JSON,
  parseQuery,
  type GraphResponse,
} from './graph-wire';
import type { OperationKey, SandboxTenantRuntime } from './sandbox-tenant';
import { TokenRejected, type TokenService } from './tokens';

/** What the HTTPS server must do with a Graph request. */
export interface GraphHttpOutcome {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
  /** Destroy the socket instead of answering (a lose-response knob). */
  readonly dropConnection: boolean;
}

export interface GraphServerDeps {
  readonly cloudUrl: string;
  readonly tokens: TokenService;
  readonly tenantById: (tenantId: string) => SandboxTenantRuntime | undefined;
  readonly appId: string;
  readonly now: () => Date;
  readonly sleep: (milliseconds: number) => Promise<void>;
  /** Receives a report of every exception a route throws that is not a Graph refusal (a sandbox bug). */
  readonly reportFailure: (report: string) => void;
}

interface Operation {
  readonly method: string;
  /** Path after `/v1.0`, raw (still URL-encoded), without query. */
  readonly rawPath: string;
  readonly search: string;
  readonly body: unknown;
  readonly clientRequestId: string | undefined;
  readonly viaBatch: boolean;
}

interface OperationResult {
  readonly response: GraphResponse;
  readonly requestId: string;
  readonly dropConnection: boolean;
}

const MAX_BATCH = 20;
/** Caller-supplied headers that would clash with the ones the server sets. */
const PASS_THROUGH = new Set(['location', 'retry-after']);

/**
 * Microsoft Graph v1.0 for the sandbox tenants: checks the bearer token (our signature, Graph
 * audience; tenant from `tid`), applies the tenant's knobs, runs the route and renders Graph's
 * envelope. `$batch` sub-requests go through the same pipeline, so they fail and throttle alike.
 */
export class GraphServer {
  constructor(private readonly deps: GraphServerDeps) {}

  async handle(
    method: string,
    pathAfterVersion: string,
    search: string,
    headers: IncomingHttpHeaders,
    rawBody: Buffer,
    /** Aborts when the caller's connection closes (lets a held request go). */
    closed?: AbortSignal,
  ): Promise<GraphHttpOutcome> {
    const clientRequestId = header(headers, 'client-request-id');
    const caller = await this.authenticate(header(headers, 'authorization'));
    if (caller instanceof GraphFault) return this.render(caller, randomUUID(), clientRequestId);
    const { tenant } = caller;
    tenant.countRoundTrip();
    if (tenant.latency > 0) await this.deps.sleep(tenant.latency);

    let body: unknown;
    try {
      body = parseBody(rawBody);
    } catch (fault) {
      return this.render(fault as GraphFault, randomUUID(), clientRequestId);
    }
    if (pathAfterVersion.replace(/\/$/, '') === '/$batch' && method === 'POST')
      return this.batch(tenant, caller.roles, body, clientRequestId, closed);

    const result = await this.operation(
      tenant,
      caller.roles,
      {
        method,
        rawPath: pathAfterVersion,
        search,
        body,
        clientRequestId,
        viaBatch: false,
      },
      closed,
    );
    return {
      status: result.response.status,
      headers: this.headers(result.requestId, clientRequestId, result.response),
      ...(result.response.body !== undefined ? { body: result.response.body } : {}),
      dropConnection: result.dropConnection,
    };
  }

  private async authenticate(
    authorization: string | undefined,
  ): Promise<{ tenant: SandboxTenantRuntime; roles: readonly string[] } | GraphFault> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const unauthenticated = (message: string) =>
      new GraphFault(401, 'InvalidAuthenticationToken', message, undefined, {
        'WWW-Authenticate': `Bearer realm="", authorization_uri="${this.deps.cloudUrl}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
      });
    if (!token) return unauthenticated('Access token is empty.');
    try {
      const verified = await this.deps.tokens.verifyAppToken(token);
      const tenant = this.deps.tenantById(verified.tenantId);
      if (
        !tenant ||
        verified.appId !== this.deps.appId ||
        tenant.directory.record.appRoles === null
      )
        return new GraphFault(
          401,
          'Authorization_IdentityNotFound',
          'The identity of the calling application could not be established.',
        );
      return { tenant, roles: verified.roles };
    } catch (error) {
      if (error instanceof TokenRejected) return unauthenticated(error.message);
      throw error;
    }
  }

  /** Applies one operation, waiting first or afterwards while a hold catches it. */
  private async operation(
    tenant: SandboxTenantRuntime,
    roles: readonly string[],
    operation: Operation,
    closed: AbortSignal | undefined,
  ): Promise<OperationResult> {
    const located = locate(operation);
    if ((await tenant.whileHeld(located.key, 'before', operation.viaBatch, closed)) === 'gone')
      return callerGone();
    const result = this.apply(tenant, roles, operation, located);
    await tenant.whileHeld(located.key, 'after', operation.viaBatch, closed);
    return result;
  }

  private apply(
    tenant: SandboxTenantRuntime,
    roles: readonly string[],
    operation: Operation,
    { key, resolution }: Located,
  ): OperationResult {
    const requestId = randomUUID();
    const now = this.deps.now();
    const fault = (error: GraphFault): OperationResult => ({
      response: {
        status: error.status,
        body: errorBody(error, {
          requestId,
          clientRequestId: operation.clientRequestId ?? requestId,
          at: now,
        }),
        ...(error.headers ? { headers: error.headers } : {}),
      },
      requestId,
      dropConnection: false,
    });

    if (!resolution)
      return fault(new GraphFault(400, 'BadRequest', 'The request URI is not valid.'));

    const injected = tenant.takeInjected(key);
    if (injected?.kind === 'throttle') return fault(throttleFault(injected, now));
    if (injected?.kind === 'fail')
      return fault(new GraphFault(injected.status, injected.code, injected.message));

    let response: GraphResponse;
    let sequence: number | undefined;
    try {
      if (resolution.kind === 'wrongMethod')
        throw new GraphFault(
          405,
          'Request_BadRequest',
          'Specified HTTP method is not allowed for the request target.',
        );
      if (resolution.kind === 'unknown')
        throw new GraphFault(
          400,
          'BadRequest',
          `Resource not found for the segment '${resolution.segment}'.`,
        );
      const { route, params } = resolution.match;
      if (!route.permissions.some((permission) => roles.includes(permission)))
        throw insufficientPrivileges();
      response = route.handler({
        directory: tenant.directory,
        params,
        query: parseQuery(operation.search),
        body: operation.body,
        now,
        graphUrl: `${this.deps.cloudUrl}/v1.0`,
        selfUrl: `${this.deps.cloudUrl}/v1.0${operation.rawPath}`,
      });
      if (route.mutation && response.status < 300)
        sequence = tenant.recordMutation({
          route: key.route!,
          method: operation.method,
          path: operation.rawPath,
          viaBatch: operation.viaBatch,
          status: response.status,
        });
    } catch (error) {
      if (error instanceof GraphFault) return fault(error);
      return fault(this.unexpected(error, tenant, operation, key));
    }

    const loss = tenant.takeLoss(key);
    if (!loss) return { response, requestId, dropConnection: false };
    if (sequence !== undefined) tenant.markResponseLost(sequence);
    if (loss === 'drop-connection') return { response, requestId, dropConnection: true };
    return fault(
      new GraphFault(
        504,
        'UnknownError',
        'The operation timed out before a response was received.',
      ),
    );
  }

  /**
   * A route threw something other than a Graph refusal: reported with the route so the sandbox bug
   * can be found, and answered as Graph answers its own failures (a 500 in the error envelope) so
   * the other requests of a `$batch` keep their answers.
   */
  private unexpected(
    error: unknown,
    tenant: SandboxTenantRuntime,
    operation: Operation,
    key: OperationKey,
  ): GraphFault {
    const route = key.route ?? `${operation.method} (no route)`;
    this.deps.reportFailure(
      `sandbox cloud: request failed: ${route}${operation.viaBatch ? ' in a $batch' : ''} ` +
        `(${operation.method} ${operation.rawPath}${operation.search}, tenant ${tenant.tenantId}) threw ` +
        describeError(error),
    );
    return new GraphFault(
      500,
      'InternalServerError',
      `The sandbox cloud failed while serving ${route}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}. Its log has the stack.`,
    );
  }

  /** A `$batch`, waiting before any sub-request runs or after all have, while a hold catches the envelope. */
  private async batch(
    tenant: SandboxTenantRuntime,
    roles: readonly string[],
    body: unknown,
    clientRequestId: string | undefined,
    closed: AbortSignal | undefined,
  ): Promise<GraphHttpOutcome> {
    const envelope: OperationKey = {
      surface: 'batch',
      method: 'POST',
      path: '/$batch',
      route: 'POST /$batch',
    };
    if ((await tenant.whileHeld(envelope, 'before', false, closed)) === 'gone')
      return { ...callerGone().response, headers: {}, dropConnection: true };
    const answer = await this.batchBody(tenant, roles, envelope, body, clientRequestId, closed);
    await tenant.whileHeld(envelope, 'after', false, closed);
    return answer;
  }

  private async batchBody(
    tenant: SandboxTenantRuntime,
    roles: readonly string[],
    envelope: OperationKey,
    body: unknown,
    clientRequestId: string | undefined,
    closed: AbortSignal | undefined,
  ): Promise<GraphHttpOutcome> {
    const batchRequestId = randomUUID();
    const refuse = (message: string) =>
      this.render(new GraphFault(400, 'BadRequest', message), batchRequestId, clientRequestId);
    const injected = tenant.takeInjected(envelope);
    if (injected?.kind === 'throttle')
      return this.render(throttleFault(injected, this.deps.now()), batchRequestId, clientRequestId);
    if (injected?.kind === 'fail')
      return this.render(
        new GraphFault(injected.status, injected.code, injected.message),
        batchRequestId,
        clientRequestId,
      );

    const requests = (body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests)) return refuse('Invalid batch payload format.');
    if (requests.length > MAX_BATCH)
      return refuse(`Number of requests in a batch exceeds the limit of ${MAX_BATCH}.`);
    const parsed: BatchItem[] = [];
    for (const item of requests) {
      const request = item as Record<string, unknown> | null;
      const id = request?.['id'];
      const method = request?.['method'];
      const url = request?.['url'];
      if (
        typeof id !== 'string' ||
        id === '' ||
        typeof method !== 'string' ||
        typeof url !== 'string'
      )
        return refuse('Each request in a batch must have an id, a method and a url.');
      const headers = normaliseHeaders(request?.['headers']);
      if (request?.['body'] !== undefined && headers['content-type'] === undefined)
        return refuse(`Request ${id}: a request with a body must have a Content-Type header.`);
      const dependsOn = request?.['dependsOn'];
      parsed.push({
        id,
        method: method.toUpperCase(),
        url,
        headers,
        body: request?.['body'],
        dependsOn: Array.isArray(dependsOn) ? dependsOn.map(String) : [],
      });
    }
    const ids = new Set(parsed.map((item) => item.id.toLowerCase()));
    if (ids.size !== parsed.length) return refuse('Batch requests must have unique ids.');
    for (const item of parsed)
      for (const dependency of item.dependsOn)
        if (!ids.has(dependency.toLowerCase()))
          return refuse(`Request ${item.id} depends on ${dependency}, which is not in the batch.`);
    tenant.countBatch(parsed.length);

    const responses: unknown[] = [];
    let dropConnection = false;
    const outcomes = new Map<string, Promise<number>>();
    const run = async (item: BatchItem): Promise<number> => {
      const statuses = await Promise.all(
        item.dependsOn.map((dependency) => outcomes.get(dependency.toLowerCase())!),
      );
      const result = statuses.some((status) => status >= 400)
        ? this.failedDependency(item)
        : await this.subRequest(tenant, roles, item, clientRequestId, closed);
      dropConnection ||= result.dropConnection;
      responses.push(batchResponse(item.id, result));
      return result.response.status;
    };
    // Dependencies must already be registered when a dependant looks them up.
    const ordered = orderByDependencies(parsed);
    for (const item of ordered) outcomes.set(item.id.toLowerCase(), run(item));
    await Promise.all(outcomes.values());
    const answer: GraphResponse = { status: 200, body: { responses } };
    return {
      status: 200,
      headers: this.headers(batchRequestId, clientRequestId, answer),
      body: answer.body,
      dropConnection,
    };
  }

  private subRequest(
    tenant: SandboxTenantRuntime,
    roles: readonly string[],
    item: BatchItem,
    clientRequestId: string | undefined,
    closed: AbortSignal | undefined,
  ): Promise<OperationResult> {
    // The SDK's BatchRequestContent strips only scheme and host, so sub-request URLs may keep `/v1.0`.
    const relative = item.url.startsWith('/') ? item.url : `/${item.url}`;
    const url = relative.replace(/^\/v1\.0(?=\/|\?|$)/i, '') || '/';
    const requestId = randomUUID();
    if (/^\/?https?:/i.test(item.url) || /^\/\$batch(\?|$)/i.test(url)) {
      const fault = new GraphFault(
        400,
        'BadRequest',
        `Invalid request URL '${item.url}' in a batch.`,
      );
      return Promise.resolve({
        response: {
          status: 400,
          body: errorBody(fault, {
            requestId,
            clientRequestId: clientRequestId ?? requestId,
            at: this.deps.now(),
          }),
        },
        requestId,
        dropConnection: false,
      });
    }
    const queryStart = url.indexOf('?');
    return this.operation(
      tenant,
      roles,
      {
        method: item.method,
        rawPath: queryStart === -1 ? url : url.slice(0, queryStart),
        search: queryStart === -1 ? '' : url.slice(queryStart),
        body: item.body,
        clientRequestId: item.headers['client-request-id'] ?? clientRequestId,
        viaBatch: true,
      },
      closed,
    );
  }

  private failedDependency(item: BatchItem): OperationResult {
    const requestId = randomUUID();
    const fault = new GraphFault(
      424,
      'FailedDependency',
      `The request ${item.id} was not run because a request it depends on failed.`,
    );
    return {
      response: {
        status: 424,
        body: errorBody(fault, { requestId, clientRequestId: requestId, at: this.deps.now() }),
      },
      requestId,
      dropConnection: false,
    };
  }

  render(
    fault: GraphFault,
    requestId: string,
    clientRequestId: string | undefined,
  ): GraphHttpOutcome {
    const response: GraphResponse = {
      status: fault.status,
      body: errorBody(fault, {
        requestId,
        clientRequestId: clientRequestId ?? requestId,
        at: this.deps.now(),
      }),
      ...(fault.headers ? { headers: fault.headers } : {}),
    };
    return {
      status: fault.status,
      headers: this.headers(requestId, clientRequestId, response),
      body: response.body,
      dropConnection: false,
    };
  }

  private headers(
    requestId: string,
    clientRequestId: string | undefined,
    response: GraphResponse,
  ): Record<string, string> {
    return {
      'request-id': requestId,
      'client-request-id': clientRequestId ?? requestId,
      'x-ms-ags-diagnostic': JSON.stringify({
        ServerInfo: {
          DataCenter: 'Sandbox',
          Slice: 'E',
          Ring: '0',
          ScaleUnit: '000',
          RoleInstance: 'sandbox',
        },
      }),
      'x-ms-resource-unit': '1',
      'Cache-Control': 'no-cache',
      'Strict-Transport-Security': 'max-age=31536000',
      ...(response.body !== undefined
        ? { 'Content-Type': ODATA_JSON, 'OData-Version': '4.0' }
        : {}),
      ...response.headers,
    };
  }
}

/** Where an operation goes: its knob key, and its route unless the path does not decode. */
interface Located {
  readonly key: OperationKey;
  readonly resolution: RouteResolution | undefined;
}

function locate(operation: Operation): Located {
  let segments: string[] | undefined;
  try {
    segments = operation.rawPath.split('/').slice(1).map(decodeURIComponent);
  } catch {
    segments = undefined;
  }
  if (segments?.at(-1) === '') segments = segments.slice(0, -1);
  const resolution = segments ? resolveRoute(operation.method, segments) : undefined;
  return {
    key: {
      surface: 'operation',
      method: operation.method,
      path: operation.rawPath,
      route:
        resolution?.kind === 'found'
          ? `${operation.method} ${resolution.match.route.template}`
          : undefined,
    },
    resolution,
  };
}

/** The caller hung up while its request was held before being applied: nothing happened, nobody to answer. */
function callerGone(): OperationResult {
  return { response: { status: 499 }, requestId: randomUUID(), dropConnection: true };
}

interface BatchItem {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly dependsOn: readonly string[];
}

function batchResponse(id: string, result: OperationResult): unknown {
  const headers: Record<string, string> = {
    'Cache-Control': 'no-cache',
    'x-ms-resource-unit': '1',
  };
  if (result.response.body !== undefined) {
    headers['Content-Type'] = ODATA_JSON;
    headers['OData-Version'] = '4.0';
  }
  for (const [name, value] of Object.entries(result.response.headers ?? {}))
    if (PASS_THROUGH.has(name.toLowerCase()) || name.toLowerCase().startsWith('x-ms-throttle'))
      headers[name] = value;
  return {
    id,
    status: result.response.status,
    headers,
    ...(result.response.body !== undefined ? { body: result.response.body } : {}),
  };
}

/** Prerequisites before dependants, so each dependant finds its prerequisites' outcomes registered. */
function orderByDependencies(items: readonly BatchItem[]): BatchItem[] {
  const byId = new Map(items.map((item) => [item.id.toLowerCase(), item]));
  const ordered: BatchItem[] = [];
  const visiting = new Set<string>();
  const visit = (item: BatchItem) => {
    const key = item.id.toLowerCase();
    if (ordered.includes(item) || visiting.has(key)) return;
    visiting.add(key);
    for (const dependency of item.dependsOn) {
      const prerequisite = byId.get(dependency.toLowerCase());
      if (prerequisite) visit(prerequisite);
    }
    ordered.push(item);
  };
  items.forEach(visit);
  return ordered;
}

function throttleFault(
  injected: { status: 429 | 503 | 504; retryAfterSeconds: number; retryAfterFormat: string },
  now: Date,
): GraphFault {
  const retryAfter: Record<string, string> =
    injected.retryAfterFormat === 'none'
      ? {}
      : {
          'Retry-After':
            injected.retryAfterFormat === 'http-date'
              ? new Date(now.getTime() + injected.retryAfterSeconds * 1000).toUTCString()
              : String(injected.retryAfterSeconds),
        };
  switch (injected.status) {
    case 429:
      return new GraphFault(
        429,
        'TooManyRequests',
        'Too many requests. Please retry after the time given in the Retry-After header.',
        undefined,
        {
          ...retryAfter,
          'x-ms-throttle-scope': 'Tenant_Application/ReadWrite',
          'x-ms-throttle-information': 'ResourceUnitLimitExceeded',
        },
      );
    case 503:
      return new GraphFault(
        503,
        'serviceNotAvailable',
        'Service unavailable.',
        undefined,
        retryAfter,
      );
    case 504:
      return new GraphFault(504, 'UnknownError', 'The gateway timed out.', undefined, retryAfter);
  }
}

/** An exception with its stack, for the cloud's log. */
export function describeError(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? `${error.name}: ${error.message}`)
    : String(error);
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new GraphFault(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function normaliseHeaders(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([name, text]) => [name.toLowerCase(), text]),
  );
}
