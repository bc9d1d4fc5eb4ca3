/**
 * Execution benchmark (`npm run bench -- --only offboard`): offboards Contoso's Lee Leaver through
 * the real use cases, the real execution worker, the real Graph adapter (MSAL Node and the Graph
 * SDK) and Azurite, against the sandbox cloud with a fixed latency on every Graph round trip —
 * once with batching and parallel reads on, once with both off — and prints the ratio of the two
 * wall times, the round trips each took, and the round trips of every other wizard.
 * @remarks Every run gets a freshly seeded sandbox cloud, so each offboards the same user from the
 * same state. The runs alternate between the two modes and the median is reported. Wall time is the
 * worker's own: from taking the queued run to writing it completed, without the pause in which the
 * technician ticks "convert to shared mailbox" (a person's time, the same in both modes). Figures
 * depend on the machine; nothing here is asserted except that both modes did the same work.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createGraphDirectory,
  type GraphDirectoryStats,
  type GraphTenantDirectory,
} from '../src/adapters/graph/graph-tenant-directory';
import { createTableStorage, type TableStorage } from '../src/adapters/storage/table-storage';
import type { Clock } from '../src/application/ports/clock';
import type { UseCaseDeps } from '../src/application/use-cases/context';
import {
  assessChange,
  previewAssessment,
  sendForApproval,
} from '../src/application/use-cases/assess-change';
import { configureClientSettings } from '../src/application/use-cases/client-settings';
import { decideApproval } from '../src/application/use-cases/decide-approval';
import {
  ExecutionWorker,
  previewExecution,
  startExecution,
  tickChecklistItem,
  type ExecutionDeps,
} from '../src/application/use-cases/execution';
import { submitChange } from '../src/application/use-cases/submit-change';
import type { ChangeRequest, Person } from '../src/domain/change-request/change-request';
import type { ExecutableType } from '../src/domain/execution/execution-plan';
import { isFinal, type ExecutionRun, type RunId } from '../src/domain/execution/execution-run';
import type { RunningAzurite } from '../src/sandbox/azurite';
import {
  SANDBOX_DIRECTORY,
  type RunningMicrosoftCloud,
  type SandboxCounters,
} from '../src/sandbox/microsoft-cloud';
import { CONTOSO, MSP, type SandboxPerson } from '../src/sandbox/sandbox-tenants';
import { seedSandbox } from '../src/sandbox/seed';
import { startTestCloud } from '../tests/support/microsoft-cloud-fixture';
import { GraphWire } from './graph-wire';

/** Milliseconds the sandbox adds to every Graph round trip (a `$batch` pays it once). */
export const LATENCY_MS = 50;
const TARGET_RATIO = 0.5;

const TENANT = CONTOSO.tenantId;
const contoso = SANDBOX_DIRECTORY.contoso;
const person = (p: SandboxPerson): Person => ({ tid: p.tid, oid: p.oid, name: p.name });
const requester = person(CONTOSO.carla);
const technician = person(MSP.tina);
const systemClock: Clock = { now: () => new Date() };

/** A week from today: the request forms refuse dates in the past. */
function inAWeek(): string {
  return new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
}

/** What each wizard's request asks for, against the seeded Contoso directory. */
function requestFields(type: ExecutableType): Record<string, string> {
  const common = { title: `Bench: ${type.replace('_', ' ')}`, description: 'Benchmark run.' };
  switch (type) {
    case 'offboard':
      return {
        ...common,
        userPrincipalName: contoso.users.lee.userPrincipalName,
        lastWorkingDay: inAWeek(),
        convertToSharedMailbox: 'true',
        removeLicences: 'true',
      };
    case 'new_user':
      return {
        ...common,
        givenName: 'Nia',
        surname: 'Newstarter',
        displayName: 'Nia Newstarter',
        userPrincipalName: `nia.newstarter@${contoso.domain}`,
        jobTitle: 'Account Manager',
        department: 'Sales',
        managerUpn: contoso.users.andy.userPrincipalName,
        usageLocation: 'GB',
        startDate: inAWeek(),
        licenceSkus: 'SPB',
        groups: `${contoso.groups.salesTeam.displayName}, ${contoso.groups.allStaff.displayName}`,
      };
    case 'licence_change':
      return { ...common, userPrincipalName: contoso.users.mo.userPrincipalName, addSkus: 'SPB' };
    case 'access_change':
      return {
        ...common,
        userPrincipalName: contoso.users.mo.userPrincipalName,
        action: 'grant',
        resource: contoso.groups.salesTeam.displayName,
        accessLevel: 'member',
      };
  }
}

/** What one execution cost. */
interface Measured {
  readonly type: ExecutableType;
  readonly together: boolean;
  /** The worker's drives, summed (the checklist pause is not in it). */
  readonly wallMs: number;
  /** The sandbox's own count of Graph requests (a `$batch` is one). */
  readonly cloud: SandboxCounters;
  /** The adapter's count over the same run. */
  readonly adapter: GraphDirectoryStats;
  /** Round trips that had to wait for one another: the part latency cannot be hidden from. */
  readonly inSequence: number;
  readonly steps: number;
}

/** The storage and use-case wiring shared by every run; each run brings its own cloud and adapter. */
interface Bench {
  readonly storage: TableStorage;
  readonly useCases: UseCaseDeps;
}

async function openBench(azurite: RunningAzurite): Promise<Bench> {
  const storage = createTableStorage({
    connectionString: azurite.connectionString,
    tablePrefix: `benchexec${Date.now().toString(36)}`,
  });
  await storage.ensureTables();
  const useCases: UseCaseDeps = {
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    templates: storage.catalogue(MSP.tenantId),
    clock: systemClock,
    mspTenantId: MSP.tenantId,
  };
  await seedSandbox(useCases);
  // The bench measures execution, not scheduling: Contoso may take changes at any time here.
  const cleared = await configureClientSettings(useCases, {
    actor: { kind: 'operator', operator: { tid: MSP.tenantId, oid: 'cabinet-bench' } },
    clientTenantId: TENANT,
    settings: { schedule: null },
  });
  if (!cleared.ok) throw new Error(`Clearing Contoso's schedule failed: ${cleared.error.message}`);
  return { storage, useCases };
}

/** An assessment that passes every readiness rule, booked from an hour from now. */
function benchAssessment(now: Date): Record<string, unknown> {
  const hour = 3_600_000;
  return {
    impact: 'minor',
    risk: 'low',
    affectedUsers: '1',
    affectedServices: ['Microsoft 365'],
    implementationPlan: 'Run the Cabinet wizard for the request and confirm each step in the tab.',
    testPlan: 'Check the user in the admin centre after the run.',
    rollbackPlan:
      'If any step fails or the requester reports a problem within an hour, the technician rolls the run back from the tab, which restores every captured prior state, and confirms with the requester; about 15 minutes.',
    dependencies: [],
    windowStart: new Date(now.getTime() + hour).toISOString(),
    windowEnd: new Date(now.getTime() + 3 * hour).toISOString(),
    sensitivity: [],
  };
}

/** Raised by Carla, assessed and sent by Tina, approved by each step's approvers, as in the bot. */
async function approvedRequest(bench: Bench, type: ExecutableType): Promise<ChangeRequest> {
  const submitted = await submitChange(bench.useCases, {
    actor: requester,
    type,
    fields: requestFields(type),
  });
  if (!submitted.ok)
    throw new Error(`Raising the ${type} request failed: ${submitted.error.message}`);
  const requestId = submitted.value.request.id;
  const preview = await previewAssessment(bench.useCases, {
    actor: technician,
    requestId,
    fields: benchAssessment(new Date()),
  });
  if (!preview.ok)
    throw new Error(`Assessing the ${type} request failed: ${preview.error.message}`);
  const assessed = await assessChange(bench.useCases, {
    actor: technician,
    requestId,
    fields: { ...benchAssessment(new Date()), risk: preview.value.suggestion.level },
  });
  const sent =
    assessed.kind === 'done'
      ? await sendForApproval(bench.useCases, { actor: technician, requestId })
      : assessed;
  if (sent.kind !== 'done')
    throw new Error(`Sending the ${type} request for approval failed: ${sent.error.message}`);
  // Every step votes in turn (Contoso's CAB sits for high-risk changes), as its approvers would.
  let request = sent.request;
  while (request.status === 'awaiting_approval') {
    const open = request.approval?.steps.find((st) => st.status === 'open');
    const voter = open?.approvers.find((a) => !open.votes.some((v) => v.seat.oid === a.oid));
    if (!open || !voter) throw new Error(`The ${type} request has no one left to vote.`);
    const decided = await decideApproval(bench.useCases, {
      actor: voter,
      requestId,
      version: request.version,
      step: open.id,
      decision: 'approve',
    });
    if (decided.kind !== 'decided')
      throw new Error(`Approving the ${type} request did not decide it (${decided.kind}).`);
    request = decided.request;
  }
  return request;
}

function graphDirectory(cloud: RunningMicrosoftCloud): GraphTenantDirectory {
  return createGraphDirectory({
    clientId: cloud.app.clientId,
    credential: { kind: 'secret', clientSecret: cloud.app.clientSecret },
    cloud: { kind: 'sandbox', url: cloud.url, caCertificatePem: cloud.caCertificatePem },
  });
}

/**
 * Executes one approved request of `type` on a freshly seeded sandbox cloud. The technician's
 * preview runs first without latency, which also fetches the app's token and opens connections, so
 * the measured part is the execution alone.
 */
async function measure(bench: Bench, type: ExecutableType, together: boolean): Promise<Measured> {
  // The sandbox logs a request it could not serve; anything else it says is noise here.
  const cloud = await startTestCloud({
    log: (line) => {
      if (line.includes('request failed')) console.error(line);
    },
  });
  const directory = graphDirectory(cloud);
  try {
    const deps: ExecutionDeps = {
      ...bench.useCases,
      runs: bench.storage.runs,
      passwords: bench.storage.passwords,
      directory,
      execution: { together },
    };
    const request = await approvedRequest(bench, type);
    const preview = await previewExecution(deps, { actor: technician, requestId: request.id });
    if (!preview.ok) throw new Error(`The ${type} preview was refused: ${preview.error.message}`);

    const tenant = cloud.tenant(TENANT);
    tenant.setLatency(LATENCY_MS);
    tenant.resetCounters();
    const before = directory.stats;
    const wire = GraphWire.watch(cloud.url);
    try {
      const started = await startExecution(deps, {
        actor: technician,
        requestId: request.id,
        version: preview.value.request.version,
        previewDigest: preview.value.digest,
      });
      if (!started.ok) throw new Error(`Executing ${type} was refused: ${started.error.message}`);
      const { run, wallMs } = await driveToEnd(deps, started.value.run.id);
      if (run.status !== 'completed')
        throw new Error(`The ${type} run ended ${run.status}: ${run.reason ?? 'no reason given'}`);
      return {
        type,
        together,
        wallMs,
        cloud: tenant.counters(),
        adapter: difference(directory.stats, before),
        inSequence: wire.inSequence,
        steps: run.steps.length,
      };
    } finally {
      wire.stop();
    }
  } finally {
    await directory.close();
    await cloud.stop();
  }
}

/**
 * Drives the run as the relay would, until it ends. When it pauses for a checklist task, Tina
 * ticks it (outside the timed part) and the worker carries on.
 */
async function driveToEnd(
  deps: ExecutionDeps,
  runId: RunId,
): Promise<{ readonly run: ExecutionRun; readonly wallMs: number }> {
  const worker = new ExecutionWorker(deps);
  let wallMs = 0;
  for (let drives = 0; drives < 20; drives += 1) {
    const began = performance.now();
    const outcome = await worker.drive(TENANT, runId);
    wallMs += performance.now() - began;
    const run = (await deps.runs.get(TENANT, runId))?.run;
    if (!run) throw new Error(`Run ${runId} is not stored.`);
    if (isFinal(run.status)) return { run, wallMs };
    if (outcome.status === 'later') {
      await sleep(Math.max(0, outcome.at.getTime() - Date.now()));
      continue;
    }
    const ticked = new Set(run.checklist.filter((c) => c.done).map((c) => c.id));
    for (const item of run.plan?.checklist ?? []) {
      if (ticked.has(item.id)) continue;
      const tick = await tickChecklistItem(deps, {
        actor: technician,
        requestId: run.requestId,
        runId,
        itemId: item.id,
      });
      if (!tick.ok) throw new Error(`Ticking ${item.id} failed: ${tick.error.message}`);
    }
  }
  throw new Error(`Run ${runId} did not finish within 20 drives.`);
}

function difference(after: GraphDirectoryStats, before: GraphDirectoryStats): GraphDirectoryStats {
  return {
    roundTrips: after.roundTrips - before.roundTrips,
    batches: after.batches - before.batches,
    retries: after.retries - before.retries,
    waits: after.waits - before.waits,
    waitedMs: after.waitedMs - before.waitedMs,
    reconciliations: after.reconciliations - before.reconciliations,
  };
}

const mutationsOf = (m: Measured): number =>
  Object.values(m.cloud.mutations).reduce((sum, n) => sum + n, 0);

const ms = (n: number): string => `${Math.round(n).toLocaleString('en-US')} ms`;

function medianMs(runs: readonly Measured[]): number {
  const sorted = runs.map((m) => m.wallMs).sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Both modes must have carried out the same steps and changes, or the ratio compares different
 * work; and every run of one mode the same round trips, so one run's counts stand for all.
 */
function assertSameWork(together: readonly Measured[], oneByOne: readonly Measured[]): void {
  const work = new Set(
    [...together, ...oneByOne].map((m) => `${m.steps} steps, ${mutationsOf(m)} changes`),
  );
  if (work.size > 1)
    throw new Error(`The offboarding runs did different work: ${[...work].join(' / ')}.`);
  for (const runs of [together, oneByOne]) {
    const trips = new Set(runs.map((m) => m.cloud.roundTrips));
    if (trips.size > 1)
      throw new Error(`Runs of one mode took different round trips: ${[...trips].join(', ')}.`);
  }
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** One line of round-trip figures: the sandbox's count, what went in `$batch`es, the adapter's count. */
function roundTripLine(label: string, m: Measured, wallMs = m.wallMs): string {
  const batched =
    m.cloud.batchRequests > 0
      ? ` (${plural(m.cloud.batchRequests, '$batch', '$batches')} carrying ${m.cloud.batchedRequests} requests)`
      : '';
  const tokens =
    m.cloud.tokenRequests > 0
      ? `, ${plural(m.cloud.tokenRequests, 'token request', 'token requests')}`
      : '';
  return (
    `  ${label.padEnd(24)} ${String(m.cloud.roundTrips).padStart(2)} round trips${batched}, ` +
    `${m.inSequence} in sequence${tokens}; adapter counted ${m.adapter.roundTrips} ` +
    `(${plural(m.adapter.batches, 'batch', 'batches')}, ${plural(m.adapter.retries, 'retry', 'retries')}); ` +
    `${plural(mutationsOf(m), 'change', 'changes')} applied; ${ms(wallMs)}`
  );
}

export interface OffboardBenchOptions {
  readonly azurite: RunningAzurite;
  /** Runs of each mode (alternating); the median is reported. */
  readonly runs: number;
  readonly print?: (line: string) => void;
}

/** Runs the offboarding comparison and the other wizards once each, and prints the figures. */
export async function runOffboardBench(options: OffboardBenchOptions): Promise<void> {
  const print = options.print ?? ((line: string) => console.log(line));
  const bench = await openBench(options.azurite);
  // One untimed pass of each mode first: the first run pays for loading and compiling the code.
  await measure(bench, 'offboard', true);
  await measure(bench, 'offboard', false);

  const together: Measured[] = [];
  const oneByOne: Measured[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    const order = i % 2 === 0 ? [true, false] : [false, true];
    for (const mode of order)
      (mode ? together : oneByOne).push(await measure(bench, 'offboard', mode));
  }
  assertSameWork(together, oneByOne);
  const fastMs = medianMs(together);
  const slowMs = medianMs(oneByOne);
  const ratio = fastMs / slowMs;
  const fast = together[0]!;
  const slow = oneByOne[0]!;
  const list = (runs: readonly Measured[]) => runs.map((m) => Math.round(m.wallMs)).join(', ');
  print(
    `offboard (Contoso's Lee Leaver, ${fast.steps} steps, ${LATENCY_MS} ms per Graph round trip, median of ${options.runs} alternating runs each):`,
  );
  print(`  batched + parallel: ${ms(fastMs).padStart(9)}   (runs: ${list(together)} ms)`);
  print(`  one at a time:      ${ms(slowMs).padStart(9)}   (runs: ${list(oneByOne)} ms)`);
  print(
    `  batched ÷ one at a time = ${ratio.toFixed(2)} (target ≤ ${TARGET_RATIO}) ${ratio <= TARGET_RATIO ? 'PASS' : 'MISS'}`,
  );
  const chainFloor = fast.inSequence * LATENCY_MS;
  const allFloor = fast.cloud.roundTrips * LATENCY_MS;
  print(
    `  floor, batched: ${fast.inSequence} round trips in sequence × ${LATENCY_MS} ms = ${ms(chainFloor)}; wall ÷ floor = ${(fastMs / chainFloor).toFixed(2)}`,
  );
  print(
    `                  all ${fast.cloud.roundTrips} round trips × ${LATENCY_MS} ms = ${ms(allFloor)}; wall ÷ that = ${(fastMs / allFloor).toFixed(2)}`,
  );

  const slowFloor = slow.inSequence * LATENCY_MS;
  print(
    `  floors alone: ${ms(chainFloor)} ÷ ${ms(slowFloor)} = ${(chainFloor / slowFloor).toFixed(2)} (the ratio if nothing but Graph took time)`,
  );

  const wizards: Measured[] = [];
  for (const type of ['new_user', 'licence_change', 'access_change'] as const)
    wizards.push(await measure(bench, type, true));
  print(
    `Graph round trips per wizard (the sandbox's count, ${LATENCY_MS} ms each; batched unless said; offboard's wall time is the median, the others' one run):`,
  );
  print(roundTripLine('offboard', fast, fastMs));
  print(roundTripLine('offboard, one at a time', slow, slowMs));
  for (const m of wizards) print(roundTripLine(m.type, m));
}
