import { strict as assert } from 'node:assert';
import { CONTOSO } from '../../src/sandbox/sandbox-tenants';
import { useNovemberInTab } from '../support/november-surfaces';

/** Carla reads Contoso's November summary in headless Chromium, then switches to October. */
describe('Tab monthly summary page in the browser', function () {
  this.timeout(120_000);
  const november = useNovemberInTab('summary');

  it('shows the month’s counts, the flagged quota and each section, then another month', async () => {
    const page = november.carla.page;
    await november.carla.signInAs(CONTOSO.carla.name);
    await page.getByRole('heading', { level: 1, name: /^Monthly summary: Contoso/ }).waitFor();
    assert.match(
      await page.locator('#summary-counts').innerText(),
      /^6 changes: 1 standard, 2 normal, 3 emergency\./,
    );
    assert.equal(
      await page.locator('#summary-quota').innerText(),
      'Emergency quota: 3 emergencies, quota 2: over by 1',
    );
    const rows = (id: string) => page.locator(`#${id} tbody tr`).allInnerTexts();
    assert.deepEqual(await rows('summary-standard'), [
      `${november.s.standard.id}\tBusiness Premium for Jane\tAdd a Business Premium licence\tsuccessful`,
    ]);
    assert.deepEqual(await rows('summary-emergencies'), [
      `${november.s.emergencyClosed.id}\tBlock the phishing domain\tapproved\tfiled\tsuccessful\t`,
      `${november.s.emergencyOverdue.id}\tRestore the mail flow\tpending\toverdue\topen\t`,
      `${november.s.emergencyOver.id}\tRotate the leaked key\tnot started\tnot due\topen\tOver quota`,
    ]);
    assert.deepEqual(await november.carla.accessibilityProblems(), []);
    await november.carla.screenshot('november');

    await page.getByLabel('Month').fill('2026-10');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/month=2026-10/);
    await page.locator('#summary-normal').waitFor();
    assert.deepEqual(await rows('summary-normal'), [
      `${november.s.october.id}\tLate October change\tnot booked\topen`,
    ]);
    assert.deepEqual(november.carla.pageErrors, []);
  });
});
