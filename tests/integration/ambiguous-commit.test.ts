import assert from 'node:assert/strict';
import { StorageUnavailableError } from '../../src/application/ports/errors';
import { createTableStorage, type TableStorage } from '../../src/adapters/storage/table-storage';
import { verifyAuditChain } from '../../src/cli/audit.command';
import { azuriteConnectionString } from '../../src/sandbox/azurite';
import { event, newTenant, notify, rejection, request, write } from '../contract/contract-support';
import { run } from '../contract/execution-support';
import { useAzurite } from '../support/azurite-fixture';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy';

/** A transaction whose connection breaks may or may not have landed; the committer must find out, not guess. */
describe('Commits whose outcome the network hid (Azurite behind a cutting proxy)', () => {
  const azurite = useAzurite();
  let proxy: FlakyProxy;
  let storage: TableStorage;

  beforeEach(async () => {
    const direct = await azurite.newStorage();
    proxy = await startFlakyProxy(azurite.port);
    storage = createTableStorage({
      connectionString: azuriteConnectionString(proxy.port),
      tablePrefix: direct.prefix,
    });
  });

  afterEach(async () => {
    await proxy.close();
  });

  async function payloads(tenant: ReturnType<typeof newTenant>): Promise<unknown[]> {
    return (await storage.audit.read(tenant)).map(
      (e) => (JSON.parse(e.canonical) as { payload: { n: number } }).payload.n,
    );
  }

  it('recognises a transaction that landed before its response was lost, and does not write it twice', async () => {
    const tenant = newTenant();
    await storage.audit.append(tenant, [event(tenant, { n: 1 })]);

    proxy.dropNextTransaction('response');
    const head = await storage.audit.append(tenant, [
      event(tenant, { n: 2 }),
      event(tenant, { n: 3 }),
    ]);

    assert.equal(proxy.dropped, 1);
    assert.equal(head.seq, 3);
    assert.deepEqual(await payloads(tenant), [1, 2, 3]);
    assert.equal((await verifyAuditChain(storage.audit, tenant)).ok, true);
  });

  it('retries a transaction that never reached storage', async () => {
    const tenant = newTenant();
    await storage.audit.append(tenant, [event(tenant, { n: 1 })]);

    proxy.dropNextTransaction('request');
    const head = await storage.audit.append(tenant, [event(tenant, { n: 2 })]);

    assert.equal(proxy.dropped, 1);
    assert.equal(head.seq, 2);
    assert.deepEqual(await payloads(tenant), [1, 2]);
  });

  it('hands back a usable ETag for a request whose commit landed unseen', async () => {
    const tenant = newTenant();
    proxy.dropNextTransaction('response');
    const created = await storage.requests.create(tenant, (n) =>
      write(request(tenant, n), [notify(tenant, `CONTOSO-${n}`)]),
    );

    const updated = await storage.requests.update(
      tenant,
      created.etag,
      write(request(tenant, 1, { version: 2 })),
    );

    assert.equal(updated.request.version, 2);
    assert.deepEqual(
      (await storage.outbox.list(tenant)).map((row) => row.message.kind),
      ['teams.notify', 'index.sync', 'index.sync'],
    );
    assert.equal((await storage.audit.read(tenant)).length, 2);
  });

  it('reports an unknown outcome when a commit without entries or outbox rows is cut', async () => {
    const tenant = newTenant();
    // Request writes always carry an index.sync row now, so a bare run write is the commit with neither.
    proxy.dropNextTransaction('response');
    const error = await rejection(
      storage.runs.save(tenant, { run: run(tenant, 1), audit: [], outbox: [] }),
    );

    assert.ok(error instanceof StorageUnavailableError);
    assert.match(error.message, /outcome is unknown/);
  });
});
