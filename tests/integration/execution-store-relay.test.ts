import assert from 'node:assert/strict';
import { createTableStorage, type TableStorage } from '../../src/adapters/storage/table-storage';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import type { RunId, RunStatus } from '../../src/domain/execution/execution-run';
import type { TenantId } from '../../src/domain/shared/ids';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import {
  isGraphExecuteRow,
  isNotificationRow,
  type DriveOutcome,
  type RunDriver,
} from '../../src/application/ports/outbox';
import { OutboxRelay, type OutboxRelayOptions } from '../../src/application/use-cases/relay-outbox';
import { runOutboxCommand } from '../../src/cli/outbox.command';
import { event, newTenant, notify, profile, request, write } from '../contract/contract-support';
import { executeMessage, run } from '../contract/execution-support';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { RecordingNotifier } from '../support/fixtures';

/**
 * A stand-in for the execution worker: reads the run, optionally waits, then writes its next state
 * (and, when it finishes, the request's) under the ETags it read, as the engine does.
 */
class RecordingDriver implements RunDriver {
  readonly calls: string[] = [];
  private running = 0;
  /** Most drives ever under way at once. */
  peakRunning = 0;

  constructor(
    private readonly storage: TableStorage,
    private readonly by: string,
    private readonly answers: DriveOutcome[] = [{ status: 'settled' }],
    private readonly hold: Promise<void> = Promise.resolve(),
  ) {}

  async drive(tenantId: TenantId, runId: string): Promise<DriveOutcome> {
    this.calls.push(runId);
    this.running += 1;
    this.peakRunning = Math.max(this.peakRunning, this.running);
    try {
      return await this.step(tenantId, runId);
    } finally {
      this.running -= 1;
    }
  }

  private async step(tenantId: TenantId, runId: string): Promise<DriveOutcome> {
    const stored = (await this.storage.runs.get(tenantId, runId as RunId))!;
    await this.hold;
    const answer = this.answers.shift() ?? { status: 'settled' };
    const status: RunStatus = answer.status === 'settled' ? 'completed' : 'waiting';
    const current = (await this.storage.requests.get(tenantId, stored.run.requestId))!;
    const finished = status === 'completed';
    await this.storage.runs.save(tenantId, {
      run: { ...stored.run, status, reason: `driven by ${this.by}` },
      runEtag: stored.etag,
      ...(finished
        ? {
            request: {
              next: {
                ...current.request,
                status: 'implemented',
                version: current.request.version + 1,
              },
              etag: current.etag,
            },
          }
        : {}),
      audit: [event(tenantId, { by: this.by, status })],
      outbox: finished ? [notify(tenantId, stored.run.requestId)] : [],
    });
    return answer;
  }
}

function gate(): { readonly opened: Promise<void>; readonly open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Waits (on the event loop, not a timer) until `condition` holds. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve));
}

describe('Relay driving Graph runs on Table Storage (Azurite)', () => {
  const azurite = useAzurite();
  const clock = new FakeClock();
  let one: TableStorage & { readonly prefix: string };
  let other: TableStorage;
  let tenant: TenantId;

  beforeEach(async () => {
    one = await azurite.newStorage({ clock });
    other = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: one.prefix,
      clock,
    });
    tenant = newTenant();
  });

  /** An approved request whose execution was started: in progress, a queued run, its graph.execute row. */
  async function started(): Promise<{ request: ChangeRequest; runId: RunId }> {
    const created = await one.requests.create(tenant, (n) =>
      write(request(tenant, n, { status: 'approved' })),
    );
    const queued = run(tenant, created.request.number);
    const next = { ...created.request, status: 'in_progress' as const, version: 2 };
    await one.runs.save(tenant, {
      run: queued,
      request: { next, etag: created.etag },
      audit: [event(tenant, { run: queued.id }, undefined, 'work.started')],
      outbox: [executeMessage(queued)],
    });
    return { request: next, runId: queued.id };
  }

  function relay(storage: TableStorage, runs: RunDriver, options: OutboxRelayOptions = {}) {
    const notifier = new RecordingNotifier();
    const sut = new OutboxRelay(
      { outbox: storage.outbox, notifier, clients: storage.clients, clock, runs },
      { leaseMs: 30_000, ...options },
    );
    return { sut, notifier };
  }

  async function graphRows(storage: TableStorage = one) {
    return (await storage.outbox.list(tenant)).filter(isGraphExecuteRow);
  }

  it('drives a started run to the end, writing run, request, audit and notification together', async () => {
    const { request: started_, runId } = await started();
    const driver = new RecordingDriver(one, 'one');
    const { sut, notifier } = relay(one, driver);

    await sut.deliverDue(tenant);
    await sut.idle();

    assert.deepEqual(driver.calls, [runId]);
    assert.deepEqual(
      (await graphRows()).map((r) => [r.status, r.attempts]),
      [['done', 0]],
    );
    assert.equal((await one.runs.get(tenant, runId))?.run.status, 'completed');
    assert.equal((await one.requests.get(tenant, started_.id))?.request.status, 'implemented');
    assert.equal(verifyChain(tenant, await one.audit.read(tenant)).ok, true);

    assert.equal(await sut.deliverDue(tenant), 1, 'the completion card goes out on the next pass');
    assert.deepEqual(
      notifier.sent.map((d) => d.notification.requestId),
      [started_.id],
    );
    assert.ok(
      (await one.outbox.list(tenant)).filter(isNotificationRow).every((r) => r.status === 'done'),
    );
  });

  it('puts a run off when it asks to be driven later, and drives it again then', async () => {
    const { runId } = await started();
    const t0 = clock.now().getTime();
    const at = new Date(t0 + 120_000);
    const driver = new RecordingDriver(one, 'one', [
      { status: 'later', at },
      { status: 'settled' },
    ]);
    const { sut } = relay(one, driver);

    await sut.deliverDue(tenant);
    await sut.idle();
    const [waiting] = await graphRows();
    assert.deepEqual(
      [waiting?.status, waiting?.attempts, waiting?.reschedules, waiting?.nextAttemptAt],
      ['pending', 0, 1, at.toISOString()],
    );
    assert.equal((await one.runs.get(tenant, runId))?.run.status, 'waiting');

    clock.advance(119_999);
    await sut.deliverDue(tenant);
    await sut.idle();
    assert.equal(driver.calls.length, 1);

    clock.advance(1);
    await sut.deliverDue(tenant);
    await sut.idle();
    assert.deepEqual(driver.calls, [runId, runId]);
    assert.equal((await graphRows())[0]?.status, 'done');
    assert.equal((await one.runs.get(tenant, runId))?.run.status, 'completed');
  });

  it('keeps the row while one instance drives, renewing its lease past the original expiry', async () => {
    const { runId } = await started();
    const held = gate();
    const first = new RecordingDriver(one, 'one', undefined, held.opened);
    const second = new RecordingDriver(other, 'other');
    const a = relay(one, first, { leaseRenewMs: 5 });
    const b = relay(other, second);
    const t0 = clock.now().getTime();

    await a.sut.deliverDue(tenant);
    clock.advance(20_000);
    await until(
      async () => (await graphRows())[0]?.leaseUntil === new Date(t0 + 50_000).toISOString(),
    );
    clock.advance(20_000);
    await b.sut.deliverDue(tenant);
    await b.sut.idle();
    held.open();
    await a.sut.idle();

    assert.deepEqual(second.calls, []);
    assert.deepEqual(first.calls, [runId]);
    assert.equal((await one.runs.get(tenant, runId))?.run.reason, 'driven by one');
    assert.equal((await graphRows())[0]?.status, 'done');
  });

  it('after a crash-like stall past the lease, the next instance drives and the stale writer is refused', async () => {
    const { request: started_, runId } = await started();
    const stalled = gate();
    const logs: string[] = [];
    const first = new RecordingDriver(one, 'one', undefined, stalled.opened);
    const second = new RecordingDriver(other, 'other');
    const a = relay(one, first, { leaseRenewMs: 3_600_000, log: (m) => logs.push(m) });
    const b = relay(other, second);

    await a.sut.deliverDue(tenant);
    await until(() => Promise.resolve(first.calls.length === 1));
    clock.advance(30_001);
    await b.sut.deliverDue(tenant);
    await b.sut.idle();
    stalled.open();
    await a.sut.idle();

    assert.deepEqual(second.calls, [runId]);
    assert.equal((await one.runs.get(tenant, runId))?.run.reason, 'driven by other');
    assert.equal((await one.requests.get(tenant, started_.id))?.request.version, 3);
    assert.deepEqual(
      (await graphRows()).map((r) => [r.status, r.attempts]),
      [['done', 0]],
    );
    const entries = await one.audit.read(tenant);
    assert.equal(verifyChain(tenant, entries).ok, true);
    assert.deepEqual(
      entries
        .map((e) => (JSON.parse(e.canonical) as { payload: { by?: string } }).payload.by)
        .filter((by) => by !== undefined),
      ['other'],
    );
    assert.ok(
      logs.some((m) => m.includes('ConcurrencyError')),
      logs.join('\n'),
    );
  });

  it('shares a burst of runs between two instances, each driving no more than its slots, every run once', async () => {
    const runIds: RunId[] = [];
    for (let i = 0; i < 5; i += 1) runIds.push((await started()).runId);
    const held = gate();
    const first = new RecordingDriver(one, 'one', undefined, held.opened);
    const second = new RecordingDriver(other, 'other');
    const a = relay(one, first, { maxConcurrentRuns: 2 });
    const b = relay(other, second, { maxConcurrentRuns: 2 });

    await a.sut.deliverDue(tenant);
    await until(() => Promise.resolve(first.calls.length >= 2));
    clock.advance(5_000);
    await b.sut.deliverDue(tenant);
    await b.sut.idle();
    held.open();
    await a.sut.idle();

    assert.deepEqual([first.calls.length, second.calls.length], [2, 3]);
    assert.deepEqual([...first.calls, ...second.calls].sort(), [...runIds].sort());
    assert.deepEqual([first.peakRunning, second.peakRunning], [2, 2]);
    for (const runId of runIds)
      assert.equal((await one.runs.get(tenant, runId))?.run.status, 'completed');
    assert.ok((await graphRows()).every((r) => r.status === 'done' && r.attempts === 0));
  });

  it('shows graph runs in `cabinet outbox list`, with how often they were put off', async () => {
    const { request: started_, runId } = await started();
    await one.clients.create(profile(tenant), []);
    // The run's own row; the request's index sync rows sit beside it.
    const row = (await one.outbox.claimDue(tenant, clock.now())).find(
      (r) => r.message.kind === 'graph.execute',
    );
    await one.outbox.reschedule(row!, new Date(clock.now().getTime() + 60_000), clock.now());
    const lines: string[] = [];

    const code = await runOutboxCommand(['list', '--tenant', tenant], {
      outbox: one.outbox,
      clients: one.clients,
      now: () => clock.now(),
      out: (line) => lines.push(line),
    });

    assert.equal(code, 0);
    assert.match(
      lines.join('\n'),
      new RegExp(
        `${row!.id} pending .*attempts 0 reschedules 1 next .*\n  graph run ${runId} for ${started_.id}`,
      ),
    );
  });
});
