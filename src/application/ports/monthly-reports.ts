import type { AuditEvent } from '../../domain/audit/audit-event';
import type { TenantId } from '../../domain/shared/ids';
import type { OutboxMessage } from './outbox';

/**
 * Which monthly change reports were posted to a client (issue 7 §3): one marker row per client and
 * month in the client's partition, written with its audit entry and its cards in one transaction,
 * so a month is posted once however many instances try.
 */
export interface MonthlyReportLedger {
  posted(tenantId: TenantId, month: string): Promise<boolean>;
  /**
   * Records `month` as posted, with its audit events and outbox rows; false (and nothing written)
   * if it was already recorded.
   */
  record(
    tenantId: TenantId,
    month: string,
    write: { readonly audit: readonly AuditEvent[]; readonly outbox: readonly OutboxMessage[] },
  ): Promise<boolean>;
}
