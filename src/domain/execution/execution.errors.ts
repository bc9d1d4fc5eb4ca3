import { DomainError } from '../shared/errors';

/**
 * Why Cabinet will not plan or run an execution. Each message names what to fix, because the
 * technician reads it in the wizard and must know what to change before previewing again.
 */
export const ExecutionErrors = {
  notExecutable: (type: string) =>
    new DomainError(
      'EXEC.NOT_EXECUTABLE',
      `Cabinet cannot carry out ${type.replace('_', ' ')} requests through Microsoft Graph; do the work by hand and mark the request implemented.`,
      { type },
    ),
  notReady: (status: string) =>
    new DomainError(
      'EXEC.NOT_READY',
      `A request that is ${status.replace('_', ' ')} cannot be executed: it needs an approval of its current version first.`,
      { status },
    ),
  userNotFound: (userPrincipalName: string) =>
    new DomainError(
      'EXEC.USER_NOT_FOUND',
      `No user ${userPrincipalName} in the client's directory: check the user principal name in the wizard.`,
      { userPrincipalName },
    ),
  upnTaken: (userPrincipalName: string, displayName: string) =>
    new DomainError(
      'EXEC.UPN_TAKEN',
      `${userPrincipalName} is already used by ${displayName}: choose another user principal name in the wizard.`,
      { userPrincipalName },
    ),
  managerNotFound: (userPrincipalName: string) =>
    new DomainError(
      'EXEC.MANAGER_NOT_FOUND',
      `The manager ${userPrincipalName} is not in the client's directory: correct the manager or leave it empty.`,
      { userPrincipalName },
    ),
  groupNotFound: (name: string) =>
    new DomainError(
      'EXEC.GROUP_NOT_FOUND',
      `No group named "${name}" in the client's directory: correct the group name in the wizard.`,
      { name },
    ),
  groupAmbiguous: (name: string, ids: readonly string[]) =>
    new DomainError(
      'EXEC.GROUP_AMBIGUOUS',
      `${ids.length} groups are named "${name}" (ids ${ids.join(', ')}): choose one in the wizard.`,
      { name, ids: [...ids] },
    ),
  dynamicGroup: (name: string) =>
    new DomainError(
      'EXEC.DYNAMIC_GROUP',
      `"${name}" has dynamic membership: its rule decides who is in it, so Cabinet cannot add or remove people. Change the user's attributes or the group's rule instead, and take the group out of the wizard.`,
      { name },
    ),
  skuUnknown: (partNumber: string, available: readonly string[]) =>
    new DomainError(
      'EXEC.SKU_UNKNOWN',
      `The client has no subscription with the licence part number ${partNumber}${available.length > 0 ? ` (it has ${available.join(', ')})` : ' (it has none)'}: pick one of its licences in the wizard.`,
      { partNumber, available: [...available] },
    ),
  skuNotAssignable: (name: string, status: string) =>
    new DomainError(
      'EXEC.SKU_NOT_ASSIGNABLE',
      `${name} is ${status.toLowerCase()} in the client's subscriptions, so it cannot be assigned: renew it or pick another licence.`,
      { name, status },
    ),
  noFreeSeats: (name: string, consumed: number, enabled: number) =>
    new DomainError(
      'EXEC.NO_FREE_SEATS',
      `${name} has no free seats (${consumed} of ${enabled} assigned): buy a seat or free one, then preview again.`,
      { name, consumed, enabled },
    ),
  noUsageLocation: (userPrincipalName: string) =>
    new DomainError(
      'EXEC.NO_USAGE_LOCATION',
      `${userPrincipalName} has no usage location, and licences cannot be assigned without one: set the usage location (a two-letter country code like GB) in the wizard.`,
      { userPrincipalName },
    ),
  inheritedLicence: (name: string, groups: readonly string[]) =>
    new DomainError(
      'EXEC.INHERITED_LICENCE',
      `${name} comes from the group${groups.length > 1 ? 's' : ''} ${groups.map((g) => `"${g}"`).join(', ')} and cannot be removed from the user directly: remove the user from ${groups.length > 1 ? 'those groups' : 'that group'} (an access change) or change the group's licences.`,
      { name, groups: [...groups] },
    ),
} as const;
