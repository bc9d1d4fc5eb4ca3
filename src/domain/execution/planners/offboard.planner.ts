import type { ChangeRequest } from '../../change-request/change-request';
import type { DomainError } from '../../shared/errors';
import { err, ok, type Result } from '../../shared/result';
import type { AutoReply, DirectoryGroup } from '../directory';
import {
  groupKind,
  isDynamic,
  isExchangeManaged,
  type OffboardSnapshot,
} from '../directory-snapshot';
import { slug } from '../directory-commands';
import { ExecutionErrors as E } from '../execution.errors';
import type { ChecklistItem, ExecutionPlan } from '../execution-plan';
import { nameOfSkuId } from '../licences';
import type { OffboardOptions } from '../wizard-options';
import { json, ps, step, type StepSpec } from './plan-kit';

/** The licence removal: gated by the shared-mailbox conversion, and the point of no return. */
export const LICENCE_STEP = 'remove-licences';

/**
 * Plans an offboarding in the playbook's order (reference §1.7): block sign-in, revoke sessions,
 * then, in one wave, the auto-reply (while the mailbox still exists), group removals and the
 * manager, and last the licences. Every membership, the manager, the auto-reply and the licences
 * are captured here, before anything changes, so each step can be undone from the plan alone.
 * @remarks Point of no return: the licence removal. Until then everything undoes exactly (the
 * account is re-enabled, memberships re-added, auto-reply and manager restored). Once seats are
 * released, others can take them and re-assigning may fail, and an unlicensed mailbox starts its
 * deletion countdown; from there a failure is retried forward and ends with a person, not undone.
 */
export function planOffboard(
  request: ChangeRequest,
  options: OffboardOptions,
  snapshot: OffboardSnapshot,
): Result<ExecutionPlan, DomainError> {
  const upn = options.userPrincipalName;
  const user = snapshot.user;
  if (!user) return err(E.userNotFound(upn));
  const who = user.displayName;
  const notes: string[] = [];
  const specs: StepSpec[] = [
    {
      id: 'block-sign-in',
      title: `Block sign-in for ${who}`,
      wave: 0,
      forward: { kind: 'user.update', userId: user.id, changes: { accountEnabled: false } },
      compensation: {
        kind: 'user.update',
        userId: user.id,
        changes: { accountEnabled: user.accountEnabled },
      },
      prior: { accountEnabled: user.accountEnabled },
    },
    {
      id: 'revoke-sessions',
      title: `Sign ${who} out everywhere (revoke sessions)`,
      wave: 1,
      forward: { kind: 'user.revokeSessions', userId: user.id },
      verify: {
        kind: 'user.sessionsRevoked',
        userId: user.id,
        validFromBefore: user.signInSessionsValidFrom ?? null,
      },
    },
  ];
  if (!user.accountEnabled) notes.push(`${who} was already blocked from signing in.`);

  if (options.autoReply.enabled) {
    if (snapshot.autoReply) {
      const autoReply: AutoReply = {
        status: 'alwaysEnabled',
        externalAudience: options.autoReply.externalAudience,
        internalReplyMessage: options.autoReply.message,
        externalReplyMessage: options.autoReply.message,
      };
      specs.push({
        id: 'set-auto-reply',
        title: `Turn on the auto-reply of ${who}`,
        wave: 2,
        forward: { kind: 'user.setAutoReply', userId: user.id, autoReply },
        compensation: { kind: 'user.setAutoReply', userId: user.id, autoReply: snapshot.autoReply },
        prior: json({ autoReply: snapshot.autoReply }),
      });
    } else {
      notes.push(`${who} has no mailbox Cabinet can reach, so no auto-reply will be set.`);
    }
  }

  const lists: DirectoryGroup[] = [];
  const leaving = new Set<string>();
  if (options.removeGroups) {
    const keep = new Set(options.keepGroupIds);
    for (const group of snapshot.memberOf) {
      if (keep.has(group.id)) {
        notes.push(`${who} stays in ${group.displayName}, as chosen in the wizard.`);
      } else if (isDynamic(group)) {
        notes.push(
          `${who} stays in ${group.displayName}: its membership follows a rule; change ${who}'s attributes or the rule to take them out.`,
        );
      } else if (isExchangeManaged(group)) {
        lists.push(group);
      } else {
        leaving.add(group.id);
        specs.push({
          id: slug('leave', group.id),
          title: `Remove ${who} from ${group.displayName} (${groupKind(group)})`,
          wave: 2,
          forward: { kind: 'group.remove', groupId: group.id, userId: user.id, relation: 'member' },
          compensation: {
            kind: 'group.add',
            groupId: group.id,
            userId: user.id,
            relation: 'member',
          },
          prior: { member: true, groupName: group.displayName },
          access: {
            change: 'revoked',
            resourceId: group.id,
            resourceName: group.displayName,
            relation: 'member',
            userId: user.id,
            userPrincipalName: upn,
          },
        });
      }
    }
  }
  if (snapshot.ownerOf.length > 0)
    notes.push(
      `${who} owns ${snapshot.ownerOf.map((g) => g.displayName).join(', ')}: give ${snapshot.ownerOf.length > 1 ? 'them' : 'it'} another owner.`,
    );

  if (options.removeManager && snapshot.manager) {
    specs.push({
      id: 'remove-manager',
      title: `Clear the manager of ${who} (now ${snapshot.manager.displayName})`,
      wave: 2,
      forward: { kind: 'user.removeManager', userId: user.id },
      compensation: { kind: 'user.setManager', userId: user.id, managerId: snapshot.manager.id },
      prior: { managerId: snapshot.manager.id, managerName: snapshot.manager.displayName },
    });
  }

  if (options.removeLicences) {
    if (user.assignedLicences.length > 0) {
      specs.push({
        id: LICENCE_STEP,
        title: `Remove the licences of ${who}: ${user.assignedLicences.map((l) => nameOfSkuId(snapshot.skus, l.skuId)).join(', ')}`,
        wave: 3,
        forward: {
          kind: 'user.assignLicences',
          userId: user.id,
          add: [],
          remove: user.assignedLicences.map((l) => l.skuId),
        },
        compensation: {
          kind: 'user.assignLicences',
          userId: user.id,
          add: user.assignedLicences,
          remove: [],
        },
        prior: json({ assignedLicences: user.assignedLicences }),
      });
    }
    for (const inherited of user.inheritedLicences) {
      const group = snapshot.licenceGroups.find((g) => g.id === inherited.groupId);
      const name = nameOfSkuId(snapshot.skus, inherited.skuId);
      const groupName = group?.displayName ?? `group ${inherited.groupId}`;
      notes.push(
        leaving.has(inherited.groupId)
          ? `${name} comes from ${groupName} and goes when ${who} leaves it.`
          : `${name} comes from ${groupName} and stays until ${who} leaves that group.`,
      );
    }
    if (!options.convertToSharedMailbox && user.assignedLicences.length > 0)
      notes.push(
        `The mailbox is not converted to a shared mailbox, so Exchange deletes it 30 days after its licence is removed.`,
      );
  }

  const hasLicenceStep = specs.some((s) => s.id === LICENCE_STEP);
  const checklist: ChecklistItem[] = [];
  if (options.convertToSharedMailbox)
    checklist.push({
      id: 'convert-to-shared-mailbox',
      title: `Convert the mailbox of ${who} to a shared mailbox`,
      detail: `Do this before the licences go (a shared mailbox up to 50 GB needs none). Exchange admin center › Recipients › Mailboxes › ${who} › Others › Convert to shared mailbox, or in Exchange Online PowerShell: Set-Mailbox -Identity ${ps(upn)} -Type Shared`,
      ...(hasLicenceStep ? { before: LICENCE_STEP } : {}),
    });
  if (options.forwardMailTo)
    checklist.push({
      id: 'forward-mail',
      title: `Forward mail for ${who} to ${options.forwardMailTo}`,
      detail: `Microsoft Graph cannot set forwarding. Exchange admin center › Recipients › Mailboxes › ${who} › Mail flow settings › Email forwarding, or: Set-Mailbox -Identity ${ps(upn)} -ForwardingSmtpAddress ${ps(options.forwardMailTo)} -DeliverToMailboxAndForward $true`,
    });
  if (options.delegateMailboxTo)
    checklist.push({
      id: 'delegate-mailbox',
      title: `Give ${options.delegateMailboxTo} full access to the mailbox of ${who}`,
      detail: `Exchange admin center › Recipients › Mailboxes › ${who} › Delegation › Read and manage, or: Add-MailboxPermission -Identity ${ps(upn)} -User ${ps(options.delegateMailboxTo)} -AccessRights FullAccess`,
    });
  if (options.delegateOneDriveTo)
    checklist.push({
      id: 'hand-over-onedrive',
      title: `Give ${options.delegateOneDriveTo} access to the OneDrive of ${who}`,
      detail: `Microsoft 365 admin center › Users › Active users › ${who} › OneDrive › Get access to files (or SharePoint admin: add ${options.delegateOneDriveTo} as a site collection admin of the OneDrive). OneDrive is kept 30 days after the account is deleted.`,
    });
  for (const list of lists)
    checklist.push({
      id: slug('leave-list', list.id),
      title: `Remove ${who} from the ${groupKind(list)} ${list.displayName}`,
      detail: `Microsoft Graph cannot change the members of ${groupKind(list)}s. Exchange admin center › Recipients › Groups › ${list.displayName} › Members, or: Remove-DistributionGroupMember -Identity ${ps(list.displayName)} -Member ${ps(upn)} -Confirm:$false`,
    });

  const steps = specs.map((s) => step(s, upn));
  const licenceIndex = steps.findIndex((s) => s.id === LICENCE_STEP);
  return ok({
    requestId: request.id,
    requestVersion: request.version,
    type: 'offboard',
    subject: { userPrincipalName: upn, displayName: who, userId: user.id },
    steps,
    pointOfNoReturn: licenceIndex >= 0 ? licenceIndex : steps.length,
    checklist,
    notes,
  });
}
