import { strict as assert } from 'node:assert';
import type { Person } from '../../../src/domain/change-request/change-request';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  seedClients,
  type Harness,
} from '../../support/fixtures';
import { startTabApi, type TabApiServer, type TabJson } from '../../support/tab-api-server';
import { signingKey, type SigningKey } from '../../support/tab-tokens';
import { seededIndex, wallboardEntries, WALLBOARD_NOW } from '../../support/wallboard-fixtures';

/** `GET /api/tab/wallboard`, the chart bundle and the SLA part of the settings, over real HTTP. */
describe('Tab SLA wallboard API', () => {
  let key: SigningKey;
  let h: Harness;
  let api: TabApiServer;

  before(async () => {
    key = await signingKey();
    h = createHarness();
    await seedClients(h);
    h.clock.advance(WALLBOARD_NOW.getTime() - h.clock.now().getTime());
    api = await startTabApi({
      surface: { useCases: h.deps, openRequests: seededIndex(wallboardEntries()) },
      key,
      now: () => h.clock.now(),
    });
  });

  after(() => api.close());

  const get = (path: string, who?: Person): Promise<TabJson> => api.call(who, path);
  const post = (path: string, body: unknown, who: Person): Promise<TabJson> =>
    api.call(who, path, { body });
  const code = (body: Record<string, unknown>) => (body.error as { code: string }).code;

  it('answers an MSP lead with every client they serve, totals and the clocks closest to breach', async () => {
    const res = await get('wallboard', people.lena);
    assert.equal(res.status, 200);
    const totals = res.body.totals as Record<string, unknown>;
    assert.equal(totals.open, 8);
    assert.equal(totals.breachesToday, 1);
    assert.equal(totals.breachesThisWeek, 3);
    assert.deepEqual(
      (res.body.clients as { code: string; open: number }[]).map((c) => [c.code, c.open]),
      [
        ['CONTOSO', 4],
        ['FABRIKAM', 4],
      ],
    );
    const closest = res.body.closest as { requestId: string; minutesToBreach: number }[];
    assert.deepEqual(closest[0], {
      ...closest[0],
      requestId: 'FABRIKAM-3',
      minutesToBreach: -330,
    });
  });

  it('refuses a client admin with 403 and a signed-out caller with 401', async () => {
    const carla = await get('wallboard', people.carla);
    assert.equal(carla.status, 403);
    assert.equal(code(carla.body), 'ACCESS.MSP_ONLY');
    assert.doesNotMatch(JSON.stringify(carla.body), /FABRIKAM|CONTOSO-/);
    assert.equal((await get('wallboard')).status, 401);
  });

  it('serves chart.js from the installed package', async () => {
    const response = await fetch(`${api.url}/tab/vendor/chart.umd.min.js`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await response.text(), /Chart\.js v4\.5\.1/);
  });

  it('shows the effective SLA targets, business hours and holidays on the client settings', async () => {
    const res = await get('clients/CONTOSO/settings', people.andy);
    assert.equal(res.status, 200);
    const sla = res.body.sla as {
      targets: { type: string; acknowledgeMinutes: number; overridden: boolean }[];
      businessHours: { start: string; end: string };
      holidays: string[];
    };
    assert.deepEqual(
      sla.targets.find((t) => t.type === 'incident'),
      {
        type: 'incident',
        acknowledgeMinutes: 15,
        resolveMinutes: 240,
        businessHoursOnly: false,
        overridden: false,
      },
    );
    assert.equal(sla.targets.length, 6);
    assert.deepEqual([sla.businessHours.start, sla.businessHours.end], ['09:00', '17:30']);
    assert.deepEqual(sla.holidays, []);
  });

  it('lets an MSP lead change the SLA part, audited, and refuses an approver', async () => {
    const sla = {
      targets: { incident: { acknowledgeMinutes: 10 } },
      businessHours: { days: ['mon', 'tue', 'wed', 'thu'], start: '08:00', end: '18:00' },
      holidays: ['2026-12-25'],
    };
    const andy = await post('clients/CONTOSO/settings', { settings: { sla } }, people.andy);
    assert.equal(andy.status, 403);
    const bad = await post(
      'clients/CONTOSO/settings',
      { settings: { sla: { ...sla, holidays: ['25/12/2026'] } } },
      people.lena,
    );
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /sla\.holidays/);

    const saved = await post('clients/CONTOSO/settings', { settings: { sla } }, people.lena);
    assert.equal(saved.status, 200);
    assert.deepEqual(saved.body.changed, ['sla']);
    const shown = saved.body.sla as {
      targets: {
        type: string;
        acknowledgeMinutes: number;
        resolveMinutes: number;
        overridden: boolean;
      }[];
      holidays: string[];
    };
    assert.deepEqual(
      shown.targets
        .filter((t) => t.overridden)
        .map((t) => [t.type, t.acknowledgeMinutes, t.resolveMinutes]),
      [['incident', 10, 240]],
    );
    assert.deepEqual(shown.holidays, ['2026-12-25']);
    const chain = await h.storage.audit.read(CONTOSO_TENANT_ID);
    assert.match(chain.at(-1)!.canonical, /"type":"client.settings_changed"/);
    assert.match(chain.at(-1)!.canonical, /"parts":\["sla"\]/);
  });
});
