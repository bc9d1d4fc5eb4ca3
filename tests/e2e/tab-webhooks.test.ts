import { strict as assert } from 'node:assert';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

/**
 * Lena (MSP lead of Contoso) manages Contoso's signed-intake key on its Settings page: creates it,
 * copies the secret shown once, rotates and retires the old one. Storage on Azurite, the tab over
 * real HTTP in headless Chromium.
 */
describe('Tab webhook intake box in the browser (Azurite)', function () {
  this.timeout(120_000);
  const azurite = useAzurite();
  let http: TabApiServer | undefined;
  let tab: TabPage | undefined;
  let storage: TableStorage;
  const people: Record<string, Person> = {
    lena: asPerson(MSP.lena),
    tina: asPerson(MSP.tina),
  };

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      this.skip();
    }
    const key = await signingKey();
    // The real clock: the token's times must agree with the browser's.
    const clock = new FakeClock(new Date());
    storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
    const useCases: UseCaseDeps = {
      ...storage,
      clock,
      templates: storage.catalogue(MSP.tenantId),
      mspTenantId: MSP.tenantId,
    };
    http = await startTabApi({
      surface: {
        useCases,
        webhookKeys: storage.webhookKeys,
        sandboxSignIn: {
          people: [
            { key: 'lena', name: MSP.lena.name, description: 'MSP lead' },
            { key: 'tina', name: MSP.tina.name, description: 'MSP technician — Contoso' },
          ],
          issue: (person) =>
            mintTabToken(people[person]!, { key, now: Math.floor(clock.now().getTime() / 1000) }),
        },
      },
      key,
      now: () => clock.now(),
    });
  });

  afterEach(async () => {
    await tab?.close();
    tab = undefined;
  });

  after(async () => {
    await http?.close();
  });

  it('creates a key, shows its secret once, rotates and retires the old one, all audited', async () => {
    tab = await TabPage.open(`${http!.url}/tab/?page=settings&client=${CONTOSO.code}`, {
      name: 'tab-webhooks',
    });
    const page = tab.page;
    await tab.signInAs(MSP.lena.name);
    const box = page.getByRole('region', { name: 'Webhook intake' });
    await box.getByText('No webhook key yet').waitFor();
    await box.getByRole('button', { name: 'Create webhook key' }).click();
    const secret = (await box.locator('code.secret').textContent()) ?? '';
    assert.match(secret, /^whsec_/);
    const stored = await storage.webhookKeys.get(CONTOSO.tenantId);
    assert.ok(stored);
    const first = stored.secrets[0]!;
    assert.equal(first.secret.reveal(), secret, 'the page shows the secret Cabinet stored');
    await box.getByText(`/api/webhooks/${stored.clientKey}`).waitFor();
    await box.locator(`tr[data-kid="${first.kid}"]`).getByText('active').waitFor();
    await tab.screenshot('01-created');

    // Never again: not on reload, not from the API.
    await page.reload();
    await box.locator(`tr[data-kid="${first.kid}"]`).waitFor();
    assert.equal(await box.locator('code.secret').count(), 0);
    const shown = await http!.call(people.lena, `clients/${CONTOSO.code}/webhook`);
    assert.equal(shown.status, 200);
    assert.ok(!JSON.stringify(shown.body).includes(secret));

    await box.getByRole('button', { name: 'Rotate secret' }).click();
    await box
      .locator(`tr[data-kid="${first.kid}"]`)
      .getByText(/^active until /)
      .waitFor();
    const rotatedSecret = (await box.locator('code.secret').textContent()) ?? '';
    assert.notEqual(rotatedSecret, secret);
    await tab.screenshot('02-rotated');
    await box.getByRole('button', { name: 'Retire old secrets' }).click();
    await box
      .locator(`tr[data-kid="${first.kid}"]`)
      .getByText(/^retired /)
      .waitFor();
    assert.equal(await box.getByRole('button', { name: 'Retire old secrets' }).count(), 0);
    await tab.screenshot('03-retired');

    const entries = (await storage.audit.read(CONTOSO.tenantId))
      .map((e) => JSON.parse(e.canonical) as { type: string; actor: { oid: string } })
      .filter((e) => e.type.startsWith('webhook.key_'));
    assert.deepEqual(
      entries.map((e) => [e.type, e.actor.oid]),
      [
        ['webhook.key_created', MSP.lena.oid],
        ['webhook.key_rotated', MSP.lena.oid],
        ['webhook.key_retired', MSP.lena.oid],
      ],
    );
    assert.deepEqual(tab.pageErrors, []);
  });

  it('shows a technician no box, and the API refuses them', async () => {
    tab = await TabPage.open(`${http!.url}/tab/?page=settings&client=${CONTOSO.code}`, {
      name: 'tab-webhooks-tech',
    });
    const page = tab.page;
    await tab.signInAs(MSP.tina.name);
    await page.getByRole('heading', { level: 1, name: `Settings for ${CONTOSO.name}` }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Webhook intake' }).count(), 0);
    const refused = await http!.call(people.tina, `clients/${CONTOSO.code}/webhook/rotate`, {
      body: {},
    });
    assert.equal(refused.status, 403);
    assert.equal((refused.body.error as { code: string }).code, 'ACCESS.NOT_LEAD');
    assert.deepEqual(tab.pageErrors, []);
  });
});
