import { strict as assert } from 'node:assert';
import type { TenantId } from '../../../src/domain/shared/ids';
import { isNotificationRow, type OutboxRow } from '../../../src/application/ports/outbox';
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

/** Contoso and Fabrikam, each with one request whose approval cards are in the outbox. */
async function withCards(): Promise<Harness> {
  const h = createHarness();
  await seedClients(h);
  await raiseGeneral(h, people.carla);
  await raiseGeneral(h, people.fiona);
  return h;
}

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
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 2);
    assert.deepEqual(
      notifier.sent.map((d) => [d.tenantId, d.recipient.oid, d.notification]),
      [people.andy, people.avery].map((a) => [
        CONTOSO_TENANT_ID,
        a.oid,
        {
          template: 'approval_request',
          requestId: 'CONTOSO-1',
          version: 1,
          cardKey: 'approval:CONTOSO-1',
        },
      ]),
    );
    assert.ok((await h.deps.outbox.list(CONTOSO_TENANT_ID)).every((r) => r.status === 'done'));
    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 0);
    assert.equal(notifier.attempts.length, 2);
    assert.equal(
      (await h.deps.outbox.list(FABRIKAM_TENANT_ID, { statuses: ['pending'] })).length,
      1,
      'other tenants wait for their own pass',
    );
  });

  it("sweeps every client's outbox", async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier();
    assert.equal(await relayFor(h, notifier).sweep(), 3);
    assert.deepEqual(
      notifier.sent.map((d) => d.recipient.oid).sort(),
      [people.andy.oid, people.avery.oid, people.frank.oid].sort(),
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
    assert.equal(notifier.sent.length, 3);
    assert.equal(new Set(notifier.sent.map((d) => `${d.tenantId}|${d.recipient.oid}`)).size, 3);
  });

  it('starts delivery on a kick and settles before idle resolves', async () => {
    const h = await withCards();
    const notifier = new RecordingNotifier();
    const sut = relayFor(h, notifier);
    sut.kick(CONTOSO_TENANT_ID);
    await sut.idle();
    assert.equal(notifier.sent.length, 2);
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

    assert.equal(await sut.deliverDue(CONTOSO_TENANT_ID), 1, "Avery's card goes out; Andy's fails");
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
    assert.equal(failing.attempts.length, 6, 'three attempts per row, then no more');

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
