import type { ChangeRequestId, TenantId } from '../shared/ids';
import type { JsonObject } from '../shared/json';
import type { Person } from '../shared/person';
import type { DirectoryFailure } from './directory';
import type { ExecutionPlan } from './execution-plan';

/** `execute` carries out a plan; `rollback` undoes a completed `execute` run with its compensations. */
export type RunKind = 'execute' | 'rollback';

/**
 * `queued` until a worker takes it; `running` forward; `waiting` for a checklist tick or for a
 * throttled service (`waitUntil`); `compensating` after a failure before the point of no return.
 * Ends `completed`, `compensated` (every done step undone) or `needs_manual` (with the reason).
 */
export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting'
  | 'compensating'
  | 'completed'
  | 'compensated'
  | 'needs_manual';

export const FINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  'completed',
  'compensated',
  'needs_manual',
]);

/**
 * `started` is written before the forward command is sent, `done` after it succeeded; a step found
 * `started` after a crash is read back (`verify`) before anything is sent again.
 */
export type StepStatus = 'pending' | 'started' | 'done' | 'failed' | 'compensating' | 'compensated';

export interface StepProgress {
  readonly id: string;
  readonly status: StepStatus;
  /** Forward attempts sent (a verify that finds the effect counts as none). */
  readonly attempts: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly failure?: DirectoryFailure;
  /** The position in which the step was recorded done (1, 2, …): compensations run in reverse of it. */
  readonly order?: number;
  /** Compensations sent (retried when the service was throttled or down). */
  readonly compensationAttempts?: number;
  /** Why the last compensation was refused. */
  readonly compensationFailure?: DirectoryFailure;
}

export interface ChecklistProgress {
  readonly id: string;
  readonly done: boolean;
  readonly by?: Person;
  readonly at?: string;
  readonly note?: string;
}

/** A run id: the request number and the run's number for that request, e.g. `42-1`. */
export type RunId = string & { readonly __brand: 'RunId' };

const RUN_ID = /^([1-9][0-9]{0,9})-([1-9][0-9]{0,3})$/;

export function formatRunId(requestNumber: number, runNumber: number): RunId {
  return `${requestNumber}-${runNumber}` as RunId;
}

export function parseRunId(
  value: string,
): { readonly id: RunId; readonly requestNumber: number; readonly runNumber: number } | undefined {
  const match = RUN_ID.exec(value);
  if (!match) return undefined;
  return { id: value as RunId, requestNumber: Number(match[1]), runNumber: Number(match[2]) };
}

/** A persisted saga: everything needed to resume after a crash lives here, nothing in memory. */
export interface ExecutionRun {
  readonly id: RunId;
  readonly tenantId: TenantId;
  readonly requestId: ChangeRequestId;
  readonly requestVersion: number;
  readonly kind: RunKind;
  /** For a rollback: the `execute` run it undoes. */
  readonly rollbackOf?: RunId;
  readonly status: RunStatus;
  /** Why a run waits, was compensated or needs a person; written for the technician. */
  readonly reason?: string;
  readonly startedBy: Person;
  /** What the technician set in the wizard before planning (e.g. the auto-reply text). */
  readonly options: JsonObject;
  /** Digest of the plan the technician previewed, to tell them if the tenant changed since. */
  readonly previewDigest?: string;
  /** Set once the worker has read the tenant and built the plan (the prior state is captured then). */
  readonly plan?: ExecutionPlan;
  readonly steps: readonly StepProgress[];
  readonly checklist: readonly ChecklistProgress[];
  /** The id of the user a `user.create` step made (resolves CREATED_USER in later commands). */
  readonly createdUserId?: string;
  /** Not before this time (a throttled service asked us to wait). */
  readonly waitUntil?: string;
  /**
   * The worker driving the run, until when. Another worker finding a live lease leaves the run
   * alone; one that crashed is taken over once its lease has run out.
   */
  readonly lease?: { readonly holder: string; readonly until: string };
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
}

export function isFinal(status: RunStatus): boolean {
  return FINAL_RUN_STATUSES.has(status);
}
