import type { ChangeRequest, Person } from '../../../domain/change-request/change-request';
import { hasCurrentApproval } from '../../../domain/change-request/change-request.machine';
import { ChangeRequestErrors } from '../../../domain/change-request/change-request.errors';
import { isMspStaff } from '../../../domain/client/client';
import { ExecutionErrors } from '../../../domain/execution/execution.errors';
import { isExecutableType } from '../../../domain/execution/execution-plan';
import type { DomainError } from '../../../domain/shared/errors';
import { err, ok, type Result } from '../../../domain/shared/result';
import type { UseCaseDeps } from '../context';
import { resolveRequest, type VisibleRequest } from '../resolve-request';

/** States from which work can (re)start or carry on; each also needs a current approval. */
const EXECUTABLE_STATUSES: ReadonlySet<ChangeRequest['status']> = new Set([
  'approved',
  'failed',
  'in_progress',
]);

/**
 * The request, if `actor` is MSP staff assigned to its client and its type is executable.
 * @remarks Anyone else gets the same answers the rest of Cabinet gives: "not found" outside the
 * client, "only technicians" (audited) for the client's own people.
 */
export async function resolveForStaff(
  deps: UseCaseDeps,
  actor: Person,
  requestId: string,
  action: string,
): Promise<Result<VisibleRequest, DomainError>> {
  const visible = await resolveRequest(deps, actor, requestId);
  if (!visible.ok) return visible;
  const { client, roles, stored } = visible.value;
  if (!isMspStaff(roles)) {
    await deps.audit.append(client.tenantId, [
      {
        type: 'action.refused',
        actor: { tid: actor.tid, oid: actor.oid },
        requestId: stored.request.id,
        payload: { code: 'CR.NOT_STAFF', action },
      },
    ]);
    return err(ChangeRequestErrors.notStaff());
  }
  if (!isExecutableType(stored.request.type))
    return err(ExecutionErrors.notExecutable(stored.request.type));
  return visible;
}

/** Execution needs a recorded approval of the version in hand (or work already under way on it). */
export function checkReady(request: ChangeRequest): Result<ChangeRequest, DomainError> {
  if (!EXECUTABLE_STATUSES.has(request.status) || !hasCurrentApproval(request))
    return err(ExecutionErrors.notReady(request.status));
  return ok(request);
}
