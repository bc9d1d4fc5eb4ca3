import { strict as assert } from 'node:assert';
import type { Lease } from '../../../src/application/ports/lease';
import type { OutboxRow, TeamsNotifyMessage } from '../../../src/application/ports/outbox';
import {
  PsaError,
  type PsaConnector,
  type PsaNote,
  type PsaTicketChange,
} from '../../../src/application/ports/psa';
import { requestHistory } from '../../../src/application/use-cases/browse-requests';
import {
  pollPsas,
  PsaPoller,
  PSA_POLL_OVERLAP_MS,
  receivePsaWebhook,
  takeInPsaNotes,
  type PsaInboundDeps,
} from '../../../src/application/use-cases/psa-inbound';
import { psaMarker, type PsaKind } from '../../../src/domain/psa/psa';
import type { ChangeRequestId } from '../../../src/domain/shared/ids';
import type { JsonObject } from '../../../src/domain/shared/json';
import { InMemoryPsaLinks } from '../../fakes/in-memory-psa-links';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  raiseGeneral,
  seedClients,
  type Harness,
} from '../../support/fixtures';

/** A PSA in memory: notes per ticket, changed tickets, and a webhook check by shared secret. */
class MemoryPsa implements PsaConnector {
  readonly notes = new Map<string, PsaNote[]>();
  changes: PsaTicketChange[] = [];
  listCalls: { ticketId: string; after: string | undefined }[] = [];
  changedSince: Date[] = [];
  failListNotes = false;
  constructor(readonly kind: PsaKind = 'halopsa') {}

  add(ticketId: string, id: string, text: string, internal = false): void {
    const list = this.notes.get(ticketId) ?? [];
    list.push({
      id,
      ticketId,
      text,
      author: 'Hal Tech',
      createdAt: '2026-11-23T09:00:00Z',
      internal,
    });
    this.notes.set(ticketId, list);
  }
  listNotes(ticketId: string, afterNoteId?: string): Promise<PsaNote[]> {
    this.listCalls.push({ ticketId, after: afterNoteId });
    if (this.failListNotes) return Promise.reject(new PsaError(this.kind, 'transient', 'down'));
    return Promise.resolve(
      (this.notes.get(ticketId) ?? []).filter(
        (n) => afterNoteId === undefined || Number(n.id) > Number(afterNoteId),
      ),
    );
  }
  listChangedTickets(since: Date): Promise<PsaTicketChange[]> {
    this.changedSince.push(since);
    return Promise.resolve(this.changes);
  }
  verifyWebhook(delivery: {
    readonly headers: Readonly<Record<string, string | undefined>>;
    readonly rawBody: Buffer;
  }) {
    if (delivery.headers['authorization'] !== 'Bearer s3cret')
      return Promise.resolve({ ok: false as const, status: 401 as const, reason: 'bad secret' });
    const body = JSON.parse(delivery.rawBody.toString('utf8')) as { ticket: string };
    return Promise.resolve({ ok: true as const, ticketIds: [body.ticket] });
  }
  findTicket = () => Promise.reject(new Error('not used'));
  createTicket = () => Promise.reject(new Error('not used'));
  updateTicket = () => Promise.reject(new Error('not used'));
  findNote = () => Promise.reject(new Error('not used'));
  addNote = () => Promise.reject(new Error('not used'));
}

interface Setup {
  readonly h: Harness;
  readonly psa: MemoryPsa;
  readonly links: InMemoryPsaLinks;
  readonly deps: PsaInboundDeps;
  readonly requestId: ChangeRequestId;
}

/** Contoso raises a request (Carla) linked to HaloPSA ticket 100. */
async function setup(
  options: { assigned?: boolean; requester?: 'person' | 'integration' } = {},
): Promise<Setup> {
  const h = createHarness();
  await seedClients(h);
  const { request } = await raiseGeneral(h, people.carla);
  const stored = (await h.deps.requests.get(CONTOSO_TENANT_ID, request.id))!;
  await h.deps.requests.update(CONTOSO_TENANT_ID, stored.etag, {
    request: {
      ...stored.request,
      psa: { psa: 'halopsa', ticketId: '100' },
      ...(options.assigned ? { assignee: people.lena } : {}),
      ...(options.requester === 'integration'
        ? {
            requester: {
              ...stored.request.requester,
              oid: 'webhook:k1' as never,
              name: 'Web form',
            },
          }
        : {}),
    },
    audit: [],
    outbox: [],
  });
  const psa = new MemoryPsa();
  const links = new InMemoryPsaLinks();
  await links.link('halopsa', '100', { tenantId: CONTOSO_TENANT_ID, requestId: request.id });
  const deps: PsaInboundDeps = {
    requests: h.deps.requests,
    clients: h.deps.clients,
    connectors: new Map([['halopsa', psa]]),
    links,
    clock: h.clock,
    outboxWritten: h.deps.outboxWritten,
  };
  return { h, psa, links, deps, requestId: request.id };
}

interface ReceivedNote {
  readonly payload: JsonObject;
  readonly personal: JsonObject | undefined;
}

/** The `psa.note_received` entries of Contoso's chain, with their personal data opened. */
async function received(s: Setup): Promise<ReceivedNote[]> {
  const notes: ReceivedNote[] = [];
  for (const entry of await s.h.deps.audit.read(CONTOSO_TENANT_ID)) {
    const parsed = JSON.parse(entry.canonical) as { type: string; payload: JsonObject };
    if (parsed.type !== 'psa.note_received') continue;
    // The entry's `personal` field here is the sealed form; the clear text is opened below.
    const { personal: _sealed, ...payload } = parsed.payload;
    notes.push({
      payload,
      personal: await s.h.deps.audit.openPersonal(CONTOSO_TENANT_ID, entry),
    });
  }
  return notes;
}

async function noteCards(s: Setup): Promise<OutboxRow<TeamsNotifyMessage>[]> {
  return (await s.h.deps.outbox.list(CONTOSO_TENANT_ID)).filter(
    (r): r is OutboxRow<TeamsNotifyMessage> =>
      r.message.kind === 'teams.notify' && r.message.notification.template === 'psa_note',
  );
}

describe('PSA inbound notes', () => {
  it('takes in new notes once, drops Cabinet-marked ones, and advances the watermark without a version bump', async () => {
    const s = await setup();
    const before = (await s.h.deps.requests.get(CONTOSO_TENANT_ID, s.requestId))!.request;
    s.psa.add('100', '7', 'Rebooted the server');
    s.psa.add('100', '8', `Approved in Cabinet ${psaMarker('o_1')}`);
    s.psa.add('100', '9', 'Only for techs', true);

    assert.deepEqual(await takeInPsaNotes(s.deps, 'halopsa', '100'), { taken: 2 });
    assert.deepEqual(await takeInPsaNotes(s.deps, 'halopsa', '100'), { taken: 0 });

    const after = (await s.h.deps.requests.get(CONTOSO_TENANT_ID, s.requestId))!.request;
    assert.equal(after.psa?.lastNoteId, '9');
    assert.equal(after.version, before.version, 'a PSA note is not a change of the request');
    assert.deepEqual(s.psa.listCalls.at(-1), { ticketId: '100', after: '9' });
    const notes = await received(s);
    assert.deepEqual(
      notes.map((n) => n.payload),
      [
        { psa: 'halopsa', ticketId: '100', noteId: '7', internal: false },
        { psa: 'halopsa', ticketId: '100', noteId: '9', internal: true },
      ],
    );
    assert.deepEqual(notes[0]!.personal, { author: 'Hal Tech', text: 'Rebooted the server' });
    // Note 7 (visible): Tina (Contoso's tech) and Carla (the requester); note 9 (internal): Tina only.
    const cards = await noteCards(s);
    assert.deepEqual(
      cards.map((c) => [c.message.recipient.oid, c.message.notification.note]),
      [
        [people.tina.oid, 'Hal Tech in HaloPSA: Rebooted the server'],
        [people.carla.oid, 'Hal Tech in HaloPSA: Rebooted the server'],
        [people.tina.oid, 'Hal Tech in HaloPSA: Only for techs'],
      ],
    );
  });

  it('shows a PSA note in the request timeline under its author in the PSA', async () => {
    const s = await setup();
    s.psa.add('100', '7', 'Rebooted the server');
    await takeInPsaNotes(s.deps, 'halopsa', '100');
    const history = await requestHistory(s.h.deps, {
      actor: people.tina,
      requestId: s.requestId,
    });
    assert.ok(history.ok);
    const entry = history.value.timeline.find((e) => e.type === 'psa.note_received');
    assert.equal(entry?.actorName, 'Hal Tech (HaloPSA)');
    assert.equal(entry?.personal?.['text'], 'Rebooted the server');
  });

  it('tells the assignee instead of every technician, and never an integration requester', async () => {
    const s = await setup({ assigned: true, requester: 'integration' });
    s.psa.add('100', '3', 'Scheduled for tonight');
    await takeInPsaNotes(s.deps, 'halopsa', '100');
    assert.deepEqual(
      (await noteCards(s)).map((c) => c.message.recipient.oid),
      [people.lena.oid],
    );
  });

  it('advances past notes that are all Cabinet’s own without recording anything', async () => {
    const s = await setup();
    s.psa.add('100', '4', `Status: approved ${psaMarker('o_2')}`);
    assert.deepEqual(await takeInPsaNotes(s.deps, 'halopsa', '100'), { taken: 0 });
    assert.equal(
      (await s.h.deps.requests.get(CONTOSO_TENANT_ID, s.requestId))!.request.psa?.lastNoteId,
      '4',
    );
    assert.deepEqual(await received(s), []);
  });

  it('ignores tickets Cabinet does not own and PSAs not configured', async () => {
    const s = await setup();
    s.psa.add('200', '1', 'Someone else’s ticket');
    assert.deepEqual(await takeInPsaNotes(s.deps, 'halopsa', '200'), { taken: 0 });
    assert.deepEqual(await takeInPsaNotes(s.deps, 'autotask', '100'), { taken: 0 });
    assert.deepEqual(s.psa.listCalls, []);
  });

  it('records each note once when two intakes race (the loser re-reads the watermark)', async () => {
    const s = await setup();
    for (let i = 1; i <= 5; i += 1) s.psa.add('100', String(i), `Note ${i}`);
    const results = await Promise.all([
      takeInPsaNotes(s.deps, 'halopsa', '100'),
      takeInPsaNotes(s.deps, 'halopsa', '100'),
      takeInPsaNotes(s.deps, 'halopsa', '100'),
    ]);
    assert.equal(
      results.reduce((n, r) => n + r.taken, 0),
      5,
    );
    assert.deepEqual(
      (await received(s)).map((n) => n.payload['noteId']),
      ['1', '2', '3', '4', '5'],
    );
  });

  it('takes in a verified webhook’s tickets and refuses a forged one with nothing stored', async () => {
    const s = await setup();
    s.psa.add('100', '5', 'Done');
    const body = Buffer.from(JSON.stringify({ ticket: '100' }));
    assert.deepEqual(
      await receivePsaWebhook(s.deps, 'halopsa', {
        headers: { authorization: 'Bearer nope' },
        rawBody: body,
      }),
      { status: 'rejected', code: 401, reason: 'bad secret' },
    );
    assert.deepEqual(await received(s), []);
    assert.deepEqual(s.psa.listCalls, [], 'a forged delivery never reaches the PSA API');
    assert.deepEqual(
      await receivePsaWebhook(s.deps, 'halopsa', {
        headers: { authorization: 'Bearer s3cret' },
        rawBody: body,
      }),
      { status: 'taken', taken: 1 },
    );
    assert.deepEqual(
      await receivePsaWebhook(s.deps, 'connectwise', { headers: {}, rawBody: body }),
      { status: 'not_configured' },
    );
  });
});

describe('PSA poller', () => {
  it('polls from the watermark less the overlap, takes in owned tickets and moves the watermark to the poll’s start', async () => {
    const s = await setup();
    const start = s.h.clock.now();
    await s.links.setWatermark('halopsa', new Date(start.getTime() - 60_000));
    s.psa.add('100', '1', 'Picked up');
    s.psa.changes = [
      { ticketId: '100', updatedAt: start.toISOString() },
      { ticketId: '999', updatedAt: start.toISOString() },
    ];
    assert.deepEqual(await pollPsas(s.deps), { tickets: 2, taken: 1, failed: [] });
    assert.equal(s.psa.changedSince[0]!.getTime(), start.getTime() - 60_000 - PSA_POLL_OVERLAP_MS);
    assert.equal((await s.links.watermark('halopsa'))?.toISOString(), start.toISOString());

    s.h.clock.advance(60_000);
    assert.deepEqual(await pollPsas(s.deps), { tickets: 2, taken: 0, failed: [] });
    assert.equal((await received(s)).length, 1, 'the same note by poll is not taken in again');
  });

  it('keeps the watermark when a ticket could not be read, so the next poll reads it again', async () => {
    const s = await setup();
    const mark = new Date(s.h.clock.now().getTime() - 60_000);
    await s.links.setWatermark('halopsa', mark);
    s.psa.changes = [{ ticketId: '100', updatedAt: s.h.clock.now().toISOString() }];
    s.psa.failListNotes = true;
    assert.deepEqual(await pollPsas(s.deps), { tickets: 1, taken: 0, failed: ['halopsa'] });
    assert.equal((await s.links.watermark('halopsa'))?.toISOString(), mark.toISOString());
  });

  it('polls on one instance at a time (lease)', async () => {
    const s = await setup();
    const holders = new Map<string, string>();
    const lease: Lease = {
      tryAcquire: (name, holder) => {
        const current = holders.get(name);
        if (current && current !== holder) return Promise.resolve(false);
        holders.set(name, holder);
        return Promise.resolve(true);
      },
      renew: (name, holder) => Promise.resolve(holders.get(name) === holder),
      release: (name, holder) => {
        if (holders.get(name) === holder) holders.delete(name);
        return Promise.resolve();
      },
    };
    const a = new PsaPoller({ ...s.deps, lease }, { holder: 'a' });
    const b = new PsaPoller({ ...s.deps, lease }, { holder: 'b' });
    assert.ok(await a.pollOnce());
    assert.equal(await b.pollOnce(), undefined);
    await a.stop();
    assert.ok(await b.pollOnce(), 'released on stop, so another instance takes over at once');
    await b.stop();
  });
});
