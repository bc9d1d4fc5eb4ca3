import {
  openApprovals,
  openRetrospective,
  recordDecision,
  type ApprovalDecisionInput,
  type ApprovalEvent,
  type ApprovalPlan,
  type ApprovalState,
} from '../approval/approval.policy';
import { ApprovalErrors } from '../approval/approval.errors';
import type { PsaLink } from '../psa/psa';
import type { Delegation } from '../approval/delegation.policy';
import type { Assessment } from '../assessment/assessment';
import { checkReadyForApproval } from '../assessment/assessment.policy';
import { reclassify } from '../assessment/change-class.policy';
import {
  reviewAuditRecord,
  type PostImplementationReview,
} from '../assessment/post-implementation-review';
import { overrideRisk, type RiskSuggestion } from '../assessment/risk.policy';
import type { AuditEvent } from '../audit/audit-event';
import { SYSTEM_OID } from '../audit/audit-event';
import { isMspStaff, type ClientRole } from '../client/client';
import { bookableSchedule, type ClientRules } from '../client/client-rules';
import { addBusinessDays } from '../schedule/business-days';
import { checkExecutionSlot, checkScheduledSlot } from '../schedule/schedule.policy';
import type { Slot } from '../schedule/schedule';
import { computeSla } from '../sla/sla.policy';
import type { DomainError } from '../shared/errors';
import type { ChangeRequestId, ClientCode, TenantId } from '../shared/ids';
import type { JsonObject } from '../shared/json';
import { samePerson, type Person } from '../shared/person';
import { err, ok, type Result } from '../shared/result';
import type { ChangeClass } from './change-class';
import {
  isTerminal,
  type AssessmentRecord,
  type ChangeRequest,
  type ChangeSource,
  type ChangeStatus,
  type ClosureOutcome,
} from './change-request';
import { ChangeRequestErrors as E } from './change-request.errors';
import { NOTE_MAX, type ChangeInput } from './change-request.payloads';

export { samePerson };

/** Events the machine accepts: what happened, in the past tense (STYLE.md §3). */
export type ChangeEvent =
  | { readonly type: 'Triaged' }
  /** A technician moves the request to another class; `templateId` is the active template a standard change runs under. */
  | {
      readonly type: 'Reclassified';
      readonly to: ChangeClass;
      readonly reason: string;
      readonly templateId?: string;
    }
  /** A technician records (or redoes) the assessment; `suggestion` is Cabinet's risk suggestion for it. */
  | {
      readonly type: 'Assessed';
      readonly assessment: Assessment;
      readonly suggestion: RiskSuggestion;
      readonly overrideReason?: string;
      /** The schedule conflicts the suggestion counted, for the approval card. */
      readonly conflicts?: readonly { readonly kind: string; readonly message: string }[];
    }
  /** The approval plan for the current version, worked out from the client's policy by `planApprovals`. */
  | {
      readonly type: 'ApprovalRequested';
      readonly plan: ApprovalPlan;
      /** Emergency only: this one is over the client's monthly quota. */
      readonly overEmergencyQuota?: boolean;
    }
  /** One approver's vote on one step (or on an emergency's retrospective approval). */
  | {
      readonly type: 'VoteCast';
      readonly decision: ApprovalDecisionInput;
      readonly delegations: readonly Delegation[];
    }
  | { readonly type: 'InfoRequested'; readonly question: string }
  | { readonly type: 'InfoProvided'; readonly answer: string }
  | { readonly type: 'Edited'; readonly changes: ChangeInput }
  /** The post-implementation review (issue 4 §6): closes a normal or emergency change. */
  | { readonly type: 'ReviewFiled'; readonly review: PostImplementationReview }
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
  /** The client's rules (windows, class overrides, review deadline), with Cabinet's defaults filled in. */
  readonly rules: ClientRules;
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
  readonly changeClass: ChangeClass;
  /** Set when the request fits a standard-change template active for the client. */
  readonly templateId?: string;
  /** Set when the client maps to a PSA: the request is synced with a ticket there (issue 6). */
  readonly psa?: PsaLink;
  readonly now: string;
  /** The client's rules: the request's SLA clocks start now under them. */
  readonly rules: ClientRules;
}

/** A saved form becomes a request: status `submitted`, version 1 (DESIGN.md §2). */
export function createChangeRequest(input: ChangeInput, meta: NewChangeRequest): Transition {
  const next: ChangeRequest = {
    id: meta.id,
    number: meta.number,
    tenantId: meta.tenantId,
    clientCode: meta.clientCode,
    type: input.type,
    changeClass: meta.changeClass,
    ...(meta.templateId ? { templateId: meta.templateId } : {}),
    title: input.title,
    description: input.description,
    payload: input.payload,
    requester: meta.requester,
    ...(meta.onBehalfOf ? { onBehalfOf: meta.onBehalfOf } : {}),
    source: meta.source,
    ...(meta.psa ? { psa: meta.psa } : {}),
    status: 'submitted',
    version: 1,
    createdAt: meta.now,
    updatedAt: meta.now,
  };
  return {
    next: { ...next, sla: computeSla(next, meta.rules, meta.now) },
    audit: event('request.submitted', meta.requester, next, {
      payload: {
        status: 'submitted',
        changeType: input.type,
        changeClass: meta.changeClass,
        templateId: meta.templateId ?? null,
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
 * Every accepted event recomputes the SLA snapshot (issue 5), and the first one by MSP staff acting
 * as themselves acknowledges the request.
 */
export function transition(
  cr: ChangeRequest,
  ev: ChangeEvent,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  const decided = decide(cr, ev, ctx);
  return decided.ok ? ok(withSla(decided.value, ctx)) : decided;
}

/**
 * Acknowledgement and SLA clocks on an accepted transition, in one place so no event can miss them.
 * @remarks Cabinet's own steps (`ctx.system`) and client people do not acknowledge. Only
 * `work.implemented`, where the resolve clock is met, records the SLA state in the audit chain.
 */
function withSla(t: Transition, ctx: TransitionContext): Transition {
  const acknowledges = !t.next.acknowledgedAt && !ctx.system && isMspStaff(ctx.roles);
  const acknowledged = acknowledges ? { ...t.next, acknowledgedAt: ctx.now } : t.next;
  const sla = computeSla(acknowledged, ctx.rules, ctx.now);
  const audit =
    t.audit.type === 'work.implemented'
      ? { ...t.audit, payload: { ...t.audit.payload, slaState: sla.resolve.state } }
      : t.audit;
  return { next: { ...acknowledged, sla }, audit };
}

function decide(
  cr: ChangeRequest,
  ev: ChangeEvent,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  // A review may still be filed on a closed or rolled-back change: it annotates, it changes no state.
  if (isTerminal(cr.status) && ev.type !== 'ReviewFiled')
    return err(E.invalidTransition(cr.status, describe(ev)));
  switch (ev.type) {
    case 'Triaged':
      if (cr.status !== 'submitted') return err(E.invalidTransition(cr.status, describe(ev)));
      if (!ctx.system && !isMspStaff(ctx.roles)) return err(E.notStaff());
      return ok(step(cr, ctx, 'triaged', 'request.triaged', {}));

    case 'Reclassified':
      return reclassified(cr, ev, ctx);

    case 'Assessed':
      return assessed(cr, ev, ctx);

    case 'ApprovalRequested':
      return approvalRequested(cr, ev, ctx);

    case 'VoteCast':
      return voteCast(cr, ev, ctx);

    case 'InfoRequested': {
      if (cr.status !== 'triaged' && cr.status !== 'awaiting_approval')
        return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isMspStaff(ctx.roles) && !holdsOpenSeat(cr.approval, ctx.actor))
        return err(E.notAsker());
      const question = requiredText(ev.question, 'ask the requester a question', 'The question');
      if (!question.ok) return question;
      return ok(
        step(
          cr,
          ctx,
          'needs_info',
          'info.requested',
          { returnTo: cr.status },
          { question: question.value },
          {
            clarification: {
              question: question.value,
              askedBy: ctx.actor,
              askedAt: ctx.now,
              returnTo: cr.status,
            },
          },
        ),
      );
    }

    case 'InfoProvided': {
      const open = cr.clarification;
      if (cr.status !== 'needs_info' || !open)
        return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isRequester(cr, ctx.actor)) return err(E.onlyRequesterAnswers());
      const answer = requiredText(ev.answer, 'answer the question', 'The answer');
      if (!answer.ok) return answer;
      const { clarification: _answered, ...rest } = cr;
      const waitedSeconds = Math.max(
        0,
        Math.round((Date.parse(ctx.now) - Date.parse(open.askedAt)) / 1000),
      );
      return ok(
        step(
          rest,
          ctx,
          open.returnTo,
          'info.provided',
          { askedAt: open.askedAt, waitedSeconds },
          { answer: answer.value },
          {
            clarifications: [
              ...(cr.clarifications ?? []),
              { ...open, answer: answer.value, answeredBy: ctx.actor, answeredAt: ctx.now },
            ],
          },
        ),
      );
    }

    case 'Edited': {
      if (!['submitted', 'triaged', 'awaiting_approval', 'needs_info'].includes(cr.status))
        return err(E.invalidTransition(cr.status, describe(ev)));
      if (!isRequester(cr, ctx.actor) && !isMspStaff(ctx.roles))
        return err(E.notRequesterOrStaff());
      if (ev.changes.type !== cr.type) return err(E.typeChanged());
      const version = cr.version + 1;
      // Editing invalidates the votes cast so far: the round starts again at the new version.
      const pending = cr.approval?.status === 'pending' && cr.approvalPlan !== undefined;
      const next: ChangeRequest = {
        ...cr,
        title: ev.changes.title,
        description: ev.changes.description,
        payload: ev.changes.payload,
        version,
        updatedAt: ctx.now,
        ...(pending
          ? {
              approvalPlan: { ...cr.approvalPlan, version },
              approval: openApprovals({ ...cr.approvalPlan, version }, ctx.now),
            }
          : {}),
      };
      return ok({
        next,
        audit: event('request.edited', auditActor(ctx), next, {
          payload: {
            status: cr.status,
            version,
            supersededApprovalVersion: pending ? cr.version : null,
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
      const inWindow = checkWorkWindow(cr, ctx);
      if (!inWindow.ok) return inWindow;
      return ok(
        step(
          cr,
          ctx,
          'in_progress',
          'work.started',
          { retry: cr.status === 'failed', waived: inWindow.value },
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
      return ok(implemented(cr, ctx, {}, notes ? { notes } : {}));
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
      if (cr.changeClass !== 'standard') return err(E.reviewRequired(cr.changeClass));
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

    case 'ReviewFiled':
      return reviewFiled(cr, ev.review, ctx);

    case 'ExecutionCompleted':
    case 'ExecutionFailed':
    case 'RollbackCompleted':
      return executionTransition(cr, ev, ctx);

    case 'Cancelled': {
      if (!isRequester(cr, ctx.actor) && !isMspStaff(ctx.roles))
        return err(E.notRequesterOrStaff());
      if (WORK_DONE.has(cr.status)) return err(E.workDone(cr.status));
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

/** A change that has been carried out ends as reviewed or rolled back, never as "cancelled". */
/**
 * Whether the machine would accept `event` from this actor now: a dry run, so surfaces offer
 * only the buttons and forms that would pass, without restating the rules.
 */
export function wouldAccept(
  cr: ChangeRequest,
  ctx: TransitionContext,
): (event: ChangeEvent) => boolean {
  // Acceptance does not depend on the SLA, so the dry run skips its maths.
  return (event) => decide(cr, event, ctx).ok;
}

const WORK_DONE: ReadonlySet<ChangeStatus> = new Set(['implemented', 'review_pending']);

/**
 * A technician moves a request to another class (issue 4 §1). Any round in progress is withdrawn:
 * the class decides the approval path, so the request goes back to `triaged` at a new version.
 */
function reclassified(
  cr: ChangeRequest,
  ev: Extract<ChangeEvent, { readonly type: 'Reclassified' }>,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  if (!['submitted', 'triaged', 'awaiting_approval'].includes(cr.status))
    return err(E.invalidTransition(cr.status, describe(ev)));
  const decided = reclassify(cr.type, cr.changeClass, ev.to, ev.reason, ctx.roles, {
    overrides: ctx.rules.classOverrides,
    matchesActiveTemplate: ev.templateId !== undefined,
  });
  if (!decided.ok) return decided;
  const { templateId: _previous, ...withdrawn } = withdrawRound(cr);
  const status = cr.status === 'awaiting_approval' ? 'triaged' : cr.status;
  const next: ChangeRequest = {
    ...withdrawn,
    changeClass: ev.to,
    ...(ev.to === 'standard' && ev.templateId ? { templateId: ev.templateId } : {}),
    reclassification: {
      from: cr.changeClass,
      to: ev.to,
      reason: decided.value.reason,
      by: ctx.actor,
      at: ctx.now,
    },
  };
  return ok(
    step(
      next,
      ctx,
      status,
      'request.reclassified',
      {
        changeType: cr.type,
        fromClass: decided.value.from,
        toClass: decided.value.to,
        templateId: ev.templateId ?? null,
        withdrawnApprovalVersion: cr.approval ? cr.version : null,
      },
      decided.value.audit.personal,
      { version: cr.version + 1 },
    ),
  );
}

/**
 * The technician's assessment, with the risk they settled on against Cabinet's suggestion. It
 * changes what approvers decide on, so it bumps the version and withdraws any round in progress.
 */
function assessed(
  cr: ChangeRequest,
  ev: Extract<ChangeEvent, { readonly type: 'Assessed' }>,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  if (cr.status !== 'triaged' && cr.status !== 'awaiting_approval')
    return err(E.invalidTransition(cr.status, describe(ev)));
  const risk = overrideRisk(ev.suggestion, ev.assessment.risk, ev.overrideReason, ctx.roles);
  if (!risk.ok) return risk;
  const record: AssessmentRecord = {
    ...ev.assessment,
    suggestedRisk: ev.suggestion.level,
    signals: ev.suggestion.signals.map((x) => ({ code: x.code, detail: x.detail })),
    riskOverridden: risk.value.overridden,
    ...(ev.conflicts && ev.conflicts.length > 0
      ? { conflicts: ev.conflicts.map((c) => ({ kind: c.kind, message: c.message })) }
      : {}),
    by: ctx.actor,
    at: ctx.now,
  };
  const a = ev.assessment;
  return ok(
    step(
      { ...withdrawRound(cr), assessment: record },
      ctx,
      'triaged',
      'request.assessed',
      {
        impact: a.impact,
        risk: a.risk,
        suggestedRisk: ev.suggestion.level,
        riskOverride: risk.value.audit?.payload ?? null,
        affectedUsers: a.affectedUsers,
        sensitivity: [...a.sensitivity],
        dependencies: [...a.dependencies],
        windowStart: a.requestedWindow?.start ?? null,
        windowEnd: a.requestedWindow?.end ?? null,
        withdrawnApprovalVersion: cr.approval ? cr.version : null,
      },
      {
        affectedServices: [...a.affectedServices],
        implementationPlan: a.implementationPlan,
        testPlan: a.testPlan,
        rollbackPlan: a.rollbackPlan ?? null,
        ...(a.sensitivityOther ? { sensitivityOther: a.sensitivityOther } : {}),
        ...(risk.value.audit
          ? { overrideReason: risk.value.audit.personal['reason'] ?? null }
          : {}),
      },
      { version: cr.version + 1 },
    ),
  );
}

/**
 * Sends the current version for approval under `plan`. A pre-approved standard change is approved
 * at once; others need their assessment ready (rollback plan, window) and, for normal changes, a
 * slot inside the client's maintenance windows and outside blackout with the notice period ahead.
 */
function approvalRequested(
  cr: ChangeRequest,
  ev: Extract<ChangeEvent, { readonly type: 'ApprovalRequested' }>,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  if (cr.status !== 'triaged') return err(E.invalidTransition(cr.status, describe(ev)));
  if (!ctx.system && !isMspStaff(ctx.roles)) return err(E.notStaff());
  const plan = ev.plan;
  if (plan.version !== cr.version)
    return err(E.planMismatch(`it is for version ${plan.version}, not ${cr.version}`));
  if (plan.clientTenantId !== cr.tenantId) return err(E.planMismatch("it is another client's"));
  const expectedMode =
    cr.changeClass === 'emergency'
      ? 'emergency'
      : cr.changeClass === 'standard' && plan.templateId === cr.templateId && cr.templateId
        ? plan.mode
        : 'per_change';
  if (plan.mode !== expectedMode)
    return err(E.planMismatch(`a ${cr.changeClass} change cannot follow a ${plan.mode} plan`));

  if (plan.mode !== 'pre_approved') {
    if (!cr.assessment) return err(E.assessmentRequired());
    const ready = checkReadyForApproval(cr.assessment, cr.changeClass);
    if (!ready.ok) return ready;
    if (cr.changeClass !== 'emergency' && cr.assessment.requestedWindow) {
      const slot = checkSlotIfScheduled(cr.assessment.requestedWindow, cr.changeClass, ctx);
      if (!slot.ok) return slot;
    }
  }
  const approval = openApprovals(plan, ctx.now);
  const overQuota = cr.changeClass === 'emergency' && ev.overEmergencyQuota === true;
  const patch: Partial<ChangeRequest> = {
    approvalPlan: plan,
    approval,
    ...(overQuota ? { overEmergencyQuota: true } : {}),
  };
  if (plan.mode === 'pre_approved')
    return ok(
      step(
        cr,
        ctx,
        'approved',
        'approval.pre_approved',
        { templateId: plan.templateId ?? null },
        {},
        patch,
      ),
    );
  return ok(
    step(
      cr,
      ctx,
      'awaiting_approval',
      'approval.requested',
      {
        mode: plan.mode,
        risk: plan.risk,
        steps: plan.steps.map((s) => ({
          id: s.id,
          rule: s.rule.kind,
          required: s.rule.kind === 'quorum' ? s.rule.required : null,
          approverOids: s.approvers.map((p) => p.oid),
        })),
        overEmergencyQuota: overQuota,
      },
      {},
      patch,
    ),
  );
}

/**
 * One vote on the open step of the current round, or on an emergency's retrospective approval.
 * @remarks Who may vote is checked before anything about the state (by `recordDecision`); the same
 * vote twice is refused as `APPROVAL.DUPLICATE_VOTE`, which callers treat as "already recorded".
 */
function voteCast(
  cr: ChangeRequest,
  ev: Extract<ChangeEvent, { readonly type: 'VoteCast' }>,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  const retrospective = cr.status === 'review_pending';
  const round = retrospective ? cr.retrospective : cr.approval;
  if (!round) return err(E.invalidTransition(cr.status, describe(ev)));
  const decision = { ...ev.decision, by: ctx.actor, at: ctx.now };
  const recorded = recordDecision(round, decision, ev.delegations, ctx.now);
  if (!recorded.ok) return recorded;
  const { next: settled, events } = recorded.value;
  const counted = events.find(
    (e): e is Extract<ApprovalEvent, { type: 'VoteCounted' }> => e.type === 'VoteCounted',
  );
  if (!counted) {
    const mine = round.steps
      .find((s) => s.id === decision.step)
      ?.votes.find((v) => samePerson(v.by, ctx.actor));
    return err(ApprovalErrors.duplicateVote(decision.step, mine?.outcome ?? decision.outcome));
  }
  if (cr.status !== 'awaiting_approval' && !retrospective)
    return err(E.invalidTransition(cr.status, describe(ev)));

  const vote = settled.steps.find((s) => s.id === decision.step)!.votes.at(-1)!;
  const payload: JsonObject = {
    step: decision.step,
    outcome: vote.outcome,
    approvalVersion: vote.version,
    cardHash: vote.cardHash ?? null,
    seatOid: vote.seat.oid,
    delegationId: vote.delegationId ?? null,
    opened: events.filter((e) => e.type === 'StepOpened').map((e) => e.step),
    settled: settled.status,
  };
  const personal: JsonObject = vote.reason ? { reason: vote.reason } : {};

  if (retrospective) {
    const closes = settled.status !== 'pending' && cr.review !== undefined;
    const type = settled.status === 'pending' ? 'approval.vote' : 'approval.retrospective_decided';
    return ok(
      step(cr, ctx, closes ? 'closed' : 'review_pending', type, payload, personal, {
        retrospective: settled,
        ...(closes ? { closure: closureFrom(cr.review, ctx) } : {}),
      }),
    );
  }
  if (settled.status === 'approved')
    return ok(
      step(cr, ctx, 'approved', 'approval.granted', payload, personal, { approval: settled }),
    );
  if (settled.status === 'denied')
    return ok(step(cr, ctx, 'denied', 'approval.denied', payload, personal, { approval: settled }));
  return ok(
    step(cr, ctx, 'awaiting_approval', 'approval.vote', payload, personal, { approval: settled }),
  );
}

/**
 * The post-implementation review (issue 4 §6). It closes an implemented or failed change; an
 * emergency in `review_pending` closes once its retrospective approval is settled too.
 */
function reviewFiled(
  cr: ChangeRequest,
  review: PostImplementationReview,
  ctx: TransitionContext,
): Result<Transition, DomainError> {
  const allowed: readonly ChangeStatus[] = [
    'implemented',
    'review_pending',
    'failed',
    'closed',
    'rolled_back',
  ];
  if (!allowed.includes(cr.status)) return err(E.invalidTransition(cr.status, 'reviewed'));
  if (!isMspStaff(ctx.roles)) return err(E.notStaff());
  if (cr.review) return err(E.alreadyReviewed());
  const succeeded = review.outcome === 'successful' || review.outcome === 'successful_with_issues';
  const fits =
    cr.status === 'implemented' || cr.status === 'review_pending'
      ? succeeded
      : cr.status === 'failed'
        ? review.outcome === 'failed'
        : cr.status === 'rolled_back'
          ? review.outcome === 'rolled_back'
          : review.outcome === cr.closure?.outcome;
  if (!fits) return err(E.outcomeContradicts(cr.status, review.outcome));
  const filed = { ...review, by: ctx.actor, at: ctx.now };
  const closes =
    cr.status === 'implemented' ||
    cr.status === 'failed' ||
    (cr.status === 'review_pending' && cr.retrospective?.status !== 'pending');
  const record = reviewAuditRecord(review);
  return ok(
    step(cr, ctx, closes ? 'closed' : cr.status, 'review.filed', record.payload, record.personal, {
      review: filed,
      ...(closes ? { closure: closureFrom(filed, ctx) } : {}),
    }),
  );
}

function closureFrom(review: PostImplementationReview, ctx: TransitionContext) {
  return {
    outcome: review.outcome,
    notes: review.unexpectedImpacts ?? '',
    by: ctx.actor,
    at: ctx.now,
  };
}

/**
 * in_progress → implemented; an emergency goes to `review_pending` instead, with the client's
 * retrospective approval opened and its review due in the client's N business days.
 */
function implemented(
  cr: ChangeRequest,
  ctx: TransitionContext,
  payload: JsonObject,
  personal: JsonObject,
): Transition {
  const retrospective =
    cr.changeClass === 'emergency' && cr.approvalPlan
      ? openRetrospective(cr.approvalPlan, cr.version, ctx.now)
      : undefined;
  if (!retrospective) return step(cr, ctx, 'implemented', 'work.implemented', payload, personal);
  const reviewDueAt = addBusinessDays(ctx.now, ctx.rules.reviewDueBusinessDays, ctx.rules.timeZone);
  return step(
    cr,
    ctx,
    'review_pending',
    'work.implemented',
    {
      ...payload,
      reviewDueAt,
      retrospectiveApproverOids: retrospective.steps[0]!.approvers.map((p) => p.oid),
    },
    personal,
    { retrospective, reviewDueAt },
  );
}

/**
 * Work may start now only inside the change's window (its scheduled slot, or from now when it has
 * none) and outside blackout, unless it is an emergency (issue 4 §5). Returns the waived refusals.
 */
function checkWorkWindow(cr: ChangeRequest, ctx: TransitionContext): Result<string[], DomainError> {
  if (!ctx.rules.windowsConfigured && ctx.rules.schedule.blackouts.length === 0) return ok([]);
  const booked = cr.assessment?.requestedWindow;
  const now = Date.parse(ctx.now);
  if (booked && cr.changeClass !== 'emergency') {
    if (now < Date.parse(booked.start)) return err(E.beforeWindow(booked.start));
    if (now >= Date.parse(booked.end)) return err(E.windowPassed(booked.end));
  }
  // From now to the end of the booked slot (or the next minute when none was booked).
  const slot: Slot = {
    start: ctx.now,
    end: booked && now < Date.parse(booked.end) ? booked.end : new Date(now + 60_000).toISOString(),
  };
  const checked = checkExecutionSlot(bookableSchedule(ctx.rules), slot, cr.changeClass, ctx.now);
  return checked.ok ? ok(checked.value.waived.map((w) => w.code)) : checked;
}

function checkSlotIfScheduled(
  slot: Slot,
  changeClass: ChangeClass,
  ctx: TransitionContext,
): Result<unknown, DomainError> {
  if (!ctx.rules.windowsConfigured && ctx.rules.schedule.blackouts.length === 0) return ok(slot);
  return checkScheduledSlot(bookableSchedule(ctx.rules), slot, changeClass, ctx.now);
}

/** Withdraws a round in progress: its votes were for content that is about to change. */
function withdrawRound(cr: ChangeRequest): ChangeRequest {
  if (cr.status !== 'awaiting_approval') return cr;
  const { approval: _a, approvalPlan: _p, ...rest } = cr;
  return rest;
}

function holdsOpenSeat(round: ApprovalState | undefined, who: Person): boolean {
  const open = round?.steps.find((s) => s.status === 'open');
  return open?.approvers.some((a) => samePerson(a, who)) ?? false;
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
      return ok(implemented(cr, ctx, { runId: ev.runId }, {}));
    case 'ExecutionFailed':
      if (cr.status !== 'in_progress') return err(E.invalidTransition(cr.status, describe(ev)));
      return failedStep(cr, ctx, ev.reason, { runId: ev.runId });
    case 'RollbackCompleted':
      if (!['implemented', 'review_pending', 'failed'].includes(cr.status))
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

/** Text a person must write (a question, an answer): trimmed, non-empty, bounded. */
function requiredText(raw: string, what: string, field: string): Result<string, DomainError> {
  const text = raw.trim();
  if (text.length === 0) return err(E.textRequired(field, what));
  return text.length > NOTE_MAX ? err(E.textTooLong(field, NOTE_MAX)) : ok(text);
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

/** True when the current version is approved (every step settled, or pre-approved): the gate for any execution. */
export function hasCurrentApproval(cr: ChangeRequest): boolean {
  return cr.approval?.status === 'approved' && cr.approval.version === cr.version;
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
  const next: ChangeRequest = { ...cr, ...patch, status, updatedAt: ctx.now };
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
    case 'Reclassified':
      return 'reclassified';
    case 'Assessed':
      return 'assessed';
    case 'ApprovalRequested':
      return 'sent for approval';
    case 'VoteCast':
      return 'decided';
    case 'InfoRequested':
      return 'asked for more information';
    case 'InfoProvided':
      return 'answered';
    case 'ReviewFiled':
      return 'reviewed';
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
