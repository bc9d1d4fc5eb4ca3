import { CREATED_USER, type DirectoryCheck, type DirectoryCommand } from './directory';

/**
 * The read-back that shows `command` took effect. Used for a step's `verify` and, after a crash in
 * the middle of an undo, to tell whether a compensation already happened.
 * @param subjectUpn the user principal name of the user the command is about (for `user.exists`).
 */
export function checkFor(command: DirectoryCommand, subjectUpn: string): DirectoryCheck {
  switch (command.kind) {
    case 'user.create':
      return {
        kind: 'user.exists',
        userPrincipalName: command.user.userPrincipalName,
        expected: true,
      };
    case 'user.delete':
      return { kind: 'user.exists', userPrincipalName: subjectUpn, expected: false };
    case 'user.restore':
      return { kind: 'user.exists', userPrincipalName: subjectUpn, expected: true };
    case 'user.update':
      return command.changes.accountEnabled === undefined
        ? { kind: 'none' }
        : {
            kind: 'user.enabled',
            userId: command.userId,
            expected: command.changes.accountEnabled,
          };
    case 'user.revokeSessions':
      return { kind: 'none' };
    case 'user.setAutoReply':
      return { kind: 'user.autoReply', userId: command.userId, status: command.autoReply.status };
    case 'user.setManager':
      return { kind: 'user.manager', userId: command.userId, managerId: command.managerId };
    case 'user.removeManager':
      return { kind: 'user.manager', userId: command.userId, managerId: null };
    case 'user.assignLicences':
      return {
        kind: 'user.licences',
        userId: command.userId,
        has: command.add.map((a) => a.skuId),
        lacks: [...command.remove],
      };
    case 'group.add':
    case 'group.remove':
      return {
        kind: 'user.inGroup',
        userId: command.userId,
        groupId: command.groupId,
        relation: command.relation,
        expected: command.kind === 'group.add',
      };
  }
}

/** The created user's id in place of {@link CREATED_USER}; any other id as it is. */
export function resolveUserId(userId: string, createdUserId?: string): string {
  if (userId !== CREATED_USER) return userId;
  if (!createdUserId) throw new Error('A command names the created user before it was created.');
  return createdUserId;
}

/** The command with the created user's id in place of {@link CREATED_USER}. */
export function resolveCommand(
  command: DirectoryCommand,
  createdUserId?: string,
): DirectoryCommand {
  if (command.kind === 'user.create') return command;
  return { ...command, userId: resolveUserId(command.userId, createdUserId) };
}

/** The check with the created user's id in place of {@link CREATED_USER}. */
export function resolveCheck(check: DirectoryCheck, createdUserId?: string): DirectoryCheck {
  if (!('userId' in check)) return check;
  return { ...check, userId: resolveUserId(check.userId, createdUserId) };
}

/** A step or checklist id from any text: lower-case letters, digits and dashes (safe in storage keys). */
export function slug(...parts: readonly string[]): string {
  return parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
}
