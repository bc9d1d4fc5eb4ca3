import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKey } from '../../domain/audit/personal-data';
import type { TenantId } from '../../domain/shared/ids';
import { Secret } from '../../domain/shared/secret';

/** A temporary password as stored: AES-256-GCM ciphertext under the client's data key `kid`. */
export interface SealedPassword {
  readonly kid: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

/**
 * Binds the ciphertext to its tenant and run, and keeps it apart from audit personal data sealed
 * with the same key: a sealed password copied to another run or tenant will not open.
 */
function associatedData(tenantId: TenantId, runId: string): Buffer {
  return Buffer.from(`cabinet.password|${tenantId}|${runId}`, 'utf8');
}

export function sealPassword(
  password: Secret,
  key: DataKey,
  tenantId: TenantId,
  runId: string,
): SealedPassword {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(associatedData(tenantId, runId));
  const ct = Buffer.concat([cipher.update(password.reveal(), 'utf8'), cipher.final()]);
  return {
    kid: key.kid,
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

/** The password, or undefined when the key is wrong or the ciphertext was altered or moved. */
export function openPassword(
  sealed: SealedPassword,
  key: DataKey,
  tenantId: TenantId,
  runId: string,
): Secret | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(sealed.iv, 'base64url'), {
      authTagLength: 16,
    });
    decipher.setAAD(associatedData(tenantId, runId));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    const clear = Buffer.concat([
      decipher.update(Buffer.from(sealed.ct, 'base64url')),
      decipher.final(),
    ]);
    return new Secret(clear.toString('utf8'));
  } catch {
    return undefined;
  }
}
