import { randomBytes, randomUUID } from 'node:crypto';
import {
  chainEvents,
  GENESIS_HASH,
  type StoredAuditEntry,
} from '../../src/domain/audit/audit-chain';
import type { AuditEvent } from '../../src/domain/audit/audit-event';
import type { DataKey } from '../../src/domain/audit/personal-data';
import type { ClientProfile } from '../../src/domain/client/client';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import type { ChangeRequestId, ClientCode, ObjectId, TenantId } from '../../src/domain/shared/ids';
import type { JsonObject } from '../../src/domain/shared/json';
import { openEntryPersonalData, sealEvents } from '../../src/application/audit/seal-events';
import type { AuditHead, AuditLog, ReadAuditOptions } from '../../src/application/ports/audit-log';
import type {
  ChangeRequestStore,
  ChangeRequestWrite,
  ListChangeRequestsOptions,
  Receipt,
  StoredChangeRequest,
} from '../../src/application/ports/change-request-store';
import type {
  ClientDirectory,
  StoredClientProfile,
} from '../../src/application/ports/client-directory';
import type {
  ConversationStore,
  SavedConversation,
  StoredConversation,
} from '../../src/application/ports/conversation-store';
import type { DataKeyring } from '../../src/application/ports/data-keyring';
import type { DelegationStore } from '../../src/application/ports/delegation-store';
import { isInForce, type Delegation } from '../../src/domain/approval/delegation.policy';
import { ConcurrencyError, ConflictError } from '../../src/application/ports/errors';
import {
  isNotificationRow,
  type ClaimOutboxOptions,
  type OutboxMessage,
  type OutboxRow,
  type OutboxStatus,
  type OutboxStore,
  type Recipient,
} from '../../src/application/ports/outbox';
import type { Clock } from '../../src/application/ports/clock';
import {
  PasswordUnreadableError,
  type ExecutionStore,
  type ExecutionWrite,
  type PasswordVault,
  type SavedExecution,
  type StoredRun,
} from '../../src/application/ports/execution-store';
import { parseRunId, type RunId } from '../../src/domain/execution/execution-run';
import type { Secret } from '../../src/domain/shared/secret';
import {
  openPassword,
  sealPassword,
  type SealedPassword,
} from '../../src/adapters/crypto/password-seal';
import {
  InMemoryTemplateCatalogue,
  InMemoryTemplateCatalogueRows,
} from './in-memory-template-catalogue';
import { assertExecutionWrite, encodeRun } from '../../src/adapters/storage/run-record';
import { requestOutbox } from '../../src/application/ports/request-outbox';
import { InMemoryOpenRequestIndex } from './in-memory-open-request-index';

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  constructor(private current = new Date('2026-11-23T09:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

const etag = () => `W/"${randomUUID()}"`;

export class InMemoryDataKeyring implements DataKeyring {
  private readonly keys = new Map<string, DataKey>();
  current(tenantId: TenantId): Promise<DataKey> {
    let key = this.keys.get(tenantId);
    if (!key) {
      key = { kid: randomUUID(), key: randomBytes(32) };
      this.keys.set(tenantId, key);
    }
    return Promise.resolve(key);
  }
  find(tenantId: TenantId, kid: string): Promise<DataKey | undefined> {
    const key = this.keys.get(tenantId);
    return Promise.resolve(key?.kid === kid ? key : undefined);
  }
  destroy(tenantId: TenantId): Promise<void> {
    this.keys.delete(tenantId);
    return Promise.resolve();
  }
}

/**
 * All client-owned data of the fakes, one "partition" per tenant, committed atomically like an
 * entity-group transaction: request, audit entries and outbox rows land together or not at all.
 */
export class InMemoryPartitions {
  readonly requests = new Map<string, Map<number, StoredChangeRequest>>();
  readonly counters = new Map<string, number>();
  readonly audit = new Map<string, StoredAuditEntry[]>();
  readonly outbox = new Map<string, OutboxRow[]>();
  readonly profiles = new Map<string, StoredClientProfile>();
  /** Runs by tenant, then run id. */
  readonly runs = new Map<string, Map<string, StoredRun>>();
  /** Kept temporary passwords by tenant, then run id: sealed, never in clear. */
  readonly passwords = new Map<string, Map<string, KeptPassword>>();
  /** Delegations by tenant, then id. */
  readonly delegations = new Map<string, Map<string, Delegation>>();
  /** Receipts (webhook deliveries, idempotency records) by tenant, then `kind:id`. */
  readonly receipts = new Map<string, Map<string, StoredReceipt>>();
  /** Set to make the next commit fail as if storage were down. */
  failNextCommit: Error | undefined;

  constructor(
    readonly keyring: DataKeyring,
    readonly clock: Clock,
  ) {}

  /**
   * `apply` runs after the events are sealed and checks its own preconditions there (as the real
   * transaction does): if it throws, nothing is written. Returns the entries this commit chained.
   */
  async commit(
    tenantId: TenantId,
    events: readonly AuditEvent[],
    outbox: readonly OutboxMessage[],
    apply: () => void,
  ): Promise<StoredAuditEntry[]> {
    const chainable = await sealEvents(tenantId, events, this.keyring);
    if (this.failNextCommit) {
      const error = this.failNextCommit;
      this.failNextCommit = undefined;
      throw error;
    }
    apply();
    const chain = this.audit.get(tenantId) ?? [];
    const last = chain.at(-1);
    const now = this.clock.now().toISOString();
    const entries = chainEvents(
      tenantId,
      last ? { seq: last.seq, hash: last.hash } : undefined,
      chainable,
      now,
    );
    chain.push(...entries);
    this.audit.set(tenantId, chain);
    const rows = this.outbox.get(tenantId) ?? [];
    for (const message of outbox) {
      rows.push({
        tenantId,
        id: randomUUID(),
        message,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        etag: etag(),
      });
    }
    this.outbox.set(tenantId, rows);
    return entries;
  }
}

/** A receipt row as the fake keeps it. */
export interface StoredReceipt {
  readonly data: JsonObject;
  readonly etag: string;
}

/**
 * Checks every receipt of a write against the rows (inserts must find none, replaces their ETag),
 * then returns the writer to call once every other check of the commit passed: all or nothing.
 */
export function checkReceipts(
  data: InMemoryPartitions,
  tenantId: TenantId,
  receipts: readonly Receipt[] = [],
): () => void {
  const rows = data.receipts.get(tenantId) ?? new Map<string, StoredReceipt>();
  for (const receipt of receipts) {
    const current = rows.get(`${receipt.kind}:${receipt.id}`);
    if (receipt.etag === undefined && current)
      throw new ConflictError(`The ${receipt.kind} receipt ${receipt.id} already exists.`);
    if (receipt.etag !== undefined && current?.etag !== receipt.etag) throw new ConcurrencyError();
  }
  return () => {
    for (const receipt of receipts)
      rows.set(`${receipt.kind}:${receipt.id}`, {
        data: structuredClone(receipt.data),
        etag: etag(),
      });
    data.receipts.set(tenantId, rows);
  };
}

/** Another commit took the number a create was built with; the create builds again with the next one. */
class NumberTaken extends Error {}

export class InMemoryChangeRequestStore implements ChangeRequestStore {
  constructor(private readonly data: InMemoryPartitions) {}

  get(tenantId: TenantId, id: ChangeRequestId): Promise<StoredChangeRequest | undefined> {
    const found = [...(this.data.requests.get(tenantId)?.values() ?? [])].find(
      (s) => s.request.id === id,
    );
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  list(tenantId: TenantId, options: ListChangeRequestsOptions = {}): Promise<ChangeRequest[]> {
    const all = [...(this.data.requests.get(tenantId)?.values() ?? [])]
      .map((s) => s.request)
      .filter((r) => !options.statuses || options.statuses.includes(r.status))
      .sort((a, b) => b.number - a.number);
    return Promise.resolve(structuredClone(all.slice(0, options.limit ?? 50)));
  }

  async create(
    tenantId: TenantId,
    build: (number: number) => ChangeRequestWrite,
  ): Promise<StoredChangeRequest> {
    for (;;) {
      const number = (this.data.counters.get(tenantId) ?? 0) + 1;
      const write = build(number);
      const stored = { request: structuredClone(write.request), etag: etag() };
      try {
        await this.data.commit(
          tenantId,
          write.audit,
          requestOutbox(write.request, write.audit, write.outbox),
          () => {
            if ((this.data.counters.get(tenantId) ?? 0) !== number - 1) throw new NumberTaken();
            const writeReceipts = checkReceipts(this.data, tenantId, write.receipts);
            this.data.counters.set(tenantId, number);
            writeReceipts();
            const map = this.data.requests.get(tenantId) ?? new Map<number, StoredChangeRequest>();
            map.set(number, stored);
            this.data.requests.set(tenantId, map);
          },
        );
        return structuredClone(stored);
      } catch (error) {
        if (!(error instanceof NumberTaken)) throw error;
      }
    }
  }

  async update(
    tenantId: TenantId,
    expectedEtag: string,
    write: ChangeRequestWrite,
  ): Promise<StoredChangeRequest> {
    const stored = { request: structuredClone(write.request), etag: etag() };
    await this.data.commit(
      tenantId,
      write.audit,
      requestOutbox(write.request, write.audit, write.outbox),
      () => {
        const map = this.data.requests.get(tenantId);
        const current = map?.get(write.request.number);
        if (!map || !current || current.etag !== expectedEtag) throw new ConcurrencyError();
        checkReceipts(this.data, tenantId, write.receipts)();
        map.set(write.request.number, stored);
      },
    );
    return structuredClone(stored);
  }
}

export class InMemoryAuditLog implements AuditLog {
  constructor(private readonly data: InMemoryPartitions) {}

  async append(tenantId: TenantId, events: readonly AuditEvent[]): Promise<AuditHead> {
    const last = (await this.data.commit(tenantId, events, [], () => undefined)).at(-1);
    if (last) return { seq: last.seq, hash: last.hash };
    return (await this.head(tenantId)) ?? { seq: 0, hash: GENESIS_HASH };
  }

  head(tenantId: TenantId): Promise<AuditHead | undefined> {
    const last = this.data.audit.get(tenantId)?.at(-1);
    return Promise.resolve(last ? { seq: last.seq, hash: last.hash } : undefined);
  }

  read(tenantId: TenantId, options: ReadAuditOptions = {}): Promise<StoredAuditEntry[]> {
    const from = options.fromSeq ?? 1;
    const entries = (this.data.audit.get(tenantId) ?? []).filter((e) => e.seq >= from);
    return Promise.resolve(
      entries.slice(0, options.limit ?? entries.length).map((e) => ({ ...e })),
    );
  }

  openPersonal(tenantId: TenantId, entry: StoredAuditEntry): Promise<JsonObject | undefined> {
    return openEntryPersonalData(tenantId, entry, this.data.keyring);
  }
}

export class InMemoryClientDirectory implements ClientDirectory {
  constructor(private readonly data: InMemoryPartitions) {}

  get(tenantId: TenantId): Promise<StoredClientProfile | undefined> {
    const found = this.data.profiles.get(tenantId);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  getByCode(code: ClientCode): Promise<StoredClientProfile | undefined> {
    const found = [...this.data.profiles.values()].find((p) => p.profile.code === code);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  list(): Promise<ClientProfile[]> {
    return Promise.resolve(
      [...this.data.profiles.values()]
        .map((p) => structuredClone(p.profile))
        .sort((a, b) => a.code.localeCompare(b.code)),
    );
  }

  async forStaff(mspTenantId: TenantId, oid: ObjectId): Promise<ClientProfile[]> {
    const all = await this.list();
    return all.filter((p) =>
      [...p.techs, ...p.leads].some((s) => s.tid === mspTenantId && s.oid === oid),
    );
  }

  async create(profile: ClientProfile, audit: readonly AuditEvent[]): Promise<StoredClientProfile> {
    const stored = { profile: structuredClone(profile), etag: etag() };
    await this.data.commit(profile.tenantId, audit, [], () => {
      if (this.data.profiles.has(profile.tenantId))
        throw new ConflictError(`Tenant ${profile.tenantId} is already a client.`);
      this.assertCodeFree(profile);
      this.data.profiles.set(profile.tenantId, stored);
    });
    return structuredClone(stored);
  }

  async update(
    profile: ClientProfile,
    expectedEtag: string,
    audit: readonly AuditEvent[],
  ): Promise<StoredClientProfile> {
    const stored = { profile: structuredClone(profile), etag: etag() };
    await this.data.commit(profile.tenantId, audit, [], () => {
      const current = this.data.profiles.get(profile.tenantId);
      if (!current || current.etag !== expectedEtag) throw new ConcurrencyError();
      this.assertCodeFree(profile);
      this.data.profiles.set(profile.tenantId, stored);
    });
    return structuredClone(stored);
  }

  private assertCodeFree(profile: ClientProfile): void {
    if (
      [...this.data.profiles.values()].some(
        (p) => p.profile.code === profile.code && p.profile.tenantId !== profile.tenantId,
      )
    ) {
      throw new ConflictError(`Client code ${profile.code} is already taken.`);
    }
  }
}

export class InMemoryOutboxStore implements OutboxStore {
  constructor(private readonly data: InMemoryPartitions) {}

  private rows(tenantId: TenantId): OutboxRow[] {
    return this.data.outbox.get(tenantId) ?? [];
  }

  /** ETag-guarded patch; `release` also drops the lease, so the row's own schedule decides when it is due. */
  private replace(row: OutboxRow, patch: Partial<OutboxRow>, release = false): boolean {
    const rows = this.rows(row.tenantId);
    const index = rows.findIndex((r) => r.id === row.id);
    if (index < 0 || rows[index]!.etag !== row.etag) return false;
    const { leaseUntil, ...rest } = rows[index]!;
    rows[index] = {
      ...rest,
      ...(release || !leaseUntil ? {} : { leaseUntil }),
      ...patch,
      etag: etag(),
    };
    return true;
  }

  claimDue(tenantId: TenantId, now: Date, options: ClaimOutboxOptions = {}): Promise<OutboxRow[]> {
    const at = now.toISOString();
    const leaseUntil = new Date(now.getTime() + (options.leaseMs ?? 30_000)).toISOString();
    const due = this.rows(tenantId)
      .filter(
        (r) =>
          r.status === 'pending' && r.nextAttemptAt <= at && (!r.leaseUntil || r.leaseUntil <= at),
      )
      .slice(0, options.limit ?? 20);
    const claimed: OutboxRow[] = [];
    for (const row of due) {
      if (this.replace(row, { leaseUntil, claims: (row.claims ?? 0) + 1 }))
        claimed.push(structuredClone(this.rows(tenantId).find((r) => r.id === row.id)!));
    }
    return Promise.resolve(claimed);
  }

  complete(row: OutboxRow): Promise<void> {
    if (!this.replace(row, { status: 'done' }))
      return Promise.reject(new ConcurrencyError('Outbox row was claimed by another relay.'));
    return Promise.resolve();
  }

  fail(
    row: OutboxRow,
    update: { readonly error: string; readonly nextAttemptAt?: Date; readonly park: boolean },
  ): Promise<void> {
    const patch: Partial<OutboxRow> = {
      attempts: row.attempts + 1,
      lastError: update.error,
      status: update.park ? 'parked' : 'pending',
      ...(update.nextAttemptAt ? { nextAttemptAt: update.nextAttemptAt.toISOString() } : {}),
    };
    if (!this.replace(row, patch, true))
      return Promise.reject(new ConcurrencyError('Outbox row was claimed by another relay.'));
    return Promise.resolve();
  }

  reschedule(
    row: OutboxRow,
    at: Date,
    _now: Date,
    options: { readonly untouched?: boolean } = {},
  ): Promise<void> {
    const patch = {
      status: 'pending' as const,
      nextAttemptAt: at.toISOString(),
      reschedules: (row.reschedules ?? 0) + 1,
      ...(options.untouched ? { claims: Math.max(0, (row.claims ?? 0) - 1) } : {}),
    };
    if (!this.replace(row, patch, true))
      return Promise.reject(new ConcurrencyError('Outbox row was claimed by another relay.'));
    return Promise.resolve();
  }

  renewLease(row: OutboxRow, now: Date, leaseMs: number): Promise<OutboxRow | undefined> {
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    if (!this.replace(row, { leaseUntil })) return Promise.resolve(undefined);
    return Promise.resolve(structuredClone(this.rows(row.tenantId).find((r) => r.id === row.id)));
  }

  waitForRecipient(row: OutboxRow): Promise<void> {
    if (!this.replace(row, { status: 'waiting_for_recipient' }, true)) {
      return Promise.reject(new ConcurrencyError('Outbox row was claimed by another relay.'));
    }
    return Promise.resolve();
  }

  releaseWaiting(tenantId: TenantId, recipient: Recipient, now: Date): Promise<number> {
    let released = 0;
    for (const row of [...this.rows(tenantId)]) {
      if (
        row.status === 'waiting_for_recipient' &&
        isNotificationRow(row) &&
        row.message.recipient.tid === recipient.tid &&
        row.message.recipient.oid === recipient.oid
      ) {
        if (this.replace(row, { status: 'pending', nextAttemptAt: now.toISOString() }, true))
          released += 1;
      }
    }
    return Promise.resolve(released);
  }

  list(
    tenantId: TenantId,
    options: { readonly statuses?: readonly OutboxStatus[] } = {},
  ): Promise<OutboxRow[]> {
    return Promise.resolve(
      structuredClone(
        this.rows(tenantId).filter((r) => !options.statuses || options.statuses.includes(r.status)),
      ),
    );
  }

  retry(tenantId: TenantId, id: string, now: Date): Promise<boolean> {
    const row = this.rows(tenantId).find((r) => r.id === id);
    if (!row || row.status === 'done') return Promise.resolve(false);
    return Promise.resolve(
      this.replace(
        row,
        { status: 'pending', attempts: 0, reschedules: 0, nextAttemptAt: now.toISOString() },
        true,
      ),
    );
  }
}

export class InMemoryConversationStore implements ConversationStore {
  private readonly conversations = new Map<string, StoredConversation>();
  private readonly cards = new Map<string, string>();

  get(tid: TenantId, oid: ObjectId): Promise<StoredConversation | undefined> {
    const found = this.conversations.get(`${tid}|${oid}`);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  save(conversation: StoredConversation): Promise<SavedConversation> {
    const key = `${conversation.tid}|${conversation.oid}`;
    const existing = this.conversations.get(key);
    this.conversations.set(key, {
      ...structuredClone(conversation),
      ...(existing?.welcomedAt ? { welcomedAt: existing.welcomedAt } : {}),
      stale: false,
    });
    return Promise.resolve({ created: !existing, welcomed: existing?.welcomedAt !== undefined });
  }

  markWelcomed(tid: TenantId, oid: ObjectId, at: string): Promise<boolean> {
    const existing = this.conversations.get(`${tid}|${oid}`);
    if (!existing || existing.welcomedAt) return Promise.resolve(false);
    this.conversations.set(`${tid}|${oid}`, { ...existing, welcomedAt: at });
    return Promise.resolve(true);
  }

  markStale(tid: TenantId, oid: ObjectId): Promise<void> {
    const existing = this.conversations.get(`${tid}|${oid}`);
    if (existing) this.conversations.set(`${tid}|${oid}`, { ...existing, stale: true });
    return Promise.resolve();
  }

  getCardActivity(tid: TenantId, oid: ObjectId, cardKey: string): Promise<string | undefined> {
    return Promise.resolve(this.cards.get(`${tid}|${oid}|${cardKey}`));
  }

  saveCardActivity(
    tid: TenantId,
    oid: ObjectId,
    cardKey: string,
    activityId: string,
  ): Promise<void> {
    this.cards.set(`${tid}|${oid}|${cardKey}`, activityId);
    return Promise.resolve();
  }

  reachable(
    people: readonly { readonly tid: TenantId; readonly oid: ObjectId }[],
  ): Promise<ReadonlySet<string>> {
    const live = people.filter((p) => {
      const c = this.conversations.get(`${p.tid}|${p.oid}`);
      return c !== undefined && !c.stale;
    });
    return Promise.resolve(new Set(live.map((p) => `${p.tid}|${p.oid}`)));
  }
}

/** A kept password as the fake holds it: ciphertext under the client's data key, with its expiry. */
export interface KeptPassword {
  readonly sealed: SealedPassword;
  readonly expiresAt: string;
}

/**
 * Runs beside their requests, saved with the request, audit entries and outbox rows in one commit,
 * under the same ETag rules, validation and size limit as the Table store.
 */
export class InMemoryExecutionStore implements ExecutionStore {
  constructor(private readonly data: InMemoryPartitions) {}

  get(tenantId: TenantId, runId: RunId): Promise<StoredRun | undefined> {
    if (!parseRunId(runId)) return Promise.resolve(undefined);
    const found = this.data.runs.get(tenantId)?.get(runId);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  listForRequest(tenantId: TenantId, requestNumber: number): Promise<StoredRun[]> {
    const found = [...(this.data.runs.get(tenantId)?.values() ?? [])]
      .map((stored) => ({ stored, id: parseRunId(stored.run.id)! }))
      .filter(({ id }) => id.requestNumber === requestNumber)
      .sort((a, b) => a.id.runNumber - b.id.runNumber)
      .map(({ stored }) => stored);
    return Promise.resolve(structuredClone(found));
  }

  async save(tenantId: TenantId, write: ExecutionWrite): Promise<SavedExecution> {
    const { requestNumber } = assertExecutionWrite(tenantId, write);
    await encodeRun(write.run);
    const run: StoredRun = { run: structuredClone(write.run), etag: etag() };
    const request = write.request
      ? { request: structuredClone(write.request.next), etag: etag() }
      : undefined;
    const outbox = write.request
      ? requestOutbox(write.request.next, write.audit, write.outbox)
      : write.outbox;
    await this.data.commit(tenantId, write.audit, outbox, () => {
      const runs = this.data.runs.get(tenantId) ?? new Map<string, StoredRun>();
      const current = runs.get(write.run.id);
      if (write.runEtag === undefined) {
        if (current) throw new ConflictError(`Run ${write.run.id} already exists.`);
      } else if (current?.etag !== write.runEtag) throw new ConcurrencyError();
      const requests = this.data.requests.get(tenantId);
      if (write.request && requests?.get(requestNumber)?.etag !== write.request.etag)
        throw new ConcurrencyError();
      runs.set(write.run.id, run);
      this.data.runs.set(tenantId, runs);
      if (request) requests!.set(requestNumber, request);
    });
    return {
      run: structuredClone(run),
      ...(request ? { requestEtag: request.etag } : {}),
    };
  }
}

/**
 * Temporary passwords sealed with the fake keyring's data key (so destroying the key makes them
 * unreadable, as in the Table vault); `take` removes before it opens, so one caller wins.
 */
export class InMemoryPasswordVault implements PasswordVault {
  constructor(private readonly data: InMemoryPartitions) {}

  private kept(tenantId: TenantId): Map<string, KeptPassword> {
    let map = this.data.passwords.get(tenantId);
    if (!map) {
      map = new Map();
      this.data.passwords.set(tenantId, map);
    }
    return map;
  }

  async keep(tenantId: TenantId, runId: RunId, password: Secret, expiresAt: Date): Promise<Secret> {
    if (!parseRunId(runId))
      throw new Error(`Refusing to keep a password for invalid run id ${runId}.`);
    const key = await this.data.keyring.current(tenantId);
    const existing = this.kept(tenantId).get(runId);
    if (existing) {
      const secret = await this.open(tenantId, runId, existing);
      if (!secret) throw new PasswordUnreadableError(runId);
      return secret;
    }
    this.kept(tenantId).set(runId, {
      sealed: sealPassword(password, key, tenantId, runId),
      expiresAt: expiresAt.toISOString(),
    });
    return password;
  }

  async available(tenantId: TenantId, runId: RunId, now: Date): Promise<boolean> {
    const kept = this.data.passwords.get(tenantId)?.get(runId);
    if (!kept || now.toISOString() >= kept.expiresAt) return false;
    return (await this.data.keyring.find(tenantId, kept.sealed.kid)) !== undefined;
  }

  async take(tenantId: TenantId, runId: RunId, now: Date): Promise<Secret | 'expired' | undefined> {
    const map = this.data.passwords.get(tenantId);
    const kept = map?.get(runId);
    if (!map || !kept) return undefined;
    map.delete(runId);
    if (now.toISOString() >= kept.expiresAt) return 'expired';
    return (await this.open(tenantId, runId, kept)) ?? 'expired';
  }

  discard(tenantId: TenantId, runId: RunId): Promise<void> {
    this.data.passwords.get(tenantId)?.delete(runId);
    return Promise.resolve();
  }

  private async open(
    tenantId: TenantId,
    runId: RunId,
    kept: KeptPassword,
  ): Promise<Secret | undefined> {
    const key = await this.data.keyring.find(tenantId, kept.sealed.kid);
    return key ? openPassword(kept.sealed, key, tenantId, runId) : undefined;
  }
}

export class InMemoryDelegationStore implements DelegationStore {
  constructor(private readonly data: InMemoryPartitions) {}

  list(clientTenantId: TenantId): Promise<Delegation[]> {
    return Promise.resolve(
      structuredClone([...(this.data.delegations.get(clientTenantId)?.values() ?? [])]),
    );
  }

  async inForce(clientTenantId: TenantId, now: string): Promise<Delegation[]> {
    return (await this.list(clientTenantId)).filter((d) => isInForce(d, now));
  }

  async create(delegation: Delegation, audit: readonly AuditEvent[]): Promise<Delegation> {
    const tenantId = delegation.clientTenantId;
    await this.data.commit(tenantId, audit, [], () => {
      const map = this.data.delegations.get(tenantId) ?? new Map<string, Delegation>();
      if (map.has(delegation.id))
        throw new ConflictError(`Delegation ${delegation.id} already exists.`);
      map.set(delegation.id, structuredClone(delegation));
      this.data.delegations.set(tenantId, map);
    });
    return structuredClone(delegation);
  }

  async revoke(
    clientTenantId: TenantId,
    id: string,
    at: string,
    audit: readonly AuditEvent[],
  ): Promise<Delegation | undefined> {
    const current = this.data.delegations.get(clientTenantId)?.get(id);
    if (!current) return undefined;
    const revoked = { ...current, revokedAt: at };
    await this.data.commit(clientTenantId, audit, [], () => {
      this.data.delegations.get(clientTenantId)?.set(id, structuredClone(revoked));
    });
    return revoked;
  }
}

/** Everything a use case needs, in memory, sharing one set of partitions. */
export function createInMemoryStorage(clock: Clock = new FakeClock()) {
  const keyring = new InMemoryDataKeyring();
  const data = new InMemoryPartitions(keyring, clock);
  const catalogueRows = new InMemoryTemplateCatalogueRows();
  return {
    clock,
    keyring,
    data,
    requests: new InMemoryChangeRequestStore(data),
    audit: new InMemoryAuditLog(data),
    clients: new InMemoryClientDirectory(data),
    outbox: new InMemoryOutboxStore(data),
    conversations: new InMemoryConversationStore(),
    runs: new InMemoryExecutionStore(data),
    passwords: new InMemoryPasswordVault(data),
    delegations: new InMemoryDelegationStore(data),
    catalogue: (mspTenantId: TenantId) =>
      new InMemoryTemplateCatalogue(data, catalogueRows, mspTenantId),
    openRequests: new InMemoryOpenRequestIndex(),
  };
}
