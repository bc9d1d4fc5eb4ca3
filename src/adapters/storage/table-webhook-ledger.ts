import type { TableClient } from '@azure/data-tables';
import type {
  DeliveryRecord,
  IdempotencyRecord,
  StoredIdempotencyRecord,
  WebhookLedger,
} from '../../application/ports/webhook-keys';
import type { TenantId } from '../../domain/shared/ids';
import { readRow } from './table-connection';
import { guarded } from './table-errors';
import { receiptRowKey, tenantKey } from './table-keys';
import { readReceiptData, receiptEntity } from './table-receipts';

/** Webhook receipts in the client's partition (`wd_…`, `ik_…`), beside the requests they created. */
export class TableWebhookLedger implements WebhookLedger {
  constructor(private readonly data: TableClient) {}

  async delivery(tenantId: TenantId, deliveryHash: string): Promise<DeliveryRecord | undefined> {
    const row = await readRow(
      this.data,
      tenantKey(tenantId),
      receiptRowKey('webhook_delivery', deliveryHash),
    );
    return row ? (readReceiptData(row) as unknown as DeliveryRecord) : undefined;
  }

  async idempotency(
    tenantId: TenantId,
    keyHash: string,
  ): Promise<StoredIdempotencyRecord | undefined> {
    const row = await readRow(
      this.data,
      tenantKey(tenantId),
      receiptRowKey('idempotency', keyHash),
    );
    return row
      ? { record: readReceiptData(row) as unknown as IdempotencyRecord, etag: row.etag }
      : undefined;
  }

  begin(
    tenantId: TenantId,
    keyHash: string,
    record: IdempotencyRecord,
    replaceEtag?: string,
  ): Promise<string> {
    const entity = receiptEntity(tenantId, 'idempotency', keyHash, { ...record });
    return guarded('record an idempotency key', async () => {
      const response =
        replaceEtag === undefined
          ? await this.data.createEntity(entity)
          : await this.data.updateEntity(entity, 'Replace', { etag: replaceEtag });
      return response.etag!;
    });
  }

  async finish(
    tenantId: TenantId,
    keyHash: string,
    etag: string,
    record: IdempotencyRecord,
  ): Promise<void> {
    const entity = receiptEntity(tenantId, 'idempotency', keyHash, { ...record });
    await guarded('finish an idempotency key', () =>
      this.data.updateEntity(entity, 'Replace', { etag }),
    );
  }

  async release(tenantId: TenantId, keyHash: string, etag: string): Promise<void> {
    await guarded('release an idempotency key', () =>
      this.data.deleteEntity(tenantKey(tenantId), receiptRowKey('idempotency', keyHash), { etag }),
    );
  }
}
