import { z } from 'zod';
import type { ChangeClass, ClosureOutcome } from '../change-request/change-class';
import { ValidationError, type FieldIssue } from '../shared/errors';
import type { JsonObject } from '../shared/json';
import { err, ok, type Result } from '../shared/result';
import { choice, optionalText, toIssues } from '../shared/form-fields';

export const OBJECTIVE_ACHIEVED = ['yes', 'partly', 'no'] as const;
export type ObjectiveAchieved = (typeof OBJECTIVE_ACHIEVED)[number];

/** The closure outcome codes (DESIGN.md §2), in the order a form lists them. */
export const PIR_OUTCOMES = [
  'successful',
  'successful_with_issues',
  'failed',
  'rolled_back',
] as const satisfies readonly ClosureOutcome[];

export const PIR_TEXT_MAX = 2000;

/** The post-implementation review of a closed normal or emergency change (issue 4 §6). */
export interface PostImplementationReview {
  readonly objectiveAchieved: ObjectiveAchieved;
  readonly outcome: ClosureOutcome;
  /** What happened that the plan did not foresee; required unless the change simply succeeded. */
  readonly unexpectedImpacts?: string;
  readonly becomeStandard: boolean;
  /** Why (or how) it should become a standard template; required when `becomeStandard`. */
  readonly becomeStandardNote?: string;
}

/** Which classes need a review: standard changes are pre-approved repeats and need none. */
export function reviewRequiredFor(changeClass: ChangeClass): boolean {
  return changeClass === 'normal' || changeClass === 'emergency';
}

const RawReview = z.object({
  objectiveAchieved: choice(OBJECTIVE_ACHIEVED),
  outcome: choice(PIR_OUTCOMES),
  unexpectedImpacts: optionalText(PIR_TEXT_MAX),
  becomeStandard: z.preprocess(
    (v) => (v === 'true' ? true : v === 'false' || v === undefined || v === '' ? false : v),
    z.boolean({ invalid_type_error: 'must be true or false' }),
  ),
  becomeStandardNote: optionalText(PIR_TEXT_MAX),
});

/**
 * Validates a review from the tab or a card, with the cross-field rules a reviewer can fix:
 * an outcome and an objective that contradict each other, issues that are not described, a
 * failed change proposed as a template.
 */
export function validateReview(
  raw: Readonly<Record<string, unknown>>,
): Result<PostImplementationReview, ValidationError> {
  const parsed = RawReview.safeParse(raw);
  if (!parsed.success) return err(new ValidationError(toIssues(parsed.error)));
  const v = parsed.data;
  const issues: FieldIssue[] = [];
  const failedOutcome = v.outcome === 'failed' || v.outcome === 'rolled_back';
  if (v.outcome === 'successful' && v.objectiveAchieved === 'no')
    issues.push({
      field: 'objectiveAchieved',
      message: 'cannot be no when the outcome is successful; pick the outcome that happened',
    });
  if (v.outcome !== 'successful' && v.unexpectedImpacts === undefined)
    issues.push({
      field: 'unexpectedImpacts',
      message: `is required when the outcome is ${v.outcome.replace(/_/g, ' ')}: say what happened and who was affected`,
    });
  if (v.becomeStandard && failedOutcome)
    issues.push({
      field: 'becomeStandard',
      message: 'a change that failed or was rolled back cannot be proposed as a standard template',
    });
  if (v.becomeStandard && v.becomeStandardNote === undefined)
    issues.push({
      field: 'becomeStandardNote',
      message: 'is required when proposing a template: say which part repeats and what stays fixed',
    });
  if (issues.length > 0) return err(new ValidationError(issues));
  return ok({
    objectiveAchieved: v.objectiveAchieved,
    outcome: v.outcome,
    ...(v.unexpectedImpacts !== undefined ? { unexpectedImpacts: v.unexpectedImpacts } : {}),
    becomeStandard: v.becomeStandard,
    ...(v.becomeStandardNote !== undefined ? { becomeStandardNote: v.becomeStandardNote } : {}),
  });
}

/** What to record as `review.filed`: codes in clear, free text sealed with the client's key. */
export function reviewAuditRecord(review: PostImplementationReview): {
  readonly payload: JsonObject;
  readonly personal: JsonObject;
} {
  return {
    payload: {
      objectiveAchieved: review.objectiveAchieved,
      outcome: review.outcome,
      becomeStandard: review.becomeStandard,
    },
    personal: {
      unexpectedImpacts: review.unexpectedImpacts ?? null,
      becomeStandardNote: review.becomeStandardNote ?? null,
    },
  };
}
