import assert from 'node:assert/strict';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import { slaWallboard } from '../../src/application/use-cases/sla-wallboard';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { RecordingNotifier, validFields } from '../support/fixtures';

const MINUTE = 60_000;

/**
 * The wallboard over real requests: raised through the use case, synced into the Table index by
 * the relay, their SLA clocks computed by the machine under each client's rules.
 */
describe('slaWallboard over the open-request index (Azurite)', () => {
  const azurite = useAzurite();
  let clock: FakeClock;
  let storage: TableStorage;

  before(async () => {
    // Wednesday 10:00 in London (inside Contoso's business hours) and 05:00 in New York (outside Fabrikam's).
    clock = new FakeClock(new Date('2026-11-25T10:00:00.000Z'));
    storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
  });

  const deps = () => ({
    ...storage,
    templates: storage.catalogue(MSP.tenantId),
    clock,
    mspTenantId: MSP.tenantId,
  });

  async function raise(who: typeof CONTOSO.carla, type: 'incident' | 'general') {
    const result = await submitChange(deps(), {
      actor: asPerson(who),
      type,
      fields: validFields(type),
    });
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    return result.value.request;
  }

  async function sync() {
    await new OutboxRelay(
      {
        outbox: storage.outbox,
        notifier: new RecordingNotifier(),
        clients: storage.clients,
        clock,
        openRequests: { index: storage.openRequests, requests: storage.requests },
      },
      { random: () => 1 },
    ).sweep();
  }

  it('counts down each running clock and calls it breached once its time passes', async () => {
    const incident = await raise(CONTOSO.carla, 'incident');
    const general = await raise(FABRIKAM.fiona, 'general');
    await sync();

    clock.advance(10 * MINUTE);
    const early = await slaWallboard(deps(), { actor: asPerson(MSP.lena) });
    assert.ok(early.ok);
    assert.deepEqual(
      early.value.clients.map((c) => [c.code, c.open, c.byType]),
      [
        ['CONTOSO', 1, { incident: 1 }],
        ['FABRIKAM', 1, { general: 1 }],
      ],
    );
    // An incident's 15 minutes run round the clock: 5 left.
    const first = early.value.closest[0];
    assert.deepEqual(
      [first?.requestId, first?.clock, first?.minutesToBreach],
      [incident.id, 'acknowledge', 5],
    );
    // Fabrikam's general request waits for its business hours (09:00 in New York) to start counting.
    const fabrikamAck = early.value.closest.find(
      (d) => d.requestId === general.id && d.clock === 'acknowledge',
    );
    assert.ok(fabrikamAck && fabrikamAck.minutesToBreach > 4 * 60);
    assert.equal(early.value.totals.breachesToday, 0);

    clock.advance(10 * MINUTE);
    const late = await slaWallboard(deps(), { actor: asPerson(MSP.lena) });
    assert.ok(late.ok);
    assert.deepEqual(
      [late.value.closest[0]?.minutesToBreach, late.value.closest[0]?.state],
      [-5, 'breached'],
    );
    assert.equal(late.value.clients[0]?.byState.breached, 1);
    assert.deepEqual([late.value.totals.breachesToday, late.value.totals.breachesThisWeek], [1, 1]);

    const theo = await slaWallboard(deps(), { actor: asPerson(MSP.theo) });
    assert.ok(theo.ok);
    assert.equal(theo.value.totals.open, 2);
    const tina = await slaWallboard(deps(), { actor: asPerson(MSP.tina) });
    assert.ok(tina.ok);
    assert.deepEqual(
      tina.value.clients.map((c) => c.code),
      ['CONTOSO'],
    );
  });

  it('refuses the client’s own people', async () => {
    const carla = await slaWallboard(deps(), { actor: asPerson(CONTOSO.carla) });
    assert.ok(!carla.ok);
    assert.equal(carla.error.code, 'ACCESS.MSP_ONLY');
  });
});
