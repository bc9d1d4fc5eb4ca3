import type { AuditEvent } from '../audit/audit-event';
import { SYSTEM_OID } from '../audit/audit-event';
import { isMspStaff, type ClientRole } from '../client/client';
import type { DomainError } from '../shared/errors';
import type { ChangeRequestId, ClientCode, TenantId } from '../shared/ids';
import type { JsonObject } from '../shared/json';
import { err, ok, type Result } from '../shared/result';
import {
  isTerminal,
  type ApprovalRound,
  type ChangeRequest,
  type ChangeSource,
  type ChangeStatus,
  type ClosureOutcome,
  type Person,
} from './change-request';
import { ChangeRequestErrors as E } from './change-request.errors';
import { NOTE_MAX, type ChangeInput } from './change-request.payloads';

/** Events the machine accepts: what happened, in the past tense (STYLE.md §3). */
export type ChangeEvent =
  | { readonly type: 'Triaged' }
  | { readonly type: 'ApprovalRequested'; readonly approvers: readonly Person[] }
  | { readonly type: 'ApprovalGranted'; readonly version: number; readonly cardHash?: string }
  | {
      readonly type: 'ApprovalDenied';
      readonly version: number;
      readonly reason: string;
      readonly cardHash?: string;
    }
  | { readonly type: 'Edited'; readonly changes: ChangeInput }
  | { readonly type: 'WorkStarted' }
  | { readonly type: 'ImplementationCompleted'; readonly notes?: string }
  | { readonly type: 'Failed'; readonly reason: string }
  | { readonly type: 'RolledBack'; readonly notes: string }
  | { readonly type: 'Closed'; readonly outcome: ClosureOutcome; readonly notes: string }
  | { readonly type: 'Cancelled'; readonly reason: string }
  /** Cabinet's execution run finished every step (and every checklist task was ticked). */
  | { readonly type: 'ExecutionCompleted'; readonly runId: string }
  /** Cabinet's execution run was undone (`compensated`) or stopped for a person (`needs_manual`). */
  | { readonly type: 'ExecutionFailed'; readonly runId: string; readonly reason: string }
  /** A rollback run undid a completed execution. */
  | { readonly type: 'RollbackCompleted'; readonly runId: string; readonly notes: string };

/** Who is acting, what they are to this client, and when. Identity comes from authenticated context only. */
export interface TransitionContext {
  readonly actor: Person;
  readonly roles: ReadonlySet<ClientRole>;
  /** True for Cabinet's own steps (auto-triage on submission). */
  readonly system?: boolean;
  readonly now: string;
}

export interface Transition {
  readonly next: ChangeRequest;
  /** Exactly one audit event per accepted transition. */
  readonly audit: AuditEvent;
}

export interface NewChangeRequest {
  readonly id: ChangeRequestId;
  readonly number: number;
  readonly tenantId: TenantId;
  readonly clientCode: ClientCode;
  readonly requester: Person;
  readonly onBehalfOf?: Person;
  readonly source: ChangeSource;
  readonly now: string;
}

/** A saved form becomes a request: status `submitted`, version 1 (DESIGN.md §2). */
export function createChangeRequest(input: ChangeInput, meta: NewChangeRequest): Transition {
  const next: ChangeRequest = {
    id: meta.id,
    number: meta.number,
    tenantId: meta.tenantId,
    clientCode: meta.clientCode,
    type: input.type,
    changeClass: 'normal',
    title: input.title,
    description: input.description,
    payload: input.payload,
    requester: meta.requester,
    ...(meta.onBehalfOf ? { onBehalfOf: meta.onBehalfOf } : {}),
    source: meta.source,
    status: 'submitted',
    version: 1,
    createdAt: meta.now,
    updatedAt: meta.now,
  };
  return {
    next,
    audit: event('request.submitted', meta.requester, next, {
      payload: {
        status: 'submitted',
        changeType: input.type,
        changeClass: 'normal',
        source: meta.source,
        version: 1,
      },
      personal: {
        title: input.title,
        description: input.description,
        details: input.payload as unknown as JsonObject,
        requester: meta.requester.name,
        ...(meta.onBehalfOf ? { onBehalfOf: meta.onBehalfOf.name } : {}),
      },
    }),
  };
}

/**
 * The normal-change state machine (DESIGN.md §2). Pure: takes the request, an event and the
 * acting context; returns the next request and its one audit event, or why the event is refused.
 * @remarks A refused event changes nothing; callers persist `next` and `audit` together or not at all.
 */
export function transition(
  cr: ChangeRequest,
  ev: ChangeEvent,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  if (isTerminal(cr.status)) return err(E.invalidTransition(cr.status, describe(ev)));
  switch (ev.type) {
    case 'Triaged':
      if (cr.status !== 'submitted') return err(E.invalidTransition(cr.status, describe(ev)));
      if (!ctx.system && !isMspStaff(ctx.roles)) return err(E.notStaff());
      return ok(step(cr, ctx, 'triaged', 'request.triaged', {}));

    case 'ApprovalRequested': {
      if (cr.status !== 'triaged') return err(E.invalidTransition(cr.status, describe(ev)));
      if (!ctx.system && !isMspStaff(ctx.roles)) return err(E.notStaff());
      const approvers = eligibleApprovers(cr, ev.approvers);
      if (approvers.length === 0) return err(E.noApprovers());
      const approval: ApprovalRound = { version: cr.version, approvers, requestedAt: ctx.now };
      return ok(
        step(
          cr,
          ctx,
          'awaiting_approval',
          'approval.requested',
          { approverOids: approvers.map((a) => a.oid) },
          {},
          { approval },
        ),
      );
    }

    case 'ApprovalGranted':
    case 'ApprovalDenied': {
      const refused = checkDecision(cr, ev.version, ctx);
      if (refused) return err(refused);
      if (ev.type === 'ApprovalGranted') {
        const decision = {
          outcome: 'approved' as const,
          by: ctx.actor,
          at: ctx.now,
          ...(ev.cardHash ? { cardHash: ev.cardHash } : {}),
        };
        return ok(
          step(
            cr,
            ctx,
            'approved',
            'approval.granted',
            { approvalVersion: ev.version, cardHash: ev.cardHash ?? null },
            {},
            {
              approval: { ...cr.approval!, decision },
            },
          ),
        );
      }
      const reasonText = requiredReason(ev.reason, 'deny a request');
      if (!reasonText.ok) return reasonText;
      const reason = reasonText.value;
      const decision = {
        outcome: 'denied' as const,
        by: ctx.actor,
        at: ctx.now,
        reason,
        ...(ev.cardHash ? { cardHash: ev.cardHash } : {}),
      };
      return ok(
        step(
          cr,
          ctx,
          'denied',
          'approval.denied',
          { approvalVersion: ev.version, cardHash: ev.cardHash ?? null },
          { reason },
          {
            approval: { ...cr.approval!, decision },
          },
        ),
      );
    }

    case 'Edited': {
      if (!['submitted', 'triaged', 'awaiting_approval'].includes(cr.status))
        return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isRequester(cr, ctx.actor) && !isMspStaff(ctx.roles))
        return err(E.notRequesterOrStaff());
      if (ev.changes.type !== cr.type) return err(E.typeChanged());
      const version = cr.version + 1;
      // Editing invalidates the pending round: a fresh round at the new version re-issues the cards.
      const approval =
        cr.approval && cr.status === 'awaiting_approval'
          ? { ...cr.approval, version, requestedAt: ctx.now }
          : cr.approval;
      const next: ChangeRequest = {
        ...cr,
        title: ev.changes.title,
        description: ev.changes.description,
        payload: ev.changes.payload,
        version,
        updatedAt: ctx.now,
        ...(approval ? { approval } : {}),
      };
      return ok({
        next,
        audit: event('request.edited', auditActor(ctx), next, {
          payload: {
            status: cr.status,
            version,
            supersededApprovalVersion: cr.status === 'awaiting_approval' ? cr.version : null,
          },
          personal: {
            title: ev.changes.title,
            description: ev.changes.description,
            details: ev.changes.payload as unknown as JsonObject,
          },
        }),
      });
    }

    case 'WorkStarted': {
      if (cr.status !== 'approved' && cr.status !== 'failed')
        return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isMspStaff(ctx.roles)) return err(E.notStaff());
      if (!hasCurrentApproval(cr)) return err(E.notApproved());
      return ok(
        step(
          cr,
          ctx,
          'in_progress',
          'work.started',
          { retry: cr.status === 'failed' },
          {},
          { assignee: ctx.actor },
        ),
      );
    }

    case 'ImplementationCompleted': {
      if (cr.status !== 'in_progress') return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isMspStaff(ctx.roles)) return err(E.notStaff());
      const notesText = optionalNotes(ev.notes);
      if (!notesText.ok) return notesText;
      const notes = notesText.value;
      return ok(step(cr, ctx, 'implemented', 'work.implemented', {}, notes ? { notes } : {}));
    }

    case 'Failed': {
      if (cr.status !== 'in_progress') return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isMspStaff(ctx.roles)) return err(E.notStaff());
      return failedStep(cr, ctx, ev.reason, {});
    }

    case 'RolledBack': {
      if (cr.status !== 'failed') return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isMspStaff(ctx.roles)) return err(E.notStaff());
      return rolledBackStep(cr, ctx, ev.notes, {});
    }

    case 'Closed': {
      const allowed =
        cr.status === 'implemented' || (cr.status === 'failed' && ev.outcome === 'failed');
      if (!allowed) return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isMspStaff(ctx.roles)) return err(E.notStaff());
      if (
        cr.status === 'implemented' &&
        (ev.outcome === 'failed' || ev.outcome === 'rolled_back')
      ) {
        return err(E.invalidTransition(cr.status, `closed as ${ev.outcome}`));
      }
      const notesText = optionalNotes(ev.notes);
      if (!notesText.ok) return notesText;
      const notes = notesText.value;
      return ok(
        step(
          cr,
          ctx,
          'closed',
          'request.closed',
          { outcome: ev.outcome },
          { notes },
          {
            closure: { outcome: ev.outcome, notes, by: ctx.actor, at: ctx.now },
          },
        ),
      );
    }

    case 'ExecutionCompleted':
    case 'ExecutionFailed':
    case 'RollbackCompleted':
      return executionTransition(cr, ev, ctx);

    case 'Cancelled': {
      if (!isRequester(cr, ctx.actor) && !isMspStaff(ctx.roles))
        return err(E.notRequesterOrStaff());
      const reasonText = requiredReason(ev.reason, 'cancel a request');
      if (!reasonText.ok) return reasonText;
      const reason = reasonText.value;
      return ok(
        step(
          cr,
          ctx,
          'cancelled',
          'request.cancelled',
          { from: cr.status },
          { reason },
          {
            cancellation: { reason, by: ctx.actor, at: ctx.now },
          },
        ),
      );
    }
  }
}

/**
 * Transitions the execution engine makes when a run ends, on behalf of the technician who started
 * it (`ctx.system` with that technician as actor) or by staff directly.
 */
function executionTransition(
  cr: ChangeRequest,
  ev: Extract<
    ChangeEvent,
    { readonly type: 'ExecutionCompleted' | 'ExecutionFailed' | 'RollbackCompleted' }
  >,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  if (!ctx.system && !isMspStaff(ctx.roles)) return err(E.notStaff());
  switch (ev.type) {
    case 'ExecutionCompleted':
      if (cr.status !== 'in_progress') return err(E.invalidTransition(cr.status, describe(ev)));
      return ok(step(cr, ctx, 'implemented', 'work.implemented', { runId: ev.runId }));
    case 'ExecutionFailed':
      if (cr.status !== 'in_progress') return err(E.invalidTransition(cr.status, describe(ev)));
      return failedStep(cr, ctx, ev.reason, { runId: ev.runId });
    case 'RollbackCompleted':
      if (cr.status !== 'implemented' && cr.status !== 'failed')
        return err(E.invalidTransition(cr.status, describe(ev)));
      return rolledBackStep(cr, ctx, ev.notes, { runId: ev.runId });
  }
}

/** in_progress → failed with a reason, by hand or when a run could not finish. */
function failedStep(
  cr: ChangeRequest,
  ctx: TransitionContext,
  rawReason: string,
  payload: JsonObject,
): Result<Transition, DomainError> {
  const reasonText = requiredReason(rawReason, 'mark a change as failed');
  if (!reasonText.ok) return reasonText;
  const reason = reasonText.value;
  return ok(
    step(
      cr,
      ctx,
      'failed',
      'request.failed',
      payload,
      { reason },
      {
        failure: { reason, by: ctx.actor, at: ctx.now },
      },
    ),
  );
}

/** → rolled_back, closed with outcome rolled_back, by hand or when a rollback run completed. */
function rolledBackStep(
  cr: ChangeRequest,
  ctx: TransitionContext,
  rawNotes: string | undefined,
  payload: JsonObject,
): Result<Transition, DomainError> {
  const notesText = optionalNotes(rawNotes);
  if (!notesText.ok) return notesText;
  const notes = notesText.value;
  return ok(
    step(
      cr,
      ctx,
      'rolled_back',
      'request.rolled_back',
      { outcome: 'rolled_back', ...payload },
      { notes },
      { closure: { outcome: 'rolled_back', notes, by: ctx.actor, at: ctx.now } },
    ),
  );
}

/** A reason people must give (deny, fail, cancel): trimmed, non-empty, bounded. */
function requiredReason(raw: string, what: string): Result<string, DomainError> {
  const reason = raw.trim();
  if (reason.length === 0) return err(E.reasonRequired(what));
  return reason.length > NOTE_MAX ? err(E.textTooLong('The reason', NOTE_MAX)) : ok(reason);
}

/** Optional notes for the record: trimmed and bounded. */
function optionalNotes(raw: string | undefined): Result<string, DomainError> {
  const notes = (raw ?? '').trim();
  return notes.length > NOTE_MAX ? err(E.textTooLong('The notes', NOTE_MAX)) : ok(notes);
}

/** The requester, or the client person a request was raised on behalf of. */
export function isRequester(cr: ChangeRequest, who: Person): boolean {
  return (
    samePerson(cr.requester, who) || (cr.onBehalfOf !== undefined && samePerson(cr.onBehalfOf, who))
  );
}

export function samePerson(
  a: { readonly tid: string; readonly oid: string },
  b: { readonly tid: string; readonly oid: string },
): boolean {
  return a.tid === b.tid && a.oid === b.oid;
}

/** True when the current version carries an approval decision: the gate for any execution. */
export function hasCurrentApproval(cr: ChangeRequest): boolean {
  const decision = cr.approval?.decision;
  return (
    decision?.outcome === 'approved' &&
    cr.approval?.version === cr.version &&
    !isRequester(cr, decision.by)
  );
}

/** Designated approvers of the client, minus anyone who raised the request (no self-approval). */
function eligibleApprovers(cr: ChangeRequest, approvers: readonly Person[]): Person[] {
  return approvers.filter((a) => a.tid === cr.tenantId && !isRequester(cr, a));
}

/** Why `ctx.actor` may not decide this approval round now, or undefined if they may. */
export function checkDecision(
  cr: ChangeRequest,
  seenVersion: number,
  ctx: TransitionContext,
): DomainError | undefined {
  // Who may decide is checked first, so nobody learns the state of a round they have no part in.
  const round = cr.approval;
  if (!round) return E.invalidTransition(cr.status, 'decided');
  if (isRequester(cr, ctx.actor)) return E.selfApproval();
  if (!round.approvers.some((a) => samePerson(a, ctx.actor))) return E.notAnApprover();
  if (round.decision) return E.alreadyDecided(round.decision.outcome);
  if (cr.status !== 'awaiting_approval') return E.invalidTransition(cr.status, 'decided');
  if (seenVersion !== cr.version || round.version !== cr.version)
    return E.staleVersion(seenVersion, cr.version);
  return undefined;
}

function step(
  cr: ChangeRequest,
  ctx: TransitionContext,
  status: ChangeStatus,
  type: AuditEvent['type'],
  payload: JsonObject,
  personal: JsonObject = {},
  patch: Partial<ChangeRequest> = {},
): Transition {
  const next: ChangeRequest = { ...cr, ...patch, status, version: cr.version, updatedAt: ctx.now };
  return {
    next,
    audit: event(type, auditActor(ctx), next, {
      payload: { from: cr.status, status, version: next.version, ...payload },
      ...(Object.keys(personal).length > 0 ? { personal } : {}),
    }),
  };
}

/** Cabinet's own steps are recorded as Cabinet, whichever person's turn triggered them. */
function auditActor(ctx: TransitionContext): { readonly tid: string; readonly oid: string } {
  return ctx.system ? { tid: ctx.actor.tid, oid: SYSTEM_OID } : ctx.actor;
}

function event(
  type: AuditEvent['type'],
  actor: { readonly tid: string; readonly oid: string },
  cr: ChangeRequest,
  body: { readonly payload: JsonObject; readonly personal?: JsonObject },
): AuditEvent {
  return { type, actor: { tid: actor.tid, oid: actor.oid }, requestId: cr.id, ...body };
}

function describe(ev: ChangeEvent): string {
  switch (ev.type) {
    case 'Triaged':
      return 'triaged';
    case 'ApprovalRequested':
      return 'sent for approval';
    case 'ApprovalGranted':
      return 'approved';
    case 'ApprovalDenied':
      return 'denied';
    case 'Edited':
      return 'edited';
    case 'WorkStarted':
      return 'started';
    case 'ImplementationCompleted':
      return 'marked implemented';
    case 'Failed':
      return 'marked failed';
    case 'RolledBack':
      return 'rolled back';
    case 'Closed':
      return 'closed';
    case 'Cancelled':
      return 'cancelled';
    case 'ExecutionCompleted':
      return 'completed by Cabinet';
    case 'ExecutionFailed':
      return 'failed by Cabinet';
    case 'RollbackCompleted':
      return 'rolled back';
  }
}
