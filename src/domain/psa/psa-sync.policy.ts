import type { RiskLevel } from '../assessment/assessment';
import type { AuditEvent, AuditEventType } from '../audit/audit-event';
import type { ChangeRequest, ChangeStatus } from '../change-request/change-request';
import type { ChangeType } from '../change-request/change-request.payloads';
import type { PsaMapping, PsaPriorityLevel } from './psa';

/** Longest note text Cabinet writes to a PSA; the whole record stays in Cabinet. */
export const PSA_NOTE_TEXT_MAX = 1_000;

/**
 * One piece of work for the request's PSA ticket: open it (`ticket`) or add a note, optionally
 * moving its status (the client's mapping names the PSA status) or priority.
 */
export type PsaWork =
  | { readonly op: 'ticket' }
  | {
      readonly op: 'note';
      readonly text: string;
      /** Technicians only in the PSA (assessment detail); otherwise visible to the client's contacts. */
      readonly internal: boolean;
      /** Cabinet's status after the event, when the event moved it. */
      readonly status?: ChangeStatus;
      readonly priority?: PsaPriorityLevel;
    };

/**
 * What Cabinet's own PSA writes and read-backs record, and bookkeeping nobody in the PSA needs:
 * these never become PSA work, so a note read from the PSA can never be echoed back to it.
 */
const NEVER: ReadonlySet<AuditEventType> = new Set<AuditEventType>([
  'psa.ticket_linked',
  'psa.note_received',
]);

/** Events worth a note even when they leave the status as it is (a vote, an answer, a review, a note). */
const INFORMATIVE: ReadonlySet<AuditEventType> = new Set<AuditEventType>([
  'request.assessed',
  'request.reclassified',
  'approval.vote',
  'approval.retrospective_decided',
  'info.requested',
  'info.provided',
  'review.filed',
  'note.added',
]);

/**
 * The PSA work a request write causes, in the order of its audit events: `request.submitted`
 * opens the ticket; every other event that moves the status, and the informative ones above, add
 * one note each. `psa.*` events, SLA, reminders, templates, client settings and execution steps
 * cause none. Pure: the request store turns the result into `psa.sync` outbox rows in the same
 * transaction (only for requests linked to a PSA).
 */
export function psaSyncFor(request: ChangeRequest, events: readonly AuditEvent[]): PsaWork[] {
  const work: PsaWork[] = [];
  for (const event of events) {
    if (event.requestId !== request.id || isPsaEvent(event.type)) continue;
    if (event.type === 'request.submitted') {
      work.push({ op: 'ticket' });
      continue;
    }
    const moved = statusMove(event);
    if (!moved && !INFORMATIVE.has(event.type)) continue;
    const priority =
      event.type === 'request.assessed' && request.assessment
        ? psaPriorityLevel(request.type, request.assessment.risk)
        : undefined;
    work.push({
      op: 'note',
      text: noteText(event, moved),
      internal: event.type === 'request.assessed' || event.type === 'request.reclassified',
      ...(moved ? { status: moved } : {}),
      ...(priority ? { priority } : {}),
    });
  }
  return work;
}

/** Whether an audit type is one of Cabinet's PSA records (never synced back out). */
export function isPsaEvent(type: AuditEventType): boolean {
  return NEVER.has(type) || type.startsWith('psa.');
}

/**
 * The request's priority level: its assessed risk, or before assessment the client's level for
 * its change type (medium by default). An incident is always high or above.
 */
export function psaPriorityLevel(
  type: ChangeType,
  risk?: RiskLevel,
  mapping?: Pick<PsaMapping, 'typePriorities'>,
): PsaPriorityLevel {
  const level: PsaPriorityLevel = risk ?? mapping?.typePriorities?.[type] ?? 'medium';
  return type === 'incident' && RANK[level] < RANK.high ? 'high' : level;
}

const RANK: Readonly<Record<PsaPriorityLevel, number>> = {
  low: 0,
  medium: 1,
  high: 2,
  critical: 3,
};

/** The new status when the event moved the request (its payload says `from` and `status`). */
function statusMove(event: AuditEvent): ChangeStatus | undefined {
  const { from, status } = event.payload;
  return typeof from === 'string' && typeof status === 'string' && from !== status
    ? (status as ChangeStatus)
    : undefined;
}

const HEADLINES: Partial<Record<AuditEventType, string>> = {
  'request.triaged': 'Triaged by the MSP.',
  'request.reclassified': 'Change class changed.',
  'request.assessed': 'Assessed.',
  'request.edited': 'The request was edited.',
  'approval.requested': 'Waiting for approval.',
  'approval.pre_approved': 'Pre-approved (standard change).',
  'approval.vote': 'An approver voted.',
  'approval.granted': 'Approved.',
  'approval.denied': 'Denied by the approvers.',
  'approval.retrospective_decided': 'Retrospective approval decided.',
  'info.requested': 'Question for the requester:',
  'info.provided': 'The requester answered:',
  'work.started': 'Work started.',
  'work.implemented': 'Implemented.',
  'request.failed': 'The change failed:',
  'request.rolled_back': 'Rolled back.',
  'request.closed': 'Closed.',
  'request.cancelled': 'Cancelled:',
  'review.filed': 'Post-implementation review filed.',
  'note.added': 'Note from Cabinet:',
};

/** Free text each event carries (question, answer, reason, notes), from its personal part. */
const TEXT_FIELDS = ['question', 'answer', 'reason', 'notes', 'text', 'summary'] as const;

function noteText(event: AuditEvent, moved: ChangeStatus | undefined): string {
  const author = event.personal?.['name'];
  const headline =
    event.type === 'note.added' && typeof author === 'string'
      ? `Note from ${author} in Cabinet:`
      : (HEADLINES[event.type] ?? `Cabinet: ${event.type}.`);
  const parts = [headline];
  if (event.type === 'request.assessed' && typeof event.payload['risk'] === 'string')
    parts.push(`Risk: ${event.payload['risk']}.`);
  const outcome = event.payload['outcome'];
  if (event.type === 'request.closed' && typeof outcome === 'string')
    parts.push(`Outcome: ${outcome.replace(/_/g, ' ')}.`);
  for (const field of TEXT_FIELDS) {
    const value = event.personal?.[field];
    if (typeof value === 'string' && value.trim().length > 0) {
      parts.push(value.trim());
      break;
    }
  }
  if (moved) parts.push(`(Cabinet status: ${moved.replace(/_/g, ' ')})`);
  const text = parts.join(' ');
  return text.length > PSA_NOTE_TEXT_MAX ? `${text.slice(0, PSA_NOTE_TEXT_MAX - 1)}…` : text;
}
