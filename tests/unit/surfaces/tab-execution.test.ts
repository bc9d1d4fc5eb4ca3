import { strict as assert } from 'node:assert';
import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import { createLocalJWKSet } from 'jose';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import { ExecutionWorker, type ExecutionDeps } from '../../../src/application/use-cases/execution';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import type { Person } from '../../../src/domain/change-request/change-request';
import { startHttpServer, type RunningHttpServer } from '../../../src/surfaces/http/server';
import { createTabSurface } from '../../../src/surfaces/tab/tab-surface';
import type {
  PlanView,
  RequestDetailView,
  RunView,
  TimelineEntryView,
} from '../../../src/surfaces/tab/tab-views.mapper';
import { InMemoryTenantDirectory, badRequest } from '../../fakes/in-memory-directory';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  seedClients,
  validFields,
  type Harness,
} from '../../support/fixtures';
import { TAB_CLIENT_ID, mintTabToken, signingKey, type SigningKey } from '../../support/tab-tokens';
import { sendToApprovers } from '../../support/approval-flow';

interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly issues?: readonly { readonly field: string; readonly message: string }[];
}

/** An answer: its status and its body, read as the view `T` or as an error (tests check which). */
interface Json<T> {
  readonly status: number;
  readonly body: T & { readonly error: ErrorBody };
}

interface DetailBody {
  readonly request: RequestDetailView;
  readonly execution: 'available' | 'unavailable';
  readonly wizard?: { readonly defaults: Readonly<Record<string, unknown>> };
  readonly runs: readonly RunView[];
  readonly timeline: readonly TimelineEntryView[];
}

interface PreviewBody {
  readonly plan: PlanView;
  readonly digest: string;
  readonly version: number;
  readonly options: Readonly<Record<string, unknown>>;
}

interface RunBody {
  readonly run: RunView;
}

const LEAVER = 'leaver@contoso.example';

describe('Tab execution API', () => {
  let key: SigningKey;
  let h: Harness;
  let directory: InMemoryTenantDirectory;
  let execution: ExecutionDeps;
  let http: RunningHttpServer;
  let requestId: string;

  before(async () => {
    key = await signingKey();
  });

  async function start(withExecution = true): Promise<void> {
    const tab = createTabSurface({
      useCases: h.deps,
      ...(withExecution ? { execution } : {}),
      auth: { clientId: TAB_CLIENT_ID, keySetFor: () => createLocalJWKSet({ keys: [key.jwk] }) },
      log: () => undefined,
    });
    http = await startHttpServer(
      {
        bot: {} as Application<TurnState>,
        adapter: {} as TeamsAdapter,
        readiness: () => Promise.resolve(),
        allowServiceUrl: () => false,
        log: () => undefined,
        tab,
      },
      { host: '127.0.0.1', port: 0 },
    );
  }

  beforeEach(async () => {
    h = createHarness();
    await seedClients(h);
    directory = new InMemoryTenantDirectory();
    const contoso = directory.tenant(CONTOSO_TENANT_ID);
    const sku = contoso.addSku({ skuPartNumber: 'SPB', enabledUnits: 5 });
    const boss = contoso.addUser({
      userPrincipalName: 'boss@contoso.example',
      displayName: 'Bo Boss',
    });
    const leaver = contoso.addUser({
      userPrincipalName: LEAVER,
      displayName: 'Lee Leaver',
      managerId: boss.id,
      assignedLicences: [{ skuId: sku.skuId, disabledPlans: [] }],
    });
    contoso.addGroup({ displayName: 'Finance', members: [leaver.id] });
    execution = {
      ...h.deps,
      runs: h.storage.runs,
      passwords: h.storage.passwords,
      directory,
    };
    const submitted = await submitChange(h.deps, {
      actor: people.carla,
      type: 'offboard',
      fields: validFields('offboard', {
        userPrincipalName: LEAVER,
        convertToSharedMailbox: 'false',
        removeLicences: 'true',
      }),
    });
    assert.ok(submitted.ok);
    const sent = await sendToApprovers(h.deps, submitted.value.request);
    requestId = sent.id;
    const decided = await decideApproval(h.deps, {
      actor: people.andy,
      requestId,
      version: sent.version,
      decision: 'approve',
    });
    assert.equal(decided.kind, 'decided');
    await start();
  });

  afterEach(() => http.close());

  async function call<T = unknown>(who: Person, path: string, body?: unknown): Promise<Json<T>> {
    const token = await mintTabToken(who, {
      key,
      now: Math.floor(h.clock.now().getTime() / 1000),
    });
    const response = await fetch(`${http.url}/api/tab/requests/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json<T>['body'] };
  }

  /** Drives the run as the relay would, ticking nothing, until it ends or waits for a person. */
  async function drive(runId: string): Promise<void> {
    const worker = new ExecutionWorker(execution);
    for (let i = 0; i < 20; i++) {
      const outcome = await worker.drive(CONTOSO_TENANT_ID, runId);
      if (outcome.status === 'settled') return;
      h.clock.advance(Math.max(0, outcome.at.getTime() - h.clock.now().getTime()) + 1);
    }
    assert.fail(`run ${runId} did not settle`);
  }

  it('offers the technician the wizard pre-filled from the request', async () => {
    const detail = await call<DetailBody>(people.tina, requestId);

    assert.equal(detail.status, 200);
    assert.equal(detail.body.execution, 'available');
    assert.equal(detail.body.wizard?.defaults.userPrincipalName, LEAVER);
    assert.equal(detail.body.wizard?.defaults.removeLicences, true);
    assert.deepEqual(detail.body.runs, []);
  });

  it('previews the plan without changing the directory', async () => {
    const preview = await call<PreviewBody>(people.tina, `${requestId}/preview`, { options: {} });

    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    const plan = preview.body.plan;
    assert.equal(plan.subject.userPrincipalName, LEAVER);
    assert.ok(plan.steps.length > 0);
    assert.ok(plan.pointOfNoReturn >= 0 && plan.pointOfNoReturn <= plan.steps.length);
    assert.ok(plan.steps.every((step) => !('forward' in step)));
    assert.equal(preview.body.version, 2, 'the assessed, approved version');
    assert.match(preview.body.digest, /^[0-9a-f]{64}$/);
    assert.deepEqual(directory.applied, []);
  });

  it('shows refusals: a field to fix, another user, a user not in the directory', async () => {
    const badField = await call(people.tina, `${requestId}/preview`, {
      options: { autoReply: { enabled: true, message: '' } },
    });
    const otherUser = await call(people.tina, `${requestId}/preview`, {
      options: { userPrincipalName: 'someone.else@contoso.example' },
    });
    directory.tenant(CONTOSO_TENANT_ID).users.clear();
    const missing = await call(people.tina, `${requestId}/preview`, { options: {} });

    assert.equal(badField.status, 400);
    assert.equal(badField.body.error.issues?.[0]?.field, 'autoReply.message');
    assert.equal(otherUser.status, 400);
    assert.match(otherUser.body.error.message, /must stay leaver@contoso\.example/);
    assert.equal(missing.status, 409);
    assert.equal(missing.body.error.code, 'EXEC.USER_NOT_FOUND');
    assert.match(missing.body.error.message, /No user leaver@contoso\.example/);
  });

  it('lets only the client’s technicians plan and run', async () => {
    const carla = await call(people.carla, `${requestId}/preview`, {});
    const theo = await call(people.theo, `${requestId}/preview`, {});
    const theoRun = await call(people.theo, `${requestId}/runs`, { version: 2 });

    assert.equal(carla.status, 403);
    assert.equal(carla.body.error.code, 'CR.NOT_STAFF');
    assert.equal(theo.status, 404);
    assert.equal(theoRun.status, 404);
  });

  it('executes in the background, shows progress, and rolls back', async () => {
    const preview = await call<PreviewBody>(people.tina, `${requestId}/preview`, { options: {} });
    const started = await call<RunBody>(people.tina, `${requestId}/runs`, {
      version: preview.body.version,
      options: preview.body.options,
      previewDigest: preview.body.digest,
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.run.id;
    assert.equal(started.body.run.status, 'queued');
    assert.deepEqual(directory.applied, []);

    const again = await call(people.tina, `${requestId}/runs`, { version: preview.body.version });
    const stale = await call(people.tina, `${requestId}/runs`, { version: 7 });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'EXEC.RUN_ACTIVE');
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, 'CR.STALE_VERSION');
    assert.match(stale.body.error.message, /Reload the page/);

    await drive(runId);
    const finished = await call<RunBody>(people.tina, `${requestId}/runs/${runId}`);
    assert.equal(finished.status, 200);
    assert.equal(finished.body.run.status, 'completed', JSON.stringify(finished.body.run));
    assert.ok(finished.body.run.steps.every((step) => step.status === 'done'));
    assert.equal(finished.body.run.canRollBack, true);
    const leaver = directory.tenant(CONTOSO_TENANT_ID).byUpn(LEAVER)!;
    assert.equal(leaver.accountEnabled, false);

    const detail = await call<DetailBody>(people.carla, requestId);
    assert.equal(detail.body.request.status, 'implemented');
    assert.deepEqual(
      detail.body.runs.map((r) => [r.id, r.status]),
      [[runId, 'completed']],
    );
    assert.ok(detail.body.timeline.some((e) => e.type === 'execution.step_succeeded'));
    assert.ok(
      detail.body.timeline.some(
        (e) => e.type === 'access.revoked' && e.text === `${LEAVER} lost member of Finance`,
      ),
      JSON.stringify(detail.body.timeline.filter((e) => e.type.startsWith('access.'))),
    );

    const rollback = await call<RunBody>(people.tina, `${requestId}/runs/${runId}/rollback`, {});
    assert.equal(rollback.status, 202, JSON.stringify(rollback.body));
    assert.equal(rollback.body.run.kind, 'rollback');
    await drive(rollback.body.run.id);
    const undone = await call<RunBody>(people.tina, `${requestId}/runs/${rollback.body.run.id}`);
    assert.equal(undone.body.run.status, 'completed');
    assert.equal(directory.tenant(CONTOSO_TENANT_ID).byUpn(LEAVER)!.accountEnabled, true);
    assert.equal(
      (await call<DetailBody>(people.tina, requestId)).body.request.status,
      'rolled_back',
    );
  });

  it('names each group a plan removes, and leaves out a group the technician keeps', async () => {
    const finance = [...directory.tenant(CONTOSO_TENANT_ID).groups.values()].find(
      (g) => g.displayName === 'Finance',
    )!;

    const removing = await call<PreviewBody>(people.tina, `${requestId}/preview`, { options: {} });
    const keeping = await call<PreviewBody>(people.tina, `${requestId}/preview`, {
      options: { keepGroupIds: [finance.id] },
    });

    assert.deepEqual(
      removing.body.plan.steps.filter((s) => s.access).map((s) => s.access),
      [{ change: 'revoked', resourceId: finance.id, resourceName: 'Finance', relation: 'member' }],
    );
    assert.equal(keeping.status, 200, JSON.stringify(keeping.body));
    assert.deepEqual(
      keeping.body.plan.steps.filter((s) => s.access),
      [],
    );
    assert.deepEqual(keeping.body.options.keepGroupIds, [finance.id]);
    assert.ok(keeping.body.plan.notes.some((n) => /stays in Finance/.test(n)));
  });

  /** Previews with the defaults, executes, and drives the run until it ends. */
  async function runToTheEnd(): Promise<RunView> {
    const preview = await call<PreviewBody>(people.tina, `${requestId}/preview`, { options: {} });
    const started = await call<RunBody>(people.tina, `${requestId}/runs`, {
      version: preview.body.version,
      options: preview.body.options,
      previewDigest: preview.body.digest,
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await drive(started.body.run.id);
    return (await call<RunBody>(people.tina, `${requestId}/runs/${started.body.run.id}`)).body.run;
  }

  it('shows an undone run with why, what was undone, what stays and what never started', async () => {
    directory.inject((c) => c.kind === 'group.remove', badRequest('Group is locked'), Infinity);

    const run = await runToTheEnd();

    assert.equal(run.status, 'compensated', JSON.stringify(run));
    assert.match(run.reason ?? '', /Remove Lee Leaver from Finance .*Group is locked.* failed/);
    assert.deepEqual(run.outcome, {
      failed: [
        'Remove Lee Leaver from Finance (security group) — Group is locked (Request_BadRequest, HTTP 400)',
      ],
      inPlace: ['Sign Lee Leaver out everywhere (revoke sessions)'],
      undone: [
        'Block sign-in for Lee Leaver',
        'Turn on the auto-reply of Lee Leaver',
        'Clear the manager of Lee Leaver (now Bo Boss)',
      ],
      notStarted: ['Remove the licences of Lee Leaver: Microsoft 365 Business Premium'],
      doneByHand: [],
    });
  });

  it('shows a run left to a person with why and everything still in place', async () => {
    directory.inject(
      (c) => c.kind === 'user.assignLicences',
      badRequest('Licences are locked'),
      Infinity,
    );

    const run = await runToTheEnd();

    assert.equal(run.status, 'needs_manual', JSON.stringify(run));
    assert.match(run.reason ?? '', /Remove the licences of Lee Leaver.*Licences are locked/);
    assert.deepEqual(run.outcome?.failed, [
      'Remove the licences of Lee Leaver: Microsoft 365 Business Premium — Licences are locked (Request_BadRequest, HTTP 400)',
    ]);
    assert.deepEqual(run.outcome?.undone, []);
    assert.deepEqual(run.outcome?.notStarted, []);
    assert.ok(run.outcome?.inPlace.includes('Block sign-in for Lee Leaver'));
  });

  it('gives no outcome summary for a completed run', async () => {
    const run = await runToTheEnd();

    assert.equal(run.status, 'completed');
    assert.equal(run.outcome, undefined);
  });

  it('ticks a checklist task with a note', async () => {
    await http.close();
    const withMailbox = await submitChange(h.deps, {
      actor: people.carla,
      type: 'offboard',
      fields: validFields('offboard', {
        userPrincipalName: LEAVER,
        convertToSharedMailbox: 'true',
        removeLicences: 'true',
        title: 'Offboard with a shared mailbox',
      }),
    });
    assert.ok(withMailbox.ok);
    const sentWithMailbox = await sendToApprovers(h.deps, withMailbox.value.request);
    const id = sentWithMailbox.id;
    assert.equal(
      (
        await decideApproval(h.deps, {
          actor: people.andy,
          requestId: id,
          version: sentWithMailbox.version,
          decision: 'approve',
        })
      ).kind,
      'decided',
    );
    await start();
    const preview = await call<PreviewBody>(people.tina, `${id}/preview`, { options: {} });
    const item = preview.body.plan.checklist[0]!;
    assert.ok(item, 'a shared-mailbox conversion is a checklist task');
    const started = await call<RunBody>(people.tina, `${id}/runs`, {
      version: preview.body.version,
      options: preview.body.options,
      previewDigest: preview.body.digest,
    });
    await drive(started.body.run.id);

    const ticked = await call<RunBody>(
      people.tina,
      `${id}/runs/${started.body.run.id}/checklist/${item.id}`,
      {
        note: 'Converted in the Exchange admin center',
      },
    );
    const byClient = await call(
      people.carla,
      `${id}/runs/${started.body.run.id}/checklist/${item.id}`,
      {},
    );

    assert.equal(ticked.status, 200, JSON.stringify(ticked.body));
    const progress = ticked.body.run.checklist.find((c) => c.id === item.id)!;
    assert.deepEqual(
      { done: progress.done, by: progress.by, note: progress.note },
      { done: true, by: people.tina.name, note: 'Converted in the Exchange admin center' },
    );
    assert.equal(byClient.status, 403);
  });

  it('shows a licence change refused for want of seats, with what to do', async () => {
    directory
      .tenant(CONTOSO_TENANT_ID)
      .addSku({ skuPartNumber: 'ENTERPRISEPACK', enabledUnits: 0 });
    const raised = await submitChange(h.deps, {
      actor: people.carla,
      type: 'licence_change',
      fields: validFields('licence_change', { userPrincipalName: LEAVER }),
    });
    assert.ok(raised.ok);
    const sent = await sendToApprovers(h.deps, raised.value.request);
    const id = sent.id;
    assert.equal(
      (
        await decideApproval(h.deps, {
          actor: people.andy,
          requestId: id,
          version: sent.version,
          decision: 'approve',
        })
      ).kind,
      'decided',
    );

    const detail = await call<DetailBody>(people.tina, id);
    const preview = await call(people.tina, `${id}/preview`, { options: {} });

    assert.deepEqual(detail.body.wizard?.defaults.addSkus, ['ENTERPRISEPACK']);
    assert.equal(preview.status, 409);
    assert.equal(preview.body.error.code, 'EXEC.NO_FREE_SEATS');
    assert.match(preview.body.error.message, /no free seats .*buy a seat or free one/);
  });

  it('says execution is unavailable without a Graph connection', async () => {
    await http.close();
    await start(false);

    const detail = await call<DetailBody>(people.tina, requestId);
    const preview = await call(people.tina, `${requestId}/preview`, {});

    assert.equal(detail.body.execution, 'unavailable');
    assert.equal(detail.body.wizard, undefined);
    assert.equal(preview.status, 503);
    assert.equal(preview.body.error.code, 'EXEC.UNAVAILABLE');
  });
});
