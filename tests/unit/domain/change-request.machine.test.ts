import { strict as assert } from 'node:assert';
import { SYSTEM_OID, type AuditEvent } from '../../../src/domain/audit/audit-event';
import type {
  ChangeRequest,
  ChangeStatus,
  Person,
} from '../../../src/domain/change-request/change-request';
import {
  checkDecision,
  createChangeRequest,
  hasCurrentApproval,
  transition,
  type ChangeEvent,
  type TransitionContext,
} from '../../../src/domain/change-request/change-request.machine';
import { NOTE_MAX } from '../../../src/domain/change-request/change-request.payloads';
import type { DomainError } from '../../../src/domain/shared/errors';
import {
  NOW,
  applyAll,
  contextFor,
  contosoProfile,
  people,
  requestAt,
  submitted,
  validInput,
  type PathStatus,
} from '../../support/fixtures';

const sut = transition;

/** The refusal code, or a test failure if the event was accepted. */
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
      `${event.type} by ${ctx.actor.name} in ${cr.status} was refused: ${result.error.code}`,
    );
  return result.value;
}

const actorOf = (p: Person) => ({ tid: p.tid, oid: p.oid });
const tech = () => contextFor(people.tina);
const lead = () => contextFor(people.lena);
const system = (cr: ChangeRequest) => contextFor(cr.requester, { system: true });

const NON_TERMINAL_PATH: readonly PathStatus[] = [
  'submitted',
  'triaged',
  'awaiting_approval',
  'approved',
  'in_progress',
  'implemented',
  'failed',
];

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
      now: NOW,
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
    it('goes submitted → triaged → awaiting_approval → approved → in_progress → implemented → closed, one audit event per step', () => {
      const start = submitted().request;
      const steps: [
        ChangeEvent,
        TransitionContext,
        ChangeStatus,
        AuditEvent['type'],
        { tid: string; oid: string },
      ][] = [
        [{ type: 'Triaged' }, tech(), 'triaged', 'request.triaged', actorOf(people.tina)],
        [
          { type: 'ApprovalRequested', approvers: [people.andy, people.avery] },
          tech(),
          'awaiting_approval',
          'approval.requested',
          actorOf(people.tina),
        ],
        [
          { type: 'ApprovalGranted', version: 1, cardHash: 'c'.repeat(64) },
          contextFor(people.andy),
          'approved',
          'approval.granted',
          actorOf(people.andy),
        ],
        [{ type: 'WorkStarted' }, tech(), 'in_progress', 'work.started', actorOf(people.tina)],
        [
          { type: 'ImplementationCompleted', notes: 'Created the account' },
          tech(),
          'implemented',
          'work.implemented',
          actorOf(people.tina),
        ],
        [
          { type: 'Closed', outcome: 'successful', notes: 'Jane can log in' },
          lead(),
          'closed',
          'request.closed',
          actorOf(people.lena),
        ],
      ];
      let cr = start;
      for (const [event, ctx, status, auditType, actor] of steps) {
        const { next, audit } = accepted(cr, event, ctx);
        assert.equal(next.status, status);
        assert.ok(!Array.isArray(audit), 'a transition yields one audit event');
        assert.equal(audit.type, auditType);
        assert.deepEqual(audit.actor, actor);
        assert.equal(audit.requestId, start.id);
        assert.equal(audit.payload['from'], cr.status);
        assert.equal(audit.payload['status'], status);
        cr = next;
      }
      assert.equal(cr.version, 1, 'only edits move the version');
      assert.deepEqual(cr.closure, {
        outcome: 'successful',
        notes: 'Jane can log in',
        by: people.lena,
        at: NOW,
      });
      assert.deepEqual(cr.assignee, people.tina);
      assert.equal(cr.approval?.decision?.cardHash, 'c'.repeat(64));
    });

    it('records Cabinet itself as the actor of system steps', () => {
      const cr = submitted().request;
      const { audit } = accepted(cr, { type: 'Triaged' }, system(cr));
      assert.deepEqual(audit.actor, { tid: people.carla.tid, oid: SYSTEM_OID });
    });

    it('refuses triage and sending for approval by client users', () => {
      const cr = submitted().request;
      assert.equal(refusal(cr, { type: 'Triaged' }, contextFor(people.carla)).code, 'CR.NOT_STAFF');
      const triaged = requestAt('triaged');
      assert.equal(
        refusal(
          triaged,
          { type: 'ApprovalRequested', approvers: [people.andy] },
          contextFor(people.andy),
        ).code,
        'CR.NOT_STAFF',
      );
    });

    it('binds the approval round to the current version and only to same-tenant approvers who did not raise it', () => {
      const triaged = requestAt('triaged');
      const { next, audit } = accepted(
        triaged,
        {
          type: 'ApprovalRequested',
          approvers: [people.carla, people.impostor, people.andy, people.avery],
        },
        system(triaged),
      );
      assert.deepEqual(next.approval, {
        version: 1,
        approvers: [people.andy, people.avery],
        requestedAt: NOW,
      });
      assert.deepEqual(audit.payload['approverOids'], [people.andy.oid, people.avery.oid]);
    });

    it('refuses to send for approval when nobody eligible is left', () => {
      const triaged = requestAt('triaged');
      const error = refusal(
        triaged,
        { type: 'ApprovalRequested', approvers: [people.carla, people.impostor] },
        system(triaged),
      );
      assert.equal(error.code, 'CR.NO_APPROVERS');
    });

    it('skips steps out of order', () => {
      assert.equal(
        refusal(
          submitted().request,
          { type: 'ApprovalRequested', approvers: [people.andy] },
          tech(),
        ).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(
        refusal(
          requestAt('triaged'),
          { type: 'ApprovalGranted', version: 1 },
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
          { type: 'Closed', outcome: 'successful', notes: '' },
          tech(),
        ).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(
        refusal(requestAt('approved'), { type: 'Triaged' }, tech()).code,
        'CR.INVALID_TRANSITION',
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
            { type: 'Closed', outcome: 'successful', notes: '' },
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

    it('refuses closing an implemented change as failed or rolled back', () => {
      for (const outcome of ['failed', 'rolled_back'] as const) {
        assert.equal(
          refusal(requestAt('implemented'), { type: 'Closed', outcome, notes: 'x' }, tech()).code,
          'CR.INVALID_TRANSITION',
        );
      }
      const { next } = accepted(
        requestAt('implemented'),
        { type: 'Closed', outcome: 'successful_with_issues', notes: ' one mailbox late ' },
        tech(),
      );
      assert.equal(next.closure?.notes, 'one mailbox late');
    });

    it(`refuses notes longer than ${NOTE_MAX} characters`, () => {
      const long = 'n'.repeat(NOTE_MAX + 1);
      assert.equal(
        refusal(requestAt('in_progress'), { type: 'ImplementationCompleted', notes: long }, tech())
          .code,
        'CR.TEXT_TOO_LONG',
      );
      assert.equal(
        refusal(
          requestAt('implemented'),
          { type: 'Closed', outcome: 'successful', notes: long },
          tech(),
        ).code,
        'CR.TEXT_TOO_LONG',
      );
    });
  });

  describe('deny', () => {
    it('requires a reason', () => {
      for (const reason of ['', '   \n']) {
        assert.equal(
          refusal(
            requestAt('awaiting_approval'),
            { type: 'ApprovalDenied', version: 1, reason },
            contextFor(people.avery),
          ).code,
          'CR.REASON_REQUIRED',
        );
      }
      const tooLong = 'r'.repeat(NOTE_MAX + 1);
      assert.equal(
        refusal(
          requestAt('awaiting_approval'),
          { type: 'ApprovalDenied', version: 1, reason: tooLong },
          contextFor(people.avery),
        ).code,
        'CR.TEXT_TOO_LONG',
      );
    });

    it('ends the request denied, with the decision and one approval.denied event', () => {
      const { next, audit } = accepted(
        requestAt('awaiting_approval'),
        { type: 'ApprovalDenied', version: 1, reason: ' Not this quarter ' },
        contextFor(people.avery),
      );
      assert.equal(next.status, 'denied');
      assert.deepEqual(next.approval?.decision, {
        outcome: 'denied',
        by: people.avery,
        at: NOW,
        reason: 'Not this quarter',
      });
      assert.equal(audit.type, 'approval.denied');
      assert.deepEqual(audit.actor, actorOf(people.avery));
      assert.deepEqual(audit.personal, { reason: 'Not this quarter' });
    });

    it('is terminal: nothing moves a denied request', () => {
      const { next } = accepted(
        requestAt('awaiting_approval'),
        { type: 'ApprovalDenied', version: 1, reason: 'No' },
        contextFor(people.avery),
      );
      assert.equal(
        refusal(next, { type: 'ApprovalGranted', version: 1 }, contextFor(people.andy)).code,
        'CR.INVALID_TRANSITION',
      );
      assert.equal(
        refusal(next, { type: 'Cancelled', reason: 'x' }, contextFor(people.carla)).code,
        'CR.INVALID_TRANSITION',
      );
    });
  });

  describe('cancel', () => {
    for (const status of NON_TERMINAL_PATH) {
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

    it('retries: failed → in_progress while the approval still stands', () => {
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

    it('closes a failed change only with outcome failed', () => {
      assert.equal(
        accepted(
          requestAt('failed'),
          { type: 'Closed', outcome: 'failed', notes: 'Gave up' },
          tech(),
        ).next.status,
        'closed',
      );
      for (const outcome of ['successful', 'successful_with_issues', 'rolled_back'] as const) {
        assert.equal(
          refusal(requestAt('failed'), { type: 'Closed', outcome, notes: 'x' }, tech()).code,
          'CR.INVALID_TRANSITION',
        );
      }
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

  describe('who decides', () => {
    const decide = (cr: ChangeRequest, who: Person, version = cr.version) =>
      sut(cr, { type: 'ApprovalGranted', version }, contextFor(who));

    it('lets any one designated approver decide', () => {
      for (const who of [people.andy, people.avery]) {
        const result = decide(requestAt('awaiting_approval'), who);
        assert.ok(result.ok);
        assert.deepEqual(result.value.next.approval?.decision, {
          outcome: 'approved',
          by: who,
          at: NOW,
        });
      }
    });

    it('refuses self-approval by the requester even when they are a designated approver', () => {
      const profile = contosoProfile({ approvers: [people.carla, people.andy] });
      const cr = submitted().request;
      const { request } = applyAll(cr, [
        [{ type: 'Triaged' }, system(cr)],
        [{ type: 'ApprovalRequested', approvers: profile.approvers }, system(cr)],
      ]);
      assert.equal(
        refusal(
          request,
          { type: 'ApprovalGranted', version: 1 },
          contextFor(people.carla, { profile }),
        ).code,
        'CR.SELF_APPROVAL',
      );
      assert.equal(
        refusal(
          request,
          { type: 'ApprovalDenied', version: 1, reason: 'x' },
          contextFor(people.carla, { profile }),
        ).code,
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
        cr.approval?.approvers,
        [people.andy],
        'the on-behalf-of approver is not asked',
      );
      assert.equal(
        refusal(cr, { type: 'ApprovalGranted', version: 1 }, contextFor(people.avery)).code,
        'CR.SELF_APPROVAL',
      );
      assert.ok(decide(cr, people.andy).ok);
    });

    it('refuses people who are not designated approvers, whatever their other roles', () => {
      for (const who of [people.sam, people.tina, people.lena, people.frank]) {
        assert.equal(
          refusal(
            requestAt('awaiting_approval'),
            { type: 'ApprovalGranted', version: 1 },
            contextFor(who),
          ).code,
          'CR.NOT_AN_APPROVER',
          who.name,
        );
      }
    });

    it("refuses a user of another tenant who carries a designated approver's object id", () => {
      const error = refusal(
        requestAt('awaiting_approval'),
        { type: 'ApprovalGranted', version: 1 },
        contextFor(people.impostor),
      );
      assert.equal(error.code, 'CR.NOT_AN_APPROVER');
    });

    it('refuses a card of another version as stale', () => {
      for (const version of [0, 2, -1]) {
        const error = refusal(
          requestAt('awaiting_approval'),
          { type: 'ApprovalGranted', version },
          contextFor(people.andy),
        );
        assert.equal(error.code, 'CR.STALE_VERSION');
        assert.deepEqual(error.details, { seen: version, current: 1 });
      }
    });

    it('refuses a second decision as already decided', () => {
      const approved = requestAt('approved');
      assert.equal(
        refusal(approved, { type: 'ApprovalGranted', version: 1 }, contextFor(people.avery)).code,
        'CR.ALREADY_DECIDED',
      );
      assert.equal(
        refusal(
          approved,
          { type: 'ApprovalDenied', version: 1, reason: 'x' },
          contextFor(people.andy),
        ).code,
        'CR.ALREADY_DECIDED',
      );
    });
  });

  describe('edits', () => {
    const edit = (title: string) => ({
      type: 'Edited' as const,
      changes: validInput('general', { title }),
    });

    it('bumps the version and re-binds a pending approval round to it', () => {
      const cr = requestAt('awaiting_approval');
      const later = '2026-11-23T10:00:00.000Z';
      const { next, audit } = accepted(
        cr,
        edit('A better title'),
        contextFor(people.carla, { now: later }),
      );
      assert.equal(next.version, 2);
      assert.equal(next.status, 'awaiting_approval');
      assert.equal(next.title, 'A better title');
      assert.deepEqual(next.approval, {
        version: 2,
        approvers: [people.andy, people.avery],
        requestedAt: later,
      });
      assert.equal(audit.type, 'request.edited');
      assert.equal(audit.payload['supersededApprovalVersion'], 1);
    });

    it('makes approval cards of the old version stale and accepts the new one', () => {
      const { next } = accepted(
        requestAt('awaiting_approval'),
        edit('Changed'),
        contextFor(people.carla),
      );
      assert.equal(
        refusal(next, { type: 'ApprovalGranted', version: 1 }, contextFor(people.andy)).code,
        'CR.STALE_VERSION',
      );
      const approved = accepted(
        next,
        { type: 'ApprovalGranted', version: 2 },
        contextFor(people.andy),
      ).next;
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
    const forged: [string, ChangeRequest][] = [
      ['no approval round at all', (({ approval: _a, ...rest }) => rest)(approved)],
      [
        'an undecided round',
        { ...approved, approval: { ...approved.approval!, decision: undefined } },
      ],
      [
        'a denial',
        {
          ...approved,
          approval: {
            ...approved.approval!,
            decision: { ...approved.approval!.decision!, outcome: 'denied' },
          },
        },
      ],
      ['an approval of an older version', { ...approved, version: 2 }],
      [
        'an approval by the requester',
        {
          ...approved,
          approval: {
            ...approved.approval!,
            decision: { ...approved.approval!.decision!, by: people.carla },
          },
        },
      ],
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
        () =>
          accepted(
            requestAt('awaiting_approval'),
            { type: 'ApprovalDenied', version: 1, reason: 'No' },
            contextFor(people.andy),
          ).next,
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
    const events: ChangeEvent[] = [
      { type: 'Triaged' },
      { type: 'ApprovalRequested', approvers: [people.andy] },
      { type: 'ApprovalGranted', version: 1 },
      { type: 'ApprovalDenied', version: 1, reason: 'x' },
      { type: 'Edited', changes: validInput('general') },
      { type: 'WorkStarted' },
      { type: 'ImplementationCompleted', notes: 'x' },
      { type: 'Failed', reason: 'x' },
      { type: 'RolledBack', notes: 'x' },
      { type: 'Closed', outcome: 'successful', notes: 'x' },
      { type: 'Closed', outcome: 'failed', notes: 'x' },
      { type: 'Cancelled', reason: 'x' },
    ];
    for (const [status, build] of terminal) {
      it(`refuses every event on a ${status} request, whoever sends it`, () => {
        const cr = build();
        assert.equal(cr.status, status);
        for (const event of events) {
          for (const ctx of [
            tech(),
            lead(),
            contextFor(people.carla),
            contextFor(people.andy),
            system(cr),
          ]) {
            const error = refusal(cr, event, ctx);
            assert.ok(
              ['CR.INVALID_TRANSITION', 'CR.ALREADY_DECIDED'].includes(error.code),
              `${event.type}: ${error.code}`,
            );
          }
        }
      });
    }
  });

  describe('personal data', () => {
    const marker = 'PII-Jane-Doe-jane.doe@contoso.example';
    const cases: [string, () => ChangeRequest, ChangeEvent, TransitionContext, string][] = [
      [
        'an edit',
        () => requestAt('awaiting_approval'),
        {
          type: 'Edited',
          changes: validInput('general', {
            title: `${marker} title`,
            description: `${marker} description`,
            affectedSystems: marker,
          }),
        },
        contextFor(people.carla),
        'title',
      ],
      [
        'a denial reason',
        () => requestAt('awaiting_approval'),
        { type: 'ApprovalDenied', version: 1, reason: marker },
        contextFor(people.andy),
        'reason',
      ],
      [
        'a failure reason',
        () => requestAt('in_progress'),
        { type: 'Failed', reason: marker },
        tech(),
        'reason',
      ],
      [
        'implementation notes',
        () => requestAt('in_progress'),
        { type: 'ImplementationCompleted', notes: marker },
        tech(),
        'notes',
      ],
      [
        'rollback notes',
        () => requestAt('failed'),
        { type: 'RolledBack', notes: marker },
        tech(),
        'notes',
      ],
      [
        'closing notes',
        () => requestAt('implemented'),
        { type: 'Closed', outcome: 'successful', notes: marker },
        tech(),
        'notes',
      ],
      [
        'a cancellation reason',
        () => requestAt('approved'),
        { type: 'Cancelled', reason: marker },
        contextFor(people.carla),
        'reason',
      ],
    ];
    for (const [what, build, event, ctx, field] of cases) {
      it(`keeps ${what} in audit.personal, never in audit.payload`, () => {
        const { audit } = accepted(build(), event, ctx);
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

describe(checkDecision.name, () => {
  it('says nothing is wrong for a designated approver on the current version', () => {
    assert.equal(
      checkDecision(requestAt('awaiting_approval'), 1, contextFor(people.avery)),
      undefined,
    );
  });

  it('names the first reason a decision is refused', () => {
    const cr = requestAt('awaiting_approval');
    assert.equal(checkDecision(cr, 1, contextFor(people.carla))?.code, 'CR.SELF_APPROVAL');
    assert.equal(checkDecision(cr, 1, contextFor(people.sam))?.code, 'CR.NOT_AN_APPROVER');
    assert.equal(checkDecision(cr, 3, contextFor(people.andy))?.code, 'CR.STALE_VERSION');
    assert.equal(
      checkDecision(requestAt('triaged'), 1, contextFor(people.andy))?.code,
      'CR.INVALID_TRANSITION',
    );
    assert.equal(
      checkDecision(requestAt('closed'), 1, contextFor(people.andy))?.code,
      'CR.ALREADY_DECIDED',
    );
  });
});
