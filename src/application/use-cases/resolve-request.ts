import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import { rolesFor, type ClientProfile, type ClientRole } from '../../domain/client/client';
import type { DomainError } from '../../domain/shared/errors';
import { parseRequestId } from '../../domain/shared/ids';
import { err, ok, type Result } from '../../domain/shared/result';
import type { StoredChangeRequest } from '../ports/change-request-store';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';

/** A request the actor may see, with the client it belongs to and the actor's roles there. */
export interface VisibleRequest {
  readonly client: ClientProfile;
  readonly roles: ReadonlySet<ClientRole>;
  readonly stored: StoredChangeRequest;
}

/**
 * Loads a request by its id for an authenticated person, or "not found" — the same answer whether
 * it does not exist or belongs to a tenant the person has no part in.
 * @remarks Client users see their own tenant's requests; MSP staff see the clients they serve.
 */
export async function resolveRequest(
  deps: UseCaseDeps,
  actor: Person,
  requestId: string,
): Promise<Result<VisibleRequest, DomainError>> {
  const parsed = parseRequestId(requestId);
  if (!parsed) return err(AccessErrors.requestNotFound(requestId.slice(0, 40)));
  const client = (await deps.clients.getByCode(parsed.code))?.profile;
  if (!client) return err(AccessErrors.requestNotFound(parsed.id));
  const roles = rolesFor(client, actor);
  const sameTenant = actor.tid === client.tenantId;
  if (!sameTenant && roles.size === 0) return err(AccessErrors.requestNotFound(parsed.id));
  if (sameTenant && roles.size === 0) return err(AccessErrors.notRegistered());
  const stored = await deps.requests.get(client.tenantId, parsed.id);
  if (!stored) return err(AccessErrors.requestNotFound(parsed.id));
  return ok({ client, roles, stored });
}

/** Requests the person may see: their client's, or every client they serve (MSP staff), newest first. */
export async function listVisibleRequests(
  deps: UseCaseDeps,
  memberships: readonly { readonly client: ClientProfile }[],
  options: { readonly limit?: number } = {},
): Promise<ChangeRequest[]> {
  const lists = await Promise.all(
    memberships.map((m) => deps.requests.list(m.client.tenantId, { limit: options.limit ?? 20 })),
  );
  return lists
    .flat()
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
    .slice(0, options.limit ?? 20);
}
