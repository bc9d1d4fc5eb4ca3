import { createHash } from 'node:crypto';
import { verifyChain, type StoredAuditEntry } from '../../domain/audit/audit-chain';
import { checkpointBody, checkpointOrigin, formatSignedNote } from '../../domain/audit/checkpoint';
import type { KeyManifest } from '../../domain/audit/key-manifest';
import { entryLeafHash, MerkleTree } from '../../domain/audit/merkle';
import type { TenantId } from '../../domain/shared/ids';
import type { AuditLog } from '../ports/audit-log';
import {
  AuditLogTruncatedError,
  CheckpointConflictError,
  type CheckpointAnchor,
  type CheckpointSigner,
  type CheckpointStore,
  type StoredCheckpoint,
} from '../ports/checkpoints';
import type { ClientDirectory } from '../ports/client-directory';
import type { Clock } from '../ports/clock';
import type { Lease } from '../ports/lease';
import type { OutboxMessage } from '../ports/outbox';
import { LeasedJob, type LeasedJobOptions } from './leased-job';

export interface CheckpointDeps {
  readonly audit: Pick<AuditLog, 'head' | 'read'>;
  readonly checkpoints: CheckpointStore;
  readonly anchor: CheckpointAnchor;
  readonly signer: CheckpointSigner;
  readonly clients: Pick<ClientDirectory, 'get'>;
  readonly clock: Clock;
  readonly outboxWritten?: (tenantId: TenantId) => void;
}

/** A checkpoint, settled: stored, anchored and witnessed. */
export interface CheckpointOutcome {
  readonly checkpoint: StoredCheckpoint;
  /** False when a checkpoint of that size was already stored (its note is reused). */
  readonly created: boolean;
}

/**
 * Checkpoints the client's whole chain as it stands: undefined while the chain is empty.
 * @remarks Idempotent: a chain that has not grown settles its latest checkpoint (anchor, witness)
 * and signs nothing new.
 */
export async function checkpointTenant(
  deps: CheckpointDeps,
  tenantId: TenantId,
): Promise<CheckpointOutcome | undefined> {
  const head = await deps.audit.head(tenantId);
  if (!head || head.seq === 0) return undefined;
  await refuseTruncated(deps, tenantId, head.seq);
  return checkpointAt(deps, tenantId, head.seq);
}

/**
 * A chain restored from an older backup must not get a fresh, smaller checkpoint vouching for it:
 * the anchors outside Cabinet's tables remember how long it was. (An export still bundles what it
 * has, with the larger anchor, for the verifier to flag.)
 */
async function refuseTruncated(
  deps: CheckpointDeps,
  tenantId: TenantId,
  headSeq: number,
): Promise<void> {
  const [latest, anchors] = await Promise.all([
    deps.checkpoints.latest(tenantId),
    deps.anchor.list(tenantId),
  ]);
  const longest = Math.max(latest?.size ?? 0, ...anchors.map((a) => a.size));
  if (headSeq < longest) throw new AuditLogTruncatedError(tenantId, headSeq, longest);
}

/**
 * The checkpoint of the first `size` entries: the stored one if there is one (so exports reuse
 * what was signed before), else a new one — verified, signed, stored, anchored, then witnessed.
 * @remarks Checkpoints are not audit entries themselves: an entry would move the head each one
 * attests to, so every checkpoint would call for another. Before signing, the chain's hashes and
 * links are verified and the new tree must agree with the nearest smaller checkpoint, so a rewritten
 * table is refused (CheckpointConflictError), never signed. Order matters for the witness: the card
 * is queued only after the anchor is written, so every witnessed checkpoint is anchored.
 */
export async function checkpointAt(
  deps: CheckpointDeps,
  tenantId: TenantId,
  size: number,
): Promise<CheckpointOutcome> {
  if (!Number.isSafeInteger(size) || size < 1)
    throw new RangeError(`A checkpoint covers at least one entry (asked for ${size}).`);
  const known = await deps.checkpoints.get(tenantId, size);
  if (known) return { checkpoint: await settle(deps, tenantId, known), created: false };
  const entries = await deps.audit.read(tenantId, { fromSeq: 1, limit: size });
  const tree = await verifiedTree(deps, tenantId, entries, size);
  const root = tree.root(size);
  const body = checkpointBody({ origin: checkpointOrigin(tenantId), size, root });
  const signature = await deps.signer.sign(body);
  const note = formatSignedNote(body, [
    { keyName: deps.signer.keyName, keyHash: deps.signer.keyHash, signature },
  ]);
  const rootHex = root.toString('hex');
  const stored = await deps.checkpoints.save(tenantId, { size, root: rootHex, note });
  return {
    checkpoint: await settle(deps, tenantId, stored),
    created: stored.note === note,
  };
}

async function verifiedTree(
  deps: CheckpointDeps,
  tenantId: TenantId,
  entries: readonly StoredAuditEntry[],
  size: number,
): Promise<MerkleTree> {
  if (entries.length < size)
    throw new RangeError(
      `Tenant ${tenantId} has ${entries.length} audit entries; cannot checkpoint ${size}.`,
    );
  const verdict = verifyChain(tenantId, entries);
  if (!verdict.ok)
    throw new Error(
      `Refusing to checkpoint tenant ${tenantId}: its chain fails at seq ${verdict.seq} (${verdict.reason}).`,
    );
  const tree = new MerkleTree(entries.map((e) => entryLeafHash(e.canonical)));
  const earlier = (await deps.checkpoints.list(tenantId, { upToSize: size - 1 })).at(-1);
  if (earlier) {
    const recomputed = tree.root(earlier.size).toString('hex');
    if (recomputed !== earlier.root)
      throw new CheckpointConflictError(tenantId, earlier.size, earlier.root, recomputed);
  }
  return tree;
}

/** Anchors the checkpoint (if not yet) and queues its witness cards (if not yet). */
async function settle(
  deps: CheckpointDeps,
  tenantId: TenantId,
  checkpoint: StoredCheckpoint,
): Promise<StoredCheckpoint> {
  if (checkpoint.witnessed) return checkpoint;
  await deps.anchor.append(tenantId, {
    size: checkpoint.size,
    root: checkpoint.root,
    noteSha256: noteSha256(checkpoint.note),
    anchoredAt: deps.clock.now().toISOString(),
  });
  const client = await deps.clients.get(tenantId);
  const admins = (client?.profile.admins ?? []).filter((p) => p.tid === tenantId);
  const cards: OutboxMessage[] = admins.map((admin) => ({
    kind: 'teams.notify',
    recipient: { tid: admin.tid, oid: admin.oid },
    notification: {
      template: 'checkpoint_witness',
      requestId: `checkpoint-${checkpoint.size}`,
      version: checkpoint.size,
      checkpoint: { size: checkpoint.size, root: checkpoint.root },
    },
  }));
  if (await deps.checkpoints.markWitnessed(tenantId, checkpoint, cards)) {
    if (cards.length > 0) deps.outboxWritten?.(tenantId);
    return { ...checkpoint, witnessed: true };
  }
  return (await deps.checkpoints.get(tenantId, checkpoint.size)) ?? checkpoint;
}

/** SHA-256 (hex) of a note's UTF-8 bytes: what an anchor line records. */
export function noteSha256(note: string): string {
  return createHash('sha256').update(note, 'utf8').digest('hex');
}

/** An inclusion-proof file: one request's entries, each proven against one signed checkpoint. */
export interface InclusionProofFile {
  readonly format: 'cabinet-inclusion/v1';
  readonly tenantId: TenantId;
  /** The signed note of the checkpoint the proofs lead to. */
  readonly checkpoint: string;
  readonly treeSize: number;
  readonly entries: readonly {
    readonly seq: number;
    readonly canonical: string;
    /** RFC 6962 audit path, hex, leaf to root. */
    readonly proof: readonly string[];
  }[];
  readonly keys: KeyManifest;
}

/**
 * Proves that every audit entry of one change request is in the client's log ("prove this approval
 * is in the log"): undefined if the log holds no entry of that request.
 * @remarks Proves against the latest checkpoint when it covers the request's last entry; otherwise
 * checkpoints the chain as it stands first (anchored and witnessed like any other).
 */
export async function proveRequest(
  deps: CheckpointDeps,
  tenantId: TenantId,
  requestId: string,
): Promise<InclusionProofFile | undefined> {
  const head = await deps.audit.head(tenantId);
  if (!head || head.seq === 0) return undefined;
  const entries = await deps.audit.read(tenantId, { fromSeq: 1, limit: head.seq });
  const mine = entries.filter((e) => requestOf(e) === requestId);
  const last = mine.at(-1);
  if (!last) return undefined;
  const latest = await deps.checkpoints.latest(tenantId);
  if (latest && latest.size > entries.length)
    throw new RangeError(
      `Tenant ${tenantId} has ${entries.length} audit entries but a checkpoint of ${latest.size}: the log was truncated.`,
    );
  const { checkpoint } =
    latest && latest.size >= last.seq
      ? { checkpoint: await settle(deps, tenantId, latest) }
      : await checkpointAt(deps, tenantId, entries.length);
  const tree = new MerkleTree(
    entries.slice(0, checkpoint.size).map((e) => entryLeafHash(e.canonical)),
  );
  if (tree.root(checkpoint.size).toString('hex') !== checkpoint.root)
    throw new CheckpointConflictError(
      tenantId,
      checkpoint.size,
      checkpoint.root,
      tree.root(checkpoint.size).toString('hex'),
    );
  return {
    format: 'cabinet-inclusion/v1',
    tenantId,
    checkpoint: checkpoint.note,
    treeSize: checkpoint.size,
    entries: mine.map((e) => ({
      seq: e.seq,
      canonical: e.canonical,
      proof: tree.inclusionProof(e.seq - 1, checkpoint.size).map((h) => h.toString('hex')),
    })),
    keys: deps.signer.manifest(),
  };
}

function requestOf(entry: StoredAuditEntry): unknown {
  return (JSON.parse(entry.canonical) as { requestId?: unknown }).requestId;
}

/** When a client's chain is due a checkpoint. */
export interface CheckpointPolicy {
  /** Checkpoint once this many entries are past the latest checkpoint (default 100). */
  readonly everyEntries?: number;
  /** Checkpoint once the oldest entry past the latest checkpoint is this old (default 5 minutes). */
  readonly maxAgeMs?: number;
}

/** What one pass did: clients looked at, checkpoints signed, clients that failed (see the log). */
export interface CheckpointPassResult {
  readonly checked: number;
  readonly checkpoints: number;
  readonly failed: number;
}

export const DEFAULT_CHECKPOINT_EVERY_ENTRIES = 100;
export const DEFAULT_CHECKPOINT_MAX_AGE_MS = 5 * 60_000;

/**
 * One pass over every client: checkpoints each chain with at least `everyEntries` new entries, or
 * whose oldest new entry is at least `maxAgeMs` old; settles a latest checkpoint left unanchored or
 * unwitnessed by an interrupted pass.
 * @remarks One client's failure (storage, or a chain refused as rewritten) is reported through
 * `onFailure` and does not hold up the others.
 */
export async function checkpointDue(
  deps: CheckpointDeps & { readonly clients: Pick<ClientDirectory, 'get' | 'list'> },
  policy: CheckpointPolicy = {},
  options: {
    readonly stillHeld?: () => boolean;
    readonly onFailure?: (tenantId: TenantId, error: unknown) => void;
  } = {},
): Promise<CheckpointPassResult> {
  let checked = 0;
  let checkpoints = 0;
  let failed = 0;
  for (const client of await deps.clients.list()) {
    // The lease lapsed under a long pass: another instance checkpoints now, so stop rather than race it.
    if (options.stillHeld && !options.stillHeld()) break;
    checked += 1;
    try {
      if (await checkpointIfDue(deps, client.tenantId, policy)) checkpoints += 1;
    } catch (error: unknown) {
      failed += 1;
      options.onFailure?.(client.tenantId, error);
    }
  }
  return { checked, checkpoints, failed };
}

async function checkpointIfDue(
  deps: CheckpointDeps,
  tenantId: TenantId,
  policy: CheckpointPolicy,
): Promise<boolean> {
  const everyEntries = policy.everyEntries ?? DEFAULT_CHECKPOINT_EVERY_ENTRIES;
  const maxAgeMs = policy.maxAgeMs ?? DEFAULT_CHECKPOINT_MAX_AGE_MS;
  const head = await deps.audit.head(tenantId);
  if (!head || head.seq === 0) return false;
  const latest = await deps.checkpoints.latest(tenantId);
  if (latest && !latest.witnessed) await settle(deps, tenantId, latest);
  const done = latest?.size ?? 0;
  if (head.seq <= done) return false;
  if (head.seq - done < everyEntries) {
    const [oldest] = await deps.audit.read(tenantId, { fromSeq: done + 1, limit: 1 });
    const ts = oldest ? Date.parse((JSON.parse(oldest.canonical) as { ts: string }).ts) : NaN;
    if (!(deps.clock.now().getTime() - ts >= maxAgeMs)) return false;
  }
  await refuseTruncated(deps, tenantId, head.seq);
  return (await checkpointAt(deps, tenantId, head.seq)).created;
}

export type CheckpointerOptions = LeasedJobOptions & CheckpointPolicy;

/** The lease every instance's checkpointer competes for. */
export const CHECKPOINTER_LEASE = 'audit-checkpointer';

/** Runs `checkpointDue` on an interval, on one instance at a time (see {@link LeasedJob}); lease 60 s by default. */
export class Checkpointer {
  private readonly job: LeasedJob<CheckpointPassResult>;

  constructor(
    deps: CheckpointDeps & {
      readonly clients: Pick<ClientDirectory, 'get' | 'list'>;
      readonly lease: Lease;
    },
    options: CheckpointerOptions = {},
  ) {
    const { everyEntries, maxAgeMs, ...jobOptions } = options;
    const policy: CheckpointPolicy = {
      ...(everyEntries !== undefined ? { everyEntries } : {}),
      ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
    };
    const log = options.log ?? (() => undefined);
    const onFailure = (tenantId: TenantId, error: unknown) =>
      log(
        `Audit checkpoint of tenant ${tenantId} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    this.job = new LeasedJob(
      {
        lease: CHECKPOINTER_LEASE,
        title: 'Audit checkpoint',
        work: (stillHeld) => checkpointDue(deps, policy, { stillHeld, onFailure }),
      },
      deps,
      { leaseTtlMs: 60_000, ...jobOptions },
    );
  }

  /** One tick: checkpoints if this instance holds (or can take) the lease; undefined if another holds it. */
  checkpointOnce(): Promise<CheckpointPassResult | undefined> {
    return this.job.runOnce();
  }

  start(intervalMs: number): void {
    this.job.start(intervalMs);
  }

  /** Stops and gives the lease up, so another instance takes over without waiting for expiry. */
  stop(): Promise<void> {
    return this.job.stop();
  }
}
