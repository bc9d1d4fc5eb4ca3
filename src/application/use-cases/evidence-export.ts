import { createHash } from 'node:crypto';
import type { AuditEntry, StoredAuditEntry } from '../../domain/audit/audit-chain';
import { checkpointOrigin, signatureLine } from '../../domain/audit/checkpoint';
import { keyFingerprint } from '../../domain/audit/key-manifest';
import { entryLeafHash, MerkleTree } from '../../domain/audit/merkle';
import type { Person } from '../../domain/change-request/change-request';
import { controlMap, controlMapHtml } from '../../domain/evidence/control-map';
import {
  buildHistory,
  ERASED,
  historyHtml,
  type OpenedEntry,
} from '../../domain/evidence/evidence-history';
import { evidenceReadme } from '../../domain/evidence/evidence-readme';
import { DomainError } from '../../domain/shared/errors';
import type { ChangeRequestId, TenantId } from '../../domain/shared/ids';
import { err, ok, type Result } from '../../domain/shared/result';
import type { AuditLog } from '../ports/audit-log';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import type { ChangeRequestStore } from '../ports/change-request-store';
import type { AnchorRecord, Checkpoint } from '../ports/checkpoints';
import { CalendarErrors } from './calendar';
import { checkpointAt, type CheckpointDeps } from './checkpoints';
import type { UseCaseDeps } from './context';
import { deterministicZip, type ArchiveMember } from './deterministic-zip';
import { AccessErrors } from './errors';
import { identify } from './identify';

/** What an evidence export needs besides the checkpointing deps. */
export interface EvidenceExportDeps extends CheckpointDeps {
  readonly audit: AuditLog;
  readonly requests: ChangeRequestStore;
  /** The bytes of `verifier/verify.mjs` shipped in every bundle. */
  readonly verifierSource: () => Promise<Buffer>;
  /** Cabinet's version, recorded in the manifest. */
  readonly generatorVersion: string;
}

export interface EvidenceExportInput {
  readonly tenantId: TenantId;
  /** `YYYY-MM-DD`, UTC, inclusive. */
  readonly from: string;
  /** `YYYY-MM-DD`, UTC, inclusive. */
  readonly to: string;
}

export type EvidencePhase = 'entries' | 'history' | 'checkpoints' | 'zip';

/** Progress of a long export: `done` of `total` in the current phase. */
export interface EvidenceProgress {
  readonly phase: EvidencePhase;
  readonly done: number;
  readonly total: number;
}

export interface EvidenceManifest {
  readonly format: 'cabinet-evidence/v1';
  readonly tenantId: string;
  readonly origin: string;
  readonly range: { readonly from: string; readonly to: string };
  readonly entries: { readonly first: 1; readonly last: number };
  readonly generator: { readonly name: 'cabinet'; readonly version: string };
  readonly pinnedKey: string;
  readonly files: readonly {
    readonly path: string;
    readonly sha256: string;
    readonly bytes: number;
  }[];
}

export interface EvidenceBundle {
  readonly zip: Buffer;
  readonly manifest: EvidenceManifest;
  /** `evidence-<tenant>-<from>-<to>.zip`, for downloads. */
  readonly fileName: string;
}

export const EvidenceErrors = {
  invalidRange: (message: string) => new DomainError('EVIDENCE.INVALID_INPUT', message),
  notAllowed: () =>
    new DomainError(
      'EVIDENCE.NOT_ALLOWED',
      "Evidence bundles are for the client's admins and the MSP leads who serve the client.",
    ),
  noEntries: (to: string) =>
    new DomainError(
      'EVIDENCE.NO_ENTRIES',
      `This client's audit log has no entries on or before ${to}, so there is nothing to export yet.`,
    ),
} as const;

export interface EvidenceRequest {
  readonly actor: Person;
  /** The client by tenant id or code; absent: the actor's only client. */
  readonly client?: string;
  readonly from: string;
  readonly to: string;
}

/**
 * An export on behalf of a signed-in person: MSP leads of the client, and the client's own admins
 * (whose only client is their own tenant, from their token).
 * @remarks A client the actor has no part in answers exactly like one that does not exist.
 */
export async function exportEvidenceFor(
  deps: EvidenceExportDeps & Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
  request: EvidenceRequest,
  onProgress?: (progress: EvidenceProgress) => void,
): Promise<Result<EvidenceBundle, DomainError>> {
  const identity = await identify(deps, request.actor);
  if (identity.memberships.length === 0) return err(AccessErrors.notRegistered());
  const wanted = request.client?.trim();
  const membership =
    wanted === undefined || wanted === ''
      ? identity.memberships.length === 1
        ? identity.memberships[0]
        : undefined
      : identity.memberships.find(
          (m) => m.client.tenantId === wanted || m.client.code === wanted.toUpperCase(),
        );
  if (!membership) return err(CalendarErrors.clientNotFound());
  const allowed = identity.isMspStaff
    ? membership.roles.has('lead')
    : membership.roles.has('client_admin');
  if (!allowed) return err(EvidenceErrors.notAllowed());
  return exportEvidence(
    deps,
    { tenantId: membership.client.tenantId, from: request.from, to: request.to },
    onProgress,
  );
}

/** Request records read at once for the history's names: point reads, bounded to spare storage. */
/** Above this many requests, the history reads them all in one scan rather than one by one. */
const SCAN_WHEN_MORE_THAN = 64;
const READ_CONCURRENCY = 16;

/** Entries read per audit page. */
const PAGE = 1000;

/**
 * A deterministic evidence bundle for one client tenant and date range (layout in
 * scratch/issue7-brief.md "Evidence bundle ZIP"): the same range gives a byte-identical ZIP.
 * @remarks The bundle holds the whole log from entry 1 (verification starts at genesis) up to
 * the last entry, in chain order, at or before the end of `to`; the first entry after that ends
 * the range, so entries appended later never change it. ECDSA signatures are randomised, so the
 * size-N checkpoint and the manifest signature are stored and reused rather than signed again.
 */
export async function exportEvidence(
  deps: EvidenceExportDeps,
  input: EvidenceExportInput,
  onProgress: (progress: EvidenceProgress) => void = () => undefined,
): Promise<Result<EvidenceBundle, DomainError>> {
  const range = parseRange(input.from, input.to);
  if (!range.ok) return range;
  const { fromTs, toEnd } = range.value;
  const tenantId = input.tenantId;

  const head = await deps.audit.head(tenantId);
  const stored = await readUntil(deps.audit, tenantId, toEnd, head?.seq ?? 0, onProgress);
  const size = stored.length;
  if (size === 0) return err(EvidenceErrors.noEntries(input.to));
  const entries = stored.map((s) => JSON.parse(s.canonical) as AuditEntry);

  onProgress({ phase: 'history', done: 0, total: size });
  const history = await readableHistory(deps, tenantId, stored, entries, {
    from: input.from,
    to: input.to,
    fromTs,
    toEnd,
  });
  onProgress({ phase: 'history', done: size, total: size });

  onProgress({ phase: 'checkpoints', done: 0, total: 1 });
  const atSize = (await checkpointAt(deps, tenantId, size)).checkpoint;
  const checkpoints = mergeCheckpoints(
    await deps.checkpoints.list(tenantId, { upToSize: size }),
    atSize,
  );
  const tree = new MerkleTree(stored.map((s) => entryLeafHash(s.canonical)));
  const consistency = checkpoints.slice(1).map((c, i) => ({
    from: checkpoints[i]!.size,
    to: c.size,
    proof: tree.consistencyProof(checkpoints[i]!.size, c.size).map((h) => h.toString('hex')),
  }));
  // Anchors anchored before the range ended stay in even when larger than the bundle: the table
  // lost entries the anchor blob vouches for, and the verifier must see that (TRUNCATED_BEFORE_CHECKPOINT).
  const anchors: AnchorRecord[] = (await deps.anchor.list(tenantId)).filter(
    (a) => a.size <= size || Date.parse(a.anchoredAt) < Date.parse(toEnd),
  );
  const keys = deps.signer.manifest();
  const firstKey = keys.keys[0];
  if (!firstKey) throw new Error('the checkpoint key manifest has no keys');
  const pinnedKey = keyFingerprint(Buffer.from(firstKey.publicKey, 'base64'));
  onProgress({ phase: 'checkpoints', done: 1, total: 1 });

  const origin = checkpointOrigin(tenantId);
  const files: ArchiveMember[] = [
    text('entries.ndjson', stored.map((s) => `${s.canonical}\n`).join('')),
    ...checkpoints.map((c) => text(`checkpoints/${String(c.size).padStart(16, '0')}.note`, c.note)),
    json('anchors/anchors.json', anchors),
    json('proofs/consistency.json', { format: 'cabinet-consistency/v1', proofs: consistency }),
    json('keys/keys.json', keys),
    json('history/requests.json', history),
    text('history/index.html', historyHtml(history)),
    json('controls/control-map.json', controlMap()),
    text('controls/control-map.html', controlMapHtml(controlMap())),
    { path: 'verifier/verify.mjs', bytes: await deps.verifierSource() },
    text(
      'README.txt',
      evidenceReadme({
        tenantId,
        origin,
        range: { from: input.from, to: input.to },
        entries: size,
        checkpointSizes: checkpoints.map((c) => c.size),
        pinnedKey,
        generatorVersion: deps.generatorVersion,
      }),
    ),
  ];
  const manifest: EvidenceManifest = {
    format: 'cabinet-evidence/v1',
    tenantId,
    origin,
    range: { from: input.from, to: input.to },
    entries: { first: 1, last: size },
    generator: { name: 'cabinet', version: deps.generatorVersion },
    pinnedKey,
    files: [...files]
      .sort((a, b) => (a.path < b.path ? -1 : 1))
      .map((f) => ({ path: f.path, sha256: sha256Hex(f.bytes), bytes: f.bytes.length })),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  const signature = await manifestSignature(deps, tenantId, manifestBytes);

  onProgress({ phase: 'zip', done: 0, total: 1 });
  const zip = await deterministicZip([
    ...files,
    { path: 'manifest.json', bytes: manifestBytes },
    text('manifest.sig', signature),
  ]);
  onProgress({ phase: 'zip', done: 1, total: 1 });
  return ok({ zip, manifest, fileName: `evidence-${tenantId}-${input.from}-${input.to}.zip` });
}

function parseRange(
  from: string,
  to: string,
): Result<{ fromTs: string; toEnd: string }, DomainError> {
  const day = (value: string, name: string): Result<number, DomainError> => {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const time = match ? Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!) : NaN;
    if (!match || Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== value)
      return err(EvidenceErrors.invalidRange(`--${name} must be a date as YYYY-MM-DD (UTC).`));
    return ok(time);
  };
  const start = day(from, 'from');
  if (!start.ok) return start;
  const end = day(to, 'to');
  if (!end.ok) return end;
  if (start.value > end.value)
    return err(EvidenceErrors.invalidRange(`The range starts (${from}) after it ends (${to}).`));
  return ok({
    fromTs: new Date(start.value).toISOString(),
    toEnd: new Date(end.value + 86_400_000).toISOString(),
  });
}

/** Entries from seq 1 up to (not including) the first one stamped at or after `toEnd`. */
async function readUntil(
  audit: AuditLog,
  tenantId: TenantId,
  toEnd: string,
  headSeq: number,
  onProgress: (progress: EvidenceProgress) => void,
): Promise<StoredAuditEntry[]> {
  const out: StoredAuditEntry[] = [];
  onProgress({ phase: 'entries', done: 0, total: headSeq });
  for (;;) {
    const page = await audit.read(tenantId, { fromSeq: out.length + 1, limit: PAGE });
    for (const entry of page) {
      if (entryTs(entry.canonical) >= toEnd) {
        onProgress({ phase: 'entries', done: out.length, total: out.length });
        return out;
      }
      out.push(entry);
    }
    onProgress({ phase: 'entries', done: out.length, total: Math.max(headSeq, out.length) });
    if (page.length < PAGE) return out;
  }
}

/**
 * The requests behind `ids`: point reads for a few, one scan of the client's requests for many (a
 * partition range read beats thousands of point reads).
 */
async function requestsById(
  deps: EvidenceExportDeps,
  tenantId: TenantId,
  ids: readonly string[],
): Promise<Map<string, ChangeRequest>> {
  const found = new Map<string, ChangeRequest>();
  if (ids.length > SCAN_WHEN_MORE_THAN) {
    const wanted = new Set(ids);
    for (const request of await deps.requests.list(tenantId, { limit: Number.MAX_SAFE_INTEGER }))
      if (wanted.has(request.id)) found.set(request.id, request);
    return found;
  }
  for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
    const batch = ids.slice(i, i + READ_CONCURRENCY);
    const stored = await Promise.all(
      batch.map((id) => deps.requests.get(tenantId, id as ChangeRequestId)),
    );
    for (const s of stored) if (s) found.set(s.request.id, s.request);
  }
  return found;
}

function entryTs(canonical: string): string {
  return (JSON.parse(canonical) as { ts: string }).ts;
}

async function readableHistory(
  deps: EvidenceExportDeps,
  tenantId: TenantId,
  stored: readonly StoredAuditEntry[],
  entries: readonly AuditEntry[],
  range: { from: string; to: string; fromTs: string; toEnd: string },
) {
  const active = new Set<string>();
  for (const e of entries)
    if (e.requestId !== null && e.ts >= range.fromTs) active.add(e.requestId);
  const opened: OpenedEntry[] = [];
  for (const [i, entry] of entries.entries()) {
    if (entry.requestId === null || !active.has(entry.requestId)) continue;
    if (entry.payload['personal'] === undefined) {
      opened.push({ entry });
      continue;
    }
    const personal = await deps.audit.openPersonal(tenantId, stored[i]!);
    opened.push({ entry, personal: personal ?? ERASED });
  }
  const names = new Map<string, string>();
  const numbers = new Map<string, number>();
  const ids = [...active];
  const found = await requestsById(deps, tenantId, ids);
  for (const id of ids) {
    const cr = found.get(id);
    if (!cr) continue;
    numbers.set(id, cr.number);
    // Only parts played by the end of the range: a vote cast later must not change this bundle.
    const votes = [...(cr.approval?.steps ?? []), ...(cr.retrospective?.steps ?? [])].flatMap(
      (s) => s.votes,
    );
    const people: (Person | undefined)[] = [
      ...(cr.createdAt < range.toEnd ? [cr.requester, cr.onBehalfOf] : []),
      ...votes.filter((v) => v.at < range.toEnd).map((v) => v.by),
      ...(cr.closure && cr.closure.at < range.toEnd ? [cr.closure.by] : []),
      ...(cr.review && cr.review.at < range.toEnd ? [cr.review.by] : []),
    ];
    for (const p of people) if (p?.name) names.set(`${p.tid}/${p.oid}`, p.name);
  }
  return buildHistory(opened, {
    tenantId,
    range: { from: range.from, to: range.to },
    fromTs: range.fromTs,
    names,
    numbers,
  });
}

/** The stored checkpoints plus the one of size N (stored by `checkpointAt` too), by size. */
function mergeCheckpoints(listed: readonly Checkpoint[], atSize: Checkpoint): Checkpoint[] {
  const bySize = new Map<number, Checkpoint>(listed.map((c) => [c.size, c]));
  bySize.set(atSize.size, bySize.get(atSize.size) ?? atSize);
  return [...bySize.values()].sort((a, b) => a.size - b.size);
}

/**
 * `manifest.sig`: signed-note signature lines over the manifest bytes. The signature is stored by
 * the manifest's SHA-256 and reused, and names the key that made it (found by its key hash), so a
 * later key rotation does not change an old export.
 */
async function manifestSignature(
  deps: EvidenceExportDeps,
  tenantId: TenantId,
  manifestBytes: Buffer,
): Promise<string> {
  const digest = sha256Hex(manifestBytes);
  let stored = await deps.checkpoints.getSignature(tenantId, digest);
  if (stored === undefined) {
    const signature = await deps.signer.sign(manifestBytes);
    const fresh = Buffer.concat([deps.signer.keyHash, signature]).toString('base64');
    stored = await deps.checkpoints.putSignature(tenantId, digest, fresh);
  }
  const blob = Buffer.from(stored, 'base64');
  const keyHash = blob.subarray(0, 4);
  const key = deps.signer.manifest().keys.find((k) => k.keyHash === keyHash.toString('hex'));
  if (!key)
    throw new Error(
      `no checkpoint key with key hash ${keyHash.toString('hex')} signed this manifest`,
    );
  return signatureLine({ keyName: key.name, keyHash, signature: blob.subarray(4) });
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function text(path: string, content: string): ArchiveMember {
  return { path, bytes: Buffer.from(content, 'utf8') };
}

function json(path: string, value: unknown): ArchiveMember {
  return text(path, `${JSON.stringify(value, null, 2)}\n`);
}
