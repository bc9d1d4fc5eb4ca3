// @ts-check
/** Words for states and events, written for the technician and the client reading along. */

/** @type {Readonly<Record<string, string>>} */
export const RUN_STATUS = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting',
  compensating: 'Undoing',
  completed: 'Completed',
  compensated: 'Undone',
  needs_manual: 'Needs a person',
};

/** What a run's state means, in plain words. @type {Readonly<Record<string, string>>} */
export const RUN_EXPLANATION = {
  queued: 'Cabinet has the run and starts it in a moment. You can leave this page; it carries on.',
  running: 'Cabinet is carrying out the steps in order.',
  waiting:
    'Cabinet is waiting: either for a checklist task below to be ticked off, or because Microsoft asked it to slow down. It carries on by itself.',
  compensating:
    'A step failed before the point of no return, so Cabinet is putting back everything it had changed, in reverse order.',
  completed: 'Every step is done and was read back to check it took effect.',
  compensated:
    'A step failed before the point of no return, so Cabinet undid every step it had done. The client’s directory is as it was before the run. Fix what the failed step says and run the wizard again.',
  needs_manual:
    'A step failed after the point of no return and retrying did not help. Cabinet did not undo anything. Finish the failed and remaining steps by hand in the Microsoft 365 admin centre, then record the outcome on the request.',
};

/** @type {Readonly<Record<string, string>>} */
export const STEP_STATUS = {
  pending: 'Not started',
  started: 'In progress',
  done: 'Done',
  failed: 'Failed',
  compensating: 'Undoing',
  compensated: 'Undone',
};

/** @type {Readonly<Record<string, string>>} */
export const TIMELINE = {
  'request.submitted': 'Raised',
  'webhook.accepted': 'Received through the signed webhook',
  'request.triaged': 'Triaged',
  'request.edited': 'Edited',
  'approval.requested': 'Sent for approval',
  'approval.granted': 'Approved',
  'approval.denied': 'Denied',
  'approval.refused': 'Approval click refused',
  'work.started': 'Work started',
  'work.implemented': 'Marked implemented',
  'request.failed': 'Marked failed',
  'request.rolled_back': 'Rolled back',
  'request.closed': 'Closed',
  'request.cancelled': 'Cancelled',
  'action.refused': 'Action refused',
  'execution.queued': 'Run queued',
  'execution.planned': 'Run planned',
  'execution.step_started': 'Step started',
  'execution.step_succeeded': 'Step done',
  'execution.step_failed': 'Step failed',
  'execution.step_compensating': 'Undoing a step',
  'execution.step_compensated': 'Step undone',
  'execution.compensation_failed': 'Undo failed',
  'execution.waiting': 'Run waiting',
  'execution.finished': 'Run finished',
  'access.granted': 'Access granted',
  'access.revoked': 'Access revoked',
  'checklist.ticked': 'Checklist task done',
  'password.revealed': 'Temporary password revealed',
  'request.assessed': 'Assessed',
  'request.reclassified': 'Reclassified',
  'risk.overridden': 'Risk set against the suggestion',
  'approval.vote': 'Voted',
  'approval.pre_approved': 'Pre-approved by a standard template',
  'approval.step_opened': 'Approval step opened',
  'approval.reminded': 'Approvers reminded',
  'approval.escalated': 'Approval escalated to the MSP leads',
  'approval.retrospective_requested': 'Retrospective approval requested',
  'approval.retrospective_decided': 'Retrospective approval decided',
  'info.requested': 'Question asked',
  'info.provided': 'Question answered',
  'review.due': 'Review due',
  'review.filed': 'Review filed',
  'review.escalated': 'Overdue review escalated',
  'notice.sent': 'Change notice sent',
  'delegation.created': 'Approvals delegated',
  'delegation.revoked': 'Delegation revoked',
  'template.created': 'Template created',
  'template.changed': 'Template changed',
  'template.proposed': 'Template proposed',
  'template.approved': 'Template approved',
  'template.declined': 'Template declined',
  'template.suspended': 'Template suspended',
  'template.reenabled': 'Template re-enabled',
  'template.promotion_suggested': 'Suggested as a template',
  'client.settings_changed': 'Client settings changed',
  'sla.at_risk': 'SLA at risk',
  'sla.breached': 'SLA breached',
  'psa.ticket_linked': 'PSA ticket opened',
  'psa.note_received': 'Note from the PSA',
  'note.added': 'Note added',
};

/** Queue filters: a name for people and the states it covers (none: every state). */
export const QUEUE_FILTERS = [
  {
    key: 'open',
    label: 'All open',
    statuses: [
      'submitted',
      'triaged',
      'awaiting_approval',
      'needs_info',
      'approved',
      'in_progress',
      'implemented',
      'review_pending',
      'failed',
    ],
  },
  { key: 'ready', label: 'Ready to execute', statuses: ['approved'] },
  { key: 'in_progress', label: 'In progress', statuses: ['in_progress'] },
  { key: 'failed', label: 'Failed', statuses: ['failed'] },
  { key: 'awaiting_approval', label: 'Awaiting approval', statuses: ['awaiting_approval'] },
  { key: 'all', label: 'Everything', statuses: [] },
];

/** A role name for people. @type {Readonly<Record<string, string>>} */
export const ROLE = {
  client_admin: 'client admin',
  approver: 'approver',
  tech: 'technician',
  lead: 'lead',
};

/** Status badge tone: the word carries the meaning, the colour only helps. @param {string} status */
export function tone(status) {
  switch (status) {
    case 'approved':
    case 'implemented':
    case 'closed':
    case 'completed':
    case 'done':
      return 'good';
    case 'failed':
    case 'denied':
    case 'rolled_back':
    case 'needs_manual':
      return 'bad';
    case 'awaiting_approval':
    case 'needs_info':
    case 'waiting':
    case 'compensating':
    case 'compensated':
    case 'review_pending':
      return 'warn';
    default:
      return 'info';
  }
}
