import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createConfiguredCheckpointSigner } from '../adapters/crypto/checkpoint-signer';
import { validKeyName } from '../domain/audit/checkpoint';
import {
  endorsementText,
  KEY_MANIFEST_FORMAT,
  keyFingerprint,
  keyManifestEntry,
  verifyKeyManifest,
  type KeyManifest,
  type VerifiedKey,
} from '../domain/audit/key-manifest';

export interface EvidenceKeysDeps {
  readonly out: (line: string) => void;
  /** The new key's `createdAt`. */
  readonly now: () => Date;
}

export const EVIDENCE_KEYS_USAGE = `cabinet evidence keys create --name <key name> --key-out <key.pem> --manifest-out <keys.json>
  a new P-256 checkpoint signing key (PKCS #8 PEM, mode 0600) and its one-key manifest; prints the
  fingerprint auditors pin (set CABINET_CHECKPOINT_KEY_PEM and CABINET_CHECKPOINT_KEY_MANIFEST to them)
cabinet evidence keys rotate --key <current.pem> --manifest <keys.json> --name <new key name> --key-out <new.pem> --manifest-out <keys.json>
  a new key appended to the manifest, endorsed by the current (newest) key; the pinned first key is unchanged
cabinet evidence keys show --manifest <keys.json> [--pin <fingerprint>]
  verifies the manifest's endorsement chain and lists its keys`;

/** A refusal the operator can act on; the message says what to fix. */
class KeysInputError extends Error {}

interface KeysOptions {
  name?: string;
  key?: string;
  manifest?: string;
  'key-out'?: string;
  'manifest-out'?: string;
  pin?: string;
}

/** `cabinet evidence keys …`: needs no storage or configuration. Returns the exit code. */
export async function runEvidenceKeysCommand(
  args: readonly string[],
  deps: EvidenceKeysDeps,
): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command !== 'create' && command !== 'rotate' && command !== 'show')
      throw new KeysInputError(EVIDENCE_KEYS_USAGE);
    let values: KeysOptions;
    try {
      ({ values } = parseArgs({
        args: rest,
        options: {
          name: { type: 'string' },
          key: { type: 'string' },
          manifest: { type: 'string' },
          'key-out': { type: 'string' },
          'manifest-out': { type: 'string' },
          pin: { type: 'string' },
        },
        allowPositionals: false,
      }));
    } catch (error: unknown) {
      throw new KeysInputError(`${(error as Error).message}\n${EVIDENCE_KEYS_USAGE}`);
    }
    if (command === 'show') return await show(values, deps);
    if (command === 'create') return await create(values, deps);
    return await rotate(values, deps);
  } catch (error: unknown) {
    if (!(error instanceof KeysInputError)) throw error;
    deps.out(error.message);
    return 1;
  }
}

function required(values: KeysOptions, option: keyof KeysOptions, command: string): string {
  const value = values[option];
  if (!value)
    throw new KeysInputError(`evidence keys ${command} needs --${option}.\n${EVIDENCE_KEYS_USAGE}`);
  return value;
}

function checkName(name: string): void {
  if (!validKeyName(name))
    throw new KeysInputError(
      `The key name ${JSON.stringify(name)} has spaces, "+" or control characters; pick a name like cabinet-2026 (it appears on every signature line).`,
    );
}

async function readText(path: string, what: string, option: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error: unknown) {
    throw new KeysInputError(
      `Cannot read the ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check --${option}.`,
    );
  }
}

async function readManifest(
  path: string,
  pin?: string,
): Promise<{ manifest: KeyManifest; keys: readonly VerifiedKey[]; fingerprint: string }> {
  const text = await readText(path, 'key manifest', 'manifest');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeysInputError(
      `${path} is not JSON; --manifest takes a ${KEY_MANIFEST_FORMAT} file.`,
    );
  }
  const verdict = verifyKeyManifest(parsed, pin);
  if (!verdict.ok)
    throw new KeysInputError(
      `The key manifest ${path} does not verify: ${verdict.reason}. Use the manifest Cabinet published (CABINET_CHECKPOINT_KEY_MANIFEST).`,
    );
  return { manifest: parsed as KeyManifest, keys: verdict.keys, fingerprint: verdict.fingerprint };
}

const manifestText = (manifest: KeyManifest): string => `${JSON.stringify(manifest, null, 2)}\n`;

const spkiOf = (key: KeyObject): Buffer =>
  createPublicKey(key).export({ type: 'spki', format: 'der' });

/**
 * Writes the new private key (never over an existing file: a lost key cannot be re-created) and then
 * the manifest, replacing `replaceable` atomically (rotation in place) and refusing any other
 * existing file; the key is removed again if the manifest cannot be written.
 */
async function writePair(
  keyOut: string,
  pem: string,
  manifestOut: string,
  manifest: KeyManifest,
  replaceable?: string,
): Promise<void> {
  if (resolve(keyOut) === resolve(manifestOut) || resolve(keyOut) === replaceable)
    throw new KeysInputError('--key-out must be a file of its own, not the manifest.');
  try {
    await writeFile(keyOut, pem, { flag: 'wx', mode: 0o600 });
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KeysInputError(
      code === 'EEXIST'
        ? `${keyOut} exists; --key-out never overwrites a key. Choose a new file.`
        : `Cannot write ${keyOut} (${code ?? 'error'}); check --key-out.`,
    );
  }
  try {
    if (resolve(manifestOut) === replaceable) {
      const temporary = `${manifestOut}.${process.pid}.tmp`;
      await writeFile(temporary, manifestText(manifest), { flag: 'wx' });
      await rename(temporary, manifestOut);
    } else {
      await writeFile(manifestOut, manifestText(manifest), { flag: 'wx' });
    }
  } catch (error: unknown) {
    await rm(keyOut, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new KeysInputError(
      code === 'EEXIST'
        ? `${manifestOut} exists; --manifest-out writes a new file (or, when rotating, the --manifest it extends). Nothing was written.`
        : `Cannot write ${manifestOut} (${code ?? 'error'}); check --manifest-out. Nothing was written.`,
    );
  }
}

/** The signer production would build from the pair; refuses the pair exactly as the server would. */
function checkDeployable(pem: string, manifest: KeyManifest): void {
  createConfiguredCheckpointSigner({ privateKeyPem: pem, manifestJson: manifestText(manifest) });
}

async function create(values: KeysOptions, deps: EvidenceKeysDeps): Promise<number> {
  const name = required(values, 'name', 'create');
  const keyOut = required(values, 'key-out', 'create');
  const manifestOut = required(values, 'manifest-out', 'create');
  checkName(name);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const spki = spkiOf(privateKey);
  const entry = keyManifestEntry({
    name,
    publicKeySpki: spki,
    createdAt: deps.now().toISOString(),
  });
  const manifest: KeyManifest = { format: KEY_MANIFEST_FORMAT, keys: [entry] };
  checkDeployable(pem, manifest);
  await writePair(keyOut, pem, manifestOut, manifest);
  deps.out(`Created checkpoint key "${name}" (key hash ${entry.keyHash}).`);
  deps.out(`Private key: ${keyOut} (mode 0600) -> CABINET_CHECKPOINT_KEY_PEM; keep it secret.`);
  deps.out(`Key manifest: ${manifestOut} -> CABINET_CHECKPOINT_KEY_MANIFEST.`);
  deps.out(`Pinned key fingerprint (SHA-256): ${keyFingerprint(spki)}`);
  deps.out('Give auditors this fingerprint out of band; every bundle is checked against it.');
  return 0;
}

async function rotate(values: KeysOptions, deps: EvidenceKeysDeps): Promise<number> {
  const keyPath = required(values, 'key', 'rotate');
  const manifestPath = required(values, 'manifest', 'rotate');
  const name = required(values, 'name', 'rotate');
  const keyOut = required(values, 'key-out', 'rotate');
  const manifestOut = required(values, 'manifest-out', 'rotate');
  checkName(name);
  const pemText = await readText(keyPath, 'current private key', 'key');
  let current: KeyObject;
  try {
    current = createPrivateKey({ key: pemText, format: 'pem' });
  } catch {
    throw new KeysInputError(
      `${keyPath} is not a PEM private key; --key takes the current key.pem.`,
    );
  }
  if (
    current.asymmetricKeyType !== 'ec' ||
    current.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  )
    throw new KeysInputError(
      `${keyPath} is not an ECDSA P-256 key; --key takes the current key.pem.`,
    );
  const { manifest, keys, fingerprint } = await readManifest(manifestPath);
  const newest = keys.at(-1) as VerifiedKey;
  const currentSpki = spkiOf(current);
  if (!newest.publicKeySpki.equals(currentSpki))
    throw new KeysInputError(
      `${keyPath} is not the newest key of ${manifestPath} ("${newest.name}"); rotate with that key's PEM, or pass the manifest it belongs to.`,
    );
  if (keys.some((k) => k.name === name))
    throw new KeysInputError(`The manifest already has a key named "${name}"; pick a new --name.`);
  const createdAt = deps.now().toISOString();
  if (Date.parse(createdAt) < Date.parse(newest.createdAt))
    throw new KeysInputError(
      `This machine's clock (${createdAt}) is before the current key's creation (${newest.createdAt}); fix the clock.`,
    );
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = spkiOf(privateKey);
  const unsigned = keyManifestEntry({ name, publicKeySpki: spki, createdAt });
  const endorsement = sign('sha256', Buffer.from(endorsementText(unsigned), 'utf8'), {
    key: current,
    dsaEncoding: 'ieee-p1363',
  });
  const entry = keyManifestEntry({ name, publicKeySpki: spki, createdAt, endorsement });
  const rotated: KeyManifest = { format: KEY_MANIFEST_FORMAT, keys: [...manifest.keys, entry] };
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  checkDeployable(pem, rotated);
  await writePair(keyOut, pem, manifestOut, rotated, resolve(manifestPath));
  deps.out(
    `Rotated from "${newest.name}" to "${name}" (key hash ${entry.keyHash}), endorsed by "${newest.name}".`,
  );
  deps.out(`Current key fingerprint (SHA-256): ${keyFingerprint(currentSpki)}`);
  deps.out(`New key fingerprint (SHA-256): ${keyFingerprint(spki)}`);
  deps.out(`Pinned key fingerprint (SHA-256) unchanged: ${fingerprint}`);
  deps.out(
    `Deploy ${keyOut} as CABINET_CHECKPOINT_KEY_PEM and ${manifestOut} as CABINET_CHECKPOINT_KEY_MANIFEST together; the old key must sign nothing after that.`,
  );
  return 0;
}

async function show(values: KeysOptions, deps: EvidenceKeysDeps): Promise<number> {
  const manifestPath = required(values, 'manifest', 'show');
  const { keys, fingerprint } = await readManifest(manifestPath, values.pin);
  deps.out(`${manifestPath}: ${keys.length} key(s), endorsement chain verified.`);
  deps.out(
    `Pinned key fingerprint (SHA-256): ${fingerprint}${values.pin ? ' (matches --pin)' : ''}`,
  );
  for (const [i, key] of keys.entries()) {
    const role = i === 0 ? 'pinned' : `endorsed by "${keys[i - 1]!.name}"`;
    const newest = i === keys.length - 1 ? ', signs now' : '';
    deps.out(
      `${i + 1}. ${key.name}  key hash ${key.keyHash.toString('hex')}  created ${key.createdAt}  SHA-256 ${keyFingerprint(key.publicKeySpki)}  (${role}${newest})`,
    );
  }
  return 0;
}
