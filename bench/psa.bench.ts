/**
 * PSA sync benchmark (`npm run bench -- --only psa`): Cabinet notes delivered to a sandbox HaloPSA
 * by the real `OutboxRelay` (with the `psa` deps and the open-request index, as main.ts builds it),
 * the real Halo connector over HTTP and Azurite, end to end from the `psa.sync` rows the request
 * store wrote to the notes at the PSA; divided by the physical limit measured in the same run: the
 * same notes POSTed straight to the same sandbox by the same connector (`connector.addNote`), one
 * loop per ticket, all tickets at once — the concurrency the relay itself has (a request's notes
 * one at a time in row order, requests in parallel, up to a claim of 20 rows). The ratio is the
 * share of the PSA's own pace left after the relay's and storage's work.
 * @remarks The requests are raised linked to Halo and their tickets opened by a first, untimed
 * relay pass; then each request gets its notes, one `note.added` per write as `addNote` writes
 * them, round robin so every claim holds as many requests as it can. The sandbox's rate limit is
 * raised out of the way. Nothing is asserted beyond every note arriving exactly once.
 *
 * Target ≥ {@link TARGET_RATIO}: beside its POST a note cannot cost less than its share of the
 * claim, one read of its request and the write completing its row, and on loopback an Azurite
 * round trip costs about what a sandbox POST does, so about a quarter of the raw pace is what a
 * relay with nothing to spare reaches. The second line shows where the rest goes (each note also
 * reads the client's settings, and every note write adds an `index.sync` row the same relay
 * syncs). Against a real PSA, 100–500 ms away and rate limited (Halo: 500 calls per 5 minutes),
 * the same storage work is a few per cent of a note's time; this loopback figure is the worst case.
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { createHaloPsaConnector } from '../src/adapters/psa/halopsa-connector';
import { createTableStorage, type TableStorage } from '../src/adapters/storage/table-storage';
import { isPsaSyncRow, type OutboxRow, type PsaSyncMessage } from '../src/application/ports/outbox';
import type { PsaConnector, PsaNoteDraft } from '../src/application/ports/psa';
import { OutboxRelay } from '../src/application/use-cases/relay-outbox';
import type { AuditEvent } from '../src/domain/audit/audit-event';
import type { PsaMapping } from '../src/domain/psa/psa';
import { psaMarker } from '../src/domain/psa/psa';
import type { RunningAzurite } from '../src/sandbox/azurite';
import { startHaloPsaSandbox } from '../src/sandbox/psa/halopsa-server';
import { spentLine, timed, type Spent } from './timed';
import { CONTOSO_SANDBOX_PSA } from '../src/sandbox/seed';
import {
  CONTOSO_TENANT_ID,
  contosoProfile,
  people,
  RecordingNotifier,
  submitted,
} from '../tests/support/fixtures';

const TARGET_RATIO = 0.25;
const TENANT = CONTOSO_TENANT_ID;
const MAPPING = CONTOSO_SANDBOX_PSA as PsaMapping;

const format = (n: number) => Math.round(n).toLocaleString('en-US');

export interface PsaBenchOptions {
  readonly azurite: RunningAzurite;
  /** Requests (tickets) noted at once; the relay claims 20 rows a pass, so more adds no concurrency. */
  readonly requests?: number;
  /** Notes per request. */
  readonly notes?: number;
}

/** Runs `work` on every item, `limit` at a time. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, loop));
}

/** One Cabinet note on the request, written as `addNote` writes it (no version bump). */
async function addNote(storage: TableStorage, requestId: string, n: number): Promise<void> {
  const stored = (await storage.requests.get(TENANT, requestId as never))!;
  const event: AuditEvent = {
    type: 'note.added',
    actor: { tid: people.tina.tid, oid: people.tina.oid },
    requestId: stored.request.id,
    payload: { side: 'msp', length: 20 },
    personal: { name: people.tina.name, text: `Bench note ${n} of ${requestId}.` },
  };
  await storage.requests.update(TENANT, stored.etag, {
    request: stored.request,
    audit: [event],
    outbox: [],
  });
}

export async function runPsaBench(options: PsaBenchOptions): Promise<void> {
  const requestCount = options.requests ?? 20;
  const notesEach = options.notes ?? 20;
  const psa = await startHaloPsaSandbox({
    rateLimit: { max: 1_000_000_000, windowSeconds: 1 },
    log: () => undefined,
  });
  try {
    const connector: PsaConnector = createHaloPsaConnector({
      apiUrl: psa.url,
      authUrl: psa.authUrl,
      clientId: psa.clientId,
      clientSecret: psa.clientSecret,
      webhookSecret: psa.webhookSecret,
    });
    const storage = createTableStorage({
      connectionString: options.azurite.connectionString,
      tablePrefix: `benchpsa${randomBytes(3).toString('hex')}`,
    });
    await storage.ensureTables();
    const base = contosoProfile();
    await storage.clients.create({ ...base, settings: { ...base.settings, psa: MAPPING } }, []);
    const spent: Spent = new Map();
    /** The relay as main.ts builds it; the timed one reports the time each of its calls took. */
    const relayWith = (measure: boolean) =>
      new OutboxRelay({
        outbox: measure ? timed(storage.outbox, 'outbox', spent) : storage.outbox,
        notifier: new RecordingNotifier(),
        clients: storage.clients,
        clock: { now: () => new Date() },
        openRequests: {
          index: measure ? timed(storage.openRequests, 'index', spent) : storage.openRequests,
          requests: storage.requests,
        },
        psa: {
          connectors: new Map([
            ['halopsa', measure ? timed(connector, 'connector', spent) : connector],
          ]),
          links: storage.psaLinks,
          requests: measure ? timed(storage.requests, 'requests', spent) : storage.requests,
          clients: measure ? timed(storage.clients, 'clients', spent) : storage.clients,
        },
      });
    const relay = relayWith(false);

    const ids: string[] = [];
    for (let number = 1; number <= requestCount; number += 1) {
      const raised = await storage.requests.create(TENANT, (n) => {
        const { request, audit } = submitted({ number: n });
        return { request: { ...request, psa: { psa: 'halopsa' } }, audit: [audit], outbox: [] };
      });
      ids.push(raised.request.id);
    }
    await relay.sweep();
    const tickets = new Map<string, string>();
    for (const id of ids) {
      const ticketId = (await storage.requests.get(TENANT, id as never))?.request.psa?.ticketId;
      if (!ticketId) throw new Error(`The first relay pass did not open a ticket for ${id}.`);
      tickets.set(id, ticketId);
    }
    for (let n = 1; n <= notesEach; n += 1)
      await inParallel(ids, ids.length, (id) => addNote(storage, id, n));
    const rows = (await storage.outbox.list(TENANT)).filter(
      (r): r is OutboxRow<PsaSyncMessage> =>
        isPsaSyncRow(r) && r.status === 'pending' && r.message.op === 'note',
    );
    const total = requestCount * notesEach;
    if (rows.length !== total)
      throw new Error(`Expected ${total} note rows, found ${rows.length}.`);

    // The limit: the same notes (text, visibility, mapped status) straight to the same PSA.
    const byTicket = new Map<string, PsaNoteDraft[]>();
    for (const row of rows) {
      const ticketId = tickets.get(row.message.requestId)!;
      const status = row.message.status ? MAPPING.statuses?.[row.message.status] : undefined;
      byTicket.set(ticketId, [
        ...(byTicket.get(ticketId) ?? []),
        {
          text: row.message.text ?? '',
          internal: row.message.internal ?? false,
          marker: psaMarker(`raw-${row.id}`),
          ...(status ? { status } : {}),
        },
      ]);
    }
    const rawStarted = performance.now();
    await Promise.all(
      [...byTicket].map(async ([ticketId, drafts]) => {
        for (const draft of drafts) await connector.addNote(ticketId, draft);
      }),
    );
    const raw = total / ((performance.now() - rawStarted) / 1000);

    const timedRelay = relayWith(true);
    const relayStarted = performance.now();
    await timedRelay.sweep();
    await timedRelay.idle();
    const relayed = total / ((performance.now() - relayStarted) / 1000);

    const left = (await storage.outbox.list(TENANT)).filter(
      (r) => isPsaSyncRow(r) && r.status !== 'done',
    );
    if (left.length > 0) throw new Error(`${left.length} psa.sync rows were not delivered.`);
    const notesAtPsa = psa
      .tickets()
      .reduce((sum, t) => sum + t.notes.filter((n) => n.text.includes('[cabinet:')).length, 0);
    if (notesAtPsa !== 2 * total)
      throw new Error(`The PSA holds ${notesAtPsa} Cabinet notes; expected ${2 * total}.`);
    console.log(
      `psa sync (${format(total)} notes on ${requestCount} HaloPSA tickets through the relay): ${format(relayed)} notes/s  ÷ raw connector.addNote ${format(raw)}/s = ${(relayed / raw).toFixed(2)} (target ≥ ${TARGET_RATIO})`,
    );
    console.log(`  the relay's calls: ${spentLine(spent)}`);
  } finally {
    await psa.close();
  }
}
