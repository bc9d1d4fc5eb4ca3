import { CONTOSO, FABRIKAM, MSP, type SandboxPerson } from '../sandbox-tenants';
import {
  disabledAutoReply,
  exchangeDateTime,
  type AutoReplyRecord,
  type GroupRecord,
  type LicenceRecord,
  type ServicePlanRecord,
  type SkuRecord,
  type TenantRecord,
  type UserRecord,
} from './directory-state';

/**
 * The sandbox cloud's registered app: Cabinet, multi-tenant, with a client secret. Not a real
 * credential; it only opens the loopback sandbox.
 */
export const SANDBOX_APP = {
  clientId: 'cab1e700-0000-4000-8000-0000000000a1',
  clientSecret: 'sbx8Q~cabinet-sandbox-client-secret-not-for-production',
  displayName: 'Cabinet (sandbox)',
} as const;

/** What the app is consented to in each client tenant (the reference's "simplest workable set"). */
export const SANDBOX_APP_ROLES: readonly string[] = [
  'User.ReadWrite.All',
  'Group.ReadWrite.All',
  'GroupMember.ReadWrite.All',
  'Directory.Read.All',
  'Organization.Read.All',
  'MailboxSettings.ReadWrite',
  'LicenseAssignment.ReadWrite.All',
];

const plan = (servicePlanId: string, servicePlanName: string): ServicePlanRecord => ({
  servicePlanId,
  servicePlanName,
  provisioningStatus: 'Success',
  appliesTo: 'User',
});

const EXCHANGE_S_STANDARD = plan('9aaf7827-d63c-4b61-89c3-182f06f82e5c', 'EXCHANGE_S_STANDARD');
const EXCHANGE_S_ENTERPRISE = plan('efb87545-963c-4e0d-99df-69c6916d9eb0', 'EXCHANGE_S_ENTERPRISE');
const TEAMS1 = plan('57ff2da0-773e-42df-b2af-ffb7a2317929', 'TEAMS1');
const OFFICESUBSCRIPTION = plan('43de0ff5-c92c-492b-9116-175376d08c38', 'OFFICESUBSCRIPTION');
const SHAREPOINTSTANDARD = plan('c7699d2e-19aa-44de-8edf-1736da088ca1', 'SHAREPOINTSTANDARD');
const SHAREPOINTENTERPRISE = plan('5dbe027f-2339-4123-9542-606e4d348a72', 'SHAREPOINTENTERPRISE');
const INTUNE_A = plan('c1ec4a95-1f05-45b3-a911-aa3fa01094f5', 'INTUNE_A');
const AAD_PREMIUM = plan('41781fb2-bc02-4b7c-bd55-b576c07bb09d', 'AAD_PREMIUM');
const MCOSTANDARD = plan('0feaeb32-d00e-4d66-bd5a-43b5b83db82c', 'MCOSTANDARD');

/** The subscriptions every sandbox client tenant has, with Microsoft's real sku ids and plans. */
export const SANDBOX_SKUS = {
  businessPremium: {
    skuId: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46',
    skuPartNumber: 'SPB',
    servicePlans: [
      EXCHANGE_S_STANDARD,
      TEAMS1,
      OFFICESUBSCRIPTION,
      SHAREPOINTSTANDARD,
      INTUNE_A,
      AAD_PREMIUM,
    ],
  },
  e3: {
    skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900',
    skuPartNumber: 'ENTERPRISEPACK',
    servicePlans: [
      EXCHANGE_S_ENTERPRISE,
      TEAMS1,
      OFFICESUBSCRIPTION,
      SHAREPOINTENTERPRISE,
      MCOSTANDARD,
    ],
  },
  exchangeOnline: {
    skuId: '4b9405b0-7788-4568-add1-99614e613b69',
    skuPartNumber: 'EXCHANGESTANDARD',
    servicePlans: [EXCHANGE_S_STANDARD],
  },
} as const;

/** Free seats each client tenant starts with: two of Business Premium, none of E3. */
const FREE_SEATS: Readonly<Record<SkuKey, number>> = {
  businessPremium: 2,
  e3: 0,
  exchangeOnline: 3,
};

type SkuKey = keyof typeof SANDBOX_SKUS;

/** A seeded object as tests refer to it. */
export interface SeededUser {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
}

export interface SeededGroup {
  readonly id: string;
  readonly displayName: string;
}

interface UserSeed {
  readonly id: string;
  readonly givenName: string;
  readonly surname: string;
  readonly jobTitle: string;
  readonly department: string;
  readonly usageLocation?: string;
  readonly licences?: readonly SkuKey[];
  readonly manager?: string;
  readonly privileged?: boolean;
  readonly accountEnabled?: boolean;
  readonly autoReply?: (now: Date) => AutoReplyRecord;
  readonly deletedDaysAgo?: number;
}

interface GroupSeed {
  readonly id: string;
  readonly displayName: string;
  readonly kind: 'security' | 'microsoft365' | 'mailEnabledSecurity' | 'dynamic';
  readonly members?: readonly string[];
  readonly owners?: readonly string[];
  readonly membershipRule?: string;
  readonly licences?: readonly SkuKey[];
}

const fromPerson = (
  who: SandboxPerson,
  rest: Omit<UserSeed, 'id' | 'givenName' | 'surname'>,
): UserSeed => ({ id: who.oid, givenName: who.givenName, surname: who.surname, ...rest });

const onLeave =
  (message: string) =>
  (now: Date): AutoReplyRecord => ({
    ...disabledAutoReply(now),
    status: 'alwaysEnabled',
    externalAudience: 'all',
    internalReplyMessage: `<html><body>${message}</body></html>`,
    externalReplyMessage: `<html><body>${message}</body></html>`,
  });

const scheduledAway =
  (message: string, fromDays: number, toDays: number) =>
  (now: Date): AutoReplyRecord => ({
    ...disabledAutoReply(now),
    status: 'scheduled',
    externalAudience: 'contactsOnly',
    internalReplyMessage: `<html><body>${message}</body></html>`,
    externalReplyMessage: `<html><body>${message}</body></html>`,
    scheduledStartDateTime: {
      dateTime: exchangeDateTime(new Date(now.getTime() + fromDays * 86_400_000)),
      timeZone: 'UTC',
    },
    scheduledEndDateTime: {
      dateTime: exchangeDateTime(new Date(now.getTime() + toDays * 86_400_000)),
      timeZone: 'UTC',
    },
  });

const CONTOSO_DOMAIN = 'contoso.example';
const FABRIKAM_DOMAIN = 'fabrikam.example';
const MSP_DOMAIN = 'northwind-it.example';

const contosoUsers = {
  carla: fromPerson(CONTOSO.carla, {
    jobTitle: 'IT Administrator',
    department: 'IT',
    usageLocation: 'GB',
    licences: ['businessPremium'],
    privileged: true,
  }),
  andy: fromPerson(CONTOSO.andy, {
    jobTitle: 'Operations Manager',
    department: 'Operations',
    usageLocation: 'GB',
    licences: ['businessPremium'],
    manager: CONTOSO.carla.oid,
  }),
  avery: fromPerson(CONTOSO.avery, {
    jobTitle: 'Finance Manager',
    department: 'Finance',
    usageLocation: 'GB',
    licences: ['businessPremium'],
    manager: CONTOSO.carla.oid,
  }),
  sam: fromPerson(CONTOSO.sam, {
    jobTitle: 'Sales Associate',
    department: 'Sales',
    usageLocation: 'GB',
    licences: ['exchangeOnline'],
    manager: CONTOSO.andy.oid,
  }),
  lee: {
    id: 'c0a70000-0000-4000-8000-000000000101',
    givenName: 'Lee',
    surname: 'Leaver',
    jobTitle: 'Account Manager',
    department: 'Sales',
    usageLocation: 'GB',
    licences: ['businessPremium'],
    manager: CONTOSO.andy.oid,
  },
  olly: {
    id: 'c0a70000-0000-4000-8000-000000000102',
    givenName: 'Olly',
    surname: 'Onleave',
    jobTitle: 'Marketing Lead',
    department: 'Marketing',
    usageLocation: 'GB',
    licences: ['exchangeOnline'],
    manager: CONTOSO.avery.oid,
    autoReply: onLeave('I am on parental leave until September. Please contact Avery Approver.'),
  },
  mo: {
    id: 'c0a70000-0000-4000-8000-000000000103',
    givenName: 'Mo',
    surname: 'Mover',
    jobTitle: 'Support Engineer',
    department: 'Support',
    usageLocation: 'GB',
    licences: ['exchangeOnline'],
    manager: CONTOSO.carla.oid,
  },
  una: {
    id: 'c0a70000-0000-4000-8000-000000000104',
    givenName: 'Una',
    surname: 'Unlicensed',
    jobTitle: 'Contractor',
    department: 'Operations',
  },
  dee: {
    id: 'c0a70000-0000-4000-8000-000000000105',
    givenName: 'Dee',
    surname: 'Departed',
    jobTitle: 'Sales Associate',
    department: 'Former staff',
    usageLocation: 'GB',
    accountEnabled: false,
  },
  pat: {
    id: 'c0a70000-0000-4000-8000-000000000106',
    givenName: 'Pat',
    surname: 'Previous',
    jobTitle: 'Office Manager',
    department: 'Operations',
    usageLocation: 'GB',
    deletedDaysAgo: 3,
  },
} satisfies Record<string, UserSeed>;

const contosoGroups = {
  allStaff: {
    id: 'c0a76000-0000-4000-8000-000000000001',
    displayName: 'All Staff',
    kind: 'microsoft365',
    members: [
      CONTOSO.carla.oid,
      CONTOSO.andy.oid,
      CONTOSO.avery.oid,
      CONTOSO.sam.oid,
      contosoUsers.lee.id,
      contosoUsers.olly.id,
      contosoUsers.mo.id,
    ],
    owners: [CONTOSO.carla.oid],
  },
  salesTeam: {
    id: 'c0a76000-0000-4000-8000-000000000002',
    displayName: 'Sales Team',
    kind: 'security',
    members: [CONTOSO.sam.oid, contosoUsers.lee.id],
    owners: [CONTOSO.andy.oid],
  },
  salesAnnouncements: {
    id: 'c0a76000-0000-4000-8000-000000000003',
    displayName: 'Sales Announcements',
    kind: 'mailEnabledSecurity',
    members: [CONTOSO.sam.oid, contosoUsers.lee.id],
    owners: [CONTOSO.andy.oid],
  },
  salesDynamic: {
    id: 'c0a76000-0000-4000-8000-000000000004',
    displayName: 'Sales (dynamic)',
    kind: 'dynamic',
    membershipRule: '(user.department -eq "Sales")',
  },
  e3Users: {
    id: 'c0a76000-0000-4000-8000-000000000005',
    displayName: 'E3 Licensed Users',
    kind: 'security',
    members: [CONTOSO.carla.oid, CONTOSO.avery.oid, contosoUsers.lee.id],
    owners: [CONTOSO.carla.oid],
    licences: ['e3'],
  },
  projectFalcon: {
    id: 'c0a76000-0000-4000-8000-000000000006',
    displayName: 'Project Falcon',
    kind: 'microsoft365',
    members: [contosoUsers.lee.id, CONTOSO.andy.oid, CONTOSO.sam.oid],
    owners: [contosoUsers.lee.id, CONTOSO.andy.oid],
  },
  itAdmins: {
    id: 'c0a76000-0000-4000-8000-000000000007',
    displayName: 'IT Admins',
    kind: 'security',
    members: [CONTOSO.carla.oid, contosoUsers.mo.id],
    owners: [CONTOSO.carla.oid],
  },
  marketing: {
    id: 'c0a76000-0000-4000-8000-000000000008',
    displayName: 'Marketing',
    kind: 'security',
    members: [contosoUsers.olly.id],
    owners: [CONTOSO.avery.oid],
  },
} satisfies Record<string, GroupSeed>;

const fabrikamUsers = {
  fiona: fromPerson(FABRIKAM.fiona, {
    jobTitle: 'Head of IT',
    department: 'IT',
    usageLocation: 'US',
    licences: ['businessPremium'],
    privileged: true,
  }),
  frank: fromPerson(FABRIKAM.frank, {
    jobTitle: 'Engineering Director',
    department: 'Engineering',
    usageLocation: 'US',
    licences: ['businessPremium'],
    manager: FABRIKAM.fiona.oid,
  }),
  gail: {
    id: 'fab40000-0000-4000-8000-000000000101',
    givenName: 'Gail',
    surname: 'Goodbye',
    jobTitle: 'Senior Engineer',
    department: 'Engineering',
    usageLocation: 'US',
    licences: ['businessPremium'],
    manager: FABRIKAM.frank.oid,
  },
  jo: {
    id: 'fab40000-0000-4000-8000-000000000102',
    givenName: 'Jo',
    surname: 'Jobshare',
    jobTitle: 'Engineer',
    department: 'Engineering',
    usageLocation: 'US',
    licences: ['exchangeOnline'],
    manager: FABRIKAM.frank.oid,
    autoReply: scheduledAway('I work Monday to Wednesday. Kim Keeper covers the rest.', 1, 8),
  },
  kim: {
    id: 'fab40000-0000-4000-8000-000000000103',
    givenName: 'Kim',
    surname: 'Keeper',
    jobTitle: 'Engineer',
    department: 'Engineering',
    usageLocation: 'US',
    licences: ['exchangeOnline'],
    manager: FABRIKAM.frank.oid,
  },
  ivan: {
    id: 'fab40000-0000-4000-8000-000000000104',
    givenName: 'Ivan',
    surname: 'Intern',
    jobTitle: 'Intern',
    department: 'Engineering',
  },
  ravi: {
    id: 'fab40000-0000-4000-8000-000000000105',
    givenName: 'Ravi',
    surname: 'Reception',
    jobTitle: 'Receptionist',
    department: 'Facilities',
    usageLocation: 'US',
    licences: ['exchangeOnline'],
    manager: FABRIKAM.fiona.oid,
  },
} satisfies Record<string, UserSeed>;

const fabrikamGroups = {
  everyone: {
    id: 'fab46000-0000-4000-8000-000000000001',
    displayName: 'Everyone',
    kind: 'microsoft365',
    members: [
      FABRIKAM.fiona.oid,
      FABRIKAM.frank.oid,
      fabrikamUsers.gail.id,
      fabrikamUsers.jo.id,
      fabrikamUsers.kim.id,
      fabrikamUsers.ravi.id,
    ],
    owners: [FABRIKAM.fiona.oid],
  },
  engineering: {
    id: 'fab46000-0000-4000-8000-000000000002',
    displayName: 'Engineering',
    kind: 'security',
    members: [FABRIKAM.frank.oid, fabrikamUsers.gail.id, fabrikamUsers.jo.id, fabrikamUsers.kim.id],
    owners: [FABRIKAM.frank.oid],
  },
  engineeringUpdates: {
    id: 'fab46000-0000-4000-8000-000000000003',
    displayName: 'Engineering Updates',
    kind: 'mailEnabledSecurity',
    members: [fabrikamUsers.gail.id, fabrikamUsers.jo.id],
    owners: [FABRIKAM.frank.oid],
  },
  engineersDynamic: {
    id: 'fab46000-0000-4000-8000-000000000004',
    displayName: 'Engineers (dynamic)',
    kind: 'dynamic',
    membershipRule: '(user.department -eq "Engineering")',
  },
  e3Users: {
    id: 'fab46000-0000-4000-8000-000000000005',
    displayName: 'E3 Licensed Users',
    kind: 'security',
    members: [FABRIKAM.fiona.oid, fabrikamUsers.gail.id],
    owners: [FABRIKAM.fiona.oid],
    licences: ['e3'],
  },
  platformTeam: {
    id: 'fab46000-0000-4000-8000-000000000006',
    displayName: 'Platform Team',
    kind: 'microsoft365',
    members: [fabrikamUsers.gail.id, fabrikamUsers.kim.id],
    owners: [fabrikamUsers.gail.id, FABRIKAM.frank.oid],
  },
} satisfies Record<string, GroupSeed>;

const mspUsers = {
  tina: fromPerson(MSP.tina, { jobTitle: 'Technician', department: 'Service Desk' }),
  theo: fromPerson(MSP.theo, { jobTitle: 'Technician', department: 'Service Desk' }),
  lena: fromPerson(MSP.lena, { jobTitle: 'Team Lead', department: 'Service Desk' }),
} satisfies Record<string, UserSeed>;

/** A tenant that has not consented to the app yet (a newly onboarded client): tokens fail AADSTS700016. */
export const UNCONSENTED_TENANT = {
  tenantId: '7a115000-0000-4000-8000-000000000004',
  displayName: 'Tailspin Toys',
  domain: 'tailspin.example',
} as const;

interface TenantSeed<U extends Record<string, UserSeed>, G extends Record<string, GroupSeed>> {
  readonly tenantId: string;
  readonly displayName: string;
  readonly domain: string;
  readonly initialDomain: string;
  readonly appRoles: readonly string[] | null;
  readonly users: U;
  readonly groups: G;
  readonly skus: boolean;
}

const TENANT_SEEDS = {
  contoso: {
    tenantId: CONTOSO.tenantId,
    displayName: CONTOSO.name,
    domain: CONTOSO_DOMAIN,
    initialDomain: 'contoso.onmicrosoft.example',
    appRoles: SANDBOX_APP_ROLES,
    users: contosoUsers,
    groups: contosoGroups,
    skus: true,
  },
  fabrikam: {
    tenantId: FABRIKAM.tenantId,
    displayName: FABRIKAM.name,
    domain: FABRIKAM_DOMAIN,
    initialDomain: 'fabrikam.onmicrosoft.example',
    appRoles: SANDBOX_APP_ROLES,
    users: fabrikamUsers,
    groups: fabrikamGroups,
    skus: true,
  },
  msp: {
    tenantId: MSP.tenantId,
    displayName: MSP.name,
    domain: MSP_DOMAIN,
    initialDomain: 'northwind.onmicrosoft.example',
    // The app's home tenant: it exists there, but nobody granted it Graph permissions.
    appRoles: [],
    users: mspUsers,
    groups: {},
    skus: false,
  },
  unconsented: {
    tenantId: UNCONSENTED_TENANT.tenantId,
    displayName: UNCONSENTED_TENANT.displayName,
    domain: UNCONSENTED_TENANT.domain,
    initialDomain: 'tailspin.onmicrosoft.example',
    appRoles: null,
    users: {},
    groups: {},
    skus: false,
  },
} as const satisfies Record<
  string,
  TenantSeed<Record<string, UserSeed>, Record<string, GroupSeed>>
>;

type Refs<T, R> = { readonly [K in keyof T]: R };

const userRef = (seed: UserSeed, domain: string): SeededUser => ({
  id: seed.id,
  userPrincipalName: `${seed.givenName}.${seed.surname}@${domain}`.toLowerCase(),
  displayName: `${seed.givenName} ${seed.surname}`,
});

function refsOf<U extends Record<string, UserSeed>, G extends Record<string, GroupSeed>>(
  seed: TenantSeed<U, G>,
) {
  return {
    tenantId: seed.tenantId,
    displayName: seed.displayName,
    domain: seed.domain,
    users: Object.fromEntries(
      Object.entries(seed.users).map(([key, user]) => [key, userRef(user, seed.domain)]),
    ) as Refs<U, SeededUser>,
    groups: Object.fromEntries(
      Object.entries(seed.groups).map(([key, group]) => [
        key,
        { id: group.id, displayName: group.displayName },
      ]),
    ) as Refs<G, SeededGroup>,
  };
}

/**
 * The seeded directories by name, for tests and the bench: `SANDBOX_DIRECTORY.contoso.users.lee`
 * is Lee Leaver (to offboard), `.groups.salesAnnouncements` the mail-enabled security group, etc.
 * @remarks Contoso: Lee Leaver (Business Premium direct + E3 through "E3 Licensed Users", in a
 * security, a Microsoft 365, the mail-enabled and the dynamic group, owner of "Project Falcon",
 * manager Andy), Olly Onleave (auto-reply on), Mo Mover (Exchange Online only), Una Unlicensed (no
 * usage location, no mailbox), Dee Departed (disabled), Pat Previous (soft-deleted 3 days ago).
 * Carla is privileged (an admin): the app cannot disable or delete her. Fabrikam: Gail Goodbye
 * (to offboard), Jo Jobshare (scheduled auto-reply), Kim Keeper, Ivan Intern (unlicensed), Ravi.
 */
export const SANDBOX_DIRECTORY = {
  contoso: refsOf(TENANT_SEEDS.contoso),
  fabrikam: refsOf(TENANT_SEEDS.fabrikam),
  msp: refsOf(TENANT_SEEDS.msp),
  unconsented: refsOf(TENANT_SEEDS.unconsented),
};

/** Deterministic ids for the app's service principal and subscriptions, derived from the tenant id. */
const derivedId = (tenantId: string, tag: string): string =>
  `${tag}${tenantId.slice(tag.length, 24)}${tenantId.slice(24)}`;

/** Fresh directory records for every sandbox tenant, dated relative to `now`. */
export function seedTenants(now: Date): TenantRecord[] {
  return Object.values(TENANT_SEEDS).map((seed) => buildTenant(seed, now));
}

function buildTenant(
  seed: TenantSeed<Record<string, UserSeed>, Record<string, GroupSeed>>,
  now: Date,
): TenantRecord {
  const created = new Date(now.getTime() - 400 * 86_400_000).toISOString().slice(0, 19) + 'Z';
  const users = Object.values(seed.users).map((user) => buildUser(user, seed.domain, now, created));
  const groups = Object.values(seed.groups).map((group) => buildGroup(group, seed.domain, created));
  const record: TenantRecord = {
    id: seed.tenantId,
    displayName: seed.displayName,
    verifiedDomains: [
      { name: seed.domain, isDefault: true, isInitial: false },
      { name: seed.initialDomain, isDefault: false, isInitial: true },
    ],
    appRoles: seed.appRoles ? [...seed.appRoles] : null,
    appServicePrincipalId: derivedId(seed.tenantId, '5e7f1ce0'),
    users,
    groups,
    skus: [],
  };
  if (seed.skus) record.skus = buildSkus(record);
  return record;
}

function buildUser(seed: UserSeed, domain: string, now: Date, created: string): UserRecord {
  const ref = userRef(seed, domain);
  const deletedDateTime =
    seed.deletedDaysAgo === undefined
      ? null
      : new Date(now.getTime() - seed.deletedDaysAgo * 86_400_000).toISOString();
  return {
    id: seed.id,
    userPrincipalName: ref.userPrincipalName,
    displayName: ref.displayName,
    givenName: seed.givenName,
    surname: seed.surname,
    mailNickname: `${seed.givenName}.${seed.surname}`.toLowerCase(),
    jobTitle: seed.jobTitle,
    department: seed.department,
    officeLocation: null,
    mobilePhone: null,
    businessPhones: [],
    preferredLanguage: 'en-GB',
    accountEnabled: seed.accountEnabled ?? true,
    usageLocation: seed.usageLocation ?? null,
    assignedLicenses: (seed.licences ?? []).map(
      (key): LicenceRecord => ({ skuId: SANDBOX_SKUS[key].skuId, disabledPlans: [] }),
    ),
    managerId: seed.manager ?? null,
    automaticRepliesSetting: (seed.autoReply ?? disabledAutoReply)(now),
    signInSessionsValidFromDateTime: created,
    sessionsRevokedAt: null,
    lastPasswordChangeDateTime: created,
    createdDateTime: created,
    deletedDateTime,
    privileged: seed.privileged ?? false,
  };
}

function buildGroup(seed: GroupSeed, domain: string, created: string): GroupRecord {
  const mailNickname = seed.displayName.replace(/[^A-Za-z0-9]/g, '');
  const mailEnabled = seed.kind === 'microsoft365' || seed.kind === 'mailEnabledSecurity';
  return {
    id: seed.id,
    displayName: seed.displayName,
    description: null,
    mailNickname,
    mail: mailEnabled ? `${mailNickname.toLowerCase()}@${domain}` : null,
    mailEnabled,
    securityEnabled: seed.kind !== 'microsoft365',
    groupTypes:
      seed.kind === 'microsoft365'
        ? ['Unified']
        : seed.kind === 'dynamic'
          ? ['DynamicMembership']
          : [],
    membershipRule: seed.membershipRule ?? null,
    membershipRuleProcessingState: seed.kind === 'dynamic' ? 'On' : null,
    visibility: seed.kind === 'microsoft365' ? 'Private' : null,
    members: [...(seed.members ?? [])],
    owners: [...(seed.owners ?? [])],
    assignedLicenses: (seed.licences ?? []).map((key) => ({
      skuId: SANDBOX_SKUS[key].skuId,
      disabledPlans: [],
    })),
    createdDateTime: created,
  };
}

/** Purchased seats = seats the seed uses + {@link FREE_SEATS}, so free seats start exactly as documented. */
function buildSkus(tenant: TenantRecord): SkuRecord[] {
  return (Object.keys(SANDBOX_SKUS) as SkuKey[]).map((key) => {
    const sku = SANDBOX_SKUS[key];
    const activeUsers = tenant.users.filter((user) => user.deletedDateTime === null);
    const licensedGroups = tenant.groups.filter((group) =>
      group.assignedLicenses.some((licence) => licence.skuId === sku.skuId),
    );
    const consumed = activeUsers.filter(
      (user) =>
        user.assignedLicenses.some((licence) => licence.skuId === sku.skuId) ||
        licensedGroups.some((group) => group.members.includes(user.id)),
    ).length;
    return {
      skuId: sku.skuId,
      skuPartNumber: sku.skuPartNumber,
      appliesTo: 'User',
      capabilityStatus: 'Enabled',
      prepaidUnits: { enabled: consumed + FREE_SEATS[key], suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: sku.servicePlans.map((servicePlan) => ({ ...servicePlan })),
      subscriptionIds: [derivedId(`${tenant.id.slice(0, 24)}${sku.skuId.slice(24)}`, '5ab5c0de')],
    };
  });
}
