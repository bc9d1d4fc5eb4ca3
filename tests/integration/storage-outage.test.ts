import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageUnavailableError } from '../../src/application/ports/errors';
import { createTableStorage, type TableStorage } from '../../src/adapters/storage/table-storage';
import { verifyAuditChain } from '../../src/cli/audit.command';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { event, newTenant, notify, rejection, request, write } from '../contract/contract-support';
import { uniquePrefix } from '../support/azurite-fixture';

describe('Table Storage while storage is down', function () {
  this.timeout(60_000);
  const tenant = newTenant();
  let location: string;
  let azurite: RunningAzurite | undefined;
  let storage: TableStorage;

  before(async () => {
    location = mkdtempSync(join(tmpdir(), 'cabinet-outage-'));
    azurite = await startAzurite({ location });
    storage = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: uniquePrefix(),
    });
    await storage.ensureTables();
  });

  after(async () => {
    await azurite?.stop();
    rmSync(location, { recursive: true, force: true });
  });

  it('fails with StorageUnavailableError, and after a restart nothing is half-written', async () => {
    const created = await storage.requests.create(tenant, (n) =>
      write(request(tenant, n), [notify(tenant, `CONTOSO-${n}`)]),
    );
    await storage.audit.append(tenant, [event(tenant, { before: true })]);
    const port = azurite!.port;
    await azurite!.stop();

    const failures = await Promise.all([
      rejection(storage.audit.append(tenant, [event(tenant, { during: 1 })])),
      rejection(
        storage.requests.update(
          tenant,
          created.etag,
          write(request(tenant, 1, { version: 2 }), [notify(tenant, 'CONTOSO-1')]),
        ),
      ),
      rejection(storage.requests.create(tenant, (n) => write(request(tenant, n)))),
      rejection(storage.outbox.claimDue(tenant, new Date())),
      rejection(storage.ping()),
    ]);
    for (const failure of failures)
      assert.ok(failure instanceof StorageUnavailableError, String(failure));

    azurite = await startAzurite({ location, port });

    assert.deepEqual(await storage.requests.get(tenant, created.request.id), created);
    assert.equal(await storage.requests.get(tenant, 'CONTOSO-2' as ChangeRequestId), undefined);
    assert.deepEqual(
      (await storage.outbox.list(tenant)).map((row) => row.message.kind),
      ['teams.notify', 'index.sync'],
      'only the rows of the create that landed',
    );
    const entries = await storage.audit.read(tenant);
    assert.deepEqual(
      entries.map(
        (e) => (JSON.parse(e.canonical) as { payload: Record<string, unknown> }).payload['during'],
      ),
      [undefined, undefined],
    );
    assert.deepEqual(await verifyAuditChain(storage.audit, tenant), {
      ok: true,
      count: 2,
      headHash: entries[1]!.hash,
    });

    await storage.audit.append(tenant, [event(tenant, { after: true })]);
    assert.equal((await verifyAuditChain(storage.audit, tenant)).ok, true);
    assert.equal((await storage.audit.head(tenant))?.seq, 3);
  });
});
