/**
 * SLA sweep benchmark (`npm run bench -- --only sla`): the work of one SLA sweep — list the open
 * requests from the open-request index, then for each read the request and compute its SLA with
 * the client's rules, as the sweeper does — over 1k open requests with 100k closed ones beside them,
 * divided by the same over the same 1k open requests alone, in the same run (issue 5: target ≤ 1.2).
 * @remarks Both storages live on one Azurite under their own table prefixes and are measured
 * alternately; the median pass of each is reported. Rows are seeded straight through the storage
 * mappers in 100-entity transactions (going through the use cases would take far longer than the
 * bench is worth); the open requests enter the index through its own `sync`. Nothing is asserted.
 * The parts are printed too: listing the index and computeSla do not grow with the closed history,
 * while Azurite's point reads slow down as the client's partition grows (an emulator trait: Azure
 * serves a PartitionKey + RowKey read without scanning), which is the bulk of the whole-sweep ratio.
 */
import { performance } from 'node:perf_hooks';
import { submitEntityGroup, type EntityAction } from '../src/adapters/storage/entity-group';
import { openTable } from '../src/adapters/storage/table-connection';
import { requestEntity } from '../src/adapters/storage/table-entity.mapper';
import { createTableStorage, tableNames } from '../src/adapters/storage/table-storage';
import type { TableStorage } from '../src/adapters/storage/table-storage';
import type { ClientProfile } from '../src/domain/client/client';
import { sweepSla } from '../src/application/use-cases/sla-sweeper';
import type { ChangeRequest } from '../src/domain/change-request/change-request';
import type { TenantId } from '../src/domain/shared/ids';
import type { RunningAzurite } from '../src/sandbox/azurite';
import { newTenant, profile, request } from '../tests/contract/contract-support';

const CLIENTS = 20;
const OPEN = 1_000;
const CLOSED = 100_000;
const PASSES = 7;
const TARGET_RATIO = 1.2;
const NOW = Date.parse('2026-11-23T12:00:00.000Z');

const format = (n: number) => Math.round(n).toLocaleString('en-US');

interface Client {
  readonly profile: ClientProfile;
  readonly tenantId: TenantId;
}

/** One timed sweep of the real sweeper, and how long its index listing alone takes. */
async function sweepPass(
  storage: TableStorage,
): Promise<{ checked: number; alerts: number; listMs: number }> {
  const listed = performance.now();
  await storage.openRequests.list();
  const listMs = performance.now() - listed;
  const result = await sweepSla({
    requests: storage.requests,
    clients: storage.clients,
    openRequests: storage.openRequests,
    clock: { now: () => new Date(NOW) },
  });
  return { ...result, listMs };
}

/**
 * The first sweep records the thresholds already crossed; the relay would then sync the index from
 * the requests it changed. Done here directly, so the timed sweeps are the steady state.
 */
async function settle(storage: TableStorage, open: readonly ChangeRequest[]): Promise<number> {
  const { alerts } = await sweepSla({
    requests: storage.requests,
    clients: storage.clients,
    openRequests: storage.openRequests,
    clock: { now: () => new Date(NOW) },
  });
  for (const r of open) {
    const stored = await storage.requests.get(r.tenantId, r.id);
    if (stored) await storage.openRequests.sync(stored.request);
  }
  return alerts;
}

/** The i-th request of a client: opened up to two weeks before NOW, so clocks fall in every state. */
function seededRequest(client: Client, number: number, open: boolean): ChangeRequest {
  const createdAt = new Date(NOW - ((number * 7_919) % (14 * 24 * 60)) * 60_000).toISOString();
  return request(client.tenantId, number, {
    clientCode: client.profile.code,
    status: open ? 'triaged' : 'closed',
    version: open ? 2 : 5,
    createdAt,
    updatedAt: createdAt,
    ...(open && number % 2 === 0 ? { acknowledgedAt: createdAt } : {}),
  });
}

/** Writes requests as 100-entity transactions per client partition, `loops` at a time. */
async function writeRequests(
  storage: TableStorage & { readonly prefix: string },
  connectionString: string,
  requests: readonly ChangeRequest[],
  loops = 8,
): Promise<void> {
  const table = openTable(connectionString, tableNames(storage.prefix).data, {
    sdkRetries: false,
  });
  const byTenant = new Map<TenantId, ChangeRequest[]>();
  for (const r of requests) byTenant.set(r.tenantId, [...(byTenant.get(r.tenantId) ?? []), r]);
  const batches: EntityAction[][] = [];
  for (const [tenantId, rows] of byTenant)
    for (let i = 0; i < rows.length; i += 100)
      batches.push(
        rows.slice(i, i + 100).map((r) => ({ kind: 'create', entity: requestEntity(tenantId, r) })),
      );
  let next = 0;
  const loop = async () => {
    while (next < batches.length) await submitEntityGroup(table, batches[next++]!);
  };
  await Promise.all(Array.from({ length: loops }, loop));
}

async function newStorage(
  azurite: RunningAzurite,
  prefix: string,
  clients: readonly Client[],
): Promise<TableStorage & { readonly prefix: string }> {
  const storage = createTableStorage({
    connectionString: azurite.connectionString,
    tablePrefix: prefix,
  });
  await storage.ensureTables();
  for (const client of clients) await storage.clients.create(client.profile, []);
  return Object.assign(storage, { prefix });
}

export async function runSlaBench(options: { readonly azurite: RunningAzurite }): Promise<void> {
  const { azurite } = options;
  const clients: Client[] = Array.from({ length: CLIENTS }, () => {
    const tenantId = newTenant();
    return { tenantId, profile: profile(tenantId) };
  });
  const perClientOpen = OPEN / CLIENTS;
  const perClientClosed = CLOSED / CLIENTS;
  const open = clients.flatMap((client) =>
    Array.from({ length: perClientOpen }, (_, i) =>
      seededRequest(client, perClientClosed + i + 1, true),
    ),
  );
  const closed = clients.flatMap((client) =>
    Array.from({ length: perClientClosed }, (_, i) => seededRequest(client, i + 1, false)),
  );

  const seedStarted = performance.now();
  const openOnly = await newStorage(azurite, 'benchslaopen', clients);
  const withHistory = await newStorage(azurite, 'benchslahist', clients);
  for (const storage of [openOnly, withHistory]) {
    await writeRequests(storage, azurite.connectionString, open);
    let next = 0;
    const sync = async () => {
      while (next < open.length) await storage.openRequests.sync(open[next++]!);
    };
    await Promise.all(Array.from({ length: 16 }, sync));
  }
  await writeRequests(withHistory, azurite.connectionString, closed);
  console.log(
    `sla: seeded ${format(open.length)} open requests in both storages and ${format(closed.length)} closed ones beside them in one (${CLIENTS} clients) in ${format((performance.now() - seedStarted) / 1000)} s`,
  );

  const times = { openOnly: [] as number[], withHistory: [] as number[] };
  const listTimes = { openOnly: [] as number[], withHistory: [] as number[] };
  const recorded = [await settle(openOnly, open), await settle(withHistory, open)];
  let last = { checked: 0, alerts: 0, listMs: 0 };
  for (let pass = 0; pass < PASSES; pass += 1) {
    for (const [name, storage] of [
      ['openOnly', openOnly],
      ['withHistory', withHistory],
    ] as const) {
      const started = performance.now();
      last = await sweepPass(storage);
      times[name].push(performance.now() - started);
      listTimes[name].push(last.listMs);
      if (last.alerts !== 0)
        throw new Error(`A steady-state sweep recorded ${last.alerts} alerts.`);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const a = median(times.openOnly);
  const b = median(times.withHistory);
  const listA = median(listTimes.openOnly);
  const listB = median(listTimes.withHistory);
  console.log(
    `sla sweep (the real sweeper: index list, SLA computed from each entry, a request read only when it crosses a new threshold; ${format(recorded[1]!)} thresholds recorded by the first sweep, ${last.checked} requests checked per sweep): ${format(open.length)} open + ${format(closed.length)} closed ${format(b)} ms ÷ ${format(open.length)} open alone ${format(a)} ms = ${(b / a).toFixed(2)} (target ≤ ${TARGET_RATIO}; median of ${PASSES} alternating passes)`,
  );
  console.log(
    `  of which listing the index: ${format(listB)} ms ÷ ${format(listA)} ms = ${(listB / listA).toFixed(2)}`,
  );
}
