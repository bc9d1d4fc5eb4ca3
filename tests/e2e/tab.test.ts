import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import { createLocalJWKSet } from 'jose';
import { decideApproval } from '../../src/application/use-cases/decide-approval';
import { ExecutionWorker, type ExecutionDeps } from '../../src/application/use-cases/execution';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import { submitChange } from '../../src/application/use-cases/submit-change';
import type { Person } from '../../src/domain/change-request/change-request';
import type { ChangeType } from '../../src/domain/change-request/change-request.payloads';
import { loadConfig, type Config } from '../../src/config';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { SANDBOX_DIRECTORY, type RunningMicrosoftCloud } from '../../src/sandbox/microsoft-cloud';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { startHttpServer, type RunningHttpServer } from '../../src/surfaces/http/server';
import { createTabSurface } from '../../src/surfaces/tab/tab-surface';
import { InMemoryTenantDirectory } from '../fakes/in-memory-directory';
import {
  CONTOSO_TENANT_ID,
  RecordingNotifier,
  createHarness,
  people,
  seedClients,
  validFields,
  type Harness,
} from '../support/fixtures';
import { BotClient, cardActions, cardText } from '../support/bot-client';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopback-connector';
import { startTestCloud } from '../support/microsoft-cloud-fixture';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { TAB_CLIENT_ID, mintTabToken, signingKey } from '../support/tab-tokens';

/**
 * The tab as a technician uses it outside Teams: the sandbox sign-in picker, the queue of their
 * clients' requests, a request's page and the offboarding wizard, in headless Chromium against the
 * tab's real HTTP server, with the execution engine driven by the outbox relay over an in-memory
 * client directory.
 */
describe('Cabinet tab in the browser', function () {
  this.timeout(120_000);
  let h: Harness;
  let http: RunningHttpServer | undefined;
  let tina: TabPage | undefined;
  let relay: OutboxRelay | undefined;
  let directory: InMemoryTenantDirectory;
  const ids = { offboard: '', general: '', fabrikam: '' };

  async function raise(requester: Person, type: ChangeType, fields: Record<string, unknown>) {
    const submitted = await submitChange(h.deps, {
      actor: requester,
      type,
      fields: validFields(type, fields),
    });
    assert.ok(submitted.ok, submitted.ok ? '' : submitted.error.message);
    return submitted.value.request;
  }

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      console.warn(`Skipping the tab browser test: ${CHROMIUM_PATH} is not installed.`);
      this.skip();
    }
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
      userPrincipalName: 'leaver@contoso.example',
      displayName: 'Lee Leaver',
      managerId: boss.id,
      assignedLicences: [{ skuId: sku.skuId, disabledPlans: [] }],
    });
    contoso.addGroup({ displayName: 'Finance', members: [leaver.id] });
    const execution: ExecutionDeps = {
      ...h.deps,
      runs: h.storage.runs,
      passwords: h.storage.passwords,
      directory,
      outboxWritten: (tenantId) => relay?.kick(tenantId),
    };
    relay = new OutboxRelay({
      outbox: h.storage.outbox,
      notifier: new RecordingNotifier(),
      clients: h.storage.clients,
      clock: h.clock,
      runs: new ExecutionWorker(execution),
    });
    relay.start(200);

    const offboard = await raise(people.carla, 'offboard', {
      title: 'Offboard Lee Leaver',
      userPrincipalName: 'leaver@contoso.example',
      convertToSharedMailbox: 'true',
      removeLicences: 'true',
    });
    const decided = await decideApproval(h.deps, {
      actor: people.andy,
      requestId: offboard.id,
      version: offboard.version,
      decision: 'approve',
    });
    assert.equal(decided.kind, 'decided');
    ids.offboard = offboard.id;
    ids.general = (await raise(people.carla, 'general', { title: 'Move the office printer' })).id;
    ids.fabrikam = (await raise(people.fiona, 'general', { title: 'Fabrikam firewall rule' })).id;

    const key = await signingKey();
    const sandboxPeople: Record<string, Person> = {
      tina: people.tina,
      theo: people.theo,
      carla: people.carla,
    };
    const tab = createTabSurface({
      useCases: execution,
      execution,
      auth: { clientId: TAB_CLIENT_ID, keySetFor: () => createLocalJWKSet({ keys: [key.jwk] }) },
      sandboxSignIn: {
        people: [
          { key: 'tina', name: people.tina.name, description: 'MSP technician — Contoso' },
          { key: 'theo', name: people.theo.name, description: 'MSP technician — Fabrikam' },
          { key: 'carla', name: people.carla.name, description: 'Client admin — Contoso' },
        ],
        issue: (person) =>
          mintTabToken(sandboxPeople[person]!, {
            key,
            now: Math.floor(h.clock.now().getTime() / 1000),
          }),
      },
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
    tina = await TabPage.open(`${http.url}/tab/`, { name: 'tab-tina' });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    await tina?.screenshot(`failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  after(async () => {
    await tina?.close();
    await http?.close();
    await relay?.stop();
  });

  it('signs Tina in through the sandbox picker and lists only her clients’ requests', async () => {
    await tina!.screenshot('01-sign-in');
    await tina!.signInAs(people.tina.name);
    await tina!.waitForQueue();

    assert.deepEqual(await tina!.queueClients(), ['Contoso Ltd']);
    assert.deepEqual((await tina!.queueRequestIds()).sort(), [ids.offboard, ids.general].sort());
    await tina!.screenshot('02-queue');

    await tina!.filterQueue('Ready to execute');
    assert.deepEqual(await tina!.queueRequestIds(), [ids.offboard]);
  });

  it('opens a request with the keyboard and shows what was asked and its timeline', async () => {
    const page = tina!.page;
    await page.getByRole('link', { name: new RegExp(`^${ids.offboard}\\b`) }).focus();
    await page.keyboard.press('Enter');
    await tina!.waitForRequest(ids.offboard);

    assert.equal(await tina!.requestStatus(), 'Approved');
    assert.ok(await page.getByText('leaver@contoso.example').isVisible());
    const timeline = await tina!.timeline();
    assert.match(timeline[0]!, /^Raised by Carla Admin/);
    assert.match(timeline.at(-1)!, /^Approved by Andy Approver → Approved/);
    assert.deepEqual(tina!.pageErrors, []);
    await tina!.screenshot('03-request');
  });

  it('opens a request from a deep link and fits a narrow Teams panel', async () => {
    await tina!.page.setViewportSize({ width: 340, height: 800 });
    await tina!.page.goto(`${http!.url}/tab?request=${ids.general}`);
    await tina!.waitForRequest(ids.general);

    const overflow = await tina!.horizontalOverflow();
    assert.equal(overflow, 0, 'the page scrolls sideways at 340 px');
    await tina!.screenshot('04-narrow');
  });

  it('says a request of another client’s is not found', async () => {
    await tina!.page.goto(`${http!.url}/tab/?request=${ids.fabrikam}`);

    await tina!.page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.match(await tina!.alert().innerText(), /was not found, or you do not have access/);
    assert.deepEqual(tina!.blockedRequests, []);
  });

  it('runs the offboarding wizard: plan, execute, checklist, progress to completed, roll back', async () => {
    const page = tina!.page;
    tina!.pageErrors.length = 0;
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(`${http!.url}/tab/?request=${ids.offboard}`);
    await tina!.waitForRequest(ids.offboard);

    assert.equal(await tina!.field('User').inputValue(), 'leaver@contoso.example');
    assert.equal(await tina!.field('User').getAttribute('readonly'), '');
    assert.ok(await tina!.executeButton().isDisabled());
    await tina!.previewPlan();
    const steps = await tina!.planSteps();
    assert.equal(steps[0], 'Block sign-in for Lee Leaver');
    assert.ok(await tina!.pointOfNoReturn().isVisible());
    assert.ok((await tina!.planChecklist()).some((t) => /shared mailbox/i.test(t)));
    assert.ok(await tina!.executeButton().isEnabled());
    await tina!.screenshot('05-plan');

    await tina!.field('Automatic reply').fill('I have left Contoso. Please write to the office.');
    assert.ok(await tina!.executeButton().isDisabled(), 'Execute waits for a fresh preview');
    await tina!.previewPlan();
    assert.deepEqual(directory.applied, [], 'previewing changes nothing');

    await tina!.execute();
    await tina!.waitForRunStatus('Waiting');
    await tina!.screenshot('06-waiting-for-checklist');
    const [task] = await tina!.openChecklistItems();
    assert.ok(task);
    await tina!.tickChecklistItem(task, 'Converted in the Exchange admin center');
    await tina!.waitForRunStatus('Completed');
    assert.ok((await tina!.runSteps()).every((s) => s.status === 'Done'));
    await page.locator('.request-meta .badge', { hasText: 'Implemented' }).waitFor();
    assert.equal(
      directory.tenant(CONTOSO_TENANT_ID).byUpn('leaver@contoso.example')!.accountEnabled,
      false,
    );
    await tina!.screenshot('07-completed');

    await tina!.rollBack();
    // The shared-mailbox conversion was done by hand, so the roll-back asks for it to be reversed by hand.
    await tina!.waitForRunStatus('Waiting');
    const [reverse] = await tina!.openChecklistItems();
    assert.match(reverse ?? '', /^Reverse by hand/);
    await tina!.tickChecklistItem(reverse!);
    await tina!.waitForRunStatus('Completed');
    await page.locator('.request-meta .badge', { hasText: 'Rolled back' }).waitFor();
    assert.equal(
      directory.tenant(CONTOSO_TENANT_ID).byUpn('leaver@contoso.example')!.accountEnabled,
      true,
    );
    assert.deepEqual(tina!.pageErrors, []);
    await tina!.screenshot('08-rolled-back');
  });
});

/**
 * The issue's browser scenario on the whole sandbox as `npm start` wires it: Azurite, the sandbox
 * Microsoft cloud behind the real Graph SDK and MSAL, the bot and the tab. Carla raises the
 * offboarding of Lee Leaver in Teams, Andy approves it, and Tina runs the wizard in the tab.
 */
describe('Offboarding from the tab against the sandbox cloud', function () {
  this.timeout(180_000);
  let azurite: RunningAzurite | undefined;
  let cloud: RunningMicrosoftCloud | undefined;
  let connector: LoopbackConnector | undefined;
  let cabinet: RunningCabinet | undefined;
  let tina: TabPage | undefined;
  const lee = SANDBOX_DIRECTORY.contoso.users.lee;

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      console.warn(`Skipping the tab browser test: ${CHROMIUM_PATH} is not installed.`);
      this.skip();
    }
    [azurite, cloud, connector] = await Promise.all([
      startAzurite(),
      startTestCloud(),
      startLoopbackConnector(),
    ]);
    const base = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `tab${randomUUID().slice(0, 8)}`,
      CABINET_RELAY_INTERVAL_MS: '100',
    });
    const config: Config = {
      ...base,
      graph: {
        clientId: cloud.app.clientId,
        clientSecret: cloud.app.clientSecret,
        sandboxCloud: { url: cloud.url, caCertificatePem: cloud.caCertificatePem },
      },
    };
    cabinet = await startCabinet(config, { log: () => undefined, sandbox: { cloud } });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    await tina?.screenshot(`failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  after(async () => {
    await tina?.close();
    await cabinet?.stop();
    await Promise.all([connector?.close(), cloud?.stop(), azurite?.stop()]);
  });

  it('previews the plan, executes it and follows it to completed; the client tenant ends offboarded', async () => {
    const bot = new BotClient(cabinet!.url, connector!.url);
    for (const user of [CONTOSO.carla, CONTOSO.andy, MSP.tina])
      assert.equal(await bot.install(user), 200);
    const submitted = await bot.invoke(CONTOSO.carla, CardVerbs.Submit, {
      type: 'offboard',
      title: 'Leaver: Lee Leaver',
      description: 'Lee leaves on Friday; keep the mailbox for the team.',
      userPrincipalName: lee.userPrincipalName,
      lastWorkingDay: '2030-01-31',
      convertToSharedMailbox: 'true',
      removeLicences: 'true',
    });
    const requestId = /CONTOSO-\d+/.exec(cardText(submitted.card))?.[0];
    assert.ok(requestId, cardText(submitted.card));
    const andyChat = `personal-${CONTOSO.andy.oid}`;
    await connector!.waitFor(() =>
      connector!.cardsIn(andyChat).some((c) => cardText(c).includes('Leaver: Lee Leaver')),
    );
    const approval = connector!
      .cardsIn(andyChat)
      .filter((c) => cardText(c).includes('Leaver: Lee Leaver'))
      .at(-1)!;
    const approve = cardActions(approval).find((a) => a.title === 'Approve')!;
    await bot.invoke(CONTOSO.andy, approve.verb, approve.data);

    tina = await TabPage.open(`${cabinet!.url}/tab/`, { name: 'tab-sandbox-tina' });
    await tina.signInAs(MSP.tina.name);
    await tina.waitForQueue();
    await tina.filterQueue('Ready to execute');
    assert.deepEqual(await tina.queueRequestIds(), [requestId]);
    await tina.screenshot('01-queue');
    await tina.openRequest(requestId);
    await tina.previewPlan();
    const steps = await tina.planSteps();
    assert.equal(steps[0], `Block sign-in for ${lee.displayName}`);
    assert.ok(await tina.pointOfNoReturn().isVisible());
    assert.ok(await tina.executeButton().isEnabled());
    assert.equal(cloud!.tenant(CONTOSO.tenantId).counters().mutations['PATCH /users/{id}'] ?? 0, 0);
    await tina.screenshot('02-plan');

    await tina.execute();
    await tina.screenshot('03-running');
    for (;;) {
      await tina.waitForRunStatus(/^(Waiting|Completed|Needs a person|Undone)$/);
      const status = await tina.runStatus();
      if (status !== 'Waiting') break;
      const [task] = await tina.openChecklistItems();
      if (task) await tina.tickChecklistItem(task, 'Done in the Exchange admin center');
      else await tina.waitForRunStatus(/^(Completed|Needs a person|Undone)$/);
    }
    assert.equal(await tina.runStatus(), 'Completed');
    assert.ok((await tina.runSteps()).every((s) => s.status === 'Done'));
    await tina.page.locator('.request-meta .badge', { hasText: 'Implemented' }).waitFor();
    await tina.screenshot('04-completed');

    const after = cloud!.tenant(CONTOSO.tenantId).user(lee.id)!;
    assert.equal(after.accountEnabled, false);
    assert.ok(after.sessionsRevokedAt, 'sessions revoked');
    assert.equal(after.managerId, undefined);
    assert.notEqual(after.autoReply.status, 'disabled');
    assert.deepEqual(
      after.licences.filter((l) => l.assignedByGroup === undefined),
      [],
      'direct licences removed',
    );
    assert.deepEqual(tina.blockedRequests, []);
    assert.deepEqual(tina.pageErrors, []);
  });
});
