import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import {
  MAX_STORED_RUN_BYTES,
  RunTooLargeError,
  type ExecutionWrite,
  type StoredRun,
} from '../../application/ports/execution-store';
import { parseRunId, type ExecutionRun } from '../../domain/execution/execution-run';
import { parseRequestId, type TenantId } from '../../domain/shared/ids';
import type { Row, RowProperties } from './entity-group';
import type { ReadRow } from './table-entity.mapper';
import { InvalidStorageKeyError, runRowKey, tenantKey } from './table-keys';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Base64 characters per property: a String property holds 32 K UTF-16 characters. */
const CHUNK_CHARS = 30_000;

/**
 * A run as stored: its JSON gzipped, in base64, split over `body0…bodyN` (with `bodyParts`).
 * @remarks Runs grow with their plan (steps, captured prior state, progress) while a row holds
 * 1 MiB counted in UTF-16, so a plan with hundreds of group memberships would not fit as plain
 * JSON. Compressed it stays one row, so a step's write is still one entity-group transaction.
 * Throws RunTooLargeError beyond {@link MAX_STORED_RUN_BYTES}.
 */
export async function encodeRun(run: ExecutionRun): Promise<RowProperties> {
  const packed = await gzipAsync(Buffer.from(JSON.stringify(run), 'utf8'));
  if (packed.length > MAX_STORED_RUN_BYTES) throw new RunTooLargeError(run.id, packed.length);
  const text = packed.toString('base64');
  const parts = Math.max(1, Math.ceil(text.length / CHUNK_CHARS));
  const properties: RowProperties = { bodyParts: parts };
  for (let i = 0; i < parts; i += 1)
    properties[`body${i}`] = text.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS);
  return properties;
}

/** Reads back what {@link encodeRun} wrote. */
export async function decodeRun(row: Record<string, unknown>): Promise<ExecutionRun> {
  const parts = Number(row['bodyParts']);
  if (!Number.isSafeInteger(parts) || parts < 1)
    throw new TypeError(`Stored run ${String(row['rowKey'])} lacks its body.`);
  let text = '';
  for (let i = 0; i < parts; i += 1) {
    const part = row[`body${i}`];
    if (typeof part !== 'string')
      throw new TypeError(`Stored run ${String(row['rowKey'])} lacks body part ${i}.`);
    text += part;
  }
  const json = await gunzipAsync(Buffer.from(text, 'base64'));
  return JSON.parse(json.toString('utf8')) as ExecutionRun;
}

/**
 * Refuses a write whose run, request and tenant do not belong together (a bug upstream): the run
 * must be the tenant's, its id must name the request's number, and a request saved with it must
 * be that run's request.
 */
export function assertExecutionWrite(
  tenantId: TenantId,
  write: ExecutionWrite,
): { readonly requestNumber: number; readonly runNumber: number } {
  const { run } = write;
  const parsed = parseRunId(run.id);
  const request = parseRequestId(run.requestId);
  if (!parsed || run.tenantId !== tenantId || request?.number !== parsed.requestNumber) {
    throw new Error(
      `Run ${run.id} of request ${run.requestId} (tenant ${run.tenantId}) cannot be stored for tenant ${tenantId}: its id must be <request number>-<run number> of its own request.`,
    );
  }
  const next = write.request?.next;
  if (next && (next.tenantId !== tenantId || next.id !== run.requestId)) {
    throw new Error(`Request ${next.id} cannot be saved with run ${run.id} of ${run.requestId}.`);
  }
  return { requestNumber: parsed.requestNumber, runNumber: parsed.runNumber };
}

/** The run row: the compressed run plus flat properties for filtering and for people reading the table. */
export async function runEntity(tenantId: TenantId, run: ExecutionRun): Promise<Row> {
  const parsed = parseRunId(run.id);
  if (!parsed) throw new InvalidStorageKeyError('run id');
  const { requestNumber, runNumber } = parsed;
  return {
    partitionKey: tenantKey(tenantId),
    rowKey: runRowKey(requestNumber, runNumber),
    runId: run.id,
    requestId: run.requestId,
    requestNumber,
    runNumber,
    kind: run.kind,
    status: run.status,
    updatedAt: run.updatedAt,
    ...(await encodeRun(run)),
  };
}

/** The run and the ETag its next save must match. */
export async function readStoredRun(row: ReadRow): Promise<StoredRun> {
  return { run: await decodeRun(row), etag: row.etag };
}
