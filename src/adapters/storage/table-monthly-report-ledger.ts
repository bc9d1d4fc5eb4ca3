import type { TableClient } from '@azure/data-tables';
import { sealEvents } from '../../application/audit/seal-events';
import type { DataKeyring } from '../../application/ports/data-keyring';
import { ConflictError } from '../../application/ports/errors';
import type { MonthlyReportLedger } from '../../application/ports/monthly-reports';
import type { AuditEvent } from '../../domain/audit/audit-event';
import type { TenantId } from '../../domain/shared/ids';
import type { OutboxMessage } from '../../application/ports/outbox';
import type { PartitionCommitter } from './partition-committer';
import { readRow } from './table-connection';
import { InvalidStorageKeyError, tenantKey } from './table-keys';

/** `mr_YYYY-MM`: the marker of a posted monthly report, in the client's partition. */
function markerKey(month: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new InvalidStorageKeyError('report month');
  return `mr_${month}`;
}

/**
 * Posted monthly reports: an insert-only marker row per month, committed with the audit entry and
 * the cards, so of two instances posting the same month one commits and the other writes nothing.
 */
export class TableMonthlyReportLedger implements MonthlyReportLedger {
  constructor(
    private readonly data: TableClient,
    private readonly committer: PartitionCommitter,
    private readonly keyring: DataKeyring,
  ) {}

  async posted(tenantId: TenantId, month: string): Promise<boolean> {
    return (await readRow(this.data, tenantKey(tenantId), markerKey(month))) !== undefined;
  }

  async record(
    tenantId: TenantId,
    month: string,
    write: { readonly audit: readonly AuditEvent[]; readonly outbox: readonly OutboxMessage[] },
  ): Promise<boolean> {
    const events = await sealEvents(tenantId, write.audit, this.keyring);
    const entity = { partitionKey: tenantKey(tenantId), rowKey: markerKey(month), month };
    try {
      await this.committer.commit(tenantId, () => ({
        ops: [{ kind: 'create', entity, onConflict: 'conflict' }],
        events,
        outbox: write.outbox,
      }));
      return true;
    } catch (error: unknown) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }
}
