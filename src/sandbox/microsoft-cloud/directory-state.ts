/**
 * A sandbox tenant's directory as plain, JSON-serialisable records (the state file stores them as
 * they are), plus the derived facts Entra computes: inherited licences, seat use, mailboxes and
 * dynamic membership.
 */

export interface LicenceRecord {
  skuId: string;
  disabledPlans: string[];
}

export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

export interface AutoReplyRecord {
  status: 'disabled' | 'alwaysEnabled' | 'scheduled';
  externalAudience: 'none' | 'contactsOnly' | 'all';
  internalReplyMessage: string;
  externalReplyMessage: string;
  scheduledStartDateTime: DateTimeTimeZone;
  scheduledEndDateTime: DateTimeTimeZone;
}

export interface UserRecord {
  id: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mailNickname: string;
  jobTitle: string | null;
  department: string | null;
  officeLocation: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  preferredLanguage: string | null;
  accountEnabled: boolean;
  usageLocation: string | null;
  assignedLicenses: LicenceRecord[];
  managerId: string | null;
  automaticRepliesSetting: AutoReplyRecord;
  signInSessionsValidFromDateTime: string;
  sessionsRevokedAt: string | null;
  lastPasswordChangeDateTime: string;
  createdDateTime: string;
  deletedDateTime: string | null;
  /** Holds an admin role: an app without a privileged role of its own cannot change or delete it. */
  privileged: boolean;
}

export interface GroupRecord {
  id: string;
  displayName: string;
  description: string | null;
  mailNickname: string;
  mail: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  groupTypes: string[];
  /** Only `(user.<property> -eq "<value>")` rules are evaluated. */
  membershipRule: string | null;
  membershipRuleProcessingState: string | null;
  visibility: string | null;
  /** Direct members (ignored for dynamic groups, whose members come from the rule). */
  members: string[];
  owners: string[];
  /** Group-based licensing: every member inherits these. */
  assignedLicenses: LicenceRecord[];
  createdDateTime: string;
}

export interface ServicePlanRecord {
  servicePlanId: string;
  servicePlanName: string;
  provisioningStatus: string;
  appliesTo: string;
}

export interface SkuRecord {
  skuId: string;
  skuPartNumber: string;
  appliesTo: string;
  capabilityStatus: string;
  prepaidUnits: { enabled: number; suspended: number; warning: number; lockedOut: number };
  servicePlans: ServicePlanRecord[];
  subscriptionIds: string[];
}

export interface VerifiedDomain {
  name: string;
  isDefault: boolean;
  isInitial: boolean;
}

export interface TenantRecord {
  id: string;
  displayName: string;
  verifiedDomains: VerifiedDomain[];
  /** Graph application permissions the app is consented to here; `null`: no service principal. */
  appRoles: string[] | null;
  appServicePrincipalId: string;
  /** Active and soft-deleted users (`deletedDateTime` set). */
  users: UserRecord[];
  groups: GroupRecord[];
  skus: SkuRecord[];
}

/** Service plans that give a user an Exchange Online mailbox. */
export const EXCHANGE_PLAN_NAMES: ReadonlySet<string> = new Set([
  'EXCHANGE_S_STANDARD',
  'EXCHANGE_S_ENTERPRISE',
  'EXCHANGE_S_DESKLESS',
]);

export const DELETED_RETENTION_DAYS = 30;

export interface EffectiveLicence {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
  /** null for a direct assignment. */
  readonly assignedByGroup: string | null;
}

/** In-memory indexes over a {@link TenantRecord}; the record stays the single source of truth. */
export class Directory {
  constructor(readonly record: TenantRecord) {}

  get id(): string {
    return this.record.id;
  }

  activeUsers(): UserRecord[] {
    return this.record.users.filter((user) => user.deletedDateTime === null);
  }

  deletedUsers(): UserRecord[] {
    return this.record.users.filter((user) => user.deletedDateTime !== null);
  }

  /** An active user by id or UPN (case-insensitive, as Entra compares them). */
  findActiveUser(idOrUpn: string): UserRecord | undefined {
    const key = idOrUpn.toLowerCase();
    return this.activeUsers().find(
      (user) => user.id === key || user.userPrincipalName.toLowerCase() === key,
    );
  }

  findDeletedUser(id: string): UserRecord | undefined {
    return this.deletedUsers().find((user) => user.id === id.toLowerCase());
  }

  findGroup(id: string): GroupRecord | undefined {
    return this.record.groups.find((group) => group.id === id.toLowerCase());
  }

  findSku(skuId: string): SkuRecord | undefined {
    return this.record.skus.find((sku) => sku.skuId === skuId.toLowerCase());
  }

  isDynamic(group: GroupRecord): boolean {
    return group.groupTypes.includes('DynamicMembership');
  }

  /** Mail-enabled security groups and distribution lists are Exchange's; Graph cannot change them. */
  isExchangeManaged(group: GroupRecord): boolean {
    return group.mailEnabled && !group.groupTypes.includes('Unified');
  }

  membersOf(group: GroupRecord): UserRecord[] {
    if (this.isDynamic(group)) {
      const rule = parseRule(group.membershipRule);
      return rule ? this.activeUsers().filter((user) => matchesRule(user, rule)) : [];
    }
    return group.members
      .map((id) => this.findActiveUser(id))
      .filter((user): user is UserRecord => user !== undefined);
  }

  ownersOf(group: GroupRecord): UserRecord[] {
    return group.owners
      .map((id) => this.findActiveUser(id))
      .filter((user): user is UserRecord => user !== undefined);
  }

  groupsWithMember(user: UserRecord): GroupRecord[] {
    return this.record.groups.filter((group) =>
      this.isDynamic(group)
        ? this.membersOf(group).some((member) => member.id === user.id)
        : group.members.includes(user.id),
    );
  }

  groupsWithOwner(user: UserRecord): GroupRecord[] {
    return this.record.groups.filter((group) => group.owners.includes(user.id));
  }

  effectiveLicences(user: UserRecord): EffectiveLicence[] {
    const direct = user.assignedLicenses.map((licence) => ({ ...licence, assignedByGroup: null }));
    const inherited = this.groupsWithMember(user).flatMap((group) =>
      group.assignedLicenses.map((licence) => ({ ...licence, assignedByGroup: group.id })),
    );
    return [...direct, ...inherited];
  }

  /** A user uses one seat of a sku however many ways it was assigned. */
  consumedUnits(sku: SkuRecord): number {
    return this.activeUsers().filter((user) =>
      this.effectiveLicences(user).some((licence) => licence.skuId === sku.skuId),
    ).length;
  }

  hasMailbox(user: UserRecord): boolean {
    return this.effectiveLicences(user).some((licence) => {
      const sku = this.findSku(licence.skuId);
      return sku?.servicePlans.some(
        (plan) =>
          EXCHANGE_PLAN_NAMES.has(plan.servicePlanName) &&
          !licence.disabledPlans.includes(plan.servicePlanId),
      );
    });
  }

  isVerifiedDomain(domain: string): boolean {
    return this.record.verifiedDomains.some(
      (verified) => verified.name.toLowerCase() === domain.toLowerCase(),
    );
  }

  /** Drops soft-deleted users past retention, as Entra purges them after 30 days. */
  purgeExpired(now: Date): void {
    const cutoff = now.getTime() - DELETED_RETENTION_DAYS * 24 * 60 * 60 * 1000;
    const expired = this.record.users.filter(
      (user) => user.deletedDateTime !== null && Date.parse(user.deletedDateTime) < cutoff,
    );
    if (expired.length === 0) return;
    for (const user of expired) this.removeReferencesTo(user.id);
    this.record.users = this.record.users.filter((user) => !expired.includes(user));
  }

  /** A permanently deleted object leaves every group and stops being anyone's manager. */
  removeReferencesTo(userId: string): void {
    for (const group of this.record.groups) {
      group.members = group.members.filter((id) => id !== userId);
      group.owners = group.owners.filter((id) => id !== userId);
    }
    for (const user of this.record.users) if (user.managerId === userId) user.managerId = null;
  }
}

interface MembershipRule {
  readonly property: string;
  readonly value: string;
}

function parseRule(rule: string | null): MembershipRule | undefined {
  const match = /^\(?\s*user\.(\w+)\s+-eq\s+"([^"]*)"\s*\)?$/i.exec(rule ?? '');
  return match ? { property: match[1]!, value: match[2]! } : undefined;
}

function matchesRule(user: UserRecord, rule: MembershipRule): boolean {
  const value = (user as unknown as Record<string, unknown>)[rule.property];
  return typeof value === 'string' && value.toLowerCase() === rule.value.toLowerCase();
}

/** Exchange's format for `dateTimeTimeZone.dateTime`: seven fractional digits, no offset. */
export function exchangeDateTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}.0000000`;
}

/** A new mailbox's auto-reply: off, with Exchange's placeholder window of the next day. */
export function disabledAutoReply(now: Date): AutoReplyRecord {
  const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  return {
    status: 'disabled',
    externalAudience: 'all',
    internalReplyMessage: '',
    externalReplyMessage: '',
    scheduledStartDateTime: { dateTime: exchangeDateTime(hour), timeZone: 'UTC' },
    scheduledEndDateTime: {
      dateTime: exchangeDateTime(new Date(hour.getTime() + 86_400_000)),
      timeZone: 'UTC',
    },
  };
}
