import assert from 'node:assert/strict';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { ChangeRequestStore } from '../../src/application/ports/change-request-store';
import type { OpenRequestIndex } from '../../src/application/ports/open-request-index';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import type { TenantId } from '../../src/domain/shared/ids';
import { newTenant, profile, request, write } from '../contract/contract-support';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { RecordingNotifier } from '../support/fixtures';

const LEASE_MS = 30_000;

describe('OutboxRelay keeping the open-request index (Azurite)', () => {
  const azurite = useAzurite();
  let clock: FakeClock;
  let storage: TableStorage;
  let tenant: TenantId;

  beforeEach(async () => {
    clock = new FakeClock();
    storage = await azurite.newStorage({ clock });
    tenant = newTenant();
    await storage.clients.create(profile(tenant), []);
  });

  function relay(
    overrides: { index?: OpenRequestIndex; requests?: Pick<ChangeRequestStore, 'get'> } = {},
  ): OutboxRelay {
    return new OutboxRelay(
      {
        outbox: storage.outbox,
        notifier: new RecordingNotifier(),
        clients: storage.clients,
        clock,
        openRequests: {
          index: overrides.index ?? storage.openRequests,
          requests: overrides.requests ?? storage.requests,
        },
      },
      { leaseMs: LEASE_MS, random: () => 1, baseDelayMs: 1_000 },
    );
  }

  async function indexRows(status?: 'pending' | 'done') {
    return (await storage.outbox.list(tenant, status ? { statuses: [status] } : {})).filter(
      (row) => row.message.kind === 'index.sync',
    );
  }

  it('brings every request change into the index, and takes the request out when it closes', async () => {
    const sut = relay();
    const created = await storage.requests.create(tenant, (n) => write(request(tenant, n)));
    await sut.sweep();
    assert.equal((await storage.openRequests.get(tenant, created.request.id))?.status, 'submitted');

    const triaged = await storage.requests.update(
      tenant,
      created.etag,
      write({ ...created.request, status: 'triaged', version: 2 }),
    );
    await sut.sweep();
    const entry = await storage.openRequests.get(tenant, created.request.id);
    assert.deepEqual([entry?.status, entry?.version], ['triaged', 2]);

    await storage.requests.update(
      tenant,
      triaged.etag,
      write({ ...triaged.request, status: 'closed', version: 3 }),
    );
    await sut.sweep();
    assert.equal(await storage.openRequests.get(tenant, created.request.id), undefined);
    assert.deepEqual(await storage.openRequests.list(), []);
    assert.equal((await indexRows('done')).length, 3);
    assert.deepEqual(await indexRows('pending'), []);
  });

  it('catches up on the next sweep after an instance crashed holding the row', async () => {
    const created = await storage.requests.create(tenant, (n) => write(request(tenant, n)));
    // An instance claims the row and dies before syncing it: nothing reaches the index.
    assert.equal(
      (await storage.outbox.claimDue(tenant, clock.now(), { leaseMs: LEASE_MS })).length,
      1,
    );

    const survivor = relay();
    await survivor.sweep();
    assert.equal(await storage.openRequests.get(tenant, created.request.id), undefined);

    clock.advance(LEASE_MS);
    await survivor.sweep();
    assert.equal((await storage.openRequests.get(tenant, created.request.id))?.version, 1);
    assert.deepEqual(await indexRows('pending'), []);
  });

  it('retries a sync that failed, like any other row', async () => {
    const created = await storage.requests.create(tenant, (n) => write(request(tenant, n)));
    let failures = 1;
    const flaky: OpenRequestIndex = {
      sync: (r) =>
        failures-- > 0 ? Promise.reject(new Error('storage hiccup')) : storage.openRequests.sync(r),
      list: (o) => storage.openRequests.list(o),
      get: (t, id) => storage.openRequests.get(t, id),
      outcomes: (o) => storage.openRequests.outcomes(o),
    };
    const sut = relay({ index: flaky });

    await sut.sweep();
    const [failed] = await indexRows('pending');
    assert.deepEqual([failed?.attempts, failed?.lastError], [1, 'Error: storage hiccup']);
    assert.equal(await storage.openRequests.get(tenant, created.request.id), undefined);

    clock.advance(1_000);
    await sut.sweep();
    assert.equal((await storage.openRequests.get(tenant, created.request.id))?.version, 1);
  });

  it('never brings back a closed request from a stale read of another instance', async () => {
    const created = await storage.requests.create(tenant, (n) => write(request(tenant, n)));
    await relay().sweep();
    const closed = await storage.requests.update(
      tenant,
      created.etag,
      write({ ...created.request, status: 'closed', version: 2 }),
    );
    // A fast instance has already removed the closed request from the index...
    await storage.openRequests.sync(closed.request);
    // ...while a slow one read version 1 before the close and syncs the close's row only now.
    let reads = 0;
    const slowReads: Pick<ChangeRequestStore, 'get'> = {
      get: async (t, id) =>
        reads++ === 0
          ? { request: created.request, etag: created.etag }
          : storage.requests.get(t, id),
    };
    await relay({ requests: slowReads }).sweep();

    assert.ok(reads >= 2, 'it read the request again after syncing');
    assert.equal(await storage.openRequests.get(tenant, created.request.id), undefined);
    assert.deepEqual(await indexRows('pending'), []);
  });

  it('treats a row whose request no longer exists as done', async () => {
    await storage.requests.create(tenant, (n) => write(request(tenant, n)));
    const gone: Pick<ChangeRequestStore, 'get'> = { get: () => Promise.resolve(undefined) };
    await relay({ requests: gone }).sweep();
    assert.deepEqual(await indexRows('pending'), []);
    assert.deepEqual(await storage.openRequests.list(), []);
  });
});
