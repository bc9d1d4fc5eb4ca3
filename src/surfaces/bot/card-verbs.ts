/**
 * Every `Action.Execute` verb Cabinet's cards use, in one place: the templates in adaptiveCards/
 * name these strings and the bot registers a handler for each.
 */
export const CardVerbs = {
  NewRequest: 'cr.new',
  ShowForm: 'cr.form',
  Submit: 'cr.submit',
  Edit: 'cr.edit',
  SaveEdit: 'cr.saveEdit',
  Approve: 'cr.approve',
  Deny: 'cr.deny',
  Start: 'cr.start',
  MarkImplemented: 'cr.implemented',
  MarkFailed: 'cr.fail',
  RolledBack: 'cr.rolledBack',
  Close: 'cr.close',
  CloseFailed: 'cr.closeFailed',
  Cancel: 'cr.cancel',
  Status: 'cr.status',
  List: 'cr.list',
  Dismiss: 'cr.dismiss',
  RevealPassword: 'cr.revealPassword',
  ApproveTemplate: 'cat.approveTemplate',
  DeclineTemplate: 'cat.declineTemplate',
  Ask: 'cr.ask',
  Answer: 'cr.answer',
  Review: 'cr.review',
  BulkApprove: 'cr.bulkApprove',
  Assess: 'cr.assess',
  SendForApproval: 'cr.sendForApproval',
  Reclassify: 'cr.reclassify',
  /** Issue 6: an MSP lead retries a parked delivery (outbox row). */
  RetryDelivery: 'outbox.retry',
  /** Issue 6: a Cabinet note added from the request's card (pushed to the PSA ticket when linked). */
  AddNote: 'cr.note',
} as const;

export type CardVerb = (typeof CardVerbs)[keyof typeof CardVerbs];

export const ALL_CARD_VERBS: ReadonlySet<string> = new Set(Object.values(CardVerbs));
