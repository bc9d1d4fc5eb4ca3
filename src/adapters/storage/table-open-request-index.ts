import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { ConcurrencyError } from '../../application/ports/errors';
import {
  isOlderThan,
  openRequestEntry,
  type ListOpenRequestsOptions,
  type OpenRequestEntry,
  type OpenRequestIndex,
} from '../../application/ports/open-request-index';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { parseRequestId, type ChangeRequestId, type TenantId } from '../../domain/shared/ids';
import type { Row } from './entity-group';
import { readRow } from './table-connection';
import { jsonProperties, readJson, type ReadRow } from './table-entity.mapper';
import { guarded, isAlreadyExists, isPreconditionFailure, toPortError } from './table-errors';
import { prefixRange, requestRowKey, tenantKey } from './table-keys';

/**
 * Fixed shards (PartitionKeys `s0`…`s7`): a full listing is a handful of parallel partition queries,
 * and no single partition takes every write of a busy MSP.
 */
export const OPEN_REQUEST_SHARDS = 8;

/** Writers racing on one entry re-read and try again this often before giving up (the outbox retries). */
const MAX_ATTEMPTS = 10;

/**
 * The MSP-wide index of open requests in its own table: one small entity per open request at
 * PartitionKey `s{shard}`, RowKey `{tenant id}_r_{10-digit number}`, both built from validated
 * identifiers only. Terminal requests have no entity, so the table stays the size of the open queue.
 * @remarks Every write is ETag-guarded (`If-Match`, or insert-only): an older state of a request never
 * replaces a newer one, whichever relay instance gets there last.
 */
export class TableOpenRequestIndex implements OpenRequestIndex {
  constructor(private readonly table: TableClient) {}

  async sync(request: ChangeRequest): Promise<void> {
    const { partitionKey, rowKey } = entryKeys(request.tenantId, request.number);
    const entry = openRequestEntry(request);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const existing = await readRow(this.table, partitionKey, rowKey);
      if (existing && isOlderThan(request, stamp(existing))) return;
      try {
        if (!entry) {
          if (existing)
            await this.table.deleteEntity(partitionKey, rowKey, { etag: existing.etag });
        } else if (existing) {
          await this.table.updateEntity(entryEntity(entry), 'Replace', { etag: existing.etag });
        } else {
          await this.table.createEntity(entryEntity(entry));
        }
        return;
      } catch (error) {
        if (!isPreconditionFailure(error) && !isAlreadyExists(error))
          throw toPortError(error, `sync open request ${request.id}`);
      }
    }
    throw new ConcurrencyError(
      `The index entry of ${request.id} kept changing under ${MAX_ATTEMPTS} attempts to sync it.`,
    );
  }

  async list(options: ListOpenRequestsOptions = {}): Promise<OpenRequestEntry[]> {
    const tenants = options.tenantIds?.map((tenantId) => prefixRange(`${tenantKey(tenantId)}_`));
    if (tenants?.length === 0) return [];
    const shards = Array.from({ length: OPEN_REQUEST_SHARDS }, (_, shard) => `s${shard}`);
    const pages = await Promise.all(
      shards.flatMap((partition) =>
        (tenants ?? [undefined]).map((range) =>
          this.query(
            range
              ? odata`PartitionKey eq ${partition} and RowKey ge ${range.from} and RowKey lt ${range.to}`
              : odata`PartitionKey eq ${partition}`,
          ),
        ),
      ),
    );
    return pages.flat();
  }

  async get(tenantId: TenantId, requestId: ChangeRequestId): Promise<OpenRequestEntry | undefined> {
    const parsed = parseRequestId(requestId);
    if (!parsed) return undefined;
    const { partitionKey, rowKey } = entryKeys(tenantId, parsed.number);
    const row = await readRow(this.table, partitionKey, rowKey);
    if (!row) return undefined;
    const entry = readJson<OpenRequestEntry>(row);
    return entry.requestId === parsed.id ? entry : undefined;
  }

  private query(filter: string): Promise<OpenRequestEntry[]> {
    return guarded('list open requests', async () => {
      const found: OpenRequestEntry[] = [];
      for await (const row of this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter },
      })) {
        found.push(readJson<OpenRequestEntry>(row));
      }
      return found;
    });
  }
}

/** The shard of a request: a stable hash of tenant and number, so requests spread evenly. */
export function openRequestShard(tenantId: TenantId, number: number): number {
  const digest = createHash('sha256')
    .update(`${tenantKey(tenantId)}|${number}`)
    .digest();
  return digest.readUInt32BE(0) % OPEN_REQUEST_SHARDS;
}

function entryKeys(
  tenantId: TenantId,
  number: number,
): { readonly partitionKey: string; readonly rowKey: string } {
  return {
    partitionKey: `s${openRequestShard(tenantId, number)}`,
    rowKey: `${tenantKey(tenantId)}_${requestRowKey(number)}`,
  };
}

function entryEntity(entry: OpenRequestEntry): Row {
  return {
    ...entryKeys(entry.tenantId, entry.number),
    version: entry.version,
    updatedAt: entry.updatedAt,
    ...jsonProperties(entry),
  };
}

function stamp(row: ReadRow): { readonly version: number; readonly updatedAt: string } {
  const entry = readJson<OpenRequestEntry>(row);
  return { version: entry.version, updatedAt: entry.updatedAt };
}
