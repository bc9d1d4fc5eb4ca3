import type { Server } from 'restify';
import { z } from 'zod';
import { addNote } from '../../application/use-cases/add-note';
import type { UseCaseDeps } from '../../application/use-cases/context';
import {
  parkedDeliveries,
  retryDelivery,
  type DeliveriesDeps,
  type ParkedDelivery,
} from '../../application/use-cases/deliveries';
import { NOTE_MAX } from '../../domain/change-request/change-request.payloads';
import type { DomainError } from '../../domain/shared/errors';
import type { Result } from '../../domain/shared/result';
import { requestIdParam } from './tab-api.route';
import { apiRoute, parseInput, TabHttpError, unwrap, type Authenticate } from './tab-http';

export interface TabDeliveriesDeps {
  readonly useCases: UseCaseDeps;
  /** The outbox whose parked rows leads see; without it only notes are mounted. */
  readonly outbox?: DeliveriesDeps['outbox'];
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

const RetryBody = z.object({
  tenantId: z.string().trim().min(1, 'is required').max(40),
  rowId: z.string().trim().min(1, 'is required').max(80),
});

const NoteBody = z.object({
  text: z.string().trim().min(1, 'is required').max(NOTE_MAX),
});

/**
 * Parked deliveries for MSP leads (issue 6 §1: list and Retry) and Cabinet notes on a request.
 * The caller is the token's person; which clients they lead, and whether they may write a note,
 * is decided by the use cases, never by what the page sends.
 */
export function mountTabDeliveriesApi(server: Server, deps: TabDeliveriesDeps): void {
  const route = (handler: Parameters<typeof apiRoute>[2]) =>
    apiRoute(deps.authenticate, deps.log, handler);
  const uc = deps.useCases;

  server.post(
    '/api/tab/requests/:id/notes',
    route(async ({ actor, req }) => {
      const { text } = parseInput(NoteBody, req.body);
      const added = unwrap(await addNote(uc, actor, undefined, requestIdParam(req), text));
      return { status: 201, body: { requestId: added.request.id, side: added.side } };
    }),
  );

  const outbox = deps.outbox;
  if (!outbox) return;
  const deliveries: DeliveriesDeps = { ...uc, outbox };

  server.get(
    '/api/tab/deliveries',
    route(async ({ actor }) => ({
      body: { items: deliveryOutcome(await parkedDeliveries(deliveries, actor)).map(dto) },
    })),
  );

  server.post(
    '/api/tab/deliveries/retry',
    route(async ({ actor, req }) => {
      const { tenantId, rowId } = parseInput(RetryBody, req.body);
      const retried = deliveryOutcome(await retryDelivery(deliveries, actor, tenantId, rowId));
      return { body: { retried: dto(retried) } };
    }),
  );
}

/** Not a lead of that client: 403; the row is gone (retried, delivered): 404. */
function deliveryOutcome<T>(result: Result<T, DomainError>): T {
  if (result.ok) return result.value;
  const status = result.error.code === 'DELIVERY.NOT_LEAD' ? 403 : 404;
  throw new TabHttpError(status, result.error.code, result.error.message);
}

function dto(d: ParkedDelivery) {
  return {
    tenantId: d.tenantId,
    rowId: d.rowId,
    clientCode: d.clientCode,
    clientName: d.clientName,
    ...(d.requestId ? { requestId: d.requestId } : {}),
    what: d.what,
    attempts: d.attempts,
    lastError: d.lastError,
    queuedAt: d.queuedAt,
  };
}
