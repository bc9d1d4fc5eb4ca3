import type { AuditHead } from '../../application/ports/audit-log';
import type { StoredChangeRequest } from '../../application/ports/change-request-store';
import type { StoredClientProfile } from '../../application/ports/client-directory';
import type { OutboxMessage, OutboxRow, OutboxStatus } from '../../application/ports/outbox';
import type { StoredAuditEntry } from '../../domain/audit/audit-chain';
import type { ClientProfile } from '../../domain/client/client';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import type { TenantId } from '../../domain/shared/ids';
import type { Row, RowProperties } from './entity-group';
import {
  entryRowKey,
  outboxIdFromRowKey,
  outboxRowKey,
  requestRowKey,
  RowKeys,
  seqFromEntryRowKey,
  tenantKey,
} from './table-keys';

/** What data-tables hands back for a read: our properties plus keys, ETag and service metadata. */
export type ReadRow = Record<string, unknown> & {
  readonly partitionKey?: string;
  readonly rowKey?: string;
  readonly etag: string;
};

/**
 * A String property holds at most 32 K UTF-16 characters; longer JSON is split across `json0…jsonN`
 * (an entity may hold 252 properties and 1 MiB).
 */
const JSON_CHUNK = 30_000;
/** Longest audit entry Cabinet stores inline; the verifier hashes this exact string. */
export const MAX_ENTRY_CHARS = 30_000;

/** A value as JSON split over `json0…jsonN` (with `jsonParts`), so no single property exceeds the String limit. */
export function jsonProperties(value: unknown): RowProperties {
  const text = JSON.stringify(value);
  const parts = Math.max(1, Math.ceil(text.length / JSON_CHUNK));
  const properties: RowProperties = { jsonParts: parts };
  for (let i = 0; i < parts; i += 1)
    properties[`json${i}`] = text.slice(i * JSON_CHUNK, (i + 1) * JSON_CHUNK);
  return properties;
}

/** Reassembles what {@link jsonProperties} wrote. */
export function readJson<T>(row: Record<string, unknown>): T {
  const parts = Number(row['jsonParts']);
  let text = '';
  for (let i = 0; i < parts; i += 1) text += stringProp(row, `json${i}`);
  return JSON.parse(text) as T;
}

function stringProp(row: Record<string, unknown>, name: string): string {
  const value = row[name];
  if (typeof value !== 'string')
    throw new TypeError(`Stored row ${String(row['rowKey'])} lacks string property ${name}.`);
  return value;
}

function optionalString(row: Record<string, unknown>, name: string): string | undefined {
  const value = row[name];
  return typeof value === 'string' ? value : undefined;
}

function numberProp(row: Record<string, unknown>, name: string): number {
  const value = row[name];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`Stored row ${String(row['rowKey'])} lacks number property ${name}.`);
}

/** The request row: the aggregate as JSON plus a few flat properties for filtering. */
export function requestEntity(tenantId: TenantId, request: ChangeRequest): Row {
  return {
    partitionKey: tenantKey(tenantId),
    rowKey: requestRowKey(request.number),
    status: request.status,
    version: request.version,
    number: request.number,
    type: request.type,
    changeClass: request.changeClass,
    requesterOid: request.requester.oid,
    ...(request.assignee ? { assigneeOid: request.assignee.oid } : {}),
    updatedAt: request.updatedAt,
    ...jsonProperties(request),
  };
}

/** The request and the ETag its next save must match. */
export function readStoredRequest(row: ReadRow): StoredChangeRequest {
  return { request: readJson<ChangeRequest>(row), etag: row.etag };
}

/** The per-client request counter `n`: the last number handed out. */
export function counterEntity(tenantId: TenantId, last: number): Row {
  return { partitionKey: tenantKey(tenantId), rowKey: RowKeys.counter, last };
}

/** The last request number handed out. */
export function readCounter(row: ReadRow): number {
  return numberProp(row, 'last');
}

/** The client profile row, saved in the client's own partition with its audit entries. */
export function profileEntity(profile: ClientProfile): Row {
  return {
    partitionKey: tenantKey(profile.tenantId),
    rowKey: RowKeys.profile,
    code: profile.code,
    ...jsonProperties(profile),
  };
}

/** The profile and the ETag its next save must match. */
export function readStoredProfile(row: ReadRow): StoredClientProfile {
  return { profile: readJson<ClientProfile>(row), etag: row.etag };
}

/** An audit entry row: the exact canonical string `c` that was hashed, its hash `h`, and the link. */
export function entryEntity(tenantId: TenantId, entry: StoredAuditEntry, prev: string): Row {
  if (entry.canonical.length > MAX_ENTRY_CHARS) {
    throw new RangeError(
      `Audit entry ${entry.seq} is ${entry.canonical.length} characters; the limit is ${MAX_ENTRY_CHARS}.`,
    );
  }
  return {
    partitionKey: tenantKey(tenantId),
    rowKey: entryRowKey(entry.seq),
    c: entry.canonical,
    h: entry.hash,
    prev,
    seq: entry.seq,
  };
}

/** The entry as stored. `seq` comes from the RowKey (the row's position), never from a property. */
export function readEntry(row: ReadRow): StoredAuditEntry {
  return {
    seq: seqFromEntryRowKey(String(row.rowKey)),
    canonical: stringProp(row, 'c'),
    hash: stringProp(row, 'h'),
  };
}

/** The chain head `h`: last seq and hash, replaced under If-Match by every appending transaction. */
export function headEntity(tenantId: TenantId, head: AuditHead): Row {
  return {
    partitionKey: tenantKey(tenantId),
    rowKey: RowKeys.head,
    seq: head.seq,
    hash: head.hash,
  };
}

/** The chain head as stored. */
export function readHead(row: ReadRow): AuditHead {
  return { seq: numberProp(row, 'seq'), hash: stringProp(row, 'hash') };
}

/**
 * A new outbox row; a notification's `rtid`/`roid` are flat so rows waiting for a person can be
 * found by filter, as is a Graph run's `runId`.
 */
export function outboxEntity(
  tenantId: TenantId,
  id: string,
  message: OutboxMessage,
  at: string,
): Row {
  return {
    partitionKey: tenantKey(tenantId),
    rowKey: outboxRowKey(id),
    kind: message.kind,
    ...(message.kind === 'teams.notify'
      ? { rtid: message.recipient.tid, roid: message.recipient.oid }
      : message.kind === 'graph.execute'
        ? { runId: message.runId }
        : {}),
    status: 'pending' satisfies OutboxStatus,
    attempts: 0,
    nextAttemptAt: at,
    createdAt: at,
    ...jsonProperties(message),
  };
}

/** An outbox row as the relay sees it; an empty `leaseUntil` is a released lease. */
export function readOutboxRow(tenantId: TenantId, row: ReadRow): OutboxRow {
  const leaseUntil = optionalString(row, 'leaseUntil');
  const lastError = optionalString(row, 'lastError');
  const reschedules = row['reschedules'] === undefined ? 0 : numberProp(row, 'reschedules');
  const claims = row['claims'] === undefined ? 0 : numberProp(row, 'claims');
  return {
    tenantId,
    id: outboxIdFromRowKey(String(row.rowKey)),
    message: readJson<OutboxMessage>(row),
    status: stringProp(row, 'status') as OutboxStatus,
    attempts: numberProp(row, 'attempts'),
    ...(reschedules > 0 ? { reschedules } : {}),
    ...(claims > 0 ? { claims } : {}),
    nextAttemptAt: stringProp(row, 'nextAttemptAt'),
    ...(leaseUntil ? { leaseUntil } : {}),
    ...(lastError ? { lastError } : {}),
    createdAt: stringProp(row, 'createdAt'),
    etag: row.etag,
  };
}
