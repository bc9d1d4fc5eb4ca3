import type { ChangeStatus } from '../../domain/change-request/change-request';
import type { PsaPriorityLevel } from '../../domain/psa/psa';
import type { ObjectId, TenantId } from '../../domain/shared/ids';

/** Whom a notification is for: a person, found through their stored conversation reference. */
export interface Recipient {
  readonly tid: TenantId;
  readonly oid: ObjectId;
}

/** The cards Cabinet sends proactively. Rendered at delivery from the request's current state. */
export type NotificationTemplate =
  | 'approval_request'
  | 'approval_decided'
  | 'status_update'
  | 'ready_to_execute'
  | 'request_closed'
  | 'execution_update'
  /** Issue 4: a triaged request waits for a technician's assessment. */
  | 'assessment_needed'
  /** Issue 4: an approver or technician asked the requester a question; and its answer back. */
  | 'info_requested'
  | 'info_provided'
  /** Issue 4: an approval step has waited past the client's reminder or escalation time. */
  | 'approval_reminder'
  | 'approval_escalation'
  /** Issue 4: the client's contacts hear of an emergency change at once, of a normal one in advance. */
  | 'emergency_notice'
  | 'change_notice'
  /** Issue 4: an emergency change waits for retrospective approval and its review; and when overdue. */
  | 'retrospective_request'
  | 'review_overdue'
  /** Issue 4: the client's approver is asked to approve a standard-change template; a template suspended. */
  | 'template_approval_request'
  | 'template_suspended'
  /** Issue 5: a request at risk of breaching, or breached, posted to the SLA channel (edited in place). */
  | 'sla_alert'
  /** Issue 6: a technician's note added in the PSA, passed on to whoever works on or raised the request. */
  | 'psa_note'
  /** Issue 7: a signed checkpoint of the client's audit chain, anchored; witnessed by the client's admins. */
  | 'checkpoint_witness'
  /** Issue 7: the client's monthly change report, posted to its admins once the month ended; `requestId` is the month. */
  | 'monthly_report';

/** A proactive Teams message, written to the outbox in the same transaction as the change that causes it. */
export interface Notification {
  readonly template: NotificationTemplate;
  readonly requestId: string;
  readonly version: number;
  /** Short, non-secret context for the card, e.g. "who has not been reached". */
  readonly note?: string;
  /**
   * Stable key of a card this message should replace in place (e.g. an approver's approval card);
   * the relay remembers the activity id it got for the key and updates instead of re-posting.
   */
  readonly cardKey?: string;
  /** The execution run the card reports on (`execution_update`). */
  readonly runId?: string;
  /**
   * The standard-change template the card is about (`template_*`); such cards have no request, so
   * `requestId` repeats the template id for logs and `version` is the template's.
   */
  readonly templateId?: string;
  /**
   * The audit checkpoint the card witnesses (`checkpoint_witness`); such cards have no request, so
   * `requestId` names the checkpoint and `version` is its size.
   */
  readonly checkpoint?: { readonly size: number; readonly root: string };
}

/** A proactive Teams message to one person. */
export interface TeamsNotifyMessage {
  readonly kind: 'teams.notify';
  readonly recipient: Recipient;
  readonly notification: Notification;
}

/** Drive an execution run (a Graph saga); written with the run so no request waits on Graph. */
export interface GraphExecuteMessage {
  readonly kind: 'graph.execute';
  readonly requestId: string;
  readonly runId: string;
}

/**
 * Bring the MSP-wide index of open requests up to date with this request (issue 5: the SLA sweeper
 * and wallboard read the index, never a scan of history). Written with every request change.
 */
export interface IndexSyncMessage {
  readonly kind: 'index.sync';
  readonly requestId: string;
}

/** A card for one of the MSP's bound Teams channels (issue 5: the SLA channel), edited in place by `cardKey`. */
export interface TeamsChannelMessage {
  readonly kind: 'teams.channel';
  readonly channel: 'sla';
  readonly notification: Notification;
}

/**
 * Bring the request's PSA ticket up to date (issue 6): open it if it is not open yet (`ticket`), or
 * add a note (optionally moving the ticket's status). Written with the change that causes it; the
 * row's id is the marker the PSA write carries, so a redelivery is recognised, not repeated.
 */
export interface PsaSyncMessage {
  readonly kind: 'psa.sync';
  readonly requestId: string;
  readonly op: 'ticket' | 'note';
  /** `note` only: plain text for the ticket (never a secret). */
  readonly text?: string;
  /** `note` only: visible to technicians only. */
  readonly internal?: boolean;
  /** Cabinet's status after the change; the client's mapping turns it into the PSA's status. */
  readonly status?: ChangeStatus;
  /** Cabinet's priority level after assessment, when it changed; mapped like `status`. */
  readonly priority?: PsaPriorityLevel;
}

/** What an outbox row carries. Never a secret. */
export type OutboxMessage =
  | TeamsNotifyMessage
  | GraphExecuteMessage
  | IndexSyncMessage
  | TeamsChannelMessage
  | PsaSyncMessage;

/** What driving a run from its outbox row came to: nothing more to do now, or try again at `at`. */
export type DriveOutcome =
  | { readonly status: 'settled' }
  | { readonly status: 'later'; readonly at: Date };

/** Drives execution runs when their `graph.execute` rows are delivered. */
export interface RunDriver {
  drive(tenantId: TenantId, runId: string): Promise<DriveOutcome>;
}

export type OutboxStatus = 'pending' | 'waiting_for_recipient' | 'done' | 'parked';

export interface OutboxRow<M extends OutboxMessage = OutboxMessage> {
  readonly tenantId: TenantId;
  readonly id: string;
  readonly message: M;
  readonly status: OutboxStatus;
  readonly attempts: number;
  /** Times the row was put off on request (a run asked to be driven later); not failures. */
  readonly reschedules?: number;
  /**
   * Times the row has been claimed, this claim included. Above 1, an earlier delivery may have
   * reached the receiver without being recorded (lost response, relay killed), so a handler for a
   * receiver that takes no idempotency key (a PSA) looks for its first write before writing again.
   */
  readonly claims?: number;
  readonly nextAttemptAt: string;
  readonly leaseUntil?: string;
  readonly lastError?: string;
  readonly createdAt: string;
  readonly etag: string;
}

export function isNotificationRow(row: OutboxRow): row is OutboxRow<TeamsNotifyMessage> {
  return row.message.kind === 'teams.notify';
}

export function isPsaSyncRow(row: OutboxRow): row is OutboxRow<PsaSyncMessage> {
  return row.message.kind === 'psa.sync';
}

export function isGraphExecuteRow(row: OutboxRow): row is OutboxRow<GraphExecuteMessage> {
  return row.message.kind === 'graph.execute';
}

export interface ClaimOutboxOptions {
  readonly limit?: number;
  readonly leaseMs?: number;
}

/**
 * Outbox rows live in the client's partition (written with the state change that causes them).
 * Claiming is lease-based so any number of relay instances can run.
 */
export interface OutboxStore {
  /** Claims due `pending` rows of one tenant by ETag-guarded lease; rows another instance claimed are skipped. */
  claimDue(tenantId: TenantId, now: Date, options?: ClaimOutboxOptions): Promise<OutboxRow[]>;
  complete(row: OutboxRow, now: Date): Promise<void>;
  /** Schedules another attempt at `nextAttemptAt`, or parks the row with its last error. */
  fail(
    row: OutboxRow,
    update: { readonly error: string; readonly nextAttemptAt?: Date; readonly park: boolean },
    now: Date,
  ): Promise<void>;
  /**
   * Puts the row off until `at` without counting a failed attempt (a run asked to be driven later),
   * releasing its lease and counting the reschedule.
   */
  reschedule(
    row: OutboxRow,
    at: Date,
    now: Date,
    options?: {
      /** Nothing was sent for this claim (the row waited its turn): the claim is not counted. */
      readonly untouched?: boolean;
    },
  ): Promise<void>;
  /**
   * Sets the lease on a row this instance holds to `now + leaseMs` (extending it, or cutting it
   * short to hand the row back sooner); undefined if the row changed since (another instance
   * claimed or settled it). Use the returned row to settle it.
   */
  renewLease(row: OutboxRow, now: Date, leaseMs: number): Promise<OutboxRow | undefined>;
  /** Holds the row until the recipient first opens Cabinet. */
  waitForRecipient(row: OutboxRow, now: Date): Promise<void>;
  /** Makes every row waiting for this person due now; returns how many. */
  releaseWaiting(tenantId: TenantId, recipient: Recipient, now: Date): Promise<number>;
  list(
    tenantId: TenantId,
    options?: { readonly statuses?: readonly OutboxStatus[] },
  ): Promise<OutboxRow[]>;
  /** Makes a parked (or any not-done) row due now with a fresh attempt and reschedule budget. */
  retry(tenantId: TenantId, id: string, now: Date): Promise<boolean>;
}
