import { strict as assert } from 'node:assert';
import type { DirectoryCommand } from '../../../src/domain/execution/directory';
import { checkFor } from '../../../src/domain/execution/directory-commands';
import type { ExecutionPlan, PlanStep } from '../../../src/domain/execution/execution-plan';
import { formatRunId, type ExecutionRun } from '../../../src/domain/execution/execution-run';
import {
  initialProgress,
  MAX_STEP_ATTEMPTS,
  nextMove,
  recordCompensating,
  recordCompensation,
  recordOutcome,
  recordStarted,
  recordTicked,
  type SagaUpdate,
} from '../../../src/domain/execution/execution.saga';
import type { ChangeRequestId } from '../../../src/domain/shared/ids';
import { rollbackFor } from '../../../src/domain/execution/rollback-plan';
import { people } from '../../support/fixtures';

const AT = '2026-11-23T09:00:00.000Z';
const leave = (group: string, wave: number): PlanStep => {
  const forward: DirectoryCommand = {
    kind: 'group.remove',
    groupId: group,
    userId: 'u-1',
    relation: 'member',
  };
  return {
    id: `leave-${group}`,
    title: `Remove Sam from ${group}`,
    forward,
    verify: checkFor(forward, 'sam@contoso.example'),
    compensation: { kind: 'group.add', groupId: group, userId: 'u-1', relation: 'member' },
    wave,
    access: {
      change: 'revoked',
      resourceId: group,
      resourceName: `Group ${group}`,
      relation: 'member',
      userId: 'u-1',
      userPrincipalName: 'sam@contoso.example',
    },
  };
};

function runOf(plan: Partial<ExecutionPlan>): ExecutionRun {
  const full: ExecutionPlan = {
    requestId: 'CONTOSO-7' as ChangeRequestId,
    requestVersion: 3,
    type: 'offboard',
    subject: { userPrincipalName: 'sam@contoso.example', displayName: 'Sam', userId: 'u-1' },
    steps: [leave('a', 0), leave('b', 1)],
    pointOfNoReturn: 1,
    checklist: [],
    notes: [],
    ...plan,
  };
  return {
    id: formatRunId(7, 1),
    tenantId: people.carla.tid,
    requestId: full.requestId,
    requestVersion: 3,
    kind: 'execute',
    status: 'running',
    startedBy: people.tina,
    options: {},
    plan: full,
    ...initialProgress(full),
    createdAt: AT,
    updatedAt: AT,
  };
}

const then = (u: SagaUpdate, f: (run: ExecutionRun) => SagaUpdate): SagaUpdate => {
  const next = f(u.run);
  return { run: next.run, audit: [...u.audit, ...next.audit] };
};
const refused = {
  ok: false as const,
  failure: {
    reason: 'invalid' as const,
    code: 'Request_BadRequest',
    message: 'Graph said no',
    retryable: false,
    requestId: 'req-9',
  },
};

describe('Execution saga', () => {
  it('after the point of no return stops for a person, saying what failed and what was done', () => {
    let u: SagaUpdate = { run: runOf({}), audit: [] };
    u = then(u, (r) => recordStarted(r, ['leave-a'], AT));
    u = then(u, (r) => recordOutcome(r, 'leave-a', { ok: true, requestId: 'req-1' }, AT));
    u = then(u, (r) => recordStarted(r, ['leave-b'], AT));
    u = then(u, (r) => recordOutcome(r, 'leave-b', refused, AT));
    const move = nextMove(u.run, AT);
    assert.equal(move.kind, 'finish');
    assert.ok(move.kind === 'finish');
    assert.equal(move.status, 'needs_manual');
    assert.match(
      move.reason ?? '',
      /Could not finish: Remove Sam from b \(Graph said no\)\. Done: Remove Sam from a\./,
    );
  });

  it('before it, undoes the done steps and says what was undone', () => {
    let u: SagaUpdate = { run: runOf({ pointOfNoReturn: 2 }), audit: [] };
    u = then(u, (r) => recordStarted(r, ['leave-a'], AT));
    u = then(u, (r) => recordOutcome(r, 'leave-a', { ok: true }, AT));
    u = then(u, (r) => recordStarted(r, ['leave-b'], AT));
    u = then(u, (r) => recordOutcome(r, 'leave-b', refused, AT));
    assert.equal(u.run.status, 'compensating');
    const move = nextMove(u.run, AT);
    assert.deepEqual(move.kind === 'compensate' && move.steps.map((s) => s.id), ['leave-a']);
  });

  it('records ids and codes in the clear and names only in the sealed part', () => {
    let u: SagaUpdate = { run: runOf({}), audit: [] };
    u = then(u, (r) => recordStarted(r, ['leave-a'], AT));
    u = then(u, (r) => recordOutcome(r, 'leave-a', { ok: true, requestId: 'req-1' }, AT));
    u = then(u, (r) => recordStarted(r, ['leave-b'], AT));
    u = then(u, (r) => recordOutcome(r, 'leave-b', refused, AT));
    const types = u.audit.map((e) => e.type);
    assert.deepEqual(types, [
      'execution.step_started',
      'execution.step_succeeded',
      'access.revoked',
      'execution.step_started',
      'execution.step_failed',
    ]);
    const succeeded = u.audit[1]!;
    assert.equal(succeeded.payload['requestId'], 'req-1');
    assert.equal(succeeded.payload['command'], 'group.remove');
    const revoked = u.audit[2]!;
    assert.deepEqual(revoked.payload, {
      runId: '7-1',
      onBehalfOf: people.tina.oid,
      stepId: 'leave-a',
      resourceId: 'a',
      relation: 'member',
      userId: 'u-1',
    });
    assert.deepEqual(revoked.personal, {
      userPrincipalName: 'sam@contoso.example',
      resourceName: 'Group a',
    });
    const failed = u.audit[4]!;
    assert.equal(failed.payload['code'], 'Request_BadRequest');
    assert.equal(failed.payload['requestId'], 'req-9');
    for (const e of u.audit) assert.ok(!JSON.stringify(e.payload).includes('Sam'));
  });

  it('waits for a gating checklist item, then carries on once it is ticked', () => {
    const gated = runOf({
      checklist: [{ id: 'convert', title: 'Convert the mailbox', detail: '', before: 'leave-b' }],
    });
    let u: SagaUpdate = { run: gated, audit: [] };
    u = then(u, (r) => recordStarted(r, ['leave-a'], AT));
    u = then(u, (r) => recordOutcome(r, 'leave-a', { ok: true }, AT));
    const waiting = nextMove(u.run, AT);
    assert.equal(waiting.kind, 'wait');
    assert.deepEqual(waiting.kind === 'wait' && waiting.items, ['convert']);
    const ticked = recordTicked(u.run, 'convert', people.tina, AT, 'done in EAC');
    assert.equal(ticked.audit[0]?.type, 'checklist.ticked');
    assert.deepEqual(ticked.audit[0]?.personal, {
      title: 'Convert the mailbox',
      note: 'done in EAC',
    });
    const next = nextMove(ticked.run, AT);
    assert.deepEqual(next.kind === 'forward' && next.steps.map((s) => s.id), ['leave-b']);
  });

  it('sleeps as long as a throttled service asked, without counting it as a failure', () => {
    let u: SagaUpdate = { run: runOf({}), audit: [] };
    u = then(u, (r) => recordStarted(r, ['leave-a'], AT));
    u = then(u, (r) =>
      recordOutcome(
        r,
        'leave-a',
        {
          ok: false,
          failure: {
            reason: 'throttled',
            code: 'TooManyRequests',
            message: 'slow',
            retryable: true,
            retryAfterMs: 90_000,
          },
        },
        AT,
      ),
    );
    assert.equal(u.run.status, 'waiting');
    assert.equal(u.run.waitUntil, '2026-11-23T09:01:30.000Z');
    const paused = u.audit.filter((e) => e.type === 'execution.waiting');
    assert.deepEqual(
      paused.map((e) => e.payload),
      [
        {
          runId: '7-1',
          onBehalfOf: people.tina.oid,
          until: '2026-11-23T09:01:30.000Z',
          stepId: 'leave-a',
          phase: 'forward',
          code: 'TooManyRequests',
        },
      ],
    );
    assert.deepEqual(paused[0]?.personal, {
      reason:
        'Microsoft Graph is busy or unavailable (TooManyRequests) and asked Cabinet to wait: Remove Sam from a is sent again at 09:01 UTC.',
      title: 'Remove Sam from a',
    });
    assert.deepEqual(nextMove(u.run, AT), { kind: 'sleep', until: '2026-11-23T09:01:30.000Z' });
    const resumed = nextMove(u.run, '2026-11-23T09:01:30.000Z');
    assert.deepEqual(resumed.kind === 'forward' && resumed.steps.map((s) => s.id), ['leave-a']);
  });

  describe('undoing, best effort', () => {
    const busy = {
      ok: false as const,
      failure: {
        reason: 'unavailable' as const,
        code: 'ServiceUnavailable',
        message: 'try later',
        retryable: true,
        retryAfterMs: 1_000,
      },
    };
    /** a, b and c done in that order, then d refused: everything before the point of no return. */
    function failedAfterThree(): SagaUpdate {
      let u: SagaUpdate = {
        run: runOf({
          steps: [leave('a', 0), leave('b', 1), leave('c', 2), leave('d', 3)],
          pointOfNoReturn: 4,
        }),
        audit: [],
      };
      for (const id of ['leave-a', 'leave-b', 'leave-c']) {
        u = then(u, (r) => recordStarted(r, [id], AT));
        u = then(u, (r) => recordOutcome(r, id, { ok: true }, AT));
      }
      u = then(u, (r) => recordStarted(r, ['leave-d'], AT));
      return then(u, (r) => recordOutcome(r, 'leave-d', refused, AT));
    }
    const undo = (u: SagaUpdate, id: string, outcome: Parameters<typeof recordCompensation>[2]) =>
      then(
        then(u, (r) => recordCompensating(r, [id], AT)),
        (r) => recordCompensation(r, id, outcome, AT),
      );
    const next = (u: SagaUpdate, at = AT) => {
      const move = nextMove(u.run, at);
      return move.kind === 'compensate' ? move.steps.map((s) => s.id) : move;
    };

    it('skips a refused undo and goes on with the earlier steps, then names what is left', () => {
      let u = failedAfterThree();
      assert.deepEqual(next(u), ['leave-c']);
      u = undo(u, 'leave-c', { ok: true });
      u = undo(u, 'leave-b', {
        ok: false,
        failure: { ...refused.failure, message: 'b is locked' },
      });
      assert.deepEqual(next(u), ['leave-a'], 'the refusal does not stop the undo');
      u = undo(u, 'leave-a', { ok: true });
      const move = nextMove(u.run, AT);
      assert.ok(move.kind === 'finish');
      assert.equal(move.status, 'needs_manual');
      assert.equal(
        move.reason,
        'Stopped because Remove Sam from d (Graph said no) failed. ' +
          'Cabinet undid what it could, but could not undo: Remove Sam from b (b is locked). ' +
          'Undone, newest first: Remove Sam from c; Remove Sam from a. ' +
          'Next: undo by hand what could not be undone (each step shows the state before the run), then fix the cause and execute again if the change is still wanted.',
      );
    });

    it('retries a busy undo within its bound before skipping it, and pauses with an audit event', () => {
      let u = failedAfterThree();
      let at = Date.parse(AT);
      for (let attempt = 1; attempt <= MAX_STEP_ATTEMPTS; attempt += 1) {
        assert.deepEqual(next(u, new Date(at).toISOString()), ['leave-c'], `attempt ${attempt}`);
        const sent = new Date(at).toISOString();
        u = then(
          then(u, (r) => recordCompensating(r, ['leave-c'], sent)),
          (r) => recordCompensation(r, 'leave-c', busy, sent),
        );
        if (attempt < MAX_STEP_ATTEMPTS) {
          const paused = u.audit.at(-1);
          assert.equal(paused?.type, 'execution.waiting');
          assert.deepEqual(
            [paused?.payload['stepId'], paused?.payload['phase'], paused?.payload['until']],
            ['leave-c', 'compensation', u.run.waitUntil],
          );
          at = Date.parse(u.run.waitUntil!);
        }
      }
      assert.deepEqual(next(u, new Date(at).toISOString()), ['leave-b']);
      u = undo(u, 'leave-b', { ok: true });
      u = undo(u, 'leave-a', { ok: true });
      const move = nextMove(u.run, new Date(at).toISOString());
      assert.ok(move.kind === 'finish');
      assert.equal(move.status, 'needs_manual');
      assert.match(
        move.reason ?? '',
        /could not undo: Remove Sam from c \(Microsoft Graph was still busy or unavailable after 5 tries: ServiceUnavailable\)\. Undone, newest first: Remove Sam from b; Remove Sam from a\./,
      );
    });
  });

  describe('rolling back', () => {
    const completed = (): ExecutionRun => {
      const run = runOf({});
      return {
        ...run,
        status: 'completed',
        steps: run.steps.map((p, i) => ({ ...p, status: 'done' as const, order: i + 1 })),
      };
    };
    const rollbackRun = (status: ExecutionRun['status']): ExecutionRun => ({
      ...runOf({}),
      id: formatRunId(7, 2),
      kind: 'rollback',
      rollbackOf: formatRunId(7, 1),
      status,
    });

    it('rolls back a completed run of an implemented or failed request, undoing in reverse', () => {
      for (const status of ['implemented', 'failed'] as const) {
        const plan = rollbackFor(status, completed(), [completed()]);
        assert.ok(plan.ok, plan.ok ? '' : plan.error.message);
        assert.deepEqual(
          plan.value.steps.map((s) => s.forward.kind),
          ['group.add', 'group.add'],
        );
      }
    });

    it('allows another rollback after one that needed a person, never beside one under way', () => {
      const target = completed();
      assert.ok(rollbackFor('implemented', target, [target, rollbackRun('needs_manual')]).ok);
      const busy = rollbackFor('implemented', target, [target, rollbackRun('running')]);
      assert.ok(!busy.ok);
      assert.equal(busy.error.code, 'EXEC.RUN_ACTIVE');
    });

    it('refuses a request that is not implemented or failed, and a run that did not complete', () => {
      const closed = rollbackFor('closed', completed(), [completed()]);
      assert.ok(!closed.ok);
      assert.equal(closed.error.code, 'EXEC.NOT_ROLLBACKABLE');
      const unfinished = { ...completed(), status: 'needs_manual' as const };
      const refused = rollbackFor('failed', unfinished, [unfinished]);
      assert.ok(!refused.ok);
      assert.equal(refused.error.code, 'EXEC.NOT_ROLLBACKABLE');
    });
  });
});
