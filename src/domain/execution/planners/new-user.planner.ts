import type { ChangeRequest } from '../../change-request/change-request';
import type { DomainError } from '../../shared/errors';
import { err, ok, type Result } from '../../shared/result';
import { CREATED_USER, type DirectoryGroup, type DirectorySku } from '../directory';
import {
  groupKind,
  isDynamic,
  isExchangeManaged,
  type NewUserSnapshot,
} from '../directory-snapshot';
import { slug } from '../directory-commands';
import { ExecutionErrors as E } from '../execution.errors';
import type { ChecklistItem, ExecutionPlan } from '../execution-plan';
import { checkSeats, findSku, skuName } from '../licences';
import type { NewUserOptions } from '../wizard-options';
import { ps, step, type StepSpec } from './plan-kit';

/**
 * Plans a new account: create it (with its usage location, so licences can follow), then licences,
 * groups and manager together, since each of those only needs the account.
 * @remarks Point of no return: none (`steps.length`). Every step undoes cleanly, and nobody depends
 * on the account yet: its temporary password is only revealed once the run completed. So a failure
 * anywhere removes what was added and deletes the account again, which also gives its seats back.
 */
export function planNewUser(
  request: ChangeRequest,
  options: NewUserOptions,
  snapshot: NewUserSnapshot,
): Result<ExecutionPlan, DomainError> {
  const upn = options.userPrincipalName;
  if (snapshot.existingUser) return err(E.upnTaken(upn, snapshot.existingUser.displayName));

  let managerId: string | undefined;
  if (options.managerUpn) {
    const manager = snapshot.manager?.user;
    if (!manager) return err(E.managerNotFound(options.managerUpn));
    managerId = manager.id;
  }

  const notes: string[] = [];
  const skus: DirectorySku[] = [];
  for (const partNumber of new Set(options.licenceSkus)) {
    const sku = findSku(snapshot.skus, partNumber);
    if (!sku.ok) return sku;
    const seats = checkSeats(sku.value);
    if (!seats.ok) return seats;
    if (seats.value) notes.push(seats.value);
    skus.push(sku.value);
  }

  const groups: DirectoryGroup[] = [];
  const lists: DirectoryGroup[] = [];
  for (const name of new Set(options.groups)) {
    const lookup = snapshot.groups.find((g) => g.name.toLowerCase() === name.toLowerCase());
    const matches = lookup?.matches ?? [];
    if (matches.length === 0) return err(E.groupNotFound(name));
    if (matches.length > 1)
      return err(
        E.groupAmbiguous(
          name,
          matches.map((g) => g.id),
        ),
      );
    const group = matches[0]!;
    if (isDynamic(group)) return err(E.dynamicGroup(group.displayName));
    if (isExchangeManaged(group)) lists.push(group);
    else if (!groups.some((g) => g.id === group.id)) groups.push(group);
  }

  const who = options.displayName;
  const specs: StepSpec[] = [
    {
      id: 'create-user',
      title: `Create the account ${upn} for ${who}`,
      wave: 0,
      forward: {
        kind: 'user.create',
        user: {
          userPrincipalName: upn,
          displayName: options.displayName,
          givenName: options.givenName,
          surname: options.surname,
          mailNickname: options.mailNickname,
          usageLocation: options.usageLocation,
          ...(options.jobTitle ? { jobTitle: options.jobTitle } : {}),
          ...(options.department ? { department: options.department } : {}),
        },
      },
      compensation: { kind: 'user.delete', userId: CREATED_USER },
      prior: { exists: false },
    },
  ];
  if (skus.length > 0) {
    specs.push({
      id: 'assign-licences',
      title: `Give ${who} ${skus.map(skuName).join(', ')}`,
      wave: 1,
      forward: {
        kind: 'user.assignLicences',
        userId: CREATED_USER,
        add: skus.map((s) => ({ skuId: s.skuId, disabledPlans: [] })),
        remove: [],
      },
      compensation: {
        kind: 'user.assignLicences',
        userId: CREATED_USER,
        add: [],
        remove: skus.map((s) => s.skuId),
      },
      prior: { assignedLicences: [] },
    });
  }
  for (const group of groups) {
    specs.push({
      id: slug('join', group.id),
      title: `Add ${who} to ${group.displayName} (${groupKind(group)})`,
      wave: 1,
      forward: { kind: 'group.add', groupId: group.id, userId: CREATED_USER, relation: 'member' },
      compensation: {
        kind: 'group.remove',
        groupId: group.id,
        userId: CREATED_USER,
        relation: 'member',
      },
      prior: { member: false, groupName: group.displayName },
      access: {
        change: 'granted',
        resourceId: group.id,
        resourceName: group.displayName,
        relation: 'member',
        userId: CREATED_USER,
        userPrincipalName: upn,
      },
    });
  }
  if (managerId && options.managerUpn) {
    specs.push({
      id: 'set-manager',
      title: `Make ${options.managerUpn} the manager of ${who}`,
      wave: 1,
      forward: { kind: 'user.setManager', userId: CREATED_USER, managerId },
      compensation: { kind: 'user.removeManager', userId: CREATED_USER },
      prior: { managerId: null },
    });
  }

  const checklist: ChecklistItem[] = lists.map((list) => ({
    id: slug('join-list', list.id),
    title: `Add ${who} to the ${groupKind(list)} ${list.displayName}`,
    detail: `Microsoft Graph cannot change the members of ${groupKind(list)}s. Exchange admin center › Recipients › Groups › ${list.displayName} › Members › Add, or in Exchange Online PowerShell: Add-DistributionGroupMember -Identity ${ps(list.displayName)} -Member ${ps(upn)}`,
  }));

  const steps = specs.map((s) => step(s, upn));
  return ok({
    requestId: request.id,
    requestVersion: request.version,
    type: 'new_user',
    subject: { userPrincipalName: upn, displayName: options.displayName },
    steps,
    pointOfNoReturn: steps.length,
    checklist,
    notes,
  });
}
