import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import { transition } from '../../domain/change-request/change-request.machine';
import { ChangeRequestErrors } from '../../domain/change-request/change-request.errors';
import { validateChangeInput } from '../../domain/change-request/change-request.payloads';
import type { DomainError } from '../../domain/shared/errors';
import { err, ok, type Result } from '../../domain/shared/result';
import { ConcurrencyError } from '../ports/errors';
import type { UseCaseDeps } from './context';
import { resolveRequest } from './resolve-request';
import { approvalCards } from './notifications';
import { rulesFor } from '../../domain/client/client-rules';

export interface EditChangeCommand {
  readonly actor: Person;
  readonly requestId: string;
  /** The version the edit form was built from; a concurrent change makes the edit stale. */
  readonly version: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * Edits a request before it is decided. The version moves on, so pending approvals are void and
 * every approver's card is replaced with one for the new version.
 */
export async function editChange(
  deps: UseCaseDeps,
  command: EditChangeCommand,
): Promise<Result<ChangeRequest, DomainError>> {
  const visible = await resolveRequest(deps, command.actor, command.requestId);
  if (!visible.ok) return visible;
  const { client, roles, stored } = visible.value;
  const current = stored.request;
  const input = validateChangeInput(current.type, command.fields, {
    today: deps.clock.now().toISOString().slice(0, 10),
  });
  if (!input.ok) return input;
  if (command.version !== current.version) {
    return err(ChangeRequestErrors.staleVersion(command.version, current.version));
  }
  const result = transition(
    current,
    { type: 'Edited', changes: input.value },
    { actor: command.actor, roles, now: deps.clock.now().toISOString(), rules: rulesFor(client) },
  );
  if (!result.ok) return result;
  const next = result.value.next;
  const outbox = next.status === 'awaiting_approval' ? approvalCards(next) : [];
  try {
    const saved = await deps.requests.update(client.tenantId, stored.etag, {
      request: next,
      audit: [result.value.audit],
      outbox,
    });
    deps.outboxWritten?.(client.tenantId);
    return ok(saved.request);
  } catch (error: unknown) {
    if (error instanceof ConcurrencyError) {
      return err(ChangeRequestErrors.staleVersion(command.version, command.version + 1));
    }
    throw error;
  }
}
