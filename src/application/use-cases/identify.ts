import type { Person } from '../../domain/change-request/change-request';
import { rolesFor, type ClientProfile, type ClientRole } from '../../domain/client/client';
import type { UseCaseDeps } from './context';

/** One client a person deals with, and the parts they play for it. */
export interface ClientMembership {
  readonly client: ClientProfile;
  readonly roles: ReadonlySet<ClientRole>;
}

/** Who someone is to Cabinet, from their authenticated tenant and object id. */
export interface Identity {
  readonly person: Person;
  readonly isMspStaff: boolean;
  readonly memberships: readonly ClientMembership[];
}

/**
 * Resolves an authenticated person to the clients they may act for.
 * @remarks A client-tenant user only ever sees their own tenant's client; MSP staff see the clients
 * they are assigned to. Nobody can name another tenant into scope.
 */
export async function identify(
  deps: Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
  person: Person,
): Promise<Identity> {
  if (person.tid === deps.mspTenantId) {
    const clients = await deps.clients.forStaff(deps.mspTenantId, person.oid);
    const memberships = clients.map((client) => ({ client, roles: rolesFor(client, person) }));
    return { person, isMspStaff: memberships.length > 0, memberships };
  }
  const stored = await deps.clients.get(person.tid);
  if (!stored) return { person, isMspStaff: false, memberships: [] };
  const roles = rolesFor(stored.profile, person);
  return {
    person,
    isMspStaff: false,
    memberships: roles.size > 0 ? [{ client: stored.profile, roles }] : [],
  };
}

/** The membership for one client, if the person has any part in it. */
export function membershipFor(identity: Identity, tenantId: string): ClientMembership | undefined {
  return identity.memberships.find((m) => m.client.tenantId === tenantId);
}

/**
 * The person with a display name: the one Teams sent, or, when the activity carried none (install
 * events often do not), the name the client profile knows them by.
 */
export async function withDisplayName(
  deps: Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
  person: Person,
): Promise<Person> {
  if (person.name) return person;
  const identity = await identify(deps, person);
  const known = identity.memberships
    .flatMap((m) => [
      ...m.client.admins,
      ...m.client.approvers,
      ...m.client.techs,
      ...m.client.leads,
    ])
    .find((p) => p.tid === person.tid && p.oid === person.oid);
  return { ...person, name: known?.name || 'Someone' };
}
