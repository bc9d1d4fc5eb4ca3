import { DateTime } from 'luxon';
import type { ApprovalState } from '../approval/approval.policy';
import {
  isTerminal,
  type ChangeClass,
  type ChangeRequest,
  type ChangeStatus,
  type ClosureOutcome,
} from '../change-request/change-request';
import { CHANGE_CLASSES } from '../change-request/change-class';
import { ValidationError } from '../shared/errors';
import type { ChangeRequestId } from '../shared/ids';
import { err, ok, type Result } from '../shared/result';

/**
 * The monthly change summary of one client (issue 4 §4, §5): where the client hears of its
 * standard changes, and where the emergency quota is reported.
 */

/** A calendar month of the client's zone, `YYYY-MM`. */
export type ReportMonth = string & { readonly __brand: 'ReportMonth' };

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function parseReportMonth(text: string): Result<ReportMonth, ValidationError> {
  const found = MONTH.exec(text.trim());
  if (!found || Number(found[1]) < 2000)
    return err(
      new ValidationError([{ field: 'month', message: 'must be a month like 2026-11 (YYYY-MM)' }]),
    );
  return ok(`${found[1]}-${found[2]}` as ReportMonth);
}

/**
 * `[start, end)` of the month in `zone`, UTC instants in ms: from the first instant of the 1st
 * to the first instant of the next month's 1st (luxon moves a skipped midnight to the jump).
 */
export function monthBounds(month: ReportMonth, zone: string): { start: number; end: number } {
  const [year, m] = month.split('-').map(Number) as [number, number];
  const start = DateTime.fromObject({ year, month: m, day: 1 }, { zone });
  return { start: start.toMillis(), end: start.plus({ months: 1 }).toMillis() };
}

/** The month of `zone` that `instant` falls in. */
export function monthAt(instant: number, zone: string): ReportMonth {
  return DateTime.fromMillis(instant, { zone }).toFormat('yyyy-MM') as ReportMonth;
}

/**
 * The instant that places a request in a month: when it was raised, except that an emergency
 * sent under the emergency plan counts from when it was sent, the instant the quota counts.
 */
export function reportedAt(request: ChangeRequest): string {
  const sent =
    request.changeClass === 'emergency' && request.approvalPlan?.mode === 'emergency'
      ? request.approval?.steps[0]?.openedAt
      : undefined;
  return sent ?? request.createdAt;
}

/** How a change ended, or `open` while it has not. */
export type SummaryOutcome = ClosureOutcome | 'denied' | 'cancelled' | 'open';

export const SUMMARY_OUTCOMES = [
  'successful',
  'successful_with_issues',
  'failed',
  'rolled_back',
  'denied',
  'cancelled',
  'open',
] as const satisfies readonly SummaryOutcome[];

/** A change's final outcome: its closure's, denied or cancelled; `open` until it is terminal. */
export function finalOutcome(request: ChangeRequest): SummaryOutcome {
  const { status } = request;
  // The machine always records a closure on closing; a row written before closures existed succeeded.
  if (status === 'closed') return request.closure?.outcome ?? 'successful';
  if (status === 'rolled_back' || status === 'denied' || status === 'cancelled') return status;
  return 'open';
}

export type RetrospectiveState = 'not_started' | ApprovalState['status'];
/** `due` and `overdue` only once the change was implemented (`reviewDueAt` set). */
export type ReviewState = 'filed' | 'overdue' | 'due' | 'not_due';

export interface SummaryWindow {
  /** UTC instants. */
  readonly start: string;
  readonly end: string;
  /** `YYYY-MM-DD HH:mm` in the client's zone. */
  readonly localStart: string;
  readonly localEnd: string;
}

interface SummaryItem {
  readonly id: ChangeRequestId;
  readonly title: string;
  readonly status: ChangeStatus;
  readonly outcome: SummaryOutcome;
}

export interface StandardItem extends SummaryItem {
  readonly templateId?: string;
  /** The template's name when known. */
  readonly templateName?: string;
}

export interface EmergencyItem extends SummaryItem {
  readonly retrospective: RetrospectiveState;
  readonly review: ReviewState;
  readonly reviewDueAt?: string;
  readonly overEmergencyQuota: boolean;
}

export interface NormalItem extends SummaryItem {
  /** The booked slot, when assessed with one. */
  readonly window?: SummaryWindow;
}

export interface OpenItem extends SummaryItem {
  readonly changeClass: ChangeClass;
}

export interface EmergencyQuotaLine {
  readonly count: number;
  readonly quota: number;
  readonly overBy: number;
  /** Over the quota by count, or any emergency was flagged when it was sent. */
  readonly flagged: boolean;
  /** "N emergencies, quota M: over by K" (or "within quota"). */
  readonly line: string;
}

export interface MonthlySummary {
  readonly month: ReportMonth;
  readonly timeZone: string;
  /** UTC instants bounding the month in the client's zone, end exclusive. */
  readonly start: string;
  readonly end: string;
  readonly total: number;
  readonly byClass: Readonly<Record<ChangeClass, number>>;
  readonly byOutcome: Readonly<Record<SummaryOutcome, number>>;
  readonly standard: readonly StandardItem[];
  readonly emergencies: readonly EmergencyItem[];
  readonly emergencyQuota: EmergencyQuotaLine;
  readonly normal: readonly NormalItem[];
  /** Changes of the month not yet ended. */
  readonly open: readonly OpenItem[];
}

export interface SummarizeMonthOptions {
  readonly tenantId: string;
  readonly month: ReportMonth;
  readonly timeZone: string;
  readonly emergencyQuotaPerMonth: number;
  /** For review states: a review past `reviewDueAt` at this instant is overdue. */
  readonly now: string;
  readonly templateNames?: ReadonlyMap<string, string>;
}

/**
 * Summarises the client's changes of one month of its zone, oldest first.
 * @remarks Requests of other clients or other months are ignored, so callers may pass any list.
 */
export function summarizeMonth(
  requests: readonly ChangeRequest[],
  options: SummarizeMonthOptions,
): MonthlySummary {
  const zone = options.timeZone;
  const { start, end } = monthBounds(options.month, zone);
  const now = Date.parse(options.now);
  const inMonth = requests
    .filter((r) => r.tenantId === options.tenantId)
    .map((r) => ({ r, at: Date.parse(reportedAt(r)) }))
    .filter(({ at }) => at >= start && at < end)
    .sort((a, b) => a.at - b.at || a.r.number - b.r.number)
    .map(({ r }) => r);

  const byClass = Object.fromEntries(CHANGE_CLASSES.map((c) => [c, 0])) as Record<
    ChangeClass,
    number
  >;
  const byOutcome = Object.fromEntries(SUMMARY_OUTCOMES.map((o) => [o, 0])) as Record<
    SummaryOutcome,
    number
  >;
  for (const r of inMonth) {
    byClass[r.changeClass] += 1;
    byOutcome[finalOutcome(r)] += 1;
  }
  const item = (r: ChangeRequest): SummaryItem => ({
    id: r.id,
    title: r.title,
    status: r.status,
    outcome: finalOutcome(r),
  });
  const local = (iso: string) =>
    DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).toFormat('yyyy-MM-dd HH:mm');

  const emergencies = inMonth
    .filter((r) => r.changeClass === 'emergency')
    .map(
      (r): EmergencyItem => ({
        ...item(r),
        retrospective: r.retrospective?.status ?? 'not_started',
        review: reviewState(r, now),
        ...(r.reviewDueAt ? { reviewDueAt: r.reviewDueAt } : {}),
        overEmergencyQuota: r.overEmergencyQuota === true,
      }),
    );

  return {
    month: options.month,
    timeZone: zone,
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    total: inMonth.length,
    byClass,
    byOutcome,
    standard: inMonth
      .filter((r) => r.changeClass === 'standard')
      .map((r): StandardItem => {
        const name = r.templateId ? options.templateNames?.get(r.templateId) : undefined;
        return {
          ...item(r),
          ...(r.templateId ? { templateId: r.templateId } : {}),
          ...(name ? { templateName: name } : {}),
        };
      }),
    emergencies,
    emergencyQuota: quotaLine(emergencies, options.emergencyQuotaPerMonth),
    normal: inMonth
      .filter((r) => r.changeClass === 'normal')
      .map((r): NormalItem => {
        const w = r.assessment?.requestedWindow;
        return {
          ...item(r),
          ...(w
            ? {
                window: {
                  start: w.start,
                  end: w.end,
                  localStart: local(w.start),
                  localEnd: local(w.end),
                },
              }
            : {}),
        };
      }),
    open: inMonth
      .filter((r) => !isTerminal(r.status))
      .map((r): OpenItem => ({ ...item(r), changeClass: r.changeClass })),
  };
}

function reviewState(r: ChangeRequest, now: number): ReviewState {
  if (r.review) return 'filed';
  if (!r.reviewDueAt) return 'not_due';
  return Date.parse(r.reviewDueAt) < now ? 'overdue' : 'due';
}

function quotaLine(emergencies: readonly EmergencyItem[], quota: number): EmergencyQuotaLine {
  const count = emergencies.length;
  const overBy = Math.max(0, count - quota);
  const flagged = overBy > 0 || emergencies.some((e) => e.overEmergencyQuota);
  const noun = count === 1 ? 'emergency' : 'emergencies';
  const tail = overBy > 0 ? `over by ${overBy}` : flagged ? 'flagged over quota' : 'within quota';
  return { count, quota, overBy, flagged, line: `${count} ${noun}, quota ${quota}: ${tail}` };
}
