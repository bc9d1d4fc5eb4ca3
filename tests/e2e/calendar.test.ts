import { strict as assert } from 'node:assert';
import { existsSync, statSync } from 'node:fs';
import type { Person } from '../../src/domain/change-request/change-request';
import { bookCalendarScenario, type CalendarScenario } from '../support/calendar-fixtures';
import {
  CONTOSO_TENANT_ID,
  contosoProfile,
  createHarness,
  fabrikamProfile,
  people,
  seedClients,
  type Harness,
} from '../support/fixtures';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

/**
 * The change calendar page in headless Chromium against the tab's real HTTP server: Contoso's week
 * and month around the British clock change, as Tina sees them, and Lena's view of all her clients.
 */
describe('Change calendar in the browser', function () {
  this.timeout(120_000);
  let h: Harness;
  let http: TabApiServer | undefined;
  let tab: TabPage | undefined;
  let s: CalendarScenario;

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      console.warn(`Skipping the calendar browser test: ${CHROMIUM_PATH} is not installed.`);
      this.skip();
    }
    h = createHarness();
    await seedClients(h);
    s = await bookCalendarScenario(
      h.deps,
      { contoso: contosoProfile(), fabrikam: fabrikamProfile() },
      people,
    );
    const key = await signingKey();
    const cast: Record<string, Person> = { tina: people.tina, lena: people.lena };
    http = await startTabApi({
      surface: {
        useCases: h.deps,
        sandboxSignIn: {
          people: [
            { key: 'tina', name: people.tina.name, description: 'MSP technician — Contoso' },
            { key: 'lena', name: people.lena.name, description: 'MSP lead — Contoso, Fabrikam' },
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

  const blocks = () => tab!.page.locator('table.calendar .cal-change');
  const blockIds = async () => (await blocks().locator('.cal-change-id').allInnerTexts()).sort();
  const conflictItems = () => tab!.page.locator('.calendar-conflicts > ul > li');

  async function screenshotSaved(step: string): Promise<void> {
    const path = await tab!.screenshot(step);
    assert.ok(existsSync(path), `${path} was not written`);
    assert.ok(statSync(path).size > 0, `${path} is empty`);
  }

  it('shows Contoso’s week with its window, the changes as blocks and their conflicts listed', async () => {
    tab = await TabPage.open(`${http!.url}/tab/`, { name: 'calendar-tina' });
    await tab.signInAs(people.tina.name);
    await tab.page.goto(
      `${http!.url}/tab/?page=calendar&view=week&date=2026-03-22&client=${CONTOSO_TENANT_ID}`,
    );
    const page = tab.page;
    await page.getByRole('heading', { level: 1, name: 'Change calendar' }).waitFor();

    assert.match(
      await page.getByTestId('calendar-zone').innerText(),
      /Times are in Europe\/London/,
    );
    assert.equal(
      await page.getByRole('heading', { level: 2, name: /^Week of/ }).innerText(),
      'Week of Mon 16 Mar 2026',
    );
    const table = page.getByRole('table', { name: 'Week of Mon 16 Mar 2026' });
    assert.deepEqual(await table.locator('thead th').allInnerTexts(), [
      'Time',
      'Mon 16 Mar',
      'Tue 17 Mar',
      'Wed 18 Mar',
      'Thu 19 Mar',
      'Fri 20 Mar',
      'Sat 21 Mar',
      'Sun 22 Mar',
    ]);
    assert.deepEqual(await blockIds(), [s.firewall.id, s.switchUpgrade.id].sort());
    const firewall = blocks().filter({ hasText: s.firewall.id });
    assert.match(await firewall.innerText(), /Patch the firewall/);
    assert.match(await firewall.innerText(), /Normal · 01:00–02:00/);
    assert.match(await firewall.locator('.conflict-flag').innerText(), /1 conflict/);
    assert.match(
      await blocks().filter({ hasText: s.switchUpgrade.id }).locator('.conflict-flag').innerText(),
      /2 conflicts/,
    );
    assert.ok(await page.getByText('Window: Sunday early, 00:30–03:30').isVisible());
    assert.equal(
      await page.locator('td.in-window').count(),
      4,
      '00:30–03:30 touches four hour rows',
    );

    assert.equal(await conflictItems().count(), 2);
    const switchConflicts = await page
      .locator(`[id="conflicts-${s.switchUpgrade.id}"] li`)
      .allInnerTexts();
    assert.equal(switchConflicts.length, 2);
    assert.match(switchConflicts[0]!, new RegExp(`${s.firewall.id} for the same client overlaps`));
    assert.match(switchConflicts[1]!, /technician is also booked on another client's change/);
    assert.deepEqual(await tab.accessibilityProblems(), []);
    assert.deepEqual(tab.pageErrors, []);
    await screenshotSaved('week');
  });

  it('switches to the month: the blackout hatched and named, every change and conflict of March', async () => {
    const page = tab!.page;
    await page.getByRole('button', { name: 'Month', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: 'March 2026' }).waitFor();

    assert.equal(
      await page.getByRole('button', { name: 'Month', exact: true }).getAttribute('aria-pressed'),
      'true',
    );
    assert.deepEqual(
      await blockIds(),
      [s.firewall.id, s.switchUpgrade.id, s.mailbox.id, s.licences.id, s.directorySync.id].sort(),
    );
    // February's freeze (last business day to month end) shows in the leading week too.
    const blackoutDays = page.locator('table.calendar.month td.in-blackout');
    assert.deepEqual(await blackoutDays.locator('.day-number').allInnerTexts(), [
      'Fri 27 Feb',
      'Sat 28 Feb',
      'Tue 31 Mar',
    ]);
    assert.match(await blackoutDays.last().innerText(), /Blackout: Month-end close, 00:00–24:00/);
    assert.match(
      await blocks().filter({ hasText: s.mailbox.id }).innerText(),
      /Emergency · 10:00–11:00/,
    );
    assert.equal(await conflictItems().count(), 5);
    assert.match(
      await page.locator(`[id="conflicts-${s.mailbox.id}"]`).innerText(),
      /Overlaps the client's blackout "Month-end close"/,
    );
    assert.match(
      await page.locator(`[id="conflicts-${s.licences.id}"]`).innerText(),
      new RegExp(`depends on ${s.directorySync.id}`),
    );
    await blocks().filter({ hasText: s.mailbox.id }).locator('.conflict-flag').click();
    assert.ok(await tab!.hasFocus(page.locator(`[id="conflicts-${s.mailbox.id}"]`)));
    assert.deepEqual(await tab!.accessibilityProblems(), []);
    assert.deepEqual(tab!.pageErrors, []);
    await screenshotSaved('month');
  });

  it('gives an MSP lead all her clients in UTC, naming her own double booking', async () => {
    await tab?.close();
    tab = await TabPage.open(`${http!.url}/tab/`, { name: 'calendar-lena' });
    await tab.signInAs(people.lena.name);
    await tab.page.goto(`${http!.url}/tab/?page=calendar&view=week&date=2026-03-22`);
    const page = tab.page;
    await page.getByRole('heading', { level: 1, name: 'Change calendar' }).waitFor();

    assert.equal(
      await page.getByLabel('Client').locator('option:checked').innerText(),
      'All my clients',
    );
    assert.match(await page.getByTestId('calendar-zone').innerText(), /Times are in UTC/);
    assert.deepEqual(
      await blockIds(),
      [s.firewall.id, s.switchUpgrade.id, s.fabrikamVpn.id].sort(),
    );
    assert.match(
      await page.locator(`[id="conflicts-${s.fabrikamVpn.id}"]`).innerText(),
      new RegExp(`also booked on ${s.switchUpgrade.id}`),
    );
    assert.deepEqual(tab.pageErrors, []);
    await screenshotSaved('msp-wide');
  });
});
