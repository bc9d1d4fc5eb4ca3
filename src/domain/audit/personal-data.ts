import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { JsonObject } from '../shared/json';

/** A client's data key: AES-256-GCM, identified by `kid` so entries name the key that sealed them. */
export interface DataKey {
  readonly kid: string;
  readonly key: Buffer;
}

/** Personal data as it sits in a chained payload: ciphertext only, so the hash covers ciphertext. */
export interface SealedPersonalData {
  readonly alg: 'A256GCM';
  readonly kid: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
  [key: string]: string;
}

/** Encrypts personal data with the client's key. `iv` must be 12 fresh random bytes per call. */
export function sealPersonalData(
  data: JsonObject,
  key: DataKey,
  iv: Buffer,
  tenantId: string,
): SealedPersonalData {
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  // The tenant is bound as associated data: a sealed blob moved to another tenant's chain will not open.
  cipher.setAAD(Buffer.from(tenantId, 'utf8'));
  const ct = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  return {
    alg: 'A256GCM',
    kid: key.kid,
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

/** Decrypts, or returns undefined when the key is wrong or the data was altered. */
export function openPersonalData(
  sealed: SealedPersonalData,
  key: DataKey,
  tenantId: string,
): JsonObject | undefined {
  try {
    // An explicit tag length: by default Node accepts tags truncated to 4 bytes, which weakens GCM's integrity.
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(sealed.iv, 'base64url'), {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from(tenantId, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    const clear = Buffer.concat([
      decipher.update(Buffer.from(sealed.ct, 'base64url')),
      decipher.final(),
    ]);
    return JSON.parse(clear.toString('utf8')) as JsonObject;
  } catch {
    return undefined;
  }
}

export function isSealedPersonalData(value: unknown): value is SealedPersonalData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v['alg'] === 'A256GCM' && ['kid', 'iv', 'ct', 'tag'].every((k) => typeof v[k] === 'string')
  );
}
