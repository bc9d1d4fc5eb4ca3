import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { Person } from '../../../src/domain/change-request/change-request';
import type {
  CommandOutcome,
  DirectoryCheck,
  DirectoryCommand,
  DirectoryFailure,
} from '../../../src/domain/execution/directory';
import { checkFor } from '../../../src/domain/execution/directory-commands';
import type {
  ChecklistItem,
  ExecutionPlan,
  PlanStep,
} from '../../../src/domain/execution/execution-plan';
import {
  formatRunId,
  isFinal,
  type ExecutionRun,
  type RunStatus,
} from '../../../src/domain/execution/execution-run';
import {
  initialProgress,
  nextMove,
  recordCompensating,
  recordCompensation,
  recordFinished,
  recordOutcome,
  recordStarted,
  recordTicked,
  recordVerified,
  recordWaiting,
  type SagaUpdate,
} from '../../../src/domain/execution/execution.saga';
import { planRollback } from '../../../src/domain/execution/rollback-plan';
import type { ChangeRequestId } from '../../../src/domain/shared/ids';
import { people } from '../../support/fixtures';

/**
 * Random plans over a tiny directory model, driven by the pure saga rules with random refusals,
 * throttling, lost responses and crashes; then the saga's promises are checked on the outcome.
 */

const USER = 'u-1';
const UPN = 'sam@contoso.example';
const tina: Person = people.tina;

/** The directory, as far as the random plans touch it. */
interface Model {
  enabled: boolean;
  manager: string | null;
  groups: Record<string, boolean>;
  licences: Record<string, boolean>;
  /** Revoking sessions cannot be undone (or read back); counted apart from the restorable state. */
  revoked: number;
}

type StepKind = 'join' | 'leave' | 'licence' | 'disable' | 'manager' | 'revoke';
/** What happens to one attempt of a command. */
type Fate = 'ok' | 'refused' | 'throttled' | 'lost' | 'crash';

interface Scenario {
  readonly kinds: readonly StepKind[];
  readonly breaks: readonly boolean[];
  readonly ponrPick: number;
  readonly gates: readonly (number | null)[];
  readonly forward: readonly (readonly Fate[])[];
  readonly undo: readonly (readonly Fate[])[];
  readonly tickEarly: boolean;
}

const fate = fc.constantFrom<Fate>('ok', 'ok', 'ok', 'ok', 'refused', 'throttled', 'lost', 'crash');
const scenario: fc.Arbitrary<Scenario> = fc.record({
  kinds: fc.array(
    fc.constantFrom<StepKind>('join', 'leave', 'licence', 'disable', 'manager', 'revoke'),
    {
      minLength: 1,
      maxLength: 7,
    },
  ),
  breaks: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
  ponrPick: fc.nat(),
  gates: fc.array(fc.option(fc.nat({ max: 6 }), { nil: null }), { maxLength: 2 }),
  forward: fc.array(fc.array(fate, { maxLength: 3 }), { minLength: 7, maxLength: 7 }),
  undo: fc.array(fc.array(fate, { maxLength: 3 }), { minLength: 7, maxLength: 7 }),
  tickEarly: fc.boolean(),
});

function buildPlan(sc: Scenario): { plan: ExecutionPlan; initial: Model } {
  const initial: Model = { enabled: true, manager: 'm-0', groups: {}, licences: {}, revoked: 0 };
  const seen = new Set<StepKind>();
  const steps: PlanStep[] = [];
  let wave = 0;
  sc.kinds.forEach((raw, i) => {
    // Sign-in, manager and sessions are one resource each: a second step on them becomes a group join.
    const kind: StepKind =
      (raw === 'disable' || raw === 'manager' || raw === 'revoke') && seen.has(raw) ? 'join' : raw;
    seen.add(kind);
    if (i > 0 && sc.breaks[i]) wave += 1;
    const id = `s${i}-${kind}`;
    const resource = `r${i}`;
    const spec = ((): {
      forward: DirectoryCommand;
      compensation?: DirectoryCommand;
      verify?: DirectoryCheck;
    } => {
      switch (kind) {
        case 'join':
          initial.groups[resource] = false;
          return {
            forward: { kind: 'group.add', groupId: resource, userId: USER, relation: 'member' },
            compensation: {
              kind: 'group.remove',
              groupId: resource,
              userId: USER,
              relation: 'member',
            },
          };
        case 'leave':
          initial.groups[resource] = true;
          return {
            forward: { kind: 'group.remove', groupId: resource, userId: USER, relation: 'member' },
            compensation: {
              kind: 'group.add',
              groupId: resource,
              userId: USER,
              relation: 'member',
            },
          };
        case 'licence':
          initial.licences[resource] = false;
          return {
            forward: {
              kind: 'user.assignLicences',
              userId: USER,
              add: [{ skuId: resource, disabledPlans: [] }],
              remove: [],
            },
            compensation: {
              kind: 'user.assignLicences',
              userId: USER,
              add: [],
              remove: [resource],
            },
          };
        case 'disable':
          return {
            forward: { kind: 'user.update', userId: USER, changes: { accountEnabled: false } },
            compensation: { kind: 'user.update', userId: USER, changes: { accountEnabled: true } },
          };
        case 'manager':
          return {
            forward: { kind: 'user.removeManager', userId: USER },
            compensation: { kind: 'user.setManager', userId: USER, managerId: 'm-0' },
          };
        case 'revoke':
          return {
            forward: { kind: 'user.revokeSessions', userId: USER },
            verify: { kind: 'user.sessionsRevoked', userId: USER, validFromBefore: 'revocation-0' },
          };
      }
    })();
    steps.push({
      id,
      title: `step ${id}`,
      forward: spec.forward,
      verify: spec.verify ?? checkFor(spec.forward, UPN),
      wave,
      ...(spec.compensation ? { compensation: spec.compensation } : {}),
    });
  });
  // The point of no return sits at a wave boundary, as the planners put it.
  const boundaries = [
    0,
    ...steps.flatMap((s, i) => (i > 0 && s.wave !== steps[i - 1]!.wave ? [i] : [])),
    steps.length,
  ];
  const pointOfNoReturn = boundaries[sc.ponrPick % boundaries.length]!;
  const checklist: ChecklistItem[] = sc.gates.map((g, i) => ({
    id: `item-${i}`,
    title: `task ${i}`,
    detail: 'by hand',
    ...(g !== null && steps[g % steps.length] ? { before: steps[g % steps.length]!.id } : {}),
  }));
  return {
    plan: {
      requestId: 'CONTOSO-7' as ChangeRequestId,
      requestVersion: 3,
      type: 'offboard',
      subject: { userPrincipalName: UPN, displayName: 'Sam', userId: USER },
      steps,
      pointOfNoReturn,
      checklist,
      notes: [],
    },
    initial,
  };
}

function apply(model: Model, c: DirectoryCommand): void {
  switch (c.kind) {
    case 'group.add':
    case 'group.remove':
      model.groups[c.groupId] = c.kind === 'group.add';
      return;
    case 'user.assignLicences':
      for (const a of c.add) model.licences[a.skuId] = true;
      for (const r of c.remove) model.licences[r] = false;
      return;
    case 'user.update':
      if (c.changes.accountEnabled !== undefined) model.enabled = c.changes.accountEnabled;
      return;
    case 'user.removeManager':
      model.manager = null;
      return;
    case 'user.setManager':
      model.manager = c.managerId;
      return;
    case 'user.revokeSessions':
      model.revoked += 1;
      return;
    case 'user.create':
    case 'user.delete':
    case 'user.restore':
    case 'user.setAutoReply':
      throw new Error(`the model does not know ${c.kind}`);
  }
}

function holds(model: Model, c: DirectoryCheck): boolean {
  switch (c.kind) {
    case 'none':
      return false;
    case 'user.inGroup':
      return (model.groups[c.groupId] ?? false) === c.expected;
    case 'user.licences':
      return c.has.every((s) => model.licences[s]) && c.lacks.every((s) => !model.licences[s]);
    case 'user.enabled':
      return model.enabled === c.expected;
    case 'user.manager':
      return model.manager === c.managerId;
    case 'user.sessionsRevoked':
      return `revocation-${model.revoked}` !== c.validFromBefore;
    case 'user.autoReply':
    case 'user.exists':
      throw new Error(`the model cannot check ${c.kind}`);
  }
}

const refused: DirectoryFailure = {
  reason: 'invalid',
  code: 'Request_BadRequest',
  message: 'no',
  retryable: false,
  httpStatus: 400,
};
const throttled: DirectoryFailure = {
  reason: 'throttled',
  code: 'TooManyRequests',
  message: 'slow down',
  retryable: true,
  httpStatus: 429,
  retryAfterMs: 2000,
};

function newRun(plan: ExecutionPlan, kind: 'execute' | 'rollback' = 'execute'): ExecutionRun {
  return {
    id: formatRunId(7, kind === 'execute' ? 1 : 2),
    tenantId: tina.tid,
    requestId: plan.requestId,
    requestVersion: plan.requestVersion,
    kind,
    status: 'running',
    startedBy: tina,
    options: {},
    plan,
    ...initialProgress(plan),
    createdAt: '2026-11-23T09:00:00.000Z',
    updatedAt: '2026-11-23T09:00:00.000Z',
  };
}

/** What happened while driving one run, for the properties. */
interface Trace {
  readonly run: ExecutionRun;
  /** Step ids in the order the directory applied their forward commands. */
  readonly forwardApplied: string[];
  /** Step ids in the order they were recorded compensated. */
  readonly compensated: string[];
  /** Step ids in the order they were recorded done. */
  readonly done: string[];
  readonly audit: number;
}

/**
 * Drives a run to its end like the worker: every reducer result is "persisted"; a crash drops the
 * outcomes of the batch in flight and carries on from the last persisted run.
 */
function drive(
  start: ExecutionRun,
  model: Model,
  fates: {
    readonly forward: readonly (readonly Fate[])[];
    readonly undo: readonly (readonly Fate[])[];
  },
  tickEarly: boolean,
): Trace {
  let run = start;
  let now = Date.parse('2026-11-23T09:00:00.000Z');
  const tries = new Map<string, number>();
  const trace = {
    forwardApplied: [] as string[],
    compensated: [] as string[],
    done: [] as string[],
    audit: 0,
  };
  const plan = run.plan!;
  const indexOf = (id: string) => plan.steps.findIndex((s) => s.id === id);
  const persist = (u: SagaUpdate) => {
    for (const p of u.run.steps) {
      const before = run.steps.find((x) => x.id === p.id)!.status;
      // Back to done from `compensating` (an undo found not to have happened) is not a completion.
      if (p.status === 'done' && (before === 'pending' || before === 'started'))
        trace.done.push(p.id);
      if (p.status === 'compensated' && before !== 'compensated') trace.compensated.push(p.id);
    }
    for (const e of u.audit)
      assert.ok(!JSON.stringify(e.payload).includes(UPN), 'a UPN in the clear payload');
    trace.audit += u.audit.length;
    run = u.run;
  };
  const fateOf = (phase: 'f' | 'u', id: string): Fate => {
    const key = `${phase}:${id}`;
    const n = tries.get(key) ?? 0;
    tries.set(key, n + 1);
    const script = (phase === 'f' ? fates.forward : fates.undo)[indexOf(id) % 7] ?? [];
    return script[n] ?? 'ok';
  };
  /** Sends a batch; undefined when the process "crashed" before the outcomes were written. */
  const send = (phase: 'f' | 'u', steps: readonly PlanStep[]): CommandOutcome[] | undefined => {
    const outcomes: CommandOutcome[] = [];
    for (const s of steps) {
      const command = phase === 'f' ? s.forward : s.compensation!;
      const f = fateOf(phase, s.id);
      if (f === 'crash') return undefined;
      if (f === 'refused') outcomes.push({ ok: false, failure: refused });
      else if (f === 'throttled') outcomes.push({ ok: false, failure: throttled });
      else {
        apply(model, command);
        if (phase === 'f') trace.forwardApplied.push(s.id);
        if (f === 'lost') return undefined;
        outcomes.push({ ok: true });
      }
    }
    return outcomes;
  };

  if (tickEarly)
    for (const c of plan.checklist)
      persist(recordTicked(run, c.id, tina, new Date(now).toISOString()));

  for (let i = 0; i < 400 && !isFinal(run.status); i += 1) {
    now += 1000;
    const at = new Date(now).toISOString();
    const move = nextMove(run, at);
    switch (move.kind) {
      case 'none':
      case 'prepare':
        throw new Error(`unexpected ${move.kind}`);
      case 'sleep':
        assert.ok(move.until > at);
        now = Date.parse(move.until);
        break;
      case 'verify':
        for (const s of move.steps) {
          const check = move.phase === 'forward' ? s.verify : checkFor(s.compensation!, UPN);
          persist(recordVerified(run, s.id, holds(model, check), at));
        }
        break;
      case 'forward': {
        for (const s of move.steps) {
          assert.notEqual(
            run.steps.find((p) => p.id === s.id)!.status,
            'done',
            `${s.id} sent again after done`,
          );
          const gate = plan.checklist.find((c) => c.before === s.id);
          if (gate)
            assert.ok(
              run.checklist.find((c) => c.id === gate.id)!.done,
              `${s.id} ran before its gate`,
            );
        }
        persist(
          recordStarted(
            run,
            move.steps.map((s) => s.id),
            at,
          ),
        );
        const outcomes = send('f', move.steps);
        if (outcomes)
          move.steps.forEach((s, k) => persist(recordOutcome(run, s.id, outcomes[k]!, at)));
        break;
      }
      case 'compensate': {
        persist(
          recordCompensating(
            run,
            move.steps.map((s) => s.id),
            at,
          ),
        );
        const outcomes = send('u', move.steps);
        if (outcomes)
          move.steps.forEach((s, k) => persist(recordCompensation(run, s.id, outcomes[k]!, at)));
        break;
      }
      case 'wait':
        persist(recordWaiting(run, move.reason, at));
        for (const id of move.items) persist(recordTicked(run, id, tina, at));
        break;
      case 'finish':
        persist(recordFinished(run, move.status, at, move.reason));
        break;
    }
  }
  assert.ok(isFinal(run.status), `the run did not end: ${run.status}`);
  return { run, ...trace };
}

const FINAL: readonly RunStatus[] = ['completed', 'compensated', 'needs_manual'];
const restorable = (m: Model) => ({ ...m, revoked: 0 });
const outcomes = new Map<string, number>();

describe('Execution saga (property)', () => {
  it('keeps its promises under random plans, refusals, throttling, lost responses and crashes', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const { plan, initial } = buildPlan(sc);
        const model = structuredClone(initial);
        const t = drive(newRun(plan), model, sc, sc.tickEarly);
        const run = t.run;
        outcomes.set(run.status, (outcomes.get(run.status) ?? 0) + 1);

        // Exactly one of the three final states.
        assert.equal(FINAL.filter((s) => s === run.status).length, 1);

        // A verifiable forward command reaches the directory at most once, whatever crashed.
        for (const s of plan.steps) {
          if (s.verify.kind === 'none') continue;
          const sent = t.forwardApplied.filter((id) => id === s.id).length;
          assert.ok(sent <= 1, `${s.id} applied ${sent} times`);
        }

        // Compensations: only done steps before the point of no return, in exactly reverse order of completion.
        const completion = t.done.filter((id) => plan.steps.find((s) => s.id === id)?.compensation);
        const expected = [...completion].reverse().slice(0, t.compensated.length);
        assert.deepEqual(t.compensated, expected, 'compensations out of reverse order');
        for (const id of t.compensated)
          assert.ok(
            plan.steps.findIndex((s) => s.id === id) < plan.pointOfNoReturn,
            `${id} undone past the point of no return`,
          );

        if (run.status === 'compensated') {
          assert.deepEqual(restorable(model), restorable(initial), 'prior state not restored');
          assert.deepEqual(
            t.compensated,
            [...completion].reverse(),
            'a done step was left in place',
          );
        }
        if (run.status === 'completed') {
          assert.ok(run.steps.every((p) => p.status === 'done'));
          assert.ok(run.checklist.every((c) => c.done));
          // Rolling back a completed run undoes everything that can be undone.
          const rollback = planRollback(run);
          const undoable = plan.steps.some((s) => s.compensation) || plan.checklist.length > 0;
          assert.equal(rollback.ok, undoable);
          if (rollback.ok) {
            const back = drive(
              newRun(rollback.value, 'rollback'),
              model,
              { forward: [], undo: [] },
              false,
            );
            assert.equal(back.run.status, 'completed');
            assert.deepEqual(
              restorable(model),
              restorable(initial),
              'rollback did not restore the prior state',
            );
          }
        }
        if (run.status === 'needs_manual') assert.ok(run.reason && run.reason.length > 0);
      }),
      { numRuns: 400 },
    );
    // The random runs reached every ending, so none of the checks above passed vacuously.
    for (const status of FINAL)
      assert.ok((outcomes.get(status) ?? 0) > 0, `no run ended ${status}`);
  });
});
