import type { ApprovalState, StepState } from '../approval/approval.policy';
import { delegationFor, type Delegation } from '../approval/delegation.policy';
import { isSensitive } from '../assessment/assessment';
import { TEMPLATABLE_TYPES } from '../catalogue/template';
import { samePerson, type Person } from '../shared/person';
import type { ChangeRequest } from './change-request';

/** A vote a person owes: the open step, and the seat they would fill (their own, or a delegator's). */
export interface OwedVote {
  readonly step: StepState;
  readonly seat: Person;
  /** Set when `who` would vote in a delegator's seat. */
  readonly delegation?: Delegation;
}

/** The round whose open step waits for votes: the approval, or an emergency's retrospective one. */
export function roundAwaitingVotes(cr: ChangeRequest): ApprovalState | undefined {
  if (cr.status === 'awaiting_approval') return cr.approval;
  if (cr.status === 'review_pending' && cr.retrospective?.status === 'pending')
    return cr.retrospective;
  return undefined;
}

/**
 * Whether `who` owes a vote on this request now: seated in the open step and not yet voted, or a
 * delegate in force for a seat that has not voted (the seat's own vote always wins the seat).
 */
export function owedVote(
  cr: ChangeRequest,
  who: Person,
  delegations: readonly Delegation[],
  now: string,
): OwedVote | undefined {
  const round = roundAwaitingVotes(cr);
  const step = round?.steps.find((s) => s.status === 'open');
  if (!round || !step) return undefined;
  if (step.votes.some((v) => samePerson(v.by, who))) return undefined;
  const unvoted = step.approvers.filter((a) => !step.votes.some((v) => samePerson(v.seat, a)));
  const own = unvoted.find((a) => samePerson(a, who));
  if (own) return { step, seat: own };
  const parties = [round.requester, ...(round.onBehalfOf ? [round.onBehalfOf] : [])];
  for (const seat of unvoted) {
    const found = delegationFor(delegations, seat, who, {
      clientTenantId: round.clientTenantId,
      risk: round.risk,
      parties,
      now,
    });
    if (found.ok) return { step, seat, delegation: found.value };
  }
  return undefined;
}

/**
 * May this request be approved in bulk from the inbox? Only routine work: a normal change assessed
 * low risk, not sensitive, of a type the standard-change catalogue could cover. Everything else is
 * read one by one.
 */
export function bulkApprovable(cr: ChangeRequest): boolean {
  return (
    cr.status === 'awaiting_approval' &&
    cr.changeClass === 'normal' &&
    cr.approval?.risk === 'low' &&
    cr.assessment !== undefined &&
    !isSensitive(cr.assessment) &&
    (TEMPLATABLE_TYPES as readonly string[]).includes(cr.type)
  );
}
