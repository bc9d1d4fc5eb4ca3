import { Directory, type TenantRecord, type UserRecord } from './directory-state';
import type {
  AppliedMutation,
  FailOptions,
  HeldRequest,
  HoldEnd,
  HoldOptions,
  InspectedGroup,
  InspectedSku,
  InspectedUser,
  LoseResponseOptions,
  RequestMatch,
  SandboxCounters,
  SandboxHold,
  SandboxTenant,
  ThrottleOptions,
} from './types';

/**
 * Where a request hit the cloud: a Graph operation (top-level or inside `$batch`), the `$batch`
 * envelope, or the token endpoint. Knobs without an explicit route or path only apply to operations.
 */
export interface OperationKey {
  readonly surface: 'operation' | 'batch' | 'token';
  readonly method: string;
  readonly path: string;
  /** The route template, e.g. `POST /users`; undefined when no route matched. */
  readonly route: string | undefined;
}

export type InjectedOutcome =
  | {
      readonly kind: 'throttle';
      readonly status: 429 | 503 | 504;
      readonly retryAfterSeconds: number;
      readonly retryAfterFormat: 'seconds' | 'http-date' | 'none';
    }
  | {
      readonly kind: 'fail';
      readonly status: number;
      readonly code: string;
      readonly message: string;
    };

interface Rule<T> {
  remaining: number;
  readonly match: RequestMatch;
  readonly options: T;
}

interface HoldRule {
  remaining: number;
  readonly count: number;
  readonly phase: HoldOptions['phase'];
  readonly match: RequestMatch;
  readonly caught: HeldRequest[];
  readonly ends: HoldEnd[];
  /** Resumes each request this rule holds. */
  readonly waiting: Set<() => void>;
  readonly reached: (held: readonly HeldRequest[]) => void;
  readonly finished: (ends: readonly HoldEnd[]) => void;
}

export interface MutationRecord {
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly viaBatch: boolean;
  readonly status: number;
}

export interface PersistedTenant {
  readonly record: TenantRecord;
  readonly counters: SandboxCounters;
  readonly mutationLog: readonly AppliedMutation[];
}

/** A sandbox tenant: its directory, its knobs and its counters. */
export class SandboxTenantRuntime implements SandboxTenant {
  readonly directory: Directory;
  private latencyMs = 0;
  private throttles: Rule<ThrottleOptions>[] = [];
  private failures: Rule<FailOptions>[] = [];
  private losses: Rule<LoseResponseOptions>[] = [];
  private holds: HoldRule[] = [];
  private count = emptyCounters();
  private log: AppliedMutation[] = [];

  constructor(
    record: TenantRecord,
    private readonly now: () => Date,
    private readonly changed: () => void,
    persisted?: Pick<PersistedTenant, 'counters' | 'mutationLog'>,
  ) {
    this.directory = new Directory(record);
    if (persisted) {
      this.count = { ...persisted.counters, mutations: { ...persisted.counters.mutations } };
      this.log = [...persisted.mutationLog];
    }
  }

  get tenantId(): string {
    return this.directory.record.id;
  }

  get displayName(): string {
    return this.directory.record.displayName;
  }

  get latency(): number {
    return this.latencyMs;
  }

  setLatency(milliseconds: number): void {
    if (!Number.isFinite(milliseconds) || milliseconds < 0)
      throw new RangeError('Latency must be zero or a positive number of milliseconds.');
    this.latencyMs = milliseconds;
  }

  throttle(options: ThrottleOptions): void {
    this.throttles.push({ remaining: options.count, match: options.match ?? {}, options });
  }

  fail(options: FailOptions): void {
    this.failures.push({
      remaining: options.count ?? Number.POSITIVE_INFINITY,
      match: options.match ?? {},
      options,
    });
  }

  loseResponse(options: LoseResponseOptions): void {
    this.losses.push({ remaining: options.count ?? 1, match: options.match ?? {}, options });
  }

  hold(options: HoldOptions): SandboxHold {
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError('A hold must catch a whole number of requests, at least one.');
    let reached!: (held: readonly HeldRequest[]) => void;
    let finished!: (ends: readonly HoldEnd[]) => void;
    const held = new Promise<readonly HeldRequest[]>((resolve) => (reached = resolve));
    const ended = new Promise<readonly HoldEnd[]>((resolve) => (finished = resolve));
    const rule: HoldRule = {
      remaining: count,
      count,
      phase: options.phase,
      match: options.match ?? {},
      caught: [],
      ends: [],
      waiting: new Set(),
      reached,
      finished,
    };
    this.holds.push(rule);
    return { held, ended, release: () => this.releaseHold(rule) };
  }

  reset(): void {
    this.latencyMs = 0;
    this.throttles = [];
    this.failures = [];
    this.losses = [];
    for (const rule of this.holds) this.releaseHold(rule);
  }

  setAppRoles(roles: readonly string[] | undefined): void {
    this.directory.record.appRoles = roles ? [...roles] : null;
    this.changed();
  }

  setPrepaidUnits(skuPartNumber: string, enabled: number): void {
    const sku = this.directory.record.skus.find(
      (candidate) => candidate.skuPartNumber.toLowerCase() === skuPartNumber.toLowerCase(),
    );
    if (!sku) throw new Error(`Tenant ${this.tenantId} has no subscription ${skuPartNumber}.`);
    sku.prepaidUnits.enabled = enabled;
    this.changed();
  }

  counters(): SandboxCounters {
    return { ...this.count, mutations: { ...this.count.mutations } };
  }

  mutationLog(): readonly AppliedMutation[] {
    return [...this.log];
  }

  resetCounters(): void {
    this.count = emptyCounters();
    this.log = [];
    this.changed();
  }

  /** The injected outcome for this request, if a throttle or failure knob claims it. */
  takeInjected(key: OperationKey): InjectedOutcome | undefined {
    const throttle = take(this.throttles, key);
    if (throttle) {
      this.count = { ...this.count, throttled: this.count.throttled + 1 };
      return {
        kind: 'throttle',
        status: throttle.status ?? 429,
        retryAfterSeconds: throttle.retryAfterSeconds ?? 1,
        retryAfterFormat: throttle.retryAfterFormat ?? 'seconds',
      };
    }
    const failure = take(this.failures, key);
    return failure
      ? { kind: 'fail', status: failure.status, code: failure.code, message: failure.message }
      : undefined;
  }

  /**
   * Waits while a hold catches this request at this phase: 'go' once released (or when no hold
   * matches), 'gone' when `closed` (the caller's connection) aborts first.
   */
  async whileHeld(
    key: OperationKey,
    phase: HoldOptions['phase'],
    viaBatch: boolean,
    closed?: AbortSignal,
  ): Promise<'go' | 'gone'> {
    const rule = this.holds.find(
      (candidate) =>
        candidate.phase === phase && candidate.remaining > 0 && matches(candidate.match, key),
    );
    if (!rule) return 'go';
    rule.remaining -= 1;
    rule.caught.push({ method: key.method, path: key.path, route: key.route, viaBatch });
    if (rule.caught.length === rule.count) rule.reached([...rule.caught]);
    const end = (how: HoldEnd) => {
      rule.ends.push(how);
      if (rule.ends.length === rule.count) rule.finished([...rule.ends]);
    };
    if (closed?.aborted) {
      end('caller-gone');
      return 'gone';
    }
    return new Promise((resolve) => {
      const gone = () => {
        rule.waiting.delete(go);
        end('caller-gone');
        resolve('gone');
      };
      const go = () => {
        closed?.removeEventListener('abort', gone);
        end('released');
        resolve('go');
      };
      rule.waiting.add(go);
      closed?.addEventListener('abort', gone, { once: true });
    });
  }

  takeLoss(key: OperationKey): LoseResponseOptions['mode'] | undefined {
    return take(this.losses, key)?.mode;
  }

  countRoundTrip(): void {
    this.count = { ...this.count, roundTrips: this.count.roundTrips + 1 };
  }

  countBatch(size: number): void {
    this.count = {
      ...this.count,
      batchRequests: this.count.batchRequests + 1,
      batchedRequests: this.count.batchedRequests + size,
    };
  }

  countTokenRequest(): void {
    this.count = { ...this.count, tokenRequests: this.count.tokenRequests + 1 };
  }

  /** Records an applied mutation and persists the tenant; returns its log sequence number. */
  recordMutation(mutation: MutationRecord): number {
    const sequence = this.log.length + 1;
    this.log.push({
      sequence,
      ...mutation,
      at: this.now().toISOString(),
      responseLost: false,
    });
    this.count = {
      ...this.count,
      mutations: {
        ...this.count.mutations,
        [mutation.route]: (this.count.mutations[mutation.route] ?? 0) + 1,
      },
    };
    this.changed();
    return sequence;
  }

  private releaseHold(rule: HoldRule): void {
    rule.remaining = 0;
    for (const go of rule.waiting) go();
    rule.waiting.clear();
    this.holds = this.holds.filter((candidate) => candidate !== rule);
  }

  markResponseLost(sequence: number): void {
    const index = this.log.findIndex((entry) => entry.sequence === sequence);
    const entry = this.log[index];
    if (entry) this.log[index] = { ...entry, responseLost: true };
  }

  persisted(): PersistedTenant {
    return { record: this.directory.record, counters: this.counters(), mutationLog: this.log };
  }

  user(userPrincipalNameOrId: string): InspectedUser | undefined {
    this.directory.purgeExpired(this.now());
    const user = this.directory.findActiveUser(userPrincipalNameOrId);
    return user ? this.inspectUser(user) : undefined;
  }

  users(): InspectedUser[] {
    this.directory.purgeExpired(this.now());
    return this.directory.activeUsers().map((user) => this.inspectUser(user));
  }

  group(displayNameOrId: string): InspectedGroup | undefined {
    const key = displayNameOrId.toLowerCase();
    const group = this.directory.record.groups.find(
      (candidate) => candidate.id === key || candidate.displayName.toLowerCase() === key,
    );
    return group ? this.inspectGroup(group.id) : undefined;
  }

  groups(): InspectedGroup[] {
    return this.directory.record.groups.map((group) => this.inspectGroup(group.id));
  }

  skus(): InspectedSku[] {
    return this.directory.record.skus.map((sku) => {
      const consumedUnits = this.directory.consumedUnits(sku);
      return {
        skuId: sku.skuId,
        skuPartNumber: sku.skuPartNumber,
        enabledUnits: sku.prepaidUnits.enabled,
        consumedUnits,
        freeUnits: sku.prepaidUnits.enabled - consumedUnits,
        capabilityStatus: sku.capabilityStatus,
      };
    });
  }

  deletedUsers(): InspectedUser[] {
    this.directory.purgeExpired(this.now());
    return this.directory.deletedUsers().map((user) => this.inspectUser(user));
  }

  private inspectUser(user: UserRecord): InspectedUser {
    const directory = this.directory;
    const reply = user.automaticRepliesSetting;
    return {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      accountEnabled: user.accountEnabled,
      ...(user.usageLocation !== null ? { usageLocation: user.usageLocation } : {}),
      ...(user.jobTitle !== null ? { jobTitle: user.jobTitle } : {}),
      ...(user.department !== null ? { department: user.department } : {}),
      licences: directory.effectiveLicences(user).map((licence) => ({
        skuId: licence.skuId,
        skuPartNumber: directory.findSku(licence.skuId)?.skuPartNumber ?? licence.skuId,
        disabledPlans: [...licence.disabledPlans],
        ...(licence.assignedByGroup !== null ? { assignedByGroup: licence.assignedByGroup } : {}),
      })),
      memberOf: directory.groupsWithMember(user).map((group) => group.id),
      ownerOf: directory.groupsWithOwner(user).map((group) => group.id),
      ...(user.managerId !== null ? { managerId: user.managerId } : {}),
      hasMailbox: directory.hasMailbox(user),
      autoReply: {
        status: reply.status,
        externalAudience: reply.externalAudience,
        internalReplyMessage: reply.internalReplyMessage,
        externalReplyMessage: reply.externalReplyMessage,
        ...(reply.status === 'scheduled'
          ? {
              scheduledStartDateTime: reply.scheduledStartDateTime.dateTime,
              scheduledEndDateTime: reply.scheduledEndDateTime.dateTime,
            }
          : {}),
      },
      ...(user.sessionsRevokedAt !== null ? { sessionsRevokedAt: user.sessionsRevokedAt } : {}),
      ...(user.deletedDateTime !== null ? { deletedDateTime: user.deletedDateTime } : {}),
      createdDateTime: user.createdDateTime,
    };
  }

  private inspectGroup(id: string): InspectedGroup {
    const group = this.directory.findGroup(id)!;
    return {
      id: group.id,
      displayName: group.displayName,
      groupTypes: [...group.groupTypes],
      mailEnabled: group.mailEnabled,
      securityEnabled: group.securityEnabled,
      members: this.directory.membersOf(group).map((user) => user.id),
      owners: this.directory.ownersOf(group).map((user) => user.id),
      licenceSkuIds: group.assignedLicenses.map((licence) => licence.skuId),
    };
  }
}

function emptyCounters(): SandboxCounters {
  return {
    roundTrips: 0,
    batchRequests: 0,
    batchedRequests: 0,
    tokenRequests: 0,
    throttled: 0,
    mutations: {},
  };
}

function take<T>(rules: Rule<T>[], key: OperationKey): T | undefined {
  const rule = rules.find((candidate) => candidate.remaining > 0 && matches(candidate.match, key));
  if (!rule) return undefined;
  rule.remaining -= 1;
  return rule.options;
}

function matches(match: RequestMatch, key: OperationKey): boolean {
  if (key.surface !== 'operation' && match.route === undefined && match.path === undefined)
    return false;
  if (match.method !== undefined && match.method.toUpperCase() !== key.method) return false;
  if (match.route !== undefined && match.route !== key.route) return false;
  if (match.path !== undefined && !match.path.test(key.path)) return false;
  return true;
}
