import { isMspStaff, type ClientRole } from '../client/client';
import type { Person } from '../shared/person';
import type { ChangeRequest } from './change-request';
import { isRequester } from './change-request.machine';

/** Whose side a note is on: the MSP's staff, or the client's people. */
export type NoteSide = 'msp' | 'client';

/**
 * The side a note by `who` is written from, or undefined when `who` may not add notes to the
 * request: MSP staff of the client; the requester (or whom it was raised for); the client's own
 * admins and approvers.
 */
export function noteSide(
  request: ChangeRequest,
  who: Person,
  roles: ReadonlySet<ClientRole>,
): NoteSide | undefined {
  if (isMspStaff(roles)) return 'msp';
  const clientPerson =
    who.tid === request.tenantId && (roles.has('client_admin') || roles.has('approver'));
  return isRequester(request, who) || clientPerson ? 'client' : undefined;
}
