import { strict as assert } from 'node:assert';
import type { ClientApprovalPolicy } from '../../../src/domain/approval/approval-policy';
import type { Delegation } from '../../../src/domain/approval/delegation.policy';
import { SYSTEM_OID, type AuditEvent } from '../../../src/domain/audit/audit-event';
import type { ChangeClass } from '../../../src/domain/change-request/change-class';
import type {
  ChangeRequest,
  ChangeStatus,
  Person,
} from '../../../src/domain/change-request/change-request';
import {
  createChangeRequest,
  hasCurrentApproval,
  transition,
  type ChangeEvent,
  type TransitionContext,
} from '../../../src/domain/change-request/change-request.machine';
import {
  NOTE_MAX,
  type ChangeType,
} from '../../../src/domain/change-request/change-request.payloads';
import type { ClientProfile } from '../../../src/domain/client/client';
import { rulesFor } from '../../../src/domain/client/client-rules';
import type { ScheduleSettings } from '../../../src/domain/schedule/schedule';
import type { DomainError } from '../../../src/domain/shared/errors';
import { formatRequestId } from '../../../src/domain/shared/ids';
import {
  CONTOSO_TENANT_ID,
  NOW,
  SUCCESSFUL_REVIEW,
  applyAll,
  assessedEvent,
  contextFor,
  contosoProfile,
  people,
  planFor,
  requestAt,
  submitted,
  validAssessment,
  validInput,
  voteEvent,
  type PathStatus,
} from '../../support/fixtures';

const sut = transition;

/** The refusal, or a test failure if the event was accepted. */
function refusal(cr: ChangeRequest, event: ChangeEvent, ctx: TransitionContext): DomainError {
  const result = sut(cr, event, ctx);
  assert.equal(
    result.ok,
    false,
    `${event.type} by ${ctx.actor.name} in ${cr.status} should be refused`,
  );
  if (result.ok) throw new Error('unreachable');
  return result.error;
}

function accepted(
  cr: ChangeRequest,
  event: ChangeEvent,
  ctx: TransitionContext,
): { next: ChangeRequest; audit: AuditEvent } {
  const result = sut(cr, event, ctx);
  if (!result.ok)
    assert.fail(
      `${event.type} by ${ctx.actor.name} in ${cr.status} was refused: ${result.error.code} ${result.error.message}`,
    );
  return result.value;
}

const actorOf = (p: Person) => ({ tid: p.tid, oid: p.oid });
const tech = (profile?: ClientProfile) => contextFor(people.tina, profile ? { profile } : {});
const lead = () => contextFor(people.lena);
const system = (cr: ChangeRequest, profile?: ClientProfile) =>
  contextFor(cr.requester, { system: true, ...(profile ? { profile } : {}) });
/** A vote by `who` on the open step, in `who`'s own context. */
const vote = (
  cr: ChangeRequest,
  who: Person,
  outcome: 'approved' | 'denied' = 'approved',
  options: Parameters<typeof voteEvent>[3] = {},
) => sut(cr, voteEvent(cr, who, outcome, options), contextFor(who));

const LATER = '2026-11-23T11:00:00.000Z';
const REASON = 'The client asked for extra care because payroll runs this week';

const NON_TERMINAL_PATH: readonly PathStatus[] = [
  'submitted',
  'triaged',
  'awaiting_approval',
  'approved',
  'in_progress',
  'implemented',
  'failed',
];

/** A fresh Contoso request of `changeClass` (the fixtures' `submitted` makes normal ones). */
function submittedAs(
  changeClass: ChangeClass,
  options: { readonly type?: ChangeType; readonly templateId?: string } = {},
): ChangeRequest {
  return createChangeRequest(validInput(options.type ?? 'general'), {
    id: formatRequestId(contosoProfile().code, 7),
    number: 7,
    tenantId: CONTOSO_TENANT_ID,
    clientCode: contosoProfile().code,
    requester: people.carla,
    source: 'teams',
    changeClass,
    ...(options.templateId ? { templateId: options.templateId } : {}),
    now: NOW,
    rules: rulesFor(contosoProfile()),
  }).next;
}

/** Triaged, assessed and sent for approval under `profile`'s policy. */
function awaitingUnder(profile: ClientProfile, cr: ChangeRequest = submitted().request) {
  const triaged = applyAll(cr, [[{ type: 'Triaged' }, system(cr, profile)]]).request;
  const assessed = applyAll(triaged, [
    [assessedEvent(triaged, validAssessment(), profile), tech(profile)],
  ]).request;
  return applyAll(assessed, [
    [{ type: 'ApprovalRequested', plan: planFor(assessed, profile) }, system(assessed, profile)],
  ]).request;
}

/** An emergency change approved by the MSP lead and implemented: `review_pending`. */
function emergencyImplemented(): ChangeRequest {
  const approved = emergencyApproved();
  return applyAll(approved, [
    [{ type: 'WorkStarted' }, tech()],
    [{ type: 'ImplementationCompleted', notes: 'Locked the account' }, tech()],
  ]).request;
}

function emergencyApproved(): ChangeRequest {
  const awaiting = awaitingUnder(contosoProfile(), submittedAs('emergency'));
  return applyAll(awaiting, [[voteEvent(awaiting, people.lena), lead()]]).request;
}

const policy = (steps: ClientApprovalPolicy['steps']): ClientApprovalPolicy => ({
  steps,
  mspGate: false,
  sensitiveApprovers: [],
  timing: { remindAfterHours: 24, escalateAfterHours: 48 },
});

/** Contoso with a client step (Andy or Avery) then a CAB of Lena, Theo and Sam voting 2 of 3. */
const cabProfile = contosoProfile({
  settings: {
    timeZone: 'Europe/London',
    approvalPolicy: policy([
      {
        id: 'client',
        name: 'Client approval',
        side: 'client',
        approvers: [people.andy, people.avery],
        rule: { kind: 'any_of' },
      },
      {
        id: 'cab',
        name: 'CAB',
        side: 'cab',
        approvers: [people.lena, people.theo, people.sam],
        rule: { kind: 'quorum', required: 2 },
      },
    ]),
  },
});
const inCab = (who: Person) => contextFor(who, { profile: cabProfile });

/** Contoso with maintenance windows on Tuesday and Thursday evenings, London time. */
const windowedSchedule: ScheduleSettings = {
  timeZone: 'Europe/London',
  maintenanceWindows: [
    {
      kind: 'weekly',
      id: 'evenings',
      name: 'Tue/Thu evenings',
      days: ['tue', 'thu'],
      start: '18:00',
      durationMinutes: 300,
    },
  ],
  blackouts: [],
  noticeHours: 48,
  emergencyExempt: true,
};
const windowedProfile = contosoProfile({
  settings: { timeZone: 'Europe/London', schedule: windowedSchedule },
});
/** Thursday 26 November 2026, 18:00–20:00 London (UTC in winter): inside the window. */
const IN_WINDOW = { start: '2026-11-26T18:00:00.000Z', end: '2026-11-26T20:00:00.000Z' };

describe(createChangeRequest.name, () => {
  it('creates a submitted normal change at version 1 with one request.submitted event by the requester', () => {
    const { request, audit } = submitted({ type: 'new_user' });
    assert.equal(request.id, 'CONTOSO-1');
    assert.equal(request.status, 'submitted');
    assert.equal(request.changeClass, 'normal');
    assert.equal(request.version, 1);
    assert.equal(audit.type, 'request.submitted');
    assert.deepEqual(audit.actor, actorOf(people.carla));
    assert.equal(audit.requestId, 'CONTOSO-1');
    assert.equal(audit.payload['changeClass'], 'normal');
  });

  it('keeps the title, description, form details and names out of the clear audit payload', () => {
    const input = validInput('new_user', {
      title: 'Onboard Jane Doe',
      description: 'Jane starts in Finance',
    });
    const created = createChangeRequest(input, {
      id: request1Id,
      number: 1,
      tenantId: people.carla.tid,
      clientCode: contosoProfile().code,
      requester: people.tina,
      onBehalfOf: people.carla,
      source: 'msp',
      changeClass: 'normal',
      now: NOW,
      rules: rulesFor(contosoProfile()),
    });
    const clear = JSON.stringify(created.audit.payload);
    for (const secret of [
      'Onboard Jane Doe',
      'Jane starts in Finance',
      'jane.doe@contoso.example',
      'Jane',
      people.tina.name,
      people.carla.name,
    ]) {
      assert.ok(!clear.includes(secret), `${secret} leaked into ${clear}`);
    }
    assert.deepEqual(created.audit.personal, {
      title: 'Onboard Jane Doe',
      description: 'Jane starts in Finance',
      details: input.payload,
      requester: people.tina.name,
      onBehalfOf: people.carla.name,
    });
  });
});

const request1Id = submitted().request.id;

describe(transition.name, () => {
  describe('normal path', () => {
    it('goes submitted → triaged → (assessed) → awaiting_approval → approved → in_progress → implemented → closed by review, one audit event per step', () => {
      const start = submitted().request;
      const steps: [
        (cr: ChangeRequest) => ChangeEvent,
        TransitionContext,
        ChangeStatus,
        AuditEvent['type'],
        { tid: string; oid: string },
      ][] = [
        [() => ({ type: 'Triaged' }), tech(), 'triaged', 'request.triaged', actorOf(people.tina)],
        [(cr) => assessedEvent(cr), tech(), 'triaged', 'request.assessed', actorOf(people.tina)],
        [
          (cr) => ({ type: 'ApprovalRequested', plan: planFor(cr) }),
          tech(),
          'awaiting_approval',
          'approval.requested',
          actorOf(people.tina),
        ],
        [
          (cr) => voteEvent(cr, people.andy, 'approved', { cardHash: 'c'.repeat(64) }),
          contextFor(people.andy),
          'approved',
          'approval.granted',
          actorOf(people.andy),
        ],
        [
          () => ({ type: 'WorkStarted' }),
          tech(),
          'in_progress',
          'work.started',
          actorOf(people.tina),
        ],
        [
          () => ({ type: 'ImplementationCompleted', notes: 'Created the account' }),
          tech(),
          'implemented',
          'work.implemented',
          actorOf(people.tina),
        ],
        [
          () => ({ type: 'ReviewFiled', review: SUCCESSFUL_REVIEW }),
          lead(),
          'closed',
          'review.filed',
          actorOf(people.lena),
        ],
      ];
      let cr = start;
      for (const [build, ctx, status, auditType, actor] of steps) {
        const { next, audit } = accepted(cr, build(cr), ctx);
        assert.equal(next.status, status);
        assert.ok(!Array.isArray(audit), 'a transition yields one audit event');
        assert.equal(audit.type, auditType);
        assert.deepEqual(audit.actor, actor);
        assert.equal(audit.requestId, start.id);
        assert.equal(audit.payload['from'], cr.status);
        assert.equal(audit.payload['status'], status);
        cr = next;
      }
      assert.equal(cr.version, 2, 'only the assessment (and edits) move the version');
      assert.deepEqual(cr.closure, { outcome: 'successful', notes: '', by: people.lena, at: NOW });
      assert.equal(cr.review?.outcome, 'successful');
      assert.deepEqual(cr.assignee, people.tina);
      const votes = cr.approval?.steps.flatMap((s) => s.votes) ?? [];
      assert.equal(votes.length, 1);
      assert.equal(votes[0]?.cardHash, 'c'.repeat(64));
      assert.deepEqual(votes[0]?.by, people.andy);
      assert.equal(votes[0]?.version, 2);
    });

    it('records Cabinet itself as the actor of system steps', () => {
      const cr = submitted().request;
      const { audit } = accepted(cr, { type: 'Triaged' }, system(cr));
      assert.deepEqual(audit.actor, { tid: people.carla.tid, oid: SYSTEM_OID });
    });

    it('refuses triage, assessment and sending for approval by client users', () => {
      const cr = submitted().request;
      assert.equal(refusal(cr, { type: 'Triaged' }, contextFor(people.carla)).code, 'CR.NOT_STAFF');
      const triaged = requestAt('triaged');
      assert.equal(
        refusal(triaged, assessedEvent(triaged), contextFor(people.carla)).code,
        'ASSESS.NOT_STAFF',
      );
      const assessed = accepted(triaged, assessedEvent(triaged), tech()).next;
      assert.equal(
        refusal(
          assessed,
          { type: 'ApprovalRequested', plan: planFor(assessed) },
          contextFor(people.andy),
        ).code,
        'CR.NOT_STAFF',
      );
    });

    it('binds the approval round to the current version and seats only same-tenant approvers who did not raise it', () => {
      const profile = contosoProfile({ approvers: [people.carla, people.andy, people.avery] });
      const cr = awaitingUnder(profile);
      assert.equal(cr.approval?.version, cr.version);
      assert.equal(cr.approvalPlan?.version, cr.version);
      assert.deepEqual(cr.approval?.steps[0]?.approvers, [people.andy, people.avery]);
      assert.equal(cr.approval?.steps[0]?.status, 'open');
    });

    it('skips steps out of order', () => {
      const sub = submitted().request;
      assert.equal(
        refusal(sub, { type: 'ApprovalRequested', plan: planFor(sub) }, tech()).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(refusal(sub, assessedEvent(sub), tech()).code, 'CR.INVALID_TRANSITION');
      assert.equal(
        refusal(
          requestAt('triaged'),
          voteEvent(requestAt('triaged'), people.andy),
          contextFor(people.andy),
        ).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(
        refusal(requestAt('approved'), { type: 'ImplementationCompleted' }, tech()).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(
        refusal(
          requestAt('in_progress'),
          { type: 'ReviewFiled', review: SUCCESSFUL_REVIEW },
          tech(),
        ).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(
        refusal(requestAt('approved'), { type: 'Triaged' }, tech()).code,
        'CR.INVALID_TRANSITION',
      );
      const approved = requestAt('approved');
      assert.equal(
        refusal(approved, assessedEvent(approved), tech()).code,
        'CR.INVALID_TRANSITION',
        'an approved change cannot be reassessed under its approval',
      );
    });

    it('lets only MSP staff do the work', () => {
      for (const who of [people.carla, people.andy, people.sam]) {
        assert.equal(
          refusal(requestAt('approved'), { type: 'WorkStarted' }, contextFor(who)).code,
          'CR.NOT_STAFF',
        );
        assert.equal(
          refusal(requestAt('in_progress'), { type: 'ImplementationCompleted' }, contextFor(who))
            .code,
          'CR.NOT_STAFF',
        );
        assert.equal(
          refusal(
            requestAt('implemented'),
            { type: 'ReviewFiled', review: SUCCESSFUL_REVIEW },
            contextFor(who),
          ).code,
          'CR.NOT_STAFF',
        );
      }
      const otherClientsTech = contextFor(people.theo);
      assert.equal(
        refusal(requestAt('approved'), { type: 'WorkStarted' }, otherClientsTech).code,
        'CR.NOT_STAFF',
      );
    });

    it('refuses closing a normal change without its review', () => {
      for (const outcome of ['successful', 'successful_with_issues'] as const) {
        const error = refusal(
          requestAt('implemented'),
          { type: 'Closed', outcome, notes: 'x' },
          tech(),
        );
        assert.equal(error.code, 'CR.REVIEW_REQUIRED');
        assert.deepEqual(error.details, { changeClass: 'normal' });
      }
      assert.equal(
        refusal(requestAt('failed'), { type: 'Closed', outcome: 'failed', notes: 'x' }, tech())
          .code,
        'CR.REVIEW_REQUIRED',
      );
    });

    it('refuses a review whose outcome contradicts what happened, and a second review', () => {
      assert.equal(
        refusal(
          requestAt('implemented'),
          { type: 'ReviewFiled', review: { ...SUCCESSFUL_REVIEW, outcome: 'failed' } },
          tech(),
        ).code,
        'CR.OUTCOME_CONTRADICTS',
      );
      const failedClosed = accepted(
        requestAt('failed'),
        { type: 'ReviewFiled', review: { ...SUCCESSFUL_REVIEW, outcome: 'failed' } },
        tech(),
      ).next;
      assert.equal(failedClosed.status, 'closed');
      assert.equal(failedClosed.closure?.outcome, 'failed');
      assert.equal(
        refusal(requestAt('closed'), { type: 'ReviewFiled', review: SUCCESSFUL_REVIEW }, tech())
          .code,
        'CR.ALREADY_REVIEWED',
      );
    });

    it(`refuses notes longer than ${NOTE_MAX} characters`, () => {
      const long = 'n'.repeat(NOTE_MAX + 1);
      assert.equal(
        refusal(requestAt('in_progress'), { type: 'ImplementationCompleted', notes: long }, tech())
          .code,
        'CR.TEXT_TOO_LONG',
      );
    });
  });

  describe('standard changes', () => {
    const standard = () =>
      submittedAs('standard', { type: 'licence_change', templateId: 'tpl-licence' });

    it('are approved at once under their active template, then close with Closed', () => {
      const cr = standard();
      const triaged = accepted(cr, { type: 'Triaged' }, system(cr)).next;
      const plan = planFor(triaged);
      assert.equal(plan.mode, 'pre_approved');
      const { next, audit } = accepted(
        triaged,
        { type: 'ApprovalRequested', plan },
        system(triaged),
      );
      assert.equal(next.status, 'approved');
      assert.equal(audit.type, 'approval.pre_approved');
      assert.equal(audit.payload['templateId'], 'tpl-licence');
      assert.ok(hasCurrentApproval(next));
      const done = applyAll(next, [
        [{ type: 'WorkStarted' }, tech()],
        [{ type: 'ImplementationCompleted' }, tech()],
        [{ type: 'Closed', outcome: 'successful', notes: ' all fine ' }, tech()],
      ]).request;
      assert.equal(done.status, 'closed');
      assert.equal(done.closure?.notes, 'all fine');
    });

    it('still refuses closing an implemented standard change as failed or rolled back', () => {
      const cr = standard();
      const implemented = applyAll(cr, [
        [{ type: 'Triaged' }, system(cr)],
        [{ type: 'ApprovalRequested', plan: planFor({ ...cr, status: 'triaged' }) }, system(cr)],
        [{ type: 'WorkStarted' }, tech()],
        [{ type: 'ImplementationCompleted' }, tech()],
      ]).request;
      for (const outcome of ['failed', 'rolled_back'] as const)
        assert.equal(
          refusal(implemented, { type: 'Closed', outcome, notes: 'x' }, tech()).code,
          'CR.INVALID_TRANSITION',
        );
    });
  });

  describe('Assessed', () => {
    it('records the assessment and Cabinet suggestion, bumps the version, and stays triaged', () => {
      const cr = requestAt('triaged');
      const event = assessedEvent(cr);
      const { next, audit } = accepted(cr, event, tech());
      assert.equal(next.status, 'triaged');
      assert.equal(next.version, cr.version + 1);
      assert.equal(next.assessment?.riskOverridden, false);
      assert.deepEqual(next.assessment?.by, people.tina);
      assert.equal(audit.type, 'request.assessed');
      assert.equal(audit.payload['version'], cr.version + 1);
      assert.equal(audit.payload['riskOverride'], null);
      assert.equal(audit.payload['withdrawnApprovalVersion'], null);
      assert.ok(
        !JSON.stringify(audit.payload).includes('admin centre'),
        'plans are free text: sealed, not clear',
      );
      assert.match(audit.personal?.['implementationPlan'] as string, /admin centre/);
    });

    it('withdraws a round in progress: back to triaged, votes gone, old cards stale', () => {
      const cr = requestAt('awaiting_approval');
      const { next, audit } = accepted(cr, assessedEvent(cr), tech());
      assert.equal(next.status, 'triaged');
      assert.equal(next.version, cr.version + 1);
      assert.equal(next.approval, undefined);
      assert.equal(next.approvalPlan, undefined);
      assert.equal(audit.payload['withdrawnApprovalVersion'], cr.version);
      assert.equal(
        refusal(next, voteEvent(cr, people.andy), contextFor(people.andy)).code,
        'CR.INVALID_TRANSITION',
      );
    });

    it('needs a reason to choose another risk than Cabinet suggested, and audits the override', () => {
      const cr = requestAt('triaged');
      const suggested = assessedEvent(cr);
      assert.equal(suggested.type, 'Assessed');
      if (suggested.type !== 'Assessed') return;
      const higher = {
        ...suggested,
        assessment: { ...suggested.assessment, risk: 'high' as const },
      };
      for (const overrideReason of [undefined, '', '  '])
        assert.equal(
          refusal(
            cr,
            { ...higher, ...(overrideReason !== undefined ? { overrideReason } : {}) },
            tech(),
          ).code,
          'ASSESS.REASON_REQUIRED',
        );
      assert.equal(
        refusal(cr, { ...higher, overrideReason: 'n/a' }, tech()).code,
        'ASSESS.REASON_TOO_VAGUE',
      );
      const { next, audit } = accepted(cr, { ...higher, overrideReason: REASON }, tech());
      assert.equal(next.assessment?.risk, 'high');
      assert.equal(next.assessment?.suggestedRisk, suggested.suggestion.level);
      assert.equal(next.assessment?.riskOverridden, true);
      assert.deepEqual(audit.payload['riskOverride'], {
        suggested: suggested.suggestion.level,
        chosen: 'high',
        score: suggested.suggestion.score,
        signals: suggested.suggestion.signals.map((s) => s.code),
      });
      assert.equal(audit.personal?.['overrideReason'], REASON);
      assert.ok(!JSON.stringify(audit.payload).includes(REASON));
    });

    it('never lets a sensitive change go below its risk floor', () => {
      const cr = requestAt('triaged');
      const event = assessedEvent(cr, validAssessment({ sensitivity: ['admin_roles'] }));
      if (event.type !== 'Assessed') return assert.fail('not an Assessed event');
      assert.equal(
        refusal(
          cr,
          { ...event, assessment: { ...event.assessment, risk: 'low' }, overrideReason: REASON },
          tech(),
        ).code,
        'ASSESS.BELOW_RISK_FLOOR',
      );
    });
  });

  describe('Reclassified', () => {
    const to = (changeClass: ChangeClass, templateId?: string): ChangeEvent => ({
      type: 'Reclassified',
      to: changeClass,
      reason: 'Mailbox compromised, the client asked for an immediate fix',
      ...(templateId ? { templateId } : {}),
    });

    it('makes an eligible type an emergency, audited with its reason sealed', () => {
      const cr = requestAt('triaged');
      const { next, audit } = accepted(cr, to('emergency'), tech());
      assert.equal(next.changeClass, 'emergency');
      assert.equal(next.status, 'triaged');
      assert.equal(next.version, cr.version + 1);
      assert.equal(audit.type, 'request.reclassified');
      assert.equal(audit.payload['status'], 'triaged');
      assert.equal(audit.payload['from'], 'triaged', 'the status it was reclassified in');
      assert.equal(audit.payload['fromClass'], 'normal');
      assert.equal(audit.payload['toClass'], 'emergency');
      assert.match(audit.personal?.['reason'] as string, /Mailbox compromised/);
      assert.equal(
        next.reclassification?.reason,
        'Mailbox compromised, the client asked for an immediate fix',
      );
      assert.ok(!JSON.stringify(audit.payload).includes('Mailbox'));
    });

    it('refuses emergency for a type that is not eligible, unless the client made it eligible', () => {
      const cr = requestAt('triaged', { type: 'new_user' });
      assert.equal(refusal(cr, to('emergency'), tech()).code, 'ASSESS.EMERGENCY_NOT_ELIGIBLE');
      const eligible = contosoProfile({
        settings: {
          timeZone: 'Europe/London',
          classOverrides: { new_user: { emergencyEligible: true } },
        },
      });
      assert.equal(accepted(cr, to('emergency'), tech(eligible)).next.changeClass, 'emergency');
    });

    it('makes a change standard only with an active template', () => {
      const cr = requestAt('triaged');
      assert.equal(refusal(cr, to('standard'), tech()).code, 'ASSESS.STANDARD_NEEDS_TEMPLATE');
      const { next, audit } = accepted(cr, to('standard', 'tpl-general'), tech());
      assert.equal(next.changeClass, 'standard');
      assert.equal(next.templateId, 'tpl-general');
      assert.equal(audit.payload['templateId'], 'tpl-general');
    });

    it('withdraws a round in progress', () => {
      const cr = requestAt('awaiting_approval');
      const { next, audit } = accepted(cr, to('emergency'), tech());
      assert.equal(next.status, 'triaged');
      assert.equal(next.approval, undefined);
      assert.equal(next.approvalPlan, undefined);
      assert.equal(next.version, cr.version + 1);
      assert.equal(audit.payload['withdrawnApprovalVersion'], cr.version);
    });

    it('is for MSP staff only, needs a real reason, and not once approved', () => {
      const cr = requestAt('triaged');
      assert.equal(refusal(cr, to('emergency'), contextFor(people.carla)).code, 'ASSESS.NOT_STAFF');
      assert.equal(
        refusal(cr, { type: 'Reclassified', to: 'emergency', reason: 'test' }, tech()).code,
        'ASSESS.REASON_TOO_VAGUE',
      );
      assert.equal(refusal(cr, to('normal'), tech()).code, 'ASSESS.SAME_CLASS');
      assert.equal(
        refusal(requestAt('approved'), to('emergency'), tech()).code,
        'CR.INVALID_TRANSITION',
      );
    });
  });

  describe('ApprovalRequested', () => {
    it('needs an assessment first', () => {
      const cr = requestAt('triaged');
      assert.equal(
        refusal(cr, { type: 'ApprovalRequested', plan: planFor(cr) }, system(cr)).code,
        'CR.ASSESSMENT_REQUIRED',
      );
    });

    for (const changeClass of ['normal', 'emergency'] as const) {
      it(`needs a rollback plan for a ${changeClass} change`, () => {
        const cr = applyAll(submittedAs(changeClass), [[{ type: 'Triaged' }, tech()]]).request;
        const { rollbackPlan: _none, ...withoutRollback } = validAssessment();
        const assessed = accepted(cr, assessedEvent(cr, withoutRollback), tech()).next;
        assert.equal(
          refusal(assessed, { type: 'ApprovalRequested', plan: planFor(assessed) }, tech()).code,
          'ASSESS.ROLLBACK_PLAN_REQUIRED',
        );
      });
    }

    it('needs a window for a normal change', () => {
      const cr = requestAt('triaged');
      const { requestedWindow: _none, ...unscheduled } = validAssessment();
      const assessed = accepted(cr, assessedEvent(cr, unscheduled), tech()).next;
      assert.equal(
        refusal(assessed, { type: 'ApprovalRequested', plan: planFor(assessed) }, tech()).code,
        'ASSESS.WINDOW_REQUIRED',
      );
    });

    it("refuses a plan for another version, another client, or another class's path", () => {
      const cr = accepted(requestAt('triaged'), assessedEvent(requestAt('triaged')), tech()).next;
      const plan = planFor(cr);
      const cases: [string, ChangeRequest['approvalPlan']][] = [
        ['old version', { ...plan, version: cr.version - 1 }],
        ['other client', { ...plan, clientTenantId: people.fiona.tid }],
        ['emergency plan', planFor({ ...cr, changeClass: 'emergency' })],
        [
          'pre-approved plan',
          planFor({ ...cr, changeClass: 'standard', templateId: 'tpl-general' }),
        ],
      ];
      for (const [what, wrong] of cases) {
        const error = refusal(cr, { type: 'ApprovalRequested', plan: wrong! }, tech());
        assert.equal(error.code, 'CR.APPROVAL_PLAN_MISMATCH', what);
      }
    });

    it('refuses a normal change scheduled outside the maintenance windows or at short notice', () => {
      const cr = submitted().request;
      const triaged = applyAll(cr, [[{ type: 'Triaged' }, tech(windowedProfile)]]).request;
      const outside = accepted(
        triaged,
        assessedEvent(triaged, validAssessment(), windowedProfile),
        tech(windowedProfile),
      ).next;
      const error = refusal(
        outside,
        { type: 'ApprovalRequested', plan: planFor(outside, windowedProfile) },
        tech(windowedProfile),
      );
      assert.equal(error.code, 'SCHED.SLOT_REFUSED');
      assert.ok((error.details['codes'] as string[]).includes('SCHED.OUTSIDE_WINDOW'));
      const inside = accepted(
        triaged,
        assessedEvent(triaged, validAssessment({ requestedWindow: IN_WINDOW }), windowedProfile),
        tech(windowedProfile),
      ).next;
      assert.equal(
        accepted(
          inside,
          { type: 'ApprovalRequested', plan: planFor(inside, windowedProfile) },
          tech(windowedProfile),
        ).next.status,
        'awaiting_approval',
      );
    });

    it('sends an emergency to the MSP lead and names the client contacts to notify', () => {
      const cr = awaitingUnder(contosoProfile(), submittedAs('emergency'));
      assert.equal(cr.status, 'awaiting_approval');
      assert.equal(cr.approvalPlan?.mode, 'emergency');
      assert.deepEqual(
        cr.approval?.steps.map((s) => s.id),
        ['emergency_lead'],
      );
      assert.deepEqual(cr.approval?.steps[0]?.approvers, [people.lena]);
      assert.deepEqual(cr.approvalPlan?.notify, [people.andy, people.avery]);
      assert.equal(
        refusal(cr, voteEvent(cr, people.andy), contextFor(people.andy)).code,
        'CR.NOT_AN_APPROVER',
        'the client approves an emergency afterwards, not before',
      );
    });
  });

  describe('VoteCast', () => {
    it('denies with a reason only, ending the request denied with one approval.denied event', () => {
      for (const reason of ['', '   \n'])
        assert.equal(
          refusal(
            requestAt('awaiting_approval'),
            voteEvent(requestAt('awaiting_approval'), people.avery, 'denied', { reason }),
            contextFor(people.avery),
          ).code,
          'CR.REASON_REQUIRED',
        );
      const cr = requestAt('awaiting_approval');
      assert.equal(
        refusal(
          cr,
          voteEvent(cr, people.avery, 'denied', { reason: 'r'.repeat(NOTE_MAX + 1) }),
          contextFor(people.avery),
        ).code,
        'CR.TEXT_TOO_LONG',
      );
      const { next, audit } = accepted(
        cr,
        voteEvent(cr, people.avery, 'denied', { reason: ' Not this quarter ' }),
        contextFor(people.avery),
      );
      assert.equal(next.status, 'denied');
      assert.equal(next.approval?.status, 'denied');
      const cast = next.approval?.steps[0]?.votes[0];
      assert.equal(cast?.outcome, 'denied');
      assert.equal(cast?.reason, 'Not this quarter');
      assert.deepEqual(cast?.by, people.avery);
      assert.equal(audit.type, 'approval.denied');
      assert.deepEqual(audit.actor, actorOf(people.avery));
      assert.deepEqual(audit.personal, { reason: 'Not this quarter' });
    });

    it('goes through the steps in order: the client step opens the CAB, whose quorum approves', () => {
      const cr = awaitingUnder(cabProfile);
      assert.deepEqual(
        cr.approval?.steps.map((s) => [s.id, s.status]),
        [
          ['client', 'open'],
          ['cab', 'waiting'],
        ],
      );
      const early = refusal(
        cr,
        {
          type: 'VoteCast',
          decision: { ...decisionOf(voteEvent(cr, people.lena)), step: 'cab' },
          delegations: [],
        },
        inCab(people.lena),
      );
      assert.equal(early.code, 'APPROVAL.STEP_NOT_OPEN');

      const afterClient = accepted(cr, voteEvent(cr, people.andy), inCab(people.andy));
      assert.equal(afterClient.next.status, 'awaiting_approval');
      assert.equal(afterClient.audit.type, 'approval.vote');
      assert.deepEqual(afterClient.audit.payload['opened'], ['cab']);
      assert.equal(afterClient.next.approval?.steps[1]?.status, 'open');

      const one = accepted(
        afterClient.next,
        voteEvent(afterClient.next, people.lena),
        inCab(people.lena),
      );
      assert.equal(one.next.status, 'awaiting_approval', 'one CAB vote of the two needed');
      assert.equal(one.audit.type, 'approval.vote');
      assert.equal(one.audit.payload['settled'], 'pending');

      const two = accepted(one.next, voteEvent(one.next, people.theo), inCab(people.theo));
      assert.equal(two.next.status, 'approved');
      assert.equal(two.audit.type, 'approval.granted');
      assert.ok(hasCurrentApproval(two.next));
    });

    it('denies once the CAB can no longer reach its quorum', () => {
      const cr = awaitingUnder(cabProfile);
      const open = applyAll(cr, [[voteEvent(cr, people.andy), inCab(people.andy)]]).request;
      const one = accepted(
        open,
        voteEvent(open, people.sam, 'denied', { reason: 'Clashes with the audit' }),
        inCab(people.sam),
      ).next;
      assert.equal(one.status, 'awaiting_approval');
      const two = accepted(
        one,
        voteEvent(one, people.theo, 'denied', { reason: 'Agree with Sam' }),
        inCab(people.theo),
      );
      assert.equal(two.next.status, 'denied');
      assert.equal(two.audit.type, 'approval.denied');
    });

    it('refuses the same vote twice as APPROVAL.DUPLICATE_VOTE and a changed vote as already voted', () => {
      const cr = awaitingUnder(cabProfile);
      const open = applyAll(cr, [[voteEvent(cr, people.andy), inCab(people.andy)]]).request;
      const once = accepted(open, voteEvent(open, people.lena), inCab(people.lena)).next;
      const again = refusal(once, voteEvent(once, people.lena), inCab(people.lena));
      assert.equal(again.code, 'APPROVAL.DUPLICATE_VOTE');
      assert.deepEqual(again.details, { step: 'cab', outcome: 'approved' });
      assert.equal(
        refusal(
          once,
          voteEvent(once, people.lena, 'denied', { reason: 'Changed my mind' }),
          inCab(people.lena),
        ).code,
        'APPROVAL.ALREADY_VOTED',
      );
      const approved = requestAt('approved');
      const settledVote = voteEvent(requestAt('awaiting_approval'), people.andy);
      assert.equal(
        refusal(approved, settledVote, contextFor(people.andy)).code,
        'APPROVAL.DUPLICATE_VOTE',
      );
      assert.equal(
        refusal(
          approved,
          voteEvent(requestAt('awaiting_approval'), people.avery),
          contextFor(people.avery),
        ).code,
        'CR.ALREADY_DECIDED',
      );
    });

    it("records a delegate's vote in the seat holder's name, naming both", () => {
      const cr = requestAt('awaiting_approval');
      const delegation: Delegation = {
        id: 'dg-1',
        from: people.andy,
        to: people.sam,
        clientTenantId: CONTOSO_TENANT_ID,
        riskCeiling: 'high',
        validFrom: '2026-11-20T00:00:00.000Z',
        validUntil: '2026-11-30T00:00:00.000Z',
      };
      const event = voteEvent(cr, people.sam);
      assert.equal(
        refusal(cr, event, contextFor(people.sam)).code,
        'CR.NOT_AN_APPROVER',
        'without the delegation Sam has no seat',
      );
      const { next, audit } = accepted(
        cr,
        { ...event, delegations: [delegation] } as ChangeEvent,
        contextFor(people.sam),
      );
      assert.equal(next.status, 'approved');
      const cast = next.approval?.steps[0]?.votes[0];
      assert.deepEqual(cast?.seat, people.andy);
      assert.deepEqual(cast?.by, people.sam);
      assert.equal(cast?.delegationId, 'dg-1');
      assert.deepEqual(audit.actor, actorOf(people.sam));
      assert.equal(audit.payload['seatOid'], people.andy.oid);
      assert.equal(audit.payload['delegationId'], 'dg-1');
      const expired = { ...delegation, validUntil: '2026-11-22T00:00:00.000Z' };
      assert.notEqual(
        sut(cr, { ...event, delegations: [expired] } as ChangeEvent, contextFor(people.sam)).ok,
        true,
        'an expired delegation seats nobody',
      );
    });
  });

  describe('who decides', () => {
    it('lets any one designated approver decide', () => {
      for (const who of [people.andy, people.avery]) {
        const result = vote(requestAt('awaiting_approval'), who);
        assert.ok(result.ok);
        const cast = result.value.next.approval?.steps[0]?.votes[0];
        assert.deepEqual(cast?.by, who);
        assert.deepEqual(cast?.seat, who);
        assert.equal(cast?.at, NOW);
        assert.equal(result.value.next.status, 'approved');
      }
    });

    it('refuses self-approval by the requester even when they are a designated approver', () => {
      const profile = contosoProfile({ approvers: [people.carla, people.andy] });
      const request = awaitingUnder(profile);
      const asCarla = contextFor(people.carla, { profile });
      assert.equal(
        refusal(request, voteEvent(request, people.carla), asCarla).code,
        'CR.SELF_APPROVAL',
      );
      assert.equal(
        refusal(request, voteEvent(request, people.carla, 'denied', { reason: 'x' }), asCarla).code,
        'CR.SELF_APPROVAL',
      );
    });

    it('refuses self-approval by the person the request was raised on behalf of', () => {
      const cr = requestAt('awaiting_approval', {
        requester: people.tina,
        onBehalfOf: people.avery,
        source: 'msp',
      });
      assert.deepEqual(
        cr.approval?.steps[0]?.approvers,
        [people.andy],
        'the on-behalf-of approver is not asked',
      );
      assert.equal(
        refusal(cr, voteEvent(cr, people.avery), contextFor(people.avery)).code,
        'CR.SELF_APPROVAL',
      );
      assert.ok(vote(cr, people.andy).ok);
    });

    it('refuses people who are not designated approvers, whatever their other roles', () => {
      const cr = requestAt('awaiting_approval');
      for (const who of [people.sam, people.tina, people.lena, people.frank]) {
        assert.equal(
          refusal(cr, voteEvent(cr, who), contextFor(who)).code,
          'CR.NOT_AN_APPROVER',
          who.name,
        );
      }
    });

    it("refuses a user of another tenant who carries a designated approver's object id", () => {
      const cr = requestAt('awaiting_approval');
      assert.equal(
        refusal(cr, voteEvent(cr, people.impostor), contextFor(people.impostor)).code,
        'CR.NOT_AN_APPROVER',
      );
    });

    it('refuses a card of another version as stale', () => {
      const cr = requestAt('awaiting_approval');
      for (const version of [0, 1, 3, -1]) {
        const error = refusal(
          cr,
          voteEvent(cr, people.andy, 'approved', { version }),
          contextFor(people.andy),
        );
        assert.equal(error.code, 'CR.STALE_VERSION');
        assert.deepEqual(error.details, { seen: version, current: cr.version });
      }
    });

    it('takes the voter from the authenticated context, never from the event', () => {
      const cr = requestAt('awaiting_approval');
      const forged = voteEvent(cr, people.andy);
      assert.equal(refusal(cr, forged, contextFor(people.sam)).code, 'CR.NOT_AN_APPROVER');
    });
  });

  describe('questions (needs_info)', () => {
    const ask: ChangeEvent = { type: 'InfoRequested', question: 'Which laptop is it?' };
    const answer: ChangeEvent = { type: 'InfoProvided', answer: 'The one in room 4' };

    it('lets staff ask from triaged and returns there once the requester answers, recording the wait', () => {
      const cr = requestAt('triaged');
      const asked = accepted(cr, ask, tech());
      assert.equal(asked.next.status, 'needs_info');
      assert.equal(asked.audit.type, 'info.requested');
      assert.equal(asked.audit.payload['returnTo'], 'triaged');
      assert.deepEqual(asked.audit.personal, { question: 'Which laptop is it?' });
      assert.equal(asked.next.clarification?.returnTo, 'triaged');

      const answered = accepted(asked.next, answer, contextFor(people.carla, { now: LATER }));
      assert.equal(answered.next.status, 'triaged');
      assert.equal(answered.next.clarification, undefined);
      assert.equal(answered.audit.type, 'info.provided');
      assert.equal(answered.audit.payload['waitedSeconds'], 2 * 3600);
      assert.equal(answered.audit.payload['askedAt'], NOW);
      assert.deepEqual(answered.audit.personal, { answer: 'The one in room 4' });
      const history = answered.next.clarifications ?? [];
      assert.equal(history.length, 1);
      assert.equal(history[0]?.answer, 'The one in room 4');
      assert.deepEqual(history[0]?.answeredBy, people.carla);
      assert.equal(
        answered.next.version,
        cr.version,
        'a question changes nothing approvers decide on',
      );
    });

    it('lets an approver of the open step ask, and returns to the same round', () => {
      const cr = requestAt('awaiting_approval');
      const asked = accepted(cr, ask, contextFor(people.andy)).next;
      assert.equal(asked.clarification?.returnTo, 'awaiting_approval');
      assert.equal(
        refusal(asked, voteEvent(asked, people.avery), contextFor(people.avery)).code,
        'CR.INVALID_TRANSITION',
        'nobody votes while a question is open',
      );
      const back = accepted(asked, answer, contextFor(people.carla)).next;
      assert.equal(back.status, 'awaiting_approval');
      assert.deepEqual(back.approval, cr.approval);
      assert.equal(
        accepted(back, voteEvent(back, people.avery), contextFor(people.avery)).next.status,
        'approved',
      );
    });

    it('lets only staff or a seat of the open step ask', () => {
      const cr = requestAt('awaiting_approval');
      for (const who of [people.carla, people.sam, people.frank, people.impostor])
        assert.equal(refusal(cr, ask, contextFor(who)).code, 'CR.NOT_ALLOWED', who.name);
      const cab = awaitingUnder(cabProfile);
      assert.equal(
        refusal(cab, ask, inCab(people.theo)).code,
        'CR.NOT_ALLOWED',
        'a seat of a step that has not opened yet',
      );
      const open = applyAll(cab, [[voteEvent(cab, people.andy), inCab(people.andy)]]).request;
      assert.equal(accepted(open, ask, inCab(people.theo)).next.status, 'needs_info');
    });

    it('lets only the requester (or whom it was raised for) answer, with text', () => {
      const cr = requestAt('triaged', {
        requester: people.tina,
        onBehalfOf: people.sam,
        source: 'msp',
      });
      const asked = accepted(cr, ask, lead()).next;
      for (const who of [people.andy, people.carla, people.lena])
        assert.equal(refusal(asked, answer, contextFor(who)).code, 'CR.NOT_ALLOWED', who.name);
      assert.equal(
        refusal(asked, { type: 'InfoProvided', answer: '  ' }, contextFor(people.sam)).code,
        'CR.REASON_REQUIRED',
      );
      assert.equal(accepted(asked, answer, contextFor(people.sam)).next.status, 'triaged');
    });

    it('asks only before approval, and answers only an open question', () => {
      for (const status of ['submitted', 'approved', 'in_progress'] as const)
        assert.equal(refusal(requestAt(status), ask, tech()).code, 'CR.INVALID_TRANSITION', status);
      assert.equal(
        refusal(requestAt('triaged'), answer, contextFor(people.carla)).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(
        refusal(requestAt('triaged'), { type: 'InfoRequested', question: ' ' }, tech()).code,
        'CR.REASON_REQUIRED',
      );
    });
  });

  describe('emergency changes', () => {
    it('are approved by the MSP lead alone, then go to review_pending with a retrospective and a review due in business days', () => {
      const approved = emergencyApproved();
      assert.equal(approved.status, 'approved');
      assert.ok(hasCurrentApproval(approved));
      const started = accepted(approved, { type: 'WorkStarted' }, tech()).next;
      const { next, audit } = accepted(
        started,
        { type: 'ImplementationCompleted', notes: 'Locked the account' },
        tech(),
      );
      assert.equal(next.status, 'review_pending');
      assert.equal(audit.type, 'work.implemented');
      // Monday 09:00 plus five business days is the next Monday, not the Saturday.
      assert.equal(next.reviewDueAt, '2026-11-30T09:00:00.000Z');
      assert.equal(audit.payload['reviewDueAt'], '2026-11-30T09:00:00.000Z');
      assert.equal(next.retrospective?.status, 'pending');
      assert.equal(next.retrospective?.version, next.version);
      assert.deepEqual(
        next.retrospective?.steps.map((s) => [s.id, s.status]),
        [['retrospective', 'open']],
      );
      assert.deepEqual(next.retrospective?.steps[0]?.approvers, [people.andy, people.avery]);
      assert.deepEqual(audit.payload['retrospectiveApproverOids'], [
        people.andy.oid,
        people.avery.oid,
      ]);
    });

    it('counts the review deadline in the client’s own business days setting', () => {
      const profile = contosoProfile({
        settings: { timeZone: 'Europe/London', reviewDueBusinessDays: 2 },
      });
      const started = accepted(emergencyApproved(), { type: 'WorkStarted' }, tech()).next;
      const { next } = accepted(started, { type: 'ImplementationCompleted' }, tech(profile));
      assert.equal(next.reviewDueAt, '2026-11-25T09:00:00.000Z');
    });

    it('close when the review comes after the retrospective vote', () => {
      const pending = emergencyImplemented();
      const voted = accepted(pending, voteEvent(pending, people.andy), contextFor(people.andy));
      assert.equal(voted.next.status, 'review_pending', 'the review is still due');
      assert.equal(voted.audit.type, 'approval.retrospective_decided');
      assert.equal(voted.next.retrospective?.status, 'approved');
      const reviewed = accepted(
        voted.next,
        { type: 'ReviewFiled', review: SUCCESSFUL_REVIEW },
        tech(),
      );
      assert.equal(reviewed.next.status, 'closed');
      assert.equal(reviewed.audit.type, 'review.filed');
      assert.equal(reviewed.next.closure?.outcome, 'successful');
    });

    it('close when the retrospective vote comes after the review', () => {
      const pending = emergencyImplemented();
      const reviewed = accepted(
        pending,
        { type: 'ReviewFiled', review: SUCCESSFUL_REVIEW },
        tech(),
      );
      assert.equal(reviewed.next.status, 'review_pending', 'the retrospective is not settled yet');
      assert.equal(reviewed.next.closure, undefined);
      assert.ok(reviewed.next.review);
      const voted = accepted(
        reviewed.next,
        voteEvent(reviewed.next, people.avery),
        contextFor(people.avery),
      );
      assert.equal(voted.next.status, 'closed');
      assert.equal(voted.audit.type, 'approval.retrospective_decided');
      assert.equal(voted.next.closure?.outcome, 'successful');
    });

    it('keep the retrospective to the client: no self-approval, no MSP seat', () => {
      const pending = emergencyImplemented();
      assert.equal(
        refusal(pending, voteEvent(pending, people.carla), contextFor(people.carla)).code,
        'CR.SELF_APPROVAL',
      );
      assert.equal(
        refusal(pending, voteEvent(pending, people.lena), lead()).code,
        'CR.NOT_AN_APPROVER',
      );
      assert.equal(
        refusal(pending, { type: 'Closed', outcome: 'successful', notes: '' }, tech()).code,
        'CR.INVALID_TRANSITION',
      );
    });

    it('may start outside the maintenance windows; a normal change may not', () => {
      const approved = emergencyApproved();
      const { next, audit } = accepted(approved, { type: 'WorkStarted' }, tech(windowedProfile));
      assert.equal(next.status, 'in_progress');
      assert.deepEqual(audit.payload['waived'], ['SCHED.OUTSIDE_WINDOW']);
      const error = refusal(requestAt('approved'), { type: 'WorkStarted' }, tech(windowedProfile));
      assert.equal(error.code, 'CR.BEFORE_WINDOW', 'a normal change waits for its booked slot');
    });

    it('starts a normal change only inside its booked slot, and only where that lies in a maintenance window', () => {
      const booked = (window: { start: string; end: string }) =>
        applyAll(requestAt('triaged'), [
          [
            assessedEvent(requestAt('triaged'), validAssessment({ requestedWindow: window })),
            tech(),
          ],
        ]).request;
      const approvedIn = (window: { start: string; end: string }) => {
        const assessed = booked(window);
        const sent = applyAll(assessed, [
          [{ type: 'ApprovalRequested', plan: planFor(assessed) }, system(assessed)],
        ]).request;
        return applyAll(sent, [[voteEvent(sent, people.andy), contextFor(people.andy)]]).request;
      };
      const inWindow = approvedIn(IN_WINDOW);
      const at = (now: string) => contextFor(people.tina, { profile: windowedProfile, now });
      assert.equal(
        accepted(inWindow, { type: 'WorkStarted' }, at('2026-11-26T18:30:00.000Z')).next.status,
        'in_progress',
      );
      assert.equal(
        refusal(inWindow, { type: 'WorkStarted' }, at('2026-11-26T20:00:00.000Z')).code,
        'CR.WINDOW_PASSED',
      );
      // Booked on a Wednesday evening, outside Contoso's Tue/Thu windows: refused even within the slot.
      const wednesday = approvedIn({
        start: '2026-11-25T18:00:00.000Z',
        end: '2026-11-25T20:00:00.000Z',
      });
      const error = refusal(wednesday, { type: 'WorkStarted' }, at('2026-11-25T18:30:00.000Z'));
      assert.equal(error.code, 'SCHED.SLOT_REFUSED');
      assert.ok((error.details['codes'] as string[]).includes('SCHED.OUTSIDE_WINDOW'));
    });
  });

  describe('cancel', () => {
    it('refuses once the change has been carried out: implemented, or an emergency waiting for its review', () => {
      const emergency = emergencyApproved();
      const started = accepted(emergency, { type: 'WorkStarted' }, tech()).next;
      const done = accepted(started, { type: 'ImplementationCompleted' }, tech()).next;
      assert.equal(done.status, 'review_pending');
      for (const cr of [requestAt('implemented'), done])
        for (const who of [people.carla, people.tina, people.lena])
          assert.equal(
            refusal(cr, { type: 'Cancelled', reason: 'never mind' }, contextFor(who)).code,
            'CR.WORK_DONE',
          );
    });

    for (const status of NON_TERMINAL_PATH.filter((s) => s !== 'implemented')) {
      for (const who of ['carla', 'tina', 'lena'] as const) {
        it(`lets ${who} cancel a ${status} request with a reason`, () => {
          const cr = requestAt(status);
          const { next, audit } = accepted(
            cr,
            { type: 'Cancelled', reason: 'No longer needed' },
            contextFor(people[who]),
          );
          assert.equal(next.status, 'cancelled');
          assert.deepEqual(next.cancellation, {
            reason: 'No longer needed',
            by: people[who],
            at: NOW,
          });
          assert.equal(audit.type, 'request.cancelled');
          assert.equal(audit.payload['from'], status);
          assert.deepEqual(audit.actor, actorOf(people[who]));
        });
      }
    }

    it('requires a reason', () => {
      assert.equal(
        refusal(
          requestAt('submitted'),
          { type: 'Cancelled', reason: '  ' },
          contextFor(people.carla),
        ).code,
        'CR.REASON_REQUIRED',
      );
    });

    it('refuses client users who did not raise the request, and other tenants', () => {
      for (const who of [people.andy, people.sam, people.impostor, people.theo]) {
        assert.equal(
          refusal(
            requestAt('awaiting_approval'),
            { type: 'Cancelled', reason: 'mine now' },
            contextFor(who),
          ).code,
          'CR.NOT_ALLOWED',
        );
      }
    });

    it('lets the person a request was raised for cancel it', () => {
      const cr = requestAt('awaiting_approval', {
        requester: people.tina,
        onBehalfOf: people.sam,
        source: 'msp',
      });
      assert.equal(
        accepted(cr, { type: 'Cancelled', reason: 'sorted it myself' }, contextFor(people.sam)).next
          .status,
        'cancelled',
      );
    });
  });

  describe('failure', () => {
    it('requires a reason to mark work failed', () => {
      assert.equal(
        refusal(requestAt('in_progress'), { type: 'Failed', reason: ' ' }, tech()).code,
        'CR.REASON_REQUIRED',
      );
      const { next, audit } = accepted(
        requestAt('in_progress'),
        { type: 'Failed', reason: 'Graph 403' },
        tech(),
      );
      assert.equal(next.status, 'failed');
      assert.deepEqual(next.failure, { reason: 'Graph 403', by: people.tina, at: NOW });
      assert.equal(audit.type, 'request.failed');
    });

    it('retries: failed → in_progress under the same approval', () => {
      const { next, audit } = accepted(requestAt('failed'), { type: 'WorkStarted' }, lead());
      assert.equal(next.status, 'in_progress');
      assert.equal(audit.payload['retry'], true);
      assert.deepEqual(next.assignee, people.lena);
    });

    it('rolls back: failed → rolled_back, terminal, with a rolled_back closure', () => {
      const { next, audit } = accepted(
        requestAt('failed'),
        { type: 'RolledBack', notes: 'Restored the old licence' },
        tech(),
      );
      assert.equal(next.status, 'rolled_back');
      assert.deepEqual(next.closure, {
        outcome: 'rolled_back',
        notes: 'Restored the old licence',
        by: people.tina,
        at: NOW,
      });
      assert.equal(audit.type, 'request.rolled_back');
      assert.equal(refusal(next, { type: 'WorkStarted' }, tech()).code, 'CR.INVALID_TRANSITION');
    });

    it('cannot fail or roll back from anywhere else', () => {
      assert.equal(
        refusal(requestAt('approved'), { type: 'Failed', reason: 'x' }, tech()).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(
        refusal(requestAt('in_progress'), { type: 'RolledBack', notes: 'x' }, tech()).code,
        'CR.INVALID_TRANSITION',
      );
    });
  });

  describe('edits', () => {
    const edit = (title: string) => ({
      type: 'Edited' as const,
      changes: validInput('general', { title }),
    });

    it('bumps the version and reopens a pending round on it with no votes', () => {
      const cr = requestAt('awaiting_approval');
      const { next, audit } = accepted(
        cr,
        edit('A better title'),
        contextFor(people.carla, { now: LATER }),
      );
      assert.equal(next.version, cr.version + 1);
      assert.equal(next.status, 'awaiting_approval');
      assert.equal(next.title, 'A better title');
      assert.equal(next.approval?.version, cr.version + 1);
      assert.equal(next.approvalPlan?.version, cr.version + 1);
      assert.equal(next.approval?.status, 'pending');
      assert.deepEqual(
        next.approval?.steps.map((s) => [s.id, s.status, s.votes.length, s.openedAt]),
        [['client', 'open', 0, LATER]],
      );
      assert.equal(audit.type, 'request.edited');
      assert.equal(audit.payload['supersededApprovalVersion'], cr.version);
    });

    it('throws away the votes cast so far on an earlier step', () => {
      const cr = awaitingUnder(cabProfile);
      const voted = applyAll(cr, [[voteEvent(cr, people.andy), inCab(people.andy)]]).request;
      const next = accepted(voted, edit('Changed'), contextFor(people.carla)).next;
      assert.deepEqual(
        next.approval?.steps.map((s) => [s.id, s.status, s.votes.length]),
        [
          ['client', 'open', 0],
          ['cab', 'waiting', 0],
        ],
      );
    });

    it('makes approval cards of the old version stale and accepts the new one', () => {
      const cr = requestAt('awaiting_approval');
      const { next } = accepted(cr, edit('Changed'), contextFor(people.carla));
      assert.equal(
        refusal(next, voteEvent(cr, people.andy), contextFor(people.andy)).code,
        'CR.STALE_VERSION',
      );
      const approved = accepted(next, voteEvent(next, people.andy), contextFor(people.andy)).next;
      assert.ok(hasCurrentApproval(approved));
      assert.equal(accepted(approved, { type: 'WorkStarted' }, tech()).next.status, 'in_progress');
    });

    it('lets the requester or MSP staff edit before a decision, and nobody after', () => {
      assert.equal(accepted(requestAt('submitted'), edit('By tech'), tech()).next.version, 2);
      assert.equal(
        accepted(requestAt('triaged'), edit('By requester'), contextFor(people.carla)).next.version,
        2,
      );
      assert.equal(
        refusal(requestAt('awaiting_approval'), edit('By approver'), contextFor(people.andy)).code,
        'CR.NOT_ALLOWED',
      );
      for (const status of ['approved', 'in_progress', 'implemented', 'failed'] as const) {
        assert.equal(
          refusal(requestAt(status), edit('Too late'), contextFor(people.carla)).code,
          'CR.INVALID_TRANSITION',
        );
      }
    });

    it('refuses changing the type', () => {
      const error = refusal(
        requestAt('submitted'),
        { type: 'Edited', changes: validInput('incident') },
        contextFor(people.carla),
      );
      assert.equal(error.code, 'CR.TYPE_CHANGED');
    });
  });

  describe('the execution gate', () => {
    it('refuses in_progress from any state before approval', () => {
      for (const status of ['submitted', 'triaged', 'awaiting_approval'] as const) {
        assert.equal(
          refusal(requestAt(status), { type: 'WorkStarted' }, tech()).code,
          'CR.INVALID_TRANSITION',
        );
      }
    });

    const approved = requestAt('approved');
    const round = approved.approval!;
    const forged: [string, ChangeRequest][] = [
      ['no approval round at all', (({ approval: _a, ...rest }) => rest)(approved)],
      ['a round still pending', { ...approved, approval: { ...round, status: 'pending' } }],
      ['a denied round', { ...approved, approval: { ...round, status: 'denied' } }],
      ['an approval of an older version', { ...approved, version: approved.version + 1 }],
    ];
    for (const [what, cr] of forged) {
      it(`refuses to start work on an approved request with ${what}`, () => {
        assert.equal(hasCurrentApproval(cr), false);
        assert.equal(refusal(cr, { type: 'WorkStarted' }, tech()).code, 'CR.NOT_APPROVED');
        assert.equal(
          refusal({ ...cr, status: 'failed' }, { type: 'WorkStarted' }, tech()).code,
          'CR.NOT_APPROVED',
        );
      });
    }
  });

  describe('terminal states', () => {
    const terminal: [string, () => ChangeRequest][] = [
      ['closed', () => requestAt('closed')],
      [
        'denied',
        () => {
          const cr = requestAt('awaiting_approval');
          return accepted(
            cr,
            voteEvent(cr, people.andy, 'denied', { reason: 'No' }),
            contextFor(people.andy),
          ).next;
        },
      ],
      [
        'cancelled',
        () =>
          accepted(
            requestAt('triaged'),
            { type: 'Cancelled', reason: 'No' },
            contextFor(people.carla),
          ).next,
      ],
      [
        'rolled_back',
        () => accepted(requestAt('failed'), { type: 'RolledBack', notes: '' }, tech()).next,
      ],
    ];
    const events = (cr: ChangeRequest): ChangeEvent[] => [
      { type: 'Triaged' },
      { type: 'Reclassified', to: 'emergency', reason: REASON },
      assessedEvent(cr),
      { type: 'ApprovalRequested', plan: planFor(cr) },
      voteEvent(cr, people.andy),
      voteEvent(cr, people.avery, 'denied', { reason: 'x' }),
      { type: 'InfoRequested', question: 'x' },
      { type: 'InfoProvided', answer: 'x' },
      { type: 'Edited', changes: validInput('general') },
      { type: 'WorkStarted' },
      { type: 'ImplementationCompleted', notes: 'x' },
      { type: 'Failed', reason: 'x' },
      { type: 'RolledBack', notes: 'x' },
      { type: 'Closed', outcome: 'successful', notes: 'x' },
      { type: 'Closed', outcome: 'failed', notes: 'x' },
      { type: 'Cancelled', reason: 'x' },
      { type: 'ExecutionCompleted', runId: 'r1' },
      { type: 'ExecutionFailed', runId: 'r1', reason: 'x' },
      { type: 'RollbackCompleted', runId: 'r2', notes: 'x' },
    ];
    for (const [status, build] of terminal) {
      it(`refuses every event on a ${status} request, whoever sends it`, () => {
        const cr = build();
        assert.equal(cr.status, status);
        for (const event of events(cr)) {
          for (const ctx of [
            tech(),
            lead(),
            contextFor(people.carla),
            contextFor(people.andy),
            system(cr),
          ]) {
            const error = refusal(cr, event, ctx);
            assert.equal(error.code, 'CR.INVALID_TRANSITION', `${event.type}: ${error.code}`);
          }
        }
      });
    }

    it('accepts a late review on a rolled-back change without moving it', () => {
      const rolledBack = accepted(
        requestAt('failed'),
        { type: 'RolledBack', notes: '' },
        tech(),
      ).next;
      const { next, audit } = accepted(
        rolledBack,
        { type: 'ReviewFiled', review: { ...SUCCESSFUL_REVIEW, outcome: 'rolled_back' } },
        tech(),
      );
      assert.equal(next.status, 'rolled_back');
      assert.equal(audit.type, 'review.filed');
      assert.equal(
        refusal(rolledBack, { type: 'ReviewFiled', review: SUCCESSFUL_REVIEW }, tech()).code,
        'CR.OUTCOME_CONTRADICTS',
      );
    });
  });

  describe('personal data', () => {
    const marker = 'PII-Jane-Doe-jane.doe@contoso.example';
    const cases: [
      string,
      () => ChangeRequest,
      (cr: ChangeRequest) => ChangeEvent,
      TransitionContext,
      string,
    ][] = [
      [
        'an edit',
        () => requestAt('awaiting_approval'),
        () => ({
          type: 'Edited',
          changes: validInput('general', {
            title: `${marker} title`,
            description: `${marker} description`,
            affectedSystems: marker,
          }),
        }),
        contextFor(people.carla),
        'title',
      ],
      [
        'a denial reason',
        () => requestAt('awaiting_approval'),
        (cr) => voteEvent(cr, people.andy, 'denied', { reason: marker }),
        contextFor(people.andy),
        'reason',
      ],
      [
        'a question',
        () => requestAt('triaged'),
        () => ({ type: 'InfoRequested', question: marker }),
        tech(),
        'question',
      ],
      [
        'a rollback plan',
        () => requestAt('triaged'),
        (cr) =>
          assessedEvent(
            cr,
            validAssessment({ rollbackPlan: `${validAssessment().rollbackPlan} ${marker}` }),
          ),
        tech(),
        'rollbackPlan',
      ],
      [
        'a failure reason',
        () => requestAt('in_progress'),
        () => ({ type: 'Failed', reason: marker }),
        tech(),
        'reason',
      ],
      [
        'implementation notes',
        () => requestAt('in_progress'),
        () => ({ type: 'ImplementationCompleted', notes: marker }),
        tech(),
        'notes',
      ],
      [
        'rollback notes',
        () => requestAt('failed'),
        () => ({ type: 'RolledBack', notes: marker }),
        tech(),
        'notes',
      ],
      [
        'a cancellation reason',
        () => requestAt('approved'),
        () => ({ type: 'Cancelled', reason: marker }),
        contextFor(people.carla),
        'reason',
      ],
    ];
    for (const [what, build, event, ctx, field] of cases) {
      it(`keeps ${what} in audit.personal, never in audit.payload`, () => {
        const cr = build();
        const { audit } = accepted(cr, event(cr), ctx);
        assert.ok(!JSON.stringify(audit.payload).includes('PII-'), JSON.stringify(audit.payload));
        assert.ok(
          JSON.stringify(audit.personal?.[field]).includes(marker),
          JSON.stringify(audit.personal),
        );
      });
    }

    it('writes no personal part for steps without free text', () => {
      assert.equal(
        accepted(requestAt('submitted'), { type: 'Triaged' }, tech()).audit.personal,
        undefined,
      );
      assert.equal(
        accepted(requestAt('approved'), { type: 'WorkStarted' }, tech()).audit.personal,
        undefined,
      );
    });
  });
});

function decisionOf(event: ChangeEvent) {
  if (event.type !== 'VoteCast') throw new Error('not a vote');
  return event.decision;
}
