import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createHaloPsaConnector,
  type CreateHaloPsaConnectorOptions,
} from '../../src/adapters/psa/halopsa-connector';
import {
  PsaError,
  type PsaConnector,
  type PsaInboundDelivery,
  type PsaTicketDraft,
} from '../../src/application/ports/psa';
import { psaMarker } from '../../src/domain/psa/psa';
import {
  startHaloPsaSandbox,
  type RunningHaloPsaSandbox,
  type StartHaloPsaSandboxOptions,
} from '../../src/sandbox/psa/halopsa-server';

const START = new Date('2026-11-23T09:00:00.000Z');

function draft(overrides: Partial<PsaTicketDraft> = {}): PsaTicketDraft {
  return {
    company: '12',
    board: '3',
    category: 'M365>User',
    priority: '2',
    status: '1',
    summary: 'CONTOSO-12: Onboard Jane Doe',
    details: 'Onboard Jane Doe <jane@contoso.example>\n\nStart: Monday & licence E3',
    externalRef: 'cr_0001',
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<PsaError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PsaError, `expected PsaError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** A loopback stand-in for Cabinet's `/api/psa/halopsa`, recording what Halo delivers. */
async function startReceiver(): Promise<{
  url: string;
  deliveries: PsaInboundDelivery[];
  close: () => Promise<void>;
}> {
  const deliveries: PsaInboundDelivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      deliveries.push({
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
        ),
        rawBody: Buffer.concat(chunks),
      });
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/psa/halopsa`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('HaloPSA connector against the sandbox HaloPSA', () => {
  let clock: Date;
  let sandbox: RunningHaloPsaSandbox;
  let sut: PsaConnector;
  const extra: { close(): Promise<void> }[] = [];

  const connect = (
    psa: RunningHaloPsaSandbox,
    overrides: Partial<CreateHaloPsaConnectorOptions> = {},
  ): PsaConnector =>
    createHaloPsaConnector({
      apiUrl: psa.url,
      authUrl: psa.authUrl,
      clientId: psa.clientId,
      clientSecret: psa.clientSecret,
      webhookSecret: psa.webhookSecret,
      webUrl: psa.webUrl,
      now: () => clock,
      ...overrides,
    });

  const start = async (
    options: StartHaloPsaSandboxOptions = {},
  ): Promise<RunningHaloPsaSandbox> => {
    const psa = await startHaloPsaSandbox({ now: () => clock, ...options });
    extra.push(psa);
    return psa;
  };

  beforeEach(async () => {
    clock = START;
    sandbox = await start();
    sut = connect(sandbox);
  });

  afterEach(async () => {
    await Promise.all(extra.splice(0).map((s) => s.close()));
  });

  it('opens a ticket for the mapped client with priority, type, status and the request reference', async () => {
    const ref = await sut.createTicket(draft());

    const [ticket, ...others] = sandbox.tickets();
    assert.equal(others.length, 0);
    assert.ok(ticket);
    assert.equal(ref.ticketId, ticket.id);
    assert.equal(ref.url, `${sandbox.webUrl}/ticket?id=${ticket.id}`);
    assert.deepEqual(
      { company: ticket.company, priority: ticket.priority, status: ticket.status },
      { company: '12', priority: '2', status: '1' },
    );
    assert.equal(ticket.summary, 'CONTOSO-12: Onboard Jane Doe');
    assert.equal(ticket.externalRef, 'cr_0001');
    const page = await (await fetch(ref.url ?? '')).text();
    assert.match(page, /Onboard Jane Doe &lt;jane@contoso\.example&gt;/);
    assert.doesNotMatch(page, /<jane@/);
  });

  it('refuses an unknown client with Halo’s message as a permanent failure', async () => {
    const error = await failureOf(sut.createTicket(draft({ company: '99' })));

    assert.equal(error.failure, 'permanent');
    assert.equal(error.details.status, 400);
    assert.match(error.message, /client_id 99/);
    assert.equal(sandbox.tickets().length, 0);
  });

  it('refuses a mapping value that is not a Halo id before calling Halo', async () => {
    const before = sandbox.counts.requests;
    const error = await failureOf(sut.createTicket(draft({ priority: 'High' })));

    assert.equal(error.failure, 'permanent');
    assert.equal(sandbox.counts.requests, before);
  });

  it('adds a note with its marker, escaped as HTML, moving the ticket to the mapped status', async () => {
    const { ticketId } = await sut.createTicket(draft());
    const marker = psaMarker('row-1');

    const { noteId } = await sut.addNote(ticketId, {
      text: 'Approved by <b>Ann</b> & Bob',
      internal: true,
      marker,
      status: '2',
    });

    const ticket = sandbox.tickets()[0];
    assert.equal(ticket?.status, '2');
    assert.deepEqual(
      ticket?.notes.map((n) => ({ id: n.id, internal: n.internal })),
      [{ id: noteId, internal: true }],
    );
    assert.equal(ticket?.notes[0]?.text, `Approved by <b>Ann</b> & Bob\n\n${marker}`);
    await sut.updateTicket(ticketId, { priority: '1', status: '3' });
    assert.deepEqual(
      { status: sandbox.tickets()[0]?.status, priority: sandbox.tickets()[0]?.priority },
      { status: '3', priority: '1' },
    );
  });

  it('finds the ticket and the note a dropped response created, so a redelivery writes nothing twice', async () => {
    // The token call is a POST too; take the token first so the drop hits the ticket's creation.
    await sut.listChangedTickets(START);
    sandbox.chaos.dropRate = 1;
    const lostCreate = await failureOf(sut.createTicket(draft({ externalRef: 'cr_0042' })));
    assert.equal(lostCreate.failure, 'transient');
    sandbox.chaos.dropRate = 0;
    assert.equal(sandbox.tickets().length, 1);
    await sut.createTicket(draft({ externalRef: 'cr_0041' }));

    const found = await sut.findTicket('12', 'cr_0042');
    assert.equal(await sut.findTicket('14', 'cr_0042'), undefined);
    assert.equal(await sut.findTicket('12', 'cr_004'), undefined);
    assert.ok(found);
    assert.equal(sandbox.tickets().find((t) => t.id === found.ticketId)?.externalRef, 'cr_0042');

    const marker = psaMarker('row-7');
    sandbox.chaos.dropRate = 1;
    await failureOf(sut.addNote(found.ticketId, { text: 'Work started', internal: false, marker }));
    sandbox.chaos.dropRate = 0;

    const noteId = await sut.findNote(found.ticketId, marker);
    assert.equal(noteId, '1');
    assert.equal(await sut.findNote(found.ticketId, psaMarker('row-8')), undefined);
    assert.equal(sandbox.tickets().length, 2);
    assert.equal(sandbox.counts.droppedResponses, 2);
  });

  it('lists notes past the watermark, oldest first, with author and visibility', async () => {
    const { ticketId } = await sut.createTicket(draft());
    await sut.addNote(ticketId, { text: 'Submitted', internal: true, marker: psaMarker('r1') });
    const first = await sandbox.addTechnicianNote(ticketId, 'Called the client', {
      author: 'Tess',
    });
    await sandbox.addTechnicianNote(ticketId, 'Licence <E3> assigned', {
      author: 'Tess',
      internal: true,
    });

    const all = await sut.listNotes(ticketId);
    const after = await sut.listNotes(ticketId, first);

    assert.deepEqual(
      all.map((n) => n.id),
      ['1', '2', '3'],
    );
    assert.deepEqual(
      after.map((n) => ({ id: n.id, text: n.text, author: n.author, internal: n.internal })),
      [{ id: '3', text: 'Licence <E3> assigned', author: 'Tess', internal: true }],
    );
    assert.equal(after[0]?.ticketId, ticketId);
    assert.deepEqual(await sut.listNotes(ticketId, '3'), []);
  });

  it('delivers a technician note as a webhook that verifyWebhook accepts, and refuses a wrong secret', async () => {
    const receiver = await startReceiver();
    extra.push(receiver);
    const { ticketId } = await sut.createTicket(draft());
    sandbox.setWebhookTarget(receiver.url);

    await sandbox.addTechnicianNote(ticketId, 'Please confirm the start date');
    await sandbox.addTechnicianNote(ticketId, 'quiet', { webhook: false });

    assert.equal(receiver.deliveries.length, 1);
    const delivery = receiver.deliveries[0];
    assert.ok(delivery);
    const body = JSON.parse(delivery.rawBody.toString('utf8')) as {
      ticket: { id: number };
      action: { ticket_id: number; note: string };
    };
    assert.equal(body.action.note, 'Please confirm the start date');
    assert.deepEqual(await sut.verifyWebhook(delivery), { ok: true, ticketIds: [ticketId] });

    const stranger = connect(sandbox, { webhookSecret: 'not-the-secret' });
    const refused = await stranger.verifyWebhook(delivery);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.status, 401);
    const unsigned = await sut.verifyWebhook({ headers: {}, rawBody: delivery.rawBody });
    assert.equal(!unsigned.ok && unsigned.status, 401);
    const shapeless = await sut.verifyWebhook({
      headers: delivery.headers,
      rawBody: Buffer.from('{"x":1}'),
    });
    assert.equal(!shapeless.ok && shapeless.status, 400);
  });

  it('accepts the secret as the Basic password when Halo is set to Basic authentication', async () => {
    const basic = await start({ webhookAuth: 'basic' });
    const receiver = await startReceiver();
    extra.push(receiver);
    const connector = connect(basic);
    const { ticketId } = await connector.createTicket(draft());
    basic.setWebhookTarget(receiver.url);

    await basic.addTechnicianNote(ticketId, 'Done');

    const delivery = receiver.deliveries[0];
    assert.ok(delivery);
    assert.match(delivery.headers.authorization ?? '', /^Basic /);
    assert.deepEqual(await connector.verifyWebhook(delivery), { ok: true, ticketIds: [ticketId] });
  });

  it('can also send webhooks for Cabinet’s own notes, carrying the marker that identifies them', async () => {
    const echoing = await start({ webhookOnApiActions: true });
    const receiver = await startReceiver();
    extra.push(receiver);
    const connector = connect(echoing);
    const { ticketId } = await connector.createTicket(draft());
    echoing.setWebhookTarget(receiver.url);

    await connector.addNote(ticketId, {
      text: 'Approved',
      internal: false,
      marker: psaMarker('r9'),
    });
    for (let i = 0; i < 500 && receiver.deliveries.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const delivery = receiver.deliveries[0];
    assert.ok(delivery);
    assert.match(delivery.rawBody.toString('utf8'), /\[cabinet:r9\]/);
    assert.deepEqual(await connector.verifyWebhook(delivery), { ok: true, ticketIds: [ticketId] });
  });

  it('names the tenant on the token call of a Halo-hosted instance', async () => {
    const hosted = await start({ tenant: 'acme' });

    assert.equal((await failureOf(connect(hosted).listChangedTickets(START))).failure, 'auth');
    await connect(hosted, { tenant: 'acme' }).createTicket(draft());
    assert.equal(hosted.tickets().length, 1);
  });

  it('lists tickets changed since a time, including those with new notes', async () => {
    const a = await sut.createTicket(draft({ externalRef: 'cr_a' }));
    const b = await sut.createTicket(draft({ externalRef: 'cr_b' }));
    clock = new Date(START.getTime() + 10 * 60_000);
    const c = await sut.createTicket(draft({ externalRef: 'cr_c' }));
    await sandbox.addTechnicianNote(a.ticketId, 'Touched');

    const changed = await sut.listChangedTickets(new Date(START.getTime() + 5 * 60_000));

    assert.deepEqual(changed.map((t) => t.ticketId).sort(), [a.ticketId, c.ticketId].sort());
    assert.ok(!changed.some((t) => t.ticketId === b.ticketId));
    assert.ok(changed.every((t) => t.updatedAt === clock.toISOString()));
  });

  it('reads every page of tickets and notes', async () => {
    const small = await start({ maxPageSize: 2 });
    const connector = connect(small, { pageSize: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await connector.createTicket(draft({ externalRef: `cr_p${i}` }))).ticketId);
    }
    const last = ids[4] ?? '';
    for (let i = 0; i < 5; i += 1) await small.addTechnicianNote(last, `note ${i}`);

    assert.deepEqual(
      (await connector.listChangedTickets(START)).map((t) => t.ticketId),
      ids,
    );
    assert.equal((await connector.listNotes(last)).length, 5);
    assert.deepEqual(
      (await connector.listNotes(last, '2')).map((n) => n.text),
      ['note 2', 'note 3', 'note 4'],
    );
    assert.deepEqual(await connector.findTicket('12', 'cr_p4'), {
      ticketId: last,
      url: `${small.webUrl}/ticket?id=${last}`,
    });
    await small.addTechnicianNote(last, 'tail', { internal: false });
    assert.equal(await connector.findNote(last, 'tail'), '6');
  });

  it('reports a 429 as throttled with Retry-After, or 60 s when Halo gives none', async () => {
    sandbox.chaos.throttleNext = 1;
    sandbox.chaos.retryAfterSeconds = 7;
    const throttled = await failureOf(sut.createTicket(draft()));
    assert.equal(throttled.failure, 'throttled');
    assert.equal(throttled.details.retryAfterMs, 7000);

    const limited = await start({ rateLimit: { max: 2, windowSeconds: 300 } });
    const withoutHeader: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const headers = new Headers(response.headers);
      headers.delete('retry-after');
      return new Response(await response.arrayBuffer(), { status: response.status, headers });
    };
    const connector = connect(limited, { fetch: withoutHeader });
    await connector.createTicket(draft());
    await connector.listNotes(limited.tickets()[0]?.id ?? '');
    const overLimit = await failureOf(connector.createTicket(draft()));
    assert.equal(overLimit.failure, 'throttled');
    assert.equal(overLimit.details.retryAfterMs, 60_000);
    assert.equal(limited.tickets().length, 1);

    clock = new Date(START.getTime() + 301_000);
    await connector.createTicket(draft());
    assert.equal(limited.tickets().length, 2);
  });

  it('answers the rolling rate limit with Retry-After until the window frees', async () => {
    const limited = await start({ rateLimit: { max: 1, windowSeconds: 300 } });
    const connector = connect(limited);
    await connector.createTicket(draft());
    clock = new Date(START.getTime() + 100_000);

    const error = await failureOf(connector.createTicket(draft()));

    assert.equal(error.failure, 'throttled');
    assert.equal(error.details.retryAfterMs, 200_000);
  });

  it('reports 5xx and an unreachable Halo as transient', async () => {
    sandbox.chaos.failRate = 1;
    const failed = await failureOf(sut.createTicket(draft()));
    assert.equal(failed.failure, 'transient');
    assert.equal(failed.details.status, 503);
    sandbox.chaos.failRate = 0;

    const gone = await start();
    const connector = connect(gone);
    await gone.close();
    assert.equal((await failureOf(connector.listChangedTickets(START))).failure, 'transient');
  });

  it('renews an expired token once, and reports refused credentials as auth', async () => {
    await sut.createTicket(draft());
    sandbox.expireTokens();

    await sut.createTicket(draft({ externalRef: 'cr_2' }));
    assert.equal(sandbox.tickets().length, 2);

    const wrong = connect(sandbox, { clientSecret: 'wrong' });
    const refused = await failureOf(wrong.listChangedTickets(START));
    assert.equal(refused.failure, 'auth');
    assert.equal(refused.details.status, 401);
  });

  it('takes a technician note from its demo page form', async () => {
    const { ticketId } = await sut.createTicket(draft());

    const response = await fetch(`${sandbox.webUrl}/ui/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ticket_id: ticketId, note: 'From the page', internal: 'true' }),
      redirect: 'manual',
    });

    assert.equal(response.status, 303);
    assert.deepEqual(
      (await sut.listNotes(ticketId)).map((n) => ({ text: n.text, internal: n.internal })),
      [{ text: 'From the page', internal: true }],
    );
  });
});
