import type { ExecutionStore, PasswordVault } from '../../ports/execution-store';
import type { TenantDirectory } from '../../ports/tenant-directory';
import type { UseCaseDeps } from '../context';

export interface ExecutionSettings {
  /**
   * Send independent steps together (Graph `$batch`) and read the directory in parallel. On by
   * default; the bench switches it off to measure what batching buys.
   */
  readonly together?: boolean;
  /**
   * How long a worker holds a run between writes. A worker that crashed is taken over once this
   * has passed, so it must outlast the Graph adapter's retry budget for one call.
   */
  readonly leaseMs?: number;
  /** How long a new user's temporary password can be revealed (72 hours). */
  readonly passwordTtlMs?: number;
  /** Names this worker in run leases; random per worker when absent. */
  readonly workerId?: string;
}

/** The ports the execution use cases and worker need, beside every use case's own. */
export interface ExecutionDeps extends UseCaseDeps {
  readonly runs: ExecutionStore;
  readonly passwords: PasswordVault;
  readonly directory: TenantDirectory;
  readonly execution?: ExecutionSettings;
}

/** Longer than a Graph call with its retries, short enough that a crashed worker's run resumes soon. */
export const DEFAULT_LEASE_MS = 2 * 60_000;
/** A temporary password can be revealed for 72 hours (issue 3). */
export const PASSWORD_TTL_MS = 72 * 60 * 60_000;
