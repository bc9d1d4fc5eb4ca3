import { randomUUID } from 'node:crypto';
import { ConcurrencyError, ConflictError } from '../../src/application/ports/errors';
import {
  CLIENT_KEY_PATTERN,
  WEBHOOK_ROTATION_GRACE_MS,
  type DeliveryRecord,
  type IdempotencyRecord,
  type IssuedWebhookSecret,
  type StoredIdempotencyRecord,
  type WebhookKey,
  type WebhookKeyStore,
  type WebhookLedger,
  type WebhookSecret,
  webhookKeyEvent,
} from '../../src/application/ports/webhook-keys';
import {
  newClientKey,
  newWebhookSecret,
  retired,
  rotated,
  sameSecrets,
  validSecrets,
} from '../../src/adapters/storage/table-webhook-keys';
import type { AuditActor } from '../../src/domain/audit/audit-event';
import type { TenantId } from '../../src/domain/shared/ids';
import type { InMemoryPartitions, StoredReceipt } from './in-memory-storage';

/**
 * Webhook keys in memory, with the table adapter's rotation and retirement rules; each change is
 * committed with its audit entry through the fake partitions (nothing written if the commit fails).
 */
export class InMemoryWebhookKeyStore implements WebhookKeyStore {
  private readonly byTenant = new Map<TenantId, WebhookKey>();

  constructor(private readonly data: InMemoryPartitions) {}

  async create(tenantId: TenantId, now: Date, actor: AuditActor): Promise<IssuedWebhookSecret> {
    if (this.byTenant.has(tenantId))
      throw new ConflictError(`Client ${tenantId} already has a webhook key; rotate it instead.`);
    const issued = newWebhookSecret(now);
    const key = { clientKey: newClientKey(), tenantId, secrets: [issued] };
    await this.save(key, actor, []);
    return { key, issued };
  }

  async rotate(
    tenantId: TenantId,
    now: Date,
    actor: AuditActor,
    graceMs = WEBHOOK_ROTATION_GRACE_MS,
  ): Promise<IssuedWebhookSecret | undefined> {
    const key = this.byTenant.get(tenantId);
    if (!key) return undefined;
    const next = rotated(key.secrets, now, graceMs);
    const updated = { ...key, secrets: next.secrets };
    await this.save(updated, actor, key.secrets);
    return { key: updated, issued: next.issued };
  }

  async retire(
    tenantId: TenantId,
    now: Date,
    actor: AuditActor,
    kid?: string,
  ): Promise<WebhookKey | undefined> {
    const key = this.byTenant.get(tenantId);
    const secrets = key && retired(key.secrets, now, kid);
    if (!key || !secrets) return undefined;
    const updated = { ...key, secrets };
    if (!sameSecrets(key.secrets, secrets)) await this.save(updated, actor, key.secrets);
    return updated;
  }

  get(tenantId: TenantId): Promise<WebhookKey | undefined> {
    return Promise.resolve(this.byTenant.get(tenantId));
  }

  resolve(clientKey: string, now: Date): Promise<WebhookKey | undefined> {
    if (!CLIENT_KEY_PATTERN.test(clientKey)) return Promise.resolve(undefined);
    const key = [...this.byTenant.values()].find((k) => k.clientKey === clientKey);
    return Promise.resolve(key && { ...key, secrets: validSecrets(key.secrets, now) });
  }

  private async save(
    key: WebhookKey,
    actor: AuditActor,
    before: readonly WebhookSecret[],
  ): Promise<void> {
    await this.data.commit(key.tenantId, [webhookKeyEvent(actor, before, key)], [], () => {
      const stored = this.byTenant.get(key.tenantId);
      // The table's insert-only create and If-Match replace, checked inside the commit.
      if (before.length === 0 && stored)
        throw new ConflictError(`Client ${key.tenantId} already has a webhook key.`);
      if (before.length > 0 && stored?.secrets !== before) throw new ConcurrencyError();
      this.byTenant.set(key.tenantId, key);
    });
  }
}

/** The ledger over the fake partitions' receipts, which the fake request store writes. */
export class InMemoryWebhookLedger implements WebhookLedger {
  constructor(private readonly data: InMemoryPartitions) {}

  delivery(tenantId: TenantId, deliveryHash: string): Promise<DeliveryRecord | undefined> {
    const row = this.rows(tenantId).get(`webhook_delivery:${deliveryHash}`);
    return Promise.resolve(row && (structuredClone(row.data) as unknown as DeliveryRecord));
  }

  idempotency(tenantId: TenantId, keyHash: string): Promise<StoredIdempotencyRecord | undefined> {
    const row = this.rows(tenantId).get(`idempotency:${keyHash}`);
    return Promise.resolve(
      row && {
        record: structuredClone(row.data) as unknown as IdempotencyRecord,
        etag: row.etag,
      },
    );
  }

  begin(
    tenantId: TenantId,
    keyHash: string,
    record: IdempotencyRecord,
    replaceEtag?: string,
  ): Promise<string> {
    const rows = this.rows(tenantId);
    const current = rows.get(`idempotency:${keyHash}`);
    if (replaceEtag === undefined && current)
      return Promise.reject(new ConflictError('The idempotency record exists.'));
    if (replaceEtag !== undefined && current?.etag !== replaceEtag)
      return Promise.reject(new ConcurrencyError());
    return Promise.resolve(this.put(tenantId, keyHash, record));
  }

  finish(
    tenantId: TenantId,
    keyHash: string,
    etag: string,
    record: IdempotencyRecord,
  ): Promise<void> {
    if (this.rows(tenantId).get(`idempotency:${keyHash}`)?.etag !== etag)
      return Promise.reject(new ConcurrencyError());
    this.put(tenantId, keyHash, record);
    return Promise.resolve();
  }

  release(tenantId: TenantId, keyHash: string, etag: string): Promise<void> {
    const rows = this.rows(tenantId);
    if (rows.get(`idempotency:${keyHash}`)?.etag !== etag)
      return Promise.reject(new ConcurrencyError());
    rows.delete(`idempotency:${keyHash}`);
    return Promise.resolve();
  }

  private put(tenantId: TenantId, keyHash: string, record: IdempotencyRecord): string {
    const etag = `W/"${randomUUID()}"`;
    this.rows(tenantId).set(`idempotency:${keyHash}`, {
      data: structuredClone({ ...record }),
      etag,
    });
    return etag;
  }

  private rows(tenantId: TenantId): Map<string, StoredReceipt> {
    let rows = this.data.receipts.get(tenantId);
    if (!rows) {
      rows = new Map();
      this.data.receipts.set(tenantId, rows);
    }
    return rows;
  }
}
