import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import type { CheckpointSigner } from '../../application/ports/checkpoints';
import type { Clock } from '../../application/ports/clock';
import { noteKeyHash, validKeyName } from '../../domain/audit/checkpoint';
import {
  keyManifestEntry,
  verifyKeyManifest,
  type KeyManifest,
} from '../../domain/audit/key-manifest';
import { openTable, readRow } from '../storage/table-connection';
import { tableNames } from '../storage/table-storage';
import { isAlreadyExists, toPortError } from '../storage/table-errors';
import type { TableClient } from '@azure/data-tables';

/**
 * Signs checkpoints with an ECDSA P-256 key held in this process (node:crypto).
 * @remarks Signatures are IEEE P1363 (r‖s), the encoding Azure Key Vault's ES256 returns, so a
 * Key Vault signer can replace this one behind the same port without changing a note.
 */
export class NodeCheckpointSigner implements CheckpointSigner {
  readonly publicKeySpki: Buffer;
  readonly keyHash: Buffer;

  constructor(
    private readonly privateKey: KeyObject,
    readonly keyName: string,
    private readonly keys: KeyManifest,
  ) {
    if (
      privateKey.asymmetricKeyType !== 'ec' ||
      privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    )
      throw new Error('The checkpoint key must be an ECDSA P-256 private key.');
    if (!validKeyName(keyName))
      throw new Error(
        `The checkpoint key name ${JSON.stringify(keyName)} has spaces, "+" or control characters.`,
      );
    this.publicKeySpki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    this.keyHash = noteKeyHash(keyName, this.publicKeySpki);
  }

  sign(body: string | Uint8Array): Promise<Buffer> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    return Promise.resolve(
      sign('sha256', bytes, { key: this.privateKey, dsaEncoding: 'ieee-p1363' }),
    );
  }

  manifest(): KeyManifest {
    return this.keys;
  }
}

/** Production: a configured key and the published manifest whose newest key it is. */
export interface ConfiguredCheckpointSignerOptions {
  /** PKCS #8 PEM of the ECDSA P-256 private key. */
  readonly privateKeyPem: string;
  /** The key manifest JSON (`cabinet-keys/v1`), oldest key first, each endorsed by the one before. */
  readonly manifestJson: string;
}

/**
 * Builds the production signer, failing fast when the manifest does not verify or its newest key is
 * not this private key's (a rotation half done would sign notes no auditor can check).
 */
export function createConfiguredCheckpointSigner(
  options: ConfiguredCheckpointSignerOptions,
): NodeCheckpointSigner {
  let manifest: unknown;
  try {
    manifest = JSON.parse(options.manifestJson);
  } catch (error: unknown) {
    throw new Error('The checkpoint key manifest is not valid JSON.', { cause: error });
  }
  const verdict = verifyKeyManifest(manifest);
  if (!verdict.ok)
    throw new Error(`The checkpoint key manifest does not verify: ${verdict.reason}.`);
  const newest = verdict.keys.at(-1);
  const privateKey = createPrivateKey({ key: options.privateKeyPem, format: 'pem' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!newest || !newest.publicKeySpki.equals(spki))
    throw new Error(
      'The checkpoint private key is not the newest key of the key manifest; publish the rotated manifest with the key.',
    );
  return new NodeCheckpointSigner(privateKey, newest.name, manifest as KeyManifest);
}

/** Sandbox: where the generated key is kept (the `keys` table, beside the data keys). */
export interface SandboxCheckpointSignerOptions {
  readonly connectionString: string;
  readonly tablePrefix: string;
  /** The note key name of a newly generated key (default `cabinet-sandbox`). */
  readonly keyName?: string;
  readonly clock: Clock;
}

/** The keys-table row of the sandbox checkpoint key; not a tenant id, so it meets no data key. */
const SANDBOX_KEY_PARTITION = 'checkpoint';
const SANDBOX_KEY_ROW = 'signing-key';

/**
 * The sandbox signer: a P-256 key generated on first start and kept in the keys table, so restarts
 * (and every instance) sign with the same key; its manifest holds that one key.
 * @remarks Two instances starting at once both generate a key; the insert-only row lets one win
 * and the other adopts it.
 */
export async function loadSandboxCheckpointSigner(
  options: SandboxCheckpointSignerOptions,
): Promise<NodeCheckpointSigner> {
  const keysTable = openTable(options.connectionString, tableNames(options.tablePrefix).keys);
  const stored = await readSandboxKey(keysTable);
  if (stored) return sandboxSigner(stored);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const fresh: SandboxKey = {
    keyName: options.keyName ?? 'cabinet-sandbox',
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    createdAt: options.clock.now().toISOString(),
  };
  try {
    await keysTable.createEntity({
      partitionKey: SANDBOX_KEY_PARTITION,
      rowKey: SANDBOX_KEY_ROW,
      ...fresh,
    });
    return sandboxSigner(fresh);
  } catch (error: unknown) {
    if (!isAlreadyExists(error)) throw toPortError(error, 'save checkpoint key');
  }
  const winner = await readSandboxKey(keysTable);
  if (!winner) throw new Error('The sandbox checkpoint key vanished while it was being created.');
  return sandboxSigner(winner);
}

interface SandboxKey {
  readonly keyName: string;
  /** PKCS #8 DER, base64. */
  readonly pkcs8: string;
  readonly createdAt: string;
}

async function readSandboxKey(table: TableClient): Promise<SandboxKey | undefined> {
  const row = await readRow(table, SANDBOX_KEY_PARTITION, SANDBOX_KEY_ROW);
  if (!row) return undefined;
  const { keyName, pkcs8, createdAt } = row;
  if (typeof keyName !== 'string' || typeof pkcs8 !== 'string' || typeof createdAt !== 'string')
    throw new Error('The sandbox checkpoint key row is malformed.');
  return { keyName, pkcs8, createdAt };
}

function sandboxSigner(key: SandboxKey): NodeCheckpointSigner {
  const privateKey = createPrivateKey({
    key: Buffer.from(key.pkcs8, 'base64'),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKeySpki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const manifest: KeyManifest = {
    format: 'cabinet-keys/v1',
    keys: [keyManifestEntry({ name: key.keyName, publicKeySpki, createdAt: key.createdAt })],
  };
  return new NodeCheckpointSigner(privateKey, key.keyName, manifest);
}
