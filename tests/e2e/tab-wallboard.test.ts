import { strict as assert } from 'node:assert';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import type { Person } from '../../src/domain/shared/person';
import { MSP } from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';
import { seededIndex, wallboardEntries, WALLBOARD_NOW } from '../support/wallboard-fixtures';

/** Lena, an MSP lead, puts the SLA wallboard on the service desk's TV (headless Chromium, 1080p). */
describe('Tab SLA wallboard in the browser', function () {
  this.timeout(120_000);
  let http: TabApiServer | undefined;
  let lena: TabPage | undefined;
  const entries = wallboardEntries();

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      this.skip();
    }
    const key = await signingKey();
    const storage = createInMemoryStorage(new FakeClock(WALLBOARD_NOW));
    await onboardSandboxClients(storage);
    const useCases = {
      ...storage,
      templates: storage.catalogue(MSP.tenantId),
      mspTenantId: MSP.tenantId,
    };
    const who: Record<string, Person> = { lena: asPerson(MSP.lena) };
    http = await startTabApi({
      surface: {
        useCases,
        // Read on every poll, so a request added to `entries` shows at the next refresh.
        openRequests: seededIndex(entries),
        sandboxSignIn: {
          people: [{ key: 'lena', name: MSP.lena.name, description: 'MSP lead' }],
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
    lena = await TabPage.open(`${http.url}/tab/?page=wallboard`, {
      name: 'tab-wallboard',
      viewport: { width: 1920, height: 1080 },
    });
  });

  after(async () => {
    await lena?.close();
    await http?.close();
  });

  it('shows the totals, both charts with their numbers, the clocks closest to breach, and refreshes', async () => {
    const page = lena!.page;
    await lena!.signInAs(MSP.lena.name);
    await page.getByRole('heading', { level: 1, name: 'SLA wallboard' }).waitFor();
    const number = (id: string) => page.locator(`#${id}`).innerText();
    await page.locator('#wb-closest tbody tr').first().waitFor();
    assert.deepEqual(
      await Promise.all(
        [
          'wb-open',
          'wb-at-risk',
          'wb-breached',
          'wb-breaches-today',
          'wb-breaches-week',
          'wb-attainment',
        ].map(number),
      ),
      ['8', '1', '3', '1', '3', '57%'],
    );
    assert.deepEqual(await page.locator('#wb-closest tbody tr').allInnerTexts(), [
      'FABRIKAM-3 VPN outage\tFabrikam Inc\tincident\tin progress\tResolve\t5 h 30 min late (breached)',
      'CONTOSO-2 Offboard Sam\tContoso Ltd\toffboard\tsubmitted\tAcknowledge\t10 min late (breached)',
      'CONTOSO-1 Mail flow down\tContoso Ltd\tincident\ttriaged\tResolve\tin 30 min (at risk)',
      'FABRIKAM-1 Visio for Pat\tFabrikam Inc\tlicence change\tsubmitted\tAcknowledge\tin 1 h 15 min',
      'CONTOSO-2 Offboard Sam\tContoso Ltd\toffboard\tsubmitted\tResolve\tin 23 h 00 min',
      'FABRIKAM-1 Visio for Pat\tFabrikam Inc\tlicence change\tsubmitted\tResolve\tin 25 h 00 min',
      'FABRIKAM-4 Firewall rule\tFabrikam Inc\tgeneral\tawaiting approval\tResolve\tin 29 h 00 min',
      'CONTOSO-4 Printer rollout\tContoso Ltd\tgeneral\tapproved\tResolve\tin 55 h 00 min',
    ]);
    // The charts drew (chart.js loaded from Cabinet, nothing from the internet) and say what they show.
    for (const id of ['wb-state-chart', 'wb-attainment-chart']) {
      const canvas = page.locator(`#${id}`);
      assert.match((await canvas.getAttribute('aria-label')) ?? '', /table below has the numbers/);
      assert.ok(((await canvas.boundingBox())?.height ?? 0) > 100);
    }
    await page.getByText('Numbers').first().click();
    assert.deepEqual(await page.locator('#wb-state-table tbody tr').allInnerTexts(), [
      'Contoso Ltd\t2\t1\t1\t0\t0\tincident 1, offboard 1, new user 1, general 1',
      'Fabrikam Inc\t1\t0\t2\t0\t1\tlicence change 1, access change 1, incident 1, general 1',
    ]);
    await page.getByText('Numbers').nth(1).click();
    assert.deepEqual(await page.locator('#wb-attainment-table tbody tr').allInnerTexts(), [
      'Contoso Ltd\t2\t2\t50%\t1\t2',
      'Fabrikam Inc\t2\t1\t67%\t0\t1',
    ]);
    assert.deepEqual(await lena!.accessibilityProblems(), []);
    assert.deepEqual(lena!.blockedRequests, []);
    await lena!.screenshot('tv');

    // A new incident whose acknowledgement is already late appears at the next poll.
    const late = wallboardEntries().find((e) => e.requestId === 'CONTOSO-2');
    assert.ok(late);
    entries.push({
      ...late,
      requestId: 'CONTOSO-9' as ChangeRequestId,
      number: 9,
      title: 'Phones down',
    });
    await page.locator('#wb-open', { hasText: /^9$/ }).waitFor({ timeout: 40_000 });
    assert.equal(await number('wb-breached'), '4');
    assert.deepEqual(lena!.pageErrors, []);
  });
});
