import { strict as assert } from 'node:assert';
import type { Person } from '../../src/domain/change-request/change-request';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import {
  createHarness,
  people,
  raiseGeneral,
  seedClients,
  type Harness,
} from '../support/fixtures';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

/**
 * The technician's ITIL pages in headless Chromium against the tab's real HTTP server: Tina
 * assesses a triaged Contoso request with Cabinet's suggestion on screen, is told her boilerplate
 * rollback plan will not do, fixes it, sends the request for approval and sees the steps.
 */
describe('Assessment and approval steps in the browser', function () {
  this.timeout(120_000);
  let h: Harness;
  let http: TabApiServer | undefined;
  let tab: TabPage | undefined;
  let id: ChangeRequestId;

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      console.warn(`Skipping the ITIL browser test: ${CHROMIUM_PATH} is not installed.`);
      this.skip();
    }
    h = createHarness();
    await seedClients(h);
    id = (await raiseGeneral(h, people.carla)).request.id;
    const key = await signingKey();
    const cast: Record<string, Person> = { tina: people.tina };
    http = await startTabApi({
      surface: {
        useCases: h.deps,
        sandboxSignIn: {
          people: [
            { key: 'tina', name: people.tina.name, description: 'MSP technician — Contoso' },
          ],
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
    await tab?.screenshot(`failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  after(async () => {
    await tab?.close();
    await http?.close();
  });

  it('assesses a triaged request with the suggestion shown, sends it and shows the steps', async () => {
    tab = await TabPage.open(`${http!.url}/tab/`, { name: 'itil-tina' });
    await tab.signInAs(people.tina.name);
    await tab.page.goto(`${http!.url}/tab/?request=${id}`);
    await tab.waitForRequest(id);
    const page = tab.page;
    const form = page.locator('form.itil-form');
    const send = page.getByRole('button', { name: 'Send for approval' });
    assert.equal(await send.isDisabled(), true, 'nothing to send before an assessment');

    await page.getByRole('button', { name: 'Assess', exact: true }).click();
    await form.getByLabel('Impact').selectOption('minor');
    await form.getByLabel('Affected users').fill('3');
    await form.getByLabel('Affected services (comma-separated)').fill('Printing, Microsoft 365');
    await form.getByLabel('Implementation plan').fill('Move the printer and re-add it on each PC.');
    await form.getByLabel('Test plan').fill('Print a test page from each PC.');
    await form.getByLabel('Window start (your local time)').fill('2026-11-26T18:00');
    await form.getByLabel('Window end (your local time)').fill('2026-11-26T20:00');
    await form.getByLabel('Rollback plan').fill('Revert the change if needed.');

    const suggestion = page.locator('#risk-suggestion');
    await suggestion.getByText(/^Cabinet suggests (Low|Medium|High|Critical)$/).waitFor();
    const suggested = (await suggestion.locator('strong').innerText()).replace(
      'Cabinet suggests ',
      '',
    );
    assert.equal(
      await form.getByLabel('Risk', { exact: true }).locator('option:checked').innerText(),
      suggested,
      'the risk starts at Cabinet’s suggestion',
    );
    const rollbackCheck = page.locator('#rollbackPlan-check');
    await rollbackCheck.waitFor();
    assert.match(await rollbackCheck.innerText(), /nobody could follow it/);

    // Another risk than the suggestion asks why.
    const reason = form.getByLabel('Why a different risk from Cabinet’s suggestion');
    assert.equal(await reason.isVisible(), false);
    await form
      .getByLabel('Risk', { exact: true })
      .selectOption(suggested === 'Critical' ? 'high' : 'critical');
    await reason.waitFor();
    await form.getByLabel('Risk', { exact: true }).selectOption(suggested.toLowerCase());
    await reason.waitFor({ state: 'hidden' });

    // Saved with the boilerplate plan, Send for approval is refused with the rule's message.
    await form.getByRole('button', { name: 'Save assessment' }).click();
    await page.getByRole('heading', { level: 2, name: 'Assessment' }).waitFor();
    await send.click();
    const refusal = page.locator('.alert:not([hidden])').filter({ hasText: /rollback plan/i });
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /nobody could follow it/);

    await page.getByRole('button', { name: 'Assess', exact: true }).click();
    await form
      .getByLabel('Rollback plan')
      .fill(
        'If printing fails after 15 minutes, the technician re-adds the old printer queue on each PC and verifies a test page prints; takes about 20 minutes.',
      );
    await rollbackCheck.waitFor({ state: 'hidden' });
    await form.getByRole('button', { name: 'Save assessment' }).click();
    await page.getByText(/^version 3$/).waitFor();
    await send.click();

    await tab.page.locator('.request-meta .badge', { hasText: 'Awaiting approval' }).waitFor();
    const steps = page.getByTestId('approval-steps').locator('.approval-step');
    assert.ok((await steps.count()) >= 1);
    assert.match(await steps.first().innerText(), /Open/);
    assert.match(await steps.first().innerText(), new RegExp(people.andy.name));
    assert.match(await steps.first().innerText(), /No votes yet/);
    const stored = await h.deps.requests.get(people.carla.tid, id);
    assert.equal(stored?.request.status, 'awaiting_approval');
    assert.equal(stored?.request.assessment?.impact, 'minor');
    // The one refused Send for approval is the browser's only complaint.
    assert.deepEqual(tab.pageErrors, [
      'Failed to load resource: the server responded with a status of 409 (Conflict)',
    ]);
    assert.deepEqual(await tab.accessibilityProblems(), []);
    await tab.screenshot('steps');
  });
});
