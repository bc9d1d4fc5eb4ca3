import { odata, type TableClient } from '@azure/data-tables';
import {
  CheckpointConflictError,
  type Checkpoint,
  type CheckpointStore,
  type ListCheckpointsOptions,
  type StoredCheckpoint,
} from '../../application/ports/checkpoints';
import { ConcurrencyError } from '../../application/ports/errors';
import type { OutboxMessage } from '../../application/ports/outbox';
import type { TenantId } from '../../domain/shared/ids';
import type { Row } from './entity-group';
import type { PartitionCommitter } from './partition-committer';
import { readRow } from './table-connection';
import type { ReadRow } from './table-entity.mapper';
import { guarded, isAlreadyExists, toPortError } from './table-errors';
import { InvalidStorageKeyError, prefixRange, tenantKey } from './table-keys';

/** `c_` + 16-digit size: lexical RowKey order is size order. */
const CHECKPOINT_PREFIX = 'c_';
/** `ms_` + SHA-256 hex of the signed document (an evidence bundle's manifest). */
const SIGNATURE_PREFIX = 'ms_';

/** `c_{size:016d}`. */
export function checkpointRowKey(size: number): string {
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidStorageKeyError('checkpoint size');
  return `${CHECKPOINT_PREFIX}${String(size).padStart(16, '0')}`;
}

function signatureRowKey(sha256hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256hex)) throw new InvalidStorageKeyError('document hash');
  return `${SIGNATURE_PREFIX}${sha256hex}`;
}

/**
 * Checkpoints in the client's partition of the data table.
 * @remarks Rows are insert-only: a second save of one size never replaces the stored note (its
 * signature was anchored and witnessed); only the `witnessed` flag changes, under `If-Match`, in the
 * same transaction as the witness cards' outbox rows.
 */
export class TableCheckpointStore implements CheckpointStore {
  constructor(
    private readonly table: TableClient,
    private readonly committer: PartitionCommitter,
  ) {}

  async save(tenantId: TenantId, checkpoint: Checkpoint): Promise<StoredCheckpoint> {
    const entity: Row = {
      partitionKey: tenantKey(tenantId),
      rowKey: checkpointRowKey(checkpoint.size),
      size: checkpoint.size,
      root: checkpoint.root,
      note: checkpoint.note,
      witnessed: false,
    };
    try {
      const created = await this.table.createEntity(entity);
      return { ...checkpoint, witnessed: false, etag: created.etag ?? '' };
    } catch (error: unknown) {
      if (!isAlreadyExists(error)) throw toPortError(error, 'save checkpoint');
    }
    const stored = await this.get(tenantId, checkpoint.size);
    if (!stored)
      throw new Error(`The checkpoint of size ${checkpoint.size} vanished while it was saved.`);
    if (stored.root !== checkpoint.root)
      throw new CheckpointConflictError(tenantId, checkpoint.size, stored.root, checkpoint.root);
    return stored;
  }

  async get(tenantId: TenantId, size: number): Promise<StoredCheckpoint | undefined> {
    const row = await readRow(this.table, tenantKey(tenantId), checkpointRowKey(size));
    return row ? readCheckpoint(row) : undefined;
  }

  list(tenantId: TenantId, options: ListCheckpointsOptions = {}): Promise<StoredCheckpoint[]> {
    const partition = tenantKey(tenantId);
    const { from, to } = prefixRange(CHECKPOINT_PREFIX);
    const upTo =
      options.upToSize === undefined ? to : checkpointRowKey(Math.max(0, options.upToSize + 1));
    const filter = odata`PartitionKey eq ${partition} and RowKey ge ${from} and RowKey lt ${upTo}`;
    return guarded('list checkpoints', async () => {
      const found: StoredCheckpoint[] = [];
      for await (const row of this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter },
      }))
        found.push(readCheckpoint(row));
      return found;
    });
  }

  async latest(tenantId: TenantId): Promise<StoredCheckpoint | undefined> {
    // Sizes only grow and each is one small row, so the last row of the range is the latest.
    return (await this.list(tenantId)).at(-1);
  }

  async markWitnessed(
    tenantId: TenantId,
    checkpoint: StoredCheckpoint,
    witness: readonly OutboxMessage[],
  ): Promise<boolean> {
    try {
      await this.committer.commit(tenantId, () => ({
        ops: [
          {
            kind: 'update',
            etag: checkpoint.etag,
            onConflict: 'concurrency',
            entity: {
              partitionKey: tenantKey(tenantId),
              rowKey: checkpointRowKey(checkpoint.size),
              size: checkpoint.size,
              root: checkpoint.root,
              note: checkpoint.note,
              witnessed: true,
            },
          },
        ],
        events: [],
        outbox: witness,
      }));
      return true;
    } catch (error: unknown) {
      if (error instanceof ConcurrencyError) return false;
      throw error;
    }
  }

  async getSignature(tenantId: TenantId, sha256hex: string): Promise<string | undefined> {
    const row = await readRow(this.table, tenantKey(tenantId), signatureRowKey(sha256hex));
    const signature = row?.['signature'];
    return typeof signature === 'string' ? signature : undefined;
  }

  async putSignature(tenantId: TenantId, sha256hex: string, signature: string): Promise<string> {
    try {
      await this.table.createEntity({
        partitionKey: tenantKey(tenantId),
        rowKey: signatureRowKey(sha256hex),
        signature,
      });
      return signature;
    } catch (error: unknown) {
      if (!isAlreadyExists(error)) throw toPortError(error, 'save signature');
    }
    const stored = await this.getSignature(tenantId, sha256hex);
    if (stored === undefined)
      throw new Error(`The stored signature of ${sha256hex} vanished while it was saved.`);
    return stored;
  }
}

function readCheckpoint(row: ReadRow): StoredCheckpoint {
  const { size, root, note, witnessed, etag } = row;
  if (typeof size !== 'number' || typeof root !== 'string' || typeof note !== 'string')
    throw new Error(`Checkpoint row ${String(row.rowKey)} is malformed.`);
  return {
    size,
    root,
    note,
    witnessed: witnessed === true,
    etag: typeof etag === 'string' ? etag : '',
  };
}
