import { dueReminders, type ApprovalState } from '../approval/approval.policy';
import type { Delegation } from '../approval/delegation.policy';
import type { AuditEvent } from '../audit/audit-event';
import { SYSTEM_OID } from '../audit/audit-event';
import type { ClientRules } from '../client/client-rules';
import type { Person } from '../shared/person';
import type { ChangeRequest } from './change-request';

/** Something Cabinet must chase so nothing stalls silently (issue 4 §3, §4). `key` is sent once. */
export type FollowUp =
  | {
      readonly kind: 'approval_reminder';
      readonly key: string;
      readonly step: string;
      readonly to: Person;
      /** The seat's holder, when `to` is their delegate. */
      readonly for?: Person;
    }
  | {
      readonly kind: 'approval_escalation';
      readonly key: string;
      readonly step: string;
      readonly to: readonly Person[];
      readonly waitingOn: readonly Person[];
    }
  | {
      readonly kind: 'review_overdue';
      readonly key: string;
      readonly to: readonly Person[];
      /** What is still missing: the review, the retrospective approval, or both. */
      readonly missing: readonly ('review' | 'retrospective')[];
    };

/** Keys already sent are kept on the request; a round's keys carry its version, step and open time. */
const MAX_KEPT_KEYS = 200;

/**
 * What is due for this request at `now` and has not been sent: reminders to the undecided
 * approvers (and delegates in force) of the open step, escalation to the MSP leads, and for an
 * emergency past its review deadline, escalation to its technician and the leads.
 * @remarks A request waiting on the requester (`needs_info`) is not chased on the approvers' side.
 */
export function dueFollowUps(
  cr: ChangeRequest,
  rules: ClientRules,
  leads: readonly Person[],
  delegations: readonly Delegation[],
  now: string,
): FollowUp[] {
  const sent = new Set(cr.followUpsSent ?? []);
  const out: FollowUp[] = [];
  const round: ApprovalState | undefined =
    cr.status === 'awaiting_approval'
      ? cr.approval
      : cr.status === 'review_pending'
        ? cr.retrospective
        : undefined;
  if (round) {
    const due = dueReminders(round, rules.approvalPolicy.timing, now, { delegations });
    for (const r of due.reminders)
      out.push({
        kind: 'approval_reminder',
        key: r.key,
        step: r.step,
        to: r.to,
        ...(r.for ? { for: r.for } : {}),
      });
    for (const e of due.escalations)
      out.push({
        kind: 'approval_escalation',
        key: e.key,
        step: e.step,
        to: e.to.length > 0 ? e.to : leads,
        waitingOn: e.waitingOn,
      });
  }
  if (
    cr.status === 'review_pending' &&
    cr.reviewDueAt &&
    Date.parse(cr.reviewDueAt) <= Date.parse(now)
  ) {
    const missing = [
      ...(cr.review ? [] : (['review'] as const)),
      ...(cr.retrospective?.status === 'pending' ? (['retrospective'] as const) : []),
    ];
    if (missing.length > 0)
      out.push({
        kind: 'review_overdue',
        key: `review:${cr.reviewDueAt}`,
        to: [...(cr.assignee ? [cr.assignee] : []), ...leads],
        missing,
      });
  }
  return out.filter((f) => !sent.has(f.key));
}

/**
 * The request with `followUps` marked sent, and one audit event per follow-up (who was chased, for
 * what). Not a change of the request: its version and `updatedAt` stay as they are.
 */
export function markFollowUpsSent(
  cr: ChangeRequest,
  followUps: readonly FollowUp[],
): { readonly next: ChangeRequest; readonly audit: AuditEvent[] } {
  const keys = [...(cr.followUpsSent ?? []), ...followUps.map((f) => f.key)].slice(-MAX_KEPT_KEYS);
  const actor = { tid: cr.tenantId, oid: SYSTEM_OID };
  const audit = followUps.map((f): AuditEvent => {
    switch (f.kind) {
      case 'approval_reminder':
        return {
          type: 'approval.reminded',
          actor,
          requestId: cr.id,
          payload: { step: f.step, toOid: f.to.oid, forOid: f.for?.oid ?? null, status: cr.status },
        };
      case 'approval_escalation':
        return {
          type: 'approval.escalated',
          actor,
          requestId: cr.id,
          payload: {
            step: f.step,
            toOids: f.to.map((p) => p.oid),
            waitingOnOids: f.waitingOn.map((p) => p.oid),
            status: cr.status,
          },
        };
      case 'review_overdue':
        return {
          type: 'review.escalated',
          actor,
          requestId: cr.id,
          payload: {
            dueAt: cr.reviewDueAt ?? null,
            missing: [...f.missing],
            toOids: f.to.map((p) => p.oid),
          },
        };
    }
  });
  return { next: { ...cr, followUpsSent: keys }, audit };
}
