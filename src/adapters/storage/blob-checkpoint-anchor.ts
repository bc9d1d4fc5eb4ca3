import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import {
  CheckpointConflictError,
  type AnchorRecord,
  type CheckpointAnchor,
} from '../../application/ports/checkpoints';
import { StorageUnavailableError } from '../../application/ports/errors';
import type { TenantId } from '../../domain/shared/ids';
import { tenantKey } from './table-keys';

/** How the anchor blobs are reached. */
export interface CreateBlobCheckpointAnchorOptions {
  /** A storage connection string with a `BlobEndpoint` (or an account name and key). */
  readonly connectionString: string;
  /** The container holding one `<tenantId>.checkpoints` append blob per client. */
  readonly container: string;
}

/** How many times an append re-reads the blob after another writer appended first. */
const APPEND_ATTEMPTS = 10;

/**
 * Checkpoint anchors as lines of JSON in one append blob per tenant.
 * @remarks Each append is conditional on the blob's length as just read (`appendPosition`), so of two
 * concurrent writers only one appends a given size; the other re-reads and finds it there. In
 * production the container carries a time-based immutability policy with protected append writes,
 * so existing blocks can neither be changed nor deleted.
 */
export class BlobCheckpointAnchor implements CheckpointAnchor {
  constructor(private readonly container: ContainerClient) {}

  /** Creates the container if missing; safe on every start. */
  async ensureContainer(): Promise<void> {
    await anchored('create anchor container', () => this.container.createIfNotExists());
  }

  async append(tenantId: TenantId, record: AnchorRecord): Promise<void> {
    const blob = this.blob(tenantId);
    await anchored('create anchor blob', () => blob.createIfNotExists());
    const line = Buffer.from(`${JSON.stringify(recordJson(record))}\n`, 'utf8');
    for (let attempt = 1; attempt <= APPEND_ATTEMPTS; attempt += 1) {
      const { records, length } = await this.read(tenantId);
      const existing = records.find((r) => r.size === record.size);
      if (existing) {
        if (existing.root !== record.root || existing.noteSha256 !== record.noteSha256)
          throw new CheckpointConflictError(tenantId, record.size, existing.root, record.root);
        return;
      }
      try {
        await blob.appendBlock(line, line.length, { conditions: { appendPosition: length } });
        return;
      } catch (error: unknown) {
        if (statusOf(error) !== 412) throw translate(error, 'append anchor');
      }
    }
    throw new StorageUnavailableError(
      `The anchor blob of tenant ${tenantId} kept moving; gave up after ${APPEND_ATTEMPTS} attempts.`,
    );
  }

  async list(tenantId: TenantId): Promise<AnchorRecord[]> {
    return (await this.read(tenantId)).records;
  }

  private blob(tenantId: TenantId) {
    return this.container.getAppendBlobClient(`${tenantKey(tenantId)}.checkpoints`);
  }

  private async read(
    tenantId: TenantId,
  ): Promise<{ readonly records: AnchorRecord[]; readonly length: number }> {
    let bytes: Buffer;
    try {
      bytes = await this.blob(tenantId).downloadToBuffer();
    } catch (error: unknown) {
      if (statusOf(error) === 404) return { records: [], length: 0 };
      throw translate(error, 'read anchors');
    }
    const records = bytes
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => parseRecord(line, tenantId));
    return { records, length: bytes.length };
  }
}

/** Opens the anchor container from a connection string (Azurite's Blob service in the sandbox). */
export function createBlobCheckpointAnchor(
  options: CreateBlobCheckpointAnchorOptions,
): BlobCheckpointAnchor {
  if (!/(?:^|;)\s*(BlobEndpoint|AccountName)=/i.test(options.connectionString))
    throw new Error(
      'Checkpoint anchors are unavailable because the storage connection string has no BlobEndpoint or AccountName.',
    );
  const service = BlobServiceClient.fromConnectionString(options.connectionString);
  return new BlobCheckpointAnchor(service.getContainerClient(options.container));
}

/** Fixed key order, so every line of every blob reads alike. */
function recordJson(record: AnchorRecord): AnchorRecord {
  return {
    size: record.size,
    root: record.root,
    noteSha256: record.noteSha256,
    anchoredAt: record.anchoredAt,
  };
}

function parseRecord(line: string, tenantId: TenantId): AnchorRecord {
  const value = JSON.parse(line) as Partial<Record<keyof AnchorRecord, unknown>>;
  if (
    typeof value.size !== 'number' ||
    typeof value.root !== 'string' ||
    typeof value.noteSha256 !== 'string' ||
    typeof value.anchoredAt !== 'string'
  )
    throw new Error(`The anchor blob of tenant ${tenantId} holds a malformed line.`);
  return {
    size: value.size,
    root: value.root,
    noteSha256: value.noteSha256,
    anchoredAt: value.anchoredAt,
  };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Unreachable storage (a RestError without status) and 5xx become StorageUnavailableError (keeping `cause`); the rest is rethrown. */
function translate(error: unknown, what: string): unknown {
  const status = statusOf(error);
  const rest = (error as { name?: unknown } | undefined)?.name === 'RestError';
  if (rest && (status === undefined || status >= 500))
    return new StorageUnavailableError(`Blob storage is unavailable (${what}).`, { cause: error });
  return error;
}

async function anchored<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error: unknown) {
    throw translate(error, what);
  }
}
