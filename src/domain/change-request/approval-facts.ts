import type { RequestFacts } from '../approval/approval.policy';
import { isSensitive } from '../assessment/assessment';
import type { RiskSignals } from '../assessment/risk.policy';
import { leadTimeHours } from '../assessment/risk.policy';
import { bookableSchedule, type ClientRules } from '../client/client-rules';
import { checkScheduledSlot } from '../schedule/schedule.policy';
import { ScheduleErrorCodes } from '../schedule/schedule.errors';
import type { Assessment } from '../assessment/assessment';
import type { TenantId } from '../shared/ids';
import type { ChangeRequest } from './change-request';

/** What the approval planner needs to know about a request's current version. */
export function approvalFacts(cr: ChangeRequest, mspTenantId: TenantId): RequestFacts {
  return {
    version: cr.version,
    clientTenantId: cr.tenantId,
    mspTenantId,
    type: cr.type,
    changeClass: cr.changeClass,
    risk: cr.assessment?.risk ?? 'low',
    sensitive: cr.assessment ? isSensitive(cr.assessment) : false,
    requester: cr.requester,
    ...(cr.onBehalfOf ? { onBehalfOf: cr.onBehalfOf } : {}),
    ...(cr.templateId ? { activeTemplateId: cr.templateId } : {}),
  };
}

/**
 * The facts Cabinet's risk suggestion weighs for an assessment: its size and flags, and where its
 * window sits against the client's maintenance windows, blackouts and the clock.
 */
export function riskSignals(
  cr: Pick<ChangeRequest, 'type'>,
  assessment: Assessment,
  rules: ClientRules,
  now: string,
  conflicts: number,
): RiskSignals {
  const window = assessment.requestedWindow;
  let outsideMaintenanceWindow = false;
  let overlapsBlackout = false;
  if (window) {
    const checked = checkScheduledSlot(bookableSchedule(rules), window, 'normal', now);
    const codes = checked.ok
      ? []
      : ((checked.error.details['codes'] as string[] | undefined) ?? [checked.error.code]);
    outsideMaintenanceWindow = codes.includes(ScheduleErrorCodes.outsideWindow);
    overlapsBlackout = codes.includes(ScheduleErrorCodes.inBlackout);
  }
  return {
    type: cr.type,
    affectedUsers: assessment.affectedUsers,
    affectedServices: assessment.affectedServices.length,
    impact: assessment.impact,
    sensitive: isSensitive(assessment),
    ...(window ? { leadTimeHours: leadTimeHours(window.start, now) } : {}),
    outsideMaintenanceWindow,
    overlapsBlackout,
    conflicts,
  };
}
