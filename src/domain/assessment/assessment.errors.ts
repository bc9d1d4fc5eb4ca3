import { DomainError } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';

/** The elements a useful rollback plan names (issue 4 §2); the checker reports which it found. */
export const ROLLBACK_ELEMENTS = ['trigger', 'steps', 'owner', 'duration', 'verification'] as const;
export type RollbackElement = (typeof ROLLBACK_ELEMENTS)[number];

/** What a good rollback plan names, in words a technician can act on; every rollback refusal ends with it. */
export const GOOD_ROLLBACK_PLAN =
  'A good rollback plan names the trigger to roll back (e.g. "if more than 5 users cannot sign in by 09:00"), ' +
  'the concrete steps (e.g. "re-add the E3 licence, restore the old forwarding rule"), who does it, ' +
  'how long it takes, and how you will verify it worked (e.g. "a test user can open the mailbox").';

const ELEMENT_WORDS: { readonly [E in RollbackElement]: string } = {
  trigger: 'the trigger to roll back',
  steps: 'the concrete steps',
  owner: 'who does it',
  duration: 'how long it takes',
  verification: 'how success is verified',
};

/** "the trigger to roll back and how long it takes" (for messages). */
export function describeElements(elements: readonly RollbackElement[]): string {
  const words = elements.map((e) => ELEMENT_WORDS[e]);
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** Stable codes for every way an assessment, a classification or a review can be refused. */
export const AssessmentErrors = {
  notStaff: (what: string) =>
    new DomainError(
      'ASSESS.NOT_STAFF',
      `Only the MSP technicians and leads of this client can ${what}.`,
      {
        what,
      },
    ),
  reasonRequired: (what: string) =>
    new DomainError('ASSESS.REASON_REQUIRED', `A reason is required to ${what}.`, { what }),
  reasonTooVague: (what: string) =>
    new DomainError(
      'ASSESS.REASON_TOO_VAGUE',
      `The reason to ${what} is recorded for the client and the auditor: say why in a sentence ` +
        `(e.g. "CEO mailbox affected, client asked for expedited handling"), not "n/a" or "test".`,
      { what },
    ),
  textTooLong: (field: string, max: number) =>
    new DomainError('ASSESS.TEXT_TOO_LONG', `${field} must be at most ${max} characters.`, {
      field,
      max,
    }),
  sameClass: (changeClass: string) =>
    new DomainError('ASSESS.SAME_CLASS', `The request is already a ${changeClass} change.`, {
      changeClass,
    }),
  standardNeedsTemplate: () =>
    new DomainError(
      'ASSESS.STANDARD_NEEDS_TEMPLATE',
      'A change becomes standard only by matching a standard-change template the client has approved; ' +
        'pick the template instead of reclassifying by hand.',
    ),
  emergencyNotEligible: (type: string) =>
    new DomainError(
      'ASSESS.EMERGENCY_NOT_ELIGIBLE',
      `A ${type.replace('_', ' ')} request cannot be an emergency change for this client; ` +
        'raise it as a normal change (or ask an MSP lead to allow emergencies for this type).',
      { type },
    ),
  rollbackPlanRequired: (changeClass: string) =>
    new DomainError(
      'ASSESS.ROLLBACK_PLAN_REQUIRED',
      `A ${changeClass} change needs a rollback plan before it can be approved. ${GOOD_ROLLBACK_PLAN}`,
      { changeClass },
    ),
  rollbackPlanBoilerplate: () =>
    new DomainError(
      'ASSESS.ROLLBACK_PLAN_BOILERPLATE',
      `The rollback plan only uses generic phrases such as "revert changes if issues arise"; ` +
        `nobody could follow it during an outage. ${GOOD_ROLLBACK_PLAN}`,
      { found: [], missing: [...ROLLBACK_ELEMENTS] },
    ),
  rollbackPlanTooShort: (found: readonly RollbackElement[], missing: readonly RollbackElement[]) =>
    new DomainError(
      'ASSESS.ROLLBACK_PLAN_TOO_SHORT',
      `The rollback plan is too short to follow. ${GOOD_ROLLBACK_PLAN}`,
      { found, missing },
    ),
  rollbackPlanVague: (found: readonly RollbackElement[], missing: readonly RollbackElement[]) =>
    new DomainError(
      'ASSESS.ROLLBACK_PLAN_VAGUE',
      `The rollback plan does not say ${describeElements(missing)}. It must name the concrete steps and ` +
        `at least two of: the trigger, who does it, how long it takes, how success is verified. ${GOOD_ROLLBACK_PLAN}`,
      { found, missing },
    ),
  templatePlanMissing: () =>
    new DomainError(
      'ASSESS.TEMPLATE_PLAN_MISSING',
      'A standard change takes its rollback plan from its template, and none was given; pick the template again.',
    ),
  belowRiskFloor: (chosen: string, floor: string, causes: readonly ('sensitive' | 'blackout')[]) =>
    new DomainError(
      'ASSESS.BELOW_RISK_FLOOR',
      `Risk cannot be ${chosen}: the change ${causes
        .map((c) => (c === 'sensitive' ? 'is marked sensitive' : 'overlaps a blackout window'))
        .join(' and ')}, which sets the risk to at least ${floor}. ` +
        (causes.includes('sensitive')
          ? 'Remove the sensitivity flag if it does not apply.'
          : 'Move the window out of the blackout.'),
      { chosen, floor, causes },
    ),
  windowRequired: () =>
    new DomainError(
      'ASSESS.WINDOW_REQUIRED',
      'A normal change needs a requested window (start and end) before it can be sent for approval.',
    ),
} as const;

export const REASON_MAX = 2000;
const REASON_MIN = 10;
const TRIVIAL_REASONS: ReadonlySet<string> = new Set([
  'n a',
  'na',
  'none',
  'no reason',
  'test',
  'testing',
  'asdf',
  'because',
  'as requested',
  'per request',
  'see above',
  'see ticket',
  'tbd',
  'todo',
  'ok',
  'okay',
  'fix',
  'fixed',
  'changed',
  'change',
  'reclassify',
  'reclassified',
  'override',
  'overridden',
  'not needed',
  'not applicable',
]);

/**
 * A reason people must give for an audited decision: trimmed, bounded, and more than a token
 * ("n/a", "test", one repeated word), because the client and the auditor read it later.
 */
export function requiredReason(raw: string | undefined, what: string): Result<string, DomainError> {
  const reason = (raw ?? '').trim();
  if (reason.length === 0) return err(AssessmentErrors.reasonRequired(what));
  if (reason.length > REASON_MAX)
    return err(AssessmentErrors.textTooLong('The reason', REASON_MAX));
  const words = reason
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  const distinct = new Set(words.split(' ').filter((w) => /\p{L}/u.test(w)));
  if (reason.length < REASON_MIN || distinct.size < 2 || TRIVIAL_REASONS.has(words))
    return err(AssessmentErrors.reasonTooVague(what));
  return ok(reason);
}
