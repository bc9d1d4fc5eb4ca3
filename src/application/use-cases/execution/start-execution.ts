import type { AuditEvent } from '../../../domain/audit/audit-event';
import type { ChangeRequest, Person } from '../../../domain/change-request/change-request';
import { transition } from '../../../domain/change-request/change-request.machine';
import { ChangeRequestErrors } from '../../../domain/change-request/change-request.errors';
import {
  formatRunId,
  isFinal,
  parseRunId,
  type ExecutionRun,
} from '../../../domain/execution/execution-run';
import { optionsJson, parseWizardOptions } from '../../../domain/execution/wizard-options';
import type { DomainError } from '../../../domain/shared/errors';
import { err, ok, type Result } from '../../../domain/shared/result';
import { ConcurrencyError, ConflictError } from '../../ports/errors';
import type { StoredRun } from '../../ports/execution-store';
import type { OutboxMessage } from '../../ports/outbox';
import { notify } from '../notifications';
import { checkReady, resolveForStaff } from './execution-access';
import type { ExecutionDeps } from './execution-deps';
import { ExecutionAccessErrors } from './execution-errors';
import { rulesFor } from '../../../domain/client/client-rules';

export interface StartExecutionCommand {
  readonly actor: Person;
  readonly requestId: string;
  /** The request version the technician's wizard was built from. */
  readonly version: number;
  readonly options?: unknown;
  /** The digest of the plan the technician previewed. */
  readonly previewDigest?: string;
}

const MAX_ATTEMPTS = 4;

/**
 * Queues an execution: the request goes in progress, the run is created `queued` and a
 * `graph.execute` outbox row is written, all in one transaction. Nothing here waits on Graph;
 * the worker plans and runs it.
 * @remarks One run at a time per request: a second start while a run is under way is refused,
 * including two technicians clicking at the same moment (the run id is taken once).
 */
export async function startExecution(
  deps: ExecutionDeps,
  command: StartExecutionCommand,
): Promise<Result<{ readonly request: ChangeRequest; readonly run: ExecutionRun }, DomainError>> {
  for (let attempt = 1; ; attempt += 1) {
    const visible = await resolveForStaff(deps, command.actor, command.requestId, 'execute');
    if (!visible.ok) return visible;
    const { client, roles, stored } = visible.value;
    const current = stored.request;
    if (command.version !== current.version)
      return err(ChangeRequestErrors.staleVersion(command.version, current.version));
    const ready = checkReady(current);
    if (!ready.ok) return ready;
    const options = parseWizardOptions(current, command.options ?? {});
    if (!options.ok) return options;
    const runs = await deps.runs.listForRequest(client.tenantId, current.number);
    const active = runs.find((r) => !isFinal(r.run.status));
    if (active) return err(ExecutionAccessErrors.runActive(active.run.id));

    const now = deps.clock.now().toISOString();
    let request = current;
    const audit: AuditEvent[] = [];
    const outbox: OutboxMessage[] = [];
    if (current.status !== 'in_progress') {
      const started = transition(
        current,
        { type: 'WorkStarted' },
        { actor: command.actor, roles, now, rules: rulesFor(client) },
      );
      if (!started.ok) return started;
      request = started.value.next;
      audit.push(started.value.audit);
      outbox.push(
        ...[request.requester, ...(request.onBehalfOf ? [request.onBehalfOf] : [])].map((p) =>
          notify(p, request, 'status_update'),
        ),
      );
    }
    const run: ExecutionRun = {
      id: formatRunId(current.number, nextRunNumber(runs)),
      tenantId: client.tenantId,
      requestId: current.id,
      requestVersion: current.version,
      kind: 'execute',
      status: 'queued',
      startedBy: command.actor,
      options: optionsJson(options.value),
      ...(command.previewDigest ? { previewDigest: command.previewDigest } : {}),
      steps: [],
      checklist: [],
      createdAt: now,
      updatedAt: now,
    };
    audit.push({
      type: 'execution.queued',
      actor: { tid: command.actor.tid, oid: command.actor.oid },
      requestId: current.id,
      payload: {
        runId: run.id,
        kind: 'execute',
        changeType: current.type,
        version: current.version,
        previewDigest: command.previewDigest ?? null,
      },
    });
    outbox.push({ kind: 'graph.execute', requestId: current.id, runId: run.id });
    try {
      await deps.runs.save(client.tenantId, {
        run,
        ...(request !== current ? { request: { next: request, etag: stored.etag } } : {}),
        audit,
        outbox,
      });
      deps.outboxWritten?.(client.tenantId);
      return ok({ request, run });
    } catch (error: unknown) {
      // Someone else changed the request or took this run number: look again (and see their run).
      const raced = error instanceof ConcurrencyError || error instanceof ConflictError;
      if (!raced || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** The number the request's next run gets (its runs count from 1). */
export function nextRunNumber(runs: readonly StoredRun[]): number {
  return Math.max(0, ...runs.map((r) => parseRunId(r.run.id)?.runNumber ?? 0)) + 1;
}
