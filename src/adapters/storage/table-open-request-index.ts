import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { ConcurrencyError } from '../../application/ports/errors';
import {
  isOlderThan,
  openRequestEntry,
  slaOutcome,
  type ListOpenRequestsOptions,
  type ListSlaOutcomesOptions,
  type OpenRequestEntry,
  type OpenRequestIndex,
  type SlaOutcome,
} from '../../application/ports/open-request-index';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { parseRequestId, type ChangeRequestId, type TenantId } from '../../domain/shared/ids';
import type { Row } from './entity-group';
import { readRow } from './table-connection';
import { jsonProperties, readJson, type ReadRow } from './table-entity.mapper';
import { guarded, isAlreadyExists, isPreconditionFailure, toPortError } from './table-errors';
import { InvalidStorageKeyError, prefixRange, requestRowKey, tenantKey } from './table-keys';

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
 * identifiers only. Terminal requests have no entry, so the shards stay the size of the open queue.
 * A request that ends with an SLA leaves one small {@link SlaOutcome} at PartitionKey `o{yyyymm}` (the
 * UTC month it ended), same RowKey, so the outcomes of the last week or so are one or two partitions.
 * @remarks Every write is ETag-guarded (`If-Match`, or insert-only): an older state of a request never
 * replaces a newer one, whichever relay instance gets there last.
 */
export class TableOpenRequestIndex implements OpenRequestIndex {
  constructor(private readonly table: TableClient) {}

  async sync(request: ChangeRequest): Promise<void> {
    const { partitionKey, rowKey } = entryKeys(request.tenantId, request.number);
    const entry = openRequestEntry(request);
    // The outcome goes first: should removing the entry then fail, the outbox retries the whole sync.
    const outcome = slaOutcome(request);
    if (outcome) await this.syncOutcome(outcome);
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

  async outcomes(options: ListSlaOutcomesOptions): Promise<SlaOutcome[]> {
    if (options.tenantIds?.length === 0) return [];
    const tenants = options.tenantIds ? new Set<string>(options.tenantIds) : undefined;
    // Months sort as `o{yyyymm}`, below the `s{n}` shards: one range from the month of `since` on.
    const found = await guarded('list SLA outcomes', async () => {
      const rows: SlaOutcome[] = [];
      for await (const row of this.table.listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey ge ${outcomePartition(options.since)} and PartitionKey lt ${'p'} and endedAt ge ${options.since}`,
        },
      }))
        rows.push(readJson<SlaOutcome>(row));
      return rows;
    });
    return found.filter((outcome) => !tenants || tenants.has(outcome.tenantId));
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

  /** Upserts the request's outcome unless a newer one is stored (ETag-guarded like the entries). */
  private async syncOutcome(outcome: SlaOutcome): Promise<void> {
    const keys = outcomeKeys(outcome);
    const entity: Row = {
      ...keys,
      version: outcome.version,
      endedAt: outcome.endedAt,
      ...jsonProperties(outcome),
    };
    const incoming = { version: outcome.version, updatedAt: outcome.endedAt };
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const existing = await readRow(this.table, keys.partitionKey, keys.rowKey);
      if (existing && isOlderThan(incoming, outcomeStamp(existing))) return;
      try {
        if (existing) await this.table.updateEntity(entity, 'Replace', { etag: existing.etag });
        else await this.table.createEntity(entity);
        return;
      } catch (error) {
        if (!isPreconditionFailure(error) && !isAlreadyExists(error))
          throw toPortError(error, `record the SLA outcome of ${outcome.requestId}`);
      }
    }
    throw new ConcurrencyError(
      `The SLA outcome of ${outcome.requestId} kept changing under ${MAX_ATTEMPTS} attempts to record it.`,
    );
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

/** `o` + the UTC year and month of an ISO instant: digits only, whatever the input. */
function outcomePartition(instant: string): string {
  const ms = Date.parse(instant);
  if (!Number.isFinite(ms)) throw new InvalidStorageKeyError('instant');
  const date = new Date(ms);
  const month = date.getUTCFullYear() * 100 + date.getUTCMonth() + 1;
  if (month < 100_001 || month > 999_912) throw new InvalidStorageKeyError('instant');
  return `o${month}`;
}

function outcomeKeys(outcome: SlaOutcome): {
  readonly partitionKey: string;
  readonly rowKey: string;
} {
  return {
    partitionKey: outcomePartition(outcome.endedAt),
    rowKey: `${tenantKey(outcome.tenantId)}_${requestRowKey(outcome.number)}`,
  };
}

function outcomeStamp(row: ReadRow): { readonly version: number; readonly updatedAt: string } {
  const outcome = readJson<SlaOutcome>(row);
  return { version: outcome.version, updatedAt: outcome.endedAt };
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
