import { createHash } from 'node:crypto';
import canonicalizeJson from 'canonicalize';
import type { JsonObject, JsonValue } from '../shared/json';
import type { AuditActor } from './audit-event';

/** `prev` of the first entry in every chain (DESIGN.md §5). */
export const GENESIS_HASH = '0'.repeat(64);
/** Domain separation: the hash can never be confused with any other SHA-256 Cabinet computes. */
export const HASH_PREFIX = 'cabinet-audit/v1\n';

/** The hashed content of one audit entry, exactly the fields DESIGN.md §5 lists. */
export interface AuditEntry {
  readonly tenantId: string;
  readonly seq: number;
  readonly prev: string;
  readonly ts: string;
  readonly type: string;
  readonly actor: AuditActor;
  readonly requestId: string | null;
  readonly payload: JsonObject;
}

/** An entry as stored: the canonical string that was hashed, and its hash. */
export interface StoredAuditEntry {
  readonly seq: number;
  readonly canonical: string;
  readonly hash: string;
}

/** RFC 8785 (JCS) canonical JSON. */
export function canonicalize(value: JsonValue | AuditEntry): string {
  const text = canonicalizeJson(value);
  if (text === undefined) throw new TypeError('value cannot be canonicalised');
  return text;
}

/** SHA-256(0x00 ‖ "cabinet-audit/v1\n" ‖ JCS bytes): the chain hash and the RFC 6962 Merkle leaf hash. */
export function hashCanonical(canonical: string): string {
  return createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(HASH_PREFIX, 'utf8')
    .update(canonical, 'utf8')
    .digest('hex');
}

/** Builds the next entry after `prevHash`, ready to insert. */
export function sealEntry(entry: AuditEntry): StoredAuditEntry {
  const canonical = canonicalize(entry);
  return { seq: entry.seq, canonical, hash: hashCanonical(canonical) };
}

export type ChainVerdict =
  | { readonly ok: true; readonly count: number; readonly headHash: string }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

/**
 * Verifies a whole chain from seq 1, from the stored canonical strings alone.
 * @remarks Never rebuilds an entry from table properties: the stored string is what was hashed.
 */
export function verifyChain(tenantId: string, entries: readonly StoredAuditEntry[]): ChainVerdict {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const stored of entries) {
    const fail = (reason: string): ChainVerdict => ({ ok: false, seq: expectedSeq, reason });
    if (stored.seq !== expectedSeq) {
      return fail(
        stored.seq > expectedSeq
          ? `entry ${expectedSeq} is missing (next stored is ${stored.seq})`
          : `entry ${stored.seq} is out of order`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(stored.canonical);
    } catch {
      return fail('stored entry is not JSON');
    }
    if (!isEntryShape(parsed)) return fail('stored entry does not have the audit entry fields');
    if (canonicalize(parsed) !== stored.canonical)
      return fail('stored entry is not in canonical form');
    if (parsed.seq !== expectedSeq) return fail(`entry claims seq ${parsed.seq}`);
    if (parsed.tenantId !== tenantId) return fail(`entry belongs to tenant ${parsed.tenantId}`);
    if (parsed.prev !== prev) return fail('prev does not match the hash of the previous entry');
    const hash = hashCanonical(stored.canonical);
    if (hash !== stored.hash) return fail('hash does not match the entry content');
    prev = hash;
    expectedSeq += 1;
  }
  return { ok: true, count: expectedSeq - 1, headHash: prev };
}

function isEntryShape(value: unknown): value is AuditEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const actor = v['actor'] as Record<string, unknown> | null | undefined;
  return (
    typeof v['tenantId'] === 'string' &&
    typeof v['seq'] === 'number' &&
    typeof v['prev'] === 'string' &&
    typeof v['ts'] === 'string' &&
    typeof v['type'] === 'string' &&
    typeof actor === 'object' &&
    actor !== null &&
    typeof actor['tid'] === 'string' &&
    typeof actor['oid'] === 'string' &&
    (typeof v['requestId'] === 'string' || v['requestId'] === null) &&
    typeof v['payload'] === 'object' &&
    v['payload'] !== null
  );
}

/** The event as chained: personal data already sealed into `payload.personal`. */
export interface ChainableEvent {
  readonly type: string;
  readonly actor: AuditActor;
  readonly requestId: string | null;
  readonly payload: JsonObject;
}

/** Links events after `head` (or from genesis), one entry each, in order. */
export function chainEvents(
  tenantId: string,
  head: { readonly seq: number; readonly hash: string } | undefined,
  events: readonly ChainableEvent[],
  ts: string,
): StoredAuditEntry[] {
  let seq = head?.seq ?? 0;
  let prev = head?.hash ?? GENESIS_HASH;
  return events.map((event) => {
    seq += 1;
    const stored = sealEntry({
      tenantId,
      seq,
      prev,
      ts,
      type: event.type,
      actor: event.actor,
      requestId: event.requestId,
      payload: event.payload,
    });
    prev = stored.hash;
    return stored;
  });
}
