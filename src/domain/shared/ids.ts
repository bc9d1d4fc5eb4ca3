/** Branded identifiers: a tenant id can never be passed where a request id is expected. */
export type TenantId = string & { readonly __brand: 'TenantId' };
export type ObjectId = string & { readonly __brand: 'ObjectId' };
export type ChangeRequestId = string & { readonly __brand: 'ChangeRequestId' };
export type ClientCode = string & { readonly __brand: 'ClientCode' };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLIENT_CODE = /^[A-Z][A-Z0-9]{1,15}$/;
const REQUEST_ID = /^([A-Z][A-Z0-9]{1,15})-([1-9][0-9]{0,9})$/;

/** Entra tenant and object ids are GUIDs; anything else is refused before it can reach a storage key. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

export function asTenantId(value: string): TenantId | undefined {
  return isGuid(value) ? (value.toLowerCase() as TenantId) : undefined;
}

export function asObjectId(value: string): ObjectId | undefined {
  return isGuid(value) ? (value.toLowerCase() as ObjectId) : undefined;
}

/** Client codes are 2–16 upper-case letters or digits, starting with a letter (e.g. CONTOSO). */
export function asClientCode(value: string): ClientCode | undefined {
  const upper = value.trim().toUpperCase();
  return CLIENT_CODE.test(upper) ? (upper as ClientCode) : undefined;
}

/** Request ids are the client code and the client's own running number: `CONTOSO-1042`. */
export function formatRequestId(code: ClientCode, number: number): ChangeRequestId {
  return `${code}-${number}` as ChangeRequestId;
}

export function parseRequestId(
  value: string,
):
  | { readonly id: ChangeRequestId; readonly code: ClientCode; readonly number: number }
  | undefined {
  const match = REQUEST_ID.exec(value.trim().toUpperCase());
  if (!match) return undefined;
  const code = match[1] as ClientCode;
  const number = Number(match[2]);
  return { id: formatRequestId(code, number), code, number };
}
