import { DateTime, Info } from 'luxon';
import {
  IMPACT_LEVELS,
  RISK_LEVELS,
  SENSITIVITY_FLAGS,
} from '../../../domain/assessment/assessment';
import { GOOD_ROLLBACK_PLAN } from '../../../domain/assessment/assessment.errors';
import type { ChangeRequest } from '../../../domain/change-request/change-request';
import type { DomainError, FieldIssue } from '../../../domain/shared/errors';
import { IMPACT_LABELS, RISK_LABELS, SENSITIVITY_LABELS } from './labels';
import { bindTemplate, type AdaptiveCardJson } from './template';

/** The Assess form's inputs, as the card names them. */
export const ASSESS_INPUTS = [
  'impact',
  'risk',
  'affectedUsers',
  'affectedServices',
  'implementationPlan',
  'testPlan',
  'rollbackPlan',
  'dependencies',
  'windowStartDate',
  'windowStartTime',
  'windowEndDate',
  'windowEndTime',
  'sensitivity',
  'sensitivityOther',
  'overrideReason',
] as const;
export type AssessInput = (typeof ASSESS_INPUTS)[number];
export type AssessInputs = { readonly [K in AssessInput]: string };

/** A form coming back to its author: what they typed and what to fix, field by field. */
export interface AssessFormState {
  readonly values: AssessInputs;
  readonly issues: readonly FieldIssue[];
}

/** Fields with a line of their own under the input; the window's two inputs share one per end. */
const PLACED = [
  'impact',
  'risk',
  'affectedUsers',
  'affectedServices',
  'implementationPlan',
  'testPlan',
  'rollbackPlan',
  'dependencies',
  'windowStart',
  'windowEnd',
  'sensitivity',
  'sensitivityOther',
  'overrideReason',
] as const;
type PlacedField = (typeof PLACED)[number];

const FIELD_NAMES: { readonly [F in PlacedField]: string } = {
  impact: 'Impact',
  risk: 'Risk',
  affectedUsers: 'Users affected',
  affectedServices: 'Services affected',
  implementationPlan: 'Implementation plan',
  testPlan: 'Test plan',
  rollbackPlan: 'Rollback plan',
  dependencies: 'Depends on',
  windowStart: 'Window start',
  windowEnd: 'Window end',
  sensitivity: 'Sensitive',
  sensitivityOther: 'Other sensitivity',
  overrideReason: 'Reason',
};

/**
 * The form pre-filled for a request: its assessment when it has one, with the risk set to
 * Cabinet's suggestion (keeping a different risk is then a conscious override), else blank.
 */
export function assessInputsFor(request: ChangeRequest, timeZone?: string): AssessInputs {
  const blank = Object.fromEntries(ASSESS_INPUTS.map((k) => [k, ''])) as Record<
    AssessInput,
    string
  >;
  const a = request.assessment;
  if (!a) return blank;
  const start = a.requestedWindow ? zonedInputs(a.requestedWindow.start, timeZone) : undefined;
  const end = a.requestedWindow ? zonedInputs(a.requestedWindow.end, timeZone) : undefined;
  return {
    ...blank,
    impact: a.impact,
    risk: a.suggestedRisk,
    affectedUsers: String(a.affectedUsers),
    affectedServices: a.affectedServices.join(', '),
    implementationPlan: a.implementationPlan,
    testPlan: a.testPlan,
    rollbackPlan: a.rollbackPlan ?? '',
    dependencies: a.dependencies.join(', '),
    windowStartDate: start?.date ?? '',
    windowStartTime: start?.time ?? '',
    windowEndDate: end?.date ?? '',
    windowEndTime: end?.time ?? '',
    sensitivity: a.sensitivity.join(','),
    sensitivityOther: a.sensitivityOther ?? '',
  };
}

/**
 * The form's inputs as the raw fields `assessChange` validates, the window's date and time read in
 * the client's zone and turned into instants with their offset.
 * @remarks A window end the card cannot read leaves both ends out of `fields` and says why in
 * `issues`, so the domain still reports every other field at once.
 */
export function assessFields(
  inputs: AssessInputs,
  timeZone?: string,
): { fields: Record<string, string>; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const start = instantFrom(
    'windowStart',
    inputs.windowStartDate,
    inputs.windowStartTime,
    timeZone,
  );
  const end = instantFrom('windowEnd', inputs.windowEndDate, inputs.windowEndTime, timeZone);
  for (const read of [start, end]) if (!read.ok) issues.push(read.issue);
  const window =
    start.ok && end.ok
      ? {
          ...(start.value ? { windowStart: start.value } : {}),
          ...(end.value ? { windowEnd: end.value } : {}),
        }
      : {};
  return {
    fields: {
      impact: inputs.impact,
      risk: inputs.risk,
      affectedUsers: inputs.affectedUsers,
      affectedServices: inputs.affectedServices,
      implementationPlan: inputs.implementationPlan,
      testPlan: inputs.testPlan,
      rollbackPlan: inputs.rollbackPlan,
      dependencies: inputs.dependencies,
      sensitivity: inputs.sensitivity,
      sensitivityOther: inputs.sensitivityOther,
      ...window,
    },
    issues,
  };
}

/**
 * The field a refused assessment is about, when it is one field: the override's reason, or the
 * risk below its floor. Other refusals belong in the card's banner.
 */
export function assessIssueFor(error: DomainError): FieldIssue | undefined {
  switch (error.code) {
    case 'ASSESS.REASON_REQUIRED':
    case 'ASSESS.REASON_TOO_VAGUE':
    case 'ASSESS.TEXT_TOO_LONG':
      return { field: 'overrideReason', message: error.message };
    case 'ASSESS.BELOW_RISK_FLOOR':
      return { field: 'risk', message: error.message };
    default:
      return undefined;
  }
}

/** The Assess form: behind the status card's Assess button, or opened in it with what to fix. */
export function assessForm(
  request: ChangeRequest,
  timeZone: string | undefined,
  state?: AssessFormState,
): AdaptiveCardJson {
  const errors = Object.fromEntries(PLACED.map((f) => [f, ''])) as Record<PlacedField, string>;
  const unplaced: { text: string }[] = [];
  for (const issue of state?.issues ?? []) {
    // A list's item problem ("dependencies.1") belongs beside the list's input.
    const field = issue.field.replace(/\.\d+$/, '') as PlacedField;
    if (field in errors) {
      const line = `${FIELD_NAMES[field]} ${issue.message}`;
      errors[field] = errors[field] ? `${errors[field]} ${line}` : line;
    } else unplaced.push({ text: `${issue.field}: ${issue.message}` });
  }
  const suggested = request.assessment?.suggestedRisk;
  return bindTemplate('assessment-form', {
    intro:
      'Cabinet suggests a risk from what you enter; choosing another needs a reason, which the client and the auditor see.',
    requestId: request.id,
    version: request.version,
    values: state?.values ?? assessInputsFor(request, timeZone),
    errors,
    unplaced,
    impactChoices: IMPACT_LEVELS.map((v) => ({ title: IMPACT_LABELS[v], value: v })),
    riskChoices: RISK_LEVELS.map((v) => ({ title: RISK_LABELS[v], value: v })),
    riskLabel: suggested
      ? `Risk (Cabinet suggested ${RISK_LABELS[suggested].toLowerCase()})`
      : 'Risk',
    sensitivityChoices: SENSITIVITY_FLAGS.map((v) => ({ title: SENSITIVITY_LABELS[v], value: v })),
    rollbackHint: GOOD_ROLLBACK_PLAN,
    windowHeading: `Window (${validZone(timeZone)}; leave empty if not scheduled yet)`,
  });
}

/** A date and time typed in the client's zone as an ISO instant with offset; blank both is "none". */
function instantFrom(
  field: 'windowStart' | 'windowEnd',
  date: string,
  time: string,
  timeZone: string | undefined,
): { ok: true; value?: string } | { ok: false; issue: FieldIssue } {
  const d = date.trim();
  const t = time.trim();
  if (!d && !t) return { ok: true };
  if (!d || !t) return { ok: false, issue: { field, message: 'needs both a date and a time' } };
  const parsed = DateTime.fromISO(`${d}T${t}`, { zone: validZone(timeZone) });
  if (!parsed.isValid)
    return {
      ok: false,
      issue: { field, message: `is not a date and time Cabinet can read (${d} ${t})` },
    };
  return { ok: true, value: parsed.toISO({ suppressMilliseconds: true }) };
}

/** An instant as the Input.Date and Input.Time values of the client's zone. */
function zonedInputs(iso: string, timeZone: string | undefined): { date: string; time: string } {
  const at = DateTime.fromISO(iso, { zone: 'utc' }).setZone(validZone(timeZone));
  return { date: at.toFormat('yyyy-MM-dd'), time: at.toFormat('HH:mm') };
}

/** The client's zone when it is a valid IANA zone, else UTC (as the card's labels then say). */
function validZone(timeZone: string | undefined): string {
  return timeZone && Info.isValidIANAZone(timeZone) ? timeZone : 'UTC';
}
