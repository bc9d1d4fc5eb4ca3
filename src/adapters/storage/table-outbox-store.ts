import { odata, type TableClient } from '@azure/data-tables';
import { ConcurrencyError } from '../../application/ports/errors';
import type {
  ClaimOutboxOptions,
  OutboxRow,
  OutboxStatus,
  OutboxStore,
  Recipient,
} from '../../application/ports/outbox';
import type { TenantId } from '../../domain/shared/ids';
import { readRow } from './table-connection';
import { readOutboxRow } from './table-entity.mapper';
import { guarded, isPreconditionFailure, toPortError } from './table-errors';
import { isOutboxId, outboxRowKey, prefixRange, RowKeys, tenantKey } from './table-keys';

/** The mutable fields of an outbox row. */
type OutboxPatch = Partial<
  Pick<
    OutboxRow,
    'status' | 'attempts' | 'reschedules' | 'claims' | 'nextAttemptAt' | 'leaseUntil' | 'lastError'
  >
>;

/** Merge cannot remove a property: an empty `leaseUntil` is a released lease. */
const RELEASED = { leaseUntil: '' } as const;

/** Longest error text kept on a row; enough to diagnose, far below the property limit. */
const MAX_ERROR_CHARS = 2_000;

/**
 * Outbox rows in the client's partition (`o_{id}`), written by the partition committer together
 * with the change that causes them. Every state change here is an ETag-guarded merge, so two relay
 * instances can never both claim or settle the same row.
 */
export class TableOutboxStore implements OutboxStore {
  constructor(private readonly table: TableClient) {}

  async claimDue(
    tenantId: TenantId,
    now: Date,
    options: ClaimOutboxOptions = {},
  ): Promise<OutboxRow[]> {
    const at = now.toISOString();
    const leaseUntil = new Date(now.getTime() + (options.leaseMs ?? 30_000)).toISOString();
    const limit = options.limit ?? 20;
    const due = (
      await this.query(tenantId, odata` and status eq ${'pending'} and nextAttemptAt le ${at}`)
    )
      .filter((row) => !row.leaseUntil || row.leaseUntil <= at)
      .slice(0, limit);
    const claimed = await Promise.all(
      due.map((row) => this.patch(row, { leaseUntil, claims: (row.claims ?? 0) + 1 })),
    );
    return claimed.filter((row) => row !== undefined);
  }

  async complete(row: OutboxRow): Promise<void> {
    await this.settle(row, { status: 'done' });
  }

  async fail(
    row: OutboxRow,
    update: { readonly error: string; readonly nextAttemptAt?: Date; readonly park: boolean },
  ): Promise<void> {
    await this.settle(row, {
      attempts: row.attempts + 1,
      lastError: update.error.slice(0, MAX_ERROR_CHARS),
      status: update.park ? 'parked' : 'pending',
      ...RELEASED,
      ...(update.nextAttemptAt ? { nextAttemptAt: update.nextAttemptAt.toISOString() } : {}),
    });
  }

  async reschedule(
    row: OutboxRow,
    at: Date,
    _now: Date,
    options: { readonly untouched?: boolean } = {},
  ): Promise<void> {
    await this.settle(row, {
      status: 'pending',
      nextAttemptAt: at.toISOString(),
      reschedules: (row.reschedules ?? 0) + 1,
      ...(options.untouched ? { claims: Math.max(0, (row.claims ?? 0) - 1) } : {}),
      ...RELEASED,
    });
  }

  renewLease(row: OutboxRow, now: Date, leaseMs: number): Promise<OutboxRow | undefined> {
    return this.patch(row, { leaseUntil: new Date(now.getTime() + leaseMs).toISOString() });
  }

  async waitForRecipient(row: OutboxRow): Promise<void> {
    await this.settle(row, { status: 'waiting_for_recipient', ...RELEASED });
  }

  async releaseWaiting(tenantId: TenantId, recipient: Recipient, now: Date): Promise<number> {
    const waiting = await this.query(
      tenantId,
      odata` and status eq ${'waiting_for_recipient'} and rtid eq ${recipient.tid} and roid eq ${recipient.oid}`,
    );
    const released = await Promise.all(
      waiting.map((row) =>
        this.patch(row, { status: 'pending', nextAttemptAt: now.toISOString(), ...RELEASED }),
      ),
    );
    return released.filter((row) => row !== undefined).length;
  }

  async list(
    tenantId: TenantId,
    options: { readonly statuses?: readonly OutboxStatus[] } = {},
  ): Promise<OutboxRow[]> {
    const statuses = options.statuses?.map((status) => odata`status eq ${status}`).join(' or ');
    return this.query(tenantId, statuses ? ` and (${statuses})` : '');
  }

  async retry(tenantId: TenantId, id: string, now: Date): Promise<boolean> {
    if (!isOutboxId(id)) return false;
    const row = await readRow(this.table, tenantKey(tenantId), outboxRowKey(id));
    if (!row) return false;
    const current = readOutboxRow(tenantId, row);
    if (current.status === 'done') return false;
    return (
      (await this.patch(current, {
        status: 'pending',
        attempts: 0,
        reschedules: 0,
        nextAttemptAt: now.toISOString(),
        ...RELEASED,
      })) !== undefined
    );
  }

  /** Rows of the tenant's outbox range matching `extraFilter` (already OData-escaped), oldest first. */
  private query(tenantId: TenantId, extraFilter: string): Promise<OutboxRow[]> {
    const partition = tenantKey(tenantId);
    const { from, to } = prefixRange(RowKeys.outboxPrefix);
    const filter =
      odata`PartitionKey eq ${partition} and RowKey ge ${from} and RowKey lt ${to}` + extraFilter;
    return guarded('query outbox', async () => {
      const rows: OutboxRow[] = [];
      for await (const row of this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter },
      })) {
        rows.push(readOutboxRow(tenantId, row));
      }
      return rows;
    });
  }

  /** ETag-guarded merge; undefined if the row changed (another relay got there first). */
  private async patch(row: OutboxRow, changes: OutboxPatch): Promise<OutboxRow | undefined> {
    const entity = {
      partitionKey: tenantKey(row.tenantId),
      rowKey: outboxRowKey(row.id),
      ...changes,
    };
    try {
      const response = await this.table.updateEntity(entity, 'Merge', { etag: row.etag });
      const { leaseUntil, ...next } = { ...row, ...changes, etag: response.etag ?? row.etag };
      return leaseUntil ? { ...next, leaseUntil } : next;
    } catch (error) {
      if (isPreconditionFailure(error)) return undefined;
      throw toPortError(error, `update outbox row ${row.id}`);
    }
  }

  private async settle(row: OutboxRow, changes: OutboxPatch): Promise<void> {
    if (!(await this.patch(row, changes)))
      throw new ConcurrencyError('Outbox row was claimed by another relay.');
  }
}
