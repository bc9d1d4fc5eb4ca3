import type { KeyManifest } from '../../domain/audit/key-manifest';
import type { TenantId } from '../../domain/shared/ids';
import type { OutboxMessage } from './outbox';

/**
 * Signs checkpoint bodies (C2SP signed notes) with Cabinet's current checkpoint key.
 * @remarks ECDSA P-256 over SHA-256, IEEE P1363 (r‖s) encoding: the form Azure Key Vault's ES256
 * returns, so a production key can live there behind this port.
 */
export interface CheckpointSigner {
  /** The note key name on every signature line. */
  readonly keyName: string;
  /** The public key, SPKI DER. */
  readonly publicKeySpki: Buffer;
  /** The first 4 bytes of SHA-256(keyName ‖ 0x0A ‖ 0x02 ‖ SPKI): the note's key id. */
  readonly keyHash: Buffer;
  /** A 64-byte P1363 signature over the exact bytes of `body`. */
  sign(body: string | Uint8Array): Promise<Buffer>;
  /** Every checkpoint key so far, oldest first, each endorsed by the one before it. */
  manifest(): KeyManifest;
}

/** A signed tree head of a client's audit chain: the first `size` entries have Merkle root `root`. */
export interface Checkpoint {
  readonly size: number;
  /** The RFC 6962 root, 64 hex characters. */
  readonly root: string;
  /** The signed note (checkpoint body, blank line, signature lines), exactly as signed. */
  readonly note: string;
}

/** A checkpoint as stored, with whether its witness card has been queued. */
export interface StoredCheckpoint extends Checkpoint {
  /** True once the witness card to the client's admins was written to the outbox. */
  readonly witnessed: boolean;
  readonly etag: string;
}

/**
 * A second, different root for a size that already has a checkpoint: the log was rewritten, or two
 * writers disagree about its content. Never expected; nothing is overwritten.
 */
/** The chain is shorter than a checkpoint already signed or anchored: entries were lost or removed. */
export class AuditLogTruncatedError extends Error {
  readonly code = 'AUDIT.LOG_TRUNCATED';

  constructor(
    readonly tenantId: TenantId,
    readonly entries: number,
    readonly checkpointed: number,
  ) {
    super(
      `Tenant ${tenantId} has ${entries} audit entries but a checkpoint of ${checkpointed} was signed or anchored: the log was truncated; refusing to sign a smaller one.`,
    );
    this.name = 'AuditLogTruncatedError';
  }
}

export class CheckpointConflictError extends Error {
  readonly code = 'AUDIT.CHECKPOINT_CONFLICT';

  constructor(
    readonly tenantId: TenantId,
    readonly size: number,
    readonly storedRoot: string,
    readonly offeredRoot: string,
  ) {
    super(
      `Tenant ${tenantId} already has a checkpoint of size ${size} with root ${storedRoot}; refusing root ${offeredRoot}.`,
    );
    this.name = 'CheckpointConflictError';
  }
}

export interface ListCheckpointsOptions {
  /** Only checkpoints of at most this many entries. */
  readonly upToSize?: number;
}

/**
 * Checkpoints in the client's partition, one insert-only row per size, plus the stored manifest
 * signatures of evidence bundles (ECDSA signatures are randomised; reusing them keeps re-exports
 * byte-identical).
 */
export interface CheckpointStore {
  /**
   * Stores a checkpoint. The same size with the same root again is success (the stored one is
   * returned, with its original note); the same size with another root throws CheckpointConflictError.
   */
  save(tenantId: TenantId, checkpoint: Checkpoint): Promise<StoredCheckpoint>;
  get(tenantId: TenantId, size: number): Promise<StoredCheckpoint | undefined>;
  /** In increasing size. */
  list(tenantId: TenantId, options?: ListCheckpointsOptions): Promise<StoredCheckpoint[]>;
  latest(tenantId: TenantId): Promise<StoredCheckpoint | undefined>;
  /**
   * Marks the checkpoint witnessed and writes `witness` (the cards to the client's admins) in the
   * same transaction. False if another instance marked it first (nothing written).
   */
  markWitnessed(
    tenantId: TenantId,
    checkpoint: StoredCheckpoint,
    witness: readonly OutboxMessage[],
  ): Promise<boolean>;
  /** A stored signature (base64) over the document with this SHA-256 (hex). */
  getSignature(tenantId: TenantId, sha256hex: string): Promise<string | undefined>;
  /** Stores a signature unless one is stored already; returns the one that is stored. */
  putSignature(tenantId: TenantId, sha256hex: string, signature: string): Promise<string>;
}

/** One line of a tenant's anchor blob: a checkpoint as it stood when anchored. */
export interface AnchorRecord {
  readonly size: number;
  /** The Merkle root, hex. */
  readonly root: string;
  /** SHA-256 (hex) of the signed note's UTF-8 bytes. */
  readonly noteSha256: string;
  readonly anchoredAt: string;
}

/**
 * Anchors checkpoints outside the tables Cabinet writes: an append-only log per tenant (an append
 * blob under an immutability policy in production), so rewriting the tables cannot rewrite history
 * unnoticed.
 */
export interface CheckpointAnchor {
  /**
   * Appends the record unless a record of that size is already there (then nothing is written).
   * A record of that size with another root or note throws CheckpointConflictError.
   */
  append(tenantId: TenantId, record: AnchorRecord): Promise<void>;
  /** Every record, in append order. */
  list(tenantId: TenantId): Promise<AnchorRecord[]>;
}
