import { ChangeRequestErrors } from '../change-request/change-request.errors';
import { DomainError } from '../shared/errors';

/**
 * Stable codes for every way the approval engine refuses a plan or a decision.
 * @remarks The four refusals the single-round machine already had (self-approval, not an approver,
 * stale version, reason required) keep their `CR.*` codes, so cards and logs that key on them keep
 * working once the engine replaces the single round.
 */
export const ApprovalErrors = {
  selfApproval: ChangeRequestErrors.selfApproval,
  notAnApprover: ChangeRequestErrors.notAnApprover,
  staleVersion: ChangeRequestErrors.staleVersion,
  reasonRequired: () => ChangeRequestErrors.reasonRequired('deny a request'),
  reasonTooLong: (max: number) => ChangeRequestErrors.textTooLong('The reason', max),
  unknownStep: (step: string) =>
    new DomainError(
      'APPROVAL.UNKNOWN_STEP',
      `This request has no approval step "${step}"; refresh the card to see its current steps.`,
      { step },
    ),
  stepNotOpen: (step: string, waitingFor: string) =>
    new DomainError(
      'APPROVAL.STEP_NOT_OPEN',
      `The step "${step}" opens once "${waitingFor}" is approved; you will get a card then.`,
      { step, waitingFor },
    ),
  stepSettled: (step: string, outcome: string) =>
    new DomainError(
      'APPROVAL.STEP_SETTLED',
      `The step "${step}" has already been ${outcome}; no further votes are needed.`,
      { step, outcome },
    ),
  requestSettled: (outcome: string) =>
    new DomainError('CR.ALREADY_DECIDED', `This request has already been ${outcome}.`, {
      outcome,
    }),
  alreadyVoted: (step: string, outcome: string) =>
    new DomainError(
      'APPROVAL.ALREADY_VOTED',
      `You have already ${outcome} the step "${step}"; a recorded vote cannot be changed. Ask the technician to edit the request if something changed.`,
      { step, outcome },
    ),
  /** The same vote again (a double click or a Teams retry): nothing changes, the card shows where things stand. */
  duplicateVote: (step: string, outcome: string) =>
    new DomainError(
      'APPROVAL.DUPLICATE_VOTE',
      `Your vote (${outcome}) on the step "${step}" is already recorded.`,
      { step, outcome },
    ),
  oneSeatPerPerson: (step: string) =>
    new DomainError(
      'APPROVAL.ONE_SEAT_PER_PERSON',
      `You already hold a seat in the step "${step}" (in your own name or for someone else); one person counts once per step.`,
      { step },
    ),
  needsSecondPerson: (step: string) =>
    new DomainError(
      'APPROVAL.NEEDS_SECOND_PERSON',
      `The step "${step}" needs a second person: you already approved an earlier step of this request.`,
      { step },
    ),
  delegationExpired: (delegator: string) =>
    new DomainError(
      'APPROVAL.DELEGATION_EXPIRED',
      `Your delegation from ${delegator} is not in force now; ask ${delegator} to decide or to delegate again.`,
      { delegator },
    ),
  delegationRiskCeiling: (delegator: string, ceiling: string, risk: string) =>
    new DomainError(
      'APPROVAL.DELEGATION_RISK_CEILING',
      `Your delegation from ${delegator} covers changes up to ${ceiling} risk; this one is ${risk}, so ${delegator} must decide.`,
      { delegator, ceiling, risk },
    ),
  delegationNotForClient: (delegator: string) =>
    new DomainError(
      'APPROVAL.DELEGATION_OTHER_CLIENT',
      `Your delegation from ${delegator} is for another client.`,
      { delegator },
    ),
  delegateIsRequester: () =>
    new DomainError(
      'APPROVAL.DELEGATE_IS_REQUESTER',
      'A delegate cannot decide on a request they raised or that was raised on their behalf.',
    ),
  noEligibleApprovers: (step: string) =>
    new DomainError(
      'APPROVAL.NO_ELIGIBLE_APPROVERS',
      `The step "${step}" has nobody who may approve this request (the requester and the person it is for cannot); add another approver to the client's policy.`,
      { step },
    ),
  quorumUnreachable: (step: string, required: number, eligible: number) =>
    new DomainError(
      'APPROVAL.QUORUM_UNREACHABLE',
      `The step "${step}" needs ${required} approvals but only ${eligible} of its members may vote on this request; add members or lower the quorum.`,
      { step, required, eligible },
    ),
  noSteps: () =>
    new DomainError(
      'APPROVAL.NO_STEPS',
      "No approval step of the client's policy applies to this request; every normal change needs at least one step. Add a step without conditions to the policy.",
    ),
  invalidDelegation: (why: string) =>
    new DomainError('APPROVAL.INVALID_DELEGATION', `This delegation cannot be saved: ${why}.`, {
      why,
    }),
} as const;
