import { strict as assert } from 'node:assert';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import type { Person } from '../../../src/domain/shared/person';
import { CONTOSO, FABRIKAM, MSP } from '../../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../../fakes/in-memory-storage';
import { asPerson, onboardSandboxClients } from '../../support/client-settings-fixture';
import { startTabApi, type TabApiServer } from '../../support/tab-api-server';
import { signingKey, type SigningKey } from '../../support/tab-tokens';

const andy = asPerson(CONTOSO.andy);
const avery = asPerson(CONTOSO.avery);
const lena = asPerson(MSP.lena);
const tina = asPerson(MSP.tina);
const fiona = asPerson(FABRIKAM.fiona);

describe('Tab delegations API', () => {
  let key: SigningKey;
  let clock: FakeClock;
  let storage: ReturnType<typeof createInMemoryStorage>;
  let api: TabApiServer;

  before(async () => {
    key = await signingKey();
  });

  beforeEach(async () => {
    clock = new FakeClock(new Date('2026-03-02T09:00:00.000Z'));
    storage = createInMemoryStorage(clock);
    await onboardSandboxClients(storage);
    api = await startTabApi({
      surface: {
        useCases: {
          ...storage,
          templates: storage.catalogue(MSP.tenantId),
          mspTenantId: MSP.tenantId,
        },
      },
      key,
      now: () => clock.now(),
    });
  });

  afterEach(() => api.close());

  const call = (person: Person | undefined, method: string, path: string, body?: unknown) =>
    api.call(person, path, { method, body });

  const inAWeek = () => new Date(clock.now().getTime() + 7 * 24 * 3600_000).toISOString();

  it('creates, lists and revokes a delegation for the signed-in approver only', async () => {
    const options = await call(andy, 'GET', 'delegations');
    assert.equal(options.status, 200);
    assert.deepEqual(options.body['options'], [
      {
        client: 'CONTOSO',
        clientName: 'Contoso Ltd',
        candidates: [
          { oid: avery.oid, name: 'Avery Approver' },
          { oid: CONTOSO.carla.oid, name: 'Carla Admin' },
        ],
      },
    ]);

    const created = await call(andy, 'POST', 'delegations', {
      client: 'CONTOSO',
      to: avery.oid,
      riskCeiling: 'medium',
      validUntil: inAWeek(),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const delegation = created.body['delegation'] as Record<string, unknown>;
    assert.equal(delegation['from'], 'Andy Approver');
    assert.equal(delegation['to'], 'Avery Approver');
    assert.equal(delegation['inForce'], true);
    const id = String(delegation['id']);

    const received = await call(avery, 'GET', 'delegations');
    const mine = received.body['mine'] as Array<Record<string, unknown>>;
    assert.deepEqual(
      mine.map((d) => [d['id'], d['mine'], d['mayRevoke']]),
      [[id, false, false]],
    );
    const led = (await call(lena, 'GET', 'delegations')).body['led'] as Array<
      Record<string, unknown>
    >;
    assert.deepEqual(
      led.map((c) => [c['client'], (c['delegations'] as unknown[]).length]),
      [
        ['CONTOSO', 1],
        ['FABRIKAM', 0],
      ],
    );

    const byDelegate = await call(avery, 'POST', `delegations/${id}/revoke`);
    assert.equal(byDelegate.status, 403);
    assert.equal(
      (byDelegate.body['error'] as Record<string, unknown>)['code'],
      'ACCESS.NOT_DELEGATOR',
    );
    const revoked = await call(andy, 'POST', `delegations/${id}/revoke`);
    assert.equal(revoked.status, 200);
    assert.equal((revoked.body['delegation'] as Record<string, unknown>)['inForce'], false);

    const chain = await storage.audit.read(CONTOSO.tenantId);
    assert.equal(verifyChain(CONTOSO.tenantId, chain).ok, true);
    assert.deepEqual(
      chain.slice(-2).map((e) => (JSON.parse(e.canonical) as { type: string }).type),
      ['delegation.created', 'delegation.revoked'],
    );
  });

  it('takes the delegator from the token, refuses the other side and unsigned calls', async () => {
    const toMsp = await call(andy, 'POST', 'delegations', {
      client: 'CONTOSO',
      to: tina.oid,
      riskCeiling: 'low',
      validUntil: inAWeek(),
    });
    assert.equal(toMsp.status, 400);
    assert.deepEqual(
      ((toMsp.body['error'] as Record<string, unknown>)['issues'] as Array<{ field: string }>).map(
        (i) => i.field,
      ),
      ['to'],
    );
    const stranger = await call(fiona, 'POST', 'delegations', {
      client: 'CONTOSO',
      to: avery.oid,
      riskCeiling: 'low',
      validUntil: inAWeek(),
    });
    assert.equal(stranger.status, 404);
    const unsigned = await call(undefined, 'GET', 'delegations');
    assert.equal(unsigned.status, 401);
    const missing = await call(andy, 'POST', 'delegations', { client: 'CONTOSO' });
    assert.equal(missing.status, 400);
    assert.deepEqual(await storage.delegations.list(CONTOSO.tenantId), []);
  });
});
