/**
 * Crash/resume scenarios for Graph-backed execution (issue 3 §4, reliability reference §4.4–§4.5,
 * T23): a worker process (tests/support/execution-child.ts) is SIGKILLed at an exact point of a
 * Graph write, held there by the sandbox cloud's hold knob, and a fresh worker process finishes the
 * run. The test process owns Azurite and the sandbox cloud (neither is ever killed) and drives the
 * request through the real use cases with its own storage handle.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createGraphDirectory,
  type GraphTenantDirectory,
} from '../../src/adapters/graph/graph-tenant-directory';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import { decideApproval } from '../../src/application/use-cases/decide-approval';
import {
  previewExecution,
  startExecution,
  type ExecutionDeps,
} from '../../src/application/use-cases/execution';
import { onboardClient } from '../../src/application/use-cases/manage-clients';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { verifyAuditChain } from '../../src/cli/audit.command';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { CREATED_USER, type DirectoryCommand } from '../../src/domain/execution/directory';
import { isFinal, type ExecutionRun, type RunId } from '../../src/domain/execution/execution-run';
import {
  SANDBOX_DIRECTORY,
  type FailOptions,
  type HoldOptions,
  type InspectedUser,
  type RunningMicrosoftCloud,
  type SandboxTenant,
} from '../../src/sandbox/microsoft-cloud';
import { MSP_TENANT } from '../../src/sandbox/sandbox-tenants';
import { sendToApprovers } from './approval-flow';
import type { AzuriteFixture } from './azurite-fixture';
import type { ExecutionChildArgs } from './execution-child';
import { CONTOSO_TENANT_ID, contosoProfile, people, validFields } from './fixtures';
import { startTestCloud } from './microsoft-cloud-fixture';

const CHILD = require.resolve('./execution-child.ts');
/** Short enough that a killed worker's run and outbox row are taken over within seconds. */
const RUN_LEASE_MS = 1_500;
const ROW_LEASE_MS = 1_500;
const SWEEP_MS = 200;
/** How long a scenario may take end to end before it is reported as stuck (not a timing assertion). */
const SCENARIO_BUDGET_MS = 45_000;

const contoso = SANDBOX_DIRECTORY.contoso;
const lee = contoso.users.lee;
const NEW_USER_UPN = 'nia.newcomer@contoso.example';

/** Where the first worker dies: a hold on a Graph request, and whether the run was compensating. */
export interface CrashCase {
  readonly title: string;
  readonly type: 'offboard' | 'new_user';
  /** The request the worker is killed at: after it was applied (its answer held) or before. */
  readonly killAt: HoldOptions;
  /** A permanent refusal injected before the point of no return, so the run compensates. */
  readonly refuse?: FailOptions['match'];
  /** The steps the kill lands in (their stored status is `started` or `compensating` then). */
  readonly killedSteps: (run: ExecutionRun) => readonly string[];
  readonly ends: 'completed' | 'compensated';
  /** In `npm test`; the rest run in `npm run test:long`. */
  readonly quick?: boolean;
}

const stepIds =
  (...ids: string[]) =>
  (): readonly string[] =>
    ids;
const wave = (n: number) => (run: ExecutionRun) =>
  run.plan!.steps.filter((s) => s.wave === n).map((s) => s.id);
const refused = (message: string) => ({ status: 400, code: 'Request_BadRequest', message });

/**
 * The offboard plan for Lee: block sign-in (wave 0), revoke sessions (1), auto-reply, four group
 * removals and the manager as one `$batch` (2), then the licences (3, the point of no return).
 * The new-user plan: create (0), then licence, two groups and manager as one `$batch` (1).
 */
export const CRASH_CASES: readonly CrashCase[] = [
  {
    title: 'offboard: killed after blocking sign-in landed, before its state write',
    type: 'offboard',
    killAt: { phase: 'after', match: { route: 'PATCH /users/{id}' } },
    killedSteps: stepIds('block-sign-in'),
    ends: 'completed',
  },
  {
    title: 'offboard: killed after revoking sessions landed, before its state write',
    type: 'offboard',
    killAt: { phase: 'after', match: { route: 'POST /users/{id}/revokeSignInSessions' } },
    killedSteps: stepIds('revoke-sessions'),
    ends: 'completed',
    quick: true,
  },
  {
    title: 'offboard: killed after the $batch wave landed, before its state write',
    type: 'offboard',
    killAt: { phase: 'after', match: { route: 'POST /$batch' } },
    killedSteps: wave(2),
    ends: 'completed',
    quick: true,
  },
  {
    title:
      'offboard: killed after the licence removal (point of no return) landed, before its state write',
    type: 'offboard',
    killAt: { phase: 'after', match: { route: 'POST /users/{id}/assignLicense' } },
    killedSteps: stepIds('remove-licences'),
    ends: 'completed',
    quick: true,
  },
  {
    title: 'offboard: killed between blocking sign-in and revoking sessions',
    type: 'offboard',
    killAt: { phase: 'before', match: { route: 'POST /users/{id}/revokeSignInSessions' } },
    killedSteps: stepIds('revoke-sessions'),
    ends: 'completed',
  },
  {
    title: 'offboard: killed between revoking sessions and the $batch wave',
    type: 'offboard',
    killAt: { phase: 'before', match: { route: 'POST /$batch' } },
    killedSteps: wave(2),
    ends: 'completed',
    quick: true,
  },
  {
    title: 'offboard: killed between the $batch wave and the licence removal (point of no return)',
    type: 'offboard',
    killAt: { phase: 'before', match: { route: 'POST /users/{id}/assignLicense' } },
    killedSteps: stepIds('remove-licences'),
    ends: 'completed',
  },
  {
    title: 'offboard: manager refused, killed after re-adding a group landed while compensating',
    type: 'offboard',
    refuse: { route: 'DELETE /users/{id}/manager/$ref' },
    killAt: { phase: 'after', match: { route: 'POST /groups/{id}/members/$ref' } },
    killedSteps: compensatingGroupReAdd,
    ends: 'compensated',
    quick: true,
  },
  {
    title: 'offboard: manager refused, killed between two compensations',
    type: 'offboard',
    refuse: { route: 'DELETE /users/{id}/manager/$ref' },
    killAt: { phase: 'before', match: { route: 'POST /groups/{id}/members/$ref' } },
    killedSteps: compensatingGroupReAdd,
    ends: 'compensated',
  },
  {
    title: 'new user: killed after POST /users landed, before its state write',
    type: 'new_user',
    killAt: { phase: 'after', match: { route: 'POST /users' } },
    killedSteps: stepIds('create-user'),
    ends: 'completed',
    quick: true,
  },
  {
    title: 'new user: killed after the password was kept, before POST /users',
    type: 'new_user',
    killAt: { phase: 'before', match: { route: 'POST /users' } },
    killedSteps: stepIds('create-user'),
    ends: 'completed',
    quick: true,
  },
  {
    title: 'new user: killed between the account and its $batch of licence, groups and manager',
    type: 'new_user',
    killAt: { phase: 'before', match: { route: 'POST /$batch' } },
    killedSteps: wave(1),
    ends: 'completed',
  },
  {
    title:
      'new user: manager refused, killed after the account was deleted again, before its state write',
    type: 'new_user',
    refuse: { route: 'PUT /users/{id}/manager/$ref' },
    killAt: { phase: 'after', match: { route: 'DELETE /users/{id}' } },
    killedSteps: stepIds('create-user'),
    ends: 'compensated',
  },
];

/** The one step being compensated at the kill, which must be a group re-add (they go one at a time). */
function compensatingGroupReAdd(run: ExecutionRun): readonly string[] {
  const undoing = run.plan!.steps.filter(
    (s) => run.steps.find((p) => p.id === s.id)?.status === 'compensating',
  );
  assert.deepEqual(
    undoing.map((s) => s.compensation?.kind),
    ['group.add'],
  );
  return undoing.map((s) => s.id);
}

/**
 * Registers one mocha test per case, sharing the file's Azurite. Each test gets a fresh sandbox
 * cloud (the seeded directory) and fresh tables.
 */
export function describeCrashCases(azurite: AzuriteFixture, cases: readonly CrashCase[]): void {
  let cloud: RunningMicrosoftCloud;
  let workers: WorkerProcess[] = [];
  let directory: GraphTenantDirectory | undefined;

  beforeEach(async () => {
    cloud = await startTestCloud();
    workers = [];
  });

  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    for (const w of workers) {
      if (failed) process.stderr.write(`--- worker ${w.pid} output ---\n${w.output}\n`);
      await w.kill();
    }
    await directory?.close();
    directory = undefined;
    await cloud.stop();
  });

  for (const c of cases) {
    it(c.title, async function () {
      this.timeout(SCENARIO_BUDGET_MS);
      const storage = await azurite.newStorage();
      directory = createGraphDirectory({
        clientId: cloud.app.clientId,
        credential: { kind: 'secret', clientSecret: cloud.app.clientSecret },
        cloud: { kind: 'sandbox', url: cloud.url, caCertificatePem: cloud.caCertificatePem },
      });
      const deps = executionDeps(storage, directory);
      const tenant = cloud.tenant(CONTOSO_TENANT_ID);
      const start = (): WorkerProcess => {
        const w = WorkerProcess.start({
          connectionString: azurite.connectionString,
          tablePrefix: storage.prefix,
          cloud: {
            url: cloud.url,
            caCertificatePem: cloud.caCertificatePem,
            clientId: cloud.app.clientId,
            clientSecret: cloud.app.clientSecret,
          },
          runLeaseMs: RUN_LEASE_MS,
          rowLeaseMs: ROW_LEASE_MS,
          sweepMs: SWEEP_MS,
        });
        workers.push(w);
        return w;
      };

      await onboardContoso(deps);
      const request = await approved(deps, c.type);
      const subjectBefore = c.type === 'offboard' ? tenant.user(lee.id) : undefined;
      if (c.refuse)
        tenant.fail({
          ...refused('Injected refusal before the point of no return.'),
          match: c.refuse,
        });
      const hold = tenant.hold(c.killAt);
      const runId = await started(deps, request);

      const first = start();
      await first.ready;
      await Promise.race([hold.held, first.exited.then(() => assert.fail('The worker exited.'))]);
      await first.kill();
      assert.deepEqual(
        await hold.ended,
        ['caller-gone'],
        'the sandbox saw the killed worker hang up',
      );

      const atKill = await storedRun(storage, runId);
      const killed = c.killedSteps(atKill);
      const phase = atKill.status === 'compensating' ? 'compensating' : 'started';
      assert.deepEqual(
        killed.map((id) => [id, atKill.steps.find((p) => p.id === id)?.status]),
        killed.map((id) => [id, phase]),
        'the kill landed between sending and recording the step',
      );
      const killedCalls = killed.map((id) => {
        const s = atKill.plan!.steps.find((x) => x.id === id)!;
        return graphCall(phase === 'started' ? s.forward : s.compensation!, atKill.createdUserId);
      });
      const landed = tenant.mutationLog().map((m) => `${m.method} ${m.path}`);
      assert.deepEqual(
        killedCalls.map((call) => [call, landed.includes(call)]),
        killedCalls.map((call) => [call, c.killAt.phase === 'after']),
        `the killed request had ${c.killAt.phase === 'after' ? '' : 'not '}landed`,
      );

      const second = start();
      await second.ready;
      const final = await eventually('the run to end', async () => {
        const r = await storedRun(storage, runId);
        return isFinal(r.status) ? r : undefined;
      });
      await eventually('every outbox row to be delivered', async () => {
        const rows = await storage.outbox.list(CONTOSO_TENANT_ID);
        return rows.every((r) => r.status === 'done') ? rows : undefined;
      });
      await second.stop();

      assert.equal(final.status, c.ends, final.reason);
      assertEachMutationOnce(tenant, final);
      await assertAuditTrail(storage, final, killed, c.killAt.phase);
      const after = (await storage.requests.get(CONTOSO_TENANT_ID, request.id))!.request;
      assert.equal(after.status, c.ends === 'completed' ? 'implemented' : 'failed');
      if (c.type === 'offboard') assertOffboarded(tenant, subjectBefore!, final, c.ends);
      else await assertNewUser(tenant, storage, final, c.ends);
    });
  }
}

/** A worker child process; its stdout and stderr are kept for the failure report. */
class WorkerProcess {
  output = '';
  readonly exited: Promise<void>;
  /** Resolves on the child's ready line; rejects if it exits first (it could not start). */
  readonly ready: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    child.stdout!.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      if (/^ready$/m.test(this.output)) started();
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.ready = Promise.race([
      ready,
      this.exited.then(() => {
        throw new Error(`The worker exited before it was ready:\n${this.output}`);
      }),
    ]);
    this.ready.catch(() => undefined);
  }

  static start(args: ExecutionChildArgs): WorkerProcess {
    return new WorkerProcess(
      spawn(process.execPath, ['--require', 'tsx/cjs', CHILD, JSON.stringify(args)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGKILL: no handler runs, nothing is flushed, sockets die with the process. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: the relay finishes what it holds and the process exits. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

function executionDeps(
  storage: TableStorage,
  directory: GraphTenantDirectory,
): ExecutionDeps & { readonly outbox: TableStorage['outbox'] } {
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
    runs: storage.runs,
    passwords: storage.passwords,
    directory,
  };
}

async function onboardContoso(deps: ExecutionDeps): Promise<void> {
  const profile = contosoProfile();
  const asInput = (list: typeof profile.admins) => list.map((p) => ({ oid: p.oid, name: p.name }));
  const result = await onboardClient(deps, {
    operator: { tid: people.lena.tid, oid: people.lena.oid },
    tenantId: profile.tenantId,
    code: profile.code,
    name: profile.name,
    admins: asInput(profile.admins),
    approvers: asInput(profile.approvers),
    techs: asInput(profile.techs),
    leads: asInput(profile.leads),
    timeZone: profile.settings.timeZone,
  });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
}

/** Carla raises it, Tina assesses it and sends it for approval, Andy approves it. */
async function approved(deps: ExecutionDeps, type: CrashCase['type']): Promise<ChangeRequest> {
  const fields =
    type === 'offboard'
      ? validFields('offboard', {
          userPrincipalName: lee.userPrincipalName,
          convertToSharedMailbox: 'false',
          removeLicences: 'true',
        })
      : validFields('new_user', {
          givenName: 'Nia',
          surname: 'Newcomer',
          displayName: 'Nia Newcomer',
          userPrincipalName: NEW_USER_UPN,
          managerUpn: contoso.users.andy.userPrincipalName,
          licenceSkus: 'SPB',
          groups: `${contoso.groups.salesTeam.displayName}, ${contoso.groups.allStaff.displayName}`,
        });
  const submitted = await submitChange(deps, { actor: people.carla, type, fields });
  assert.ok(submitted.ok, submitted.ok ? '' : submitted.error.message);
  const sent = await sendToApprovers(deps, submitted.value.request, { technician: people.tina });
  const decided = await decideApproval(deps, {
    actor: people.andy,
    requestId: sent.id,
    version: sent.version,
    decision: 'approve',
  });
  assert.equal(decided.kind, 'decided');
  return decided.kind === 'decided' ? decided.request : sent;
}

/**
 * Tina previews and executes. The offboarding keeps Lee in the mail-enabled list (a checklist task
 * otherwise), so the run needs no person to finish.
 */
async function started(deps: ExecutionDeps, request: ChangeRequest): Promise<RunId> {
  const options =
    request.type === 'offboard' ? { keepGroupIds: [contoso.groups.salesAnnouncements.id] } : {};
  const preview = await previewExecution(deps, {
    actor: people.tina,
    requestId: request.id,
    options,
  });
  assert.ok(preview.ok, preview.ok ? '' : preview.error.message);
  assert.deepEqual(preview.value.plan.checklist, []);
  const result = await startExecution(deps, {
    actor: people.tina,
    requestId: request.id,
    version: request.version,
    options,
    previewDigest: preview.value.digest,
  });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.value.run.id;
}

async function storedRun(storage: TableStorage, runId: RunId): Promise<ExecutionRun> {
  const stored = await storage.runs.get(CONTOSO_TENANT_ID, runId);
  assert.ok(stored, `run ${runId} is not stored`);
  return stored.run;
}

/** Polls until `check` gives a value; a scenario that never gets there fails on mocha's timeout. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (const deadline = Date.now() + SCENARIO_BUDGET_MS; Date.now() < deadline; ) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`Gave up waiting for ${what}.`);
}

/**
 * The Graph requests the run's record says were applied: each step's forward command unless it
 * never ran or was refused, and its compensation once compensated. Compared as a multiset with
 * the sandbox's log of applied mutations, so a repeat anywhere shows as an extra entry.
 */
function assertEachMutationOnce(tenant: SandboxTenant, run: ExecutionRun): void {
  const expected: string[] = [];
  for (const s of run.plan!.steps) {
    const status = run.steps.find((p) => p.id === s.id)!.status;
    if (status === 'done' || status === 'compensated')
      expected.push(graphCall(s.forward, run.createdUserId));
    if (status === 'compensated') expected.push(graphCall(s.compensation!, run.createdUserId));
  }
  const applied = tenant.mutationLog().map((m) => `${m.method} ${m.path}`);
  assert.deepEqual([...applied].sort(), expected.sort(), 'each Graph mutation applied once');
}

/** The Graph request a command becomes (method and path, as the sandbox logs it). */
function graphCall(command: DirectoryCommand, createdUserId: string | undefined): string {
  const user = (id: string) => (id === CREATED_USER ? createdUserId! : id);
  switch (command.kind) {
    case 'user.create':
      return 'POST /users';
    case 'user.update':
      return `PATCH /users/${user(command.userId)}`;
    case 'user.delete':
      return `DELETE /users/${user(command.userId)}`;
    case 'user.restore':
      return `POST /directory/deletedItems/${user(command.userId)}/restore`;
    case 'user.revokeSessions':
      return `POST /users/${user(command.userId)}/revokeSignInSessions`;
    case 'user.setAutoReply':
      return `PATCH /users/${user(command.userId)}/mailboxSettings`;
    case 'user.setManager':
      return `PUT /users/${user(command.userId)}/manager/$ref`;
    case 'user.removeManager':
      return `DELETE /users/${user(command.userId)}/manager/$ref`;
    case 'user.assignLicences':
      return `POST /users/${user(command.userId)}/assignLicense`;
    case 'group.add':
      return `POST /groups/${command.groupId}/${command.relation}s/$ref`;
    case 'group.remove':
      return `DELETE /groups/${command.groupId}/${command.relation}s/${user(command.userId)}/$ref`;
  }
}

type Transition =
  | 'started'
  | 'succeeded'
  | 'verified'
  | 'failed'
  | 'compensating'
  | 'compensated'
  | 'verified-compensated';

const TRANSITIONS: Readonly<Record<string, Transition>> = {
  'execution.step_started': 'started',
  'execution.step_succeeded': 'succeeded',
  'execution.step_failed': 'failed',
  'execution.step_compensating': 'compensating',
  'execution.step_compensated': 'compensated',
};

/**
 * The chain verifies, and holds every step transition in order: per step, what the run went
 * through (a step killed after its write is read back, `verified`, never sent again; one killed
 * before it is sent a second time); forward waves in plan order, then compensations in the reverse
 * order the steps were done.
 */
async function assertAuditTrail(
  storage: TableStorage,
  run: ExecutionRun,
  killed: readonly string[],
  killPhase: HoldOptions['phase'],
): Promise<void> {
  assert.equal((await verifyAuditChain(storage.audit, CONTOSO_TENANT_ID)).ok, true);
  const entries = (await storage.audit.read(CONTOSO_TENANT_ID)).map(
    (e) => JSON.parse(e.canonical) as { type: string; payload: Record<string, unknown> },
  );
  const types = entries.map((e) => e.type);
  const first = (type: string) => types.indexOf(type);
  assert.ok(first('execution.queued') < first('execution.planned'));
  assert.equal(types.filter((t) => t === 'execution.finished').length, 1);

  const trail = entries.flatMap((e, seq) => {
    const transition = TRANSITIONS[e.type];
    const stepId = e.payload['stepId'];
    if (!transition || typeof stepId !== 'string') return [];
    const verified = e.payload['verified'] === true;
    const shown: Transition =
      verified && transition === 'succeeded'
        ? 'verified'
        : verified && transition === 'compensated'
          ? 'verified-compensated'
          : transition;
    return [{ seq, stepId, transition: shown }];
  });
  assert.ok(trail.every((t) => t.seq > first('execution.planned')));
  assert.ok(trail.every((t) => t.seq < first('execution.finished')));

  const undoing = run.steps.some((p) => p.status === 'compensated');
  for (const s of run.plan!.steps) {
    const status = run.steps.find((p) => p.id === s.id)!.status;
    const isKilled = killed.includes(s.id);
    const forwardKilled = isKilled && !undoing;
    const forward: Transition[] =
      status === 'pending'
        ? []
        : status === 'failed'
          ? ['started', 'failed']
          : forwardKilled && killPhase === 'after'
            ? ['started', 'verified']
            : forwardKilled
              ? ['started', 'started', 'succeeded']
              : ['started', 'succeeded'];
    const undo: Transition[] =
      status !== 'compensated'
        ? []
        : isKilled && killPhase === 'after'
          ? ['compensating', 'verified-compensated']
          : isKilled
            ? ['compensating', 'compensating', 'compensated']
            : ['compensating', 'compensated'];
    assert.deepEqual(
      trail.filter((t) => t.stepId === s.id).map((t) => t.transition),
      [...forward, ...undo],
      `audit trail of step ${s.id}`,
    );
  }

  const waveOf = new Map(run.plan!.steps.map((s) => [s.id, s.wave]));
  const isForward = (t: Transition) => ['started', 'succeeded', 'verified', 'failed'].includes(t);
  const forwardWaves = trail
    .filter((t) => isForward(t.transition))
    .map((t) => waveOf.get(t.stepId)!);
  assert.deepEqual(
    forwardWaves,
    [...forwardWaves].sort((a, b) => a - b),
    'waves in plan order',
  );
  const lastForward = Math.max(...trail.filter((t) => isForward(t.transition)).map((t) => t.seq));
  const undone = trail.filter((t) => !isForward(t.transition));
  assert.ok(
    undone.every((t) => t.seq > lastForward),
    'compensations after every forward step',
  );
  const doneOrder = run
    .plan!.steps.filter((s) => run.steps.find((p) => p.id === s.id)!.status === 'compensated')
    .sort((a, b) => orderOf(run, b.id) - orderOf(run, a.id))
    .map((s) => s.id);
  assert.deepEqual(
    undone.filter((t) => t.transition !== 'compensating').map((t) => t.stepId),
    doneOrder,
    'compensated in the reverse order the steps were done',
  );
}

function orderOf(run: ExecutionRun, stepId: string): number {
  return run.steps.find((p) => p.id === stepId)?.order ?? 0;
}

/** Completed: Lee offboarded. Compensated: Lee as before (sessions revoked cannot be undone). */
function assertOffboarded(
  tenant: SandboxTenant,
  before: InspectedUser,
  run: ExecutionRun,
  ends: CrashCase['ends'],
): void {
  const now = tenant.user(lee.id);
  assert.ok(now, 'Lee still exists');
  const { sessionsRevokedAt: _before, ...restorable } = before;
  const { sessionsRevokedAt, ...current } = now;
  if (ends === 'compensated') {
    assert.deepEqual(current, restorable, 'Lee is as before');
    return;
  }
  const left = run.plan!.steps.flatMap((s) =>
    s.forward.kind === 'group.remove' ? [s.forward.groupId] : [],
  );
  assert.equal(now.accountEnabled, false);
  assert.ok(sessionsRevokedAt);
  assert.equal(now.autoReply.status, 'alwaysEnabled');
  assert.equal(now.managerId, undefined);
  assert.deepEqual(now.licences, []);
  assert.deepEqual(
    now.memberOf,
    before.memberOf.filter((g) => !left.includes(g)),
  );
  assert.ok(now.memberOf.includes(contoso.groups.salesAnnouncements.id));
}

/** Completed: one Nia, licensed, in both groups, reporting to Andy, her password kept. Compensated: no Nia. */
async function assertNewUser(
  tenant: SandboxTenant,
  storage: TableStorage,
  run: ExecutionRun,
  ends: CrashCase['ends'],
): Promise<void> {
  const nias = tenant.users().filter((u) => u.userPrincipalName === NEW_USER_UPN);
  const available = await storage.passwords.available(CONTOSO_TENANT_ID, run.id, new Date());
  if (ends === 'compensated') {
    assert.deepEqual(nias, []);
    assert.equal(available, false, 'the password of an undone account is gone');
    return;
  }
  assert.equal(nias.length, 1, 'exactly one account was created');
  const nia = nias[0]!;
  assert.equal(nia.id, run.createdUserId);
  assert.deepEqual(
    nia.licences.map((l) => l.skuPartNumber),
    ['SPB'],
  );
  assert.deepEqual(
    [...nia.memberOf].sort(),
    [contoso.groups.allStaff.id, contoso.groups.salesTeam.id].sort(),
  );
  assert.equal(nia.managerId, contoso.users.andy.id);
  assert.equal(available, true, 'the temporary password waits for the requester');
}
