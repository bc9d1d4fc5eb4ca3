import type { ApprovalState } from '../../domain/approval/approval.policy';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import type { ClientProfile } from '../../domain/client/client';
import { samePerson, type Person } from '../../domain/shared/person';
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

/** The round a request's approvers are deciding now: the retrospective one once an emergency is implemented. */
export function currentRound(request: ChangeRequest): ApprovalState | undefined {
  return request.status === 'review_pending' ? request.retrospective : request.approval;
}

/** Everyone seated in any step of the current round, once each. */
export function approversOf(request: ChangeRequest): Person[] {
  const people: Person[] = [];
  for (const step of currentRound(request)?.steps ?? [])
    for (const p of step.approvers) if (!people.some((q) => samePerson(q, p))) people.push(p);
  return people;
}

/** The seats of the step now open, who have not voted yet. */
export function awaitedApprovers(request: ChangeRequest): Person[] {
  const open = currentRound(request)?.steps.find((s) => s.status === 'open');
  if (!open) return [];
  return open.approvers.filter((a) => !open.votes.some((v) => samePerson(v.seat, a)));
}

/** Approval cards for the open step's approvers (new, re-issued after an edit, or a step just opened). */
export function approvalCards(request: ChangeRequest): OutboxMessage[] {
  return awaitedApprovers(request).map((a) =>
    notify(a, request, 'approval_request', approvalCardKey(request.id)),
  );
}

/** The client's people who hear of changes ahead of time: its admins and approvers, once each. */
export function clientContacts(client: ClientProfile): Person[] {
  const people: Person[] = [];
  for (const p of [...client.admins, ...client.approvers])
    if (p.tid === client.tenantId && !people.some((q) => samePerson(q, p))) people.push(p);
  return people;
}

/** An emergency just implemented: the client's approvers get the card for their retrospective approval. */
export function retrospectiveCards(before: ChangeRequest, next: ChangeRequest): OutboxMessage[] {
  if (next.status !== 'review_pending' || before.status === 'review_pending') return [];
  return awaitedApprovers(next).map((p) =>
    notify(p, next, 'retrospective_request', approvalCardKey(next.id)),
  );
}
