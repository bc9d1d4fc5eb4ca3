import { DomainError } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';
import { checkFor, resolveCommand, resolveUserId, slug } from './directory-commands';
import type { ChecklistItem, ExecutionPlan, PlanStep } from './execution-plan';
import type { ChangeStatus } from '../change-request/change-request';
import { isFinal, type ExecutionRun } from './execution-run';
import { progressOf, UNDO_TITLE_PREFIX } from './execution.saga';

/** Why a run cannot be rolled back. */
export const RollbackErrors = {
  notRollbackable: (runId: string, status: string) =>
    new DomainError(
      'EXEC.NOT_ROLLBACKABLE',
      `Run ${runId} is ${status.replace('_', ' ')}; only a completed run can be rolled back.`,
      { runId, status },
    ),
  requestNotRollbackable: (status: string) =>
    new DomainError(
      'EXEC.NOT_ROLLBACKABLE',
      `A request that is ${status.replace('_', ' ')} cannot be rolled back.`,
      { status },
    ),
  runActive: (runId: string) =>
    new DomainError(
      'EXEC.RUN_ACTIVE',
      `Run ${runId} is still under way for this request; let it finish (or tick its checklist) before starting another.`,
      { runId },
    ),
  nothingToUndo: (runId: string) =>
    new DomainError(
      'EXEC.NOTHING_TO_UNDO',
      `Run ${runId} changed nothing that Cabinet can undo; reverse any manual work by hand.`,
      { runId },
    ),
} as const;

/**
 * Whether `target` may be rolled back now, and the plan if so: the request is implemented or
 * failed, no run of it is under way, and `target` is a completed run with something to undo.
 * A rollback that ended `needs_manual` does not stop another one (undoing is idempotent).
 * @param runs every run of the request
 */
export function rollbackFor(
  requestStatus: ChangeStatus,
  target: ExecutionRun,
  runs: readonly ExecutionRun[],
): Result<ExecutionPlan, DomainError> {
  if (requestStatus !== 'implemented' && requestStatus !== 'failed')
    return err(RollbackErrors.requestNotRollbackable(requestStatus));
  const active = runs.find((r) => !isFinal(r.status));
  if (active) return err(RollbackErrors.runActive(active.id));
  return planRollback(target);
}

/**
 * The plan that undoes a completed run: every done step's compensation, in the reverse order of
 * completion (steps of one original wave stay together), with the prior state the run captured.
 * Manual work that was ticked off becomes checklist items to reverse by hand.
 * @remarks Point of no return 0: a rollback is never itself undone. It is best effort: an undo
 * refused for good (or throttled past its retries) does not stop the others, and the run ends
 * `needs_manual` with what was and was not restored.
 */
export function planRollback(run: ExecutionRun): Result<ExecutionPlan, DomainError> {
  const plan = run.plan;
  if (run.kind !== 'execute' || run.status !== 'completed' || !plan)
    return err(RollbackErrors.notRollbackable(run.id, run.status));
  const done = plan.steps
    .filter((s) => progressOf(run, s.id).status === 'done')
    .sort((a, b) => (progressOf(run, b.id).order ?? 0) - (progressOf(run, a.id).order ?? 0));
  const lastWave = Math.max(0, ...plan.steps.map((s) => s.wave));
  const upn = plan.subject.userPrincipalName;
  const steps: PlanStep[] = [];
  const notes: string[] = [];
  for (const s of done) {
    if (!s.compensation) {
      notes.push(`Cannot be undone: ${s.title}.`);
      continue;
    }
    const forward = resolveCommand(s.compensation, run.createdUserId);
    steps.push({
      id: slug('undo', s.id),
      title: `${UNDO_TITLE_PREFIX}${s.title}`,
      forward,
      verify: checkFor(forward, upn),
      wave: lastWave - s.wave,
      ...(s.prior ? { prior: s.prior } : {}),
      ...(s.access
        ? {
            access: {
              ...s.access,
              change: s.access.change === 'granted' ? 'revoked' : 'granted',
              userId: resolveUserId(s.access.userId, run.createdUserId),
            },
          }
        : {}),
    });
  }
  const ticked = plan.checklist.filter((c) => run.checklist.some((p) => p.id === c.id && p.done));
  const checklist: ChecklistItem[] = ticked.map((c) => ({
    id: slug('undo', c.id),
    title: `Reverse by hand: ${c.title}`,
    detail: `This was done by hand during run ${run.id} (${c.detail}). Reverse it the same way, after the automated steps have run.`,
  }));
  if (steps.length === 0 && checklist.length === 0)
    return err(RollbackErrors.nothingToUndo(run.id));
  return ok({
    requestId: plan.requestId,
    requestVersion: plan.requestVersion,
    type: plan.type,
    subject: {
      ...plan.subject,
      ...(run.createdUserId ? { userId: run.createdUserId } : {}),
    },
    steps,
    pointOfNoReturn: 0,
    checklist,
    notes,
  });
}
