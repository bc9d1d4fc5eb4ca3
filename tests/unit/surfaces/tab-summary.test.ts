import { strict as assert } from 'node:assert';
import type { Person } from '../../../src/domain/change-request/change-request';
import {
  contosoProfile,
  createHarness,
  fabrikamProfile,
  people,
  seedClients,
  type Harness,
} from '../../support/fixtures';
import { bookNovember, type NovemberScenario } from '../../support/summary-fixtures';
import { startTabApi, type TabApiServer, type TabJson } from '../../support/tab-api-server';
import { signingKey, type SigningKey } from '../../support/tab-tokens';

/** `GET /api/tab/summary` over real HTTP, with Teams-SSO-like tokens. */
describe('Tab monthly summary API', () => {
  let key: SigningKey;
  let h: Harness;
  let api: TabApiServer;
  let s: NovemberScenario;

  before(async () => {
    key = await signingKey();
    h = createHarness();
    await seedClients(h);
    s = await bookNovember(h.deps, { contoso: contosoProfile(), fabrikam: fabrikamProfile() });
    api = await startTabApi({ surface: { useCases: h.deps }, key, now: () => h.clock.now() });
  });

  after(() => api.close());

  const get = (query: string, who?: Person): Promise<TabJson> => api.call(who, `summary?${query}`);
  const code = (body: Record<string, unknown>) => (body.error as { code: string }).code;

  it('answers a client approver with the month by client code', async () => {
    const res = await get('client=CONTOSO&month=2026-11', people.andy);
    assert.equal(res.status, 200);
    assert.equal(res.body.total, 6);
    assert.deepEqual(
      (res.body.standard as { id: string; templateName: string }[]).map((c) => [
        c.id,
        c.templateName,
      ]),
      [[s.standard.id, 'Add a Business Premium licence']],
    );
    assert.deepEqual(res.body.emergencyQuota, {
      count: 3,
      quota: 2,
      overBy: 1,
      flagged: true,
      line: '3 emergencies, quota 2: over by 1',
    });
  });

  it('defaults to this month and the caller’s only client', async () => {
    const res = await get('', people.carla);
    assert.equal(res.status, 200);
    assert.equal(res.body.month, '2026-11');
    assert.equal((res.body.client as { code: string }).code, 'CONTOSO');
  });

  it('takes identity only from the token: none is 401, another client 404, a bad month 400', async () => {
    assert.equal((await get('client=CONTOSO')).status, 401);
    const other = await get('client=FABRIKAM&month=2026-11', people.carla);
    assert.equal(other.status, 404);
    assert.equal(code(other.body), 'CLIENT.NOT_FOUND');
    assert.ok(!JSON.stringify(other.body).includes(s.fabrikam.id));
    const bad = await get('client=CONTOSO&month=2026-13', people.tina);
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /YYYY-MM/);
  });
});
