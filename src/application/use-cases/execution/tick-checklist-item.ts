import type { Person } from '../../../domain/change-request/change-request';
import { ChangeRequestErrors } from '../../../domain/change-request/change-request.errors';
import { NOTE_MAX } from '../../../domain/change-request/change-request.payloads';
import { recordTicked } from '../../../domain/execution/execution.saga';
import { isFinal, parseRunId, type ExecutionRun } from '../../../domain/execution/execution-run';
import type { DomainError } from '../../../domain/shared/errors';
import { err, ok, type Result } from '../../../domain/shared/result';
import { ConcurrencyError } from '../../ports/errors';
import { resolveForStaff } from './execution-access';
import type { ExecutionDeps } from './execution-deps';
import { ExecutionAccessErrors } from './execution-errors';

export interface TickChecklistItemCommand {
  readonly actor: Person;
  readonly requestId: string;
  readonly runId: string;
  readonly itemId: string;
  readonly note?: string;
}

const MAX_ATTEMPTS = 4;

/**
 * A technician confirms a manual task (Exchange, OneDrive) is done. A run waiting on it is queued
 * to carry on in the same transaction. Ticking twice changes nothing.
 */
export async function tickChecklistItem(
  deps: ExecutionDeps,
  command: TickChecklistItemCommand,
): Promise<Result<{ readonly run: ExecutionRun }, DomainError>> {
  const note = command.note?.trim() ?? '';
  if (note.length > NOTE_MAX) return err(ChangeRequestErrors.textTooLong('The note', NOTE_MAX));
  for (let attempt = 1; ; attempt += 1) {
    const visible = await resolveForStaff(deps, command.actor, command.requestId, 'tick');
    if (!visible.ok) return visible;
    const { client, stored } = visible.value;
    const runId = parseRunId(command.runId);
    const found = runId ? await deps.runs.get(client.tenantId, runId.id) : undefined;
    if (!found || found.run.requestId !== stored.request.id)
      return err(ExecutionAccessErrors.runNotFound(command.runId.slice(0, 24)));
    const run = found.run;
    if (!run.plan?.checklist.some((c) => c.id === command.itemId))
      return err(ExecutionAccessErrors.itemNotFound(command.itemId.slice(0, 80)));
    if (isFinal(run.status)) return err(ExecutionAccessErrors.runFinished(run.id, run.status));
    const now = deps.clock.now().toISOString();
    const update = recordTicked(run, command.itemId, command.actor, now, note || undefined);
    if (update.audit.length === 0) return ok({ run });
    // A run paused for a person (no waitUntil) needs a nudge; a running one sees the tick itself.
    const resume = run.status === 'waiting' && !run.waitUntil;
    try {
      const saved = await deps.runs.save(client.tenantId, {
        run: update.run,
        runEtag: found.etag,
        audit: update.audit,
        outbox: resume ? [{ kind: 'graph.execute', requestId: run.requestId, runId: run.id }] : [],
      });
      if (resume) deps.outboxWritten?.(client.tenantId);
      return ok({ run: saved.run.run });
    } catch (error: unknown) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
