import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StorageUnavailableError } from '../../application/ports/errors';
import {
  CLIENT_KEY_PATTERN,
  type WebhookKey,
  type WebhookKeyStore,
} from '../../application/ports/webhook-keys';
import {
  takeInWebhook,
  type WebhookIntakeDeps,
  type WebhookOutcome,
} from '../../application/use-cases/webhook-intake';
import { readCapped } from './raw-body';
import type { RawRoute } from './server';

export const WEBHOOK_PREFIX = '/api/webhooks/';
/** Bodies above this are refused (413) before any HMAC work and never buffered past it. */
export const WEBHOOK_MAX_BODY_BYTES = 256 * 1024;
/** Signatures older or newer than this many seconds are refused (two-sided, like Svix). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_IDEMPOTENCY_KEY = 255;
/** A refused body is read and thrown away up to this much, so the sender sees the 413; beyond it the socket is cut. */
const MAX_DISCARD_BYTES = 4 * WEBHOOK_MAX_BODY_BYTES;
/** Buckets kept per limiter before idle ones are forgotten. */
const MAX_BUCKETS = 10_000;

/** A token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface RateLimit {
  readonly burst: number;
  readonly perSecond: number;
}

export interface WebhookRouteDeps {
  /** The use case's ports (request store, clients, templates, clock, ledger…). */
  readonly intake: WebhookIntakeDeps;
  readonly keys: WebhookKeyStore;
  /** Per source IP, checked before anything else (default 60 at once, 2/s). */
  readonly perIp?: RateLimit;
  /** Per client key, checked once the signature verified (default 30 at once, 1/s). */
  readonly perClient?: RateLimit;
  /** The caller's address; defaults to the socket's (put a trusted proxy's header here when behind one). */
  readonly clientIp?: (req: IncomingMessage) => string;
  readonly log?: (message: string) => void;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** In-process token buckets; each instance limits on its own, which bounds the total by the instance count. */
class Limiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly limit: RateLimit) {}

  /** Takes a token, or returns the whole seconds until one is there. */
  take(key: string, nowMs: number): number | undefined {
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: nowMs };
    bucket.tokens = Math.min(
      this.limit.burst,
      bucket.tokens + ((nowMs - bucket.at) / 1000) * this.limit.perSecond,
    );
    bucket.at = nowMs;
    if (this.buckets.size >= MAX_BUCKETS && !this.buckets.has(key)) this.buckets.clear();
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.perSecond));
  }
}

/**
 * `POST /api/webhooks/:clientKey`: signed intake of change requests from a client's forms and tools.
 * @remarks Cheap refusals come first (IP rate limit, size, content type, headers), then the body is
 * read up to the cap, then the key is resolved and the signature checked, then the client's rate
 * limit, and only then is the JSON parsed. An unknown client key is a 404 (the keys are 128-bit
 * random, so admitting that one does not exist reveals nothing); every signature failure is a 401
 * whose reason never says which key ids exist.
 */
export function webhookRoute(deps: WebhookRouteDeps): RawRoute {
  const perIp = new Limiter(deps.perIp ?? { burst: 60, perSecond: 2 });
  const perClient = new Limiter(deps.perClient ?? { burst: 30, perSecond: 1 });
  const clientIp = deps.clientIp ?? ((req) => req.socket.remoteAddress ?? 'unknown');
  return {
    prefix: WEBHOOK_PREFIX,
    async handle(req, res) {
      const nowMs = deps.intake.clock.now().getTime();
      const ipWait = perIp.take(clientIp(req), nowMs);
      if (ipWait !== undefined) return refuse(req, res, 429, tooMany(ipWait), retry(ipWait));
      if (req.method !== 'POST')
        return refuse(req, res, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
      const path = (req.url ?? '').split('?')[0]!;
      const clientKey = path.slice(WEBHOOK_PREFIX.length);
      if (!CLIENT_KEY_PATTERN.test(clientKey)) return refuse(req, res, 404, unknownEndpoint);
      const length = Number(req.headers['content-length'] ?? NaN);
      if (length > WEBHOOK_MAX_BODY_BYTES) return refuse(req, res, 413, tooLarge);
      if (!isJson(req.headers['content-type']))
        return refuse(req, res, 415, {
          error: 'unsupported_media_type',
          message: 'Send the body as application/json.',
        });
      const signature = header(req, 'x-cabinet-signature');
      if (signature === undefined)
        return refuse(req, res, 401, unauthorised('X-Cabinet-Signature header is missing.'));
      const deliveryId = header(req, 'x-cabinet-delivery');
      if (deliveryId === undefined || !DELIVERY_ID.test(deliveryId))
        return refuse(req, res, 400, {
          error: 'bad_request',
          message:
            'X-Cabinet-Delivery must be 1–128 letters, digits or . _ : - (unique per delivery).',
        });
      const idempotencyKey = header(req, 'idempotency-key');
      if (
        idempotencyKey !== undefined &&
        (idempotencyKey === '' || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)
      )
        return refuse(req, res, 400, {
          error: 'bad_request',
          message: `Idempotency-Key must be 1–${MAX_IDEMPOTENCY_KEY} characters.`,
        });
      const rawBody = await readCapped(req, WEBHOOK_MAX_BODY_BYTES);
      if (rawBody === undefined) return refuse(req, res, 413, tooLarge);

      try {
        const key = await deps.keys.resolve(clientKey, new Date(nowMs));
        if (!key) return send(res, 404, unknownEndpoint);
        const verified = verifySignature(key, signature, deliveryId, rawBody, nowMs);
        if (typeof verified !== 'string') return send(res, 401, unauthorised(verified.reason));
        const clientWait = perClient.take(clientKey, nowMs);
        if (clientWait !== undefined) return send(res, 429, tooMany(clientWait), retry(clientWait));
        let body: unknown;
        try {
          body = JSON.parse(rawBody.toString('utf8'));
        } catch {
          return send(res, 400, { error: 'invalid_json', message: 'The body is not valid JSON.' });
        }
        const outcome = await takeInWebhook(deps.intake, {
          key,
          kid: verified,
          deliveryId,
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          method: 'POST',
          path,
          rawBody,
          body,
        });
        return answer(res, outcome);
      } catch (error) {
        if (error instanceof StorageUnavailableError) {
          deps.log?.(`webhook intake: storage unavailable: ${error.message}`);
          return send(
            res,
            503,
            {
              error: 'storage_unavailable',
              message:
                'Cabinet cannot store deliveries right now; nothing was accepted. Retry later.',
            },
            retry(30),
          );
        }
        throw error;
      }
    },
  };
}

/**
 * Checks `t=<unix>,kid=<id>,v1=<hex>[,v1=…]` over `"{t}.{deliveryId}.{rawBody}"`: returns the kid
 * that verified, or why not.
 */
export function verifySignature(
  key: WebhookKey,
  header: string,
  deliveryId: string,
  rawBody: Buffer,
  nowMs: number,
): string | { readonly reason: string } {
  let t: string | undefined;
  let kid: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (name === 't') t = value;
    else if (name === 'kid') kid = value;
    else if (name === 'v1') v1.push(value);
  }
  if (t === undefined || !/^\d{1,12}$/.test(t) || kid === undefined || v1.length === 0)
    return { reason: 'X-Cabinet-Signature must be t=<unix seconds>,kid=<key id>,v1=<hex>.' };
  if (Math.abs(nowMs / 1000 - Number(t)) > WEBHOOK_TOLERANCE_SECONDS)
    return {
      reason: `The signature timestamp is more than ${WEBHOOK_TOLERANCE_SECONDS} s from Cabinet's clock.`,
    };
  const secret = key.secrets.find((s) => s.kid === kid);
  // An unknown or retired kid is checked against a throwaway secret so it looks and takes like a mismatch.
  const expected = createHmac('sha256', secret ? secret.secret.reveal() : 'no such key')
    .update(`${t}.${deliveryId}.`)
    .update(rawBody)
    .digest();
  const matches = v1.some((candidate) => {
    const given = /^[0-9a-f]{64}$/i.test(candidate) ? Buffer.from(candidate, 'hex') : undefined;
    return (
      given !== undefined && given.length === expected.length && timingSafeEqual(given, expected)
    );
  });
  return matches && secret ? secret.kid : { reason: 'The signature does not match.' };
}

/** Signs like a sender does (tests, the README's relay). */
export function signWebhook(
  secret: string,
  t: number,
  deliveryId: string,
  rawBody: Buffer | string,
): string {
  return createHmac('sha256', secret).update(`${t}.${deliveryId}.`).update(rawBody).digest('hex');
}

function answer(res: ServerResponse, outcome: WebhookOutcome): void {
  const replayed: Record<string, string> =
    'replayed' in outcome && outcome.replayed ? { 'idempotent-replayed': 'true' } : {};
  switch (outcome.kind) {
    case 'accepted':
      return send(res, 202, { requestId: outcome.requestId, status: outcome.status }, replayed);
    case 'duplicate':
      return send(res, 200, {
        requestId: outcome.requestId,
        status: outcome.status,
        duplicate: true,
      });
    case 'invalid':
      return send(res, 422, {
        error: 'invalid_request',
        issues: outcome.issues.map((i) => ({ field: i.field, message: i.message })),
      });
    case 'refused':
      return send(
        res,
        422,
        { error: 'refused', code: outcome.code, message: outcome.message },
        replayed,
      );
    case 'idempotency_mismatch':
      return send(res, 422, {
        error: 'idempotency_key_reused',
        message: 'This Idempotency-Key was used with a different request body.',
      });
    case 'in_progress':
      return send(res, 409, {
        error: 'in_progress',
        message: 'A request with this Idempotency-Key is still being processed; retry shortly.',
      });
    case 'unknown_client':
      return send(res, 404, unknownEndpoint);
  }
}

const unknownEndpoint = { error: 'not_found', message: 'No webhook endpoint here.' };
const tooLarge = {
  error: 'payload_too_large',
  message: `The body must be at most ${WEBHOOK_MAX_BODY_BYTES} bytes.`,
};
const unauthorised = (reason: string) => ({ error: 'signature_invalid', reason });
const tooMany = (seconds: number) => ({
  error: 'rate_limited',
  message: `Too many deliveries; retry in ${seconds} s.`,
});
const retry = (seconds: number) => ({ 'retry-after': String(seconds) });

function isJson(contentType: string | undefined): boolean {
  const [type, ...params] = (contentType ?? '').split(';').map((p) => p.trim().toLowerCase());
  return type === 'application/json' && params.every((p) => p === '' || p === 'charset=utf-8');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function send(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Answers without reading the body; what the sender still sends is discarded up to a limit, then the connection is cut. */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: object,
  headers: Readonly<Record<string, string>> = {},
): void {
  send(res, status, body, { connection: 'close', ...headers });
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARD_BYTES) req.destroy();
  });
  req.resume();
}
