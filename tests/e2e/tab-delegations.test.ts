import { strict as assert } from 'node:assert';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

/** Andy hands his Contoso approvals to Avery for a week in headless Chromium, then takes them back. */
describe('Tab delegations page in the browser', function () {
  this.timeout(120_000);
  let http: TabApiServer | undefined;
  let andy: TabPage | undefined;
  let storage: ReturnType<typeof createInMemoryStorage>;

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      this.skip();
    }
    const key = await signingKey();
    // The real clock: the browser's date picker and "now" must agree with the token's times.
    storage = createInMemoryStorage(new FakeClock(new Date()));
    await onboardSandboxClients(storage);
    const who: Record<string, Person> = { andy: asPerson(CONTOSO.andy) };
    http = await startTabApi({
      surface: {
        useCases: {
          ...storage,
          templates: storage.catalogue(MSP.tenantId),
          mspTenantId: MSP.tenantId,
        },
        sandboxSignIn: {
          people: [
            { key: 'andy', name: CONTOSO.andy.name, description: 'Client approver — Contoso' },
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
    andy = await TabPage.open(`${http.url}/tab/?page=delegations`, { name: 'tab-delegations' });
  });

  after(async () => {
    await andy?.close();
    await http?.close();
  });

  it('delegates to a person Cabinet offers, lists it in force, and revokes it', async () => {
    const page = andy!.page;
    await andy!.signInAs(CONTOSO.andy.name);
    await page.getByRole('heading', { level: 1, name: 'Delegations' }).waitFor();
    assert.deepEqual(
      await page.getByLabel('To', { exact: true }).locator('option').allInnerTexts(),
      ['Avery Approver', 'Carla Admin'],
    );
    await page.getByLabel('Up to risk').selectOption('medium');
    const until = new Date(Date.now() + 7 * 24 * 3600_000);
    const local = new Date(until.getTime() - until.getTimezoneOffset() * 60_000)
      .toISOString()
      .slice(0, 16);
    await page.getByLabel('Until').fill(local);
    await page.getByRole('button', { name: 'Delegate' }).click();
    const row = page.locator('table.delegations tbody tr').first();
    await row.getByText('In force').waitFor();
    assert.match(await row.innerText(), /CONTOSO\s+Andy Approver\s+Avery Approver\s+medium/);
    await andy!.screenshot('01-delegated');

    await row.getByRole('button', { name: 'Revoke' }).click();
    await page
      .locator('table.delegations tbody tr')
      .first()
      .getByText(/^Revoked/)
      .waitFor();
    const [stored] = await storage.delegations.list(CONTOSO.tenantId);
    assert.ok(stored?.revokedAt);
    assert.deepEqual(andy!.pageErrors, []);
  });
});
