import { odata, type TableClient } from '@azure/data-tables';
import { openEntryPersonalData, sealEvents } from '../../application/audit/seal-events';
import type { AuditHead, AuditLog, ReadAuditOptions } from '../../application/ports/audit-log';
import type { DataKeyring } from '../../application/ports/data-keyring';
import { GENESIS_HASH, type StoredAuditEntry } from '../../domain/audit/audit-chain';
import type { AuditEvent } from '../../domain/audit/audit-event';
import type { TenantId } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';
import type { PartitionCommitter } from './partition-committer';
import { readRow } from './table-connection';
import { readEntry, readHead } from './table-entity.mapper';
import { guarded } from './table-errors';
import { entryRowKey, prefixRange, RowKeys, tenantKey } from './table-keys';

/** Most entries one query page returns (the service's own cap). */
const PAGE = 1_000;

/**
 * The audit chain in the client's partition: `e_{seq}` entries holding the exact canonical string
 * that was hashed, and the head `h`. Appends go through the partition committer, so standalone
 * appends share transactions with concurrent state changes of the same tenant.
 */
export class TableAuditLog implements AuditLog {
  constructor(
    private readonly table: TableClient,
    private readonly committer: PartitionCommitter,
    private readonly keyring: DataKeyring,
  ) {}

  async append(tenantId: TenantId, events: readonly AuditEvent[]): Promise<AuditHead> {
    if (events.length === 0) return (await this.head(tenantId)) ?? { seq: 0, hash: GENESIS_HASH };
    const chainable = await sealEvents(tenantId, events, this.keyring);
    const { head } = await this.committer.commit(tenantId, () => ({
      ops: [],
      events: chainable,
      outbox: [],
    }));
    return head!;
  }

  async head(tenantId: TenantId): Promise<AuditHead | undefined> {
    const row = await readRow(this.table, tenantKey(tenantId), RowKeys.head);
    return row ? readHead(row) : undefined;
  }

  read(tenantId: TenantId, options: ReadAuditOptions = {}): Promise<StoredAuditEntry[]> {
    const partition = tenantKey(tenantId);
    const from = entryRowKey(Math.max(1, options.fromSeq ?? 1));
    const { to } = prefixRange(RowKeys.entryPrefix);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    return guarded('read audit entries', async () => {
      const entries: StoredAuditEntry[] = [];
      if (limit <= 0) return entries;
      const pages = this.table
        .listEntities<Record<string, unknown>>({
          queryOptions: {
            filter: odata`PartitionKey eq ${partition} and RowKey ge ${from} and RowKey lt ${to}`,
            select: ['RowKey', 'c', 'h'],
          },
        })
        .byPage({ maxPageSize: Math.min(PAGE, limit) });
      for await (const page of pages) {
        for (const row of page) {
          entries.push(readEntry(row));
          if (entries.length >= limit) return entries;
        }
      }
      return entries;
    });
  }

  openPersonal(tenantId: TenantId, entry: StoredAuditEntry): Promise<JsonObject | undefined> {
    return openEntryPersonalData(tenantId, entry, this.keyring);
  }
}
