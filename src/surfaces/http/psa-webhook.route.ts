import type { IncomingMessage, ServerResponse } from 'node:http';
import { StorageUnavailableError } from '../../application/ports/errors';
import { PsaError } from '../../application/ports/psa';
import { receivePsaWebhook, type PsaInboundDeps } from '../../application/use-cases/psa-inbound';
import { PSA_KINDS, PSA_NAMES, type PsaKind } from '../../domain/psa/psa';
import { readCapped } from './raw-body';
import type { RawRoute } from './server';

/** Where PSAs post their webhooks: `/api/psa/halopsa`, `/api/psa/connectwise`, `/api/psa/autotask`. */
export const PSA_WEBHOOK_PREFIX = '/api/psa/';
/** PSA webhooks carry a ticket and a note or a few fields; anything larger is not one (413 unread). */
export const PSA_WEBHOOK_MAX_BYTES = 64 * 1024;

export interface PsaWebhookRouteDeps extends PsaInboundDeps {
  readonly log?: (message: string) => void;
}

/**
 * The raw route PSAs deliver webhooks to. The body is read untouched (signatures are over the exact
 * bytes) and capped before any verification; the PSA's connector checks it, then the notes of the
 * tickets it names are read back over the PSA's API and taken in.
 * Answers: 200 `{taken}` after intake; 401 (or 400 for a body that is not the PSA's shape) when
 * verification fails, with nothing stored; 404 for a PSA this MSP has not configured; 413 over the
 * cap; 503 when storage or the PSA is unavailable (the PSA redelivers, and polling catches up).
 */
export function psaWebhookRoute(deps: PsaWebhookRouteDeps): RawRoute {
  const log = deps.log ?? (() => undefined);
  return {
    prefix: PSA_WEBHOOK_PREFIX,
    async handle(req, res) {
      const psa = psaOf(req.url ?? '');
      if (!psa || !deps.connectors.has(psa))
        return answer(res, 404, { error: 'No PSA is configured at this address.' });
      if (req.method !== 'POST') return answer(res, 405, { error: 'Use POST.' }, { allow: 'POST' });
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > PSA_WEBHOOK_MAX_BYTES) return tooLarge(req, res);
      const rawBody = await readCapped(req, PSA_WEBHOOK_MAX_BYTES);
      if (!rawBody) return tooLarge(req, res);
      try {
        const outcome = await receivePsaWebhook(deps, psa, { headers: headersOf(req), rawBody });
        switch (outcome.status) {
          case 'not_configured':
            return answer(res, 404, { error: 'No PSA is configured at this address.' });
          case 'rejected':
            log(`${PSA_NAMES[psa]} webhook refused: ${outcome.reason}`);
            return answer(res, outcome.code, { error: outcome.reason });
          case 'taken':
            return answer(res, 200, { taken: outcome.taken });
        }
      } catch (error: unknown) {
        if (error instanceof StorageUnavailableError || error instanceof PsaError) {
          log(`${PSA_NAMES[psa]} webhook not taken in: ${error.message}`);
          return answer(
            res,
            503,
            { error: 'Cabinet cannot take this delivery in right now; deliver it again later.' },
            { 'retry-after': '60' },
          );
        }
        throw error;
      }
    },
  };
}

function psaOf(url: string): PsaKind | undefined {
  const path = url.split('?')[0]!.replace(/\/+$/, '');
  const kind = path.slice(PSA_WEBHOOK_PREFIX.length);
  return (PSA_KINDS as readonly string[]).includes(kind) ? (kind as PsaKind) : undefined;
}

/** Header values as the connectors expect them: lower-case names, repeated values joined. */
function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/** 413, then closes the connection so the rest of an oversized body is never read. */
function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  answer(
    res,
    413,
    { error: `A PSA webhook body is at most ${PSA_WEBHOOK_MAX_BYTES} bytes.` },
    { connection: 'close' },
  );
  res.once('finish', () => req.destroy());
}

function answer(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
