import type { ChangeRequest, Person } from '../../../domain/change-request/change-request';
import type { ExecutionRun } from '../../../domain/execution/execution-run';
import type { DomainError } from '../../../domain/shared/errors';
import { ok, type Result } from '../../../domain/shared/result';
import { resolveRequest } from '../resolve-request';
import type { ExecutionDeps } from './execution-deps';

/** The runs of a request (oldest first) for anyone who may see the request: progress, plan, checklist. */
export async function listExecutions(
  deps: ExecutionDeps,
  command: { readonly actor: Person; readonly requestId: string },
): Promise<
  Result<{ readonly request: ChangeRequest; readonly runs: readonly ExecutionRun[] }, DomainError>
> {
  const visible = await resolveRequest(deps, command.actor, command.requestId);
  if (!visible.ok) return visible;
  const { client, stored } = visible.value;
  const runs = await deps.runs.listForRequest(client.tenantId, stored.request.number);
  return ok({ request: stored.request, runs: runs.map((r) => r.run) });
}
