import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAutotaskConnector } from '../../src/adapters/psa/autotask-connector';
import {
  PsaError,
  type PsaConnector,
  type PsaInboundDelivery,
  type PsaTicketDraft,
} from '../../src/application/ports/psa';
import { psaMarker } from '../../src/domain/psa/psa';
import {
  autotaskHookSignature,
  startAutotaskSandbox,
  type RunningAutotaskSandbox,
} from '../../src/sandbox/psa/autotask-server';

const CONTOSO = '174';

function draft(overrides: Partial<PsaTicketDraft> = {}): PsaTicketDraft {
  return {
    company: CONTOSO,
    board: '29682833',
    priority: '2',
    summary: 'CONTOSO-12: Onboard Jane Doe',
    details: 'New starter on Monday.\nLicence: E3.',
    externalRef: 'cr_01JCONTOSO12',
    ...overrides,
  };
}

/** Loopback receiver standing in for Cabinet's `/api/psa/autotask` route. */
async function startReceiver(): Promise<{
  url: string;
  deliveries: PsaInboundDelivery[];
  close(): Promise<void>;
}> {
  const deliveries: PsaInboundDelivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        headers[name] = Array.isArray(value) ? value[0] : value;
      }
      deliveries.push({ headers, rawBody: Buffer.concat(chunks) });
      // Not chained: restify (loaded by other tests in the same run) replaces
      // ServerResponse.prototype.writeHead with one that does not return the response.
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/psa/autotask`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function rejects(promise: Promise<unknown>, failure: PsaError['failure']): Promise<PsaError> {
  try {
    await promise;
  } catch (error: unknown) {
    assert.ok(error instanceof PsaError, `expected PsaError, got ${String(error)}`);
    assert.equal(error.failure, failure, error.message);
    return error;
  }
  assert.fail(`expected a ${failure} PsaError`);
}

describe('Autotask connector against the sandbox Autotask', () => {
  let sandbox: RunningAutotaskSandbox;
  let sut: PsaConnector;

  beforeEach(async () => {
    sandbox = await startAutotaskSandbox();
    sut = createAutotaskConnector({
      zoneUrl: sandbox.zoneUrl,
      username: sandbox.username,
      secret: sandbox.secret,
      integrationCode: sandbox.integrationCode,
      webhookSecret: sandbox.webhookSecret,
    });
  });

  afterEach(async () => {
    await sandbox.close();
  });

  it('discovers the zone, opens a ticket for the mapped company with externalID, and links to it', async () => {
    const ref = await sut.createTicket(draft({ priority: '1', status: '8' }));

    const [ticket] = sandbox.tickets();
    assert.ok(ticket);
    assert.equal(ref.ticketId, ticket.id);
    assert.equal(ticket.company, CONTOSO);
    assert.equal(ticket.externalRef, 'cr_01JCONTOSO12');
    assert.equal(ticket.priority, '1');
    assert.equal(ticket.status, '8');
    assert.equal(
      ref.url,
      `${sandbox.webUrl}Mvc/ServiceDesk/TicketDetail.mvc?workspace=False&mode=0&TicketID=${ticket.id}`,
    );
  });

  it('works with a configured apiUrl without zone discovery', async () => {
    const direct = createAutotaskConnector({
      apiUrl: sandbox.url,
      username: sandbox.username,
      secret: sandbox.secret,
      integrationCode: sandbox.integrationCode,
      webhookSecret: sandbox.webhookSecret,
    });
    const ref = await direct.createTicket(draft());
    assert.equal(ref.url, undefined);
    assert.equal(sandbox.tickets().length, 1);
  });

  it('pushes a note with its marker and the mapped status, then updates the priority', async () => {
    const { ticketId } = await sut.createTicket(draft());
    const marker = psaMarker('ob_1');

    const { noteId } = await sut.addNote(ticketId, {
      text: 'Approved by Sam Approver',
      internal: false,
      marker,
      status: '8',
    });
    await sut.updateTicket(ticketId, { priority: '4' });

    const [ticket] = sandbox.tickets();
    assert.equal(ticket?.status, '8');
    assert.equal(ticket?.priority, '4');
    assert.equal(ticket?.notes.length, 1);
    assert.equal(ticket?.notes[0]?.id, noteId);
    assert.match(ticket?.notes[0]?.text ?? '', /Approved by Sam Approver\n\n\[cabinet:ob_1\]$/);
    assert.equal(ticket?.notes[0]?.internal, false);
    assert.equal(await sut.findNote(ticketId, marker), noteId);
    assert.equal(await sut.findNote(ticketId, psaMarker('ob_2')), undefined);
  });

  it('reconciles after a lost response: findTicket and findNote find the first writes', async () => {
    sandbox.chaos.dropRate = 1;
    await rejects(sut.createTicket(draft()), 'transient');
    sandbox.chaos.dropRate = 0;

    const found = await sut.findTicket(CONTOSO, 'cr_01JCONTOSO12');
    assert.equal(found?.ticketId, sandbox.tickets()[0]?.id);
    assert.equal(await sut.findTicket('175', 'cr_01JCONTOSO12'), undefined);
    assert.equal(await sut.findTicket(CONTOSO, 'cr_other'), undefined);

    const ticketId = found?.ticketId ?? '';
    sandbox.chaos.dropRate = 1;
    await rejects(
      sut.addNote(ticketId, { text: 'Work started', internal: true, marker: psaMarker('ob_9') }),
      'transient',
    );
    sandbox.chaos.dropRate = 0;

    const noteId = await sut.findNote(ticketId, psaMarker('ob_9'));
    assert.equal(noteId, sandbox.tickets()[0]?.notes[0]?.id);
    assert.equal(sandbox.tickets().length, 1);
    assert.equal(sandbox.tickets()[0]?.notes.length, 1);
    assert.equal(sandbox.counts.droppedResponses, 2);
  });

  it('pulls notes above the watermark, oldest first, with author names and visibility', async () => {
    const { ticketId } = await sut.createTicket(draft());
    await sut.addNote(ticketId, { text: 'Submitted', internal: false, marker: psaMarker('ob_1') });
    const first = await sandbox.addTechnicianNote(ticketId, 'Called the user', {
      author: 'Alex Tech',
    });
    const second = await sandbox.addTechnicianNote(ticketId, 'Internal: licence ordered', {
      author: 'Bea Lead',
      internal: true,
    });

    const all = await sut.listNotes(ticketId);
    assert.deepEqual(
      all.map((n) => [n.author, n.internal]),
      [
        ['Cabinet API', false],
        ['Alex Tech', false],
        ['Bea Lead', true],
      ],
    );
    assert.equal(all[1]?.text, 'Called the user');

    const after = await sut.listNotes(ticketId, first);
    assert.deepEqual(
      after.map((n) => n.id),
      [second],
    );
    assert.deepEqual(await sut.listNotes(ticketId, second), []);
  });

  it('reads every page of notes and changed tickets', async () => {
    const { ticketId } = await sut.createTicket(draft());
    for (let i = 0; i < 520; i += 1) {
      await sandbox.addTechnicianNote(ticketId, `note ${i}`, { webhook: false });
    }
    const notes = await sut.listNotes(ticketId);
    assert.equal(notes.length, 520);
    assert.equal(notes.at(-1)?.text, 'note 519');
    const ids = notes.map((n) => Number(n.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );

    for (let i = 0; i < 505; i += 1) await sut.createTicket(draft({ externalRef: `cr_${i}` }));
    const changed = await sut.listChangedTickets(new Date(0));
    assert.equal(changed.length, 506);
    assert.equal(new Set(changed.map((c) => c.ticketId)).size, 506);
  });

  it('lists tickets changed since a time, including those with new notes', async () => {
    let clock = new Date('2026-11-23T09:00:00Z');
    await sandbox.close();
    sandbox = await startAutotaskSandbox({ now: () => clock });
    sut = createAutotaskConnector({
      zoneUrl: sandbox.zoneUrl,
      username: sandbox.username,
      secret: sandbox.secret,
      integrationCode: sandbox.integrationCode,
      webhookSecret: sandbox.webhookSecret,
    });
    const old = await sut.createTicket(draft({ externalRef: 'cr_old' }));
    const quiet = await sut.createTicket(draft({ externalRef: 'cr_quiet' }));
    clock = new Date('2026-11-23T10:00:00Z');
    await sandbox.addTechnicianNote(old.ticketId, 'Later note', { webhook: false });
    const fresh = await sut.createTicket(draft({ externalRef: 'cr_new' }));

    const changed = await sut.listChangedTickets(new Date('2026-11-23T09:30:00Z'));
    assert.deepEqual(
      changed.map((c) => c.ticketId),
      [old.ticketId, fresh.ticketId],
    );
    assert.ok(!changed.some((c) => c.ticketId === quiet.ticketId));
    assert.equal(changed[0]?.updatedAt, '2026-11-23T10:00:00.000Z');
  });

  it('sends signed webhooks for technician notes that verifyWebhook accepts, naming the ticket', async () => {
    const receiver = await startReceiver();
    try {
      const { ticketId } = await sut.createTicket(draft());
      sandbox.setWebhookTarget(receiver.url);
      await sandbox.addTechnicianNote(ticketId, 'Done & dusted <ok> "quoted" +1 café 👍');

      const [delivery] = receiver.deliveries;
      assert.ok(delivery);
      const raw = delivery.rawBody.toString('utf8');
      assert.ok(raw.includes('\\u0026') && raw.includes('\\u00e9') && raw.includes('\\ud83d'), raw);
      assert.deepEqual(await sut.verifyWebhook(delivery), { ok: true, ticketIds: [ticketId] });

      const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw)));
      assert.notDeepEqual(reserialised, delivery.rawBody);
      const again = await sut.verifyWebhook({ headers: delivery.headers, rawBody: reserialised });
      assert.equal(again.ok, false);

      sandbox.setWebhookTarget(undefined);
      await sandbox.addTechnicianNote(ticketId, 'No webhook now');
      assert.equal(receiver.deliveries.length, 1);
    } finally {
      await receiver.close();
    }
  });

  it('rejects webhooks with a wrong secret, an altered byte, or no signature', async () => {
    const receiver = await startReceiver();
    try {
      const { ticketId } = await sut.createTicket(draft());
      sandbox.setWebhookTarget(receiver.url);
      await sandbox.addTechnicianNote(ticketId, 'Note');
      const [delivery] = receiver.deliveries;
      assert.ok(delivery);

      const wrongSecret = createAutotaskConnector({
        apiUrl: sandbox.url,
        username: sandbox.username,
        secret: sandbox.secret,
        integrationCode: sandbox.integrationCode,
        webhookSecret: 'not-the-secret',
      });
      assert.deepEqual(await wrongSecret.verifyWebhook(delivery), {
        ok: false,
        status: 401,
        reason: 'X-Hook-Signature does not match',
      });

      const altered = Buffer.from(delivery.rawBody);
      altered[altered.length - 2] = (altered[altered.length - 2] ?? 0) ^ 1;
      assert.equal(
        (await sut.verifyWebhook({ headers: delivery.headers, rawBody: altered })).ok,
        false,
      );

      const noSignature = await sut.verifyWebhook({ headers: {}, rawBody: delivery.rawBody });
      assert.deepEqual(noSignature, {
        ok: false,
        status: 401,
        reason: 'missing or malformed X-Hook-Signature',
      });

      const notAutotask = Buffer.from('{"hello":"world"}');
      const signed = {
        headers: { 'x-hook-signature': autotaskHookSignature(sandbox.webhookSecret, notAutotask) },
        rawBody: notAutotask,
      };
      assert.deepEqual(await sut.verifyWebhook(signed), {
        ok: false,
        status: 400,
        reason: 'not an Autotask webhook body',
      });
    } finally {
      await receiver.close();
    }
  });

  it('classifies an unknown company and a bad picklist value as permanent, with the message', async () => {
    const unknown = await rejects(sut.createTicket(draft({ company: '999' })), 'permanent');
    assert.match(unknown.message, /companyID/);
    assert.equal(unknown.details.status, 500);
    await rejects(sut.createTicket(draft({ priority: '9' })), 'permanent');
    await rejects(sut.createTicket(draft({ priority: 'High' })), 'permanent');
    assert.equal(sandbox.tickets().length, 0);
  });

  it('classifies 429 as throttled with Retry-After, injected 5xx as transient, bad credentials as auth', async () => {
    sandbox.chaos.throttleNext = 1;
    sandbox.chaos.retryAfterSeconds = 7;
    const throttled = await rejects(sut.createTicket(draft()), 'throttled');
    assert.equal(throttled.details.retryAfterMs, 7000);

    sandbox.chaos.failRate = 1;
    await rejects(sut.createTicket(draft()), 'transient');
    sandbox.chaos.failRate = 0;

    const badSecret = createAutotaskConnector({
      zoneUrl: sandbox.zoneUrl,
      username: sandbox.username,
      secret: 'wrong',
      integrationCode: sandbox.integrationCode,
      webhookSecret: sandbox.webhookSecret,
    });
    await rejects(badSecret.createTicket(draft()), 'auth');
    assert.equal(sandbox.tickets().length, 0);
  });

  it('classifies the hourly request threshold and thread-limit rejections as throttled', async () => {
    await sut.createTicket(draft());
    sandbox.limits.hourlyBudget = 1;
    const budget = await rejects(sut.findTicket(CONTOSO, 'cr_01JCONTOSO12'), 'throttled');
    assert.equal(budget.details.status, 429);
    sandbox.limits.hourlyBudget = 10_000;

    sandbox.limits.threadLimit = 1;
    sandbox.limits.latencyMs = 200;
    const results = await Promise.allSettled([
      sut.createTicket(draft({ externalRef: 'cr_a' })),
      sut.createTicket(draft({ externalRef: 'cr_b' })),
      sut.createTicket(draft({ externalRef: 'cr_c' })),
    ]);
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.length >= 1);
    for (const r of refused) {
      assert.ok(r.reason instanceof PsaError && r.reason.failure === 'throttled');
      assert.equal(r.reason.details.status, 500);
    }
    assert.equal(sandbox.tickets().length, 1 + results.length - refused.length);
  });

  it('lets calls through again once the rolling hour of the request threshold has passed', async () => {
    let clock = new Date('2026-11-23T09:00:00Z');
    await sandbox.close();
    sandbox = await startAutotaskSandbox({ now: () => clock, limits: { hourlyBudget: 2 } });
    sut = createAutotaskConnector({
      apiUrl: sandbox.url,
      username: sandbox.username,
      secret: sandbox.secret,
      integrationCode: sandbox.integrationCode,
      webhookSecret: sandbox.webhookSecret,
    });
    await sut.createTicket(draft({ externalRef: 'cr_1' }));
    clock = new Date('2026-11-23T09:30:00Z');
    await sut.createTicket(draft({ externalRef: 'cr_2' }));
    await rejects(sut.createTicket(draft({ externalRef: 'cr_3' })), 'throttled');
    clock = new Date('2026-11-23T10:00:00Z');
    await sut.createTicket(draft({ externalRef: 'cr_3' }));
    assert.deepEqual(
      sandbox.tickets().map((t) => t.externalRef),
      ['cr_1', 'cr_2', 'cr_3'],
    );
  });

  it('keeps its own calls within the thread limit, so a burst is never refused', async () => {
    sandbox.limits.latencyMs = 50;
    const refs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sut.createTicket(draft({ externalRef: `cr_burst_${i}` })),
      ),
    );
    assert.equal(new Set(refs.map((r) => r.ticketId)).size, 8);
    assert.equal(sandbox.tickets().length, 8);
  });

  it('treats an unreachable Autotask as transient and asks for the zone again once it is back', async () => {
    const port = Number(new URL(sandbox.zoneUrl).port);
    await sandbox.close();
    await rejects(sut.listChangedTickets(new Date(0)), 'transient');

    sandbox = await startAutotaskSandbox({ port });
    await sut.createTicket(draft());
    assert.equal(sandbox.tickets().length, 1);
  });

  it('refuses zone discovery for an unknown API user as permanent', async () => {
    const unknownUser = createAutotaskConnector({
      zoneUrl: sandbox.zoneUrl,
      username: 'nobody@msp.example',
      secret: sandbox.secret,
      integrationCode: sandbox.integrationCode,
      webhookSecret: sandbox.webhookSecret,
    });
    await rejects(unknownUser.createTicket(draft()), 'permanent');
  });

  describe('sandbox wire format', () => {
    const auth = (): Record<string, string> => ({
      ApiIntegrationCode: sandbox.integrationCode,
      UserName: sandbox.username,
      Secret: sandbox.secret,
      'content-type': 'application/json',
    });

    it('answers zone discovery on the case-sensitive ATServicesRest path, without credentials', async () => {
      const zone = await fetch(
        `${sandbox.zoneUrl}V1.0/ZoneInformation?user=${encodeURIComponent(sandbox.username)}`,
      );
      assert.equal(zone.status, 200);
      assert.deepEqual(await zone.json(), {
        zoneName: 'Sandbox',
        url: sandbox.url,
        webUrl: sandbox.webUrl,
        ci: 0,
      });
      const lower = await fetch(
        `${sandbox.zoneUrl.replace('ATServicesRest', 'atservicesrest')}V1.0/ZoneInformation?user=x`,
      );
      assert.equal(lower.status, 404);
    });

    it('refuses calls without the three credential headers with 401 and an errors array', async () => {
      const response = await fetch(`${sandbox.url}V1.0/Tickets/7001`, {
        headers: { ...auth(), Secret: 'wrong' },
      });
      assert.equal(response.status, 401);
      const body = (await response.json()) as { errors: unknown };
      assert.ok(Array.isArray(body.errors) && typeof body.errors[0] === 'string');
    });

    it('creates with {itemId}, reads {item}, queries by GET search= and pages with nextPageUrl', async () => {
      const created = await fetch(`${sandbox.url}V1.0/Tickets`, {
        method: 'POST',
        headers: auth(),
        body: JSON.stringify({ companyID: 174, title: 'T', status: 1, priority: 2 }),
      });
      const { itemId } = (await created.json()) as { itemId: number };
      const read = await fetch(`${sandbox.url}V1.0/Tickets/${itemId}`, { headers: auth() });
      assert.equal(((await read.json()) as { item: { title: string } }).item.title, 'T');
      const missing = await fetch(`${sandbox.url}V1.0/Tickets/1`, { headers: auth() });
      assert.deepEqual(await missing.json(), { item: null });

      for (let i = 0; i < 2; i += 1) {
        await sandbox.addTechnicianNote(String(itemId), `n${i}`, { webhook: false });
      }
      const search = JSON.stringify({
        filter: [{ op: 'eq', field: 'ticketID', value: itemId }],
        MaxRecords: 1,
      });
      const first = await fetch(
        `${sandbox.url}V1.0/TicketNotes/query?search=${encodeURIComponent(search)}`,
        { headers: auth() },
      );
      const page1 = (await first.json()) as {
        items: { description: string }[];
        pageDetails: { nextPageUrl: string | null };
      };
      assert.deepEqual(
        page1.items.map((n) => n.description),
        ['n0'],
      );
      const nextPageUrl = page1.pageDetails.nextPageUrl ?? '';
      assert.ok(nextPageUrl.startsWith(`${sandbox.url}V1.0/TicketNotes/query/next?paging=`));
      const second = await fetch(nextPageUrl, { headers: auth() });
      const page2 = (await second.json()) as typeof page1;
      assert.deepEqual(
        page2.items.map((n) => n.description),
        ['n1'],
      );
      assert.equal(page2.pageDetails.nextPageUrl, null);

      const unsupported = await fetch(`${sandbox.url}V1.0/Tickets/query`, {
        method: 'POST',
        headers: auth(),
        body: JSON.stringify({ filter: [{ op: 'beginsWith', field: 'title', value: 'T' }] }),
      });
      assert.equal(unsupported.status, 500);
    });

    it('serves a web page per ticket (where ticket links point) whose form adds a technician note', async () => {
      const ref = await sut.createTicket(draft({ summary: 'Onboard <Jane>' }));
      const html = await (await fetch(ref.url ?? '')).text();
      assert.match(html, /Onboard &lt;Jane&gt;/);

      const posted = await fetch(`${sandbox.webUrl}ui/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          ticketId: ref.ticketId,
          note: 'From the UI',
          internal: 'true',
        }),
        redirect: 'manual',
      });
      assert.equal(posted.status, 303);
      const notes = await sut.listNotes(ref.ticketId);
      assert.deepEqual(
        notes.map((n) => [n.text, n.internal]),
        [['From the UI', true]],
      );
    });
  });
});
