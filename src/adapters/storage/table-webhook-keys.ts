import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { sealEvents } from '../../application/audit/seal-events';
import type { DataKeyring } from '../../application/ports/data-keyring';
import { ConflictError } from '../../application/ports/errors';
import {
  CLIENT_KEY_PATTERN,
  WEBHOOK_ROTATION_GRACE_MS,
  webhookKeyEvent,
  type IssuedWebhookSecret,
  type WebhookKey,
  type WebhookKeyStore,
  type WebhookSecret,
} from '../../application/ports/webhook-keys';
import type { AuditActor } from '../../domain/audit/audit-event';
import type { DataKey } from '../../domain/audit/personal-data';
import { asTenantId, type TenantId } from '../../domain/shared/ids';
import { Secret } from '../../domain/shared/secret';
import type { Row } from './entity-group';
import type { PartitionCommitter, RowOp } from './partition-committer';
import { readRow } from './table-connection';
import type { ReadRow } from './table-entity.mapper';
import { guarded } from './table-errors';
import { RowKeys, tenantKey } from './table-keys';

/** The directory partition that maps a URL's client key to its tenant. */
const LOOKUP_PARTITION = 'webhook';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A secret as stored: AES-256-GCM under the client's data key `dk`, bound to tenant and kid. */
interface SealedSecret {
  readonly kid: string;
  readonly createdAt: string;
  readonly retiresAt?: string;
  readonly dk: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

/** A fresh client key: 16 random bytes in base32 (26 characters). */
export function newClientKey(): string {
  const bytes = randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return `wh_${out}`;
}

/** A new signing secret and its key id. */
export function newWebhookSecret(now: Date): WebhookSecret {
  return {
    kid: `k${randomBytes(4).toString('hex')}`,
    secret: new Secret(`whsec_${randomBytes(32).toString('base64url')}`),
    createdAt: now.toISOString(),
  };
}

/** The secrets still accepted at `now`. */
export function validSecrets(secrets: readonly WebhookSecret[], now: Date): WebhookSecret[] {
  const at = now.toISOString();
  return secrets.filter((s) => s.retiresAt === undefined || s.retiresAt > at);
}

/** Rotation: a new secret, and every older one retiring at `now + graceMs` at the latest. */
export function rotated(
  secrets: readonly WebhookSecret[],
  now: Date,
  graceMs: number,
): { secrets: WebhookSecret[]; issued: WebhookSecret } {
  const limit = new Date(now.getTime() + graceMs).toISOString();
  const issued = newWebhookSecret(now);
  return {
    issued,
    secrets: [
      ...secrets.map((s) =>
        s.retiresAt !== undefined && s.retiresAt <= limit ? s : { ...s, retiresAt: limit },
      ),
      issued,
    ],
  };
}

/** Retiring: `kid` (or all but the newest) stops now; the newest never does. Undefined if `kid` is unknown or the newest. */
export function retired(
  secrets: readonly WebhookSecret[],
  now: Date,
  kid?: string,
): WebhookSecret[] | undefined {
  const newest = secrets.at(-1);
  if (!newest || kid === newest.kid) return undefined;
  if (kid !== undefined && !secrets.some((s) => s.kid === kid)) return undefined;
  const at = now.toISOString();
  return secrets.map((s) =>
    s !== newest && (kid === undefined || s.kid === kid) && !(s.retiresAt && s.retiresAt <= at)
      ? { ...s, retiresAt: at }
      : s,
  );
}

/**
 * Webhook keys: the secrets in the client's partition at `wk`, sealed with the client's data key
 * (destroying it on offboarding makes them unusable), and an MSP-wide lookup row in the directory
 * table from the URL's client key to the tenant. The client row is written through the partition
 * committer with its `webhook.key_*` audit entry, so no credential changes without its chain entry.
 * @remarks The lookup row is written first; a crash before the client row leaves a lookup that
 * resolves to nothing, because resolving checks that the client row names the same client key.
 */
export class TableWebhookKeyStore implements WebhookKeyStore {
  constructor(
    private readonly data: TableClient,
    private readonly directory: TableClient,
    private readonly keyring: DataKeyring,
    private readonly committer: PartitionCommitter,
  ) {}

  async create(tenantId: TenantId, now: Date, actor: AuditActor): Promise<IssuedWebhookSecret> {
    const conflictMessage = `Client ${tenantId} already has a webhook key; rotate it to get a new secret.`;
    if (await readRow(this.data, tenantKey(tenantId), RowKeys.webhookKey))
      throw new ConflictError(conflictMessage);
    const clientKey = newClientKey();
    await guarded('record a webhook client key', () =>
      this.directory.createEntity({ partitionKey: LOOKUP_PARTITION, rowKey: clientKey, tenantId }),
    );
    const issued = newWebhookSecret(now);
    const key = { clientKey, tenantId, secrets: [issued] };
    await this.commit(key, actor, [], (entity) => ({
      kind: 'create',
      entity,
      onConflict: 'conflict',
      conflictMessage,
    }));
    return { key, issued };
  }

  async rotate(
    tenantId: TenantId,
    now: Date,
    actor: AuditActor,
    graceMs = WEBHOOK_ROTATION_GRACE_MS,
  ): Promise<IssuedWebhookSecret | undefined> {
    const row = await readRow(this.data, tenantKey(tenantId), RowKeys.webhookKey);
    if (!row) return undefined;
    const key = await this.open(tenantId, row);
    const next = rotated(key.secrets, now, graceMs);
    const updated = { ...key, secrets: next.secrets };
    await this.commit(updated, actor, key.secrets, (entity) => replace(entity, row));
    return { key: updated, issued: next.issued };
  }

  async retire(
    tenantId: TenantId,
    now: Date,
    actor: AuditActor,
    kid?: string,
  ): Promise<WebhookKey | undefined> {
    const row = await readRow(this.data, tenantKey(tenantId), RowKeys.webhookKey);
    if (!row) return undefined;
    const key = await this.open(tenantId, row);
    const secrets = retired(key.secrets, now, kid);
    if (!secrets) return undefined;
    const updated = { ...key, secrets };
    // Nothing left to retire: no write, so no audit entry for a change that did not happen.
    if (sameSecrets(key.secrets, secrets)) return updated;
    await this.commit(updated, actor, key.secrets, (entity) => replace(entity, row));
    return updated;
  }

  async get(tenantId: TenantId): Promise<WebhookKey | undefined> {
    const row = await readRow(this.data, tenantKey(tenantId), RowKeys.webhookKey);
    return row ? this.open(tenantId, row) : undefined;
  }

  async resolve(clientKey: string, now: Date): Promise<WebhookKey | undefined> {
    if (!CLIENT_KEY_PATTERN.test(clientKey)) return undefined;
    const lookup = await readRow(this.directory, LOOKUP_PARTITION, clientKey);
    const tenantId = asTenantId(typeof lookup?.['tenantId'] === 'string' ? lookup['tenantId'] : '');
    if (!tenantId) return undefined;
    const key = await this.get(tenantId);
    if (!key || key.clientKey !== clientKey) return undefined;
    return { ...key, secrets: validSecrets(key.secrets, now) };
  }

  /** Writes the client row (built by `op`) with the change's audit entry in one transaction. */
  private async commit(
    key: WebhookKey,
    actor: AuditActor,
    before: readonly WebhookSecret[],
    op: (entity: Row) => RowOp,
  ): Promise<void> {
    const entity: Row = {
      partitionKey: tenantKey(key.tenantId),
      rowKey: RowKeys.webhookKey,
      clientKey: key.clientKey,
      secrets: JSON.stringify(await this.seal(key.tenantId, key.secrets)),
    };
    const events = await sealEvents(
      key.tenantId,
      [webhookKeyEvent(actor, before, key)],
      this.keyring,
    );
    await this.committer.commit(key.tenantId, () => ({ ops: [op(entity)], events, outbox: [] }));
  }

  private async seal(
    tenantId: TenantId,
    secrets: readonly WebhookSecret[],
  ): Promise<SealedSecret[]> {
    const key = await this.keyring.current(tenantId);
    return secrets.map((s) => sealSecret(s, key, tenantId));
  }

  private async open(tenantId: TenantId, row: ReadRow): Promise<WebhookKey> {
    const sealed = JSON.parse(String(row['secrets'])) as SealedSecret[];
    const secrets: WebhookSecret[] = [];
    for (const s of sealed) {
      const key = await this.keyring.find(tenantId, s.dk);
      const secret = key ? openSecret(s, key, tenantId) : undefined;
      // A secret whose data key was destroyed (offboarding) can never verify anything again.
      if (secret)
        secrets.push({
          kid: s.kid,
          secret,
          createdAt: s.createdAt,
          ...(s.retiresAt ? { retiresAt: s.retiresAt } : {}),
        });
    }
    return { clientKey: String(row['clientKey']), tenantId, secrets };
  }
}

/** Replaces the client row under `If-Match`: two concurrent rotations cannot both win. */
function replace(entity: Row, row: ReadRow): RowOp {
  return { kind: 'update', entity, etag: row.etag, onConflict: 'concurrency' };
}

/** Whether a retirement changed nothing (every secret it names had already stopped). */
export function sameSecrets(a: readonly WebhookSecret[], b: readonly WebhookSecret[]): boolean {
  return a.length === b.length && a.every((s, i) => s.retiresAt === b[i]?.retiresAt);
}

function associatedData(tenantId: TenantId, kid: string): Buffer {
  return Buffer.from(`cabinet.webhook|${tenantId}|${kid}`, 'utf8');
}

function sealSecret(secret: WebhookSecret, key: DataKey, tenantId: TenantId): SealedSecret {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(associatedData(tenantId, secret.kid));
  const ct = Buffer.concat([cipher.update(secret.secret.reveal(), 'utf8'), cipher.final()]);
  return {
    kid: secret.kid,
    createdAt: secret.createdAt,
    ...(secret.retiresAt ? { retiresAt: secret.retiresAt } : {}),
    dk: key.kid,
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

function openSecret(sealed: SealedSecret, key: DataKey, tenantId: TenantId): Secret | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(sealed.iv, 'base64url'), {
      authTagLength: 16,
    });
    decipher.setAAD(associatedData(tenantId, sealed.kid));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    return new Secret(
      Buffer.concat([
        decipher.update(Buffer.from(sealed.ct, 'base64url')),
        decipher.final(),
      ]).toString('utf8'),
    );
  } catch {
    return undefined;
  }
}
