import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { isIntegration } from '../../domain/shared/person';
import { withIndexSync } from './open-request-index';
import type { OutboxMessage } from './outbox';
import { withPsaSync } from './psa-sync';

/**
 * Every outbox row a request write commits: the use case's own, its `psa.sync` rows, and its
 * `index.sync`. Request stores call this on every create and update (the execution store too), so
 * no use case has to remember the PSA or the index.
 * @remarks Notifications to an integration requester (a signed webhook) are dropped here, once for
 * every use case: it has no Teams to reach, and its row would wait for a recipient forever.
 */
export function requestOutbox(
  request: ChangeRequest,
  audit: readonly AuditEvent[],
  outbox: readonly OutboxMessage[],
): readonly OutboxMessage[] {
  const reachable = outbox.filter(
    (m) => !(m.kind === 'teams.notify' && isIntegration(m.recipient)),
  );
  return withIndexSync(request, withPsaSync(request, audit, reachable));
}
