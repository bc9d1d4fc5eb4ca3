import type {
  AutoReply,
  CommandOutcome,
  DirectoryCheck,
  DirectoryCommand,
  DirectoryFailure,
  DirectoryGroup,
  DirectorySku,
  DirectoryUser,
  GroupRelation,
  LicenceAssignment,
} from '../../src/domain/execution/directory';
import type { TenantId } from '../../src/domain/shared/ids';
import {
  DirectoryError,
  type PerformOptions,
  type TenantDirectory,
} from '../../src/application/ports/tenant-directory';

/** A user as the fake keeps it: the directory record plus what Graph would know about them. */
export interface FakeUser {
  readonly id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  usageLocation?: string;
  assignedLicences: LicenceAssignment[];
  managerId?: string;
  /** False for users without an Exchange mailbox (auto-reply reads and writes fail). */
  hasMailbox: boolean;
  autoReply: AutoReply;
  sessionsRevoked: number;
}

export interface FakeGroup extends DirectoryGroup {
  readonly members: Set<string>;
  readonly owners: Set<string>;
  /** Group-based licensing: members inherit these SKUs. */
  readonly licences: readonly string[];
}

export interface FakeSku {
  readonly skuId: string;
  readonly skuPartNumber: string;
  enabledUnits: number;
  capabilityStatus: string;
}

/** One tenant's directory state, readable and writable by tests. */
export class FakeTenant {
  readonly users = new Map<string, FakeUser>();
  readonly deleted = new Map<string, FakeUser>();
  readonly groups = new Map<string, FakeGroup>();
  readonly skus = new Map<string, FakeSku>();
  /** The temporary password each created user got, by user principal name (tests check it reached the directory). */
  readonly passwords = new Map<string, string>();
  private nextId = 1;

  addUser(
    user: Partial<FakeUser> & { readonly userPrincipalName: string; readonly displayName: string },
  ): FakeUser {
    const created: FakeUser = {
      id: user.id ?? `user-${this.nextId++}`,
      accountEnabled: true,
      usageLocation: 'GB',
      assignedLicences: [],
      hasMailbox: true,
      autoReply: NO_AUTO_REPLY,
      sessionsRevoked: 0,
      ...user,
    };
    this.users.set(created.id, created);
    return created;
  }

  addGroup(
    group: Partial<Omit<FakeGroup, 'members' | 'owners'>> & {
      readonly displayName: string;
      readonly members?: readonly string[];
      readonly owners?: readonly string[];
    },
  ): FakeGroup {
    const created: FakeGroup = {
      id: group.id ?? `group-${this.nextId++}`,
      displayName: group.displayName,
      mailEnabled: group.mailEnabled ?? false,
      securityEnabled: group.securityEnabled ?? true,
      groupTypes: group.groupTypes ?? [],
      licences: group.licences ?? [],
      members: new Set(group.members ?? []),
      owners: new Set(group.owners ?? []),
    };
    this.groups.set(created.id, created);
    return created;
  }

  addSku(
    sku: Partial<FakeSku> & { readonly skuPartNumber: string; readonly enabledUnits: number },
  ): FakeSku {
    const created: FakeSku = {
      skuId: sku.skuId ?? `sku-${sku.skuPartNumber.toLowerCase()}`,
      capabilityStatus: 'Enabled',
      ...sku,
    };
    this.skus.set(created.skuId, created);
    return created;
  }

  consumed(skuId: string): number {
    let count = 0;
    for (const u of this.users.values()) {
      const direct = u.assignedLicences.some((l) => l.skuId === skuId);
      const inherited = this.inheritedOf(u.id).some((l) => l.skuId === skuId);
      if (direct || inherited) count += 1;
    }
    return count;
  }

  byUpn(userPrincipalName: string): FakeUser | undefined {
    const wanted = userPrincipalName.toLowerCase();
    return [...this.users.values()].find((u) => u.userPrincipalName.toLowerCase() === wanted);
  }

  inheritedOf(userId: string): { skuId: string; groupId: string }[] {
    return [...this.groups.values()]
      .filter((g) => g.members.has(userId))
      .flatMap((g) => g.licences.map((skuId) => ({ skuId, groupId: g.id })));
  }

  toDirectoryUser(u: FakeUser): DirectoryUser {
    return {
      id: u.id,
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName,
      accountEnabled: u.accountEnabled,
      ...(u.usageLocation ? { usageLocation: u.usageLocation } : {}),
      assignedLicences: structuredClone(u.assignedLicences),
      inheritedLicences: this.inheritedOf(u.id),
      signInSessionsValidFrom: `revocation-${u.sessionsRevoked}`,
    };
  }

  createId(): string {
    return `user-${this.nextId++}`;
  }
}

export const NO_AUTO_REPLY: AutoReply = {
  status: 'disabled',
  externalAudience: 'all',
  internalReplyMessage: '',
  externalReplyMessage: '',
};

/** What an injected fault does to a matching command. */
export type Fault =
  /** Refused, nothing applied. */
  | { readonly kind: 'fail'; readonly failure: DirectoryFailure }
  /** Throttled past the adapter's budget, nothing applied. */
  | { readonly kind: 'throttle'; readonly retryAfterMs: number }
  /** Applied, but the caller never hears back: `perform` rejects (a timeout or a dying process). */
  | { readonly kind: 'lost' };

interface FaultRule {
  readonly match: (command: DirectoryCommand) => boolean;
  readonly fault: Fault;
  remaining: number;
}

/** One `perform` call as the fake saw it. */
export interface PerformCall {
  readonly commands: readonly DirectoryCommand[];
  readonly together: boolean;
}

/**
 * A TenantDirectory over in-memory tenants with Graph's rules (seats, usage location, inherited
 * licences, mail-enabled groups, dynamic groups) and injectable faults, for fast worker tests.
 * @remarks `applied` logs every command that changed state, so tests can assert that each
 * mutation happened exactly once across crashes and retries.
 */
export class InMemoryTenantDirectory implements TenantDirectory {
  readonly tenants = new Map<string, FakeTenant>();
  readonly applied: DirectoryCommand[] = [];
  readonly calls: PerformCall[] = [];
  readonly checks: DirectoryCheck[] = [];
  private readonly faults: FaultRule[] = [];
  private readFaults = 0;
  private readRefusal: DirectoryFailure | undefined;

  tenant(tenantId: TenantId | string): FakeTenant {
    let found = this.tenants.get(tenantId);
    if (!found) {
      found = new FakeTenant();
      this.tenants.set(tenantId, found);
    }
    return found;
  }

  /** Makes the next `times` matching commands meet `fault` (Infinity: every one). */
  inject(match: (command: DirectoryCommand) => boolean, fault: Fault, times = 1): this {
    this.faults.push({ match, fault, remaining: times });
    return this;
  }

  /** Makes the next `times` reads throw a throttled DirectoryError. */
  throttleReads(times: number): this {
    this.readFaults += times;
    return this;
  }

  /** Makes every read throw a DirectoryError with this failure (e.g. the app is not consented). */
  refuseReads(refusal: DirectoryFailure): this {
    this.readRefusal = refusal;
    return this;
  }

  /** How many applied commands of this kind (optionally matching more). */
  count(
    kind: DirectoryCommand['kind'],
    match: (c: DirectoryCommand) => boolean = () => true,
  ): number {
    return this.applied.filter((c) => c.kind === kind && match(c)).length;
  }

  findUser(tenantId: TenantId, userPrincipalNameOrId: string): Promise<DirectoryUser | undefined> {
    return this.read(() => {
      const t = this.tenant(tenantId);
      const u = t.users.get(userPrincipalNameOrId) ?? t.byUpn(userPrincipalNameOrId);
      return u ? t.toDirectoryUser(u) : undefined;
    });
  }

  listGroupsOf(
    tenantId: TenantId,
    userId: string,
    relation: GroupRelation,
  ): Promise<DirectoryGroup[]> {
    return this.read(() =>
      [...this.tenant(tenantId).groups.values()]
        .filter((g) => (relation === 'member' ? g.members : g.owners).has(userId))
        .map(plainGroup),
    );
  }

  findGroups(tenantId: TenantId, displayName: string): Promise<DirectoryGroup[]> {
    return this.read(() =>
      [...this.tenant(tenantId).groups.values()]
        .filter((g) => g.displayName.toLowerCase() === displayName.toLowerCase())
        .map(plainGroup),
    );
  }

  getGroup(tenantId: TenantId, groupId: string): Promise<DirectoryGroup | undefined> {
    return this.read(() => {
      const g = this.tenant(tenantId).groups.get(groupId);
      return g ? plainGroup(g) : undefined;
    });
  }

  listSkus(tenantId: TenantId): Promise<DirectorySku[]> {
    return this.read(() => {
      const t = this.tenant(tenantId);
      return [...t.skus.values()].map((s) => ({
        skuId: s.skuId,
        skuPartNumber: s.skuPartNumber,
        enabledUnits: s.enabledUnits,
        consumedUnits: t.consumed(s.skuId),
        capabilityStatus: s.capabilityStatus,
      }));
    });
  }

  getManager(tenantId: TenantId, userId: string): Promise<DirectoryUser | undefined> {
    return this.read(() => {
      const t = this.tenant(tenantId);
      const managerId = t.users.get(userId)?.managerId;
      const manager = managerId ? t.users.get(managerId) : undefined;
      return manager ? t.toDirectoryUser(manager) : undefined;
    });
  }

  getAutoReply(tenantId: TenantId, userId: string): Promise<AutoReply> {
    return this.read(() => {
      const u = this.tenant(tenantId).users.get(userId);
      if (!u?.hasMailbox)
        throw new DirectoryError(
          failure(
            'not_found',
            'MailboxNotEnabledForRESTAPI',
            'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
            false,
            404,
          ),
        );
      return structuredClone(u.autoReply);
    });
  }

  async perform(
    tenantId: TenantId,
    commands: readonly DirectoryCommand[],
    options: PerformOptions,
  ): Promise<CommandOutcome[]> {
    await Promise.resolve();
    this.calls.push({ commands: structuredClone(commands), together: options.together });
    const outcomes: CommandOutcome[] = [];
    let lost = false;
    for (const command of commands) {
      const rule = this.faults.find((r) => r.remaining > 0 && r.match(command));
      if (rule) rule.remaining -= 1;
      const fault = rule?.fault;
      if (fault?.kind === 'fail') {
        outcomes.push({ ok: false, failure: fault.failure });
        continue;
      }
      if (fault?.kind === 'throttle') {
        outcomes.push({
          ok: false,
          failure: {
            ...failure('throttled', 'TooManyRequests', 'Too many requests.', true, 429),
            retryAfterMs: fault.retryAfterMs,
          },
        });
        continue;
      }
      const outcome = this.apply(this.tenant(tenantId), command, options);
      outcomes.push(outcome);
      if (fault?.kind === 'lost') lost = true;
    }
    if (lost) throw new Error('The connection closed before the response arrived.');
    return outcomes;
  }

  check(tenantId: TenantId, check: DirectoryCheck): Promise<boolean> {
    this.checks.push(check);
    return this.read(() => {
      const t = this.tenant(tenantId);
      switch (check.kind) {
        case 'none':
          return false;
        case 'user.exists':
          return (t.byUpn(check.userPrincipalName) !== undefined) === check.expected;
        case 'user.enabled':
          return t.users.get(check.userId)?.accountEnabled === check.expected;
        case 'user.inGroup': {
          const g = t.groups.get(check.groupId);
          const has = g
            ? (check.relation === 'member' ? g.members : g.owners).has(check.userId)
            : false;
          return has === check.expected;
        }
        case 'user.licences': {
          const u = t.users.get(check.userId);
          if (!u) return false;
          const skus = new Set(u.assignedLicences.map((l) => l.skuId));
          return check.has.every((s) => skus.has(s)) && check.lacks.every((s) => !skus.has(s));
        }
        case 'user.manager':
          return (t.users.get(check.userId)?.managerId ?? null) === check.managerId;
        case 'user.autoReply':
          return t.users.get(check.userId)?.autoReply.status === check.status;
        case 'user.sessionsRevoked': {
          const u = t.users.get(check.userId);
          return u !== undefined && `revocation-${u.sessionsRevoked}` !== check.validFromBefore;
        }
      }
    });
  }

  private read<T>(fn: () => T): Promise<T> {
    if (this.readRefusal) return Promise.reject(new DirectoryError(this.readRefusal));
    if (this.readFaults > 0) {
      this.readFaults -= 1;
      return Promise.reject(
        new DirectoryError({
          ...failure('throttled', 'TooManyRequests', 'Too many requests.', true, 429),
          retryAfterMs: 60_000,
        }),
      );
    }
    try {
      return Promise.resolve(fn());
    } catch (error: unknown) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private apply(t: FakeTenant, command: DirectoryCommand, options: PerformOptions): CommandOutcome {
    const done = (createdUserId?: string): CommandOutcome => {
      this.applied.push(structuredClone(command));
      return {
        ok: true,
        requestId: `req-${this.applied.length}`,
        ...(createdUserId ? { createdUserId } : {}),
      };
    };
    const refuse = (f: DirectoryFailure): CommandOutcome => ({ ok: false, failure: f });
    const notFound = (what: string) =>
      refuse(
        failure(
          'not_found',
          'Request_ResourceNotFound',
          `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
          false,
          404,
        ),
      );
    switch (command.kind) {
      case 'user.create': {
        if (t.byUpn(command.user.userPrincipalName))
          return refuse(
            failure(
              'already_exists',
              'Request_BadRequest',
              'Another object with the same value for property userPrincipalName already exists.',
              false,
              400,
            ),
          );
        const id = t.createId();
        t.addUser({ ...command.user, id });
        if (options.initialPassword)
          t.passwords.set(command.user.userPrincipalName, options.initialPassword.reveal());
        return done(id);
      }
      case 'user.delete':
      case 'user.restore': {
        const from = command.kind === 'user.delete' ? t.users : t.deleted;
        const to = command.kind === 'user.delete' ? t.deleted : t.users;
        const u = from.get(command.userId);
        if (!u) return to.has(command.userId) ? { ok: true } : notFound(command.userId);
        from.delete(command.userId);
        to.set(u.id, u);
        if (command.kind === 'user.delete')
          for (const g of t.groups.values()) {
            g.members.delete(u.id);
            g.owners.delete(u.id);
          }
        return done();
      }
      case 'group.add':
      case 'group.remove': {
        const g = t.groups.get(command.groupId);
        if (!g) return notFound(command.groupId);
        if (!t.users.has(command.userId)) return notFound(command.userId);
        if (g.mailEnabled && !g.groupTypes.includes('Unified'))
          return refuse(
            failure(
              'mail_enabled_group',
              'Request_BadRequest',
              'Cannot Update a mail-enabled security groups and or distribution list.',
              false,
              400,
            ),
          );
        if (g.groupTypes.includes('DynamicMembership'))
          return refuse(
            failure(
              'invalid',
              'Request_BadRequest',
              'Cannot add or remove members of a group with dynamic membership.',
              false,
              400,
            ),
          );
        const set = command.relation === 'member' ? g.members : g.owners;
        const has = set.has(command.userId);
        if (command.kind === 'group.add' ? has : !has) return { ok: true };
        if (command.kind === 'group.add') set.add(command.userId);
        else set.delete(command.userId);
        return done();
      }
      case 'user.update':
      case 'user.revokeSessions':
      case 'user.setAutoReply':
      case 'user.setManager':
      case 'user.removeManager':
      case 'user.assignLicences': {
        const u = t.users.get(command.userId);
        if (!u) return notFound(command.userId);
        return this.applyToUser(t, u, command, done, refuse);
      }
    }
  }

  private applyToUser(
    t: FakeTenant,
    u: FakeUser,
    command: Exclude<
      DirectoryCommand,
      { kind: 'user.create' | 'user.delete' | 'user.restore' | 'group.add' | 'group.remove' }
    >,
    done: () => CommandOutcome,
    refuse: (f: DirectoryFailure) => CommandOutcome,
  ): CommandOutcome {
    switch (command.kind) {
      case 'user.update':
        if (command.changes.accountEnabled !== undefined)
          u.accountEnabled = command.changes.accountEnabled;
        if (command.changes.usageLocation !== undefined)
          u.usageLocation = command.changes.usageLocation;
        return done();
      case 'user.revokeSessions':
        u.sessionsRevoked += 1;
        return done();
      case 'user.setAutoReply':
        if (!u.hasMailbox)
          return refuse(
            failure(
              'not_found',
              'MailboxNotEnabledForRESTAPI',
              'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
              false,
              404,
            ),
          );
        u.autoReply = structuredClone(command.autoReply);
        return done();
      case 'user.setManager':
        if (!t.users.has(command.managerId))
          return refuse(
            failure(
              'not_found',
              'Request_ResourceNotFound',
              `Resource '${command.managerId}' does not exist.`,
              false,
              404,
            ),
          );
        u.managerId = command.managerId;
        return done();
      case 'user.removeManager':
        delete u.managerId;
        return done();
      case 'user.assignLicences': {
        for (const add of command.add) {
          const sku = t.skus.get(add.skuId);
          if (!sku)
            return refuse(
              failure(
                'invalid',
                'Request_BadRequest',
                `License ${add.skuId} does not correspond to a valid company License.`,
                false,
                400,
              ),
            );
          if (!u.usageLocation)
            return refuse(
              failure(
                'no_usage_location',
                'Request_BadRequest',
                'License assignment cannot be done for user with invalid usage location.',
                false,
                400,
              ),
            );
          const already = u.assignedLicences.some((l) => l.skuId === add.skuId);
          if (!already && sku.enabledUnits - t.consumed(add.skuId) <= 0)
            return refuse(
              failure(
                'no_free_seats',
                'Request_BadRequest',
                `Subscription ${add.skuId} does not have any available licenses.`,
                false,
                400,
              ),
            );
        }
        for (const skuId of command.remove) {
          const direct = u.assignedLicences.some((l) => l.skuId === skuId);
          if (!direct && t.inheritedOf(u.id).some((l) => l.skuId === skuId))
            return refuse(
              failure(
                'inherited_licence',
                'Request_BadRequest',
                'User license is inherited from a group membership and it cannot be removed directly from the user.',
                false,
                400,
              ),
            );
        }
        u.assignedLicences = [
          ...u.assignedLicences.filter(
            (l) =>
              !command.remove.includes(l.skuId) && !command.add.some((a) => a.skuId === l.skuId),
          ),
          ...structuredClone(command.add),
        ];
        return done();
      }
    }
  }
}

export function failure(
  reason: DirectoryFailure['reason'],
  code: string,
  message: string,
  retryable: boolean,
  httpStatus?: number,
): DirectoryFailure {
  return { reason, code, message, retryable, ...(httpStatus ? { httpStatus } : {}) };
}

/** A permanent 400 from Graph, for injected failures. */
export function badRequest(message = 'Injected failure.'): Fault {
  return { kind: 'fail', failure: failure('invalid', 'Request_BadRequest', message, false, 400) };
}

function plainGroup(g: FakeGroup): DirectoryGroup {
  return {
    id: g.id,
    displayName: g.displayName,
    mailEnabled: g.mailEnabled,
    securityEnabled: g.securityEnabled,
    groupTypes: [...g.groupTypes],
  };
}
