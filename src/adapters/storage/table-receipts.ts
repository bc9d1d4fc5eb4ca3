import type { Receipt, ReceiptKind } from '../../application/ports/change-request-store';
import type { JsonObject } from '../../domain/shared/json';
import type { RowOp } from './partition-committer';
import type { ReadRow } from './table-entity.mapper';
import { receiptRowKey, tenantKey } from './table-keys';
import type { TenantId } from '../../domain/shared/ids';

/** A receipt row: its data as JSON in `d`, so the kinds of receipt need no column of their own. */
export function receiptEntity(
  tenantId: TenantId,
  kind: ReceiptKind,
  id: string,
  data: JsonObject,
): { partitionKey: string; rowKey: string; d: string } {
  return {
    partitionKey: tenantKey(tenantId),
    rowKey: receiptRowKey(kind, id),
    d: JSON.stringify(data),
  };
}

/** The commit op of a receipt: insert-only (a second one is a ConflictError), or a replace under `If-Match`. */
export function receiptOp(tenantId: TenantId, receipt: Receipt): RowOp {
  const entity = receiptEntity(tenantId, receipt.kind, receipt.id, receipt.data);
  return receipt.etag === undefined
    ? {
        kind: 'create',
        entity,
        onConflict: 'conflict',
        conflictMessage: `The ${receipt.kind} receipt ${receipt.id} already exists.`,
      }
    : { kind: 'update', entity, etag: receipt.etag, onConflict: 'concurrency' };
}

export function readReceiptData(row: ReadRow): JsonObject {
  const raw = row['d'];
  if (typeof raw !== 'string') throw new TypeError(`Receipt row ${String(row.rowKey)} lacks d.`);
  return JSON.parse(raw) as JsonObject;
}
