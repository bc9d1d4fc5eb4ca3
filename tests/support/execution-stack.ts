import { strict as assert } from 'node:assert';
import { setTimeout as delay } from 'node:timers/promises';
import {
  createGraphDirectory,
  type GraphTenantDirectory,
} from '../../src/adapters/graph/graph-tenant-directory';
import type { GraphRetryOptions } from '../../src/adapters/graph/graph-retry.policy';
import { openTable } from '../../src/adapters/storage/table-connection';
import { tableNames, type TableStorage } from '../../src/adapters/storage/table-storage';
import {
  isGraphExecuteRow,
  isNotificationRow,
  type Notification,
  type OutboxRow,
} from '../../src/application/ports/outbox';
import { decideApproval } from '../../src/application/use-cases/decide-approval';
import {
  ExecutionWorker,
  previewExecution,
  startExecution,
  tickChecklistItem,
  type ExecutionDeps,
  type ExecutionPreview,
} from '../../src/application/use-cases/execution';
import { onboardClient } from '../../src/application/use-cases/manage-clients';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { verifyAuditChain } from '../../src/cli/audit.command';
import type { ChangeRequest, Person } from '../../src/domain/change-request/change-request';
import type { ChangeType } from '../../src/domain/change-request/change-request.payloads';
import { isFinal, type ExecutionRun, type RunId } from '../../src/domain/execution/execution-run';
import type { DomainError } from '../../src/domain/shared/errors';
import type { TenantId } from '../../src/domain/shared/ids';
import type { Result } from '../../src/domain/shared/result';
import type {
  InspectedGroup,
  InspectedUser,
  RunningMicrosoftCloud,
  SandboxTenant,
} from '../../src/sandbox/microsoft-cloud';
import { CONTOSO, FABRIKAM, MSP, type SandboxPerson } from '../../src/sandbox/sandbox-tenants';
import { FakeClock } from '../fakes/in-memory-storage';
import { sendToApprovers } from './approval-flow';
import { useAzurite } from './azurite-fixture';
import { asPerson, RecordingNotifier } from './fixtures';
import { startTestCloud } from './microsoft-cloud-fixture';

/**
 * Cabinet's execution path with every real part: Table Storage on Azurite, the sandbox Microsoft
 * cloud, the Graph adapter (real MSAL and Graph SDK), the execution worker and the outbox relay.
 * Contoso (Carla admin, Andy and Avery approvers, Tina tech) and Fabrikam (Fiona admin, Frank
 * approver, Theo tech) are onboarded through the real use case; Lena leads both.
 * @remarks Cabinet's side runs on a {@link FakeClock} so a run told to wait (throttling past the
 * adapter's budget) is driven again by moving the clock, not by sleeping. The Graph adapter keeps
 * real time: it really sleeps for `Retry-After`, within a short budget, and records each wait.
 */
export interface ExecutionStack {
  readonly cloud: RunningMicrosoftCloud;
  readonly storage: TableStorage & { readonly prefix: string };
  readonly connectionString: string;
  readonly clock: FakeClock;
  readonly directory: GraphTenantDirectory;
  readonly deps: ExecutionDeps;
  readonly relay: OutboxRelay;
  readonly notifier: RecordingNotifier;
  /** Every wait the Graph adapter asked for (and slept), in milliseconds. */
  readonly waits: number[];
  /** Every line the Graph adapter and the relay logged. */
  readonly logs: string[];
  tenant(tenantId: TenantId): SandboxTenant;
}

/** The Graph adapter's budget in these tests: a few seconds, not Cabinet's production minute. */
export const TEST_RETRY: Required<GraphRetryOptions> = {
  budgetMs: 3_000,
  maxDelayMs: 2_000,
  baseDelayMs: 20,
  maxRetries: 4,
};

export const CONTOSO_ID = CONTOSO.tenantId;
export const FABRIKAM_ID = FABRIKAM.tenantId;

/** The cast, as the domain sees them. */
export const cast = {
  carla: asPerson(CONTOSO.carla),
  andy: asPerson(CONTOSO.andy),
  avery: asPerson(CONTOSO.avery),
  fiona: asPerson(FABRIKAM.fiona),
  frank: asPerson(FABRIKAM.frank),
  tina: asPerson(MSP.tina),
  theo: asPerson(MSP.theo),
  lena: asPerson(MSP.lena),
} as const;

/** Who raises and who approves requests in each client. */
const CLIENT_PEOPLE: Readonly<
  Record<string, { readonly requester: Person; readonly approver: Person; readonly tech: Person }>
> = {
  [CONTOSO_ID]: { requester: cast.carla, approver: cast.andy, tech: cast.tina },
  [FABRIKAM_ID]: { requester: cast.fiona, approver: cast.frank, tech: cast.theo },
};

const asInput = (people: readonly SandboxPerson[]) =>
  people.map((p) => ({ oid: p.oid, name: p.name }));

/**
 * Starts Azurite and the sandbox cloud once for the enclosing `describe`, and wires the stack on
 * them. Knobs and counters of both client tenants are reset after every test; directory state is
 * not, so tests in one file use distinct users (or leave them as they found them).
 */
export function useExecutionStack(): () => ExecutionStack {
  let stack: ExecutionStack | undefined;
  // Registered before Azurite's own `after`, so the relay stops while storage is still there.
  after(async () => {
    if (!stack) return;
    await stack.relay.stop();
    await stack.directory.close();
    await stack.cloud.stop();
  });
  const azurite = useAzurite();

  before(async function () {
    this.timeout(30_000);
    const cloud = await startTestCloud({ port: 0 });
    const clock = new FakeClock();
    const storage = await azurite.newStorage({ clock });
    const waits: number[] = [];
    const logs: string[] = [];
    const directory = createGraphDirectory({
      clientId: cloud.app.clientId,
      credential: { kind: 'secret', clientSecret: cloud.app.clientSecret },
      cloud: { kind: 'sandbox', url: cloud.url, caCertificatePem: cloud.caCertificatePem },
      retry: TEST_RETRY,
      requestTimeoutMs: 10_000,
      sleep: (ms) => {
        waits.push(ms);
        return delay(ms);
      },
      log: (line) => logs.push(line),
    });
    const notifier = new RecordingNotifier();
    const deps: ExecutionDeps = {
      requests: storage.requests,
      audit: storage.audit,
      clients: storage.clients,
      conversations: storage.conversations,
      delegations: storage.delegations,
      templates: storage.catalogue(MSP.tenantId),
      clock,
      mspTenantId: MSP.tenantId,
      // As main.ts wires it: a commit with outbox rows starts delivery at once.
      outboxWritten: (tenantId) => relay.kick(tenantId),
      runs: storage.runs,
      passwords: storage.passwords,
      directory,
      execution: { together: true },
    };
    const worker = new ExecutionWorker(deps);
    const relay = new OutboxRelay(
      { outbox: storage.outbox, notifier, clients: storage.clients, clock, runs: worker },
      { log: (line) => logs.push(line), random: () => 0 },
    );
    await onboard(deps);
    stack = {
      cloud,
      storage,
      connectionString: azurite.connectionString,
      clock,
      directory,
      deps,
      relay,
      notifier,
      waits,
      logs,
      tenant: (tenantId) => cloud.tenant(tenantId),
    };
  });

  afterEach(async () => {
    if (!stack) return;
    await stack.relay.idle();
    for (const tenantId of [CONTOSO_ID, FABRIKAM_ID]) {
      stack.tenant(tenantId).reset();
      stack.tenant(tenantId).resetCounters();
    }
    stack.waits.length = 0;
  });

  return () => {
    if (!stack) throw new Error('The execution stack starts in `before`: use it inside a test.');
    return stack;
  };
}

/** Onboards both clients as the sandbox does, but with Tina as Contoso's only technician. */
async function onboard(deps: ExecutionDeps): Promise<void> {
  const operator = { tid: MSP.tenantId, oid: MSP.lena.oid };
  for (const command of [
    {
      operator,
      tenantId: CONTOSO.tenantId,
      code: CONTOSO.code,
      name: CONTOSO.name,
      admins: asInput([CONTOSO.carla]),
      approvers: asInput([CONTOSO.andy, CONTOSO.avery]),
      techs: asInput([MSP.tina]),
      leads: asInput([MSP.lena]),
      timeZone: 'Europe/London',
    },
    {
      operator,
      tenantId: FABRIKAM.tenantId,
      code: FABRIKAM.code,
      name: FABRIKAM.name,
      admins: asInput([FABRIKAM.fiona]),
      approvers: asInput([FABRIKAM.frank]),
      techs: asInput([MSP.theo]),
      leads: asInput([MSP.lena]),
      timeZone: 'America/New_York',
    },
  ]) {
    const result = await onboardClient(deps, command);
    if (!result.ok) throw new Error(`onboarding ${command.code} failed: ${result.error.message}`);
  }
}

/** Form fields a requester fills in, per type; dates are after the fake clock's today. */
const FORM_DEFAULTS: Readonly<Partial<Record<ChangeType, Record<string, unknown>>>> = {
  new_user: { usageLocation: 'GB', startDate: '2026-12-01' },
  offboard: { lastWorkingDay: '2026-11-30' },
  licence_change: {},
  access_change: {},
};

/**
 * Raises a request as the client's admin, has its technician assess it and send it for approval,
 * and its approver approve it, through the real use cases.
 */
export async function approvedRequest(
  stack: ExecutionStack,
  tenantId: TenantId,
  type: ChangeType,
  fields: Readonly<Record<string, unknown>>,
): Promise<ChangeRequest> {
  const who = CLIENT_PEOPLE[tenantId]!;
  const submitted = await submitChange(stack.deps, {
    actor: who.requester,
    type,
    fields: {
      title: `Please do a ${type.replace('_', ' ')}`,
      description: 'Raised by the execution integration tests.',
      ...FORM_DEFAULTS[type],
      ...fields,
    },
  });
  assert.ok(submitted.ok, submitted.ok ? '' : submitted.error.message);
  const sent = await sendToApprovers(stack.deps, submitted.value.request, { technician: who.tech });
  const decided = await decideApproval(stack.deps, {
    actor: who.approver,
    requestId: sent.id,
    version: sent.version,
    decision: 'approve',
  });
  assert.equal(decided.kind, 'decided', `approval was ${decided.kind}`);
  assert.ok(decided.kind === 'decided');
  assert.equal(decided.request.status, 'approved');
  return decided.request;
}

/** The client's technician (or `actor`) previews the wizard with `options`. */
export function preview(
  stack: ExecutionStack,
  request: ChangeRequest,
  options: Readonly<Record<string, unknown>> = {},
  actor: Person = CLIENT_PEOPLE[request.tenantId]!.tech,
): Promise<Result<ExecutionPreview, DomainError>> {
  return previewExecution(stack.deps, { actor, requestId: request.id, options });
}

/**
 * Previews, then starts the run from the previewed plan; fails the test if either is refused.
 * @param beforeStart turns the cloud's knobs between preview and start: once queued, the run is
 * driven at once (the commit kicks the relay), so a knob set after this returns could be too late.
 */
export async function previewAndStart(
  stack: ExecutionStack,
  request: ChangeRequest,
  options: Readonly<Record<string, unknown>> = {},
  beforeStart?: (previewed: ExecutionPreview) => void,
): Promise<{ readonly preview: ExecutionPreview; readonly run: ExecutionRun }> {
  const previewed = await preview(stack, request, options);
  assert.ok(previewed.ok, previewed.ok ? '' : previewed.error.message);
  beforeStart?.(previewed.value);
  const started = await startExecution(stack.deps, {
    actor: CLIENT_PEOPLE[request.tenantId]!.tech,
    requestId: request.id,
    version: request.version,
    options,
    previewDigest: previewed.value.digest,
  });
  assert.ok(started.ok, started.ok ? '' : started.error.message);
  assert.equal(started.value.run.status, 'queued');
  return { preview: previewed.value, run: started.value.run };
}

export interface SettleOptions {
  /** Tick the open checklist items when the run waits for a person (default true). */
  readonly tick?: boolean;
  /** Called when the run waits for a person, before anything is ticked. */
  readonly onPause?: (run: ExecutionRun) => Promise<void> | void;
}

/**
 * Drives the run through the relay until it ends (or, without `tick`, until it waits for a person).
 * When the run's row is put off (throttling, a busy run), the fake clock moves to when it is due.
 */
export async function settle(
  stack: ExecutionStack,
  tenantId: TenantId,
  runId: RunId,
  options: SettleOptions = {},
): Promise<ExecutionRun> {
  for (let pass = 0; pass < 60; pass += 1) {
    await stack.relay.deliverDue(tenantId);
    await stack.relay.idle();
    const run = await storedRun(stack, tenantId, runId);
    if (isFinal(run.status)) {
      // The final run wrote its cards; let the relay hand them to Teams.
      await stack.relay.deliverDue(tenantId);
      await stack.relay.idle();
      return run;
    }
    if (run.status === 'waiting' && !run.waitUntil) {
      await options.onPause?.(run);
      if (options.tick === false) return run;
      await tickNextItem(stack, tenantId, run);
      continue;
    }
    await moveClockToNextRow(stack, tenantId, runId);
  }
  throw new Error(`run ${runId} did not settle in 60 relay passes`);
}

/**
 * Ticks the first open checklist item of a waiting run as the client's technician. One at a time:
 * a tick resumes the run at once, which may end it before a second tick lands.
 */
export async function tickNextItem(
  stack: ExecutionStack,
  tenantId: TenantId,
  run: ExecutionRun,
): Promise<void> {
  const open = (run.plan?.checklist ?? []).find(
    (item) => !run.checklist.some((p) => p.id === item.id && p.done),
  );
  assert.ok(open, `run ${run.id} waits (${run.reason ?? ''}) with nothing to tick`);
  const ticked = await tickChecklistItem(stack.deps, {
    actor: CLIENT_PEOPLE[tenantId]!.tech,
    requestId: run.requestId,
    runId: run.id,
    itemId: open.id,
    note: 'Done in the Exchange admin center.',
  });
  assert.ok(ticked.ok, ticked.ok ? '' : ticked.error.message);
}

/** Moves the fake clock to when the run's pending `graph.execute` row is due. */
async function moveClockToNextRow(
  stack: ExecutionStack,
  tenantId: TenantId,
  runId: RunId,
): Promise<void> {
  const rows = (await stack.storage.outbox.list(tenantId)).filter(
    (row): row is OutboxRow & { message: { runId: string } } =>
      isGraphExecuteRow(row) && row.message.runId === runId && row.status === 'pending',
  );
  const due = Math.min(...rows.map((row) => Date.parse(row.nextAttemptAt)));
  assert.ok(Number.isFinite(due), `run ${runId} is not final and has no pending row to drive it`);
  const wait = due - stack.clock.now().getTime();
  if (wait > 0) stack.clock.advance(wait);
}

export async function storedRun(
  stack: ExecutionStack,
  tenantId: TenantId,
  runId: RunId,
): Promise<ExecutionRun> {
  const stored = await stack.storage.runs.get(tenantId, runId);
  assert.ok(stored, `run ${runId} is not stored`);
  return stored.run;
}

export async function storedRequest(
  stack: ExecutionStack,
  request: ChangeRequest,
): Promise<ChangeRequest> {
  const stored = await stack.storage.requests.get(request.tenantId, request.id);
  assert.ok(stored, `request ${request.id} is not stored`);
  return stored.request;
}

export interface TrailEvent {
  readonly type: string;
  readonly requestId: string | null;
  readonly payload: Record<string, unknown>;
  readonly personal?: Record<string, unknown>;
  readonly canonical: string;
}

/** A client's audit chain, with each entry's personal part opened. */
export async function auditTrail(stack: ExecutionStack, tenantId: TenantId): Promise<TrailEvent[]> {
  const entries = await stack.storage.audit.read(tenantId);
  return Promise.all(
    entries.map(async (entry) => {
      const parsed = JSON.parse(entry.canonical) as {
        type: string;
        requestId: string | null;
        payload: Record<string, unknown>;
      };
      const personal = await stack.storage.audit.openPersonal(tenantId, entry);
      return {
        type: parsed.type,
        requestId: parsed.requestId,
        payload: parsed.payload,
        ...(personal ? { personal } : {}),
        canonical: entry.canonical,
      };
    }),
  );
}

/** `cabinet audit verify`: the whole chain and its head. */
export async function assertChainVerifies(
  stack: ExecutionStack,
  tenantId: TenantId,
): Promise<void> {
  const verdict = await verifyAuditChain(stack.storage.audit, tenantId);
  assert.ok(verdict.ok, verdict.ok ? '' : `chain broken at ${verdict.seq}: ${verdict.reason}`);
}

export interface ExecutionCard {
  readonly oid: string;
  readonly note: string;
}

/**
 * The `execution_update` cards about a run: written to the outbox (in the run's transactions) and
 * handed to Teams by the relay.
 */
export async function executionCards(
  stack: ExecutionStack,
  tenantId: TenantId,
  runId: RunId,
): Promise<{ readonly written: ExecutionCard[]; readonly delivered: ExecutionCard[] }> {
  const about = (n: Notification) => n.template === 'execution_update' && n.runId === runId;
  const rows = (await stack.storage.outbox.list(tenantId)).filter(isNotificationRow);
  return {
    written: rows
      .filter((row) => about(row.message.notification))
      .map((row) => ({
        oid: row.message.recipient.oid,
        note: row.message.notification.note ?? '',
      })),
    delivered: stack.notifier.sent
      .filter((delivery) => about(delivery.notification))
      .map((delivery) => ({ oid: delivery.recipient.oid, note: delivery.notification.note ?? '' })),
  };
}

/** Each of `people` got a card about the run's end whose note matches `note`, written and delivered. */
export async function assertToldOfEnd(
  stack: ExecutionStack,
  tenantId: TenantId,
  runId: RunId,
  people: readonly Person[],
  note: RegExp,
): Promise<void> {
  const { written, delivered } = await executionCards(stack, tenantId, runId);
  for (const person of people) {
    assert.ok(
      written.some((card) => card.oid === person.oid && note.test(card.note)),
      `no card ${String(note)} written for ${person.name}`,
    );
    assert.ok(
      delivered.some((card) => card.oid === person.oid && note.test(card.note)),
      `no card ${String(note)} delivered to ${person.name}`,
    );
  }
}

/** Every row of every table of this stack, exactly as Azurite holds it. */
export async function rawRows(stack: ExecutionStack): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const table of Object.values(tableNames(stack.storage.prefix))) {
    const client = openTable(stack.connectionString, table);
    for await (const entity of client.listEntities<Record<string, unknown>>()) rows.push(entity);
  }
  return rows;
}

/**
 * A tenant's directory as the sandbox holds it, in a form that compares equal when the state is
 * the same: member and owner lists sorted, and sign-in session revocation left out (it cannot be
 * undone, and no plan claims to undo it).
 */
export function directoryState(tenant: SandboxTenant): {
  readonly users: readonly Omit<InspectedUser, 'sessionsRevokedAt'>[];
  readonly groups: readonly InspectedGroup[];
  readonly freeSeats: Readonly<Record<string, number>>;
} {
  const sorted = (values: readonly string[]) => [...values].sort();
  return {
    users: tenant
      .users()
      .map(({ sessionsRevokedAt: _revoked, ...user }) => ({
        ...user,
        memberOf: sorted(user.memberOf),
        ownerOf: sorted(user.ownerOf),
        licences: [...user.licences].sort((a, b) =>
          `${a.skuId}${a.assignedByGroup ?? ''}`.localeCompare(
            `${b.skuId}${b.assignedByGroup ?? ''}`,
          ),
        ),
      }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    groups: tenant
      .groups()
      .map((group) => ({ ...group, members: sorted(group.members), owners: sorted(group.owners) }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    freeSeats: Object.fromEntries(tenant.skus().map((sku) => [sku.skuPartNumber, sku.freeUnits])),
  };
}
