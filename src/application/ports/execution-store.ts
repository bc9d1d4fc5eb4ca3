import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import type { ExecutionRun, RunId } from '../../domain/execution/execution-run';
import type { TenantId } from '../../domain/shared/ids';
import type { Secret } from '../../domain/shared/secret';
import type { OutboxMessage } from './outbox';

export interface StoredRun {
  readonly run: ExecutionRun;
  readonly etag: string;
}

/** Everything one saga step writes, atomically, in the client's partition. */
export interface ExecutionWrite {
  readonly run: ExecutionRun;
  /** The stored run's ETag; absent when the run is being created. */
  readonly runEtag?: string;
  /** The request too, when this write changes it (work started, implemented, failed). */
  readonly request?: { readonly next: ChangeRequest; readonly etag: string };
  readonly audit: readonly AuditEvent[];
  readonly outbox: readonly OutboxMessage[];
}

export interface SavedExecution {
  readonly run: StoredRun;
  /** The request's new ETag when the write changed it. */
  readonly requestEtag?: string;
}

/**
 * Execution runs (persisted sagas) in the client's partition, beside their request, so a step's
 * state, the request's state, the audit entries and the outbox rows commit in one transaction.
 */
export interface ExecutionStore {
  get(tenantId: TenantId, runId: RunId): Promise<StoredRun | undefined>;
  /** Every run of one request, oldest first. */
  listForRequest(tenantId: TenantId, requestNumber: number): Promise<StoredRun[]>;
  /**
   * Writes all of it or nothing. ConcurrencyError if `runEtag` or the request's ETag is stale;
   * ConflictError if a run being created already exists; RunTooLargeError if the run's record
   * would exceed what one stored row holds.
   */
  save(tenantId: TenantId, write: ExecutionWrite): Promise<SavedExecution>;
}

/**
 * A run (its plan, prior state and progress) is too large to store in one row; nothing was written.
 * @remarks Stores keep a run compressed in one row so a step's write stays one transaction; the
 * limit is {@link MAX_STORED_RUN_BYTES} of compressed record, which fits plans of thousands of steps.
 */
export class RunTooLargeError extends Error {
  constructor(
    readonly runId: string,
    readonly bytes: number,
  ) {
    super(
      `Run ${runId} is too large to store (${bytes} bytes compressed; the limit is ${MAX_STORED_RUN_BYTES}). Split the change into smaller requests.`,
    );
    this.name = 'RunTooLargeError';
  }
}

/** The largest compressed run record a store accepts (about 330 KB; a row holds 1 MiB of UTF-16 text). */
export const MAX_STORED_RUN_BYTES = 337_500;

/**
 * Temporary passwords of new users: sealed with the client's data key, never in clear in a table,
 * revealed once and then gone.
 */
export interface PasswordVault {
  /**
   * Keeps `password` for the run unless one is already kept (a resumed run reuses it); returns the
   * kept one. PasswordUnreadableError if the kept one can no longer be opened.
   */
  keep(tenantId: TenantId, runId: RunId, password: Secret, expiresAt: Date): Promise<Secret>;
  /** Whether a password can still be revealed (kept, not taken, not expired). */
  available(tenantId: TenantId, runId: RunId, now: Date): Promise<boolean>;
  /**
   * Removes and returns the password, exactly once even when two people click at the same moment;
   * `expired` (and removed) after its expiry, `undefined` if never kept or already taken.
   */
  take(tenantId: TenantId, runId: RunId, now: Date): Promise<Secret | 'expired' | undefined>;
  /** Removes it without revealing (the user creation was undone). */
  discard(tenantId: TenantId, runId: RunId): Promise<void>;
}

/**
 * A kept temporary password can no longer be opened: the client's data key was destroyed (the
 * client was offboarded or erased). To the requester it reads as expired.
 */
export class PasswordUnreadableError extends Error {
  constructor(readonly runId: string) {
    super(
      `The temporary password kept for run ${runId} can no longer be opened: the client's data key was destroyed. Reset the user's password in the admin center instead.`,
    );
    this.name = 'PasswordUnreadableError';
  }
}
