import type { ObjectId, TenantId } from './ids';

/** A person as Entra knows them: identity is tenant + object id; the name is for display only. */
export interface Person {
  readonly tid: TenantId;
  readonly oid: ObjectId;
  readonly name: string;
}

export function samePerson(
  a: { readonly tid: string; readonly oid: string },
  b: { readonly tid: string; readonly oid: string },
): boolean {
  return a.tid === b.tid && a.oid === b.oid;
}

/**
 * Integrations (signed webhooks) raise requests as a non-person requester: the tenant is the client,
 * the oid this prefix plus the signing key id. It is not a GUID, so it never collides with an Entra
 * user and nobody tries to reach it in Teams.
 */
export const INTEGRATION_OID_PREFIX = 'webhook:';

export function isIntegration(person: { readonly oid: string }): boolean {
  return person.oid.startsWith(INTEGRATION_OID_PREFIX);
}
