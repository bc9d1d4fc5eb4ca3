import { DomainError } from '../shared/errors';

/** Stable codes for every way a change request can refuse an event. */
export const ChangeRequestErrors = {
  invalidTransition: (from: string, event: string) =>
    new DomainError(
      'CR.INVALID_TRANSITION',
      `A request that is ${from.replace('_', ' ')} cannot be ${event}.`,
      { from, event },
    ),
  notAnApprover: () =>
    new DomainError('CR.NOT_AN_APPROVER', 'You are not a designated approver for this request.'),
  selfApproval: () =>
    new DomainError('CR.SELF_APPROVAL', 'You cannot decide on a request you raised.'),
  staleVersion: (seen: number, current: number) =>
    new DomainError(
      'CR.STALE_VERSION',
      `This card shows version ${seen}, but the request is now at version ${current}.`,
      { seen, current },
    ),
  alreadyDecided: (outcome: string) =>
    new DomainError('CR.ALREADY_DECIDED', `This request has already been ${outcome}.`, { outcome }),
  noApprovers: () =>
    new DomainError(
      'CR.NO_APPROVERS',
      'This client has no designated approver other than the requester; ask your MSP to set approvers.',
    ),
  notStaff: () =>
    new DomainError(
      'CR.NOT_STAFF',
      'Only the MSP technicians assigned to this client can do this.',
    ),
  notRequesterOrStaff: () =>
    new DomainError(
      'CR.NOT_ALLOWED',
      'Only the requester or the MSP technicians assigned to this client can do this.',
    ),
  notApproved: () =>
    new DomainError(
      'CR.NOT_APPROVED',
      'Work cannot start without a recorded approval of the current version.',
    ),
  reasonRequired: (what: string) =>
    new DomainError('CR.REASON_REQUIRED', `A reason is required to ${what}.`),
  textRequired: (field: string, what: string) =>
    new DomainError('CR.REASON_REQUIRED', `${field} is required to ${what}.`, { field }),
  textTooLong: (field: string, max: number) =>
    new DomainError('CR.TEXT_TOO_LONG', `${field} must be at most ${max} characters.`, {
      field,
      max,
    }),
  typeChanged: () =>
    new DomainError(
      'CR.TYPE_CHANGED',
      'An edit cannot change the type of a request; cancel it and raise a new one.',
    ),
  assessmentRequired: () =>
    new DomainError(
      'CR.ASSESSMENT_REQUIRED',
      'Assess this change first (impact, risk, plans and window) in the tab; then send it for approval.',
    ),
  planMismatch: (why: string) =>
    new DomainError(
      'CR.APPROVAL_PLAN_MISMATCH',
      `This approval plan does not fit the request: ${why}.`,
    ),
  notAsker: () =>
    new DomainError(
      'CR.NOT_ALLOWED',
      'Only an approver of the open step or the MSP technicians assigned to this client can ask the requester a question.',
    ),
  onlyRequesterAnswers: () =>
    new DomainError(
      'CR.NOT_ALLOWED',
      'Only the person who raised this request (or the person it was raised for) can answer the question.',
    ),
  reviewRequired: (changeClass: string) =>
    new DomainError(
      'CR.REVIEW_REQUIRED',
      `A ${changeClass} change is closed by filing its post-implementation review: objective achieved, unexpected impacts, outcome and whether it should become a standard template.`,
      { changeClass },
    ),
  beforeWindow: (start: string) =>
    new DomainError(
      'CR.BEFORE_WINDOW',
      `This change is scheduled to start at ${start}; work can start then (or reschedule it by re-assessing with an earlier window).`,
      { start },
    ),
  windowPassed: (end: string) =>
    new DomainError(
      'CR.WINDOW_PASSED',
      `This change's window ended at ${end}; re-assess it with a new window and send it for approval again.`,
      { end },
    ),
  workDone: (status: string) =>
    new DomainError(
      'CR.WORK_DONE',
      `This change is ${status.replace(/_/g, ' ')}: it has been carried out, so it cannot be cancelled. Roll it back, or file its review.`,
      { status },
    ),
  alreadyReviewed: () =>
    new DomainError('CR.ALREADY_REVIEWED', 'This change already has a post-implementation review.'),
  outcomeContradicts: (status: string, outcome: string) =>
    new DomainError(
      'CR.OUTCOME_CONTRADICTS',
      `The review says ${outcome.replace(/_/g, ' ')}, but the change is ${status.replace(/_/g, ' ')}; pick the outcome that happened.`,
      { status, outcome },
    ),
} as const;
