import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { DataKeyring } from '../../application/ports/data-keyring';
import { ConflictError } from '../../application/ports/errors';
import {
  CLIENT_KEY_PATTERN,
  WEBHOOK_ROTATION_GRACE_MS,
  type IssuedWebhookSecret,
  type WebhookKey,
  type WebhookKeyStore,
  type WebhookSecret,
} from '../../application/ports/webhook-keys';
import type { DataKey } from '../../domain/audit/personal-data';
import { asTenantId, type TenantId } from '../../domain/shared/ids';
import { Secret } from '../../domain/shared/secret';
import { readRow } from './table-connection';
import type { ReadRow } from './table-entity.mapper';
import { guarded, isAlreadyExists, toPortError } from './table-errors';
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
 * table from the URL's client key to the tenant.
 * @remarks The lookup row is written first; a crash before the client row leaves a lookup that
 * resolves to nothing, because resolving checks that the client row names the same client key.
 */
export class TableWebhookKeyStore implements WebhookKeyStore {
  constructor(
    private readonly data: TableClient,
    private readonly directory: TableClient,
    private readonly keyring: DataKeyring,
  ) {}

  async create(tenantId: TenantId, now: Date): Promise<IssuedWebhookSecret> {
    const partitionKey = tenantKey(tenantId);
    if (await readRow(this.data, partitionKey, RowKeys.webhookKey))
      throw new ConflictError(
        `Client ${tenantId} already has a webhook key; rotate it to get a new secret.`,
      );
    const clientKey = newClientKey();
    await guarded('record a webhook client key', () =>
      this.directory.createEntity({ partitionKey: LOOKUP_PARTITION, rowKey: clientKey, tenantId }),
    );
    const issued = newWebhookSecret(now);
    try {
      await this.data.createEntity({
        partitionKey,
        rowKey: RowKeys.webhookKey,
        clientKey,
        secrets: JSON.stringify(await this.seal(tenantId, [issued])),
      });
    } catch (error) {
      if (isAlreadyExists(error))
        throw new ConflictError(
          `Client ${tenantId} already has a webhook key; rotate it to get a new secret.`,
        );
      throw toPortError(error, 'store a webhook key');
    }
    return { key: { clientKey, tenantId, secrets: [issued] }, issued };
  }

  async rotate(
    tenantId: TenantId,
    now: Date,
    graceMs = WEBHOOK_ROTATION_GRACE_MS,
  ): Promise<IssuedWebhookSecret | undefined> {
    const row = await readRow(this.data, tenantKey(tenantId), RowKeys.webhookKey);
    if (!row) return undefined;
    const key = await this.open(tenantId, row);
    const next = rotated(key.secrets, now, graceMs);
    await this.save(tenantId, row, next.secrets);
    return { key: { ...key, secrets: next.secrets }, issued: next.issued };
  }

  async retire(tenantId: TenantId, now: Date, kid?: string): Promise<WebhookKey | undefined> {
    const row = await readRow(this.data, tenantKey(tenantId), RowKeys.webhookKey);
    if (!row) return undefined;
    const key = await this.open(tenantId, row);
    const secrets = retired(key.secrets, now, kid);
    if (!secrets) return undefined;
    await this.save(tenantId, row, secrets);
    return { ...key, secrets };
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

  /** Replaces the client row under `If-Match`: two concurrent rotations cannot both win. */
  private async save(tenantId: TenantId, row: ReadRow, secrets: readonly WebhookSecret[]) {
    const sealed = await this.seal(tenantId, secrets);
    await guarded('update a webhook key', () =>
      this.data.updateEntity(
        {
          partitionKey: tenantKey(tenantId),
          rowKey: RowKeys.webhookKey,
          clientKey: row['clientKey'] as string,
          secrets: JSON.stringify(sealed),
        },
        'Replace',
        { etag: row.etag },
      ),
    );
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
