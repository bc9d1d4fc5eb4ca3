import type { ClientApprovalPolicy } from '../approval/approval-policy';
import type { ClassOverrides } from '../change-request/change-class';
import type { ScheduleSettings } from '../schedule/schedule';
import { NOTICE_HOURS_DEFAULT, WEEKDAYS } from '../schedule/schedule';
import { withSlaDefaults, type SlaSettings } from '../sla/sla.policy';
import type { ClientProfile } from './client';

export const DEFAULT_EMERGENCY_QUOTA_PER_MONTH = 2;
export const DEFAULT_REVIEW_DUE_BUSINESS_DAYS = 5;
export const DEFAULT_APPROVAL_TIMING = { remindAfterHours: 24, escalateAfterHours: 48 } as const;

/**
 * The rules a client's requests follow, with Cabinet's defaults where the client has set nothing.
 * @remarks Without a configured policy any one of the client's approvers approves (the walking
 * skeleton's behaviour); without schedule settings there are no windows or blackouts to honour.
 */
export interface ClientRules {
  readonly approvalPolicy: ClientApprovalPolicy;
  readonly schedule: ScheduleSettings;
  /** False when the client has configured no maintenance windows: any slot is inside "the window". */
  readonly windowsConfigured: boolean;
  readonly classOverrides: ClassOverrides;
  readonly emergencyQuotaPerMonth: number;
  readonly reviewDueBusinessDays: number;
  readonly timeZone: string;
  /** SLA targets, business hours and holidays (issue 5), read in `timeZone`. */
  readonly sla: SlaSettings;
}

export function rulesFor(client: ClientProfile): ClientRules {
  const s = client.settings;
  const schedule: ScheduleSettings = s.schedule ?? {
    timeZone: s.timeZone,
    maintenanceWindows: [],
    blackouts: [],
    noticeHours: NOTICE_HOURS_DEFAULT,
    emergencyExempt: true,
  };
  return {
    approvalPolicy: s.approvalPolicy ?? {
      steps: [
        {
          id: 'client',
          name: 'Client approval',
          side: 'client',
          approvers: client.approvers,
          rule: { kind: 'any_of' },
        },
      ],
      mspGate: false,
      sensitiveApprovers: [],
      timing: DEFAULT_APPROVAL_TIMING,
    },
    schedule,
    windowsConfigured: schedule.maintenanceWindows.length > 0,
    classOverrides: s.classOverrides ?? {},
    emergencyQuotaPerMonth: s.emergencyQuotaPerMonth ?? DEFAULT_EMERGENCY_QUOTA_PER_MONTH,
    reviewDueBusinessDays: s.reviewDueBusinessDays ?? DEFAULT_REVIEW_DUE_BUSINESS_DAYS,
    timeZone: schedule.timeZone,
    sla: withSlaDefaults(s.sla),
  };
}

/** Rules with nothing configured: for dry runs that only ask "may this person do this in principle". */
export function unconfiguredRules(timeZone: string): ClientRules {
  return rulesFor({
    tenantId: '' as ClientProfile['tenantId'],
    code: '' as ClientProfile['code'],
    name: '',
    admins: [],
    approvers: [],
    techs: [],
    leads: [],
    settings: { timeZone },
  });
}

/**
 * The schedule changes are booked and run against: the client's, where a client with no maintenance
 * windows configured may book any time (only its blackouts bind).
 */
export function bookableSchedule(rules: ClientRules): ScheduleSettings {
  if (rules.windowsConfigured) return rules.schedule;
  return {
    ...rules.schedule,
    maintenanceWindows: [
      {
        kind: 'weekly',
        id: 'any-time',
        name: 'Any time',
        days: WEEKDAYS,
        start: '00:00',
        durationMinutes: 24 * 60,
      },
    ],
  };
}
