import type { ApprovalPlan, ApprovalState } from '../approval/approval.policy';
import type { Assessment, RiskLevel } from '../assessment/assessment';
import type { PostImplementationReview } from '../assessment/post-implementation-review';
import type { RiskSignalCode } from '../assessment/risk.policy';
import type { PsaLink } from '../psa/psa';
import type { SlaSnapshot, SlaThreshold } from '../sla/sla';
import type { ChangeRequestId, ClientCode, TenantId } from '../shared/ids';
import type { Person } from '../shared/person';
import type { ChangeClass, ClosureOutcome } from './change-class';
import type { ChangePayload, ChangeType } from './change-request.payloads';

export type { ChangeClass, ClosureOutcome } from './change-class';
export type { Person } from '../shared/person';

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

export type ChangeSource = 'teams' | 'msp' | 'webhook' | 'psa';

/** The assessment as recorded: what the technician set, what Cabinet suggested, and who assessed. */
export interface AssessmentRecord extends Assessment {
  readonly suggestedRisk: RiskLevel;
  /** The signals that drove the suggestion, for the approval card. */
  readonly signals: readonly { readonly code: RiskSignalCode; readonly detail: string }[];
  readonly riskOverridden: boolean;
  /** Clashes with other bookings when it was assessed (overlap, double-booked technician, blackout, dependency order). */
  readonly conflicts?: readonly { readonly kind: string; readonly message: string }[];
  readonly by: Person;
  readonly at: string;
}

/** A question put to the requester (`needs_info`); the request returns to `returnTo` when answered. */
export interface OpenQuestion {
  readonly question: string;
  readonly askedBy: Person;
  readonly askedAt: string;
  readonly returnTo: 'triaged' | 'awaiting_approval';
}

/** A question and its answer; `askedAt`→`answeredAt` is time spent waiting on the client (SLA pauses). */
export interface AnsweredQuestion extends OpenQuestion {
  readonly answer: string;
  readonly answeredBy: Person;
  readonly answeredAt: string;
}

export interface FiledReview extends PostImplementationReview {
  readonly by: Person;
  readonly at: string;
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
  /** The technician's assessment of the current version; required before approval (issue 4 §2). */
  readonly assessment?: AssessmentRecord;
  /** The approval the current round follows: per-change steps, pre-approved by template, or emergency. */
  readonly approvalPlan?: ApprovalPlan;
  /** The current approval round: ordered steps, each with its votes, bound to one version. */
  readonly approval?: ApprovalState;
  /** An emergency change's retrospective client approval, opened when it is implemented. */
  readonly retrospective?: ApprovalState;
  /** The latest change of class and why (an emergency's reason is what its client contacts are told). */
  readonly reclassification?: {
    readonly from: ChangeClass;
    readonly to: ChangeClass;
    readonly reason: string;
    readonly by: Person;
    readonly at: string;
  };
  /** The standard-change template this request runs under (class `standard`). */
  readonly templateId?: string;
  /** The open question while `needs_info`; earlier rounds are in `clarifications`. */
  readonly clarification?: OpenQuestion;
  readonly clarifications?: readonly AnsweredQuestion[];
  /** Emergency only: raised over the client's monthly quota (flags the request and the month's report). */
  readonly overEmergencyQuota?: boolean;
  /** Emergency only: when the post-implementation review falls due (N business days after implementation). */
  readonly reviewDueAt?: string;
  readonly review?: FiledReview;
  /** The first technician action (issue 5: acknowledged = first MSP staff action on the request). */
  readonly acknowledgedAt?: string;
  /** SLA clocks and state, recomputed on every transition (issue 5). */
  readonly sla?: SlaSnapshot;
  /** SLA thresholds already posted to the SLA channel, so each is posted once. */
  readonly slaPosted?: readonly SlaThreshold[];
  /** Reminder and escalation keys already sent (see `dueFollowUps`), so each goes out once. */
  readonly followUpsSent?: readonly string[];
  /** The PSA ticket this request is synced with (issue 6), when its client maps to a PSA. */
  readonly psa?: PsaLink;
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
