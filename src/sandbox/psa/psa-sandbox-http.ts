import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Faults a sandbox PSA injects, the same for all three, so tests and the outbox chaos scenario set
 * them alike. Rates are probabilities in [0, 1] per call that would change data (POST, PUT, PATCH,
 * DELETE).
 */
export interface PsaChaosKnobs {
  /** Refused before anything is applied, with the PSA's own 5xx error shape. */
  failRate: number;
  /** Applied, then the connection is destroyed without a response (a lost response after commit). */
  dropRate: number;
  /** The next N calls of any kind get 429 with `Retry-After: retryAfterSeconds`. */
  throttleNext: number;
  retryAfterSeconds: number;
  /** Uniform [0, 1); tests pin it for reproducible runs. */
  random: () => number;
}

export function calmChaos(): PsaChaosKnobs {
  return { failRate: 0, dropRate: 0, throttleNext: 0, retryAfterSeconds: 1, random: Math.random };
}

/** One parsed request as a sandbox PSA's router sees it. */
export interface SandboxRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-case header names. */
  readonly headers: IncomingMessage['headers'];
  readonly rawBody: Buffer;
}

export interface SandboxReply {
  readonly status: number;
  /** Sent as JSON, or as-is when it is a string and `headers` names a content type (an HTML page). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Counters every sandbox PSA keeps, for tests that prove exactly-once effects. */
export interface SandboxCallCounts {
  requests: number;
  injectedFailures: number;
  droppedResponses: number;
  throttled: number;
}

export interface SandboxHttpOptions {
  readonly port?: number;
  readonly chaos: PsaChaosKnobs;
  /** The PSA's own error body for an injected failure or throttle (status 429 or 503). */
  readonly errorBody: (status: number, message: string) => unknown;
  readonly log?: (line: string) => void;
}

export interface SandboxHttpServer {
  readonly url: string;
  readonly port: number;
  readonly counts: SandboxCallCounts;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Serves a sandbox PSA over HTTP on 127.0.0.1 (PSA APIs are HTTPS in production; the connectors take
 * any base URL, so the sandbox needs no certificate). Applies the chaos knobs around `route`.
 */
export async function startSandboxHttp(
  route: (request: SandboxRequest) => Promise<SandboxReply> | SandboxReply,
  options: SandboxHttpOptions,
): Promise<SandboxHttpServer> {
  const counts: SandboxCallCounts = {
    requests: 0,
    injectedFailures: 0,
    droppedResponses: 0,
    throttled: 0,
  };
  const { chaos } = options;
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      options.log?.(`sandbox PSA: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) send(res, { status: 500, body: options.errorBody(500, 'Internal') });
      else res.destroy();
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    counts.requests += 1;
    const rawBody = await readBody(req);
    if (rawBody === undefined) {
      send(res, { status: 413, body: options.errorBody(413, 'Request body too large') });
      return;
    }
    if (chaos.throttleNext > 0) {
      chaos.throttleNext -= 1;
      counts.throttled += 1;
      send(res, {
        status: 429,
        headers: { 'retry-after': String(chaos.retryAfterSeconds) },
        body: options.errorBody(429, 'Too many requests'),
      });
      return;
    }
    const mutating = MUTATING.has(req.method ?? 'GET');
    if (mutating && chaos.failRate > 0 && chaos.random() < chaos.failRate) {
      counts.injectedFailures += 1;
      send(res, { status: 503, body: options.errorBody(503, 'Service unavailable') });
      return;
    }
    const reply = await route({
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', 'http://127.0.0.1'),
      headers: req.headers,
      rawBody,
    });
    if (mutating && chaos.dropRate > 0 && reply.status < 400 && chaos.random() < chaos.dropRate) {
      counts.droppedResponses += 1;
      res.destroy();
      return;
    }
    send(res, reply);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: SandboxReply): void {
  const verbatim = typeof reply.body === 'string' && reply.headers?.['content-type'] !== undefined;
  const body =
    reply.body === undefined ? '' : verbatim ? String(reply.body) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(reply.body === undefined || verbatim
      ? {}
      : { 'content-type': 'application/json; charset=utf-8' }),
    ...reply.headers,
  });
  res.end(body);
}

/** Parses a JSON request body; undefined when it is not JSON (routers answer with the PSA's 400). */
export function jsonBody(request: SandboxRequest): unknown {
  try {
    return JSON.parse(request.rawBody.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
