import assert from 'node:assert/strict';
import { newTenant, profile, request, write } from '../contract/contract-support';
import { useAzurite } from '../support/azurite-fixture';
import { runCli } from '../support/run-cli';

describe('cabinet index rebuild (Table Storage on Azurite)', () => {
  const azurite = useAzurite();

  it('syncs every open request of every client into the index and drops the closed ones', async function () {
    this.timeout(60_000);
    const storage = await azurite.newStorage();
    const [a, b] = [newTenant(), newTenant()];
    await storage.clients.create(profile(a), []);
    await storage.clients.create(profile(b), []);
    // Written with no relay running, as data written before the index existed.
    const waiting = await storage.requests.create(a, (n) => write(request(a, n)));
    const closing = await storage.requests.create(a, (n) => write(request(a, n)));
    await storage.openRequests.sync(closing.request);
    await storage.requests.update(
      a,
      closing.etag,
      write({ ...closing.request, status: 'closed', version: 2 }),
    );
    const moved = await storage.requests.create(b, (n) => write(request(b, n)));
    await storage.openRequests.sync(moved.request);
    await storage.requests.update(
      b,
      moved.etag,
      write({ ...moved.request, status: 'approved', version: 2 }),
    );
    const env = {
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: storage.prefix,
    };

    const first = await runCli(['index', 'rebuild'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /Open-request index rebuilt: 2 open request\(s\) of 2 client\(s\) synced, 1 closed one\(s\) removed\./,
    );
    const entries = (await storage.openRequests.list())
      .map((e) => [e.tenantId, e.requestId, e.status, e.version])
      .sort();
    assert.deepEqual(
      entries,
      [
        [a, waiting.request.id, 'submitted', 1],
        [b, moved.request.id, 'approved', 2],
      ].sort(),
    );

    const again = await runCli(['index', 'rebuild'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await storage.openRequests.list()).length, 2);
    assert.equal((await runCli(['index', 'rebuilt'], env)).code, 2);
  });
});
