import { strict as assert } from 'node:assert';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { submitChange } from '../../src/application/use-cases/submit-change';
import type { ChangeType } from '../../src/domain/change-request/change-request.payloads';
import { rulesFor } from '../../src/domain/client/client-rules';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { nextSlot, sendToApprovers } from '../support/approval-flow';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from '../support/tab-ui';
import { mintTabToken, signingKey } from '../support/tab-tokens';

const WEEK_MS = 7 * 24 * 3600_000;

/** Andy opens his approval inbox in headless Chromium and approves the routine licence change at once. */
describe('Tab approvals page in the browser', function () {
  this.timeout(120_000);
  let http: TabApiServer | undefined;
  let andy: TabPage | undefined;
  let clock: FakeClock;
  let storage: ReturnType<typeof createInMemoryStorage>;
  let deps: UseCaseDeps;

  /** Submitted by Carla and sent to the approvers in its own week, so bookings never conflict. */
  async function awaiting(type: ChangeType, week: number) {
    const raised = await submitChange(deps, {
      actor: asPerson(CONTOSO.carla),
      type,
      fields: validFields(type),
    });
    assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
    const client = (await deps.clients.get(CONTOSO.tenantId))?.profile;
    assert.ok(client);
    const slot = nextSlot(rulesFor(client), deps.clock.now());
    const shift = (iso: string) => new Date(Date.parse(iso) + week * WEEK_MS).toISOString();
    return sendToApprovers(deps, raised.value.request, {
      assessment: { requestedWindow: { start: shift(slot.start), end: shift(slot.end) } },
    });
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
    const who: Record<string, Person> = { andy: asPerson(CONTOSO.andy) };
    http = await startTabApi({
      surface: {
        useCases: deps,
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
      now: () => clock.now(),
    });
  });

  after(async () => {
    await andy?.close();
    await http?.close();
  });

  it('lists both waiting requests oldest first and approves the routine one in bulk', async () => {
    const routine = await awaiting('licence_change', 0);
    // The clock stands still between ticks: a minute later, so "oldest first" has an order to show.
    clock.advance(60_000);
    const general = await awaiting('general', 1);
    andy = await TabPage.open(`${http!.url}/tab/?page=approvals`, { name: 'tab-approvals' });
    const page = andy.page;
    await andy.signInAs(CONTOSO.andy.name);
    await page.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
    const rows = page.locator('table.approvals tbody tr');
    assert.deepEqual(
      await Promise.all((await rows.all()).map((row) => row.getAttribute('data-request'))),
      [routine.id, general.id],
    );
    const generalRow = rows.nth(1);
    await generalRow.getByRole('link', { name: 'Open to decide' }).waitFor();
    assert.equal(await generalRow.getByRole('checkbox').count(), 0);
    assert.equal(
      await rows.nth(0).getByRole('link', { name: routine.id }).getAttribute('href'),
      `?request=${routine.id}`,
    );

    await page.getByRole('checkbox', { name: `Select ${routine.id} for bulk approval` }).check();
    await andy.screenshot('01-selected');
    await page.getByRole('button', { name: 'Approve selected' }).click();
    await rows.nth(0).locator('td.bulk-outcome').getByText('Approved', { exact: true }).waitFor();
    await page.locator('#announcer').getByText('1 approved, 0 refused, 0 not eligible.').waitFor();
    await andy.screenshot('02-approved');

    const stored = async (r: typeof routine) =>
      (await storage.requests.get(r.tenantId, r.id))?.request.status;
    assert.equal(await stored(routine), 'approved');
    assert.equal(await stored(general), 'awaiting_approval');
    assert.deepEqual(andy.pageErrors, []);
  });
});
