import type { ClientCode, ObjectId, TenantId } from '../domain/shared/ids';

/**
 * The sandbox's made-up organisations and people. Playground identities are generated from these,
 * so a person in the browser is exactly the person Cabinet's seed data knows.
 */
export interface SandboxPerson {
  readonly tid: TenantId;
  readonly oid: ObjectId;
  readonly name: string;
  readonly givenName: string;
  readonly surname: string;
  readonly upn: string;
}

const person = (
  tid: string,
  oid: string,
  givenName: string,
  surname: string,
  domain: string,
): SandboxPerson => ({
  tid: tid as TenantId,
  oid: oid as ObjectId,
  name: `${givenName} ${surname}`,
  givenName,
  surname,
  upn: `${givenName}.${surname}@${domain}`.toLowerCase(),
});

/** The Entra app the sandbox's tab SSO tokens are issued for (production: the bot's app id). */
export const SANDBOX_TAB_CLIENT_ID = '7ab00000-0000-4000-8000-0000000000c1';

export const MSP_TENANT = '0b5e55ed-0000-4000-8000-000000000001' as TenantId;
export const CONTOSO_TENANT = 'c0a7050a-0000-4000-8000-000000000002' as TenantId;
export const FABRIKAM_TENANT = 'fab41ca3-0000-4000-8000-000000000003' as TenantId;

export const MSP = {
  tenantId: MSP_TENANT,
  name: 'Northwind IT (your MSP)',
  tina: person(
    MSP_TENANT,
    '7ec40000-0000-4000-8000-000000000011',
    'Tina',
    'Tech',
    'northwind-it.example',
  ),
  theo: person(
    MSP_TENANT,
    '7ec40000-0000-4000-8000-000000000012',
    'Theo',
    'Tech',
    'northwind-it.example',
  ),
  lena: person(
    MSP_TENANT,
    '7ec40000-0000-4000-8000-000000000013',
    'Lena',
    'Lead',
    'northwind-it.example',
  ),
} as const;

export const CONTOSO = {
  tenantId: CONTOSO_TENANT,
  code: 'CONTOSO' as ClientCode,
  name: 'Contoso Ltd',
  carla: person(
    CONTOSO_TENANT,
    'c0a70000-0000-4000-8000-000000000021',
    'Carla',
    'Admin',
    'contoso.example',
  ),
  andy: person(
    CONTOSO_TENANT,
    'c0a70000-0000-4000-8000-000000000022',
    'Andy',
    'Approver',
    'contoso.example',
  ),
  avery: person(
    CONTOSO_TENANT,
    'c0a70000-0000-4000-8000-000000000023',
    'Avery',
    'Approver',
    'contoso.example',
  ),
  sam: person(
    CONTOSO_TENANT,
    'c0a70000-0000-4000-8000-000000000024',
    'Sam',
    'Staff',
    'contoso.example',
  ),
} as const;

export const FABRIKAM = {
  tenantId: FABRIKAM_TENANT,
  code: 'FABRIKAM' as ClientCode,
  name: 'Fabrikam Inc',
  fiona: person(
    FABRIKAM_TENANT,
    'fab40000-0000-4000-8000-000000000031',
    'Fiona',
    'Admin',
    'fabrikam.example',
  ),
  frank: person(
    FABRIKAM_TENANT,
    'fab40000-0000-4000-8000-000000000032',
    'Frank',
    'Approver',
    'fabrikam.example',
  ),
} as const;
