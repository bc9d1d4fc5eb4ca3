import { strict as assert } from 'node:assert';
import type { Person } from '../../../src/domain/change-request/change-request';
import { bookCalendarScenario, type CalendarScenario } from '../../support/calendar-fixtures';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  contosoProfile,
  createHarness,
  fabrikamProfile,
  people,
  seedClients,
  type Harness,
} from '../../support/fixtures';
import { startTabApi, type TabApiServer, type TabJson } from '../../support/tab-api-server';
import { signingKey, type SigningKey } from '../../support/tab-tokens';

/** `GET /api/tab/calendar` over real HTTP, with Teams-SSO-like tokens. */
describe('Tab calendar API', () => {
  let key: SigningKey;
  let h: Harness;
  let api: TabApiServer;
  let s: CalendarScenario;

  before(async () => {
    key = await signingKey();
    h = createHarness();
    await seedClients(h);
    s = await bookCalendarScenario(
      h.deps,
      { contoso: contosoProfile(), fabrikam: fabrikamProfile() },
      people,
    );
    api = await startTabApi({ surface: { useCases: h.deps }, key, now: () => h.clock.now() });
  });

  after(() => api.close());

  const get = (query: string, who?: Person): Promise<TabJson> => api.call(who, `calendar?${query}`);
  const ids = (body: Record<string, unknown>) =>
    (body.changes as { id: string }[]).map((c) => c.id);
  const code = (body: Record<string, unknown>) => (body.error as { code: string }).code;

  it('answers a technician with their client’s calendar in the client’s zone', async () => {
    const res = await get(`client=${CONTOSO_TENANT_ID}&from=2026-03-16&to=2026-04-13`, people.tina);
    assert.equal(res.status, 200);
    assert.equal(res.body.timeZone, 'Europe/London');
    assert.deepEqual(ids(res.body), [
      s.firewall.id,
      s.switchUpgrade.id,
      s.mailbox.id,
      s.licences.id,
      s.directorySync.id,
    ]);
    assert.equal((res.body.windows as unknown[]).length, 4);
    assert.equal((res.body.blackouts as unknown[]).length, 1);
  });

  it('gives an MSP lead all their clients when no client is named', async () => {
    const res = await get('from=2026-03-16T00:00:00Z&to=2026-04-13T00:00:00Z', people.lena);
    assert.equal(res.status, 200);
    assert.equal(res.body.mspWide, true);
    assert.ok(ids(res.body).includes(s.fabrikamVpn.id));
    assert.ok(ids(res.body).includes(s.firewall.id));
  });

  it('takes identity only from the token: no token is 401, another client is 404', async () => {
    const anonymous = await get(`client=${CONTOSO_TENANT_ID}&from=2026-03-16&to=2026-04-13`);
    assert.equal(anonymous.status, 401);

    const carla = await get(
      `client=${FABRIKAM_TENANT_ID}&from=2026-03-16&to=2026-04-13`,
      people.carla,
    );
    assert.equal(carla.status, 404);
    assert.equal(code(carla.body), 'CLIENT.NOT_FOUND');
    assert.ok(!JSON.stringify(carla.body).includes(s.fabrikamVpn.id));
  });

  it('refuses a missing or over-long range with the fields to fix', async () => {
    const missing = await get(`client=${CONTOSO_TENANT_ID}`, people.tina);
    assert.equal(missing.status, 400);
    assert.deepEqual(
      (missing.body.error as { issues: { field: string }[] }).issues.map((i) => i.field),
      ['from', 'to'],
    );
    const long = await get('from=2026-01-01&to=2026-04-01', people.tina);
    assert.equal(long.status, 400);
    assert.match((long.body.error as { message: string }).message, /at most 43 days/);
  });
});
