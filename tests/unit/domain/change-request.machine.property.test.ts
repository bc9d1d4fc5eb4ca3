import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { SYSTEM_OID, type AuditEvent } from '../../../src/domain/audit/audit-event';
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
import { contextFor, contosoProfile, people, submitted, validInput } from '../../support/fixtures';

/**
 * Random event sequences against the normal-change machine. Every piece of free text carries the
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
type ApproverPick = 'andy' | 'avery' | 'requester' | 'onBehalfOf' | 'impostor';

type Step = { readonly actor: ActorKey } & (
  | { readonly kind: 'Triaged' }
  | { readonly kind: 'ApprovalRequested'; readonly approvers: readonly ApproverPick[] }
  | { readonly kind: 'ApprovalGranted'; readonly versionDelta: number; readonly cardHash: boolean }
  | { readonly kind: 'ApprovalDenied'; readonly versionDelta: number; readonly reason: string }
  | { readonly kind: 'Edited'; readonly sameType: boolean }
  | { readonly kind: 'WorkStarted' }
  | { readonly kind: 'ImplementationCompleted'; readonly notes: string | undefined }
  | { readonly kind: 'Failed'; readonly reason: string }
  | { readonly kind: 'RolledBack'; readonly notes: string }
  | { readonly kind: 'Closed'; readonly outcome: ClosureOutcome; readonly notes: string }
  | { readonly kind: 'Cancelled'; readonly reason: string }
  | { readonly kind: 'ExecutionCompleted' }
  | { readonly kind: 'ExecutionFailed'; readonly reason: string }
  | { readonly kind: 'RollbackCompleted'; readonly notes: string }
);

const MARK = 'PII-';
const DESIGNATED: readonly Person[] = contosoProfile().approvers;
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
const approverPicks = fc.subarray<ApproverPick>(
  ['andy', 'avery', 'requester', 'onBehalfOf', 'impostor'],
  { minLength: 1 },
);

const versionDelta = fc.constantFrom(-2, -1, 0, 0, 0, 1, 2);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('Triaged' as const), actor: actorKey }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('ApprovalRequested' as const),
      actor: actorKey,
      approvers: approverPicks,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('ApprovalGranted' as const),
      actor: actorKey,
      versionDelta,
      cardHash: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('ApprovalDenied' as const),
      actor: actorKey,
      versionDelta,
      reason: text,
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
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('Closed' as const),
      actor: actorKey,
      outcome: fc.constantFrom<ClosureOutcome>(
        'successful',
        'successful_with_issues',
        'failed',
        'rolled_back',
      ),
      notes: text,
    }),
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

/** The happy path so far; a run starts from a random point on it, then goes random. */
const HAPPY: readonly Step[] = [
  { kind: 'Triaged', actor: 'system' },
  { kind: 'ApprovalRequested', actor: 'tina', approvers: ['andy', 'avery'] },
  { kind: 'ApprovalGranted', actor: 'andy', versionDelta: 0, cardHash: true },
  { kind: 'WorkStarted', actor: 'tina' },
  { kind: 'ImplementationCompleted', actor: 'lena', notes: `${MARK}done` },
];

interface Scenario {
  readonly onBehalf: boolean;
  /** Whom the happy path's approval round is sent to, eligible or not. */
  readonly round: readonly ApproverPick[];
  readonly prefix: number;
  readonly steps: readonly Step[];
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  onBehalf: fc.boolean(),
  round: approverPicks,
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

function eventOf(s: Step, cr: ChangeRequest): ChangeEvent {
  switch (s.kind) {
    case 'Triaged':
    case 'WorkStarted':
      return { type: s.kind };
    case 'ApprovalRequested':
      return { type: s.kind, approvers: s.approvers.map((k) => personFor(k, cr)) };
    case 'ApprovalGranted':
      return {
        type: s.kind,
        version: cr.version + s.versionDelta,
        ...(s.cardHash ? { cardHash: 'a'.repeat(64) } : {}),
      };
    case 'ApprovalDenied':
      return { type: s.kind, version: cr.version + s.versionDelta, reason: s.reason };
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
    case 'ExecutionCompleted':
      return { type: s.kind, runId: `${cr.number}-1` };
    case 'ExecutionFailed':
      return { type: s.kind, runId: `${cr.number}-1`, reason: s.reason };
    case 'RollbackCompleted':
      return { type: s.kind, runId: `${cr.number}-2`, notes: s.notes };
  }
}

const AUDIT_TYPE: { readonly [K in ChangeEvent['type']]: AuditEvent['type'] } = {
  Triaged: 'request.triaged',
  ApprovalRequested: 'approval.requested',
  ApprovalGranted: 'approval.granted',
  ApprovalDenied: 'approval.denied',
  Edited: 'request.edited',
  WorkStarted: 'work.started',
  ImplementationCompleted: 'work.implemented',
  Failed: 'request.failed',
  RolledBack: 'request.rolled_back',
  Closed: 'request.closed',
  Cancelled: 'request.cancelled',
  ExecutionCompleted: 'work.implemented',
  ExecutionFailed: 'request.failed',
  RollbackCompleted: 'request.rolled_back',
};

const TARGET: { readonly [K in Exclude<ChangeEvent['type'], 'Edited'>]: ChangeStatus } = {
  Triaged: 'triaged',
  ApprovalRequested: 'awaiting_approval',
  ApprovalGranted: 'approved',
  ApprovalDenied: 'denied',
  WorkStarted: 'in_progress',
  ImplementationCompleted: 'implemented',
  Failed: 'failed',
  RolledBack: 'rolled_back',
  Closed: 'closed',
  Cancelled: 'cancelled',
  ExecutionCompleted: 'implemented',
  ExecutionFailed: 'failed',
  RollbackCompleted: 'rolled_back',
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
  codes: new Map<string, number>(),
};

function run(sc: Scenario): void {
  const initial = submitted(
    sc.onBehalf
      ? { requester: people.tina, onBehalfOf: people.avery, source: 'msp', input: INITIAL }
      : { input: INITIAL },
  ).request;
  let cr = deepFreeze(initial);
  /** Our own record of accepted grants, independent of what the request says about itself. */
  const grants: { readonly by: Person; readonly version: number }[] = [];

  const happy = HAPPY.map((h) =>
    h.kind === 'ApprovalRequested' ? { ...h, approvers: sc.round } : h,
  );
  for (const s of [...happy.slice(0, sc.prefix), ...sc.steps]) {
    const ctx = contextOf(s.actor, cr);
    const event = eventOf(s, cr);
    const snapshot = structuredClone(cr);
    const wasTerminal = isTerminal(cr.status);

    const result = transition(cr, event, ctx);

    // (c) the input is never touched, accepted or not (it is also frozen: a write would throw).
    assert.deepStrictEqual(cr, snapshot);
    if (!result.ok) {
      assert.ok(result.error instanceof DomainError, 'a refusal is a DomainError value');
      assert.match(result.error.code, /^CR\.[A-Z_]+$/);
      reached.codes.set(result.error.code, (reached.codes.get(result.error.code) ?? 0) + 1);
      continue;
    }
    const { next, audit } = result.value;

    // (d) terminal states absorb everything; versions never go back.
    assert.equal(wasTerminal, false, `${event.type} was accepted on a ${cr.status} request`);
    assert.ok(next.version >= cr.version, 'version decreased');
    assert.ok(next.version <= cr.version + 1, 'version jumped');
    assert.equal(next.id, cr.id);
    assert.equal(next.tenantId, cr.tenantId);
    assert.deepEqual(next.requester, cr.requester);

    // (b) exactly one audit event, for this request, by whoever acted.
    assert.ok(audit && !Array.isArray(audit), 'one audit event');
    assert.equal(audit.type, AUDIT_TYPE[event.type]);
    assert.equal(
      next.status,
      event.type === 'Edited' ? cr.status : TARGET[event.type],
      `${event.type} led to ${next.status}`,
    );
    assert.equal(audit.requestId, cr.id);
    const expectedActor = ctx.system
      ? { tid: ctx.actor.tid, oid: SYSTEM_OID }
      : { tid: ctx.actor.tid, oid: ctx.actor.oid };
    assert.deepEqual(audit.actor, expectedActor, `${event.type} by ${s.actor}`);
    assert.ok(
      !JSON.stringify(audit.payload).includes(MARK),
      `personal data in the clear payload of ${audit.type}`,
    );

    if (event.type === 'ApprovalGranted') grants.push({ by: ctx.actor, version: event.version });

    // (a) in_progress only on a current approval by a designated approver who did not raise the request.
    if (
      next.status === 'in_progress' ||
      next.status === 'approved' ||
      next.status === 'implemented'
    ) {
      const decision = next.approval?.decision;
      assert.equal(decision?.outcome, 'approved', `${next.status} without an approval`);
      assert.ok(
        DESIGNATED.some((d) => same(d, decision.by)),
        'decided by someone who is not a designated approver',
      );
      assert.ok(
        next.approval?.approvers.some((a) => same(a, decision.by)),
        'decided by someone the round was not sent to',
      );
      assert.ok(!raisedBy(next, decision.by), 'self-approval');
      assert.equal(next.approval?.version, next.version, 'approval of another version');
    }
    if (next.status === 'in_progress' && cr.status !== 'in_progress') {
      assert.ok(
        grants.some(
          (g) =>
            g.version === next.version &&
            DESIGNATED.some((d) => same(d, g.by)) &&
            !raisedBy(next, g.by),
        ),
        'work started without an accepted grant of this version by a designated non-requester',
      );
      reached.inProgress += 1;
      if (cr.status === 'failed') reached.retried += 1;
    }
    if (next.status === 'closed') reached.closed += 1;
    if (next.status === 'denied') reached.denied += 1;
    if (next.status === 'cancelled') reached.cancelled += 1;
    if (next.status === 'rolled_back') reached.rolledBack += 1;

    cr = deepFreeze(next);
  }
}

describe(`${transition.name} (property)`, () => {
  it('keeps its rules under any sequence of events, actors, versions and reasons', () => {
    // Hand-picked runs that always execute alongside the random ones, so every outcome is exercised.
    const examples: [Scenario][] = [
      // Non-staff triage, a type change, an edit while awaiting approval, an old-version card, then the new one.
      [
        {
          onBehalf: false,
          round: ['andy', 'avery'],
          prefix: 0,
          steps: [
            { kind: 'Triaged', actor: 'requester' },
            { kind: 'Triaged', actor: 'system' },
            { kind: 'ApprovalRequested', actor: 'lena', approvers: ['requester', 'andy'] },
            { kind: 'Edited', actor: 'requester', sameType: false },
            { kind: 'Edited', actor: 'requester', sameType: true },
            { kind: 'ApprovalGranted', actor: 'andy', versionDelta: -1, cardHash: false },
            { kind: 'WorkStarted', actor: 'tina' },
            { kind: 'ApprovalGranted', actor: 'andy', versionDelta: 0, cardHash: false },
            { kind: 'WorkStarted', actor: 'tina' },
          ],
        },
      ],
      // The on-behalf-of approver and an impostor with a designated oid both try to approve.
      [
        {
          onBehalf: true,
          round: ['andy', 'avery', 'onBehalfOf'],
          prefix: 2,
          steps: [
            { kind: 'ApprovalGranted', actor: 'onBehalfOf', versionDelta: 0, cardHash: true },
            { kind: 'ApprovalGranted', actor: 'impostor', versionDelta: 0, cardHash: true },
            { kind: 'WorkStarted', actor: 'lena' },
          ],
        },
      ],
      // Deny needs a reason, and a denial is final.
      [
        {
          onBehalf: false,
          round: ['andy', 'avery'],
          prefix: 2,
          steps: [
            { kind: 'ApprovalDenied', actor: 'avery', versionDelta: 0, reason: '  ' },
            { kind: 'ApprovalDenied', actor: 'avery', versionDelta: 0, reason: `${MARK}no` },
            { kind: 'ApprovalGranted', actor: 'andy', versionDelta: 0, cardHash: false },
          ],
        },
      ],
      // Cancel: not by a bystander, not without a reason, then by the requester.
      [
        {
          onBehalf: false,
          round: ['andy', 'avery'],
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
          round: ['andy', 'avery'],
          prefix: 4,
          steps: [
            { kind: 'Failed', actor: 'tina', reason: `${MARK}x` },
            { kind: 'WorkStarted', actor: 'lena' },
            { kind: 'Failed', actor: 'lena', reason: `${MARK}y` },
            { kind: 'RolledBack', actor: 'tina', notes: '' },
            { kind: 'Cancelled', actor: 'requester', reason: `${MARK}z` },
            { kind: 'WorkStarted', actor: 'tina' },
          ],
        },
      ],
      // Close: not as failed from implemented, not by the client, then properly.
      [
        {
          onBehalf: false,
          round: ['andy', 'avery'],
          prefix: 5,
          steps: [
            { kind: 'Closed', actor: 'tina', outcome: 'failed', notes: '' },
            { kind: 'Closed', actor: 'requester', outcome: 'successful', notes: '' },
            { kind: 'Closed', actor: 'tina', outcome: 'successful', notes: `${MARK}notes` },
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
    ]) {
      assert.ok((reached.codes.get(code) ?? 0) > 0, `no run was refused with ${code}`);
    }
  });
});
