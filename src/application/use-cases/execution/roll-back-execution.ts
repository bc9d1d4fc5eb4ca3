import type { ChangeRequest, Person } from '../../../domain/change-request/change-request';
import { initialProgress } from '../../../domain/execution/execution.saga';
import {
  formatRunId,
  parseRunId,
  type ExecutionRun,
} from '../../../domain/execution/execution-run';
import { rollbackFor } from '../../../domain/execution/rollback-plan';
import type { DomainError } from '../../../domain/shared/errors';
import { err, ok, type Result } from '../../../domain/shared/result';
import { ConflictError } from '../../ports/errors';
import { resolveForStaff } from './execution-access';
import type { ExecutionDeps } from './execution-deps';
import { ExecutionAccessErrors } from './execution-errors';
import { nextRunNumber } from './start-execution';

export interface RollBackExecutionCommand {
  readonly actor: Person;
  readonly requestId: string;
  readonly runId: string;
}

const MAX_ATTEMPTS = 4;

/**
 * Queues a rollback of a completed run: a new run whose plan is every done step's compensation,
 * built from the prior state the run captured (no directory read needed). The request becomes
 * `rolled_back` when the rollback run completes.
 */
export async function rollBackExecution(
  deps: ExecutionDeps,
  command: RollBackExecutionCommand,
): Promise<Result<{ readonly request: ChangeRequest; readonly run: ExecutionRun }, DomainError>> {
  for (let attempt = 1; ; attempt += 1) {
    const visible = await resolveForStaff(deps, command.actor, command.requestId, 'roll_back');
    if (!visible.ok) return visible;
    const { client, stored } = visible.value;
    const request = stored.request;
    const runId = parseRunId(command.runId);
    const target = runId ? await deps.runs.get(client.tenantId, runId.id) : undefined;
    if (!target || target.run.requestId !== request.id)
      return err(ExecutionAccessErrors.runNotFound(command.runId.slice(0, 24)));
    const runs = await deps.runs.listForRequest(client.tenantId, request.number);
    const plan = rollbackFor(
      request.status,
      target.run,
      runs.map((r) => r.run),
    );
    if (!plan.ok) return plan;

    const now = deps.clock.now().toISOString();
    const run: ExecutionRun = {
      id: formatRunId(request.number, nextRunNumber(runs)),
      tenantId: client.tenantId,
      requestId: request.id,
      requestVersion: request.version,
      kind: 'rollback',
      rollbackOf: target.run.id,
      status: 'queued',
      startedBy: command.actor,
      options: {},
      plan: plan.value,
      ...initialProgress(plan.value),
      ...(target.run.createdUserId ? { createdUserId: target.run.createdUserId } : {}),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await deps.runs.save(client.tenantId, {
        run,
        audit: [
          {
            type: 'execution.queued',
            actor: { tid: command.actor.tid, oid: command.actor.oid },
            requestId: request.id,
            payload: {
              runId: run.id,
              kind: 'rollback',
              rollbackOf: target.run.id,
              steps: plan.value.steps.length,
              checklist: plan.value.checklist.length,
            },
          },
        ],
        outbox: [{ kind: 'graph.execute', requestId: request.id, runId: run.id }],
      });
      deps.outboxWritten?.(client.tenantId);
      return ok({ request, run });
    } catch (error: unknown) {
      if (!(error instanceof ConflictError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
