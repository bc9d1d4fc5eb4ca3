import { DateTime } from 'luxon';
import { decidedBy, settledDecision } from '../change-request/approval-summary';
import type { ChangeClass, ChangeRequest, ChangeStatus } from '../change-request/change-request';
import type { ChangeRequestId } from '../shared/ids';
import {
  finalOutcome,
  monthBounds,
  reportedAt,
  type ReportMonth,
  type SummaryOutcome,
} from './monthly-summary';

/**
 * The client's own change log (issue 7 §3): one row per change of a month, in words a client
 * admin or auditor reads without knowing Cabinet: when, what, who authorised it, what was expected
 * and what happened, and what was (or would have been) done to roll it back.
 */
export interface ChangeLogRow {
  readonly id: ChangeRequestId;
  /** The instant that places the change in its month (UTC) and the same in the client's zone. */
  readonly at: string;
  readonly localDate: string;
  readonly title: string;
  readonly type: string;
  readonly changeClass: ChangeClass;
  readonly status: ChangeStatus;
  readonly outcome: SummaryOutcome;
  readonly requestedBy: string;
  readonly authorisedBy: string;
  readonly expected: string;
  readonly actual: string;
  readonly rollback: string;
}

export interface ChangeLogOptions {
  readonly tenantId: string;
  readonly month: ReportMonth;
  readonly timeZone: string;
}

/**
 * The change log of one month of the client's zone, oldest first.
 * @remarks Requests of other tenants are dropped here as well as by the caller, so a row of another
 * client can never reach this client's log.
 */
export function changeLog(
  requests: readonly ChangeRequest[],
  options: ChangeLogOptions,
): ChangeLogRow[] {
  const { start, end } = monthBounds(options.month, options.timeZone);
  return requests
    .filter((r) => r.tenantId === options.tenantId)
    .map((r) => ({ r, at: Date.parse(reportedAt(r)) }))
    .filter(({ at }) => at >= start && at < end)
    .sort((a, b) => a.at - b.at || a.r.number - b.r.number)
    .map(({ r, at }) => changeLogRow(r, at, options.timeZone));
}

function changeLogRow(r: ChangeRequest, at: number, zone: string): ChangeLogRow {
  const outcome = finalOutcome(r);
  return {
    id: r.id,
    at: new Date(at).toISOString(),
    localDate: DateTime.fromMillis(at, { zone }).toFormat('yyyy-MM-dd HH:mm'),
    title: r.title,
    type: r.type,
    changeClass: r.changeClass,
    status: r.status,
    outcome,
    requestedBy: r.onBehalfOf ? `${r.requester.name} (for ${r.onBehalfOf.name})` : r.requester.name,
    authorisedBy: authorisedBy(r),
    expected: r.assessment?.testPlan.trim() || r.description.trim() || 'not stated',
    actual: actualOutcome(r, outcome),
    rollback: rollbackActions(r),
  };
}

function authorisedBy(r: ChangeRequest): string {
  const decision = settledDecision(r.approval);
  const retro = settledDecision(r.retrospective);
  const retroText = retro
    ? `retrospectively ${retro.outcome}${retro.preApproved ? '' : ` by ${decidedBy(retro)}`}`
    : r.changeClass === 'emergency' && r.retrospective
      ? 'retrospective approval pending'
      : '';
  let first: string;
  if (!decision)
    first = r.status === 'cancelled' ? 'not authorised (cancelled)' : 'not yet authorised';
  else if (decision.preApproved)
    first = r.changeClass === 'standard' ? 'pre-approved standard change' : 'pre-approved';
  else
    first = `${decision.outcome === 'approved' ? '' : `${decision.outcome} by `}${decidedBy(decision)}`;
  // An emergency is done first and approved by the client afterwards: that is its authorisation.
  if (!decision && retroText) return retroText;
  return retroText ? `${first}; ${retroText}` : first;
}

function actualOutcome(r: ChangeRequest, outcome: SummaryOutcome): string {
  const label = outcome.replaceAll('_', ' ');
  if (r.closure?.notes.trim()) return `${label}: ${r.closure.notes.trim()}`;
  if (r.failure) return `${label}: ${r.failure.reason}`;
  if (r.cancellation) return `${label}: ${r.cancellation.reason}`;
  return label;
}

function rollbackActions(r: ChangeRequest): string {
  const plan = r.assessment?.rollbackPlan?.trim();
  if (r.status === 'rolled_back')
    return `Rolled back${r.failure ? ` after: ${r.failure.reason}` : ''}${plan ? `. Plan followed: ${plan}` : ''}`;
  const succeeded = r.status === 'closed' && r.closure?.outcome !== 'failed';
  if (plan) return succeeded ? `Not needed. Plan: ${plan}` : `Plan: ${plan}`;
  return r.changeClass === 'standard'
    ? 'Not needed (standard change)'
    : 'No rollback plan recorded';
}
