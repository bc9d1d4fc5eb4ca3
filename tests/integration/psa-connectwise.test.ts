import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConnectWiseConnector } from '../../src/adapters/psa/connectwise-connector';
import {
  PsaError,
  type PsaConnector,
  type PsaInboundDelivery,
  type PsaTicketDraft,
} from '../../src/application/ports/psa';
import { psaMarker } from '../../src/domain/psa/psa';
import {
  startConnectWiseSandbox,
  type RunningConnectWiseSandbox,
} from '../../src/sandbox/psa/connectwise-server';

interface Receiver {
  readonly url: string;
  readonly deliveries: PsaInboundDelivery[];
  close(): Promise<void>;
}

/** A loopback stand-in for Cabinet's `/api/psa/connectwise`, keeping each delivery's raw bytes. */
async function startReceiver(): Promise<Receiver> {
  const deliveries: PsaInboundDelivery[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      deliveries.push({ headers, rawBody: Buffer.concat(chunks) });
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/psa/connectwise`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function draft(overrides: Partial<PsaTicketDraft> = {}): PsaTicketDraft {
  return {
    company: 'CONTOSO',
    board: 'Service Desk',
    category: 'M365',
    priority: 'Priority 2 - High',
    summary: 'CONTOSO-12: Onboard Jane Doe',
    details: 'Onboard Jane Doe, starts Monday.',
    externalRef: 'cr_0001',
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<PsaError> {
  try {
    await promise;
  } catch (error: unknown) {
    assert.ok(error instanceof PsaError, `expected a PsaError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('ConnectWise PSA connector against the sandbox ConnectWise', () => {
  let psa: RunningConnectWiseSandbox;
  let sut: PsaConnector;
  let fetched: string[];
  let clock: Date;

  const connector = (overrides: Partial<Parameters<typeof createConnectWiseConnector>[0]> = {}) =>
    createConnectWiseConnector({
      siteUrl: psa.siteUrl,
      companyId: psa.companyId,
      publicKey: psa.publicKey,
      privateKey: psa.privateKey,
      clientId: psa.clientId,
      fetch: (input, init) => {
        fetched.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
      ...overrides,
    });

  beforeEach(async () => {
    clock = new Date('2026-11-23T09:00:00.000Z');
    psa = await startConnectWiseSandbox({ now: () => clock });
    fetched = [];
    sut = connector({ webUrl: 'https://na.myconnectwise.net' });
  });

  afterEach(async () => {
    await psa.close();
  });

  it('reads the codebase from company info, opens the ticket with the mapping applied and links to it', async () => {
    const ref = await sut.createTicket(draft({ status: 'New (Cabinet)' }));

    assert.equal(
      ref.url,
      `https://na.myconnectwise.net/v4_6_release/ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=${ref.ticketId}`,
    );
    const [ticket] = psa.tickets();
    assert.deepEqual(
      { ...ticket, notes: undefined },
      {
        id: ref.ticketId,
        company: 'CONTOSO',
        summary: 'CONTOSO-12: Onboard Jane Doe',
        externalRef: 'cr_0001',
        status: 'New (Cabinet)',
        priority: 'Priority 2 - High',
        notes: undefined,
      },
    );
    assert.equal(fetched.filter((url) => url.includes('/login/companyinfo/')).length, 1);
    await sut.createTicket(draft({ externalRef: 'cr_0002' }));
    assert.equal(fetched.filter((url) => url.includes('/login/companyinfo/')).length, 1);
  });

  it('cuts a long summary to the 100 characters ConnectWise allows', async () => {
    await sut.createTicket(draft({ summary: 'x'.repeat(140) }));

    assert.equal(psa.tickets()[0]?.summary.length, 100);
  });

  it('finds the ticket by externalXRef within the company only', async () => {
    const ref = await sut.createTicket(draft());
    await sut.createTicket(draft({ company: '251', externalRef: 'cr_other' }));

    assert.equal((await sut.findTicket('CONTOSO', 'cr_0001'))?.ticketId, ref.ticketId);
    assert.equal((await sut.findTicket('250', 'cr_0001'))?.ticketId, ref.ticketId);
    assert.equal(await sut.findTicket('FABRIKAM', 'cr_0001'), undefined);
    assert.equal(await sut.findTicket('CONTOSO', 'cr_"quoted"'), undefined);
  });

  it('refuses an unknown company as permanent, with the PSA message', async () => {
    const error = await rejection(sut.createTicket(draft({ company: 'NOSUCH' })));

    assert.equal(error.failure, 'permanent');
    assert.equal(error.details.status, 400);
    assert.match(error.message, /ticket object is invalid; Company not found/);
    assert.equal(psa.tickets().length, 0);
  });

  it('reports refused credentials as auth', async () => {
    const wrong = connector({ privateKey: 'not-the-key', codebase: 'v4_6_release/' });

    const error = await rejection(wrong.createTicket(draft()));

    assert.equal(error.failure, 'auth');
    assert.equal(error.details.status, 401);
    assert.equal(
      (await rejection(connector({ clientId: 'other' }).listChangedTickets(clock))).failure,
      'auth',
    );
  });

  it('moves the status, then writes the note with its marker, visible or internal', async () => {
    const { ticketId } = await sut.createTicket(draft());

    const visible = await sut.addNote(ticketId, {
      text: 'Approved by Alex.',
      internal: false,
      marker: psaMarker('row1'),
      status: 'Approved',
    });
    const internal = await sut.addNote(ticketId, {
      text: 'Licence assigned.',
      internal: true,
      marker: psaMarker('row2'),
    });

    const [ticket] = psa.tickets();
    assert.equal(ticket?.status, 'Approved');
    assert.deepEqual(
      ticket?.notes.map((note) => [note.id, note.text, note.internal]),
      [
        [visible.noteId, 'Approved by Alex.\n\n[cabinet:row1]', false],
        [internal.noteId, 'Licence assigned.\n\n[cabinet:row2]', true],
      ],
    );
    assert.equal(await sut.findNote(ticketId, psaMarker('row2')), internal.noteId);
    assert.equal(await sut.findNote(ticketId, psaMarker('row3')), undefined);
  });

  it('updates status and priority with JSON-Patch', async () => {
    const { ticketId } = await sut.createTicket(draft());

    await sut.updateTicket(ticketId, { status: 'In Progress', priority: '4' });

    assert.deepEqual(
      psa.tickets().map((ticket) => [ticket.status, ticket.priority]),
      [['In Progress', '4']],
    );
  });

  it('reconciles a ticket and a note whose responses were lost, without writing them twice', async () => {
    psa.chaos.dropRate = 1;
    const lostTicket = await rejection(sut.createTicket(draft()));
    psa.chaos.dropRate = 0;

    assert.equal(lostTicket.failure, 'transient');
    const found = await sut.findTicket('CONTOSO', 'cr_0001');
    assert.equal(found?.ticketId, psa.tickets()[0]?.id);
    assert.equal(psa.tickets().length, 1);

    const ticketId = found?.ticketId ?? '';
    psa.chaos.dropRate = 1;
    const lostNote = await rejection(
      sut.addNote(ticketId, { text: 'Done.', internal: false, marker: psaMarker('row9') }),
    );
    psa.chaos.dropRate = 0;

    assert.equal(lostNote.failure, 'transient');
    assert.equal(await sut.findNote(ticketId, psaMarker('row9')), psa.tickets()[0]?.notes[0]?.id);
    assert.equal(psa.tickets()[0]?.notes.length, 1);
    assert.equal(psa.counts.droppedResponses, 2);
  });

  it('lists notes above the watermark, oldest first, across pages', async () => {
    const { ticketId } = await sut.createTicket(draft());
    const ids: string[] = [];
    for (let i = 0; i < 1002; i += 1) {
      ids.push(await psa.addTechnicianNote(ticketId, `note ${i}`, { webhook: false }));
    }
    await psa.addTechnicianNote(ticketId, 'Customer called', {
      author: 'Tess Technician',
      internal: true,
      webhook: false,
    });

    const before = psa.counts.requests;
    const all = await sut.listNotes(ticketId);
    assert.equal(psa.counts.requests - before, 2);
    assert.equal(all.length, 1003);
    assert.deepEqual(
      all.slice(0, 2).map((note) => note.id),
      ids.slice(0, 2),
    );

    const after = await sut.listNotes(ticketId, ids[1001]);
    assert.deepEqual(after, [
      {
        id: String(Number(ids[1001]) + 1),
        ticketId,
        text: 'Customer called',
        author: 'Tess Technician',
        createdAt: clock.toISOString(),
        internal: true,
      },
    ]);
  });

  it('lists tickets changed at or after a time', async () => {
    const old = await sut.createTicket(draft({ externalRef: 'cr_old' }));
    clock = new Date('2026-11-23T10:00:00.000Z');
    const recent = await sut.createTicket(draft({ externalRef: 'cr_new' }));
    clock = new Date('2026-11-23T11:00:00.000Z');
    await psa.addTechnicianNote(old.ticketId, 'Later note', { webhook: false });

    const since10 = await sut.listChangedTickets(new Date('2026-11-23T10:00:00.000Z'));
    const since1030 = await sut.listChangedTickets(new Date('2026-11-23T10:30:00.000Z'));

    assert.deepEqual(
      since10.map((change) => change.ticketId),
      [old.ticketId, recent.ticketId],
    );
    assert.deepEqual(since1030, [
      { ticketId: old.ticketId, updatedAt: '2026-11-23T11:00:00.000Z' },
    ]);
  });

  it('classifies 429 as throttled with the Retry-After wait, and 5xx and network failures as transient', async () => {
    await sut.listChangedTickets(clock);
    psa.chaos.throttleNext = 1;
    psa.chaos.retryAfterSeconds = 7;
    const throttled = await rejection(sut.createTicket(draft()));
    psa.chaos.failRate = 1;
    const unavailable = await rejection(sut.createTicket(draft()));
    psa.chaos.failRate = 0;

    assert.deepEqual([throttled.failure, throttled.details.retryAfterMs], ['throttled', 7000]);
    assert.deepEqual([unavailable.failure, unavailable.details.status], ['transient', 503]);
    assert.equal(psa.tickets().length, 0);

    await psa.close();
    assert.equal((await rejection(sut.listChangedTickets(clock))).failure, 'transient');
    psa = await startConnectWiseSandbox();
  });

  describe('callbacks', () => {
    let receiver: Receiver;
    let ticketId: string;

    beforeEach(async () => {
      receiver = await startReceiver();
      psa.setWebhookTarget(receiver.url);
      ({ ticketId } = await sut.createTicket(draft()));
    });

    afterEach(async () => {
      await receiver.close();
    });

    const delivered = async (): Promise<PsaInboundDelivery> => {
      await psa.addTechnicianNote(ticketId, 'Please call the user', { author: 'Tess Technician' });
      const delivery = receiver.deliveries.at(-1);
      assert.ok(delivery !== undefined, 'the sandbox sent a callback');
      return delivery;
    };

    it('accepts a signed callback, naming the ticket, and fetches the key once', async () => {
      const delivery = await delivered();
      const body = JSON.parse(delivery.rawBody.toString('utf8')) as Record<string, unknown>;

      assert.deepEqual(await sut.verifyWebhook(delivery), { ok: true, ticketIds: [ticketId] });
      assert.deepEqual(await sut.verifyWebhook(await delivered()), {
        ok: true,
        ticketIds: [ticketId],
      });
      assert.equal(fetched.filter((url) => url === psa.keyUrl).length, 1);
      assert.deepEqual(
        [body.Type, body.Action, body.ID, body.CompanyId, body.Metadata],
        ['ticket', 'updated', Number(ticketId), psa.companyId, { key_url: psa.keyUrl }],
      );
      assert.equal(typeof body.Entity, 'string');
    });

    it('rejects a body altered by one byte', async () => {
      const delivery = await delivered();
      const rawBody = Buffer.from(delivery.rawBody);
      const at = rawBody.indexOf('updated');
      rawBody[at] = 'U'.charCodeAt(0);

      const result = await sut.verifyWebhook({ headers: delivery.headers, rawBody });

      assert.deepEqual(result, { ok: false, status: 401, reason: 'Signature does not match' });
    });

    it('rejects a callback whose key URL is elsewhere without fetching it', async () => {
      const elsewhere = await startReceiver();
      try {
        const delivery = await delivered();
        const body = JSON.parse(delivery.rawBody.toString('utf8')) as Record<string, unknown>;
        const forgedKeyUrl = `${new URL(elsewhere.url).origin}/v4_6_release/apis/3.0/system/callbackkeys/1`;
        const rawBody = Buffer.from(
          JSON.stringify({ ...body, Metadata: { key_url: forgedKeyUrl } }),
        );
        // Signed with a key the forger controls, served at the address they chose.
        const key = createHash('sha256').update('forger-key').digest();
        const signature = createHmac('sha256', key).update(rawBody).digest('base64');

        const result = await sut.verifyWebhook({
          headers: { ...delivery.headers, 'x-content-signature': signature },
          rawBody,
        });

        assert.deepEqual(result, {
          ok: false,
          status: 401,
          reason: 'Callback key URL is not on the ConnectWise site',
        });
        assert.equal(elsewhere.deliveries.length, 0);
        assert.deepEqual(
          fetched.filter((url) => url.startsWith(new URL(elsewhere.url).origin)),
          [],
        );
      } finally {
        await elsewhere.close();
      }
    });

    it('rejects a missing signature, a signature by another key and a body that is not a callback', async () => {
      const delivery = await delivered();
      const otherKey = createHash('sha256').update('another-key').digest();

      assert.deepEqual(
        await sut.verifyWebhook({
          headers: { 'content-type': 'application/json' },
          rawBody: delivery.rawBody,
        }),
        { ok: false, status: 401, reason: 'Missing x-content-signature' },
      );
      assert.equal(
        (
          await sut.verifyWebhook({
            headers: {
              'x-content-signature': createHmac('sha256', otherKey)
                .update(delivery.rawBody)
                .digest('base64'),
            },
            rawBody: delivery.rawBody,
          })
        ).ok,
        false,
      );
      assert.deepEqual(
        await sut.verifyWebhook({ headers: delivery.headers, rawBody: Buffer.from('not json') }),
        { ok: false, status: 400, reason: 'Not a ConnectWise callback' },
      );
      assert.deepEqual(
        await sut.verifyWebhook({
          headers: delivery.headers,
          rawBody: Buffer.from('{"Type":"ticket"}'),
        }),
        { ok: false, status: 400, reason: 'Not a ConnectWise callback' },
      );
    });

    it('rejects a callback naming a key address on the site that serves no key', async () => {
      const delivery = await delivered();
      const body = JSON.parse(delivery.rawBody.toString('utf8')) as Record<string, unknown>;
      const rawBody = Buffer.from(
        JSON.stringify({
          ...body,
          Metadata: { key_url: `${psa.siteUrl}/v4_6_release/apis/3.0/service/tickets` },
        }),
      );

      const result = await sut.verifyWebhook({ headers: delivery.headers, rawBody });

      assert.deepEqual(result, { ok: false, status: 401, reason: 'Callback key not found' });
    });

    it('reports a throttled key fetch as an error to retry, and verifies once the key is served', async () => {
      const delivery = await delivered();
      psa.chaos.throttleNext = 1;

      assert.equal((await rejection(sut.verifyWebhook(delivery))).failure, 'throttled');
      assert.deepEqual(await sut.verifyWebhook(delivery), { ok: true, ticketIds: [ticketId] });
    });

    it('sends no callback for a note added without one, or with no target set', async () => {
      await psa.addTechnicianNote(ticketId, 'quiet', { webhook: false });
      psa.setWebhookTarget(undefined);
      await psa.addTechnicianNote(ticketId, 'nobody listening');

      assert.equal(receiver.deliveries.length, 0);
      assert.equal(psa.tickets()[0]?.notes.length, 2);
    });
  });
});

describe('Sandbox ConnectWise wire format', () => {
  let psa: RunningConnectWiseSandbox;
  let api: string;
  let headers: Record<string, string>;

  beforeEach(async () => {
    psa = await startConnectWiseSandbox();
    api = `${psa.siteUrl}/${psa.codebase}apis/3.0`;
    headers = {
      authorization: `Basic ${Buffer.from(`${psa.companyId}+${psa.publicKey}:${psa.privateKey}`).toString('base64')}`,
      clientid: psa.clientId,
      'content-type': 'application/json',
    };
  });

  afterEach(async () => {
    await psa.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${api}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

  it('answers company info without credentials and everything else with them only', async () => {
    const info = await fetch(`${psa.siteUrl}/login/companyinfo/${psa.companyId}`);
    const { clientid: _, ...withoutClientId } = headers;
    const refused = await fetch(`${api}/service/tickets`, { headers: withoutClientId });

    assert.equal(((await info.json()) as { Codebase: string }).Codebase, 'v4_6_release/');
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { code: string }).code, 'Unauthorized');
  });

  it('pages tickets as bare arrays with a Link to the next page', async () => {
    for (const ref of ['a', 'b', 'c']) {
      const created = await post('/service/tickets', {
        summary: ref,
        company: { identifier: 'CONTOSO' },
        externalXRef: ref,
      });
      assert.equal(created.status, 201);
    }

    const first = await fetch(`${api}/service/tickets?pageSize=2`, { headers });
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] ?? '';
    const second = await fetch(next, { headers });

    assert.deepEqual(
      ((await first.json()) as Array<{ externalXRef: string }>).map((t) => t.externalXRef),
      ['a', 'b'],
    );
    assert.deepEqual(
      ((await second.json()) as Array<{ externalXRef: string }>).map((t) => t.externalXRef),
      ['c'],
    );
    assert.equal(second.headers.get('link'), null);
  });

  it('refuses a note with no flag and a condition it does not understand, in the InvalidObject envelope', async () => {
    const created = await post('/service/tickets', { summary: 's', company: { id: 250 } });
    const { id } = (await created.json()) as { id: number };

    const note = await post(`/service/tickets/${id}/notes`, { text: 'no flags' });
    const condition = await fetch(
      `${api}/service/tickets?conditions=${encodeURIComponent('summary contains "x"')}`,
      { headers },
    );

    assert.equal(note.status, 400);
    assert.equal(((await note.json()) as { code: string }).code, 'InvalidObject');
    assert.equal(condition.status, 400);
  });

  it('shows tickets on an HTML page with their text escaped, and takes a technician note from its form', async () => {
    await post('/service/tickets', { summary: '<b>bold</b>', company: { id: 250 } });
    const [ticket] = psa.tickets();

    const added = await fetch(`${psa.siteUrl}/sandbox/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ticketId: ticket?.id ?? '',
        text: 'From the page',
        internal: '1',
      }),
      redirect: 'manual',
    });
    const page = await (await fetch(psa.siteUrl)).text();

    assert.equal(added.status, 303);
    assert.deepEqual(
      psa.tickets()[0]?.notes.map((note) => [note.text, note.internal]),
      [['From the page', true]],
    );
    assert.ok(page.includes('&#60;b&#62;bold&#60;/b&#62;'));
    assert.ok(!page.includes('<b>bold</b>'));
  });
});
