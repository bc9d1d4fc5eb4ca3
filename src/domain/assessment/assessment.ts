import { DateTime } from 'luxon';
import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../shared/errors';
import {
  blankToUndefined,
  choice,
  list,
  optionalText,
  requiredText,
  toIssues,
} from '../shared/form-fields';
import { parseRequestId, type ChangeRequestId } from '../shared/ids';
import { err, ok, type Result } from '../shared/result';

/** Impact on the client's service if the change goes as planned (issue 4 §2). */
export const IMPACT_LEVELS = ['none', 'minor', 'service_affecting'] as const;
export type Impact = (typeof IMPACT_LEVELS)[number];

/** Risk levels, lowest first: the order is the one `riskRank` compares by. */
export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** What makes a change sensitive; any flag (or an "other" note) raises the risk floor to high. */
export const SENSITIVITY_FLAGS = [
  'executive_mailbox',
  'admin_roles',
  'finance_data',
  'hr_data',
  'legal_hold',
  'security_controls',
  'external_sharing',
] as const;
export type SensitivityFlag = (typeof SENSITIVITY_FLAGS)[number];

export const PLAN_MAX = 4000;
export const SENSITIVITY_OTHER_MAX = 200;
export const SERVICES_MAX = 30;
export const SERVICE_NAME_MAX = 100;
export const DEPENDENCIES_MAX = 20;
export const AFFECTED_USERS_MAX = 1_000_000;
/** Longer work is split into several changes, so a window is never a blank cheque. */
export const WINDOW_MAX_HOURS = 7 * 24;

/** When the technician asks to do the work: instants in UTC ISO form, `end` after `start`. */
export interface RequestedWindow {
  readonly start: string;
  readonly end: string;
}

/** The technician's assessment of a change (DESIGN.md §2 record, issue 4 §2). */
export interface Assessment {
  readonly impact: Impact;
  readonly risk: RiskLevel;
  readonly affectedUsers: number;
  readonly affectedServices: readonly string[];
  readonly implementationPlan: string;
  readonly testPlan: string;
  /** Free text; its quality is judged by `checkRollbackPlan` for the request's class. */
  readonly rollbackPlan?: string;
  readonly dependencies: readonly ChangeRequestId[];
  readonly requestedWindow?: RequestedWindow;
  readonly sensitivity: readonly SensitivityFlag[];
  readonly sensitivityOther?: string;
}

export function riskRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

export function maxRisk(a: RiskLevel, b: RiskLevel): RiskLevel {
  return riskRank(a) >= riskRank(b) ? a : b;
}

/** A change is sensitive when any flag is set or an "other" sensitivity is described. */
export function isSensitive(a: Pick<Assessment, 'sensitivity' | 'sensitivityOther'>): boolean {
  return a.sensitivity.length > 0 || (a.sensitivityOther ?? '').trim().length > 0;
}

// --- raw-input schema: card fields are flat strings; APIs may send arrays and numbers -------------

const count = z.preprocess(
  (v) =>
    v === null || (typeof v === 'string' && v.trim() === '')
      ? undefined
      : typeof v === 'string'
        ? Number(v)
        : v,
  z
    .number({ invalid_type_error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'cannot be negative')
    .max(AFFECTED_USERS_MAX, 'is implausibly large'),
);
const OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
/** An instant with an explicit offset: a bare local time would be read in the server's zone. */
const instant = z
  .string()
  .trim()
  .refine(
    (v) => OFFSET.test(v) && DateTime.fromISO(v, { setZone: true }).isValid,
    'must be a date and time with its offset, like 2026-03-14T22:00:00+01:00',
  )
  .transform((v) => DateTime.fromISO(v, { setZone: true }).toUTC().toISO() ?? v);
const optionalInstant = z.preprocess(blankToUndefined, instant.optional());
const requestId = z
  .string()
  .trim()
  .refine((v) => parseRequestId(v) !== undefined, 'must be request ids like CONTOSO-1042')
  .transform((v) => parseRequestId(v)!.id);

const RawAssessment = z.object({
  impact: choice(IMPACT_LEVELS),
  risk: choice(RISK_LEVELS),
  affectedUsers: count,
  affectedServices: list(requiredText(SERVICE_NAME_MAX), SERVICES_MAX),
  implementationPlan: requiredText(PLAN_MAX),
  testPlan: requiredText(PLAN_MAX),
  rollbackPlan: optionalText(PLAN_MAX),
  dependencies: list(requestId, DEPENDENCIES_MAX),
  windowStart: optionalInstant,
  windowEnd: optionalInstant,
  sensitivity: list(choice(SENSITIVITY_FLAGS), SENSITIVITY_FLAGS.length),
  sensitivityOther: optionalText(SENSITIVITY_OTHER_MAX),
});

export interface ValidateAssessmentOptions {
  /** The request being assessed, so it cannot depend on itself. */
  readonly selfId?: ChangeRequestId;
}

/** The assessment's field names in form order (cards pre-fill and label them). */
export const ASSESSMENT_FIELDS: readonly string[] = Object.keys(RawAssessment.shape);

/**
 * Validates raw card or API data into an `Assessment`, or every field that needs fixing at once.
 * @remarks Window instants are normalised to UTC; dependencies to canonical ids, without duplicates.
 * The window's relation to maintenance windows, blackouts and "now" is the schedule policy's job.
 */
export function validateAssessment(
  raw: Readonly<Record<string, unknown>>,
  options: ValidateAssessmentOptions = {},
): Result<Assessment, ValidationError> {
  const parsed = RawAssessment.safeParse(raw);
  if (!parsed.success) return err(new ValidationError(toIssues(parsed.error)));
  const v = parsed.data;
  const issues: FieldIssue[] = [];
  const dependencies = [...new Set(v.dependencies)];
  if (options.selfId !== undefined && dependencies.includes(options.selfId))
    issues.push({ field: 'dependencies', message: 'a request cannot depend on itself' });
  if ((v.windowStart === undefined) !== (v.windowEnd === undefined))
    issues.push({
      field: v.windowStart === undefined ? 'windowStart' : 'windowEnd',
      message: 'give both the start and the end of the window, or neither',
    });
  if (v.windowStart !== undefined && v.windowEnd !== undefined) {
    const hours = DateTime.fromISO(v.windowEnd)
      .diff(DateTime.fromISO(v.windowStart), 'hours')
      .as('hours');
    if (hours <= 0) issues.push({ field: 'windowEnd', message: 'must be after the start' });
    else if (hours > WINDOW_MAX_HOURS)
      issues.push({
        field: 'windowEnd',
        message: `must be at most ${WINDOW_MAX_HOURS / 24} days after the start; split longer work into several changes`,
      });
  }
  if (issues.length > 0) return err(new ValidationError(issues));
  return ok({
    impact: v.impact,
    risk: v.risk,
    affectedUsers: v.affectedUsers,
    affectedServices: [...new Set(v.affectedServices)],
    implementationPlan: v.implementationPlan,
    testPlan: v.testPlan,
    ...(v.rollbackPlan !== undefined ? { rollbackPlan: v.rollbackPlan } : {}),
    dependencies,
    ...(v.windowStart !== undefined && v.windowEnd !== undefined
      ? { requestedWindow: { start: v.windowStart, end: v.windowEnd } }
      : {}),
    sensitivity: [...new Set(v.sensitivity)],
    ...(v.sensitivityOther !== undefined ? { sensitivityOther: v.sensitivityOther } : {}),
  });
}
