import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import type { NotificationTemplate, OutboxMessage } from '../ports/outbox';

/** The card key of an approver's approval card, so decisions and edits update it in place. */
export const approvalCardKey = (requestId: string) => `approval:${requestId}`;

/** An outbox message telling `to` about `request` at its current version. */
export function notify(
  to: Person,
  request: ChangeRequest,
  template: NotificationTemplate,
  cardKey?: string,
): OutboxMessage {
  return {
    kind: 'teams.notify',
    recipient: { tid: to.tid, oid: to.oid },
    notification: {
      template,
      requestId: request.id,
      version: request.version,
      ...(cardKey ? { cardKey } : {}),
    },
  };
}

/** Approval cards for every approver of the request's current round (new or re-issued after an edit). */
export function approvalCards(request: ChangeRequest): OutboxMessage[] {
  return (request.approval?.approvers ?? []).map((a) =>
    notify(a, request, 'approval_request', approvalCardKey(request.id)),
  );
}
