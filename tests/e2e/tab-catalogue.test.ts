import { strict as assert } from 'node:assert';
import type { TemplateId } from '../../src/domain/catalogue/template';
import type { Person } from '../../src/domain/shared/person';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  raiseGeneral,
  seedClients,
  type Harness,
} from '../support/fixtures';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

const ROLLBACK =
  'If the mailbox is not provisioned within an hour, the technician removes EXCHANGESTANDARD and ' +
  're-assigns the previous licence, then verifies the user can sign in (about 10 minutes).';

/**
 * The templates page and questions in headless Chromium against the tab's real HTTP server: Lena
 * writes a Contoso template (fixing what Cabinet marks), proposes it and Andy approves it; Tina asks
 * Carla a question on her request and Carla answers it; Lena changes a Contoso setting.
 */
describe('Templates, questions and client settings in the browser', function () {
  this.timeout(120_000);
  let h: Harness;
  let http: TabApiServer | undefined;
  const tabs: TabPage[] = [];

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      console.warn(`Skipping the templates browser test: ${CHROMIUM_PATH} is not installed.`);
      this.skip();
    }
    h = createHarness();
    await seedClients(h);
    const key = await signingKey();
    const cast: Record<string, Person> = {
      lena: people.lena,
      andy: people.andy,
      tina: people.tina,
      carla: people.carla,
    };
    http = await startTabApi({
      surface: {
        useCases: h.deps,
        sandboxSignIn: {
          people: Object.entries(cast).map(([k, p]) => ({ key: k, name: p.name, description: k })),
          issue: (person) =>
            mintTabToken(cast[person]!, { key, now: Math.floor(h.clock.now().getTime() / 1000) }),
        },
      },
      key,
      now: () => h.clock.now(),
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const tab of tabs) await tab.screenshot(`failed-${this.currentTest.title.slice(0, 30)}`);
  });

  after(async () => {
    for (const tab of tabs) await tab.close();
    await http?.close();
  });

  async function signedIn(who: Person, path: string, name: string): Promise<TabPage> {
    const tab = await TabPage.open(`${http!.url}/tab/${path}`, { name });
    tabs.push(tab);
    await tab.signInAs(who.name);
    return tab;
  }

  it('Lena creates and proposes a Contoso template; Andy approves it', async () => {
    const lena = await signedIn(people.lena, '?page=templates', 'tpl-lena');
    const page = lena.page;
    await page.getByRole('heading', { level: 1, name: 'Standard-change templates' }).waitFor();
    await page.getByRole('button', { name: 'New template' }).click();
    const form = page.locator('form.template-form');
    await form.getByLabel('Template id').fill('exchange-plan-1');
    await form.getByLabel('Offered to').selectOption({ label: 'Contoso Ltd only' });
    await form.getByLabel('Request type').selectOption('licence_change');
    await form.getByLabel('Licences that may be added').fill('EXCHANGESTANDARD');
    await form
      .getByLabel('Implementation plan')
      .fill('Assign EXCHANGESTANDARD in Entra; the mailbox appears within 15 minutes.');
    await form.getByLabel('Rollback plan').fill('Revert the change if needed.');
    await form.getByRole('button', { name: 'Save template' }).click();

    // Cabinet's issues land next to their fields: no name, a boilerplate rollback plan.
    await form.locator('[data-field="name"] .field-error').waitFor();
    assert.match(await form.locator('[data-field="rollbackPlan"] .field-error').innerText(), /\w/);
    await form.getByLabel('Name', { exact: true }).fill('Add an Exchange Online Plan 1 licence');
    await form.getByLabel('Rollback plan').fill(ROLLBACK);
    await form.getByRole('button', { name: 'Save template' }).click();

    const card = page.locator('[data-client="CONTOSO"] article[data-template="exchange-plan-1"]');
    await card.waitFor();
    assert.match(await card.locator('.badge').innerText(), /Not proposed/);
    await card.getByRole('button', { name: 'Propose to the client' }).click();
    await page
      .locator('[data-client="CONTOSO"] article[data-template="exchange-plan-1"] .badge', {
        hasText: 'Proposed',
      })
      .waitFor();
    assert.equal(
      await page.locator('[data-client="FABRIKAM"] article[data-template]').count(),
      0,
      'a Contoso template is not listed under Fabrikam',
    );
    assert.deepEqual(await lena.accessibilityProblems(), []);
    await lena.screenshot('proposed');

    const andy = await signedIn(people.andy, '?page=templates', 'tpl-andy');
    const mine = andy.page.locator('article[data-template="exchange-plan-1"]');
    await mine.waitFor();
    const sections = await andy.page.locator('section[data-client]').all();
    assert.deepEqual(
      await Promise.all(sections.map((s) => s.getAttribute('data-client'))),
      ['CONTOSO'],
      'a client approver sees their own client only',
    );
    await mine.getByRole('button', { name: 'Approve' }).click();
    await andy.page
      .locator('article[data-template="exchange-plan-1"] .badge', { hasText: 'Active' })
      .waitFor();
    const stored = await h.deps.templates.getActivation(
      CONTOSO_TENANT_ID,
      'exchange-plan-1' as TemplateId,
    );
    assert.equal(stored?.activation.status, 'active');
    assert.equal(stored?.activation.approvedBy?.oid, people.andy.oid);
    assert.deepEqual(await andy.accessibilityProblems(), []);
    assert.deepEqual(andy.pageErrors, []);
  });

  it('Tina asks Carla a question on her request and Carla answers it', async () => {
    const id = (await raiseGeneral(h, people.carla)).request.id;
    const tina = await signedIn(people.tina, `?request=${id}`, 'q-tina');
    await tina.waitForRequest(id);
    await tina.page.getByLabel('Question for the requester').fill('Which floor is the printer on?');
    await tina.page.getByRole('button', { name: 'Ask the requester' }).click();
    await tina.page.locator('.request-meta .badge', { hasText: 'Needs information' }).waitFor();
    assert.ok(
      (await tina.timeline()).some((line) => line.startsWith('Question asked by Tina')),
      'the timeline says it in words',
    );

    const carla = await signedIn(people.carla, `?request=${id}`, 'q-carla');
    await carla.waitForRequest(id);
    await carla.page.getByText('Which floor is the printer on?').first().waitFor();
    await carla.page.getByLabel('Your answer').fill('The third floor, by the kitchen.');
    await carla.page.getByRole('button', { name: 'Answer' }).click();
    await carla.page.locator('.request-meta .badge', { hasText: 'Triaged' }).waitFor();
    const earlier = carla.page.locator('ol.clarifications li');
    await earlier.first().waitFor();
    assert.match(await earlier.first().innerText(), /third floor/);
    const stored = await h.deps.requests.get(people.carla.tid, id);
    assert.equal(stored?.request.status, 'triaged');
    assert.equal(stored?.request.clarifications?.[0]?.answer, 'The third floor, by the kitchen.');
    assert.deepEqual(await carla.accessibilityProblems(), []);
    assert.deepEqual(carla.pageErrors, []);
  });
  it('Lena reads Contoso’s rules and changes its emergency quota, with the issue beside the part', async () => {
    const lena = await signedIn(people.lena, '?page=settings&client=CONTOSO', 'settings-lena');
    const page = lena.page;
    await page.getByRole('heading', { level: 1, name: 'Settings for Contoso Ltd' }).waitFor();
    assert.match(
      await page.locator('ol.policy-steps').innerText(),
      new RegExp(`any one of ${people.andy.name}, ${people.avery.name}`),
    );
    const quota = page.getByRole('form', { name: 'Emergency quota per month' });
    await quota.getByLabel('Emergency quota per month (JSON)').fill('-1');
    await quota.getByRole('button', { name: 'Save emergency quota per month' }).click();
    await quota.locator('.field-error').waitFor();
    assert.match(await quota.locator('.field-error').innerText(), /whole number/);
    await quota.getByLabel('Emergency quota per month (JSON)').fill('4');
    await quota.getByRole('button', { name: 'Save emergency quota per month' }).click();
    await page.getByText('4 before flagging').waitFor();
    const stored = await h.deps.clients.get(CONTOSO_TENANT_ID);
    assert.equal(stored?.profile.settings.emergencyQuotaPerMonth, 4);
    assert.deepEqual(await lena.accessibilityProblems(), []);
    await lena.screenshot('settings');
  });
});
