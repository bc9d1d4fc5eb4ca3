import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../../../domain/audit/audit-event';
import type { ChangeRequest } from '../../../domain/change-request/change-request';
import {
  transition,
  type ChangeEvent,
} from '../../../domain/change-request/change-request.machine';
import { rolesFor } from '../../../domain/client/client';
import type {
  CommandOutcome,
  DirectoryCommand,
  DirectoryFailure,
} from '../../../domain/execution/directory';
import {
  checkFor,
  resolveCheck,
  resolveCommand,
} from '../../../domain/execution/directory-commands';
import {
  DEFAULT_RETRY_AFTER_MS,
  nextMove,
  recordCompensating,
  recordCompensation,
  recordFinished,
  recordOutcome,
  recordPlanned,
  recordStarted,
  recordVerified,
  recordWaiting,
  type FinalStatus,
  type SagaMove,
  type SagaUpdate,
} from '../../../domain/execution/execution.saga';
import type { PlanStep } from '../../../domain/execution/execution-plan';
import {
  isFinal,
  parseRunId,
  type ExecutionRun,
  type RunId,
} from '../../../domain/execution/execution-run';
import { planDigest, planExecution } from '../../../domain/execution/plan-execution';
import { parseWizardOptions } from '../../../domain/execution/wizard-options';
import type { TenantId } from '../../../domain/shared/ids';
import type { Secret } from '../../../domain/shared/secret';
import { ConcurrencyError } from '../../ports/errors';
import type { StoredRun } from '../../ports/execution-store';
import type { DriveOutcome, OutboxMessage, RunDriver } from '../../ports/outbox';
import { DirectoryError } from '../../ports/tenant-directory';
import { DEFAULT_LEASE_MS, PASSWORD_TTL_MS, type ExecutionDeps } from './execution-deps';
import { executionUpdate, finishedNote, followers } from './execution-notifications';
import { readSnapshot } from './read-snapshot';
import { generateTemporaryPassword } from './temporary-password';
import { rulesFor } from '../../../domain/client/client-rules';
import { retrospectiveCards } from '../notifications';
import { recordTemplateRun } from '../template-outcomes';

/** Another worker holds the run (its ETag moved under us): leave it to them. */
class LeaseLost extends Error {}

/** How soon to look again at a run another worker is driving. */
const BUSY_RETRY_MS = 5_000;
const MAX_FINISH_ATTEMPTS = 4;

/**
 * Drives execution runs (persisted sagas) when the outbox relay delivers their `graph.execute`
 * rows. Each move comes from the pure saga rules; this class only reads and writes.
 * @remarks Every step is stored `started` before its command is sent and `done`/`failed` after,
 * so a crash in between is found on resume and read back before anything is sent again. A worker
 * holds a run by a lease written on the run itself: concurrent workers are fenced by the run's
 * ETag (a ConcurrencyError means another one is driving, and this one backs off).
 */
export class ExecutionWorker implements RunDriver {
  private readonly workerId: string;
  private readonly together: boolean;
  private readonly leaseMs: number;

  constructor(private readonly deps: ExecutionDeps) {
    this.workerId = deps.execution?.workerId ?? randomUUID();
    this.together = deps.execution?.together ?? true;
    this.leaseMs = deps.execution?.leaseMs ?? DEFAULT_LEASE_MS;
  }

  async drive(tenantId: TenantId, runId: string): Promise<DriveOutcome> {
    const parsed = parseRunId(runId);
    const stored = parsed ? await this.deps.runs.get(tenantId, parsed.id) : undefined;
    if (!stored || isFinal(stored.run.status)) return { status: 'settled' };
    const now = this.now();
    const first = nextMove(stored.run, now);
    if (first.kind === 'sleep') return { status: 'later', at: new Date(first.until) };
    // Still waiting for the same tick: nothing to write, nobody to tell again.
    if (
      first.kind === 'wait' &&
      stored.run.status === 'waiting' &&
      stored.run.reason === first.reason
    )
      return { status: 'settled' };
    const lease = stored.run.lease;
    if (lease && lease.holder !== this.workerId && lease.until > now)
      return { status: 'later', at: new Date(lease.until) };
    const session = new RunSession(this.deps, tenantId, stored, {
      workerId: this.workerId,
      together: this.together,
      leaseMs: this.leaseMs,
    });
    try {
      await session.hold();
      return await session.drive();
    } catch (error: unknown) {
      if (error instanceof LeaseLost)
        return { status: 'later', at: new Date(this.deps.clock.now().getTime() + BUSY_RETRY_MS) };
      throw error;
    }
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

interface SessionSettings {
  readonly workerId: string;
  readonly together: boolean;
  readonly leaseMs: number;
}

/** One drive of one run: holds the latest stored run and its ETag between writes. */
class RunSession {
  private current: StoredRun;

  constructor(
    private readonly deps: ExecutionDeps,
    private readonly tenantId: TenantId,
    stored: StoredRun,
    private readonly settings: SessionSettings,
  ) {
    this.current = stored;
  }

  private get run(): ExecutionRun {
    return this.current.run;
  }

  /** Takes the lease by writing it: if another worker wrote since we read, we lose the race. */
  async hold(): Promise<void> {
    await this.save({ run: this.run, audit: [] });
  }

  async drive(): Promise<DriveOutcome> {
    for (;;) {
      const move = nextMove(this.run, this.now());
      const outcome = await this.apply(move);
      if (outcome) return outcome;
    }
  }

  /** Carries out one move; returns how the drive ends, or undefined to carry on. */
  private async apply(move: SagaMove): Promise<DriveOutcome | undefined> {
    switch (move.kind) {
      case 'none':
        return { status: 'settled' };
      case 'sleep':
        await this.release();
        return { status: 'later', at: new Date(move.until) };
      case 'prepare':
        return this.prepare();
      case 'verify':
        return this.verify(move.phase, move.steps);
      case 'forward':
        await this.forward(this.settings.together ? move.steps : move.steps.slice(0, 1));
        return undefined;
      case 'compensate':
        await this.compensate(this.settings.together ? move.steps : move.steps.slice(0, 1));
        return undefined;
      case 'wait':
        await this.waitForPerson(move.reason);
        return { status: 'settled' };
      case 'finish':
        await this.finish(move.status, move.reason);
        return { status: 'settled' };
    }
  }

  /** Reads the tenant and builds the plan; the prior state it captures is stored before any step runs. */
  private async prepare(): Promise<DriveOutcome | undefined> {
    const stored = await this.deps.requests.get(this.tenantId, this.run.requestId);
    if (!stored) {
      await this.finish('needs_manual', 'The request no longer exists; nothing was changed.');
      return { status: 'settled' };
    }
    if (stored.request.status !== 'in_progress') {
      // Cancelled (or otherwise moved on) while the run was queued: nobody wants it carried out now.
      await this.finish(
        'needs_manual',
        `The request is ${stored.request.status.replace('_', ' ')} now, so the run did not start. Nothing was changed.`,
      );
      return { status: 'settled' };
    }
    const options = parseWizardOptions(stored.request, this.run.options);
    if (!options.ok) {
      await this.finish('needs_manual', `${options.error.message} Nothing was changed.`);
      return { status: 'settled' };
    }
    try {
      const snapshot = await readSnapshot(
        this.deps.directory,
        this.tenantId,
        options.value,
        this.settings.together,
      );
      const plan = planExecution(stored.request, options.value, snapshot);
      if (!plan.ok) {
        await this.finish('needs_manual', `${plan.error.message} Nothing was changed.`);
        return { status: 'settled' };
      }
      const digest = planDigest(plan.value);
      const changed = this.run.previewDigest !== undefined && this.run.previewDigest !== digest;
      const planned = changed
        ? {
            ...plan.value,
            notes: [
              'The directory changed after the preview, so this plan differs from the one previewed.',
              ...plan.value.notes,
            ],
          }
        : plan.value;
      await this.save(recordPlanned(this.run, planned, digest, this.now()));
      return undefined;
    } catch (error: unknown) {
      return this.directoryTrouble(error, 'Could not read the directory to plan.');
    }
  }

  /** Reads back steps whose outcome a crash lost, so nothing is sent twice. */
  private async verify(
    phase: 'forward' | 'compensation',
    steps: readonly PlanStep[],
  ): Promise<DriveOutcome | undefined> {
    let update: SagaUpdate = { run: this.run, audit: [] };
    try {
      for (const s of steps) {
        const found = await this.readBack(phase, s, update.run);
        const next = recordVerified(update.run, s.id, found.held, this.now(), found.createdUserId);
        update = { run: next.run, audit: [...update.audit, ...next.audit] };
      }
    } catch (error: unknown) {
      return this.directoryTrouble(error, 'Could not read back what was sent before a restart.');
    }
    await this.save(update);
    return undefined;
  }

  private async readBack(
    phase: 'forward' | 'compensation',
    s: PlanStep,
    run: ExecutionRun,
  ): Promise<{ readonly held: boolean; readonly createdUserId?: string }> {
    const subject = run.plan!.subject.userPrincipalName;
    if (phase === 'forward' && s.forward.kind === 'user.create') {
      // The new user's id is needed by later steps, so the read-back is a lookup, not a yes/no.
      const user = await this.deps.directory.findUser(
        this.tenantId,
        s.forward.user.userPrincipalName,
      );
      return user ? { held: true, createdUserId: user.id } : { held: false };
    }
    const check =
      phase === 'forward'
        ? resolveCheck(s.verify, run.createdUserId)
        : checkFor(resolveCommand(s.compensation!, run.createdUserId), subject);
    if (check.kind === 'none') return { held: false };
    return { held: await this.deps.directory.check(this.tenantId, check) };
  }

  private async forward(steps: readonly PlanStep[]): Promise<void> {
    const creates = steps.some((s) => s.forward.kind === 'user.create');
    const initialPassword = creates ? await this.password() : undefined;
    await this.save(
      recordStarted(
        this.run,
        steps.map((s) => s.id),
        this.now(),
      ),
    );
    const outcomes = await this.perform(
      steps.map((s) => resolveCommand(s.forward, this.run.createdUserId)),
      initialPassword,
    );
    let update: SagaUpdate = { run: this.run, audit: [] };
    steps.forEach((s, i) => {
      const next = recordOutcome(update.run, s.id, outcomes[i]!, this.now());
      update = { run: next.run, audit: [...update.audit, ...next.audit] };
    });
    await this.save(update);
  }

  private async compensate(steps: readonly PlanStep[]): Promise<void> {
    await this.save(
      recordCompensating(
        this.run,
        steps.map((s) => s.id),
        this.now(),
      ),
    );
    const outcomes = await this.perform(
      steps.map((s) => resolveCommand(s.compensation!, this.run.createdUserId)),
    );
    let update: SagaUpdate = { run: this.run, audit: [] };
    steps.forEach((s, i) => {
      const next = recordCompensation(update.run, s.id, outcomes[i]!, this.now());
      update = { run: next.run, audit: [...update.audit, ...next.audit] };
    });
    await this.save(update);
  }

  private async perform(
    commands: readonly DirectoryCommand[],
    initialPassword?: Secret,
  ): Promise<CommandOutcome[]> {
    const outcomes = await this.deps.directory.perform(this.tenantId, commands, {
      together: this.settings.together,
      ...(initialPassword ? { initialPassword } : {}),
    });
    if (outcomes.length !== commands.length)
      throw new Error(
        `The directory answered ${outcomes.length} outcomes for ${commands.length} commands.`,
      );
    return outcomes;
  }

  /** The new user's temporary password, kept sealed before the account is created (a resumed run reuses it). */
  private password(): Promise<Secret> {
    const ttl = this.deps.execution?.passwordTtlMs ?? PASSWORD_TTL_MS;
    return this.deps.passwords.keep(
      this.tenantId,
      this.run.id,
      generateTemporaryPassword(),
      new Date(this.deps.clock.now().getTime() + ttl),
    );
  }

  /** Pauses for a checklist tick and tells the technician what they need to do. */
  private async waitForPerson(reason: string): Promise<void> {
    const update = recordWaiting(this.run, reason, this.now());
    const request = (await this.deps.requests.get(this.tenantId, this.run.requestId))?.request;
    const outbox = request
      ? [executionUpdate(this.run.startedBy, request, update.run, reason)]
      : [];
    await this.save(update, { outbox, release: true });
  }

  /**
   * A directory read failed: a throttled or unavailable service makes the run wait and come back;
   * anything else (forbidden) needs a person.
   */
  private async directoryTrouble(error: unknown, what: string): Promise<DriveOutcome> {
    if (!(error instanceof DirectoryError)) throw error;
    const failure: DirectoryFailure = error.failure;
    if (failure.retryable) {
      const until = new Date(
        this.deps.clock.now().getTime() + (failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS),
      );
      await this.save(
        recordWaiting(
          this.run,
          `${what} Microsoft Graph is busy (${failure.code}); Cabinet tries again at ${until.toISOString().slice(11, 16)} UTC.`,
          this.now(),
          until.toISOString(),
        ),
        { release: true },
      );
      return { status: 'later', at: until };
    }
    await this.finish('needs_manual', `${what} ${failure.code}: ${failure.message}`);
    return { status: 'settled' };
  }

  /**
   * Ends the run, and in the same transaction moves the request on (implemented, failed or
   * rolled back) and tells everyone who follows the change.
   */
  private async finish(status: FinalStatus, reason?: string): Promise<void> {
    const update = recordFinished(this.run, status, this.now(), reason);
    const undoneUser = this.createdUserGone(update.run);
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.deps.requests.get(this.tenantId, this.run.requestId);
      const moved = stored ? await this.requestTransition(stored.request, update.run) : undefined;
      const request = moved?.next ?? stored?.request;
      const outbox: OutboxMessage[] = request
        ? [
            ...followers(request, update.run.startedBy).map((p) =>
              executionUpdate(p, request, update.run, finishedNote(update.run)),
            ),
            ...(moved && stored ? retrospectiveCards(stored.request, moved.next) : []),
          ]
        : [];
      try {
        await this.save(
          { run: update.run, audit: [...update.audit, ...(moved ? [moved.audit] : [])] },
          {
            outbox,
            release: true,
            ...(moved && stored ? { request: { next: moved.next, etag: stored.etag } } : {}),
          },
        );
        if (moved && stored) await recordTemplateRun(this.deps, stored.request, moved.next);
        break;
      } catch (error: unknown) {
        // The request changed under us (an edit, a card click): move it on from its new state.
        if (!(error instanceof LeaseLost) || !moved || attempt >= MAX_FINISH_ATTEMPTS) throw error;
        const latest = await this.deps.runs.get(this.tenantId, this.run.id);
        if (latest?.etag !== this.current.etag) throw error;
      }
    }
    if (undoneUser) await this.deps.passwords.discard(this.tenantId, undoneUser);
  }

  /** The run whose kept password is now useless, because the account it was for is gone. */
  private createdUserGone(run: ExecutionRun): RunId | undefined {
    const create = run.plan?.steps.find((s) => s.forward.kind === 'user.create');
    if (run.kind === 'execute' && create) {
      const status = run.steps.find((p) => p.id === create.id)?.status;
      return status === 'done' ? undefined : run.id;
    }
    const deletes = run.plan?.steps.some((s) => s.forward.kind === 'user.delete');
    if (run.kind === 'rollback' && run.status === 'completed' && deletes && run.rollbackOf)
      return run.rollbackOf;
    return undefined;
  }

  private async requestTransition(
    request: ChangeRequest,
    run: ExecutionRun,
  ): Promise<{ readonly next: ChangeRequest; readonly audit: AuditEvent } | undefined> {
    const event = requestEvent(run);
    if (!event) return undefined;
    const client = (await this.deps.clients.get(this.tenantId))?.profile;
    if (!client) return undefined;
    const result = transition(request, event, {
      actor: run.startedBy,
      roles: rolesFor(client, run.startedBy),
      system: true,
      now: this.now(),
      rules: rulesFor(client),
    });
    // A request cancelled or closed meanwhile stays as it is; the run's own record says what happened.
    return result.ok ? result.value : undefined;
  }

  /** Gives up the lease so another worker (or this one later) can pick the run up at once. */
  private async release(): Promise<void> {
    if (this.run.lease) await this.save({ run: this.run, audit: [] }, { release: true });
  }

  /** One atomic write of the run (with a renewed or released lease), its audit events and outbox rows. */
  private async save(
    update: SagaUpdate,
    extra: {
      readonly outbox?: readonly OutboxMessage[];
      readonly release?: boolean;
      readonly request?: { readonly next: ChangeRequest; readonly etag: string };
    } = {},
  ): Promise<void> {
    const { lease: _lease, ...rest } = update.run;
    const run: ExecutionRun =
      extra.release || isFinal(rest.status)
        ? rest
        : {
            ...rest,
            lease: {
              holder: this.settings.workerId,
              until: new Date(
                this.deps.clock.now().getTime() + this.settings.leaseMs,
              ).toISOString(),
            },
          };
    const outbox = extra.outbox ?? [];
    try {
      const saved = await this.deps.runs.save(this.tenantId, {
        run,
        runEtag: this.current.etag,
        audit: update.audit,
        outbox,
        ...(extra.request ? { request: extra.request } : {}),
      });
      this.current = saved.run;
      if (outbox.length > 0) this.deps.outboxWritten?.(this.tenantId);
    } catch (error: unknown) {
      if (error instanceof ConcurrencyError) throw new LeaseLost('', { cause: error });
      throw error;
    }
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** How a run's end moves its request: the engine's transitions, or none (a rollback that needs a person). */
function requestEvent(run: ExecutionRun): ChangeEvent | undefined {
  if (run.kind === 'rollback')
    return run.status === 'completed'
      ? {
          type: 'RollbackCompleted',
          runId: run.id,
          notes: `Rolled back by Cabinet (run ${run.id}).`,
        }
      : undefined;
  if (run.status === 'completed') return { type: 'ExecutionCompleted', runId: run.id };
  return {
    type: 'ExecutionFailed',
    runId: run.id,
    reason: run.reason ?? `Run ${run.id} ended ${run.status}.`,
  };
}
