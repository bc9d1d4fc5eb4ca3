import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TableClient } from '@azure/data-tables';
import type { AuditHead } from '../../application/ports/audit-log';
import type { Clock } from '../../application/ports/clock';
import {
  ConcurrencyError,
  ConflictError,
  StorageUnavailableError,
} from '../../application/ports/errors';
import type { OutboxMessage } from '../../application/ports/outbox';
import {
  chainEvents,
  GENESIS_HASH,
  type ChainableEvent,
  type StoredAuditEntry,
} from '../../domain/audit/audit-chain';
import type { TenantId } from '../../domain/shared/ids';
import {
  EntityGroupError,
  estimateActionBytes,
  failedActionIndex,
  MAX_GROUP_BYTES,
  MAX_GROUP_ENTITIES,
  submitEntityGroup,
  type EntityAction,
  type Row,
} from './entity-group';
import { readRow } from './table-connection';
import {
  entryEntity,
  headEntity,
  MAX_ENTRY_CHARS,
  outboxEntity,
  readHead,
  type ReadRow,
} from './table-entity.mapper';
import { classifyStorageError, toPortError } from './table-errors';
import { entryRowKey, RowKeys, tenantKey } from './table-keys';

/**
 * What the caller gets when one of its own rows is what conflicted: `concurrency` (its ETag was
 * stale → ConcurrencyError), `conflict` (its insert found a row → ConflictError), or `rebuild` (the
 * row moved under a value the plan derived, e.g. the request counter: build the plan again).
 */
export type ConflictOutcome = 'concurrency' | 'conflict' | 'rebuild';

/** A write to one of the caller's rows in the tenant partition. Updates replace the whole row under `If-Match`. */
export type RowOp =
  | {
      readonly kind: 'create';
      readonly entity: Row;
      readonly onConflict: ConflictOutcome;
      readonly conflictMessage?: string;
    }
  | {
      readonly kind: 'update';
      readonly entity: Row;
      readonly etag: string;
      readonly onConflict: ConflictOutcome;
    };

/** Everything one commit writes atomically in a client's partition. */
export interface CommitPlan {
  readonly ops: readonly RowOp[];
  /** Sealed events, chained after the current head in this order. */
  readonly events: readonly ChainableEvent[];
  readonly outbox: readonly OutboxMessage[];
}

/** What a settled commit hands back to its caller. */
export interface CommitResult {
  /** The new ETag of each of the commit's own rows, by RowKey. */
  readonly etags: ReadonlyMap<string, string>;
  /** The chain head after this commit's last event; for a commit without events, the head it was written beside. */
  readonly head: AuditHead | undefined;
}

/** Retry budget for a contended chain head; the defaults suit 4 instances hammering one tenant. */
export interface PartitionCommitterOptions {
  /** Total time a commit may spend retrying a moving head. */
  readonly budgetMs?: number;
  readonly maxAttempts?: number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
}

/** Counters for benchmarks and diagnostics. */
export interface CommitterStats {
  transactions: number;
  entries: number;
  headConflicts: number;
}

interface Member {
  readonly build: () => Promise<CommitPlan>;
  plan: CommitPlan | undefined;
  readonly resolve: (result: CommitResult) => void;
  readonly reject: (error: unknown) => void;
}

/** The head a transaction is built on: `etag` undefined means the chain has no head row yet. */
interface KnownHead {
  readonly head: AuditHead | undefined;
  readonly etag: string | undefined;
}

interface Lane {
  readonly tenantId: TenantId;
  readonly queue: Member[];
  draining: boolean;
  known: KnownHead | undefined;
}

type Owner =
  | { readonly kind: 'head' | 'entry' | 'outbox' }
  | { readonly kind: 'op'; readonly member: Member; readonly op: RowOp };

interface Batch {
  readonly actions: EntityAction[];
  readonly owners: Owner[];
  readonly entries: StoredAuditEntry[];
  readonly known: KnownHead;
  readonly newHead: AuditHead | undefined;
  readonly memberHeads: Map<Member, AuditHead>;
  readonly firstOutboxRowKey: string | undefined;
}

interface Load {
  entities: number;
  bytes: number;
  readonly rowKeys: Set<string>;
}

/** Chained entries carry tenantId, seq, prev and ts on top of the event (generous). */
const ENTRY_OVERHEAD_CHARS = 250;
/** Escaping `c` inside the entity JSON and the `h`/`prev` properties, generously. */
const ENTRY_BYTES_FACTOR = 1.25;
const ENTRY_EXTRA_BYTES = 400;
/** Room left under the 4 MiB limit for estimation error. */
const GROUP_BYTES_BUDGET = MAX_GROUP_BYTES - 512 * 1024;
/** A superseded row's ETag: never matches, so the caller's next save re-reads instead of overwriting. */
const SUPERSEDED_ETAG = 'W/"superseded"';

/**
 * Writes commits to a client's partition as entity-group transactions that extend the audit chain
 * (reliability-security.md §1.3). Per tenant and process, commits queue while one transaction is in
 * flight; the next transaction takes as many as fit (group commit), chaining all their events in order.
 * @remarks Linearisation: entries are insert-only at `e_{seq}` and the head row `h` is replaced under
 * `If-Match` in the same transaction, so two writers can never both extend the chain from one head.
 * A lost race (409/412 on the head or an entry) re-reads the head and retries with jittered backoff;
 * a stale ETag on a caller's own row fails only that caller, with nothing written.
 */
export class PartitionCommitter {
  private readonly lanes = new Map<TenantId, Lane>();
  private readonly budgetMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  readonly stats: CommitterStats = { transactions: 0, entries: 0, headConflicts: 0 };

  /**
   * @param transactions - the client data table, opened without SDK retries so the first outcome of a
   * transaction is the one seen; `reads` - the same table with SDK retries, for point reads.
   */
  constructor(
    private readonly transactions: TableClient,
    private readonly reads: TableClient,
    private readonly clock: Clock,
    options: PartitionCommitterOptions = {},
  ) {
    this.budgetMs = options.budgetMs ?? 20_000;
    this.maxAttempts = options.maxAttempts ?? 200;
    this.backoffBaseMs = options.backoffBaseMs ?? 5;
    this.backoffCapMs = options.backoffCapMs ?? 200;
  }

  /**
   * Commits what `build` returns, atomically, with its events appended to the tenant's chain.
   * @remarks `build` runs again only if one of its `rebuild` rows moved; otherwise its plan is reused
   * across retries. Rejects with ConcurrencyError/ConflictError for the caller's own rows,
   * StorageUnavailableError when storage is unreachable or the retry budget runs out.
   */
  commit(tenantId: TenantId, build: () => CommitPlan | Promise<CommitPlan>): Promise<CommitResult> {
    return new Promise<CommitResult>((resolve, reject) => {
      tenantKey(tenantId);
      const lane = this.lane(tenantId);
      lane.queue.push({ build: async () => build(), plan: undefined, resolve, reject });
      if (!lane.draining) {
        lane.draining = true;
        void this.drain(lane);
      }
    });
  }

  private lane(tenantId: TenantId): Lane {
    let lane = this.lanes.get(tenantId);
    if (!lane) {
      lane = { tenantId, queue: [], draining: false, known: undefined };
      this.lanes.set(tenantId, lane);
    }
    return lane;
  }

  private async drain(lane: Lane): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (lane.queue.length > 0) await this.commitGroup(lane, [], true);
    } catch (error) {
      for (const member of lane.queue.splice(0)) member.reject(error);
    } finally {
      lane.draining = false;
    }
  }

  /** Commits `members` (plus whatever joins from the queue when `grow`), settling every one of them. */
  private async commitGroup(lane: Lane, members: Member[], grow: boolean): Promise<void> {
    const started = performance.now();
    let attempt = 0;
    try {
      for (;;) {
        await this.prepare(lane, members, grow);
        if (members.length === 0) return;
        lane.known ??= await this.readKnownHead(lane.tenantId);
        const batch = this.batch(lane.tenantId, members, lane.known);
        if (batch.actions.length === 0) {
          await this.settle(lane.tenantId, members.splice(0), batch, []);
          return;
        }
        let etags: (string | undefined)[];
        try {
          etags = await submitEntityGroup(this.transactions, batch.actions);
        } catch (error) {
          lane.known = undefined;
          const next = await this.recover(lane, members, batch, error);
          if (next === 'done') return;
          if (next === 'backoff') {
            attempt += 1;
            const elapsed = performance.now() - started;
            if (attempt >= this.maxAttempts || elapsed >= this.budgetMs) {
              const exhausted = new StorageUnavailableError(
                `The audit chain of tenant ${lane.tenantId} stayed contended for ${Math.round(elapsed)} ms (${attempt} attempts); nothing was written.`,
                { cause: error },
              );
              for (const member of members.splice(0)) member.reject(exhausted);
              return;
            }
            await sleep(
              Math.random() * Math.min(this.backoffCapMs, this.backoffBaseMs * 2 ** attempt),
            );
          }
          continue;
        }
        lane.known = batch.newHead
          ? etags[0]
            ? { head: batch.newHead, etag: etags[0] }
            : undefined
          : batch.known;
        await this.settle(lane.tenantId, members.splice(0), batch, etags);
        return;
      }
    } catch (error) {
      const failure = toPortError(error, `commit to tenant ${lane.tenantId}`);
      for (const member of members.splice(0)) member.reject(failure);
    }
  }

  /** Builds missing plans and, when growing, moves queued commits into the group while they fit. */
  private async prepare(lane: Lane, members: Member[], grow: boolean): Promise<void> {
    const load: Load = { entities: 1, bytes: 0, rowKeys: new Set() };
    for (const member of [...members]) {
      if (await this.ensurePlan(lane.tenantId, member)) add(load, member.plan!);
      else members.splice(members.indexOf(member), 1);
    }
    while (grow && lane.queue.length > 0) {
      const next = lane.queue[0]!;
      if (!(await this.ensurePlan(lane.tenantId, next))) {
        lane.queue.shift();
        continue;
      }
      if (!fits(load, next.plan!)) break;
      lane.queue.shift();
      members.push(next);
      add(load, next.plan!);
    }
  }

  /** Builds the member's plan if needed; rejects the member (and returns false) if that fails or it can never fit. */
  private async ensurePlan(tenantId: TenantId, member: Member): Promise<boolean> {
    if (member.plan) return true;
    try {
      const plan = await member.build();
      assertPlanFitsAlone(tenantId, plan);
      member.plan = plan;
      return true;
    } catch (error) {
      member.reject(error);
      return false;
    }
  }

  private async readKnownHead(tenantId: TenantId): Promise<KnownHead> {
    const row = await readRow(this.reads, tenantKey(tenantId), RowKeys.head);
    return row ? { head: readHead(row), etag: row.etag } : { head: undefined, etag: undefined };
  }

  /** Lays out one transaction: head, entries, the callers' rows, outbox rows. */
  private batch(tenantId: TenantId, members: readonly Member[], known: KnownHead): Batch {
    const now = this.clock.now();
    const ts = now.toISOString();
    const actions: EntityAction[] = [];
    const owners: Owner[] = [];
    const entries: StoredAuditEntry[] = [];
    const memberHeads = new Map<Member, AuditHead>();
    const hasEvents = members.some((m) => m.plan!.events.length > 0);
    if (hasEvents) {
      actions.push({
        kind: 'create',
        entity: { partitionKey: tenantKey(tenantId), rowKey: RowKeys.head },
      });
      owners.push({ kind: 'head' });
    }
    let cursor = known.head;
    for (const member of members) {
      const chained = chainEvents(tenantId, cursor, member.plan!.events, ts);
      for (const entry of chained) {
        actions.push({
          kind: 'create',
          entity: entryEntity(tenantId, entry, cursor?.hash ?? GENESIS_HASH),
        });
        owners.push({ kind: 'entry' });
        entries.push(entry);
        cursor = { seq: entry.seq, hash: entry.hash };
      }
      if (cursor && chained.length > 0) memberHeads.set(member, cursor);
    }
    for (const member of members) {
      for (const op of member.plan!.ops) {
        actions.push(
          op.kind === 'create'
            ? { kind: 'create', entity: op.entity }
            : { kind: 'update', entity: op.entity, etag: op.etag },
        );
        owners.push({ kind: 'op', member, op });
      }
    }
    let firstOutboxRowKey: string | undefined;
    const outboxIds = outboxIdSource(now);
    for (const member of members) {
      for (const message of member.plan!.outbox) {
        const entity = outboxEntity(tenantId, outboxIds(), message, ts);
        firstOutboxRowKey ??= entity.rowKey;
        actions.push({ kind: 'create', entity });
        owners.push({ kind: 'outbox' });
      }
    }
    const newHead = hasEvents ? cursor : undefined;
    if (newHead) {
      const entity = headEntity(tenantId, newHead);
      actions[0] =
        known.etag === undefined
          ? { kind: 'create', entity }
          : { kind: 'update', entity, etag: known.etag };
    }
    return { actions, owners, entries, known, newHead, memberHeads, firstOutboxRowKey };
  }

  /**
   * Decides what a failed transaction means. Settles the members it can and returns whether to
   * retry at once, back off first, or stop.
   */
  private async recover(
    lane: Lane,
    members: Member[],
    batch: Batch,
    error: unknown,
  ): Promise<'retry' | 'backoff' | 'done'> {
    const failure = classifyStorageError(error);
    if (failure.kind === 'unreachable') {
      const unavailable = toPortError(error, `commit to tenant ${lane.tenantId}`);
      for (const member of members.splice(0)) member.reject(unavailable);
      return 'done';
    }
    if (failure.kind === 'interrupted' || (failure.kind === 'status' && failure.status >= 500)) {
      const applied = await this.wasApplied(lane.tenantId, batch);
      if (applied === 'unknown') {
        const unknown = new StorageUnavailableError(
          `Storage failed while committing to tenant ${lane.tenantId}; the outcome is unknown, so read the record again before retrying.`,
          { cause: error },
        );
        for (const member of members.splice(0)) member.reject(unknown);
        return 'done';
      }
      if (!applied) return 'backoff';
      await this.settle(lane.tenantId, members.splice(0), batch, []);
      return 'done';
    }
    if (
      failure.kind === 'status' &&
      [404, 409, 412].includes(failure.status) &&
      failure.code !== 'TableNotFound'
    ) {
      const culprits = await this.culprits(batch, error);
      if (culprits.length === 0) {
        this.stats.headConflicts += 1;
        return 'backoff';
      }
      lane.known = batch.known;
      let rebuilt = false;
      for (const { member, op } of culprits) {
        if (!members.includes(member)) continue;
        if (op.onConflict === 'rebuild') {
          member.plan = undefined;
          rebuilt = true;
        } else {
          members.splice(members.indexOf(member), 1);
          member.reject(
            op.onConflict === 'concurrency'
              ? new ConcurrencyError()
              : new ConflictError(conflictMessage(op)),
          );
        }
      }
      return rebuilt ? 'backoff' : 'retry';
    }
    const causedByContent =
      failure.kind === 'other' ||
      (failure.kind === 'status' && [400, 413].includes(failure.status));
    if (members.length > 1 && causedByContent) {
      for (const member of members.splice(0)) await this.commitGroup(lane, [member], false);
      return 'done';
    }
    throw error;
  }

  /** The callers' rows that no longer match what their ops expect. Empty means the chain moved. */
  private async culprits(
    batch: Batch,
    error: unknown,
  ): Promise<{ readonly member: Member; readonly op: RowOp }[]> {
    const index = failedActionIndex(error);
    const owner = index === undefined ? undefined : batch.owners[index];
    if (owner && owner.kind !== 'op') return [];
    const candidates = owner
      ? [owner]
      : batch.owners.filter((o): o is Extract<Owner, { kind: 'op' }> => o.kind === 'op');
    const stale = await Promise.all(
      candidates.map(async (candidate) =>
        (await this.stillValid(candidate.op)) ? undefined : candidate,
      ),
    );
    return stale.filter((c) => c !== undefined);
  }

  private async stillValid(op: RowOp): Promise<boolean> {
    const row = await readRow(this.reads, op.entity.partitionKey, op.entity.rowKey);
    return op.kind === 'create' ? row === undefined : row?.etag === op.etag;
  }

  /** After an ambiguous failure: did the transaction land? Entries and outbox ids are unique to this attempt. */
  private async wasApplied(tenantId: TenantId, batch: Batch): Promise<boolean | 'unknown'> {
    const last = batch.entries.at(-1);
    if (last)
      return (
        (await readRow(this.reads, tenantKey(tenantId), entryRowKey(last.seq)))?.['h'] === last.hash
      );
    if (batch.firstOutboxRowKey)
      return (
        (await readRow(this.reads, tenantKey(tenantId), batch.firstOutboxRowKey)) !== undefined
      );
    return 'unknown';
  }

  private async settle(
    tenantId: TenantId,
    members: readonly Member[],
    batch: Batch,
    etags: readonly (string | undefined)[],
  ): Promise<void> {
    this.stats.transactions += 1;
    this.stats.entries += batch.entries.length;
    const own = new Map<Member, Map<string, string>>(members.map((m) => [m, new Map()]));
    await Promise.all(
      batch.owners.map(async (owner, index) => {
        if (owner.kind !== 'op') return;
        const etag =
          etags[index] ??
          (await this.etagOfWritten(tenantId, owner.op.entity).catch(() => SUPERSEDED_ETAG));
        own.get(owner.member)?.set(owner.op.entity.rowKey, etag);
      }),
    );
    for (const member of members) {
      member.resolve({
        etags: own.get(member)!,
        head: batch.memberHeads.get(member) ?? batch.newHead ?? batch.known.head,
      });
    }
  }

  /** The ETag of a row this commit wrote, or one that never matches if someone has written it since. */
  private async etagOfWritten(tenantId: TenantId, entity: Row): Promise<string> {
    const row = await readRow(this.reads, tenantKey(tenantId), entity.rowKey);
    return row && sameProperties(row, entity) ? row.etag : SUPERSEDED_ETAG;
  }
}

function sameProperties(row: ReadRow, entity: Row): boolean {
  return Object.entries(entity).every(([name, value]) => row[name] === value);
}

function conflictMessage(op: RowOp): string {
  return op.kind === 'create' && op.conflictMessage
    ? op.conflictMessage
    : `Row ${op.entity.rowKey} already exists.`;
}

function planLoad(plan: CommitPlan): { readonly entities: number; readonly bytes: number } {
  let bytes = 0;
  for (const op of plan.ops) bytes += estimateActionBytes(op.entity);
  for (const event of plan.events)
    bytes += Math.ceil(entryChars(event) * ENTRY_BYTES_FACTOR) + ENTRY_EXTRA_BYTES;
  for (const message of plan.outbox)
    bytes +=
      Math.ceil(Buffer.byteLength(JSON.stringify(message), 'utf8') * ENTRY_BYTES_FACTOR) +
      ENTRY_EXTRA_BYTES;
  return { entities: plan.ops.length + plan.events.length + plan.outbox.length, bytes };
}

function entryChars(event: ChainableEvent): number {
  return Buffer.byteLength(JSON.stringify(event), 'utf8') + ENTRY_OVERHEAD_CHARS;
}

function fits(load: Load, plan: CommitPlan): boolean {
  const { entities, bytes } = planLoad(plan);
  return (
    load.entities + entities <= MAX_GROUP_ENTITIES &&
    load.bytes + bytes <= GROUP_BYTES_BUDGET &&
    plan.ops.every((op) => !load.rowKeys.has(op.entity.rowKey))
  );
}

function add(load: Load, plan: CommitPlan): void {
  const { entities, bytes } = planLoad(plan);
  load.entities += entities;
  load.bytes += bytes;
  for (const op of plan.ops) load.rowKeys.add(op.entity.rowKey);
}

/** A plan that could never be committed is refused up front, so it cannot sink the group it would join. */
function assertPlanFitsAlone(tenantId: TenantId, plan: CommitPlan): void {
  const rowKeys = new Set<string>();
  for (const op of plan.ops) {
    const rowKey = op.entity.rowKey;
    if (op.entity.partitionKey !== tenantId)
      throw new EntityGroupError(
        `Row ${rowKey} belongs to another partition than tenant ${tenantId}.`,
      );
    if (
      rowKey === RowKeys.head ||
      rowKey.startsWith(RowKeys.entryPrefix) ||
      rowKey.startsWith(RowKeys.outboxPrefix)
    ) {
      throw new EntityGroupError(
        `Row ${rowKey} belongs to the audit chain or outbox; commits cannot write it directly.`,
      );
    }
    if (rowKeys.has(rowKey))
      throw new EntityGroupError(`Row ${rowKey} appears twice in one commit.`);
    rowKeys.add(rowKey);
  }
  const oversized = plan.events.find((event) => entryChars(event) > MAX_ENTRY_CHARS);
  if (oversized)
    throw new RangeError(`An audit event of type ${oversized.type} is too large to store inline.`);
  if (!fits({ entities: 1, bytes: 0, rowKeys: new Set() }, plan)) {
    throw new EntityGroupError(
      'This commit is too large for one entity-group transaction (100 entities, 4 MiB).',
    );
  }
}

/**
 * Time-ordered outbox ids for one transaction: 13-digit milliseconds, 32 random bits shared by the
 * transaction, then a 16-bit counter, so rows of one commit keep their order.
 */
function outboxIdSource(now: Date): () => string {
  const prefix = `${String(now.getTime()).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
  let next = 0;
  return () => `${prefix}${(next++).toString(16).padStart(4, '0')}`;
}
