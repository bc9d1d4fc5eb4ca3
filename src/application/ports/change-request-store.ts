import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ChangeRequest, ChangeStatus } from '../../domain/change-request/change-request';
import type { ChangeRequestId, TenantId } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';
import type { OutboxMessage } from './outbox';

/** A stored request with the ETag its next save must match. */
export interface StoredChangeRequest {
  readonly request: ChangeRequest;
  readonly etag: string;
}

/** Everything one state change writes, atomically: the request, its audit events, its outbox rows. */
export interface ChangeRequestWrite {
  readonly request: ChangeRequest;
  readonly audit: readonly AuditEvent[];
  readonly outbox: readonly OutboxMessage[];
  /** Rows that prove this write happened (webhook delivery ids, idempotency records), written with it. */
  readonly receipts?: readonly Receipt[];
}

/**
 * A small record in the client's partition written in the same transaction as a request write.
 * Insert-only, unless `etag` is given: then it replaces the row under `If-Match` (an idempotency
 * record moving from in progress to done). If the row exists (insert) the write fails with
 * ConflictError, if it moved (replace) with ConcurrencyError; either way nothing is written.
 */
export interface Receipt {
  readonly kind: ReceiptKind;
  /** 64 lowercase hex digits (a SHA-256), never raw caller input. */
  readonly id: string;
  readonly data: JsonObject;
  readonly etag?: string;
}

export type ReceiptKind = 'webhook_delivery' | 'idempotency';

export interface ListChangeRequestsOptions {
  readonly statuses?: readonly ChangeStatus[];
  readonly limit?: number;
}

/**
 * Change requests of one client tenant. The tenant always comes from authenticated context;
 * the adapter builds the partition key from it, never from user input.
 */
export interface ChangeRequestStore {
  get(tenantId: TenantId, id: ChangeRequestId): Promise<StoredChangeRequest | undefined>;
  /** Newest first. */
  list(tenantId: TenantId, options?: ListChangeRequestsOptions): Promise<ChangeRequest[]>;
  /**
   * Takes the client's next request number and writes what `build` returns for it, in one transaction.
   * @remarks Retries with a fresh number if another writer took it, so `build` may run more than
   * once and must be pure; never writes half.
   */
  create(
    tenantId: TenantId,
    build: (number: number) => ChangeRequestWrite,
  ): Promise<StoredChangeRequest>;
  /** Saves if the stored request still has `etag`, else throws ConcurrencyError and writes nothing. */
  update(tenantId: TenantId, etag: string, write: ChangeRequestWrite): Promise<StoredChangeRequest>;
}
