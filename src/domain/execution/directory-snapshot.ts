/**
 * What a planner needs to know about the client's directory, read through the TenantDirectory
 * port just before planning. Planners are pure: everything they decide on is in here.
 * @remarks `undefined` means "looked and not found"; a field that was not looked up is absent
 * only where the type says so (nothing to look up when the user does not exist).
 */

import type { AutoReply, DirectoryGroup, DirectorySku, DirectoryUser } from './directory';

/** Groups found under one display name: none (unknown), one, or several (ambiguous). */
export interface GroupLookup {
  readonly name: string;
  readonly matches: readonly DirectoryGroup[];
}

/** Whether the new name is free, the manager, the groups by name and the licences on offer. */
export interface NewUserSnapshot {
  readonly type: 'new_user';
  /** Whoever holds the new user principal name already. */
  readonly existingUser?: DirectoryUser;
  readonly manager?: { readonly userPrincipalName: string; readonly user?: DirectoryUser };
  readonly groups: readonly GroupLookup[];
  readonly skus: readonly DirectorySku[];
}

/** The leaver and everything offboarding changes, read before anything changes (the rollback data). */
export interface OffboardSnapshot {
  readonly type: 'offboard';
  readonly user?: DirectoryUser;
  /** Direct memberships (read before anything is removed: the rollback data). */
  readonly memberOf: readonly DirectoryGroup[];
  readonly ownerOf: readonly DirectoryGroup[];
  readonly manager?: DirectoryUser;
  readonly autoReply?: AutoReply;
  readonly skus: readonly DirectorySku[];
  /** The groups the user's inherited licences come from, to name them. */
  readonly licenceGroups: readonly DirectoryGroup[];
}

/** The user's licences and the subscriptions' seats. */
export interface LicenceChangeSnapshot {
  readonly type: 'licence_change';
  readonly user?: DirectoryUser;
  readonly skus: readonly DirectorySku[];
  readonly licenceGroups: readonly DirectoryGroup[];
}

/** The user, the group giving the access, and whether the user already has it. */
export interface AccessChangeSnapshot {
  readonly type: 'access_change';
  readonly user?: DirectoryUser;
  /** The group by the wizard's id, or every group with the wizard's name. */
  readonly group: GroupLookup;
  /** The user's direct groups in the wizard's relation (member or owner). */
  readonly current: readonly DirectoryGroup[];
}

/** One snapshot per executable type, told apart by `type`. */
export type DirectorySnapshot =
  | NewUserSnapshot
  | OffboardSnapshot
  | LicenceChangeSnapshot
  | AccessChangeSnapshot;

/** A Microsoft 365 group (`Unified`), which Graph can change even when mail-enabled. */
export function isUnified(group: DirectoryGroup): boolean {
  return group.groupTypes.includes('Unified');
}

/** A group whose members a rule decides; nobody can add or remove them by hand. */
export function isDynamic(group: DirectoryGroup): boolean {
  return group.groupTypes.includes('DynamicMembership');
}

/**
 * Distribution lists and mail-enabled security groups: only Exchange Online can change their
 * members (Graph answers 400 "Cannot Update a mail-enabled security groups and or distribution list").
 */
export function isExchangeManaged(group: DirectoryGroup): boolean {
  return group.mailEnabled && !isUnified(group);
}

/** How people call this kind of group, for titles and checklist items. */
export function groupKind(group: DirectoryGroup): string {
  if (isUnified(group)) return 'Microsoft 365 group';
  if (group.mailEnabled)
    return group.securityEnabled ? 'mail-enabled security group' : 'distribution list';
  return 'security group';
}
