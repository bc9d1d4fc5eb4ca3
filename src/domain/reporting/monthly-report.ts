import type { ChangeRequest } from '../change-request/change-request';
import { changeLog, type ChangeLogRow } from './change-log';
import { monthBounds, reportedAt, type MonthlySummary } from './monthly-summary';

/**
 * The monthly change report (issue 7 §3): the monthly summary's figures turned into what a client
 * reads in a report with charts, plus the red flags a client or auditor should act on.
 */

/**
 * The share of a month's changes that may be emergencies before the report flags it. Emergencies
 * skip the client's prior approval, so a client seeing more than one in ten is told so.
 */
export const DEFAULT_EMERGENCY_SHARE_TARGET = 0.1;

export type RedFlagCode =
  | 'emergency_share'
  | 'emergency_quota'
  | 'no_rollback_plan'
  | 'overdue_review';

export interface RedFlag {
  readonly code: RedFlagCode;
  readonly text: string;
  /** The changes concerned, when the flag is about particular ones. */
  readonly requestIds: readonly string[];
}

/** A ratio with its parts, `rate` undefined when nothing was measured (no 0 % out of nothing). */
export interface Ratio {
  readonly count: number;
  readonly of: number;
  readonly rate?: number;
}

export interface MonthlyReportFigures {
  readonly byClass: readonly { readonly label: string; readonly count: number }[];
  readonly byType: readonly { readonly label: string; readonly count: number }[];
  readonly emergencyShare: Ratio;
  readonly emergencyShareTarget: number;
  /** Ended changes that succeeded (with or without issues) out of those that were carried out. */
  readonly success: Ratio;
  /** Changes whose resolution SLA was met, out of those whose clock finished (met or breached). */
  readonly sla: Ratio;
  readonly redFlags: readonly RedFlag[];
  readonly log: readonly ChangeLogRow[];
}

export interface MonthlyReportOptions {
  readonly emergencyShareTarget?: number;
}

const ratio = (count: number, of: number): Ratio =>
  of > 0 ? { count, of, rate: count / of } : { count, of };

/** The report's figures for the month `summary` covers, from the same requests. */
export function monthlyReportFigures(
  summary: MonthlySummary & { readonly client: { readonly tenantId: string } },
  requests: readonly ChangeRequest[],
  options: MonthlyReportOptions = {},
): MonthlyReportFigures {
  const target = options.emergencyShareTarget ?? DEFAULT_EMERGENCY_SHARE_TARGET;
  const { start, end } = monthBounds(summary.month, summary.timeZone);
  const inMonth = requests.filter((r) => {
    const at = Date.parse(reportedAt(r));
    return r.tenantId === summary.client.tenantId && at >= start && at < end;
  });
  const types = new Map<string, number>();
  for (const r of inMonth) types.set(r.type, (types.get(r.type) ?? 0) + 1);
  const o = summary.byOutcome;
  const carriedOut = o.successful + o.successful_with_issues + o.failed + o.rolled_back;
  const slaDone = inMonth.filter(
    (r) => r.sla?.resolve.state === 'met' || r.sla?.resolve.state === 'breached',
  );
  const emergencyShare = ratio(summary.byClass.emergency, summary.total);
  // A normal change counts once assessed (before that nobody has been asked for a plan); an
  // emergency counts at once, since it may be carried out before anyone writes one.
  const noRollback = inMonth
    .filter(
      (r) =>
        r.changeClass !== 'standard' &&
        (r.assessment !== undefined || r.changeClass === 'emergency') &&
        !r.assessment?.rollbackPlan?.trim(),
    )
    .sort((a, b) => a.number - b.number);
  const overdue = summary.emergencies.filter((e) => e.review === 'overdue');
  const pct = (n: number) => `${Math.round(n * 100)} %`;
  const redFlags: RedFlag[] = [
    ...(emergencyShare.rate !== undefined && emergencyShare.rate > target
      ? [
          {
            code: 'emergency_share' as const,
            text: `Emergency share ${pct(emergencyShare.rate)} (${emergencyShare.count} of ${emergencyShare.of}) is above the target of ${pct(target)}.`,
            requestIds: summary.emergencies.map((e) => e.id),
          },
        ]
      : []),
    ...(summary.emergencyQuota.flagged
      ? [
          {
            code: 'emergency_quota' as const,
            text: `Emergency quota: ${summary.emergencyQuota.line}.`,
            requestIds: summary.emergencies.filter((e) => e.overEmergencyQuota).map((e) => e.id),
          },
        ]
      : []),
    ...(noRollback.length > 0
      ? [
          {
            code: 'no_rollback_plan' as const,
            text: `${noRollback.length} ${noRollback.length === 1 ? 'change has' : 'changes have'} no rollback plan.`,
            requestIds: noRollback.map((r) => r.id),
          },
        ]
      : []),
    ...(overdue.length > 0
      ? [
          {
            code: 'overdue_review' as const,
            text: `${overdue.length} post-implementation ${overdue.length === 1 ? 'review is' : 'reviews are'} overdue.`,
            requestIds: overdue.map((e) => e.id),
          },
        ]
      : []),
  ];
  return {
    byClass: Object.entries(summary.byClass).map(([label, count]) => ({ label, count })),
    byType: [...types.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([label, count]) => ({ label, count })),
    emergencyShare,
    emergencyShareTarget: target,
    success: ratio(o.successful + o.successful_with_issues, carriedOut),
    sla: ratio(slaDone.filter((r) => r.sla?.resolve.state === 'met').length, slaDone.length),
    redFlags,
    log: changeLog(inMonth, {
      tenantId: summary.client.tenantId,
      month: summary.month,
      timeZone: summary.timeZone,
    }),
  };
}
