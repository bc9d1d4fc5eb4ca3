import assert from 'node:assert/strict';
import { createConnectWiseConnector } from '../../src/adapters/psa/connectwise-connector';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { StoredChangeRequest } from '../../src/application/ports/change-request-store';
import type { OutboxRow } from '../../src/application/ports/outbox';
import type { PsaConnector } from '../../src/application/ports/psa';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import type { AuditEvent } from '../../src/domain/audit/audit-event';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import type { ChangeEvent } from '../../src/domain/change-request/change-request.machine';
import type { PsaMapping } from '../../src/domain/psa/psa';
import type { ChangeType } from '../../src/domain/change-request/change-request.payloads';
import {
  startConnectWiseSandbox,
  type RunningConnectWiseSandbox,
} from '../../src/sandbox/psa/connectwise-server';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import {
  applyAll,
  CONTOSO_TENANT_ID,
  contextFor,
  contosoProfile,
  people,
  RecordingNotifier,
  submitted,
} from '../support/fixtures';

const MAPPING: PsaMapping = {
  psa: 'connectwise',
  company: 'CONTOSO',
  board: 'Service Desk',
  priorities: {
    low: 'Priority 4 - Low',
    medium: 'Priority 3 - Normal Response',
    high: 'Priority 2 - High',
    critical: 'Priority 1 - Critical',
  },
  statuses: { submitted: 'New (Cabinet)', triaged: 'Triaged', cancelled: 'Cancelled' },
};

/**
 * The relay delivering `psa.sync` rows written by the request store on Azurite to the sandbox
 * ConnectWise over HTTP through the real connector: what the assertions read is what the PSA holds.
 */
describe('OutboxRelay syncing requests to a PSA (Azurite, sandbox ConnectWise)', () => {
  const azurite = useAzurite();
  const tenant = CONTOSO_TENANT_ID;
  let clock: FakeClock;
  let storage: TableStorage;
  let psa: RunningConnectWiseSandbox;
  let connector: PsaConnector;
  /** Set to a path fragment: the next POST to it reaches the PSA, then its answer is lost. */
  let loseAnswerTo: RegExp | undefined;

  beforeEach(async () => {
    clock = new FakeClock();
    storage = await azurite.newStorage({ clock });
    psa = await startConnectWiseSandbox({ now: () => clock.now() });
    loseAnswerTo = undefined;
    connector = createConnectWiseConnector({
      siteUrl: psa.siteUrl,
      companyId: psa.companyId,
      publicKey: psa.publicKey,
      privateKey: psa.privateKey,
      clientId: psa.clientId,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const url = String(input instanceof Request ? input.url : input);
        if (init?.method === 'POST' && loseAnswerTo?.test(url)) {
          loseAnswerTo = undefined;
          throw new TypeError('fetch failed: socket hang up');
        }
        return response;
      },
    });
  });

  afterEach(async () => {
    await psa.close();
  });

  async function onboard(mapping: PsaMapping | null = MAPPING): Promise<void> {
    const base = contosoProfile();
    await storage.clients.create(
      { ...base, settings: { ...base.settings, ...(mapping ? { psa: mapping } : {}) } },
      [],
    );
  }

  function relay(withPsa = true): OutboxRelay {
    return new OutboxRelay(
      {
        outbox: storage.outbox,
        notifier: new RecordingNotifier(),
        clients: storage.clients,
        clock,
        ...(withPsa
          ? {
              psa: {
                connectors: new Map([['connectwise', connector]]),
                links: storage.psaLinks,
                requests: storage.requests,
                clients: storage.clients,
              },
            }
          : {}),
      },
      { random: () => 1, baseDelayMs: 1_000 },
    );
  }

  /** A request raised linked to the PSA, as `raiseChange` raises it for a mapped client. */
  async function raise(type: ChangeType = 'general'): Promise<StoredChangeRequest> {
    return storage.requests.create(tenant, (number) => {
      const { request, audit } = submitted({ number, type });
      return { request: { ...request, psa: { psa: 'connectwise' } }, audit: [audit], outbox: [] };
    });
  }

  async function apply(
    stored: StoredChangeRequest,
    steps: readonly ChangeEvent[],
  ): Promise<StoredChangeRequest> {
    const current = (await storage.requests.get(tenant, stored.request.id))!;
    const done: { request: ChangeRequest; audit: AuditEvent[] } = applyAll(
      current.request,
      steps.map((e) => [e, contextFor(people.tina)] as const),
    );
    return storage.requests.update(tenant, current.etag, {
      request: done.request,
      audit: done.audit,
      outbox: [],
    });
  }

  async function psaRows(): Promise<OutboxRow[]> {
    return (await storage.outbox.list(tenant)).filter((r) => r.message.kind === 'psa.sync');
  }

  it('opens the ticket once with the mapped company, board, status and priority, and links it without a version bump', async () => {
    await onboard();
    const raised = await raise();
    await relay().sweep();

    const [ticket, ...more] = psa.tickets();
    assert.equal(more.length, 0);
    assert.deepEqual(
      [ticket?.company, ticket?.externalRef, ticket?.status, ticket?.priority],
      ['CONTOSO', raised.request.id, 'New (Cabinet)', 'Priority 3 - Normal Response'],
    );
    assert.match(ticket?.summary ?? '', new RegExp(`^${raised.request.id}: `));
    const linked = (await storage.requests.get(tenant, raised.request.id))!.request;
    assert.equal(linked.psa?.ticketId, ticket?.id);
    assert.equal(linked.version, raised.request.version);
    assert.deepEqual(await storage.psaLinks.owner('connectwise', ticket!.id), {
      tenantId: tenant,
      requestId: raised.request.id,
    });
    const links = (await storage.audit.read(tenant))
      .map((e) => JSON.parse(e.canonical) as AuditEvent)
      .filter((e) => e.type === 'psa.ticket_linked');
    assert.equal(links.length, 1);
    assert.equal(links[0]?.payload['ticketId'], ticket?.id);
    assert.ok((await psaRows()).every((r) => r.status === 'done'));
  });

  it('opens an incident at high priority at once', async () => {
    await onboard();
    await raise('incident');
    await relay().sweep();
    assert.equal(psa.tickets()[0]?.priority, 'Priority 2 - High');
  });

  it('adds notes in the order things happened, moving the mapped status', async () => {
    await onboard();
    const raised = await raise();
    await apply(raised, [{ type: 'Triaged' }, { type: 'Cancelled', reason: 'No longer needed.' }]);
    await relay().sweep();

    const [ticket] = psa.tickets();
    const notes = ticket?.notes.map((n) => n.text) ?? [];
    assert.equal(notes.length, 2);
    assert.match(notes[0]!, /^Triaged/);
    assert.match(notes[1]!, /Cancelled: No longer needed\./);
    assert.ok(notes.every((n) => /\[cabinet:[^\]]+\]/.test(n)));
    assert.equal(ticket?.status, 'Cancelled');
    assert.ok((await psaRows()).every((r) => r.status === 'done'));
  });

  it('after a lost answer to opening the ticket, finds it instead of opening a second', async () => {
    await onboard();
    await raise();
    loseAnswerTo = /\/service\/tickets$/;
    const sut = relay();
    await sut.sweep();
    assert.equal(psa.tickets().length, 1);
    const [failed] = await psaRows();
    assert.deepEqual([failed?.status, failed?.attempts], ['pending', 1]);

    clock.advance(1_000);
    await sut.sweep();
    assert.equal(psa.tickets().length, 1);
    assert.equal((await psaRows())[0]?.status, 'done');
  });

  it('after a lost answer to a note, finds the note by its marker instead of adding it again', async () => {
    await onboard();
    const raised = await raise();
    const sut = relay();
    await sut.sweep();
    await apply(raised, [{ type: 'Triaged' }]);
    loseAnswerTo = /\/notes$/;
    await sut.sweep();
    clock.advance(1_000);
    await sut.sweep();

    assert.equal(psa.tickets()[0]?.notes.length, 1);
    assert.ok((await psaRows()).every((r) => r.status === 'done'));
  });

  it('parks at once with the PSA message when the PSA refuses the mapping; later notes wait behind it', async () => {
    await onboard({ ...MAPPING, company: 'NOSUCHCO' });
    const raised = await raise();
    await apply(raised, [{ type: 'Triaged' }]);
    await relay().sweep();

    assert.equal(psa.tickets().length, 0);
    const [ticketRow, noteRow] = await psaRows();
    assert.equal(ticketRow?.status, 'parked');
    assert.equal(ticketRow?.attempts, 1);
    assert.match(ticketRow?.lastError ?? '', /PsaError/);
    assert.equal(noteRow?.status, 'pending');
    assert.equal(noteRow?.attempts, 0);
    assert.ok(Date.parse(noteRow.nextAttemptAt) > clock.now().getTime());
  });

  it('parks with what to configure when the client has no PSA mapping', async () => {
    await onboard(null);
    await raise();
    await relay().sweep();
    const [row] = await psaRows();
    assert.equal(row?.status, 'parked');
    assert.match(row?.lastError ?? '', /no PSA mapping.*"psa" part of its settings/);
    assert.equal(psa.tickets().length, 0);
  });

  it('when throttled, tries again after Retry-After without counting a failed attempt', async () => {
    await onboard();
    await raise();
    psa.chaos.retryAfterSeconds = 30;
    psa.chaos.throttleNext = 1;
    const sut = relay();
    await sut.sweep();
    const [row] = await psaRows();
    assert.deepEqual([row?.status, row?.attempts], ['pending', 0]);
    assert.ok(Date.parse(row!.nextAttemptAt) >= clock.now().getTime() + 30_000);

    clock.advance(30_000);
    await sut.sweep();
    assert.equal(psa.tickets().length, 1);
    assert.equal((await psaRows())[0]?.status, 'done');
  });

  it('leaves psa.sync rows pending on an instance without PSA connections', async () => {
    await onboard();
    await raise();
    await relay(false).sweep();
    assert.equal((await psaRows())[0]?.status, 'pending');
    assert.equal(psa.tickets().length, 0);
  });
});
