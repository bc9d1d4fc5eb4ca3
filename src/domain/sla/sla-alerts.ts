import { SYSTEM_OID, type AuditEvent } from '../audit/audit-event';
import type { ChangeRequest } from '../change-request/change-request';
import type { SlaClock, SlaSnapshot, SlaThreshold } from './sla';

/**
 * The thresholds `snapshot` has crossed that the SLA channel has not heard of yet, in order.
 * @remarks A clock found already breached has crossed its at-risk mark too: both count, so an
 * at-risk alert can never follow the breach it would understate.
 */
export function newThresholds(
  snapshot: SlaSnapshot,
  posted: readonly SlaThreshold[] = [],
): SlaThreshold[] {
  const crossed = [
    ...crossedBy('acknowledge', snapshot.acknowledge),
    ...crossedBy('resolve', snapshot.resolve),
  ];
  return crossed.filter((t) => !posted.includes(t));
}

function crossedBy(name: 'acknowledge' | 'resolve', clock: SlaClock): SlaThreshold[] {
  switch (clock.state) {
    case 'breached':
      return [`${name}.at_risk`, `${name}.breached`];
    case 'at_risk':
      return [`${name}.at_risk`];
    case 'on_track':
    case 'met':
    case 'paused':
      return [];
  }
}

/**
 * The request with its fresh SLA snapshot and the thresholds recorded as posted, and one audit
 * event per threshold (so breaches sit on the timeline and in the chain).
 * @remarks Not a version bump: the request's content did not change, and approvers' cards stay valid.
 */
export function recordThresholds(
  request: ChangeRequest,
  snapshot: SlaSnapshot,
  thresholds: readonly SlaThreshold[],
): { readonly next: ChangeRequest; readonly audit: AuditEvent[] } {
  const actor = { tid: request.tenantId, oid: SYSTEM_OID };
  const audit = thresholds.map((threshold): AuditEvent => {
    const [clockName, level] = threshold.split('.') as ['acknowledge' | 'resolve', string];
    const clock = snapshot[clockName];
    return {
      type: level === 'breached' ? 'sla.breached' : 'sla.at_risk',
      actor,
      requestId: request.id,
      payload: {
        clock: clockName,
        dueAt: clock.dueAt,
        targetMinutes: clock.targetMinutes,
        usedMinutes: clock.usedMinutes,
        status: request.status,
      },
    };
  });
  return {
    next: {
      ...request,
      sla: snapshot,
      slaPosted: [...(request.slaPosted ?? []), ...thresholds],
    },
    audit,
  };
}
