import type { ChangeRequest } from '../../change-request/change-request';
import type { AccessChangePayload } from '../../change-request/change-request.payloads';
import type { DomainError } from '../../shared/errors';
import { err, ok, type Result } from '../../shared/result';
import {
  groupKind,
  isDynamic,
  isExchangeManaged,
  type AccessChangeSnapshot,
} from '../directory-snapshot';
import { slug } from '../directory-commands';
import { ExecutionErrors as E } from '../execution.errors';
import type { ChecklistItem, ExecutionPlan } from '../execution-plan';
import type { AccessChangeOptions } from '../wizard-options';
import { ps, step, type StepSpec } from './plan-kit';

/**
 * Plans an access change as one group membership (or ownership) added or removed; who gains or
 * loses what is recorded on the step and audited when it runs.
 * @remarks Point of no return: none (`steps.length`): the single step undoes exactly.
 * Distribution lists and mail-enabled security groups become a checklist task (Exchange only).
 */
export function planAccessChange(
  request: ChangeRequest,
  options: AccessChangeOptions,
  snapshot: AccessChangeSnapshot,
): Result<ExecutionPlan, DomainError> {
  const upn = options.userPrincipalName;
  const user = snapshot.user;
  if (!user) return err(E.userNotFound(upn));
  const who = user.displayName;
  const matches = snapshot.group.matches;
  if (matches.length === 0) return err(E.groupNotFound(options.groupName));
  if (matches.length > 1)
    return err(
      E.groupAmbiguous(
        options.groupName,
        matches.map((g) => g.id),
      ),
    );
  const group = matches[0]!;
  if (isDynamic(group)) return err(E.dynamicGroup(group.displayName));

  const notes: string[] = [];
  const payload = request.payload as AccessChangePayload;
  if (payload.accessLevel === 'read' || payload.accessLevel === 'contribute')
    notes.push(
      `"${payload.accessLevel}" access is given as ${options.relation === 'owner' ? 'ownership' : 'membership'} of ${group.displayName}; the group's own permissions decide what its members can do.`,
    );
  if (payload.until)
    notes.push(
      `The access is meant to end on ${payload.until}; Cabinet does not remove it by itself, so raise a revoke request for that day.`,
    );

  const grant = options.action === 'grant';
  const role = options.relation === 'owner' ? 'an owner' : 'a member';
  const checklist: ChecklistItem[] = [];
  const specs: StepSpec[] = [];
  const already = snapshot.current.some((g) => g.id === group.id);
  if (isExchangeManaged(group)) {
    checklist.push({
      id: slug(grant ? 'grant' : 'revoke', group.id),
      title: `${grant ? 'Add' : 'Remove'} ${who} ${grant ? 'to' : 'from'} the ${groupKind(group)} ${group.displayName}`,
      detail: `Microsoft Graph cannot change the members of ${groupKind(group)}s. Exchange admin center › Recipients › Groups › ${group.displayName} › Members, or: ${grant ? 'Add' : 'Remove'}-DistributionGroupMember -Identity ${ps(group.displayName)} -Member ${ps(upn)}`,
    });
  } else if (grant === already) {
    notes.push(
      `${who} is ${grant ? 'already' : 'not'} ${role} of ${group.displayName}; nothing to change.`,
    );
  } else {
    specs.push({
      id: slug(grant ? 'grant' : 'revoke', group.id),
      title: grant
        ? `Make ${who} ${role} of ${group.displayName} (${groupKind(group)})`
        : `Remove ${who} as ${role} of ${group.displayName} (${groupKind(group)})`,
      wave: 0,
      forward: {
        kind: grant ? 'group.add' : 'group.remove',
        groupId: group.id,
        userId: user.id,
        relation: options.relation,
      },
      compensation: {
        kind: grant ? 'group.remove' : 'group.add',
        groupId: group.id,
        userId: user.id,
        relation: options.relation,
      },
      prior: { [options.relation]: already, groupName: group.displayName },
      access: {
        change: grant ? 'granted' : 'revoked',
        resourceId: group.id,
        resourceName: group.displayName,
        relation: options.relation,
        userId: user.id,
        userPrincipalName: upn,
      },
    });
  }

  const steps = specs.map((s) => step(s, upn));
  return ok({
    requestId: request.id,
    requestVersion: request.version,
    type: 'access_change',
    subject: { userPrincipalName: upn, displayName: who, userId: user.id },
    steps,
    pointOfNoReturn: steps.length,
    checklist,
    notes,
  });
}
