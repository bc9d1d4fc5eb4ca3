import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { CONTOSO } from '../../src/sandbox/sandbox-tenants';
import { useNovemberInTab } from '../support/november-surfaces';

/** Carla, Contoso's admin, reads her change log and report in headless Chromium with her own SSO token. */
describe('Tab change log page in the browser', function () {
  this.timeout(120_000);
  const november = useNovemberInTab('changelog');

  it('shows Contoso’s change log and report, and downloads the PDF', async () => {
    const page = november.carla.page;
    await november.carla.signInAs(CONTOSO.carla.name);
    await page.getByRole('heading', { level: 1, name: /^Change log: Contoso/ }).waitFor();
    const rows = await page.locator('#change-log tbody tr').allInnerTexts();
    assert.equal(rows.length, 6);
    assert.ok(
      rows[1]!.startsWith(`2026-11-03 09:00\t${november.s.normalDone.id}\tPatch the firewall`),
    );
    assert.ok(!rows.some((r) => r.includes(november.s.fabrikam.id) || r.includes('Fabrikam VPN')));
    assert.match(
      await page.locator('#log-red-flags').innerText(),
      /Emergency share 50 % \(3 of 6\) is above the target of 10 %/,
    );
    assert.deepEqual(await november.carla.accessibilityProblems(), []);
    await november.carla.screenshot('november');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download report (PDF)' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'cabinet-report-CONTOSO-2026-11.pdf');
    const path = await download.path();
    assert.equal(readFileSync(path).subarray(0, 5).toString('latin1'), '%PDF-');
    assert.deepEqual(november.carla.pageErrors, []);
  });
});
