import { strict as assert } from 'node:assert';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import { sendToApprovers } from '../../support/approval-flow';
import {
  ExecutionWorker,
  startExecution,
  type ExecutionDeps,
} from '../../../src/application/use-cases/execution';
import type { ExecutionStore } from '../../../src/application/ports/execution-store';
import type { DriveOutcome } from '../../../src/application/ports/outbox';
import type { ChangeRequest, Person } from '../../../src/domain/change-request/change-request';
import type { ChangeType } from '../../../src/domain/change-request/change-request.payloads';
import type { ExecutionRun } from '../../../src/domain/execution/execution-run';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  seedClients,
  validFields,
  type Harness,
} from '../../support/fixtures';
import { InMemoryTenantDirectory, type FakeTenant } from '../../fakes/in-memory-directory';

export const LEASE_MS = 60_000;

export interface ExecutionHarness extends Harness {
  readonly directory: InMemoryTenantDirectory;
  readonly contoso: FakeTenant;
  readonly execution: ExecutionDeps;
  worker(id?: string, store?: ExecutionStore): ExecutionWorker;
}

/**
 * Contoso with a small directory: Lee Leaver (Business Premium, in Finance, Team, a distribution
 * list and a dynamic group, managed by Bea Boss, with an auto-reply of their own), and seats left.
 */
export async function executionHarness(
  options: { readonly together?: boolean } = {},
): Promise<ExecutionHarness> {
  const base = createHarness();
  await seedClients(base);
  const directory = new InMemoryTenantDirectory();
  const contoso = directory.tenant(CONTOSO_TENANT_ID);
  contoso.addSku({ skuId: 'sku-spb', skuPartNumber: 'SPB', enabledUnits: 25 });
  contoso.addSku({ skuId: 'sku-e3', skuPartNumber: 'ENTERPRISEPACK', enabledUnits: 5 });
  const boss = contoso.addUser({
    id: 'u-boss',
    userPrincipalName: 'boss@contoso.example',
    displayName: 'Bea Boss',
  });
  const leaver = contoso.addUser({
    id: 'u-leaver',
    userPrincipalName: 'leaver@contoso.example',
    displayName: 'Lee Leaver',
    managerId: boss.id,
    assignedLicences: [{ skuId: 'sku-spb', disabledPlans: ['plan-teams'] }],
    autoReply: {
      status: 'scheduled',
      externalAudience: 'contactsOnly',
      internalReplyMessage: 'Back Monday',
      externalReplyMessage: 'Back Monday',
      scheduledStart: '2026-11-20T00:00:00Z',
      scheduledEnd: '2026-11-30T00:00:00Z',
    },
  });
  contoso.addUser({
    id: 'u-jane',
    userPrincipalName: 'jane.doe@contoso.example',
    displayName: 'Jane Doe',
    assignedLicences: [{ skuId: 'sku-e3', disabledPlans: [] }],
  });
  contoso.addGroup({ id: 'g-finance', displayName: 'Finance', members: [leaver.id] });
  contoso.addGroup({
    id: 'g-team',
    displayName: 'Team',
    groupTypes: ['Unified'],
    mailEnabled: true,
    members: [leaver.id],
  });
  contoso.addGroup({
    id: 'g-news',
    displayName: 'Newsletter',
    mailEnabled: true,
    securityEnabled: false,
    members: [leaver.id],
  });
  contoso.addGroup({
    id: 'g-sales',
    displayName: 'All Sales',
    groupTypes: ['DynamicMembership'],
    members: [leaver.id],
  });
  const execution: ExecutionDeps = {
    ...base.deps,
    runs: base.storage.runs,
    passwords: base.storage.passwords,
    directory,
    execution: { together: options.together ?? true, leaseMs: LEASE_MS, workerId: 'worker-a' },
  };
  return {
    ...base,
    directory,
    contoso,
    execution,
    worker: (id = 'worker-a', store = base.storage.runs) =>
      new ExecutionWorker({
        ...execution,
        runs: store,
        execution: { ...execution.execution, workerId: id },
      }),
  };
}

/** Raises a request of `type` as Carla, has Tina assess it and send it, and Andy approve it. */
export async function approvedRequest(
  h: Harness,
  type: ChangeType,
  overrides: Readonly<Record<string, unknown>> = {},
): Promise<ChangeRequest> {
  const submitted = await submitChange(h.deps, {
    actor: people.carla,
    type,
    fields: validFields(type, overrides),
  });
  assert.ok(submitted.ok, submitted.ok ? '' : submitted.error.message);
  const sent = await sendToApprovers(h.deps, submitted.value.request);
  const decided = await decideApproval(h.deps, {
    actor: people.andy,
    requestId: sent.id,
    version: sent.version,
    decision: 'approve',
  });
  assert.equal(decided.kind, 'decided');
  return decided.kind === 'decided' ? decided.request : submitted.value.request;
}

/** Starts a run as Tina with the wizard's options and fails the test if refused. */
export async function started(
  h: ExecutionHarness,
  request: ChangeRequest,
  options: Readonly<Record<string, unknown>> = {},
  actor: Person = people.tina,
): Promise<ExecutionRun> {
  const result = await startExecution(h.execution, {
    actor,
    requestId: request.id,
    version: request.version,
    options,
  });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.value.run;
}

/**
 * Drives a run as the relay would until it settles, moving the clock to each `later`. Returns
 * every outcome, the settling one last.
 */
export async function driveToRest(
  h: ExecutionHarness,
  runId: string,
  worker = h.worker(),
): Promise<DriveOutcome[]> {
  const outcomes: DriveOutcome[] = [];
  for (let i = 0; i < 50; i += 1) {
    const outcome = await worker.drive(CONTOSO_TENANT_ID, runId);
    outcomes.push(outcome);
    if (outcome.status === 'settled') return outcomes;
    const wait = outcome.at.getTime() - h.clock.now().getTime();
    if (wait > 0) h.clock.advance(wait);
  }
  throw new Error(`run ${runId} did not settle`);
}

export async function storedRun(h: ExecutionHarness, runId: string): Promise<ExecutionRun> {
  const stored = await h.storage.runs.get(CONTOSO_TENANT_ID, runId as ExecutionRun['id']);
  assert.ok(stored, `run ${runId} is not stored`);
  return stored.run;
}

export async function storedRequest(h: Harness, request: ChangeRequest): Promise<ChangeRequest> {
  const stored = await h.storage.requests.get(CONTOSO_TENANT_ID, request.id);
  assert.ok(stored);
  return stored.request;
}

/** Audit events of Contoso's chain, with their personal part opened. */
export async function auditTrail(h: Harness): Promise<
  {
    type: string;
    payload: Record<string, unknown>;
    personal?: Record<string, unknown>;
    canonical: string;
  }[]
> {
  const entries = await h.storage.audit.read(CONTOSO_TENANT_ID);
  return Promise.all(
    entries.map(async (e) => {
      const parsed = JSON.parse(e.canonical) as { type: string; payload: Record<string, unknown> };
      const personal = await h.storage.audit.openPersonal(CONTOSO_TENANT_ID, e);
      return {
        type: parsed.type,
        payload: parsed.payload,
        ...(personal ? { personal } : {}),
        canonical: e.canonical,
      };
    }),
  );
}

/** The restorable state of a user in the fake directory (sessions revoked cannot be undone). */
export function userState(t: FakeTenant, userId: string): unknown {
  const u = t.users.get(userId);
  if (!u) return undefined;
  const { sessionsRevoked: _revoked, ...rest } = u;
  return {
    ...structuredClone(rest),
    groups: [...t.groups.values()]
      .filter((g) => g.members.has(userId))
      .map((g) => g.id)
      .sort(),
  };
}
