import type { AuditActor } from '../domain/audit/audit-event';
import type { UseCaseDeps } from '../application/use-cases/context';
import { onboardClient } from '../application/use-cases/manage-clients';
import { CONTOSO, FABRIKAM, MSP } from './sandbox-tenants';

/** The sandbox's own operator identity in the audit chain. */
const SANDBOX_OPERATOR: AuditActor = { tid: MSP.tenantId, oid: 'cabinet-sandbox-seed' };

/**
 * Onboards the two sandbox clients through the same use case as `cabinet clients add`, if storage
 * has no clients yet. Returns how many were added.
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
  return results.length;
}
