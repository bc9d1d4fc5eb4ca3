import { strict as assert } from 'node:assert';
import type { OutboxRow } from '../../src/application/ports/outbox';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { submitChange } from '../../src/application/use-cases/submit-change';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

/**
 * Lena (MSP lead) sees a parked Teams message on the Deliveries page and retries it; Tina adds a
 * note on the request and it appears in the timeline. Over real HTTP in headless Chromium.
 */
describe('Tab deliveries page and notes in the browser', function () {
  this.timeout(120_000);
  let http: TabApiServer | undefined;
  let tab: TabPage | undefined;
  let clock: FakeClock;
  let storage: ReturnType<typeof createInMemoryStorage>;
  let deps: UseCaseDeps;
  const people: Record<string, Person> = {
    lena: asPerson(MSP.lena),
    tina: asPerson(MSP.tina),
  };

  async function raise() {
    const raised = await submitChange(deps, {
      actor: asPerson(CONTOSO.carla),
      type: 'general',
      fields: validFields('general'),
    });
    assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
    return raised.value.request;
  }

  async function parkOne(error: string): Promise<OutboxRow> {
    const claimed = await storage.outbox.claimDue(CONTOSO.tenantId, clock.now(), { limit: 50 });
    const row = claimed.find((r) => r.message.kind === 'teams.notify');
    assert.ok(row);
    await storage.outbox.fail(row, { error, park: true });
    return row;
  }

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      this.skip();
    }
    const key = await signingKey();
    // The real clock: the token's times must agree with the browser's.
    clock = new FakeClock(new Date());
    storage = createInMemoryStorage(clock);
    await onboardSandboxClients(storage);
    deps = { ...storage, templates: storage.catalogue(MSP.tenantId), mspTenantId: MSP.tenantId };
    http = await startTabApi({
      surface: {
        useCases: deps,
        outbox: storage.outbox,
        sandboxSignIn: {
          people: [
            { key: 'lena', name: MSP.lena.name, description: 'MSP lead' },
            { key: 'tina', name: MSP.tina.name, description: 'MSP technician — Contoso' },
          ],
          issue: (person) =>
            mintTabToken(people[person]!, {
              key,
              now: Math.floor(storage.clock.now().getTime() / 1000),
            }),
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

  it('shows a lead the parked row with its error, and Retry makes it due again', async () => {
    const request = await raise();
    const row = await parkOne('Teams answered 403 Forbidden');
    tab = await TabPage.open(`${http!.url}/tab/?page=deliveries`, { name: 'tab-deliveries' });
    const page = tab.page;
    await tab.signInAs(MSP.lena.name);
    await page.getByRole('heading', { level: 1, name: 'Deliveries' }).waitFor();
    await page.getByRole('link', { name: 'Deliveries' }).waitFor();
    const tr = page.locator(`table.deliveries tbody tr[data-row="${row.id}"]`);
    await tr.getByRole('link', { name: request.id }).waitFor();
    assert.equal(await tr.locator('td.last-error').textContent(), 'Teams answered 403 Forbidden');
    await tab.screenshot('01-parked');
    await tr.getByRole('button', { name: /^Retry / }).click();
    await tr.getByText('Due again: the relay tries it on its next pass.').waitFor();
    await tab.screenshot('02-retried');

    const stored = (await storage.outbox.list(CONTOSO.tenantId)).find((r) => r.id === row.id);
    assert.equal(stored?.status, 'pending');
    assert.equal(stored?.attempts, 0);
    assert.ok(
      (await storage.outbox.claimDue(CONTOSO.tenantId, clock.now())).some((r) => r.id === row.id),
    );
    assert.deepEqual(tab.pageErrors, []);
  });

  it('hides the page from a technician, whom the API refuses', async () => {
    tab = await TabPage.open(`${http!.url}/tab/?page=deliveries`, { name: 'tab-deliveries-tech' });
    const page = tab.page;
    await tab.signInAs(MSP.tina.name);
    await page
      .getByRole('alert')
      .getByText(/Only MSP leads/)
      .waitFor();
    assert.equal(await page.getByRole('link', { name: 'Deliveries' }).count(), 0);
    const refused = await http!.call(people.tina, 'deliveries');
    assert.equal(refused.status, 403);
    assert.equal((refused.body.error as { code: string }).code, 'DELIVERY.NOT_LEAD');
  });

  it('adds a note on a request and shows it in the timeline', async () => {
    const request = await raise();
    tab = await TabPage.open(`${http!.url}/tab/?request=${request.id}`, { name: 'tab-notes' });
    const page = tab.page;
    await tab.signInAs(MSP.tina.name);
    await page.getByRole('heading', { level: 2, name: 'Add note' }).waitFor();
    await page.getByRole('textbox', { name: 'Note' }).fill('Licence ordered from the distributor.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page
      .locator('ol.timeline li')
      .filter({ hasText: 'Licence ordered from the distributor.' })
      .waitFor();
    await tab.screenshot('03-note');
    const stored = await storage.requests.get(CONTOSO.tenantId, request.id);
    assert.equal(stored?.request.version, request.version);
    assert.deepEqual(tab.pageErrors, []);
  });
});
