import type { JsonObject } from '../shared/json';

/** Who did something, as the chain records it: tenant and object id, never a display name. */
export interface AuditActor {
  readonly tid: string;
  readonly oid: string;
}

/** Cabinet itself (auto-triage, relays); its oid is not a GUID, so it can never collide with a person. */
export const SYSTEM_OID = 'cabinet-system';

export type AuditEventType =
  | 'client.onboarded'
  | 'client.roles_changed'
  | 'request.submitted'
  | 'request.triaged'
  | 'request.edited'
  | 'approval.requested'
  | 'approval.granted'
  | 'approval.denied'
  | 'approval.refused'
  | 'work.started'
  | 'work.implemented'
  | 'request.failed'
  | 'request.rolled_back'
  | 'request.closed'
  | 'request.cancelled'
  | 'action.refused'
  | 'execution.queued'
  | 'execution.planned'
  | 'execution.step_started'
  | 'execution.step_succeeded'
  | 'execution.step_failed'
  | 'execution.step_compensating'
  | 'execution.step_compensated'
  | 'execution.compensation_failed'
  | 'execution.waiting'
  | 'execution.finished'
  | 'access.granted'
  | 'access.revoked'
  | 'checklist.ticked'
  | 'password.revealed'
  // Issue 4: classes, assessment, approval steps, clarification, emergency review, settings, catalogue.
  | 'client.settings_changed'
  | 'request.reclassified'
  | 'request.assessed'
  | 'risk.overridden'
  | 'approval.pre_approved'
  | 'approval.vote'
  | 'approval.step_opened'
  | 'approval.reminded'
  | 'approval.escalated'
  | 'approval.retrospective_requested'
  | 'approval.retrospective_decided'
  | 'info.requested'
  | 'info.provided'
  | 'review.due'
  | 'review.filed'
  | 'review.escalated'
  | 'notice.sent'
  | 'delegation.created'
  | 'delegation.revoked'
  | 'template.created'
  | 'template.changed'
  | 'template.proposed'
  | 'template.approved'
  | 'template.declined'
  | 'template.suspended'
  | 'template.reenabled'
  | 'template.promotion_suggested'
  // Issue 5: the SLA sweeper saw a request cross a threshold; an MSP lead bound the SLA channel.
  | 'sla.at_risk'
  | 'sla.breached'
  | 'sla.channel_bound'
  // Issue 6: PSA sync (ticket opened and linked, a PSA note taken in), Cabinet notes, signed intake.
  | 'psa.ticket_linked'
  | 'psa.note_received'
  | 'note.added'
  | 'webhook.accepted'
  // Credential changes of a client's signed-intake key: who, when, which kid (never the secret).
  | 'webhook.key_created'
  | 'webhook.key_rotated'
  | 'webhook.key_retired'
  // Issue 7: the client's monthly change report was posted to its admins (once per month).
  | 'report.monthly_posted';

/**
 * What a transition or use case wants recorded. `payload` is stored in clear; `personal` holds
 * names, UPNs, e-mails and free text and is sealed with the client's data key before chaining.
 */
export interface AuditEvent {
  readonly type: AuditEventType;
  readonly actor: AuditActor;
  readonly requestId: string | null;
  readonly payload: JsonObject;
  readonly personal?: JsonObject;
}
