import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { bookNovember, type NovemberScenario } from '../support/summary-fixtures';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

/** Carla, Contoso's admin, reads her change log and report in headless Chromium with her own SSO token. */
describe('Tab change log page in the browser', function () {
  this.timeout(120_000);
  let http: TabApiServer | undefined;
  let carla: TabPage | undefined;
  let s: NovemberScenario;

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      this.skip();
    }
    const key = await signingKey();
    const storage = createInMemoryStorage(new FakeClock());
    await onboardSandboxClients(storage);
    const useCases = {
      ...storage,
      templates: storage.catalogue(MSP.tenantId),
      mspTenantId: MSP.tenantId,
    };
    const contoso = (await storage.clients.get(CONTOSO.tenantId))?.profile;
    const fabrikam = (await storage.clients.get(FABRIKAM.tenantId))?.profile;
    assert.ok(contoso && fabrikam);
    s = await bookNovember(useCases, { contoso, fabrikam });
    const who: Record<string, Person> = { carla: asPerson(CONTOSO.carla) };
    http = await startTabApi({
      surface: {
        useCases,
        sandboxSignIn: {
          people: [
            { key: 'carla', name: CONTOSO.carla.name, description: 'Client admin — Contoso' },
          ],
          issue: (person) =>
            mintTabToken(who[person]!, {
              key,
              now: Math.floor(storage.clock.now().getTime() / 1000),
            }),
        },
      },
      key,
      now: () => storage.clock.now(),
    });
    carla = await TabPage.open(`${http.url}/tab/?page=changelog&month=2026-11`, {
      name: 'tab-changelog',
    });
  });

  after(async () => {
    await carla?.close();
    await http?.close();
  });

  it('shows Contoso’s change log and report, and downloads the PDF', async () => {
    const page = carla!.page;
    await carla!.signInAs(CONTOSO.carla.name);
    await page.getByRole('heading', { level: 1, name: /^Change log: Contoso/ }).waitFor();
    const rows = await page.locator('#change-log tbody tr').allInnerTexts();
    assert.equal(rows.length, 6);
    assert.ok(rows[1]!.startsWith(`2026-11-03 09:00\t${s.normalDone.id}\tPatch the firewall`));
    assert.ok(!rows.some((r) => r.includes(s.fabrikam.id) || r.includes('Fabrikam VPN')));
    assert.match(
      await page.locator('#log-red-flags').innerText(),
      /Emergency share 50 % \(3 of 6\) is above the target of 10 %/,
    );
    assert.deepEqual(await carla!.accessibilityProblems(), []);
    await carla!.screenshot('november');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download report (PDF)' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'cabinet-report-CONTOSO-2026-11.pdf');
    const path = await download.path();
    assert.equal(readFileSync(path).subarray(0, 5).toString('latin1'), '%PDF-');
    assert.deepEqual(carla!.pageErrors, []);
  });
});
