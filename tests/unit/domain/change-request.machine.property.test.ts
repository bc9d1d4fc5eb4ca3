import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { PostImplementationReview } from '../../../src/domain/assessment/post-implementation-review';
import type { ApprovalState } from '../../../src/domain/approval/approval.policy';
import { SYSTEM_OID, type AuditEvent } from '../../../src/domain/audit/audit-event';
import type { ChangeClass } from '../../../src/domain/change-request/change-class';
import {
  isTerminal,
  type ChangeRequest,
  type ChangeStatus,
  type ClosureOutcome,
  type Person,
} from '../../../src/domain/change-request/change-request';
import {
  transition,
  type ChangeEvent,
  type TransitionContext,
} from '../../../src/domain/change-request/change-request.machine';
import { NOTE_MAX } from '../../../src/domain/change-request/change-request.payloads';
import { DomainError } from '../../../src/domain/shared/errors';
import {
  SUCCESSFUL_REVIEW,
  assessedEvent,
  contextFor,
  people,
  planFor,
  submitted,
  validAssessment,
  validInput,
  voteEvent,
} from '../../support/fixtures';

/**
 * Random event sequences against the change-request machine. Every piece of free text carries the
 * marker `PII-`, so "personal data never reaches the clear payload" can be checked on every step.
 */

type ActorKey =
  | 'requester'
  | 'onBehalfOf'
  | 'andy'
  | 'avery'
  | 'sam'
  | 'impostor'
  | 'tina'
  | 'lena'
  | 'system';

type AssessmentKind = 'valid' | 'noRollback' | 'override' | 'overrideWithReason';
type PlanKind = 'current' | 'stale' | 'emergency' | 'preApproved';

type Step = { readonly actor: ActorKey } & (
  | { readonly kind: 'Triaged' }
  | { readonly kind: 'Reclassified'; readonly to: ChangeClass; readonly template: boolean }
  | { readonly kind: 'Assessed'; readonly assessment: AssessmentKind }
  | { readonly kind: 'ApprovalRequested'; readonly plan: PlanKind }
  | {
      readonly kind: 'VoteCast';
      readonly outcome: 'approved' | 'denied';
      readonly versionDelta: number;
      readonly reason: string;
      readonly cardHash: boolean;
    }
  | { readonly kind: 'InfoRequested'; readonly question: string }
  | { readonly kind: 'InfoProvided'; readonly answer: string }
  | { readonly kind: 'Edited'; readonly sameType: boolean }
  | { readonly kind: 'WorkStarted' }
  | { readonly kind: 'ImplementationCompleted'; readonly notes: string | undefined }
  | { readonly kind: 'Failed'; readonly reason: string }
  | { readonly kind: 'RolledBack'; readonly notes: string }
  | { readonly kind: 'Closed'; readonly outcome: ClosureOutcome; readonly notes: string }
  | { readonly kind: 'ReviewFiled'; readonly outcome: ClosureOutcome }
  | { readonly kind: 'Cancelled'; readonly reason: string }
  | { readonly kind: 'ExecutionCompleted' }
  | { readonly kind: 'ExecutionFailed'; readonly reason: string }
  | { readonly kind: 'RollbackCompleted'; readonly notes: string }
);

const MARK = 'PII-';
/** Everyone the policy may seat: Contoso's approvers (client steps), Lena (emergency lead). */
const SEATABLE: readonly Person[] = [people.andy, people.avery, people.lena];
const EDIT_SAME = validInput('general', {
  title: `${MARK}edited title`,
  description: `${MARK}edited description`,
  affectedSystems: `${MARK}laptop of Jane`,
});
const EDIT_OTHER = validInput('incident', {
  title: `${MARK}incident`,
  description: `${MARK}incident description`,
});
const INITIAL = validInput('general', {
  title: `${MARK}original title`,
  description: `${MARK}original description`,
});
const RECLASSIFY_REASON = `${MARK}the client's mailbox is compromised and needs locking now`;
const OVERRIDE_REASON = `${MARK}payroll runs this week so the client wants extra care`;

const actorKey = fc.constantFrom<ActorKey>(
  'requester',
  'onBehalfOf',
  'andy',
  'avery',
  'sam',
  'impostor',
  'tina',
  'lena',
  'system',
);
const text = fc.constantFrom(
  '',
  '   ',
  `${MARK}because`,
  `  ${MARK}padded  `,
  `${MARK}${'x'.repeat(NOTE_MAX)}`,
);
const versionDelta = fc.constantFrom(-2, -1, 0, 0, 0, 1);
const outcome = fc.constantFrom<ClosureOutcome>(
  'successful',
  'successful_with_issues',
  'failed',
  'rolled_back',
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('Triaged' as const), actor: actorKey }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('Reclassified' as const),
      actor: actorKey,
      to: fc.constantFrom<ChangeClass>('normal', 'emergency', 'standard'),
      template: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('Assessed' as const),
      actor: actorKey,
      assessment: fc.constantFrom<AssessmentKind>(
        'valid',
        'valid',
        'noRollback',
        'override',
        'overrideWithReason',
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('ApprovalRequested' as const),
      actor: actorKey,
      plan: fc.constantFrom<PlanKind>('current', 'current', 'stale', 'emergency', 'preApproved'),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('VoteCast' as const),
      actor: actorKey,
      outcome: fc.constantFrom<'approved' | 'denied'>('approved', 'approved', 'denied'),
      versionDelta,
      reason: text,
      cardHash: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('InfoRequested' as const),
      actor: actorKey,
      question: text,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('InfoProvided' as const),
      actor: actorKey,
      answer: text,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('Edited' as const),
      actor: actorKey,
      sameType: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('WorkStarted' as const), actor: actorKey }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('ImplementationCompleted' as const),
      actor: actorKey,
      notes: fc.option(text, { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('Failed' as const), actor: actorKey, reason: text }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('RolledBack' as const),
      actor: actorKey,
      notes: text,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('Closed' as const),
      actor: actorKey,
      outcome,
      notes: text,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('ReviewFiled' as const), actor: actorKey, outcome }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('Cancelled' as const),
      actor: actorKey,
      reason: text,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('ExecutionCompleted' as const), actor: actorKey }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ExecutionFailed' as const),
      actor: actorKey,
      reason: text,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('RollbackCompleted' as const),
      actor: actorKey,
      notes: text,
    }),
  },
);

const vote = (
  actor: ActorKey,
  cardHash = true,
  overrides: {
    readonly outcome?: 'approved' | 'denied';
    readonly reason?: string;
    readonly versionDelta?: number;
  } = {},
): Step => ({
  kind: 'VoteCast',
  actor,
  outcome: overrides.outcome ?? 'approved',
  versionDelta: overrides.versionDelta ?? 0,
  reason: overrides.reason ?? '',
  cardHash,
});

/** The happy path so far; a run starts from a random point on it, then goes random. */
const HAPPY: readonly Step[] = [
  { kind: 'Triaged', actor: 'system' },
  { kind: 'Assessed', actor: 'tina', assessment: 'valid' },
  { kind: 'ApprovalRequested', actor: 'tina', plan: 'current' },
  vote('andy'),
  { kind: 'WorkStarted', actor: 'tina' },
  { kind: 'ImplementationCompleted', actor: 'lena', notes: `${MARK}done` },
  { kind: 'ReviewFiled', actor: 'tina', outcome: 'successful' },
];

interface Scenario {
  readonly onBehalf: boolean;
  readonly prefix: number;
  readonly steps: readonly Step[];
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  onBehalf: fc.boolean(),
  prefix: fc.integer({ min: 0, max: HAPPY.length }),
  steps: fc.array(step, { maxLength: 30 }),
});

function personFor(key: Exclude<ActorKey, 'system'>, cr: ChangeRequest): Person {
  if (key === 'requester') return cr.requester;
  if (key === 'onBehalfOf') return cr.onBehalfOf ?? cr.requester;
  return people[key];
}

function contextOf(key: ActorKey, cr: ChangeRequest): TransitionContext {
  return key === 'system'
    ? contextFor(cr.requester, { system: true })
    : contextFor(personFor(key, cr));
}

function assessedOf(kind: AssessmentKind, cr: ChangeRequest): ChangeEvent {
  const rollbackPlan = `${validAssessment().rollbackPlan} ${MARK}`;
  if (kind === 'noRollback') {
    const { rollbackPlan: _none, ...rest } = validAssessment();
    return assessedEvent(cr, rest);
  }
  const event = assessedEvent(cr, validAssessment({ rollbackPlan }));
  if (kind === 'valid' || event.type !== 'Assessed') return event;
  const overridden = { ...event, assessment: { ...event.assessment, risk: 'critical' as const } };
  return kind === 'override' ? overridden : { ...overridden, overrideReason: OVERRIDE_REASON };
}

function eventOf(s: Step, cr: ChangeRequest): ChangeEvent {
  switch (s.kind) {
    case 'Triaged':
    case 'WorkStarted':
      return { type: s.kind };
    case 'Reclassified':
      return {
        type: s.kind,
        to: s.to,
        reason: RECLASSIFY_REASON,
        ...(s.template ? { templateId: 'tpl-general' } : {}),
      };
    case 'Assessed':
      return assessedOf(s.assessment, cr);
    case 'ApprovalRequested': {
      const plan =
        s.plan === 'stale'
          ? { ...planFor(cr), version: cr.version - 1 }
          : s.plan === 'emergency'
            ? planFor({ ...cr, changeClass: 'emergency' })
            : s.plan === 'preApproved'
              ? planFor({ ...cr, changeClass: 'standard', templateId: 'tpl-general' })
              : planFor(cr);
      return { type: s.kind, plan };
    }
    case 'VoteCast': {
      const who = s.actor === 'system' ? cr.requester : personFor(s.actor, cr);
      const round = cr.status === 'review_pending' ? cr.retrospective : cr.approval;
      return voteEvent(cr, who, s.outcome, {
        version: (round?.version ?? cr.version) + s.versionDelta,
        ...(s.outcome === 'denied' ? { reason: s.reason } : {}),
        ...(s.cardHash ? { cardHash: 'a'.repeat(64) } : {}),
      });
    }
    case 'InfoRequested':
      return { type: s.kind, question: s.question };
    case 'InfoProvided':
      return { type: s.kind, answer: s.answer };
    case 'Edited':
      return { type: s.kind, changes: s.sameType ? EDIT_SAME : EDIT_OTHER };
    case 'ImplementationCompleted':
      return s.notes === undefined ? { type: s.kind } : { type: s.kind, notes: s.notes };
    case 'Failed':
    case 'Cancelled':
      return { type: s.kind, reason: s.reason };
    case 'RolledBack':
      return { type: s.kind, notes: s.notes };
    case 'Closed':
      return { type: s.kind, outcome: s.outcome, notes: s.notes };
    case 'ReviewFiled': {
      const review: PostImplementationReview = {
        ...SUCCESSFUL_REVIEW,
        outcome: s.outcome,
        unexpectedImpacts: `${MARK}one mailbox was late`,
      };
      return { type: s.kind, review };
    }
    case 'ExecutionCompleted':
      return { type: s.kind, runId: `${cr.number}-1` };
    case 'ExecutionFailed':
      return { type: s.kind, runId: `${cr.number}-1`, reason: s.reason };
    case 'RollbackCompleted':
      return { type: s.kind, runId: `${cr.number}-2`, notes: s.notes };
  }
}

/** What each accepted event may record and lead to (`same` = the status it came from). */
const OUTCOMES: {
  readonly [K in ChangeEvent['type']]: readonly (readonly [
    AuditEvent['type'],
    ChangeStatus | 'same',
  ])[];
} = {
  Triaged: [['request.triaged', 'triaged']],
  Reclassified: [
    ['request.reclassified', 'same'],
    ['request.reclassified', 'triaged'],
  ],
  Assessed: [['request.assessed', 'triaged']],
  ApprovalRequested: [
    ['approval.requested', 'awaiting_approval'],
    ['approval.pre_approved', 'approved'],
  ],
  VoteCast: [
    ['approval.vote', 'awaiting_approval'],
    ['approval.vote', 'review_pending'],
    ['approval.granted', 'approved'],
    ['approval.denied', 'denied'],
    ['approval.retrospective_decided', 'review_pending'],
    ['approval.retrospective_decided', 'closed'],
  ],
  InfoRequested: [['info.requested', 'needs_info']],
  InfoProvided: [
    ['info.provided', 'triaged'],
    ['info.provided', 'awaiting_approval'],
  ],
  Edited: [['request.edited', 'same']],
  WorkStarted: [['work.started', 'in_progress']],
  ImplementationCompleted: [
    ['work.implemented', 'implemented'],
    ['work.implemented', 'review_pending'],
  ],
  ExecutionCompleted: [
    ['work.implemented', 'implemented'],
    ['work.implemented', 'review_pending'],
  ],
  Failed: [['request.failed', 'failed']],
  ExecutionFailed: [['request.failed', 'failed']],
  RolledBack: [['request.rolled_back', 'rolled_back']],
  RollbackCompleted: [['request.rolled_back', 'rolled_back']],
  Closed: [['request.closed', 'closed']],
  ReviewFiled: [
    ['review.filed', 'closed'],
    ['review.filed', 'same'],
  ],
  Cancelled: [['request.cancelled', 'cancelled']],
};

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const same = (a: { tid: string; oid: string }, b: { tid: string; oid: string }) =>
  a.tid === b.tid && a.oid === b.oid;
const raisedBy = (cr: ChangeRequest, p: Person) =>
  same(cr.requester, p) || (cr.onBehalfOf !== undefined && same(cr.onBehalfOf, p));

/** What the runs reached, so the property cannot pass by never getting anywhere. */
const reached = {
  inProgress: 0,
  closed: 0,
  denied: 0,
  cancelled: 0,
  rolledBack: 0,
  retried: 0,
  reviewPending: 0,
  needsInfo: 0,
  withdrawn: 0,
  codes: new Map<string, number>(),
};

/** Every vote in a round: by a seat of its step, never a party, for the round's version, and one we saw accepted. */
function checkVotes(
  cr: ChangeRequest,
  round: ApprovalState | undefined,
  counted: readonly { readonly by: Person; readonly version: number }[],
): void {
  for (const s of round?.steps ?? [])
    for (const v of s.votes) {
      assert.ok(!raisedBy(cr, v.by) && !raisedBy(cr, v.seat), 'self-approval');
      assert.ok(
        s.approvers.some((a) => same(a, v.seat)),
        'a vote in a seat the step does not have',
      );
      assert.ok(
        SEATABLE.some((d) => same(d, v.seat)),
        'a seat for someone the policy never names',
      );
      assert.equal(v.version, round?.version, 'a vote for another version');
      assert.ok(
        counted.some((c) => same(c.by, v.by) && c.version === v.version),
        'a vote nobody cast',
      );
    }
}

function run(sc: Scenario): void {
  const initial = submitted(
    sc.onBehalf
      ? { requester: people.tina, onBehalfOf: people.avery, source: 'msp', input: INITIAL }
      : { input: INITIAL },
  ).request;
  let cr = deepFreeze(initial);
  /** Our own record of accepted votes, independent of what the request says about itself. */
  const counted: { readonly by: Person; readonly version: number }[] = [];

  for (const s of [...HAPPY.slice(0, sc.prefix), ...sc.steps]) {
    const ctx = contextOf(s.actor, cr);
    const event = eventOf(s, cr);
    const snapshot = structuredClone(cr);
    const wasTerminal = isTerminal(cr.status);

    const result = transition(cr, event, ctx);

    // The input is never touched, accepted or not (it is also frozen: a write would throw).
    assert.deepStrictEqual(cr, snapshot);
    if (!result.ok) {
      assert.ok(result.error instanceof DomainError, 'a refusal is a DomainError value');
      assert.match(result.error.code, /^(CR|APPROVAL|ASSESS|SCHED)\.[A-Z_]+$/);
      reached.codes.set(result.error.code, (reached.codes.get(result.error.code) ?? 0) + 1);
      continue;
    }
    const { next, audit } = result.value;

    // Terminal states stay terminal: only a late review is taken, and it moves nothing.
    if (wasTerminal) {
      assert.equal(
        event.type,
        'ReviewFiled',
        `${event.type} was accepted on a ${cr.status} request`,
      );
      assert.equal(next.status, cr.status);
    }
    assert.ok(next.version >= cr.version, 'version decreased');
    assert.ok(next.version <= cr.version + 1, 'version jumped');
    assert.equal(next.id, cr.id);
    assert.equal(next.tenantId, cr.tenantId);
    assert.deepEqual(next.requester, cr.requester);

    // Exactly one audit event, of the kind this event records, for this request, by whoever acted.
    assert.ok(audit && !Array.isArray(audit), 'one audit event');
    assert.ok(
      OUTCOMES[event.type].some(
        ([type, status]) =>
          type === audit.type && (status === 'same' ? cr.status : status) === next.status,
      ),
      `${event.type} in ${cr.status} recorded ${audit.type} and led to ${next.status}`,
    );
    assert.equal(audit.requestId, cr.id);
    assert.equal(audit.payload['status'], next.status);
    const expectedActor = ctx.system
      ? { tid: ctx.actor.tid, oid: SYSTEM_OID }
      : { tid: ctx.actor.tid, oid: ctx.actor.oid };
    assert.deepEqual(audit.actor, expectedActor, `${event.type} by ${s.actor}`);
    assert.ok(
      !JSON.stringify(audit.payload).includes(MARK),
      `personal data in the clear payload of ${audit.type}`,
    );

    if (event.type === 'VoteCast') counted.push({ by: ctx.actor, version: event.decision.version });
    if (cr.approval && !next.approval) reached.withdrawn += 1;

    // Approvals are bound to the version, seat the right people, and nobody approves their own.
    checkVotes(next, next.approval, counted);
    checkVotes(next, next.retrospective, counted);
    if (['approved', 'in_progress', 'implemented', 'review_pending'].includes(next.status)) {
      assert.equal(next.approval?.status, 'approved', `${next.status} without an approval`);
      assert.equal(next.approval.version, next.version, 'approval of another version');
      const votes = next.approval.steps.flatMap((st) => st.votes);
      if (votes.length === 0)
        assert.ok(
          next.changeClass === 'standard' && next.templateId !== undefined,
          'approved with no vote, yet not a standard change under a template',
        );
    }
    if (next.status === 'in_progress' && cr.status !== 'in_progress') {
      reached.inProgress += 1;
      if (cr.status === 'failed') reached.retried += 1;
    }
    if (next.status === 'closed' && cr.status !== 'closed') reached.closed += 1;
    if (next.status === 'denied') reached.denied += 1;
    if (next.status === 'cancelled') reached.cancelled += 1;
    if (next.status === 'rolled_back' && cr.status !== 'rolled_back') reached.rolledBack += 1;
    if (next.status === 'review_pending') reached.reviewPending += 1;
    if (next.status === 'needs_info') reached.needsInfo += 1;

    cr = deepFreeze(next);
  }
}

describe(`${transition.name} (property)`, () => {
  it('keeps its rules under any sequence of events, actors, versions and reasons', () => {
    // Hand-picked runs that always execute alongside the random ones, so every outcome is exercised.
    const examples: [Scenario][] = [
      // Non-staff triage, no assessment, a type change, an edit while awaiting approval, an old-version card, then the new one.
      [
        {
          onBehalf: false,
          prefix: 0,
          steps: [
            { kind: 'Triaged', actor: 'requester' },
            { kind: 'Triaged', actor: 'system' },
            { kind: 'ApprovalRequested', actor: 'lena', plan: 'current' },
            { kind: 'Assessed', actor: 'tina', assessment: 'override' },
            { kind: 'Assessed', actor: 'tina', assessment: 'noRollback' },
            { kind: 'ApprovalRequested', actor: 'lena', plan: 'current' },
            { kind: 'Assessed', actor: 'tina', assessment: 'overrideWithReason' },
            { kind: 'ApprovalRequested', actor: 'lena', plan: 'stale' },
            { kind: 'ApprovalRequested', actor: 'lena', plan: 'preApproved' },
            { kind: 'ApprovalRequested', actor: 'lena', plan: 'current' },
            { kind: 'Edited', actor: 'requester', sameType: false },
            { kind: 'Edited', actor: 'requester', sameType: true },
            vote('andy', true, { versionDelta: -1 }),
            { kind: 'WorkStarted', actor: 'tina' },
            vote('andy', false),
            vote('andy', false),
            { kind: 'WorkStarted', actor: 'tina' },
          ],
        },
      ],
      // The on-behalf-of approver and an impostor with a designated oid both try to approve.
      [
        {
          onBehalf: true,
          prefix: 3,
          steps: [
            vote('onBehalfOf'),
            vote('impostor'),
            vote('sam'),
            { kind: 'WorkStarted', actor: 'lena' },
          ],
        },
      ],
      // A question, a wrong answerer, the answer; a denial needs a reason and is final.
      [
        {
          onBehalf: false,
          prefix: 3,
          steps: [
            { kind: 'InfoRequested', actor: 'avery', question: `${MARK}which one?` },
            { kind: 'InfoProvided', actor: 'andy', answer: `${MARK}this one` },
            { kind: 'InfoProvided', actor: 'requester', answer: `${MARK}this one` },
            vote('avery', true, { outcome: 'denied', reason: '  ' }),
            vote('avery', true, { outcome: 'denied', reason: `${MARK}no` }),
            vote('andy'),
          ],
        },
      ],
      // Cancel: not by a bystander, not without a reason, then by the requester.
      [
        {
          onBehalf: false,
          prefix: 1,
          steps: [
            { kind: 'Cancelled', actor: 'sam', reason: `${MARK}x` },
            { kind: 'Cancelled', actor: 'requester', reason: '' },
            { kind: 'Cancelled', actor: 'requester', reason: `${MARK}c` },
            { kind: 'Triaged', actor: 'tina' },
          ],
        },
      ],
      // Fail, retry, fail, roll back, then everything else bounces off.
      [
        {
          onBehalf: false,
          prefix: 5,
          steps: [
            { kind: 'Failed', actor: 'tina', reason: `${MARK}x` },
            { kind: 'WorkStarted', actor: 'lena' },
            { kind: 'Failed', actor: 'lena', reason: `${MARK}y` },
            { kind: 'RolledBack', actor: 'tina', notes: '' },
            { kind: 'Cancelled', actor: 'requester', reason: `${MARK}z` },
            { kind: 'WorkStarted', actor: 'tina' },
            { kind: 'ReviewFiled', actor: 'tina', outcome: 'rolled_back' },
          ],
        },
      ],
      // Close: not by Closed for a normal change, not by the client, then by review.
      [
        {
          onBehalf: false,
          prefix: 6,
          steps: [
            { kind: 'Closed', actor: 'tina', outcome: 'successful', notes: '' },
            { kind: 'ReviewFiled', actor: 'requester', outcome: 'successful' },
            { kind: 'ReviewFiled', actor: 'tina', outcome: 'failed' },
            { kind: 'ReviewFiled', actor: 'tina', outcome: 'successful' },
          ],
        },
      ],
      // An emergency: reclassified, approved by the lead, implemented, reviewed and approved afterwards.
      [
        {
          onBehalf: false,
          prefix: 3,
          steps: [
            { kind: 'Reclassified', actor: 'tina', to: 'emergency', template: false },
            { kind: 'Assessed', actor: 'tina', assessment: 'valid' },
            { kind: 'ApprovalRequested', actor: 'system', plan: 'current' },
            vote('andy'),
            vote('lena'),
            { kind: 'WorkStarted', actor: 'tina' },
            { kind: 'ImplementationCompleted', actor: 'tina', notes: undefined },
            { kind: 'ReviewFiled', actor: 'tina', outcome: 'successful' },
            vote('requester'),
            vote('avery'),
          ],
        },
      ],
    ];
    fc.assert(
      fc.property(scenario, (sc) => run(sc)),
      { numRuns: 600, examples },
    );

    assert.ok(reached.inProgress > 0, 'no run reached in_progress');
    assert.ok(reached.retried > 0, 'no run retried after a failure');
    assert.ok(reached.reviewPending > 0, 'no run reached review_pending');
    assert.ok(reached.needsInfo > 0, 'no run asked a question');
    assert.ok(reached.withdrawn > 0, 'no run withdrew an approval round');
    for (const outcome of ['closed', 'denied', 'cancelled', 'rolledBack'] as const)
      assert.ok(reached[outcome] > 0, `no run ended ${outcome}`);
    for (const code of [
      'CR.SELF_APPROVAL',
      'CR.NOT_AN_APPROVER',
      'CR.STALE_VERSION',
      'CR.NOT_STAFF',
      'CR.REASON_REQUIRED',
      'CR.INVALID_TRANSITION',
      'CR.TYPE_CHANGED',
      'CR.ASSESSMENT_REQUIRED',
      'CR.APPROVAL_PLAN_MISMATCH',
      'CR.REVIEW_REQUIRED',
      'APPROVAL.DUPLICATE_VOTE',
      'ASSESS.REASON_REQUIRED',
      'ASSESS.ROLLBACK_PLAN_REQUIRED',
    ]) {
      assert.ok((reached.codes.get(code) ?? 0) > 0, `no run was refused with ${code}`);
    }
  });
});
