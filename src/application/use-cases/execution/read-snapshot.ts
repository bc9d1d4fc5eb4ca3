import type { DirectoryGroup, DirectoryUser } from '../../../domain/execution/directory';
import type { DirectorySnapshot, GroupLookup } from '../../../domain/execution/directory-snapshot';
import type { WizardOptions } from '../../../domain/execution/wizard-options';
import type { TenantId } from '../../../domain/shared/ids';
import { DirectoryError, type TenantDirectory } from '../../ports/tenant-directory';

/**
 * Reads what the planner needs for these wizard options, and nothing more (every read is a Graph
 * round trip). Independent reads run in parallel when `together`, one after another otherwise.
 * @throws DirectoryError when the directory cannot be read (throttled past the budget, forbidden).
 */
export async function readSnapshot(
  directory: TenantDirectory,
  tenantId: TenantId,
  options: WizardOptions,
  together: boolean,
): Promise<DirectorySnapshot> {
  const none =
    <T>(value: T) =>
    () =>
      Promise.resolve(value);
  switch (options.type) {
    case 'new_user': {
      const manager = options.managerUpn;
      const [existingUser, managerUser, skus, groups] = await reads(
        together,
        () => directory.findUser(tenantId, options.userPrincipalName),
        manager ? () => directory.findUser(tenantId, manager) : none(undefined),
        options.licenceSkus.length > 0 ? () => directory.listSkus(tenantId) : none([]),
        () =>
          inTurn(
            options.groups.map(
              (name) => async (): Promise<GroupLookup> => ({
                name,
                matches: await directory.findGroups(tenantId, name),
              }),
            ),
            together,
          ),
      );
      return {
        type: 'new_user',
        ...(existingUser ? { existingUser } : {}),
        ...(manager
          ? {
              manager: {
                userPrincipalName: manager,
                ...(managerUser ? { user: managerUser } : {}),
              },
            }
          : {}),
        groups,
        skus,
      };
    }
    case 'offboard': {
      const user = await directory.findUser(tenantId, options.userPrincipalName);
      if (!user)
        return { type: 'offboard', memberOf: [], ownerOf: [], skus: [], licenceGroups: [] };
      const [memberOf, ownerOf, manager, autoReply, skus, licenceGroups] = await reads(
        together,
        () => directory.listGroupsOf(tenantId, user.id, 'member'),
        () => directory.listGroupsOf(tenantId, user.id, 'owner'),
        options.removeManager ? () => directory.getManager(tenantId, user.id) : none(undefined),
        options.autoReply.enabled
          ? () => directory.getAutoReply(tenantId, user.id).catch(noMailbox)
          : none(undefined),
        options.removeLicences ? () => directory.listSkus(tenantId) : none([]),
        options.removeLicences
          ? () => licenceGroupsOf(directory, tenantId, user, together)
          : none([]),
      );
      return {
        type: 'offboard',
        user,
        memberOf,
        ownerOf,
        ...(manager ? { manager } : {}),
        ...(autoReply ? { autoReply } : {}),
        skus,
        licenceGroups,
      };
    }
    case 'licence_change': {
      const user = await directory.findUser(tenantId, options.userPrincipalName);
      if (!user) return { type: 'licence_change', skus: [], licenceGroups: [] };
      const [skus, licenceGroups] = await reads(
        together,
        () => directory.listSkus(tenantId),
        options.removeSkus.length > 0
          ? () => licenceGroupsOf(directory, tenantId, user, together)
          : none([]),
      );
      return { type: 'licence_change', user, skus, licenceGroups };
    }
    case 'access_change': {
      const groupId = options.groupId;
      const [user, matches] = await reads(
        together,
        () => directory.findUser(tenantId, options.userPrincipalName),
        groupId
          ? async () => {
              const chosen = await directory.getGroup(tenantId, groupId);
              return chosen ? [chosen] : [];
            }
          : () => directory.findGroups(tenantId, options.groupName),
      );
      return {
        type: 'access_change',
        ...(user ? { user } : {}),
        group: { name: options.groupName, matches },
        current: user ? await directory.listGroupsOf(tenantId, user.id, options.relation) : [],
      };
    }
  }
}

/** The groups the user's inherited licences come from (to name them in notes and refusals). */
async function licenceGroupsOf(
  directory: TenantDirectory,
  tenantId: TenantId,
  user: DirectoryUser,
  together: boolean,
): Promise<DirectoryGroup[]> {
  const ids = [...new Set(user.inheritedLicences.map((l) => l.groupId))];
  const groups = await inTurn(
    ids.map((id) => () => directory.getGroup(tenantId, id)),
    together,
  );
  return groups.filter((g): g is DirectoryGroup => g !== undefined);
}

/** A user without a mailbox has no auto-reply to capture; the planner says so in a note. */
function noMailbox(error: unknown): undefined {
  if (error instanceof DirectoryError && error.failure.reason === 'not_found') return undefined;
  throw error;
}

type Reads<T extends readonly unknown[]> = { readonly [K in keyof T]: () => Promise<T[K]> };

/** Independent reads of different types, in parallel or in turn. */
async function reads<T extends readonly unknown[]>(
  together: boolean,
  ...thunks: Reads<T>
): Promise<T> {
  return (await inTurn<unknown>(thunks, together)) as unknown as T;
}

/** Runs the reads in parallel, or one after another when batching is off (the bench's baseline). */
export async function inTurn<T>(
  thunks: readonly (() => Promise<T>)[],
  together: boolean,
): Promise<T[]> {
  if (together) return Promise.all(thunks.map((read) => read()));
  const results: T[] = [];
  for (const read of thunks) results.push(await read());
  return results;
}
