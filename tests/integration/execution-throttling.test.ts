import { strict as assert } from 'node:assert';
import { isGraphExecuteRow } from '../../src/application/ports/outbox';
import { SANDBOX_DIRECTORY, SANDBOX_SKUS } from '../../src/sandbox/microsoft-cloud';
import {
  approvedRequest,
  assertChainVerifies,
  auditTrail,
  CONTOSO_ID,
  previewAndStart,
  settle,
  storedRequest,
  storedRun,
  TEST_RETRY,
  useExecutionStack,
  type ExecutionStack,
} from '../support/execution-stack';

const { users, groups } = SANDBOX_DIRECTORY.contoso;

const newUser = (alias: string, extra: Readonly<Record<string, unknown>> = {}) => ({
  givenName: 'Tom',
  surname: alias,
  displayName: `Tom ${alias}`,
  userPrincipalName: `tom.${alias}@contoso.example`,
  usageLocation: 'GB',
  managerUpn: users.avery.userPrincipalName,
  groups: 'Marketing',
  ...extra,
});

/** The run's `graph.execute` rows that are still to be driven. */
async function pendingRows(stack: ExecutionStack, runId: string) {
  return (await stack.storage.outbox.list(CONTOSO_ID)).filter(
    (row) => isGraphExecuteRow(row) && row.message.runId === runId && row.status === 'pending',
  );
}

describe('Graph-backed execution: throttling and lost answers (Azurite, sandbox cloud, real SDKs)', function () {
  this.timeout(30_000);
  const stack = useExecutionStack();

  it('waits at least the Retry-After of a 429 on a step, then completes without bothering the run', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const waitedBefore = s.directory.stats.waitedMs;
    const request = await approvedRequest(
      s,
      CONTOSO_ID,
      'new_user',
      newUser('throttled', { licenceSkus: 'SPB' }),
    );
    const { run } = await previewAndStart(s, request, {}, () =>
      // The licence goes out inside the $batch of the second wave; only that sub-request is refused.
      contoso.throttle({
        count: 1,
        status: 429,
        retryAfterSeconds: 1,
        match: { route: 'POST /users/{id}/assignLicense' },
      }),
    );

    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    assert.equal(contoso.counters().throttled, 1);
    assert.ok(
      s.waits.some((ms) => ms >= 1_000),
      `no wait of Retry-After's second: ${JSON.stringify(s.waits)}`,
    );
    assert.ok(s.directory.stats.waitedMs - waitedBefore >= 1_000);
    const tom = contoso.user('tom.throttled@contoso.example')!;
    assert.deepEqual(
      tom.licences.map((l) => l.skuId),
      [SANDBOX_SKUS.businessPremium.skuId],
    );
    assert.equal(contoso.counters().mutations['POST /users/{id}/assignLicense'], 1);
    assert.ok(
      done.steps.every((p) => p.status === 'done' && p.attempts === 1),
      'the adapter absorbed the wait: each step was sent once by the engine',
    );
    assert.equal((await storedRequest(s, request)).status, 'implemented');
  });

  it('backs off by itself on a 503 without Retry-After, and completes', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const request = await approvedRequest(s, CONTOSO_ID, 'access_change', {
      userPrincipalName: users.carla.userPrincipalName,
      action: 'grant',
      resource: 'Marketing',
      accessLevel: 'member',
    });
    const { run } = await previewAndStart(s, request, {}, () =>
      contoso.throttle({
        count: 2,
        status: 503,
        retryAfterFormat: 'none',
        match: { route: 'POST /groups/{id}/members/$ref' },
      }),
    );
    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    assert.equal(contoso.counters().throttled, 2);
    assert.equal(s.waits.length, 2, 'one backoff per refusal');
    assert.equal(contoso.counters().mutations['POST /groups/{id}/members/$ref'], 1);
    assert.ok(contoso.group(groups.marketing.id)!.members.includes(users.carla.id));
  });

  it('parks the run as waiting (with waitUntil) when the throttle outlasts the budget, and completes on a later relay pass', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const request = await approvedRequest(s, CONTOSO_ID, 'access_change', {
      userPrincipalName: users.sam.userPrincipalName,
      action: 'grant',
      resource: 'Marketing',
      accessLevel: 'member',
    });
    const retryAfterSeconds = 30;
    assert.ok(retryAfterSeconds * 1_000 > TEST_RETRY.maxDelayMs, 'longer than the adapter waits');
    const startedAt = s.clock.now().getTime();
    const { run } = await previewAndStart(s, request, {}, () =>
      contoso.throttle({
        count: 1,
        status: 429,
        retryAfterSeconds,
        match: { route: 'POST /groups/{id}/members/$ref' },
      }),
    );

    await s.relay.deliverDue(CONTOSO_ID);
    await s.relay.idle();
    const waiting = await storedRun(s, CONTOSO_ID, run.id);
    assert.equal(waiting.status, 'waiting');
    assert.ok(waiting.waitUntil, 'the run says when it carries on');
    assert.ok(Date.parse(waiting.waitUntil) - startedAt >= retryAfterSeconds * 1_000);
    assert.match(waiting.reason ?? '', /busy/);
    assert.ok(!s.waits.some((ms) => ms >= retryAfterSeconds * 1_000), 'not slept in-process');
    const [row] = await pendingRows(s, run.id);
    assert.equal(row?.nextAttemptAt, waiting.waitUntil, 'the relay puts the run off until then');
    assert.ok(!contoso.group(groups.marketing.id)!.members.includes(users.sam.id));

    // A pass before it is due changes nothing.
    s.clock.advance(retryAfterSeconds * 1_000 - 1_000);
    await s.relay.deliverDue(CONTOSO_ID);
    await s.relay.idle();
    assert.equal((await storedRun(s, CONTOSO_ID, run.id)).status, 'waiting');

    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    assert.ok(contoso.group(groups.marketing.id)!.members.includes(users.sam.id));
    assert.equal(contoso.counters().mutations['POST /groups/{id}/members/$ref'], 1);
    assert.equal((await storedRequest(s, request)).status, 'implemented');
    const trail = (await auditTrail(s, CONTOSO_ID)).filter((e) => e.payload['runId'] === run.id);
    const failed = trail.find((e) => e.type === 'execution.step_failed');
    assert.deepEqual(
      [failed?.payload['reason'], failed?.payload['willRetry']],
      ['throttled', true],
    );
    // The trail says why the run paused: which step Graph throttled, and until when.
    const paused = trail.filter((e) => e.type === 'execution.waiting');
    assert.deepEqual(
      paused.map((e) => [e.payload['stepId'], e.payload['phase'], e.payload['until']]),
      [[failed?.payload['stepId'], 'forward', waiting.waitUntil]],
    );
    const why = paused[0]?.personal?.['reason'];
    assert.ok(
      typeof why === 'string' && /Marketing .*is sent again at/.test(why),
      `paused: ${JSON.stringify(why)}`,
    );
    await assertChainVerifies(s, CONTOSO_ID);
  });

  it('puts planning off when Graph throttles the reads past the budget, and plans and completes later', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const request = await approvedRequest(s, CONTOSO_ID, 'access_change', {
      userPrincipalName: users.mo.userPrincipalName,
      action: 'grant',
      resource: 'Marketing',
      accessLevel: 'member',
    });
    const startedAt = s.clock.now().getTime();
    const { run } = await previewAndStart(s, request, {}, () =>
      contoso.throttle({
        count: 1,
        status: 503,
        retryAfterSeconds: 20,
        match: { method: 'GET', route: 'GET /users/{id}' },
      }),
    );

    await s.relay.deliverDue(CONTOSO_ID);
    await s.relay.idle();
    const waiting = await storedRun(s, CONTOSO_ID, run.id);
    assert.equal(waiting.status, 'waiting');
    assert.equal(waiting.plan, undefined, 'not planned yet');
    assert.ok(Date.parse(waiting.waitUntil ?? '') - startedAt >= 20_000);
    assert.match(waiting.reason ?? '', /Could not read the directory to plan/);
    assert.deepEqual(contoso.counters().mutations, {});

    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    assert.ok(contoso.group(groups.marketing.id)!.members.includes(users.mo.id));
    const trail = (await auditTrail(s, CONTOSO_ID)).filter((e) => e.payload['runId'] === run.id);
    assert.ok(
      trail.some((e) => e.type === 'execution.waiting' && e.payload['until'] === waiting.waitUntil),
    );
  });

  for (const mode of ['gateway-timeout', 'drop-connection'] as const)
    it(`reconciles a POST /users that was applied but answered ${mode}: exactly one user, run completed`, async () => {
      const s = stack();
      const contoso = s.tenant(CONTOSO_ID);
      const reconciledBefore = s.directory.stats.reconciliations;
      const upn = `tom.${mode}@contoso.example`;
      const request = await approvedRequest(s, CONTOSO_ID, 'new_user', newUser(mode));
      const { run } = await previewAndStart(s, request, {}, () =>
        contoso.loseResponse({ mode, match: { route: 'POST /users' } }),
      );

      const done = await settle(s, CONTOSO_ID, run.id);
      assert.equal(done.status, 'completed', done.reason);
      assert.equal(contoso.counters().mutations['POST /users'], 1, 'one create reached Graph');
      assert.ok(
        contoso.mutationLog().some((m) => m.route === 'POST /users' && m.responseLost),
        'the create was applied and its answer lost',
      );
      const matching = contoso.users().filter((u) => u.userPrincipalName === upn);
      assert.equal(matching.length, 1);
      assert.equal(done.createdUserId, matching[0]!.id);
      assert.ok(s.directory.stats.reconciliations > reconciledBefore, 'found by reading back');
      assert.equal(matching[0]!.managerId, users.avery.id);
      assert.ok(matching[0]!.memberOf.includes(groups.marketing.id));
      assert.equal((await storedRequest(s, request)).status, 'implemented');
    });
});
