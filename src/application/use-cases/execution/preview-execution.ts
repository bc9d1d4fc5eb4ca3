import type { ChangeRequest, Person } from '../../../domain/change-request/change-request';
import type { ExecutionPlan } from '../../../domain/execution/execution-plan';
import { planDigest, planExecution } from '../../../domain/execution/plan-execution';
import { parseWizardOptions, type WizardOptions } from '../../../domain/execution/wizard-options';
import type { DomainError } from '../../../domain/shared/errors';
import { err, ok, type Result } from '../../../domain/shared/result';
import { DirectoryError } from '../../ports/tenant-directory';
import { checkReady, resolveForStaff } from './execution-access';
import type { ExecutionDeps } from './execution-deps';
import { ExecutionAccessErrors } from './execution-errors';
import { readSnapshot } from './read-snapshot';

export interface PreviewExecutionCommand {
  readonly actor: Person;
  readonly requestId: string;
  /** The wizard's fields; anything absent keeps the value pre-filled from the request. */
  readonly options?: unknown;
}

export interface ExecutionPreview {
  readonly request: ChangeRequest;
  readonly plan: ExecutionPlan;
  /** Pass back to `startExecution`, so the run can tell whether the tenant changed since. */
  readonly digest: string;
  /** The wizard's options as validated (defaults filled in). */
  readonly options: WizardOptions;
}

/**
 * The dry run a technician sees before executing: reads the client's directory and plans, changing
 * nothing. Refuses with what to fix (no free seats, user not found, …).
 */
export async function previewExecution(
  deps: ExecutionDeps,
  command: PreviewExecutionCommand,
): Promise<Result<ExecutionPreview, DomainError>> {
  const visible = await resolveForStaff(deps, command.actor, command.requestId, 'preview');
  if (!visible.ok) return visible;
  const { client, stored } = visible.value;
  const ready = checkReady(stored.request);
  if (!ready.ok) return ready;
  const options = parseWizardOptions(stored.request, command.options ?? {});
  if (!options.ok) return options;
  try {
    const snapshot = await readSnapshot(
      deps.directory,
      client.tenantId,
      options.value,
      deps.execution?.together ?? true,
    );
    const plan = planExecution(stored.request, options.value, snapshot);
    if (!plan.ok) return plan;
    return ok({
      request: stored.request,
      plan: plan.value,
      digest: planDigest(plan.value),
      options: options.value,
    });
  } catch (error: unknown) {
    if (error instanceof DirectoryError)
      return err(ExecutionAccessErrors.directoryUnavailable(error.failure));
    throw error;
  }
}
