import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import { createLocalJWKSet } from 'jose';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { decideApproval } from '../../src/application/use-cases/decide-approval';
import { ExecutionWorker, type ExecutionDeps } from '../../src/application/use-cases/execution';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import { submitChange } from '../../src/application/use-cases/submit-change';
import type { Person } from '../../src/domain/change-request/change-request';
import type { ChangeType } from '../../src/domain/change-request/change-request.payloads';
import { parseRequestId } from '../../src/domain/shared/ids';
import { loadConfig, type Config } from '../../src/config';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { sandboxGraphConfig, type RunningCabinet } from '../../src/sandbox/launcher';
import {
  SANDBOX_DIRECTORY,
  SANDBOX_SKUS,
  type RunningMicrosoftCloud,
} from '../../src/sandbox/microsoft-cloud';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { startHttpServer, type RunningHttpServer } from '../../src/surfaces/http/server';
import { createTabSurface } from '../../src/surfaces/tab/tab-surface';
import { InMemoryTenantDirectory, badRequest } from '../fakes/in-memory-directory';
import {
  CONTOSO_TENANT_ID,
  RecordingNotifier,
  createHarness,
  people,
  seedClients,
  validFields,
  type Harness,
} from '../support/fixtures';
import { sendToApprovers, takeChangesAnyTime, useCasesOn } from '../support/approval-flow';
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
  const ids = { offboard: '', general: '', fabrikam: '', stuck: '' };

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
    const mover = contoso.addUser({
      userPrincipalName: 'mover@contoso.example',
      displayName: 'Mo Mover',
      managerId: boss.id,
    });
    contoso.addGroup({ displayName: 'Support', members: [mover.id] });
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
    const sent = await sendToApprovers(h.deps, offboard, { technician: people.tina });
    const decided = await decideApproval(h.deps, {
      actor: people.andy,
      requestId: sent.id,
      version: sent.version,
      decision: 'approve',
    });
    assert.equal(decided.kind, 'decided');
    ids.offboard = offboard.id;
    const stuck = await raise(people.carla, 'offboard', {
      title: 'Offboard Mo Mover',
      userPrincipalName: 'mover@contoso.example',
      convertToSharedMailbox: 'false',
    });
    const stuckSent = await sendToApprovers(h.deps, stuck, { technician: people.tina });
    assert.equal(
      (
        await decideApproval(h.deps, {
          actor: people.andy,
          requestId: stuckSent.id,
          version: stuckSent.version,
          decision: 'approve',
        })
      ).kind,
      'decided',
    );
    ids.stuck = stuck.id;
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
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    await tina!.signInAs(people.tina.name);
    await tina!.waitForQueue();
    assert.deepEqual(await tina!.accessibilityProblems(), []);

    assert.deepEqual(await tina!.queueClients(), ['Contoso Ltd']);
    assert.deepEqual(
      (await tina!.queueRequestIds()).sort(),
      [ids.offboard, ids.general, ids.stuck].sort(),
    );
    await tina!.screenshot('02-queue');

    await tina!.filterQueue('Ready to execute');
    assert.deepEqual((await tina!.queueRequestIds()).sort(), [ids.offboard, ids.stuck].sort());
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
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    await tina!.previewPlan();
    const steps = await tina!.planSteps();
    assert.equal(steps[0], 'Block sign-in for Lee Leaver');
    assert.ok(await tina!.pointOfNoReturn().isVisible());
    assert.ok((await tina!.planChecklist()).some((t) => /shared mailbox/i.test(t)));
    assert.ok(await tina!.executeButton().isEnabled());
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    assert.match(await tina!.focused(), /^h3: Plan for Lee Leaver/, 'focus moves to the plan');
    assert.ok(
      (await tina!.announcements()).includes('Plan ready. Review it, then Execute.'),
      'the plan is announced',
    );
    assert.ok(
      (await tina!.focusWithKeyboard('Execute')) >= 2,
      'keyboard focus on Execute is outlined',
    );
    await tina!.screenshot('05-plan');

    await tina!.field('Automatic reply').fill('I have left Contoso. Please write to the office.');
    assert.ok(await tina!.executeButton().isDisabled(), 'Execute waits for a fresh preview');
    await tina!.previewPlan();
    assert.deepEqual(directory.applied, [], 'previewing changes nothing');

    await tina!.execute();
    assert.match(await tina!.focused(), /^h3: Run \S+/, 'focus follows the run just started');
    await tina!.waitForRunStatus('Waiting');
    await tina!.screenshot('06-waiting-for-checklist');
    const [task] = await tina!.openChecklistItems();
    assert.ok(task);
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    assert.ok(
      (await tina!.announcements()).some((a) =>
        /^Run \S+: Waiting\. Waiting for the technician/.test(a),
      ),
      JSON.stringify(await tina!.announcements()),
    );
    // A note half typed survives the panel reading the run's progress again.
    await tina!.checklistNote(task).fill('Converted in the Exchange');
    await tina!.waitForRunPoll();
    await tina!.waitForRunPoll();
    assert.equal(await tina!.checklistNote(task).inputValue(), 'Converted in the Exchange');
    assert.ok(await tina!.hasFocus(tina!.checklistNote(task)), 'the note keeps the focus');
    await tina!.tickChecklistItem(task, 'Converted in the Exchange admin center');
    await tina!.waitForRunStatus('Completed');
    assert.ok(
      (await tina!.announcements()).some((a) => /^Run \S+: Completed\./.test(a)),
      'completion is announced',
    );
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

  it('shows a run that stopped short: why, what was undone and what stays, announced', async () => {
    const page = tina!.page;
    directory.inject(
      (c) => c.kind === 'group.remove',
      badRequest('The group is locked by a retention policy.'),
      Infinity,
    );
    await page.goto(`${http!.url}/tab/?request=${ids.stuck}`);
    await tina!.waitForRequest(ids.stuck);
    await tina!.previewPlan();
    await tina!.execute();
    await tina!.waitForRunStatus('Undone');

    const outcome = tina!.runOutcome();
    assert.ok(await outcome.isVisible());
    assert.equal(
      await tina!.runOutcomeTitle(),
      'Stopped, and everything that could be undone was undone',
    );
    assert.match(
      await outcome.locator('.reason').innerText(),
      /Remove Mo Mover from Support .*The group is locked by a retention policy/,
    );
    assert.deepEqual(await tina!.runOutcomeItems('Failed'), [
      'Remove Mo Mover from Support (security group) — The group is locked by a retention policy. (Request_BadRequest, HTTP 400)',
    ]);
    assert.ok((await tina!.runOutcomeItems('Undone')).includes('Block sign-in for Mo Mover'));
    assert.deepEqual(await tina!.runOutcomeItems('Still changed'), [
      'Sign Mo Mover out everywhere (revoke sessions)',
    ]);
    assert.equal(
      directory.tenant(CONTOSO_TENANT_ID).byUpn('mover@contoso.example')!.accountEnabled,
      true,
    );
    await page.locator('.request-meta .badge', { hasText: 'Failed' }).waitFor();
    assert.ok(
      (await tina!.announcements()).some((a) =>
        /^Run \S+: Undone\. .*Remove Mo Mover from Support/.test(a),
      ),
      JSON.stringify(await tina!.announcements()),
    );
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    assert.deepEqual(tina!.pageErrors, []);
    await tina!.screenshot('09-undone');
  });
});

/**
 * The wizards on the whole sandbox as `npm start` wires it: Azurite, the sandbox Microsoft cloud
 * behind the real Graph SDK and MSAL, the bot and the tab. Carla raises each request in Teams, Andy
 * approves it, and Tina runs its wizard in the tab. One stack and one browser serve every test.
 */
describe('Wizards from the tab against the sandbox cloud', function () {
  this.timeout(180_000);
  let azurite: RunningAzurite | undefined;
  let cloud: RunningMicrosoftCloud | undefined;
  let connector: LoopbackConnector | undefined;
  let cabinet: RunningCabinet | undefined;
  let bot: BotClient;
  let useCases: UseCaseDeps;
  let tina: TabPage | undefined;
  const { lee, mo, andy } = SANDBOX_DIRECTORY.contoso.users;
  const contoso = () => cloud!.tenant(CONTOSO.tenantId);
  const mutations = () =>
    Object.values(contoso().counters().mutations).reduce((sum, n) => sum + (n ?? 0), 0);
  const chat = (user: { oid: string }) => `personal-${user.oid}`;

  /** The newest card in `user`'s chat that mentions every one of `texts`. */
  async function cardFor(user: { oid: string }, ...texts: string[]) {
    const matching = () =>
      connector!.cardsIn(chat(user)).filter((c) => texts.every((t) => cardText(c).includes(t)));
    await connector!.waitFor(() => matching().length > 0);
    return matching().at(-1)!;
  }

  /**
   * Carla raises a request in Teams, Tina assesses it and sends it for approval (through the use
   * cases on Cabinet's tables) and Andy approves it in Teams; returns its id.
   */
  async function raiseApproved(form: Record<string, string>): Promise<string> {
    const submitted = await bot.invoke(CONTOSO.carla, CardVerbs.Submit, form);
    const requestId = /CONTOSO-\d+/.exec(cardText(submitted.card))?.[0];
    assert.ok(requestId, cardText(submitted.card));
    await sendToApprovers(
      useCases,
      { id: parseRequestId(requestId)!.id, tenantId: CONTOSO.tenantId },
      { technician: MSP.tina },
    );
    const approval = await cardFor(CONTOSO.andy, form.title!);
    const approve = cardActions(approval).find((a) => a.title === 'Approve')!;
    await bot.invoke(CONTOSO.andy, approve.verb, approve.data);
    return requestId;
  }

  /** Follows the shown run to its end, ticking each checklist task it waits for. */
  async function followRun(note: string): Promise<string> {
    for (;;) {
      await tina!.waitForRunStatus(/^(Waiting|Completed|Needs a person|Undone)$/);
      const status = await tina!.runStatus();
      if (status !== 'Waiting') return status;
      const [task] = await tina!.openChecklistItems();
      if (task) await tina!.tickChecklistItem(task, note);
      else await tina!.waitForRunStatus(/^(Completed|Needs a person|Undone)$/);
    }
  }

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
      graph: sandboxGraphConfig(cloud),
    };
    cabinet = await startCabinet(config, { log: () => undefined, sandbox: { cloud } });
    bot = new BotClient(cabinet.url, connector.url);
    const clock = { now: () => new Date() };
    useCases = useCasesOn(
      createTableStorage({
        connectionString: azurite.connectionString,
        tablePrefix: config.storage.tablePrefix,
        clock,
      }),
      clock,
      MSP.tenantId,
    );
    // Executing now, not on the sandbox's Thursday evening: the tab's sign-in is checked against real time.
    await takeChangesAnyTime(useCases, CONTOSO.tenantId);
    for (const user of [CONTOSO.carla, CONTOSO.andy, MSP.tina])
      assert.equal(await bot.install(user), 200);
    tina = await TabPage.open(`${cabinet.url}/tab/`, { name: 'tab-sandbox-tina' });
    await tina.signInAs(MSP.tina.name);
    await tina.waitForQueue();
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

  it('shows a licence change refused for want of E3 seats next to the form, and runs nothing', async () => {
    const e3 = () =>
      contoso()
        .skus()
        .find((s) => s.skuPartNumber === 'ENTERPRISEPACK')!;
    assert.equal(e3().freeUnits, 0, 'the sandbox seeds E3 with no free seat');
    const requestId = await raiseApproved({
      type: 'licence_change',
      title: 'E3 for Mo Mover',
      description: 'Mo needs the desktop apps.',
      userPrincipalName: mo.userPrincipalName,
      addSkus: 'ENTERPRISEPACK',
    });
    const before = mutations();

    await tina!.page.goto(`${cabinet!.url}/tab/?request=${requestId}`);
    await tina!.waitForRequest(requestId);
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    await tina!.previewPlan();

    const alert = tina!.wizardAlert();
    assert.match(
      await alert.innerText(),
      /Office 365 E3 has no free seats \(\d+ of \d+ assigned\): buy a seat or free one, then preview again\./,
    );
    assert.match(await alert.innerText(), /Nothing was changed/);
    assert.ok(await tina!.hasFocus(alert), 'focus goes to the refusal');
    assert.ok(
      await tina!.wizardAlertBesideForm().isVisible(),
      'the refusal sits right under the form',
    );
    assert.deepEqual(await tina!.planSteps(), []);
    assert.ok(await tina!.executeButton().isDisabled());
    assert.equal(await tina!.requestStatus(), 'Approved');
    assert.equal(await tina!.runsShown(), 0);
    assert.equal(mutations(), before, 'nothing was sent to the tenant');
    assert.ok(
      !contoso()
        .user(mo.id)!
        .licences.some((l) => l.skuId === e3().skuId),
    );
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    assert.deepEqual(tina!.pageErrors, [
      'Failed to load resource: the server responded with a status of 409 (Conflict)',
    ]);
    tina!.pageErrors.length = 0;
    await tina!.screenshot('01-no-free-seats');
  });

  it('offboards a user but keeps the group the technician unticked; the tenant ends offboarded', async () => {
    const salesTeam = SANDBOX_DIRECTORY.contoso.groups.salesTeam;
    const requestId = await raiseApproved({
      type: 'offboard',
      title: 'Leaver: Lee Leaver',
      description: 'Lee leaves on Friday; keep the mailbox for the team.',
      userPrincipalName: lee.userPrincipalName,
      lastWorkingDay: '2030-01-31',
      convertToSharedMailbox: 'true',
      removeLicences: 'true',
    });

    await tina!.page.goto(`${cabinet!.url}/tab/`);
    await tina!.waitForQueue();
    await tina!.filterQueue('Ready to execute');
    assert.ok((await tina!.queueRequestIds()).includes(requestId));
    await tina!.screenshot('02-queue');
    await tina!.openRequest(requestId);
    await tina!.previewPlan();
    const steps = await tina!.planSteps();
    assert.equal(steps[0], `Block sign-in for ${lee.displayName}`);
    assert.ok(steps.includes(`Remove ${lee.displayName} from Sales Team (security group)`));
    assert.ok(await tina!.pointOfNoReturn().isVisible());
    assert.equal(contoso().counters().mutations['PATCH /users/{id}'] ?? 0, 0);
    assert.ok(
      (await tina!.groupChoices()).some((g) => g.name === 'Sales Team' && g.remove),
      JSON.stringify(await tina!.groupChoices()),
    );

    await tina!.keepGroup('Sales Team');
    assert.ok(await tina!.executeButton().isDisabled(), 'Execute waits for a fresh preview');
    await tina!.previewPlan();
    const kept = await tina!.planSteps();
    assert.ok(!kept.some((t) => t.includes('Sales Team')), kept.join('\n'));
    assert.ok(kept.includes(`Remove ${lee.displayName} from All Staff (Microsoft 365 group)`));
    assert.ok(
      (await tina!.planNotes()).includes(
        `${lee.displayName} stays in Sales Team, as chosen in the wizard.`,
      ),
    );
    assert.ok(
      (await tina!.groupChoices()).some((g) => g.name === 'Sales Team' && !g.remove),
      'the kept group stays listed, unticked',
    );
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    await tina!.screenshot('03-plan-keeps-a-group');

    await tina!.execute();
    await tina!.screenshot('04-running');
    assert.equal(await followRun('Done in the Exchange admin center'), 'Completed');
    assert.ok((await tina!.runSteps()).every((s) => s.status === 'Done'));
    await tina!.page.locator('.request-meta .badge', { hasText: 'Implemented' }).waitFor();
    await tina!.screenshot('05-completed');

    const after = contoso().user(lee.id)!;
    assert.equal(after.accountEnabled, false);
    assert.ok(after.sessionsRevokedAt, 'sessions revoked');
    assert.equal(after.managerId, undefined);
    assert.notEqual(after.autoReply.status, 'disabled');
    assert.deepEqual(
      after.licences.filter((l) => l.assignedByGroup === undefined),
      [],
      'direct licences removed',
    );
    assert.ok(after.memberOf.includes(salesTeam.id), 'still in the group kept in the wizard');
    assert.ok(!after.memberOf.includes(SANDBOX_DIRECTORY.contoso.groups.allStaff.id));
    assert.deepEqual(tina!.blockedRequests, []);
    assert.deepEqual(tina!.pageErrors, []);
  });

  it('creates a new user from the pre-filled wizard with an edited job title, never showing the password', async () => {
    const title = 'New starter: Nora North';
    const upn = 'nora.north@contoso.example';
    const requestId = await raiseApproved({
      type: 'new_user',
      title,
      description: 'Nora joins Sales on Monday and needs an account.',
      givenName: 'Nora',
      surname: 'North',
      displayName: 'Nora North',
      userPrincipalName: upn,
      jobTitle: 'Sales Associate',
      department: 'Sales',
      managerUpn: andy.userPrincipalName,
      usageLocation: 'GB',
      startDate: '2030-01-06',
      licenceSkus: 'SPB',
      groups: 'All Staff, Sales Team',
    });

    await tina!.page.goto(`${cabinet!.url}/tab/?request=${requestId}`);
    await tina!.waitForRequest(requestId);
    assert.equal(await tina!.field('First name').inputValue(), 'Nora');
    assert.equal(await tina!.field('Sign-in name (UPN)').inputValue(), upn);
    assert.equal(await tina!.field('Mail nickname').inputValue(), 'nora.north');
    assert.equal(await tina!.field('Licences').inputValue(), 'SPB');
    assert.equal(await tina!.field('Groups').inputValue(), 'All Staff, Sales Team');
    assert.equal(await tina!.field('Job title').inputValue(), 'Sales Associate');
    assert.deepEqual(await tina!.accessibilityProblems(), []);

    await tina!.field('Job title').fill('Senior Account Manager');
    await tina!.previewPlan();
    const steps = await tina!.planSteps();
    assert.equal(steps[0], `Create the account ${upn} for Nora North`);
    assert.ok(
      (await tina!.planNotes()).some((n) =>
        /^Changed in the wizard .*job title \(.* → Senior Account Manager\)/.test(n),
      ),
      'the plan notes the edit to what was approved',
    );
    assert.equal(contoso().user(upn), undefined, 'previewing creates nothing');
    assert.deepEqual(await tina!.accessibilityProblems(), []);
    await tina!.screenshot('06-new-user-plan');

    await tina!.execute();
    assert.equal(await followRun('Done'), 'Completed');
    await tina!.page.locator('.request-meta .badge', { hasText: 'Implemented' }).waitFor();
    assert.match(
      await tina!.runNotice().innerText(),
      /requester only: they reveal it once in Teams/,
    );
    const pages = [await tina!.page.content()];
    await tina!.screenshot('07-new-user-completed');

    const created = contoso().user(upn)!;
    assert.ok(created, 'the account exists in the client tenant');
    assert.equal(created.jobTitle, 'Senior Account Manager');
    assert.equal(created.managerId, andy.id);
    assert.ok(created.licences.some((l) => l.skuId === SANDBOX_SKUS.businessPremium.skuId));
    assert.ok(created.memberOf.includes(SANDBOX_DIRECTORY.contoso.groups.salesTeam.id));

    // The vault still holds the password: the requester reveals it, once, in Teams.
    const done = await cardFor(CONTOSO.carla, 'Implemented', title);
    const reveal = cardActions(done).find((a) => a.verb === CardVerbs.RevealPassword);
    assert.ok(reveal, 'the requester is offered the temporary password');
    const shown = cardText((await bot.invoke(CONTOSO.carla, reveal.verb, reveal.data)).card);
    assert.match(shown, /Temporary password \(shown once\)/);
    const password = shown.split('\n').at(-1)!;
    assert.match(password, /^\S{16}$/);
    for (const html of pages) assert.ok(!html.includes(password), 'the page showed the password');
    assert.ok(
      !(await tina!.apiResponses()).some((body) => body.includes(password)),
      'a tab API answer carried the password',
    );
    assert.deepEqual(tina!.pageErrors, []);
  });
});
