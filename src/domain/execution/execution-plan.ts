import type { ChangeRequestId } from '../shared/ids';
import type { JsonObject } from '../shared/json';
import type { ChangeType } from '../change-request/change-request.payloads';
import type { DirectoryCheck, DirectoryCommand, GroupRelation } from './directory';

/** The change types Cabinet can carry out through Microsoft Graph. */
export const EXECUTABLE_TYPES = [
  'new_user',
  'offboard',
  'licence_change',
  'access_change',
] as const;
export type ExecutableType = (typeof EXECUTABLE_TYPES)[number];

export function isExecutableType(type: ChangeType): type is ExecutableType {
  return (EXECUTABLE_TYPES as readonly string[]).includes(type);
}

/** Who gained or lost access to what; recorded in the audit chain when the step runs. */
export interface AccessChange {
  readonly change: 'granted' | 'revoked';
  readonly resourceId: string;
  readonly resourceName: string;
  readonly relation: GroupRelation;
  readonly userId: string;
  readonly userPrincipalName: string;
}

/** One automated step: the forward command, how to read it back, and how to undo it. */
export interface PlanStep {
  /** Unique within the plan; lower-case letters, digits and dashes (it may end up in a storage key). */
  readonly id: string;
  /** For people: "Remove Sam Smith from the group Finance". */
  readonly title: string;
  readonly forward: DirectoryCommand;
  readonly verify: DirectoryCheck;
  /** Restores the prior state; absent when there is nothing to undo (revoking sessions). */
  readonly compensation?: DirectoryCommand;
  /** The prior state this step captured (shown to the technician and kept for compensation). */
  readonly prior?: JsonObject;
  /** Steps with the same wave are independent and may be sent together ($batch); waves run in order. */
  readonly wave: number;
  readonly access?: AccessChange;
}

/** Work Graph cannot do (Exchange Online only, OneDrive hand-over): the technician ticks it off. */
export interface ChecklistItem {
  readonly id: string;
  readonly title: string;
  /** How to do it, e.g. the Exchange admin center page or PowerShell command. */
  readonly detail: string;
  /** The step that must wait until this is ticked (licence removal waits for the shared-mailbox conversion). */
  readonly before?: string;
}

/**
 * What Cabinet will do for an approved request, shown to the technician before anything runs.
 * @remarks `pointOfNoReturn` is the index of the first step after which a failure no longer undoes
 * the earlier steps but retries forward (and ends `needs_manual` if it cannot finish);
 * `steps.length` means every step is undone on failure.
 */
export interface ExecutionPlan {
  readonly requestId: ChangeRequestId;
  readonly requestVersion: number;
  readonly type: ExecutableType;
  /** The person the change is about. `userId` is absent until a new user has been created. */
  readonly subject: {
    readonly userPrincipalName: string;
    readonly displayName: string;
    readonly userId?: string;
  };
  readonly steps: readonly PlanStep[];
  readonly pointOfNoReturn: number;
  readonly checklist: readonly ChecklistItem[];
  /** Things the technician should know that do not block the plan ("E3 has 1 free seat left"). */
  readonly notes: readonly string[];
}
