import { strict as assert } from 'node:assert';
import { sweepSla } from '../../../src/application/use-cases/sla-sweeper';
import type { ChangeRequestStore } from '../../../src/application/ports/change-request-store';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  raiseGeneral,
  seedClients,
} from '../../support/fixtures';

const MINUTE = 60_000;

describe(sweepSla.name, () => {
  it('computes each SLA from the index entry and reads a request only when it crosses a new threshold', async () => {
    const h = createHarness();
    await seedClients(h);
    const { request } = await raiseGeneral(h, people.carla);
    const index = h.storage.openRequests;
    await index.sync((await h.deps.requests.get(CONTOSO_TENANT_ID, request.id))!.request);

    let reads = 0;
    const requests: ChangeRequestStore = {
      ...h.deps.requests,
      get: (tenantId, id) => {
        reads += 1;
        return h.deps.requests.get(tenantId, id);
      },
      update: (tenantId, etag, write) => h.deps.requests.update(tenantId, etag, write),
      list: (tenantId, options) => h.deps.requests.list(tenantId, options),
      create: (tenantId, build) => h.deps.requests.create(tenantId, build),
    };
    const deps = { requests, clients: h.deps.clients, openRequests: index, clock: h.clock };

    assert.deepEqual(await sweepSla(deps), { checked: 1, alerts: 0 });
    assert.equal(reads, 0, 'a request on track is never read');

    // A general request is acknowledged within one business day (510 working minutes from Monday
    // 09:00 London); by Tuesday 10:00 it has used 570.
    h.clock.advance(25 * 60 * MINUTE);
    const swept = await sweepSla(deps);
    assert.equal(swept.alerts, 2, 'acknowledge at risk and breached, both recorded once');
    assert.equal(reads, 1);
    const stored = (await h.deps.requests.get(CONTOSO_TENANT_ID, request.id))!.request;
    assert.deepEqual([...(stored.slaPosted ?? [])].sort(), [
      'acknowledge.at_risk',
      'acknowledge.breached',
    ]);
    assert.equal(
      stored.version,
      request.version,
      'recording an alert is not a change of the request',
    );
  });
});
