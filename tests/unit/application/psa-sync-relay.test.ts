import { strict as assert } from 'node:assert';
import type { OutboxRow } from '../../../src/application/ports/outbox';
import {
  PsaError,
  type PsaConnector,
  type PsaNoteDraft,
  type PsaTicketDraft,
} from '../../../src/application/ports/psa';
import { OutboxRelay } from '../../../src/application/use-cases/relay-outbox';
import type { PsaMapping } from '../../../src/domain/psa/psa';
import { createInMemoryStorage, FakeClock } from '../../fakes/in-memory-storage';
import { InMemoryPsaLinks } from '../../fakes/in-memory-psa-links';
import {
  applyAll,
  CONTOSO_TENANT_ID,
  contextFor,
  contosoProfile,
  people,
  RecordingNotifier,
  submitted,
} from '../../support/fixtures';

const MAPPING: PsaMapping = {
  psa: 'autotask',
  company: '0',
  priorities: { low: '4', medium: '1', high: '2', critical: '3' },
};

/** A PSA that records what it is asked and fails on cue (the sandbox servers cover the wire formats). */
class ScriptedPsa implements PsaConnector {
  readonly kind = 'autotask' as const;
  readonly tickets: PsaTicketDraft[] = [];
  readonly notes: PsaNoteDraft[] = [];
  readonly failures: Error[] = [];
  findTicket(): Promise<undefined> {
    return this.next().then(() => undefined);
  }
  async createTicket(draft: PsaTicketDraft) {
    await this.next();
    this.tickets.push(draft);
    return { ticketId: String(this.tickets.length) };
  }
  async updateTicket(): Promise<void> {
    await this.next();
  }
  async findNote(): Promise<undefined> {
    await this.next();
    return undefined;
  }
  async addNote(_ticketId: string, note: PsaNoteDraft) {
    await this.next();
    this.notes.push(note);
    return { noteId: String(this.notes.length) };
  }
  listNotes() {
    return Promise.resolve([]);
  }
  listChangedTickets() {
    return Promise.resolve([]);
  }
  verifyWebhook() {
    return Promise.resolve({ ok: false as const, status: 401 as const, reason: 'unused' });
  }
  private next(): Promise<void> {
    const failure = this.failures.shift();
    return failure ? Promise.reject(failure) : Promise.resolve();
  }
}

describe('OutboxRelay psa.sync delivery (in memory)', () => {
  const tenant = CONTOSO_TENANT_ID;
  let clock: FakeClock;
  let storage: ReturnType<typeof createInMemoryStorage>;
  let psa: ScriptedPsa;
  let relay: OutboxRelay;

  beforeEach(async () => {
    clock = new FakeClock();
    storage = createInMemoryStorage(clock);
    psa = new ScriptedPsa();
    const base = contosoProfile();
    await storage.clients.create({ ...base, settings: { ...base.settings, psa: MAPPING } }, []);
    relay = new OutboxRelay(
      {
        outbox: storage.outbox,
        notifier: new RecordingNotifier(),
        clients: storage.clients,
        clock,
        psa: {
          connectors: new Map([['autotask', psa]]),
          links: new InMemoryPsaLinks(),
          requests: storage.requests,
          clients: storage.clients,
        },
      },
      { random: () => 1, baseDelayMs: 1_000 },
    );
  });

  async function raiseAndTriage(): Promise<void> {
    const created = await storage.requests.create(tenant, (number) => {
      const { request, audit } = submitted({ number });
      return { request: { ...request, psa: { psa: 'autotask' } }, audit: [audit], outbox: [] };
    });
    const done = applyAll(created.request, [
      [{ type: 'Triaged' }, contextFor(people.tina)],
      [{ type: 'InfoRequested', question: 'Which licence?' }, contextFor(people.tina)],
    ]);
    await storage.requests.update(tenant, created.etag, {
      request: done.request,
      audit: done.audit,
      outbox: [],
    });
  }

  const psaRows = async (): Promise<OutboxRow[]> =>
    (await storage.outbox.list(tenant)).filter((r) => r.message.kind === 'psa.sync');

  it('a transient failure backs off the row and holds the later rows of the request, which then follow in order', async () => {
    await raiseAndTriage();
    psa.failures.push(new PsaError('autotask', 'transient', '503 from the PSA'));
    await relay.sweep();
    const [ticket, ...notes] = await psaRows();
    assert.deepEqual([ticket?.status, ticket?.attempts], ['pending', 1]);
    assert.ok(notes.every((r) => r.status === 'pending' && r.attempts === 0));
    assert.equal(psa.tickets.length, 0);

    clock.advance(1_000);
    await relay.sweep();
    clock.advance(1_000);
    await relay.sweep();
    assert.equal(psa.tickets.length, 1);
    assert.deepEqual(
      psa.notes.map((n) => n.text.split(' ')[0]),
      ['Triaged', 'Question'],
    );
    assert.ok((await psaRows()).every((r) => r.status === 'done'));
  });

  it('credentials refused park the row at once with the PSA message', async () => {
    await raiseAndTriage();
    psa.failures.push(new PsaError('autotask', 'auth', 'API user not authorised', { status: 401 }));
    await relay.sweep();
    const [ticket] = await psaRows();
    assert.equal(ticket?.status, 'parked');
    assert.match(ticket?.lastError ?? '', /API user not authorised/);
  });

  it('without a connection to the linked PSA, parks saying which PSA to configure', async () => {
    const created = await storage.requests.create(tenant, (number) => {
      const { request, audit } = submitted({ number });
      return { request: { ...request, psa: { psa: 'autotask' } }, audit: [audit], outbox: [] };
    });
    const bare = new OutboxRelay(
      {
        outbox: storage.outbox,
        notifier: new RecordingNotifier(),
        clients: storage.clients,
        clock,
        psa: {
          connectors: new Map(),
          links: new InMemoryPsaLinks(),
          requests: storage.requests,
          clients: storage.clients,
        },
      },
      { random: () => 1 },
    );
    await bare.sweep();
    const [row] = await psaRows();
    assert.equal(row?.message.kind === 'psa.sync' && row.message.requestId, created.request.id);
    assert.equal(row?.status, 'parked');
    assert.match(row?.lastError ?? '', /no Autotask connection configured/);
  });
});
