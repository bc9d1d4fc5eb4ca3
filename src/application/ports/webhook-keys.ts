import type { TenantId } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';
import type { Secret } from '../../domain/shared/secret';

/** How long a rotated-out secret keeps working unless retired sooner: senders get a day to switch. */
export const WEBHOOK_ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

/** `wh_` + 26 base32 characters (128 random bits): the public id in the webhook URL, never the tenant id. */
export const CLIENT_KEY_PATTERN = /^wh_[a-z2-7]{26}$/;

/** One signing secret of a client's webhook key; several are valid while a rotation is under way. */
export interface WebhookSecret {
  readonly kid: string;
  readonly secret: Secret;
  readonly createdAt: string;
  /** When it stops being accepted; absent for the newest secret until the next rotation. */
  readonly retiresAt?: string;
}

/** A client's webhook endpoint: the public key in its URL, the tenant it raises requests for, its secrets. */
export interface WebhookKey {
  readonly clientKey: string;
  readonly tenantId: TenantId;
  /** Oldest first; the last one is the newest. */
  readonly secrets: readonly WebhookSecret[];
}

/** What create and rotate hand back once: the key and the new secret, to show the operator. */
export interface IssuedWebhookSecret {
  readonly key: WebhookKey;
  readonly issued: WebhookSecret;
}

/**
 * Per-client webhook keys. The tenant is only ever found from the client key (the URL) and the
 * signature made with one of its secrets, never from a payload.
 */
export interface WebhookKeyStore {
  /** A new key with one secret; ConflictError if the client has one already (rotate it instead). */
  create(tenantId: TenantId, now: Date): Promise<IssuedWebhookSecret>;
  /**
   * Adds a secret with a new kid; the older ones stay valid until `now + graceMs` (or earlier if
   * already set). Undefined when the client has no key.
   */
  rotate(tenantId: TenantId, now: Date, graceMs?: number): Promise<IssuedWebhookSecret | undefined>;
  /**
   * Retires `kid` now, or every secret but the newest when `kid` is absent. The newest secret is
   * never retired (rotate first). Undefined when the client has no key or no such kid.
   */
  retire(tenantId: TenantId, now: Date, kid?: string): Promise<WebhookKey | undefined>;
  /** The client's key with all its secrets, retired ones included. */
  get(tenantId: TenantId): Promise<WebhookKey | undefined>;
  /** The key behind a URL's client key, with only the secrets still valid at `now`. */
  resolve(clientKey: string, now: Date): Promise<WebhookKey | undefined>;
}

/** A delivery already turned into a request: what a replay of its delivery id is told. */
export interface DeliveryRecord {
  readonly requestId: string;
  readonly status: string;
  readonly at: string;
}

/** What an idempotent call's record holds; `done` records carry the outcome to replay. */
export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly state: 'in_progress' | 'done';
  readonly createdAt: string;
  readonly outcome?: JsonObject;
}

export interface StoredIdempotencyRecord {
  readonly record: IdempotencyRecord;
  readonly etag: string;
}

/**
 * The receipts of webhook intake in the client's partition: delivery ids already taken in and
 * idempotency records (ids are SHA-256 hex of the caller's values). Records that complete a request
 * are written by the request store as `receipts` of the request write, in its transaction.
 */
export interface WebhookLedger {
  delivery(tenantId: TenantId, deliveryHash: string): Promise<DeliveryRecord | undefined>;
  idempotency(tenantId: TenantId, keyHash: string): Promise<StoredIdempotencyRecord | undefined>;
  /**
   * Writes an in-progress record: insert-only (ConflictError if one exists), or a replace of an
   * expired or abandoned one under `replaceEtag` (ConcurrencyError if it moved). Returns its ETag.
   */
  begin(
    tenantId: TenantId,
    keyHash: string,
    record: IdempotencyRecord,
    replaceEtag?: string,
  ): Promise<string>;
  /** Records a finished call that created nothing (a refusal), under `If-Match`. */
  finish(
    tenantId: TenantId,
    keyHash: string,
    etag: string,
    record: IdempotencyRecord,
  ): Promise<void>;
  /** Drops an in-progress record whose call never ran to the end, so a retry may run it. */
  release(tenantId: TenantId, keyHash: string, etag: string): Promise<void>;
}
