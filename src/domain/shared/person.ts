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
