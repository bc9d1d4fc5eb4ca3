import type { Person } from '../../../domain/change-request/change-request';
import { isRequester } from '../../../domain/change-request/change-request.machine';
import { parseRunId } from '../../../domain/execution/execution-run';
import type { DomainError } from '../../../domain/shared/errors';
import { err, ok, type Result } from '../../../domain/shared/result';
import type { Secret } from '../../../domain/shared/secret';
import { resolveRequest } from '../resolve-request';
import type { ExecutionDeps } from './execution-deps';
import { ExecutionAccessErrors } from './execution-errors';

export interface RevealTemporaryPasswordCommand {
  readonly actor: Person;
  readonly requestId: string;
  readonly runId: string;
}

/**
 * Hands a new user's temporary password to the person who asked for the account, once, within
 * its 72 hours; the vault forgets it as it is taken. Audited as `password.revealed`, never with
 * the password itself. The caller must show it in a response that is not stored.
 */
export async function revealTemporaryPassword(
  deps: ExecutionDeps,
  command: RevealTemporaryPasswordCommand,
): Promise<Result<{ readonly password: Secret; readonly userPrincipalName: string }, DomainError>> {
  const visible = await resolveRequest(deps, command.actor, command.requestId);
  if (!visible.ok) return visible;
  const { client, stored } = visible.value;
  const request = stored.request;
  if (!isRequester(request, command.actor)) {
    await deps.audit.append(client.tenantId, [
      {
        type: 'action.refused',
        actor: { tid: command.actor.tid, oid: command.actor.oid },
        requestId: request.id,
        payload: { code: 'EXEC.NOT_REQUESTER', action: 'reveal_password' },
      },
    ]);
    return err(ExecutionAccessErrors.notRequester());
  }
  const runId = parseRunId(command.runId);
  const found = runId ? await deps.runs.get(client.tenantId, runId.id) : undefined;
  const run = found?.run;
  if (
    !run ||
    run.requestId !== request.id ||
    run.kind !== 'execute' ||
    run.plan?.type !== 'new_user'
  )
    return err(ExecutionAccessErrors.runNotFound(command.runId.slice(0, 24)));
  if (run.status !== 'completed') return err(ExecutionAccessErrors.passwordNotReady(run.id));
  const taken = await deps.passwords.take(client.tenantId, run.id, deps.clock.now());
  if (taken === 'expired') return err(ExecutionAccessErrors.passwordExpired());
  if (!taken) return err(ExecutionAccessErrors.passwordGone());
  const userPrincipalName = run.plan.subject.userPrincipalName;
  await deps.audit.append(client.tenantId, [
    {
      type: 'password.revealed',
      actor: { tid: command.actor.tid, oid: command.actor.oid },
      requestId: request.id,
      payload: { runId: run.id, userId: run.createdUserId ?? null },
      personal: { userPrincipalName },
    },
  ]);
  return ok({ password: taken, userPrincipalName });
}
