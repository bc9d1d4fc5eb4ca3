import { strict as assert } from 'node:assert';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { SettingsActor } from '../../src/application/use-cases/client-settings';
import { onboardClient } from '../../src/application/use-cases/manage-clients';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, FABRIKAM, MSP, type SandboxPerson } from '../../src/sandbox/sandbox-tenants';

/** A sandbox person as Cabinet knows them. */
export const asPerson = (p: SandboxPerson): Person => ({ tid: p.tid, oid: p.oid, name: p.name });
/** A signed-in person acting on settings. */
export const as = (p: SandboxPerson): SettingsActor => ({ kind: 'person', person: asPerson(p) });

/** Contoso and Fabrikam onboarded through the real use case, as `cabinet clients add` does. */
export async function onboardSandboxClients(storage: Pick<TableStorage, 'clients'>): Promise<void> {
  const deps = { clients: storage.clients, mspTenantId: MSP.tenantId };
  const operator = { tid: MSP.tenantId, oid: 'cabinet-test' };
  const contoso = await onboardClient(deps, {
    operator,
    tenantId: CONTOSO.tenantId,
    code: CONTOSO.code,
    name: CONTOSO.name,
    admins: [CONTOSO.carla],
    approvers: [CONTOSO.andy, CONTOSO.avery],
    techs: [MSP.tina, MSP.theo],
    leads: [MSP.lena],
    timeZone: 'Europe/London',
  });
  const fabrikam = await onboardClient(deps, {
    operator,
    tenantId: FABRIKAM.tenantId,
    code: FABRIKAM.code,
    name: FABRIKAM.name,
    admins: [FABRIKAM.fiona],
    approvers: [FABRIKAM.frank],
    techs: [MSP.theo],
    leads: [MSP.lena],
    timeZone: 'America/New_York',
  });
  assert.ok(contoso.ok && fabrikam.ok);
}

/** A full, valid set of Contoso settings: client step, CAB at high risk, London schedule. */
export function contosoSettings(): Record<string, unknown> {
  return {
    approvalPolicy: {
      steps: [
        {
          id: 'client',
          name: 'Client approval',
          side: 'client',
          approvers: [asPerson(CONTOSO.andy), asPerson(CONTOSO.avery)],
          rule: { kind: 'any_of' },
        },
        {
          id: 'cab',
          name: 'CAB',
          side: 'cab',
          approvers: [asPerson(MSP.lena), asPerson(MSP.theo), asPerson(CONTOSO.avery)],
          rule: { kind: 'quorum', required: 2 },
          when: { minRisk: 'high', classes: ['normal'] },
        },
      ],
      mspGate: false,
      sensitiveApprovers: [],
      timing: { remindAfterHours: 24, escalateAfterHours: 48 },
    },
    schedule: {
      maintenanceWindows: [
        {
          kind: 'weekly',
          id: 'evenings',
          name: 'Tue and Thu evenings',
          days: ['tue', 'thu'],
          start: '18:00',
          durationMinutes: 300,
        },
      ],
      blackouts: [{ kind: 'month_end', id: 'month-end', name: 'Month-end close', businessDays: 2 }],
      noticeHours: 48,
    },
    classOverrides: { offboard: { defaultClass: 'emergency' } },
    emergencyQuotaPerMonth: 3,
    reviewDueBusinessDays: 4,
  };
}
