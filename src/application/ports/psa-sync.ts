import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { psaSyncFor } from '../../domain/psa/psa-sync.policy';
import type { OutboxMessage, PsaSyncMessage } from './outbox';

/**
 * A request write's outbox rows plus its `psa.sync` rows (issue 6), when the request is linked to
 * a PSA: request stores add them to every create and update, beside `withIndexSync`, so no use
 * case has to remember the PSA and the ticket follows every change in the order it happened.
 */
export function withPsaSync(
  request: ChangeRequest,
  audit: readonly AuditEvent[],
  outbox: readonly OutboxMessage[],
): readonly OutboxMessage[] {
  if (!request.psa) return outbox;
  const rows = psaSyncFor(request, audit).map(
    (work): PsaSyncMessage =>
      work.op === 'ticket'
        ? { kind: 'psa.sync', requestId: request.id, op: 'ticket' }
        : {
            kind: 'psa.sync',
            requestId: request.id,
            op: 'note',
            text: work.text,
            internal: work.internal,
            ...(work.status ? { status: work.status } : {}),
            ...(work.priority ? { priority: work.priority } : {}),
          },
  );
  return rows.length > 0 ? [...outbox, ...rows] : outbox;
}
