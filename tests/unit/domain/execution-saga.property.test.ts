import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { Person } from '../../../src/domain/change-request/change-request';
import type {
  CommandOutcome,
  DirectoryCheck,
  DirectoryCommand,
  DirectoryFailure,
} from '../../../src/domain/execution/directory';
import { checkFor, slug } from '../../../src/domain/execution/directory-commands';
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

/**
 * Runs that end up undoing: one wave with the point of no return after it, the last step refused
 * and undos refused often, so best-effort compensation is exercised on most runs.
 */
const undoing: fc.Arbitrary<Scenario> = scenario.chain((sc) =>
  fc
    .array(
      fc.array(fc.constantFrom<Fate>('ok', 'refused', 'refused', 'throttled', 'lost', 'crash'), {
        maxLength: 3,
      }),
      { minLength: 7, maxLength: 7 },
    )
    .map((undo) => ({
      ...sc,
      breaks: sc.breaks.map(() => false),
      ponrPick: 1,
      forward: sc.forward.map((f, i) => (i === sc.kinds.length - 1 ? ['refused' as const] : f)),
      undo,
    })),
);

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
  /** Step ids in the order their compensation was first sent. */
  readonly undoAttempted: string[];
  /** Step ids in the order the directory applied their compensations. */
  readonly undoApplied: string[];
  /** Steps whose forward command the directory refused at least once (the answer may have been lost). */
  readonly refused: Set<string>;
  /** Steps whose compensation the directory refused at least once. */
  readonly undoRefused: Set<string>;
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
    undoAttempted: [] as string[],
    undoApplied: [] as string[],
    refused: new Set<string>(),
    undoRefused: new Set<string>(),
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
      if (p.status === 'compensating' && !trace.undoAttempted.includes(p.id))
        trace.undoAttempted.push(p.id);
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
      if (f === 'refused') {
        (phase === 'f' ? trace.refused : trace.undoRefused).add(s.id);
        outcomes.push({ ok: false, failure: refused });
      } else if (f === 'throttled') outcomes.push({ ok: false, failure: throttled });
      else {
        apply(model, command);
        (phase === 'f' ? trace.forwardApplied : trace.undoApplied).push(s.id);
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
/** How often the interesting cases came up, so the checks on them did not pass vacuously. */
const seen = { undoPastRefusal: 0, rollbackPastRefusal: 0 };

/** `initial` with the forward commands of `kept` applied: what is left when only those stay in place. */
function withKept(initial: Model, kept: readonly PlanStep[]): Model {
  const expected = structuredClone(initial);
  for (const s of kept) apply(expected, s.forward);
  return expected;
}

/** The part of a reason that lists what could not be undone, up to the end of its sentence. */
function notUndoneIn(reason: string): string {
  return /could not undo: (.*?)\. /i.exec(reason)?.[1] ?? '';
}

/** Drives one scenario (and, when it completes, its rollback) and checks the saga's promises. */
function checkScenario(sc: Scenario): void {
  const { plan, initial } = buildPlan(sc);
  const model = structuredClone(initial);
  const t = drive(newRun(plan), model, sc, sc.tickEarly);
  const run = t.run;
  const stepById = (id: string) => plan.steps.find((s) => s.id === id)!;
  outcomes.set(run.status, (outcomes.get(run.status) ?? 0) + 1);

  // Exactly one of the three final states.
  assert.equal(FINAL.filter((s) => s === run.status).length, 1);

  // A verifiable command, forward or compensation, reaches the directory at most once, whatever crashed.
  for (const s of plan.steps) {
    if (s.verify.kind === 'none') continue;
    const sent = t.forwardApplied.filter((id) => id === s.id).length;
    assert.ok(sent <= 1, `${s.id} applied ${sent} times`);
  }
  for (const s of plan.steps) {
    const undone = t.undoApplied.filter((id) => id === s.id).length;
    assert.ok(undone <= 1, `${s.id} undone ${undone} times`);
  }

  // Compensations: only done steps before the point of no return, attempted in exactly
  // reverse order of completion; a refused one is skipped, not waited on.
  const completion = t.done.filter((id) => stepById(id).compensation);
  const reverse = [...completion].reverse();
  assert.deepEqual(
    t.undoAttempted,
    reverse.slice(0, t.undoAttempted.length),
    'compensations out of reverse order',
  );
  // What the run says it could not undo: a compensation the directory refused.
  const kept = plan.steps.filter((s) => {
    const p = run.steps.find((x) => x.id === s.id)!;
    return p.status === 'done' && p.compensationFailure !== undefined;
  });
  for (const s of kept) assert.ok(t.undoRefused.has(s.id), `${s.id} kept but never refused`);
  assert.deepEqual(
    t.compensated,
    t.undoAttempted.filter((id) => !kept.some((s) => s.id === id)),
    'an attempted compensation neither undone nor reported',
  );
  for (const id of t.undoAttempted)
    assert.ok(
      plan.steps.findIndex((s) => s.id === id) < plan.pointOfNoReturn,
      `${id} undone past the point of no return`,
    );

  // Undoing (a step refused before anything at or past the point of no return was sent)
  // is best effort: every compensable done step is undone except the refused ones.
  const pastPointOfNoReturn = plan.steps.some((s, i) => {
    const p = run.steps.find((x) => x.id === s.id)!;
    return i >= plan.pointOfNoReturn && (p.status !== 'pending' || p.attempts > 0);
  });
  const undid = run.steps.some((p) => p.status === 'failed') && !pastPointOfNoReturn;
  if (undid) {
    assert.deepEqual(t.undoAttempted, reverse, 'a done step was never undone');
    assert.equal(run.status, kept.length > 0 ? 'needs_manual' : 'compensated');
    assert.deepEqual(
      restorable(model),
      restorable(withKept(initial, kept)),
      'the tenant is not the prior state apart from what could not be undone',
    );
    if (kept.length > 0) {
      const reason = run.reason ?? '';
      const named = notUndoneIn(reason);
      for (const s of plan.steps)
        assert.equal(
          named.includes(s.title),
          kept.includes(s),
          `${s.title} ${kept.includes(s) ? 'not named' : 'named'} as not undone: ${reason}`,
        );
      for (const id of t.compensated)
        assert.ok(reason.includes(stepById(id).title), `${id} not named as undone`);
      const firstKept = Math.min(...kept.map((s) => completion.indexOf(s.id)));
      if (t.compensated.some((id) => completion.indexOf(id) < firstKept)) seen.undoPastRefusal += 1;
    }
  } else {
    assert.deepEqual(t.undoAttempted, [], 'undone although nothing needed undoing');
  }

  if (run.status === 'compensated') {
    assert.deepEqual(restorable(model), restorable(initial), 'prior state not restored');
    assert.deepEqual(t.compensated, reverse, 'a done step was left in place');
  }
  if (run.status === 'completed') {
    assert.ok(run.steps.every((p) => p.status === 'done'));
    assert.ok(run.checklist.every((c) => c.done));
    // Rolling back a completed run undoes everything that can be undone, as best it can:
    // an undo refused for good does not stop the others.
    const rollback = planRollback(run);
    const undoable = plan.steps.some((s) => s.compensation) || plan.checklist.length > 0;
    assert.equal(rollback.ok, undoable);
    if (rollback.ok) {
      const back = drive(
        newRun(rollback.value, 'rollback'),
        model,
        { forward: sc.undo, undo: [] },
        false,
      );
      const undoOf = new Map(plan.steps.map((s) => [slug('undo', s.id), s]));
      for (const s of rollback.value.steps) {
        const sent = back.forwardApplied.filter((id) => id === s.id).length;
        assert.ok(sent <= 1, `${s.id} applied ${sent} times`);
      }
      const refusedUndos = rollback.value.steps.filter(
        (s) => back.run.steps.find((p) => p.id === s.id)!.status === 'failed',
      );
      // A failed undo was refused, or stayed busy through its tries (crashes mid-batch count as tries).
      for (const s of refusedUndos)
        assert.ok(
          back.refused.has(s.id) ||
            back.run.steps.find((p) => p.id === s.id)!.failure?.retryable === true,
          `${s.id} failed although it was never refused nor kept busy`,
        );
      assert.deepEqual(
        restorable(model),
        restorable(
          withKept(
            initial,
            refusedUndos.map((s) => undoOf.get(s.id)!),
          ),
        ),
        'the rollback did not restore everything but the refused undos',
      );
      for (const p of back.run.steps) assert.ok(p.status === 'failed' || p.status === 'done');
      if (refusedUndos.length === 0) {
        assert.equal(back.run.status, 'completed');
      } else {
        assert.equal(back.run.status, 'needs_manual');
        const reason = back.run.reason ?? '';
        // Named by the change it would have undone, as the run named it.
        for (const s of rollback.value.steps)
          assert.equal(
            notUndoneIn(reason).includes(undoOf.get(s.id)!.title),
            refusedUndos.includes(s),
            `${s.title} misreported: ${reason}`,
          );
        if (back.run.steps.some((p) => p.status === 'done')) seen.rollbackPastRefusal += 1;
      }
    }
  }
  if (run.status === 'needs_manual') assert.ok(run.reason && run.reason.length > 0);
}

describe('Execution saga (property)', () => {
  it('keeps its promises under random plans, refusals, throttling, lost responses and crashes', () => {
    fc.assert(fc.property(scenario, checkScenario), { numRuns: 400 });
    // The random runs reached every ending and rollbacks went on past refused undos, so none of
    // the checks above passed vacuously.
    for (const status of FINAL)
      assert.ok((outcomes.get(status) ?? 0) > 0, `no run ended ${status}`);
    assert.ok(seen.rollbackPastRefusal > 0, 'no rollback went on after a refused undo');
  });

  it('undoes every other done step when one undo is refused, and names the refused ones', () => {
    fc.assert(fc.property(undoing, checkScenario), { numRuns: 200 });
    assert.ok(seen.undoPastRefusal > 0, 'no run undid an earlier step after a refused undo');
  });
});
