/**
 * The outbox chaos scenario (issue 6 tests; reliability reference §6 T24): PSA sync messages for
 * five clients mapped across the three sandbox PSAs, with every PSA refusing a share of its writes
 * and losing a share of its answers after committing, while the relay process
 * (tests/support/psa-relay-child.ts) is SIGKILLed and restarted every few seconds. After
 * quiescence every message is applied exactly once at its PSA (found by its marker), on the ticket
 * of the right company, and the rows a PSA refuses for good are parked with its reason.
 *
 * The test process owns Azurite and the sandbox PSAs (never killed) and raises the requests and
 * adds the notes through the real use cases with its own storage handle, while the relay runs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import {
  isPsaSyncRow,
  type OutboxRow,
  type PsaSyncMessage,
} from '../../src/application/ports/outbox';
import { addNote } from '../../src/application/use-cases/add-note';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { parkedDeliveries } from '../../src/application/use-cases/deliveries';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { verifyAuditChain } from '../../src/cli/audit.command';
import type { Person } from '../../src/domain/change-request/change-request';
import type { ClientProfile } from '../../src/domain/client/client';
import { psaMarker, type PsaKind, type PsaMapping } from '../../src/domain/psa/psa';
import type { ClientCode, TenantId } from '../../src/domain/shared/ids';
import { startAutotaskSandbox } from '../../src/sandbox/psa/autotask-server';
import { startConnectWiseSandbox } from '../../src/sandbox/psa/connectwise-server';
import { startHaloPsaSandbox } from '../../src/sandbox/psa/halopsa-server';
import { calmChaos, type PsaChaosKnobs } from '../../src/sandbox/psa/psa-sandbox-http';
import type { RunningPsaSandbox, SandboxTicket } from '../../src/sandbox/psa/types';
import { MSP_TENANT } from '../../src/sandbox/sandbox-tenants';
import type { AzuriteFixture } from './azurite-fixture';
import { people, validFields } from './fixtures';
import type { PsaRelayChildArgs } from './psa-relay-child';

const CHILD = require.resolve('./psa-relay-child.ts');
/** Short enough that a killed relay's rows are taken over within seconds. */
const ROW_LEASE_MS = 1_500;
const SWEEP_MS = 200;
/** Far above what injected faults cause, so only a PSA's refusal for good parks a row. */
const MAX_ATTEMPTS = 60;

export interface ChaosScenario {
  readonly requestsPerClient: number;
  /** Cabinet notes added to each request (each one PSA note). */
  readonly notesPerRequest: number;
  /** The relay is killed after a random wait in [min, max] ms, again and again until quiescence. */
  readonly killEveryMs: readonly [number, number];
  readonly failRate: number;
  readonly dropRate: number;
  /** How long the whole scenario may take before it is reported as stuck (not a timing assertion). */
  readonly budgetMs: number;
  readonly seed: number;
}

interface ChaosClient {
  readonly profile: ClientProfile;
  readonly mapping: PsaMapping;
  /** A company the PSA does not know: its tickets are refused for good and its rows park. */
  readonly refused: boolean;
}

const PRIORITIES = {
  halopsa: { low: '4', medium: '3', high: '2', critical: '1' },
  connectwise: {
    low: 'Priority 4 - Low',
    medium: 'Priority 3 - Normal Response',
    high: 'Priority 2 - High',
    critical: 'Priority 1 - Critical',
  },
  autotask: { low: '3', medium: '2', high: '1', critical: '4' },
} as const;

const STATUSES = {
  halopsa: { triaged: '2', cancelled: '9' },
  connectwise: { submitted: 'New (Cabinet)', triaged: 'Triaged' },
  autotask: { triaged: '8' },
} as const;

/** Five clients on distinct companies across the three PSAs, and one mapped to an unknown company. */
const CLIENTS: readonly {
  code: string;
  psa: PsaKind;
  company: string;
  board?: string;
  refused?: boolean;
}[] = [
  { code: 'HALOA', psa: 'halopsa', company: '12' },
  { code: 'HALOB', psa: 'halopsa', company: '14' },
  { code: 'CWA', psa: 'connectwise', company: 'CONTOSO', board: 'Service Desk' },
  { code: 'CWB', psa: 'connectwise', company: 'FABRIKAM', board: 'Service Desk' },
  { code: 'ATA', psa: 'autotask', company: '174', board: '29682833' },
  { code: 'ATX', psa: 'autotask', company: '999', board: '29682833', refused: true },
];

/** Registers the scenario as one mocha test on the file's Azurite. */
export function describeOutboxChaos(azurite: AzuriteFixture, scenario: ChaosScenario): void {
  let relays: RelayProcess[] = [];
  let sandboxes: RunningPsaSandbox[] = [];

  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    for (const r of relays) {
      if (failed) process.stderr.write(`--- relay ${r.pid} output (tail) ---\n${r.tail()}\n`);
      await r.kill();
    }
    relays = [];
    await Promise.all(sandboxes.map((s) => s.close()));
    sandboxes = [];
  });

  it(`applies ${scenario.requestsPerClient * (scenario.notesPerRequest + 2) * 5}-odd PSA messages for 5 clients exactly once while the PSAs fail ${pct(scenario.failRate)} of writes, lose ${pct(scenario.dropRate)} of answers after committing and the relay is killed every ${scenario.killEveryMs[0] / 1000}–${scenario.killEveryMs[1] / 1000} s`, async function () {
    this.timeout(scenario.budgetMs + 60_000);
    const random = seeded(scenario.seed);
    const chaos = (): PsaChaosKnobs => ({ ...calmChaos(), random });
    const halo = await startHaloPsaSandbox({
      chaos: chaos(),
      rateLimit: { max: 1_000_000, windowSeconds: 300 },
    });
    const cw = await startConnectWiseSandbox({ chaos: chaos() });
    const at = await startAutotaskSandbox({
      chaos: chaos(),
      limits: { hourlyBudget: 1_000_000, threadLimit: 1_000 },
    });
    sandboxes = [halo, cw, at];

    const storage = await azurite.newStorage();
    const deps = useCaseDeps(storage);
    const clients = await onboardClients(storage);
    // Faults from the first write on: opening tickets and adding notes both meet them.
    for (const s of sandboxes) {
      s.chaos.failRate = scenario.failRate;
      s.chaos.dropRate = scenario.dropRate;
    }

    const args: PsaRelayChildArgs = {
      connectionString: azurite.connectionString,
      tablePrefix: storage.prefix,
      halopsa: {
        apiUrl: halo.url,
        authUrl: halo.authUrl,
        clientId: halo.clientId,
        clientSecret: halo.clientSecret,
        webhookSecret: halo.webhookSecret,
      },
      connectwise: {
        siteUrl: cw.siteUrl,
        companyId: cw.companyId,
        publicKey: cw.publicKey,
        privateKey: cw.privateKey,
        clientId: cw.clientId,
      },
      autotask: {
        zoneUrl: at.zoneUrl,
        username: at.username,
        secret: at.secret,
        integrationCode: at.integrationCode,
        webhookSecret: at.webhookSecret,
      },
      rowLeaseMs: ROW_LEASE_MS,
      sweepMs: SWEEP_MS,
      maxAttempts: MAX_ATTEMPTS,
    };
    const started = Date.now();
    const deadline = started + scenario.budgetMs;
    let relay = RelayProcess.start(args);
    relays.push(relay);
    await relay.ready;

    let kills = 0;
    let quiet = false;
    const killer = (async () => {
      while (!quiet) {
        const [min, max] = scenario.killEveryMs;
        const wait = min + Math.floor(random() * (max - min));
        for (const until = Date.now() + wait; !quiet && Date.now() < until; ) await sleep(100);
        if (quiet) return;
        await relay.kill();
        kills += 1;
        relay = RelayProcess.start(args);
        relays.push(relay);
        await relay.ready;
      }
    })();

    try {
      await generate(deps, clients, scenario);
      await quiescence(storage, clients, deadline);
    } finally {
      quiet = true;
      await killer;
    }
    const settledAfterMs = Date.now() - started;
    await relay.kill();
    const stoppedAt = Date.now();

    const rows = new Map<TenantId, OutboxRow[]>();
    for (const c of clients)
      rows.set(c.profile.tenantId, await storage.outbox.list(c.profile.tenantId));
    const psaRows = [...rows.values()].flat().filter(isPsa);
    const tickets = sandboxes.flatMap((s) => s.tickets().map((t) => ({ psa: s.kind, ticket: t })));
    const notes = tickets.flatMap(({ psa, ticket }) =>
      ticket.notes.map((n) => ({ psa, ticket, n })),
    );
    const counts = {
      kills,
      psaMessages: psaRows.length,
      ticketRows: psaRows.filter((r) => r.message.op === 'ticket').length,
      noteRows: psaRows.filter((r) => r.message.op === 'note').length,
      parked: psaRows.filter((r) => r.status === 'parked').length,
      heldBehindParked: psaRows.filter((r) => r.status === 'pending').length,
      claimedMoreThanOnce: psaRows.filter((r) => (r.claims ?? 1) > 1).length,
      failedAttempts: psaRows.reduce((n, r) => n + r.attempts, 0),
      tickets: tickets.length,
      psaNotes: notes.length,
      psaCalls: sum(sandboxes.map((s) => s.counts.requests)),
      injectedFailures: sum(sandboxes.map((s) => s.counts.injectedFailures)),
      droppedResponses: sum(sandboxes.map((s) => s.counts.droppedResponses)),
      settledAfterSeconds: Math.round(settledAfterMs / 1000),
    };
    process.stdout.write(`      outbox chaos: ${JSON.stringify(counts)}\n`);
    assert.ok(kills >= 1, 'the relay was killed at least once');
    assert.ok(counts.injectedFailures > 0 && counts.droppedResponses > 0, 'faults were injected');

    // One ticket per request that could be opened, at its client's PSA, for its client's company.
    const owner = new Map<string, ChaosClient>();
    for (const c of clients)
      for (const r of rows.get(c.profile.tenantId)!.filter(isPsa))
        owner.set(r.message.requestId, c);
    for (const { psa, ticket } of tickets) {
      const c = ticket.externalRef ? owner.get(ticket.externalRef) : undefined;
      assert.ok(c, `ticket ${psa}/${ticket.id} belongs to a request of the scenario`);
      assert.equal(psa, c.mapping.psa, `ticket of ${ticket.externalRef} at the client's PSA`);
      assert.equal(
        ticket.company,
        c.mapping.company,
        `ticket of ${ticket.externalRef} for its company`,
      );
      assert.ok(!c.refused);
    }
    for (const [requestId, c] of owner) {
      const found = tickets.filter((t) => t.ticket.externalRef === requestId);
      assert.equal(found.length, c.refused ? 0 : 1, `tickets for ${requestId}`);
      if (c.refused) continue;
      const stored = await storage.requests.get(c.profile.tenantId, requestId as never);
      assert.equal(stored?.request.psa?.ticketId, found[0]!.ticket.id, `${requestId} linked`);
    }

    // Every note row of a client on a known company: its marker exactly once, on its ticket.
    const byMarker = new Map<string, { psa: PsaKind; ticket: SandboxTicket }[]>();
    for (const { psa, ticket, n } of notes) {
      const markers = n.text.match(/\[cabinet:[^\]]+\]/g) ?? [];
      const [marker, ...more] = markers;
      assert.ok(
        marker !== undefined && more.length === 0,
        `PSA note ${psa}/${n.id} carries one marker`,
      );
      byMarker.set(marker, [...(byMarker.get(marker) ?? []), { psa, ticket }]);
    }
    let expectedNotes = 0;
    for (const c of clients) {
      for (const r of rows.get(c.profile.tenantId)!) {
        if (!c.refused) {
          assert.equal(r.status, 'done', `row ${r.id} (${r.message.kind}) of ${c.profile.code}`);
        }
        if (!isPsa(r) || r.message.op !== 'note') continue;
        const at = byMarker.get(psaMarker(r.id)) ?? [];
        if (c.refused) {
          assert.deepEqual(at, [], `nothing of ${c.profile.code} reached a PSA`);
          continue;
        }
        expectedNotes += 1;
        assert.equal(at.length, 1, `marker of ${r.id} applied exactly once`);
        assert.equal(at[0]!.psa, c.mapping.psa);
        assert.equal(at[0]!.ticket.externalRef, r.message.requestId, `note ${r.id} on its ticket`);
        assert.equal(at[0]!.ticket.company, c.mapping.company);
      }
    }
    assert.equal(notes.length, expectedNotes, 'no PSA note beyond the delivered messages');
    // A request's rows go one at a time in row order, so its notes land in the order things happened.
    for (const { psa, ticket } of tickets) {
      const order = ticket.notes.map((n) => /\[cabinet:([^\]]+)\]/.exec(n.text)?.[1] ?? '');
      assert.deepEqual(order, [...order].sort(), `notes of ${psa}/${ticket.id} in row order`);
    }

    // The refused client: each request's first row parked with the PSA's reason, the rest held
    // behind it (pending, not leased); none leased beyond its lease.
    const refused = clients.find((c) => c.refused)!;
    const refusedRows = rows.get(refused.profile.tenantId)!;
    const parked = refusedRows.filter((r) => r.status === 'parked');
    assert.ok(parked.length > 0);
    for (const r of refusedRows) {
      if (r.leaseUntil && r.status !== 'done')
        assert.ok(
          Date.parse(r.leaseUntil) <= stoppedAt + ROW_LEASE_MS,
          `${r.id} not leased beyond its lease`,
        );
      if (!isPsa(r)) {
        assert.equal(r.status, 'done');
        continue;
      }
      const first = refusedRows
        .filter((x) => isPsa(x) && x.message.requestId === r.message.requestId)
        .sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
      if (r.id === first.id) {
        assert.equal(r.status, 'parked', `first row of ${r.message.requestId} parked`);
        assert.match(r.lastError ?? '', /companyID|999/, 'parked with the PSA reason');
      } else assert.equal(r.status, 'pending', `${r.id} held behind the parked row`);
    }
    const visible = await parkedDeliveries(deps, people.lena);
    assert.ok(visible.ok);
    assert.deepEqual(
      visible.value.map((p) => p.rowId).sort(),
      parked.map((r) => r.id).sort(),
      'the lead sees every parked row',
    );
    for (const p of visible.value) {
      assert.equal(p.clientCode, refused.profile.code);
      assert.match(p.lastError, /companyID|999/);
    }

    for (const c of clients) {
      const chain = await verifyAuditChain(storage.audit, c.profile.tenantId);
      assert.equal(chain.ok, true, `audit chain of ${c.profile.code}`);
    }
  });
}

function pct(rate: number): string {
  return `${Math.round(rate * 100)} %`;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

const isPsa = isPsaSyncRow;

/** Mulberry32: reproducible fault injection for a given seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function useCaseDeps(storage: TableStorage): UseCaseDeps & { outbox: TableStorage['outbox'] } {
  return {
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    templates: storage.catalogue(MSP_TENANT),
    outbox: storage.outbox,
    clock: { now: () => new Date() },
    mspTenantId: MSP_TENANT,
  };
}

/** Each client with its own tenant and people; Tina works for all of them and Lena leads them. */
async function onboardClients(storage: TableStorage): Promise<ChaosClient[]> {
  const clients: ChaosClient[] = [];
  for (const spec of CLIENTS) {
    const tenantId = randomUUID() as TenantId;
    const person = (name: string): Person => ({ tid: tenantId, oid: randomUUID() as never, name });
    const mapping: PsaMapping = {
      psa: spec.psa,
      company: spec.company,
      ...(spec.board ? { board: spec.board } : {}),
      priorities: PRIORITIES[spec.psa],
      statuses: STATUSES[spec.psa],
    };
    const profile: ClientProfile = {
      tenantId,
      code: spec.code as ClientCode,
      name: `${spec.code} Ltd`,
      admins: [person(`${spec.code} Admin`)],
      approvers: [person(`${spec.code} Approver`)],
      techs: [people.tina],
      leads: [people.lena],
      settings: { timeZone: 'Europe/London', psa: mapping },
    };
    await storage.clients.create(profile, []);
    clients.push({ profile, mapping, refused: spec.refused ?? false });
  }
  return clients;
}

/**
 * Tina raises each client's requests and adds their notes, clients in parallel and each client's
 * requests one after another, while the relay runs (and is killed).
 */
async function generate(
  deps: UseCaseDeps,
  clients: readonly ChaosClient[],
  scenario: ChaosScenario,
): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 1; i <= scenario.requestsPerClient; i += 1) {
        const raised = await submitChange(deps, {
          actor: people.tina,
          clientTenantId: c.profile.tenantId,
          type: 'general',
          fields: validFields('general', { title: `Chaos change ${i} for ${c.profile.code}` }),
        });
        assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
        const id = raised.value.request.id;
        for (let n = 1; n <= scenario.notesPerRequest; n += 1) {
          const added = await addNote(
            deps,
            people.tina,
            c.profile.tenantId,
            id,
            `Note ${n} on ${id}: checked with ${c.profile.code}.`,
          );
          assert.ok(added.ok, added.ok ? '' : added.error.message);
        }
      }
    }),
  );
}

/**
 * Waits until nothing is left to deliver: every row done, except for the refused client, whose
 * requests each have a parked first row with the rest held behind it. Past the budget it fails
 * as stuck, naming what is left.
 */
async function quiescence(
  storage: TableStorage,
  clients: readonly ChaosClient[],
  deadline: number,
): Promise<void> {
  let left: string[] = [];
  while (Date.now() < deadline) {
    left = [];
    for (const c of clients) {
      const rows = await storage.outbox.list(c.profile.tenantId);
      const parkedRequests = new Set(
        rows
          .filter((r) => isPsa(r) && r.status === 'parked')
          .map((r) => (r as OutboxRow<PsaSyncMessage>).message.requestId),
      );
      for (const r of rows) {
        if (r.status === 'done') continue;
        if (c.refused && isPsa(r) && r.status === 'parked') continue;
        if (c.refused && isPsa(r) && parkedRequests.has(r.message.requestId)) continue;
        left.push(
          `${c.profile.code} ${r.id} ${r.message.kind} ${r.status} attempts=${r.attempts} ${r.lastError ?? ''}`,
        );
      }
    }
    if (left.length === 0) return;
    await sleep(500);
  }
  throw new Error(
    `Stuck: ${left.length} row(s) not settled by the budget:\n${left.slice(0, 20).join('\n')}`,
  );
}

/** One relay process; its output is kept (the tail is printed when the test fails). */
class RelayProcess {
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    child.stdout?.on('data', (chunk: Buffer) => {
      this.keep(chunk);
      if (this.output.includes('ready\n')) markReady();
    });
    child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.ready = Promise.race([
      ready,
      this.exited.then(() => {
        throw new Error(`The relay exited before it was ready:\n${this.output}`);
      }),
    ]);
    this.ready.catch(() => undefined);
  }

  static start(args: PsaRelayChildArgs): RelayProcess {
    return new RelayProcess(
      spawn(process.execPath, ['--require', 'tsx/cjs', CHILD, JSON.stringify(args)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  tail(): string {
    return this.output.slice(-8_000);
  }

  /** SIGKILL: no handler runs, nothing is flushed, sockets die with the process. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private keep(chunk: Buffer): void {
    // Bounded: a long run logs every injected failure.
    this.output = (this.output + chunk.toString()).slice(-64_000);
  }
}
