import { strict as assert } from 'node:assert';
import type { TenantId } from '../../../src/domain/shared/ids';
import type { ExecutionStore } from '../../../src/application/ports/execution-store';
import {
  isGraphExecuteRow,
  isNotificationRow,
  type DriveOutcome,
  type OutboxRow,
  type RunDriver,
} from '../../../src/application/ports/outbox';
import type { RunId } from '../../../src/domain/execution/execution-run';
import { openConversation } from '../../../src/application/use-cases/open-conversation';
import {
  OutboxRelay,
  type OutboxRelayOptions,
} from '../../../src/application/use-cases/relay-outbox';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  RecordingNotifier,
  createHarness,
  openChats,
  people,
  seedClients,
  type Harness,
  raiseGeneral,
} from '../../support/fixtures';
import { event } from '../../contract/contract-support';
import { executeMessage, run } from '../../contract/execution-support';
import { sendToApprovers } from '../../support/approval-flow';

/**
 * Contoso and Fabrikam, each with one request just sent for approval: its approval cards and the
 * requester's status update are pending in the outbox (the technicians' assessment_needed rows
 * from the submission were delivered before).
 */
async function withCards(): Promise<Harness> {
  const h = createHarness();
  await seedClients(h);
  const raised = [await raiseGeneral(h, people.carla), await raiseGeneral(h, people.fiona)];
  await relayFor(h, new RecordingNotifier()).sweep();
  for (const { request } of raised) await sendToApprovers(h.deps, request);
  return h;
}

/** Contoso's pending rows in `withCards`: Andy's and Avery's cards, then Carla's update. */
const CONTOSO_ROWS = 3;

function relayFor(
  h: Harness,
  notifier: RecordingNotifier,
  options: OutboxRelayOptions = {},
): OutboxRelay {
  return new OutboxRelay(
    { outbox: h.deps.outbox, notifier, clients: h.deps.clients, clock: h.clock },
    options,
  );
}

async function rowFor(
  h: Harness,
  oid: string,
  tenant: TenantId = CONTOSO_TENANT_ID,
): Promise<OutboxRow> {
  const row = (await h.deps.outbox.list(tenant))
    .filter(isNotificationRow)
    .find((r) => r.message.recipient.oid === oid);
  assert.ok(row, `no outbox row for ${oid}`);
  return row;
}

const attemptsTo = (notifier: RecordingNotifier, oid: string) =>
  notifier.attempts.filter((a) => a.recipient.oid === oid).length;

describe(OutboxRelay.name, () => {
  it('delivers each due row once and marks it done', async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier();
    const sut = relayFor(h, notifier);
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), CONTOSO_ROWS);
    assert.deepEqual(
      notifier.sent.map((d) => [d.tenantId, d.recipient.oid, d.notification]),
      [
        ...[people.andy, people.avery].map((a) => [
          CONTOSO_TENANT_ID,
          a.oid,
          {
            template: 'approval_request',
            requestId: 'CONTOSO-1',
            version: 2,
            cardKey: 'approval:CONTOSO-1',
          },
        ]),
        [
          CONTOSO_TENANT_ID,
          people.carla.oid,
          { template: 'status_update', requestId: 'CONTOSO-1', version: 2 },
        ],
      ],
    );
    assert.ok(
      (await h.deps.outbox.list(CONTOSO_TENANT_ID))
        .filter(isNotificationRow)
        .every((r) => r.status === 'done'),
    );
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 0);
    assert.equal(notifier.attempts.length, CONTOSO_ROWS);
    assert.equal(
      (await h.deps.outbox.list(FABRIKAM_TENANT_ID, { statuses: ['pending'] })).filter(
        isNotificationRow,
      ).length,
      2,
      'other tenants wait for their own pass',
    );
  });

  it("sweeps every client's outbox", async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier();
    assert.equal(await relayFor(h, notifier).sweep(), 5);
    assert.deepEqual(
      notifier.sent.map((d) => d.recipient.oid).sort(),
      [people.andy, people.avery, people.carla, people.frank, people.fiona]
        .map((p) => p.oid)
        .sort(),
    );
  });

  it('does not deliver twice when passes overlap, in one instance or across two', async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier();
    const one = relayFor(h, notifier);
    const other = relayFor(h, notifier);
    const counts = await Promise.all([
      one.deliverDue(CONTOSO_TENANT_ID),
      one.deliverDue(CONTOSO_TENANT_ID),
      other.deliverDue(CONTOSO_TENANT_ID),
      other.sweep(),
    ]);
    await Promise.all([one.idle(), other.idle()]);
    assert.ok(counts.every((c) => c >= 0));
    assert.equal(notifier.sent.length, 5);
    assert.equal(new Set(notifier.sent.map((d) => `${d.tenantId}|${d.recipient.oid}`)).size, 5);
  });

  it('starts delivery on a kick and settles before idle resolves', async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier();
    const sut = relayFor(h, notifier);
    sut.kick(CONTOSO_TENANT_ID);
    await sut.idle();
    assert.equal(notifier.sent.length, CONTOSO_ROWS);
  });

  it('retries a failed delivery after an exponentially growing, jittered delay', async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier().script(
      people.andy,
      new Error('Teams 503'),
      new Error('Teams 503 again'),
      { status: 'sent', activityId: 'a-1' },
    );
    const logs: string[] = [];
    const sut = relayFor(h, notifier, {
      baseDelayMs: 1_000,
      maxDelayMs: 60_000,
      random: () => 0.5,
      log: (m) => logs.push(m),
    });
    const t0 = h.clock.now().getTime();

    assert.equal(
      await sut.deliverDue(CONTOSO_TENANT_ID),
      2,
      "Avery's card and Carla's update go out; Andy's card fails",
    );
    let row = await rowFor(h, people.andy.oid);
    assert.deepEqual(
      [row.status, row.attempts, row.lastError, row.nextAttemptAt],
      ['pending', 1, 'Error: Teams 503', new Date(t0 + 500).toISOString()],
    );
    assert.match(logs.join('\n'), /attempt 1 failed: Error: Teams 503/);

    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 0);
    h.clock.advance(499);
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 0);
    assert.equal(attemptsTo(notifier, people.andy.oid), 1, 'not retried before its time');

    h.clock.advance(1);
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 0);
    row = await rowFor(h, people.andy.oid);
    assert.deepEqual(
      [row.attempts, row.lastError, row.nextAttemptAt],
      [2, 'Error: Teams 503 again', new Date(t0 + 500 + 1_000).toISOString()],
    );

    h.clock.advance(1_000);
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 1);
    assert.equal((await rowFor(h, people.andy.oid)).status, 'done');
    assert.equal(attemptsTo(notifier, people.andy.oid), 3);
  });

  it('caps the backoff at maxDelayMs', async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier().script(people.andy, new Error('down'));
    const sut = relayFor(h, notifier, {
      baseDelayMs: 1_000,
      maxDelayMs: 3_000,
      random: () => 1,
      maxAttempts: 10,
    });
    const delays: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const before = h.clock.now().getTime();
      await sut.deliverDue(CONTOSO_TENANT_ID);
      const next = Date.parse((await rowFor(h, people.andy.oid)).nextAttemptAt);
      delays.push(next - before);
      h.clock.advance(next - before);
    }
    assert.deepEqual(delays, [1_000, 2_000, 3_000, 3_000, 3_000]);
  });

  it('parks a row with its last error after maxAttempts, until an operator retries it', async () => {
    const h = await withCards();
    const errors = [1, 2, 3].map((n) => new Error(`Bot Connector 500 #${n}`));
    const failing = new RecordingNotifier()
      .script(people.andy, ...errors)
      .script(people.avery, ...errors);
    const sut = relayFor(h, failing, {
      maxAttempts: 3,
      baseDelayMs: 1_000,
      random: () => 0.5,
    });
    for (let i = 0; i < 6; i += 1) {
      await sut.deliverDue(CONTOSO_TENANT_ID);
      h.clock.advance(60_000);
    }
    const parked = await h.deps.outbox.list(CONTOSO_TENANT_ID, { statuses: ['parked'] });
    assert.equal(parked.length, 2);
    for (const row of parked) {
      assert.equal(row.attempts, 3);
      assert.equal(row.lastError, 'Error: Bot Connector 500 #3');
    }
    assert.deepEqual(
      [attemptsTo(failing, people.andy.oid), attemptsTo(failing, people.avery.oid)],
      [3, 3],
      'three attempts per row, then no more',
    );

    const working = new RecordingNotifier();
    const retried = relayFor(h, working);
    assert.equal(await h.deps.outbox.retry(CONTOSO_TENANT_ID, parked[0]!.id, h.clock.now()), true);
    assert.equal(await retried.deliverDue(CONTOSO_TENANT_ID), 1);
    assert.equal(working.sent.length, 1);
  });

  it('holds a card for someone who never opened Cabinet and delivers it when they do', async () => {
    const h = await withCards();
    await openChats(h, people.avery);
    const notifier = new RecordingNotifier({ conversations: h.deps.conversations });
    const sut = relayFor(h, notifier);

    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 1);
    assert.equal((await rowFor(h, people.andy.oid)).status, 'waiting_for_recipient');
    h.clock.advance(3_600_000);
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 0);
    assert.equal(attemptsTo(notifier, people.andy.oid), 1, 'a held card is not retried on a timer');

    const opened = await openConversation(h.deps, {
      person: people.andy,
      reference: { conversation: { id: 'a:andy' } },
    });
    assert.equal(opened.released, 1);
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 1);
    assert.equal(notifier.sentTo(people.andy).length, 1);
    assert.equal((await rowFor(h, people.andy.oid)).status, 'done');
  });

  it('delivers a held card as soon as the person opens Cabinet, without waiting out the claim lease', async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier({ conversations: h.deps.conversations });
    const sut = relayFor(h, notifier, { leaseMs: 60_000 });
    await sut.deliverDue(CONTOSO_TENANT_ID);
    assert.equal((await rowFor(h, people.andy.oid)).status, 'waiting_for_recipient');

    await openConversation(h.deps, {
      person: people.andy,
      reference: { conversation: { id: 'a:andy' } },
    });
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 1);
    assert.equal(notifier.sentTo(people.andy).length, 1);
  });

  it('holds a card whose conversation Teams says is gone', async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier().script(people.andy, { status: 'stale_conversation' });
    await relayFor(h, notifier).deliverDue(CONTOSO_TENANT_ID);
    assert.equal((await rowFor(h, people.andy.oid)).status, 'waiting_for_recipient');
    assert.equal((await rowFor(h, people.avery.oid)).status, 'done');
  });
});

/** A run driver that records its calls and answers through `answer`. */
class RecordingDriver implements RunDriver {
  readonly calls: string[] = [];
  private readonly active = new Map<string, number>();
  /** Most drives of one run that were ever under way at once. */
  peak = 0;
  /** Drives under way now, of any run. */
  running = 0;
  /** Most drives of any runs that were ever under way at once. */
  peakRunning = 0;

  constructor(private readonly answer: (runId: string) => Promise<DriveOutcome>) {}

  async drive(tenantId: TenantId, runId: string): Promise<DriveOutcome> {
    this.calls.push(runId);
    assert.equal(tenantId, CONTOSO_TENANT_ID);
    const now = (this.active.get(runId) ?? 0) + 1;
    this.active.set(runId, now);
    this.peak = Math.max(this.peak, now);
    this.running += 1;
    this.peakRunning = Math.max(this.peakRunning, this.running);
    try {
      return await this.answer(runId);
    } finally {
      this.active.set(runId, this.active.get(runId)! - 1);
      this.running -= 1;
    }
  }
}

/** A drive that writes the run as the engine does: read, work, save under the read ETag. */
function storeDriver(runs: ExecutionStore, by: string, hold: Promise<void>): RunDriver {
  return {
    async drive(tenantId, runId) {
      const stored = (await runs.get(tenantId, runId as RunId))!;
      await hold;
      await runs.save(tenantId, {
        run: { ...stored.run, status: 'completed', reason: `driven by ${by}` },
        runEtag: stored.etag,
        audit: [event(tenantId, { by })],
        outbox: [],
      });
      return { status: 'settled' };
    },
  };
}

function gate(): { readonly opened: Promise<void>; readonly open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Waits (on the event loop, not a timer) until `condition` holds. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve));
}

const settled: DriveOutcome = { status: 'settled' };

/** One gate per run id, made on first use: a driver answering through it holds each run until opened. */
function gatesByRun(): {
  readonly answer: (runId: string) => Promise<DriveOutcome>;
  readonly open: (runId: string) => void;
} {
  const gates = new Map<string, ReturnType<typeof gate>>();
  const of = (runId: string) => {
    const existing = gates.get(runId);
    if (existing) return existing;
    const made = gate();
    gates.set(runId, made);
    return made;
  };
  return {
    answer: async (runId) => {
      await of(runId).opened;
      return settled;
    },
    open: (runId) => of(runId).open(),
  };
}

describe(`${OutboxRelay.name}: graph.execute rows`, () => {
  /** Contoso's cards plus a queued run of CONTOSO-1 with its graph.execute row. */
  async function withRun(runNumber = 1): Promise<Harness> {
    const h = await withCards();
    await queueRun(h, runNumber);
    return h;
  }

  async function queueRun(h: Harness, runNumber: number): Promise<void> {
    const queued = run(CONTOSO_TENANT_ID, 1, runNumber);
    await h.storage.runs.save(CONTOSO_TENANT_ID, {
      run: queued,
      audit: [],
      outbox: [executeMessage(queued)],
    });
  }

  async function graphRows(h: Harness) {
    return (await h.deps.outbox.list(CONTOSO_TENANT_ID)).filter(isGraphExecuteRow);
  }

  function driving(h: Harness, runs: RunDriver, options: OutboxRelayOptions = {}): OutboxRelay {
    return new OutboxRelay(
      {
        outbox: h.deps.outbox,
        notifier: new RecordingNotifier(),
        clients: h.deps.clients,
        clock: h.clock,
        runs,
      },
      options,
    );
  }

  it('hands the row to the run driver and completes it when the run is settled', async () => {
    const h = await withRun();
    const driver = new RecordingDriver(() => Promise.resolve(settled));
    const sut = driving(h, driver);

    assert.equal(
      await sut.deliverDue(CONTOSO_TENANT_ID),
      CONTOSO_ROWS,
      "the two approval cards and the requester's update",
    );
    await sut.idle();

    assert.deepEqual(driver.calls, ['1-1']);
    assert.deepEqual(
      (await graphRows(h)).map((r) => [r.status, r.attempts]),
      [['done', 0]],
    );
  });

  it('sends notifications while a run is still being driven', async () => {
    const h = await withRun();
    const held = gate();
    const notifier = new RecordingNotifier();
    const driver = new RecordingDriver(async () => {
      await held.opened;
      return settled;
    });
    const sut = new OutboxRelay({
      outbox: h.deps.outbox,
      notifier,
      clients: h.deps.clients,
      clock: h.clock,
      runs: driver,
    });

    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), CONTOSO_ROWS);

    assert.equal(notifier.sent.length, CONTOSO_ROWS);
    assert.deepEqual(driver.calls, ['1-1']);
    assert.equal((await graphRows(h))[0]!.status, 'pending');
    held.open();
    await sut.idle();
    assert.equal((await graphRows(h))[0]!.status, 'done');
  });

  it('puts a run off until the time it asks for, without counting a failed attempt', async () => {
    const h = await withRun();
    const t0 = h.clock.now().getTime();
    const answers: DriveOutcome[] = [{ status: 'later', at: new Date(t0 + 60_000) }, settled];
    const driver = new RecordingDriver(() => Promise.resolve(answers.shift()!));
    const sut = driving(h, driver);

    await sut.deliverDue(CONTOSO_TENANT_ID);
    await sut.idle();
    const [row] = await graphRows(h);
    assert.deepEqual(
      [row!.status, row!.attempts, row!.reschedules, row!.nextAttemptAt, row!.leaseUntil],
      ['pending', 0, 1, new Date(t0 + 60_000).toISOString(), undefined],
    );

    h.clock.advance(59_999);
    await sut.deliverDue(CONTOSO_TENANT_ID);
    await sut.idle();
    assert.equal(driver.calls.length, 1, 'not before the time it asked for');

    h.clock.advance(1);
    await sut.deliverDue(CONTOSO_TENANT_ID);
    await sut.idle();
    assert.deepEqual(driver.calls, ['1-1', '1-1']);
    assert.equal((await graphRows(h))[0]!.status, 'done');
  });

  it('puts off a run that asks to be driven again at once by at least a second', async () => {
    const h = await withRun();
    const t0 = h.clock.now().getTime();
    const sut = driving(
      h,
      new RecordingDriver(() => Promise.resolve({ status: 'later', at: new Date(t0 - 5_000) })),
    );

    await sut.deliverDue(CONTOSO_TENANT_ID);
    await sut.idle();

    assert.equal((await graphRows(h))[0]!.nextAttemptAt, new Date(t0 + 1_000).toISOString());
  });

  it('parks a row whose run keeps asking to be driven later', async () => {
    const h = await withRun();
    const driver = new RecordingDriver(() =>
      Promise.resolve({ status: 'later', at: new Date(h.clock.now().getTime() + 1_000) }),
    );
    const sut = driving(h, driver, { maxReschedules: 2 });

    for (let i = 0; i < 5; i += 1) {
      await sut.deliverDue(CONTOSO_TENANT_ID);
      await sut.idle();
      h.clock.advance(1_000);
    }

    const [row] = await graphRows(h);
    assert.equal(driver.calls.length, 3);
    assert.equal(row!.status, 'parked');
    assert.match(row!.lastError!, /asked to be driven later 2 times/);
  });

  it('backs off after a drive that throws and parks the row after maxAttempts', async () => {
    const h = await withRun();
    const driver = new RecordingDriver(() => Promise.reject(new Error('Graph is down')));
    const sut = driving(h, driver, { maxAttempts: 2, baseDelayMs: 1_000, random: () => 0.5 });
    const t0 = h.clock.now().getTime();

    await sut.deliverDue(CONTOSO_TENANT_ID);
    await sut.idle();
    const [first] = await graphRows(h);
    assert.deepEqual(
      [first!.status, first!.attempts, first!.nextAttemptAt, first!.lastError],
      ['pending', 1, new Date(t0 + 500).toISOString(), 'Error: Graph is down'],
    );

    h.clock.advance(500);
    await sut.deliverDue(CONTOSO_TENANT_ID);
    await sut.idle();
    assert.deepEqual(
      (await graphRows(h)).map((r) => [r.status, r.attempts]),
      [['parked', 2]],
    );
  });

  it('never drives one run twice at once, but drives different runs side by side', async () => {
    const h = await withRun(1);
    const stored = (await h.storage.runs.get(CONTOSO_TENANT_ID, '1-1' as RunId))!;
    await h.storage.runs.save(CONTOSO_TENANT_ID, {
      run: { ...stored.run, status: 'waiting' },
      runEtag: stored.etag,
      audit: [],
      outbox: [executeMessage(stored.run)],
    });
    await queueRun(h, 2);
    const held = gate();
    const driver = new RecordingDriver(async () => {
      await held.opened;
      return settled;
    });
    const sut = driving(h, driver);

    await sut.deliverDue(CONTOSO_TENANT_ID);
    await until(() => driver.calls.includes('1-1') && driver.calls.includes('1-2'));
    held.open();
    await sut.idle();

    assert.deepEqual([...driver.calls].sort(), ['1-1', '1-1', '1-2']);
    assert.equal(driver.peak, 1);
    assert.deepEqual(
      (await graphRows(h)).map((r) => r.status),
      ['done', 'done', 'done'],
    );
  });

  it('leaves graph rows pending, and says why, when this instance has no run driver', async () => {
    const h = await withRun();
    const logs: string[] = [];
    const sut = relayFor(h, new RecordingNotifier(), { log: (m) => logs.push(m) });

    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), CONTOSO_ROWS);
    h.clock.advance(3_600_000);
    await sut.deliverDue(CONTOSO_TENANT_ID);
    await sut.idle();

    assert.deepEqual(
      (await graphRows(h)).map((r) => [r.status, r.attempts]),
      [['pending', 0]],
    );
    assert.equal(logs.filter((m) => /1-1.*no run driver/.test(m)).length, 2);
  });

  it('renews the lease while a run is driven, so another instance cannot take the row', async () => {
    const h = await withRun();
    const held = gate();
    const first = new RecordingDriver(async () => {
      await held.opened;
      return settled;
    });
    const second = new RecordingDriver(() => Promise.resolve(settled));
    const one = driving(h, first, { leaseMs: 30_000, leaseRenewMs: 1 });
    const other = driving(h, second, { leaseMs: 30_000 });
    const t0 = h.clock.now().getTime();

    await one.deliverDue(CONTOSO_TENANT_ID);
    h.clock.advance(20_000);
    await until(
      async () => (await graphRows(h))[0]!.leaseUntil === new Date(t0 + 50_000).toISOString(),
    );
    h.clock.advance(20_000);
    await other.deliverDue(CONTOSO_TENANT_ID);
    await other.idle();
    held.open();
    await one.idle();

    assert.deepEqual(second.calls, []);
    assert.deepEqual(first.calls, ['1-1']);
    assert.equal((await graphRows(h))[0]!.status, 'done');
  });

  it('an instance that stalled past its lease cannot overwrite what the next one drove', async () => {
    const h = await withRun();
    const stalled = gate();
    const logs: string[] = [];
    const one = driving(h, storeDriver(h.storage.runs, 'one', stalled.opened), {
      leaseMs: 30_000,
      leaseRenewMs: 3_600_000,
      log: (m) => logs.push(m),
    });
    const other = driving(h, storeDriver(h.storage.runs, 'other', Promise.resolve()), {
      leaseMs: 30_000,
    });

    await one.deliverDue(CONTOSO_TENANT_ID);
    h.clock.advance(30_001);
    await other.deliverDue(CONTOSO_TENANT_ID);
    await other.idle();
    stalled.open();
    await one.idle();

    const stored = await h.storage.runs.get(CONTOSO_TENANT_ID, '1-1' as RunId);
    assert.equal(stored?.run.reason, 'driven by other');
    assert.deepEqual(
      (await graphRows(h)).map((r) => [r.status, r.attempts]),
      [['done', 0]],
    );
    const byDriver = (await h.storage.audit.read(CONTOSO_TENANT_ID)).filter((e) =>
      e.canonical.includes('"by":'),
    );
    assert.equal(byDriver.length, 1);
    assert.ok(logs.some((m) => /ConcurrencyError/.test(m)));
  });
  it('drives at most maxConcurrentRuns runs at once and the rest as slots free, while notifications go out', async () => {
    const h = await withCards();
    for (let n = 1; n <= 10; n += 1) await queueRun(h, n);
    const gates = gatesByRun();
    const driver = new RecordingDriver(gates.answer);
    const notifier = new RecordingNotifier();
    const sut = new OutboxRelay(
      { outbox: h.deps.outbox, notifier, clients: h.deps.clients, clock: h.clock, runs: driver },
      { maxConcurrentRuns: 3, leaseMs: 30_000 },
    );
    const t0 = h.clock.now().getTime();

    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), CONTOSO_ROWS, 'the approval cards');
    await until(() => driver.calls.length >= 3);
    const rows = await graphRows(h);
    assert.ok(rows.every((r) => r.status === 'pending'));
    const leasedUntil = (r: OutboxRow) => Date.parse(r.leaseUntil ?? '') - t0;
    assert.deepEqual(
      rows.map(leasedUntil).sort((a, b) => a - b),
      [...Array<number>(7).fill(5_000), 30_000, 30_000, 30_000],
      'three leased for driving; seven handed back within seconds',
    );

    await raiseGeneral(h, people.carla);
    assert.equal(
      await sut.deliverDue(CONTOSO_TENANT_ID),
      1,
      "a new request's card for the technician does not wait for a slot",
    );
    assert.equal(notifier.sent.length, CONTOSO_ROWS + 1);
    assert.equal(driver.calls.length, 3, 'a pass with every slot taken starts no run');

    gates.open(driver.calls[0]!);
    await until(() => driver.calls.length >= 4);
    for (let n = 1; n <= 10; n += 1) gates.open(`1-${n}`);
    await sut.idle();

    assert.deepEqual(
      [...driver.calls].sort(),
      Array.from({ length: 10 }, (_, i) => `1-${i + 1}`).sort(),
      'every run driven once',
    );
    assert.equal(driver.peakRunning, 3);
    assert.deepEqual(
      (await graphRows(h)).map((r) => [r.status, r.attempts, r.reschedules ?? 0]),
      Array.from({ length: 10 }, () => ['done', 0, 0]),
    );
  });

  it('hands rows beyond its slots back, so another instance drives them and this one leaves them', async () => {
    const h = await withCards();
    for (let n = 1; n <= 6; n += 1) await queueRun(h, n);
    const gates = gatesByRun();
    const busy = new RecordingDriver(gates.answer);
    const idle = new RecordingDriver(() => Promise.resolve(settled));
    const logs: string[] = [];
    const one = driving(h, busy, { maxConcurrentRuns: 2, log: (m) => logs.push(m) });
    const other = driving(h, idle, { maxConcurrentRuns: 2 });

    await one.deliverDue(CONTOSO_TENANT_ID);
    await until(() => busy.calls.length >= 2);
    await other.deliverDue(CONTOSO_TENANT_ID);
    assert.deepEqual(idle.calls, [], 'not before the handed-back lease ends');
    h.clock.advance(5_000);
    await other.deliverDue(CONTOSO_TENANT_ID);
    await other.idle();
    for (const runId of busy.calls) gates.open(runId);
    await one.idle();

    assert.equal(idle.calls.length, 4);
    assert.deepEqual(
      [...busy.calls, ...idle.calls].sort(),
      Array.from({ length: 6 }, (_, i) => `1-${i + 1}`).sort(),
    );
    assert.equal(idle.peakRunning, 2);
    assert.ok((await graphRows(h)).every((r) => r.status === 'done'));
    assert.equal(logs.filter((m) => /claimed again while it waited for a slot/.test(m)).length, 4);
  });

  it('on stop, finishes the runs under way and leaves the held-back ones for the next claim', async () => {
    const h = await withCards();
    for (let n = 1; n <= 3; n += 1) await queueRun(h, n);
    const gates = gatesByRun();
    const driver = new RecordingDriver(gates.answer);
    const sut = driving(h, driver, { maxConcurrentRuns: 1 });

    await sut.deliverDue(CONTOSO_TENANT_ID);
    await until(() => driver.calls.length === 1);
    const stopped = sut.stop();
    gates.open(driver.calls[0]!);
    await stopped;

    assert.equal(driver.calls.length, 1);
    assert.deepEqual((await graphRows(h)).map((r) => r.status).sort(), [
      'done',
      'pending',
      'pending',
    ]);
  });

  it('refuses a maxConcurrentRuns that is not a whole number of at least 1', async () => {
    const h = await withCards();
    const driver = new RecordingDriver(() => Promise.resolve(settled));
    for (const maxConcurrentRuns of [0, 1.5, Number.NaN])
      assert.throws(() => driving(h, driver, { maxConcurrentRuns }), /maxConcurrentRuns/);
  });
});
