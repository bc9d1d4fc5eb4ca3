import type { AuditActor, AuditEvent } from '../../domain/audit/audit-event';
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
 * signature made with one of its secrets, never from a payload. Every change of a key is written
 * with its `webhook.key_*` audit entry (by `actor`) in the same transaction of the client's
 * partition; a change that fails or changes nothing writes no entry.
 */
export interface WebhookKeyStore {
  /** A new key with one secret; ConflictError if the client has one already (rotate it instead). */
  create(tenantId: TenantId, now: Date, actor: AuditActor): Promise<IssuedWebhookSecret>;
  /**
   * Adds a secret with a new kid; the older ones stay valid until `now + graceMs` (or earlier if
   * already set). Undefined when the client has no key.
   */
  rotate(
    tenantId: TenantId,
    now: Date,
    actor: AuditActor,
    graceMs?: number,
  ): Promise<IssuedWebhookSecret | undefined>;
  /**
   * Retires `kid` now, or every secret but the newest when `kid` is absent. The newest secret is
   * never retired (rotate first). Undefined when the client has no key or no such kid.
   */
  retire(
    tenantId: TenantId,
    now: Date,
    actor: AuditActor,
    kid?: string,
  ): Promise<WebhookKey | undefined>;
  /** The client's key with all its secrets, retired ones included. */
  get(tenantId: TenantId): Promise<WebhookKey | undefined>;
  /** The key behind a URL's client key, with only the secrets still valid at `now`. */
  resolve(clientKey: string, now: Date): Promise<WebhookKey | undefined>;
}

/**
 * The audit entry of a key change, the same from every store: the client key (public: it is in
 * the URL), the kids and when they stop working; never a secret.
 * - created: the first kid. - rotated: the new kid and each older kid whose end moved.
 * - retired: each kid that stopped at `now`.
 */
export function webhookKeyEvent(
  actor: AuditActor,
  before: readonly WebhookSecret[],
  after: WebhookKey,
): AuditEvent {
  const known = new Map(before.map((s) => [s.kid, s]));
  const added = after.secrets.filter((s) => !known.has(s.kid));
  const moved = after.secrets
    .filter((s) => known.has(s.kid) && known.get(s.kid)?.retiresAt !== s.retiresAt)
    .map((s) => ({ kid: s.kid, retiresAt: s.retiresAt ?? null }));
  const base = { tenantId: after.tenantId, clientKey: after.clientKey };
  const newest = added[0];
  if (before.length === 0 && newest)
    return {
      type: 'webhook.key_created',
      actor,
      requestId: null,
      payload: { ...base, kid: newest.kid },
    };
  if (newest)
    return {
      type: 'webhook.key_rotated',
      actor,
      requestId: null,
      payload: { ...base, kid: newest.kid, retiring: moved },
    };
  return {
    type: 'webhook.key_retired',
    actor,
    requestId: null,
    payload: { ...base, retired: moved },
  };
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
