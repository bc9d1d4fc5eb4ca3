import type { ChangeRequestId, ClientCode, ObjectId, TenantId } from '../shared/ids';
import type { ChangePayload, ChangeType } from './change-request.payloads';

/** The state names are fixed by DESIGN.md §2: later work adds transitions, never renames. */
export const CHANGE_STATUSES = [
  'draft',
  'submitted',
  'triaged',
  'awaiting_approval',
  'needs_info',
  'approved',
  'in_progress',
  'implemented',
  'review_pending',
  'closed',
  'denied',
  'cancelled',
  'failed',
  'rolled_back',
] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<ChangeStatus> = new Set([
  'closed',
  'denied',
  'cancelled',
  'rolled_back',
]);

export type ChangeClass = 'standard' | 'normal' | 'emergency';
export type ChangeSource = 'teams' | 'msp' | 'webhook' | 'psa';
export type ClosureOutcome = 'successful' | 'successful_with_issues' | 'failed' | 'rolled_back';

/** A person as Entra knows them: identity is tenant + object id; the name is for display only. */
export interface Person {
  readonly tid: TenantId;
  readonly oid: ObjectId;
  readonly name: string;
}

/** One approval round, bound to the request version its approvers were shown. */
export interface ApprovalRound {
  readonly version: number;
  readonly approvers: readonly Person[];
  readonly requestedAt: string;
  readonly decision?: ApprovalDecision;
}

export interface ApprovalDecision {
  readonly outcome: 'approved' | 'denied';
  readonly by: Person;
  readonly at: string;
  readonly reason?: string;
  /** SHA-256 of the exact card the approver decided on ("what you saw is what you approved"). */
  readonly cardHash?: string;
}

export interface Closure {
  readonly outcome: ClosureOutcome;
  readonly notes: string;
  readonly by: Person;
  readonly at: string;
}

/** The change request aggregate. `version` is bumped on every change and carried by every card. */
export interface ChangeRequest {
  readonly id: ChangeRequestId;
  readonly number: number;
  readonly tenantId: TenantId;
  readonly clientCode: ClientCode;
  readonly type: ChangeType;
  readonly changeClass: ChangeClass;
  readonly title: string;
  readonly description: string;
  readonly payload: ChangePayload;
  readonly requester: Person;
  readonly onBehalfOf?: Person;
  readonly source: ChangeSource;
  readonly status: ChangeStatus;
  readonly version: number;
  readonly approval?: ApprovalRound;
  readonly assignee?: Person;
  readonly closure?: Closure;
  readonly cancellation?: { readonly reason: string; readonly by: Person; readonly at: string };
  readonly failure?: { readonly reason: string; readonly by: Person; readonly at: string };
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function isTerminal(status: ChangeStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
