import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import type { ChangeEvent } from '../../domain/change-request/change-request.machine';
import { ok } from '../../domain/shared/result';
import type { NotificationTemplate, OutboxMessage } from '../ports/outbox';
import { applyChange, type ActionOutcome, type ChangeCommand } from './apply-change';
import type { UseCaseDeps } from './context';
import { approvalCardKey, approversOf, notify, retrospectiveCards } from './notifications';

export type { ActionOutcome } from './apply-change';

/** Work on a request after approval, and cancellation (approval decisions go through decideApproval). */
export type RequestAction = Extract<
  ChangeEvent,
  {
    readonly type:
      | 'WorkStarted'
      | 'ImplementationCompleted'
      | 'Failed'
      | 'RolledBack'
      | 'Closed'
      | 'Cancelled';
  }
>;

export interface ActOnRequestCommand extends ChangeCommand {
  readonly action: RequestAction;
}

/** Applies a technician's or requester's action to a request, with its audit entry and notifications. */
export function actOnRequest(
  deps: UseCaseDeps,
  command: ActOnRequestCommand,
): Promise<ActionOutcome> {
  return applyChange(deps, command, {
    event: () => Promise.resolve(ok(command.action)),
    notifications: (next, before, { client }) =>
      actionNotifications(next, before, command.actor, client.techs),
  });
}

function actionNotifications(
  next: ChangeRequest,
  before: ChangeRequest,
  actor: Person,
  techs: readonly Person[],
): OutboxMessage[] {
  const requesters = [next.requester, ...(next.onBehalfOf ? [next.onBehalfOf] : [])].filter(
    (p) => p.oid !== actor.oid || p.tid !== actor.tid,
  );
  const template: NotificationTemplate =
    next.status === 'closed' || next.status === 'rolled_back' ? 'request_closed' : 'status_update';
  const messages = [
    ...requesters.map((p) => notify(p, next, template)),
    ...retrospectiveCards(before, next),
  ];
  // A cancelled request must not leave live Approve buttons behind, nor a technician working on it.
  if (next.status === 'cancelled' && before.status === 'awaiting_approval') {
    messages.push(
      ...approversOf(before).map((a) =>
        notify(a, next, 'approval_decided', approvalCardKey(next.id)),
      ),
    );
  }
  if (
    next.status === 'cancelled' &&
    ['approved', 'in_progress', 'implemented', 'failed'].includes(before.status)
  ) {
    const workers = before.assignee ? [before.assignee] : techs;
    messages.push(
      ...workers
        .filter((w) => !(w.oid === actor.oid && w.tid === actor.tid))
        .map((w) => notify(w, next, 'status_update')),
    );
  }
  return messages;
}
