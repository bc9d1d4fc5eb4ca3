import { strict as assert } from 'node:assert';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { bookNovember, type NovemberScenario } from '../support/summary-fixtures';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

/** Carla reads Contoso's November summary in headless Chromium, then switches to October. */
describe('Tab monthly summary page in the browser', function () {
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
    carla = await TabPage.open(`${http.url}/tab/?page=summary&month=2026-11`, {
      name: 'tab-summary',
    });
  });

  after(async () => {
    await carla?.close();
    await http?.close();
  });

  it('shows the month’s counts, the flagged quota and each section, then another month', async () => {
    const page = carla!.page;
    await carla!.signInAs(CONTOSO.carla.name);
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
      `${s.standard.id}\tBusiness Premium for Jane\tAdd a Business Premium licence\tsuccessful`,
    ]);
    assert.deepEqual(await rows('summary-emergencies'), [
      `${s.emergencyClosed.id}\tBlock the phishing domain\tapproved\tfiled\tsuccessful\t`,
      `${s.emergencyOverdue.id}\tRestore the mail flow\tpending\toverdue\topen\t`,
      `${s.emergencyOver.id}\tRotate the leaked key\tnot started\tnot due\topen\tOver quota`,
    ]);
    assert.deepEqual(await carla!.accessibilityProblems(), []);
    await carla!.screenshot('november');

    await page.getByLabel('Month').fill('2026-10');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/month=2026-10/);
    await page.locator('#summary-normal').waitFor();
    assert.deepEqual(await rows('summary-normal'), [
      `${s.october.id}\tLate October change\tnot booked\topen`,
    ]);
    assert.deepEqual(carla!.pageErrors, []);
  });
});
