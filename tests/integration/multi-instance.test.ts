import assert from 'node:assert/strict';
import { ConcurrencyError } from '../../src/application/ports/errors';
import { createTableStorage, type TableStorage } from '../../src/adapters/storage/table-storage';
import { verifyAuditChain } from '../../src/cli/audit.command';
import { event, newTenant, notify, request, write } from '../contract/contract-support';
import { useAzurite } from '../support/azurite-fixture';

/** Several Cabinet instances on one storage: each has its own committer, so they race for real. */
describe('Table Storage shared by several instances (Azurite)', () => {
  const azurite = useAzurite();
  let instances: TableStorage[];

  beforeEach(async () => {
    const first = await azurite.newStorage();
    instances = [
      first,
      ...[1, 2].map(() =>
        createTableStorage({
          connectionString: azurite.connectionString,
          tablePrefix: first.prefix,
        }),
      ),
    ];
  });

  it('hands out distinct request numbers when instances create at once', async () => {
    const tenant = newTenant();

    const created = await Promise.all(
      instances.flatMap((storage) =>
        Array.from({ length: 5 }, () =>
          storage.requests.create(tenant, (n) =>
            write(request(tenant, n), [notify(tenant, `CONTOSO-${n}`)]),
          ),
        ),
      ),
    );

    assert.deepEqual(
      created.map((c) => c.request.number).sort((a, b) => a - b),
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    assert.equal((await verifyAuditChain(instances[0]!.audit, tenant)).ok, true);
    assert.equal((await instances[1]!.audit.read(tenant)).length, 15);
    const rows = await instances[2]!.outbox.list(tenant);
    assert.equal(rows.filter((row) => row.message.kind === 'teams.notify').length, 15);
    assert.equal(rows.filter((row) => row.message.kind === 'index.sync').length, 15);
    for (const c of created)
      assert.equal((await instances[0]!.requests.get(tenant, c.request.id))?.etag, c.etag);
  });

  it('retries an update while other instances move the head, and fails only a stale one', async () => {
    const tenant = newTenant();
    const [a, b, c] = instances as [TableStorage, TableStorage, TableStorage];
    const created = await a.requests.create(tenant, (n) => write(request(tenant, n)));
    const appends = [b, c].flatMap((storage) =>
      Array.from({ length: 30 }, (_, i) => storage.audit.append(tenant, [event(tenant, { i })])),
    );

    const [updated, stale] = await Promise.allSettled([
      a.requests.update(
        tenant,
        created.etag,
        write(request(tenant, 1, { version: 2 }), [], { winner: true }),
      ),
      c.requests.update(
        tenant,
        created.etag,
        write(request(tenant, 1, { version: 2 }), [], { loser: true }),
      ),
      ...appends,
    ]);

    const outcomes = [updated, stale].map((r) => r.status).sort();
    assert.deepEqual(outcomes, ['fulfilled', 'rejected']);
    const lost = [updated, stale].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(lost.reason instanceof ConcurrencyError);
    const entries = await a.audit.read(tenant);
    assert.equal(entries.length, 1 + 60 + 1);
    assert.equal((await verifyAuditChain(a.audit, tenant)).ok, true);
    assert.equal((await a.requests.get(tenant, created.request.id))?.request.version, 2);
  });
});
