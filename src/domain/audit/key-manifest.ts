import { createHash, createPublicKey, verify as verifySignatureBytes } from 'node:crypto';
import { P1363_SIGNATURE_BYTES, noteKeyHash, validKeyName } from './checkpoint';

/** The `format` of `keys/keys.json`. */
export const KEY_MANIFEST_FORMAT = 'cabinet-keys/v1';

/** The only checkpoint key algorithm: ECDSA P-256 over SHA-256, P1363 signatures. */
export const CHECKPOINT_KEY_ALGORITHM = 'ecdsa-p256-sha256';

/** One checkpoint signing key as published to auditors. */
export interface KeyManifestEntry {
  /** The note key name on signature lines. */
  readonly name: string;
  /** {@link noteKeyHash} of `name` and the key, 8 hex characters. */
  readonly keyHash: string;
  readonly algorithm: typeof CHECKPOINT_KEY_ALGORITHM;
  /** Base64 of the SPKI DER public key. */
  readonly publicKey: string;
  /** ISO 8601 instant the key was introduced. */
  readonly createdAt: string;
  /**
   * Base64 P1363 signature by the previous key over {@link endorsementText}; absent on the first
   * key, which is pinned out of band by its {@link keyFingerprint}.
   */
  readonly endorsement?: string;
}

/**
 * `keys/keys.json`: every checkpoint key, oldest first, each endorsed by the one before it, so an
 * auditor who pins the first key can follow rotations without trusting the bundle.
 */
export interface KeyManifest {
  readonly format: typeof KEY_MANIFEST_FORMAT;
  readonly keys: readonly KeyManifestEntry[];
}

/** A key of a manifest that verified, decoded for signature checks. */
export interface VerifiedKey {
  readonly name: string;
  readonly keyHash: Buffer;
  readonly publicKeySpki: Buffer;
  readonly createdAt: string;
}

/** The outcome of {@link verifyKeyManifest}. */
export type KeyManifestVerdict =
  | { readonly ok: true; readonly fingerprint: string; readonly keys: readonly VerifiedKey[] }
  | { readonly ok: false; readonly reason: string; readonly index?: number };

/** The exact bytes the previous key signs to endorse a new key (UTF-8 of this text). */
export function endorsementText(
  key: Pick<KeyManifestEntry, 'name' | 'publicKey' | 'createdAt'>,
): string {
  return `cabinet-key-endorsement/v1\n${key.name}\n${key.publicKey}\n${key.createdAt}\n`;
}

/** The pin for the first key: SHA-256 of its SPKI DER, lowercase hex. */
export function keyFingerprint(publicKeySpki: Uint8Array): string {
  return createHash('sha256').update(publicKeySpki).digest('hex');
}

/** A manifest entry for a key, with its key hash derived so the two can never disagree. */
export function keyManifestEntry(key: {
  readonly name: string;
  readonly publicKeySpki: Uint8Array;
  readonly createdAt: string;
  readonly endorsement?: Uint8Array;
}): KeyManifestEntry {
  const entry: KeyManifestEntry = {
    name: key.name,
    keyHash: noteKeyHash(key.name, key.publicKeySpki).toString('hex'),
    algorithm: CHECKPOINT_KEY_ALGORITHM,
    publicKey: Buffer.from(key.publicKeySpki).toString('base64'),
    createdAt: key.createdAt,
  };
  return key.endorsement === undefined
    ? entry
    : { ...entry, endorsement: Buffer.from(key.endorsement).toString('base64') };
}

const ENTRY_FIELDS = new Set([
  'name',
  'keyHash',
  'algorithm',
  'publicKey',
  'createdAt',
  'endorsement',
]);
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/u;

function canonicalBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/u.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length > 0 && bytes.toString('base64') === value ? bytes : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isP256(spki: Buffer): boolean {
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}

function verifyEndorsement(previous: VerifiedKey, text: string, signature: Buffer): boolean {
  if (signature.length !== P1363_SIGNATURE_BYTES) return false;
  const key = createPublicKey({ key: previous.publicKeySpki, format: 'der', type: 'spki' });
  return verifySignatureBytes(
    'sha256',
    Buffer.from(text, 'utf8'),
    { key, dsaEncoding: 'ieee-p1363' },
    signature,
  );
}

/**
 * Checks a key manifest parsed from untrusted JSON: shape, every key a P-256 SPKI whose key hash
 * matches, names and key hashes unique, creation times not going backwards, each later key endorsed
 * by the previous one, and (when given) the first key matching the out-of-band pin.
 * @remarks Never throws; the verdict names the first failing key.
 */
export function verifyKeyManifest(
  manifest: unknown,
  pinnedFingerprint?: string,
): KeyManifestVerdict {
  if (!isRecord(manifest) || manifest['format'] !== KEY_MANIFEST_FORMAT) {
    return { ok: false, reason: `not a ${KEY_MANIFEST_FORMAT} key manifest` };
  }
  if (Object.keys(manifest).some((field) => field !== 'format' && field !== 'keys')) {
    return { ok: false, reason: 'the key manifest has unknown fields' };
  }
  const entries = manifest['keys'];
  if (!Array.isArray(entries) || entries.length === 0)
    return { ok: false, reason: 'the key manifest lists no keys' };
  const keys: VerifiedKey[] = [];
  for (const [index, entry] of (entries as unknown[]).entries()) {
    const fail = (reason: string): KeyManifestVerdict => ({
      ok: false,
      reason: `key ${index + 1}: ${reason}`,
      index,
    });
    if (!isRecord(entry)) return fail('not an object');
    if (Object.keys(entry).some((field) => !ENTRY_FIELDS.has(field))) return fail('unknown fields');
    const { name, keyHash, algorithm, publicKey, createdAt, endorsement } = entry;
    if (typeof name !== 'string' || !validKeyName(name)) return fail('invalid name');
    if (algorithm !== CHECKPOINT_KEY_ALGORITHM)
      return fail(`algorithm is not ${CHECKPOINT_KEY_ALGORITHM}`);
    const spki = canonicalBase64(publicKey);
    if (spki === undefined || !isP256(spki))
      return fail('publicKey is not base64 of a P-256 SPKI key');
    const expectedHash = noteKeyHash(name, spki);
    if (keyHash !== expectedHash.toString('hex'))
      return fail('keyHash does not match the name and key');
    if (
      typeof createdAt !== 'string' ||
      !ISO_INSTANT.test(createdAt) ||
      Number.isNaN(Date.parse(createdAt))
    ) {
      return fail('createdAt is not an ISO 8601 UTC instant');
    }
    const previous = keys.at(-1);
    if (previous !== undefined && Date.parse(createdAt) < Date.parse(previous.createdAt)) {
      return fail('created before the key it follows');
    }
    if (keys.some((k) => k.name === name || k.keyHash.equals(expectedHash)))
      return fail('duplicate name or key hash');
    if (previous === undefined) {
      if (endorsement !== undefined) return fail('the first key is pinned, not endorsed');
    } else {
      const signature = canonicalBase64(endorsement);
      if (signature === undefined) return fail('missing endorsement by the previous key');
      if (
        !verifyEndorsement(
          previous,
          endorsementText({ name, publicKey: publicKey as string, createdAt }),
          signature,
        )
      ) {
        return fail('endorsement is not a valid signature by the previous key');
      }
    }
    keys.push({ name, keyHash: expectedHash, publicKeySpki: spki, createdAt });
  }
  const first = keys[0] as VerifiedKey;
  const fingerprint = keyFingerprint(first.publicKeySpki);
  if (pinnedFingerprint !== undefined && pinnedFingerprint.toLowerCase() !== fingerprint) {
    return {
      ok: false,
      reason: `the first key's fingerprint ${fingerprint} is not the pinned ${pinnedFingerprint}`,
      index: 0,
    };
  }
  return { ok: true, fingerprint, keys };
}
