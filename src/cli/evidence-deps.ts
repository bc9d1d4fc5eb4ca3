import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  createConfiguredCheckpointSigner,
  loadSandboxCheckpointSigner,
} from '../adapters/crypto/checkpoint-signer';
import { createBlobCheckpointAnchor } from '../adapters/storage/blob-checkpoint-anchor';
import type { TableStorage } from '../adapters/storage/table-storage';
import type { Clock } from '../application/ports/clock';
import type { EvidenceExportDeps } from '../application/use-cases/evidence-export';
import type { TenantId } from '../domain/shared/ids';
import type { Config } from '../config';
import { azuriteConnectionString } from '../sandbox/azurite';

/** Where the evidence export finds its signer, anchors and verifier. */
export interface EvidenceDepsOptions {
  /** The storage connection string (the sandbox signer's keys table; the anchors unless given their own). */
  readonly connectionString: string;
  /** Where the anchor container lives when not in the storage account (production: a separate, WORM account). */
  readonly anchorConnectionString?: string;
  readonly tablePrefix: string;
  /** The container of the `<tenant>.checkpoints` anchor blobs. */
  readonly anchorContainer: string;
  /** Production key and manifest; absent: the sandbox key kept in the keys table. */
  readonly signer?: { readonly privateKeyPem: string; readonly manifestJson: string };
  readonly clock: Clock;
  /** Cabinet's version for the manifest (package.json `version`). */
  readonly generatorVersion: string;
  /** Default: `verifier/verify.mjs` at the repository (or package) root. */
  readonly verifierPath?: string;
  /** Kicks the relay after an export's checkpoint queued its witness cards (the server passes it). */
  readonly outboxWritten?: (tenantId: TenantId) => void;
}

/** The repository root, two folders up from `src/cli`. */
const ROOT = resolve(__dirname, '..', '..');

/** Cabinet's version for the bundle manifest. */
const GENERATOR_VERSION = (
  JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * The evidence options a configuration gives (server and CLI alike): storage, the anchor container
 * and account, and in production the configured signing key.
 */
export function evidenceDepsOptions(
  config: Config,
  extra: { readonly clock: Clock; readonly outboxWritten?: (tenantId: TenantId) => void },
): EvidenceDepsOptions {
  const { checkpoints } = config;
  return {
    connectionString:
      config.storage.connectionString ??
      azuriteConnectionString(config.sandbox.azuritePort, config.sandbox.azuriteBlobPort),
    ...(checkpoints.anchorConnectionString
      ? { anchorConnectionString: checkpoints.anchorConnectionString }
      : {}),
    tablePrefix: config.storage.tablePrefix,
    anchorContainer: checkpoints.container,
    ...(checkpoints.keyPem && checkpoints.manifestJson
      ? { signer: { privateKeyPem: checkpoints.keyPem, manifestJson: checkpoints.manifestJson } }
      : {}),
    clock: extra.clock,
    generatorVersion: GENERATOR_VERSION,
    ...(extra.outboxWritten ? { outboxWritten: extra.outboxWritten } : {}),
  };
}

/**
 * The evidence export's ports on Cabinet's storage, for the CLI and the composition root alike.
 * @remarks Reads verify.mjs on every export, so the bundle always ships the verifier on disk.
 */
export async function openEvidenceDeps(
  storage: TableStorage,
  options: EvidenceDepsOptions,
): Promise<EvidenceExportDeps> {
  const anchor = createBlobCheckpointAnchor({
    connectionString: options.anchorConnectionString ?? options.connectionString,
    container: options.anchorContainer,
  });
  await anchor.ensureContainer();
  const signer = options.signer
    ? createConfiguredCheckpointSigner(options.signer)
    : await loadSandboxCheckpointSigner({
        connectionString: options.connectionString,
        tablePrefix: options.tablePrefix,
        clock: options.clock,
      });
  const verifierPath = options.verifierPath ?? resolve(ROOT, 'verifier', 'verify.mjs');
  return {
    audit: storage.audit,
    requests: storage.requests,
    checkpoints: storage.checkpoints,
    clients: storage.clients,
    anchor,
    signer,
    clock: options.clock,
    verifierSource: () => readFile(verifierPath),
    generatorVersion: options.generatorVersion,
    ...(options.outboxWritten ? { outboxWritten: options.outboxWritten } : {}),
  };
}
