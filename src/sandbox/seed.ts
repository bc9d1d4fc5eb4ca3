import type { AuditActor } from '../domain/audit/audit-event';
import type { Person } from '../domain/shared/person';
import { configureClientSettings } from '../application/use-cases/client-settings';
import type { UseCaseDeps } from '../application/use-cases/context';
import { onboardClient } from '../application/use-cases/manage-clients';
import { CONTOSO, FABRIKAM, MSP, type SandboxPerson } from './sandbox-tenants';

/** The sandbox's own operator identity in the audit chain. */
const SANDBOX_OPERATOR: AuditActor = { tid: MSP.tenantId, oid: 'cabinet-sandbox-seed' };

const seat = (p: SandboxPerson): Person => ({ tid: p.tid, oid: p.oid, name: p.name });

/**
 * Contoso's configured rules, so the sandbox exercises the approval engine and the schedule: any
 * one client approver, then for normal changes at high risk or above a CAB of two MSP staff and a
 * client approver voting 2 of 3; changes go in on Tuesday and Thursday evenings in London, never
 * in the last two business days of a month, with 48 h notice.
 */
export const CONTOSO_SANDBOX_SETTINGS = {
  approvalPolicy: {
    steps: [
      {
        id: 'client',
        name: 'Client approval',
        side: 'client',
        approvers: [seat(CONTOSO.andy), seat(CONTOSO.avery)],
        rule: { kind: 'any_of' },
      },
      {
        id: 'cab',
        name: 'Change advisory board',
        side: 'cab',
        approvers: [seat(MSP.lena), seat(MSP.theo), seat(CONTOSO.avery)],
        rule: { kind: 'quorum', required: 2 },
        when: { minRisk: 'high', classes: ['normal'] },
      },
    ],
    mspGate: false,
    sensitiveApprovers: [],
    timing: { remindAfterHours: 24, escalateAfterHours: 48 },
  },
  schedule: {
    timeZone: 'Europe/London',
    maintenanceWindows: [
      {
        kind: 'weekly',
        id: 'tue-thu-evening',
        name: 'Tuesday and Thursday evenings',
        days: ['tue', 'thu'],
        start: '18:00',
        durationMinutes: 300,
      },
    ],
    blackouts: [{ kind: 'month_end', id: 'month-end', name: 'Month-end close', businessDays: 2 }],
    noticeHours: 48,
    emergencyExempt: true,
  },
} as const;

/** Contoso's tickets go to the sandbox HaloPSA (client 12), by Halo's numeric ids. */
export const CONTOSO_SANDBOX_PSA = {
  psa: 'halopsa',
  company: '12',
  board: '3',
  category: 'Microsoft 365',
  priorities: { critical: '1', high: '2', medium: '3', low: '4' },
  typePriorities: { incident: 'high', offboard: 'high' },
  statuses: {
    submitted: '1',
    triaged: '1',
    awaiting_approval: '21',
    needs_info: '22',
    approved: '2',
    in_progress: '2',
    implemented: '23',
    closed: '9',
    denied: '9',
    cancelled: '9',
  },
} as const;

/** Fabrikam's tickets go to the sandbox ConnectWise PSA (company FABRIKAM), by name. */
export const FABRIKAM_SANDBOX_PSA = {
  psa: 'connectwise',
  company: 'FABRIKAM',
  board: 'Service Desk',
  category: 'Change',
  priorities: {
    critical: 'Priority 1 - Emergency Response',
    high: 'Priority 2 - Quick Response',
    medium: 'Priority 3 - Normal Response',
    low: 'Priority 4 - Schedule Maintenance',
  },
  statuses: {
    submitted: 'New',
    awaiting_approval: 'Waiting Approval',
    needs_info: 'Waiting Customer',
    in_progress: 'In Progress',
    closed: 'Closed (resolved)',
    cancelled: 'Closed (cancelled)',
  },
} as const;

/**
 * Onboards the two sandbox clients through the same use case as `cabinet clients add`, if storage
 * has no clients yet, and configures Contoso's rules as `cabinet clients settings` would (Fabrikam
 * keeps Cabinet's default rules), and each client's PSA mapping. Returns how many were added.
 */
export async function seedSandbox(
  deps: Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
): Promise<number> {
  if ((await deps.clients.list()).length > 0) return 0;
  const staff = { techs: [MSP.tina, MSP.theo], leads: [MSP.lena] };
  const results = [
    await onboardClient(deps, {
      operator: SANDBOX_OPERATOR,
      tenantId: CONTOSO.tenantId,
      code: CONTOSO.code,
      name: CONTOSO.name,
      admins: [CONTOSO.carla],
      approvers: [CONTOSO.andy, CONTOSO.avery],
      ...staff,
      timeZone: 'Europe/London',
    }),
    await onboardClient(deps, {
      operator: SANDBOX_OPERATOR,
      tenantId: FABRIKAM.tenantId,
      code: FABRIKAM.code,
      name: FABRIKAM.name,
      admins: [FABRIKAM.fiona],
      approvers: [FABRIKAM.frank],
      techs: [MSP.theo],
      leads: [MSP.lena],
      timeZone: 'America/New_York',
    }),
  ];
  for (const result of results)
    if (!result.ok)
      throw new Error(`Sandbox seeding failed: ${result.error.message}`, { cause: result.error });
  const settings = [
    {
      clientTenantId: CONTOSO.tenantId,
      settings: { ...CONTOSO_SANDBOX_SETTINGS, psa: CONTOSO_SANDBOX_PSA },
    },
    { clientTenantId: FABRIKAM.tenantId, settings: { psa: FABRIKAM_SANDBOX_PSA } },
  ];
  for (const { clientTenantId, settings: part } of settings) {
    const configured = await configureClientSettings(deps, {
      actor: { kind: 'operator', operator: SANDBOX_OPERATOR },
      clientTenantId,
      settings: part,
    });
    if (!configured.ok)
      throw new Error(`Sandbox seeding failed: ${configured.error.message}`, {
        cause: configured.error,
      });
  }
  return results.length;
}
