import assert from 'node:assert/strict';
import { InvalidStorageKeyError } from '../../src/adapters/storage/table-keys';
import {
  assertEntityGroup,
  EntityGroupError,
  submitEntityGroup,
  type EntityAction,
} from '../../src/adapters/storage/entity-group';
import { PartitionCommitter } from '../../src/adapters/storage/partition-committer';
import { runEntity } from '../../src/adapters/storage/run-record';
import { openTable } from '../../src/adapters/storage/table-connection';
import { classifyStorageError } from '../../src/adapters/storage/table-errors';
import { tableNames } from '../../src/adapters/storage/table-storage';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import type { RunId } from '../../src/domain/execution/execution-run';
import type { ChangeRequestId, ObjectId, TenantId } from '../../src/domain/shared/ids';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { describeAuditLogContract } from './audit-log.contract';
import { describeChangeRequestStoreContract } from './change-request-store.contract';
import { describeClientDirectoryContract } from './client-directory.contract';
import {
  event,
  newOid,
  newTenant,
  profile,
  rejection,
  request,
  write,
  type MakeStorage,
} from './contract-support';
import { describeConversationStoreContract } from './conversation-store.contract';
import { describeDataKeyringContract } from './data-keyring.contract';
import { describeExecutionStoreContract } from './execution-store.contract';
import { run, runNear, type MakeExecutionStorage } from './execution-support';
import { describeOutboxStoreContract } from './outbox-store.contract';
import { describePasswordVaultContract } from './password-vault.contract';

describe('Table Storage adapters on Azurite', () => {
  const azurite = useAzurite();
  const make: MakeStorage = async () => {
    const clock = new FakeClock();
    return { ...(await azurite.newStorage({ clock })), clock };
  };

  describeChangeRequestStoreContract('table storage', make);
  describeAuditLogContract('table storage', make);
  describeClientDirectoryContract('table storage', make);
  describeOutboxStoreContract('table storage', make);
  describeConversationStoreContract('table storage', make);
  describeDataKeyringContract('table storage', make);

  const makeExecution: MakeExecutionStorage = async () => {
    const clock = new FakeClock();
    const storage = await azurite.newStorage({ clock });
    return {
      ...storage,
      clock,
      async storedText() {
        const rows: unknown[] = [];
        for (const name of Object.values(tableNames(storage.prefix))) {
          for await (const row of openTable(azurite.connectionString, name).listEntities())
            rows.push(row);
        }
        return JSON.stringify(rows);
      },
    };
  };
  describeExecutionStoreContract('table storage', makeExecution);
  describePasswordVaultContract('table storage', makeExecution);

  describe('storage keys', () => {
    it('refuses raw user strings where a validated id belongs', async () => {
      const sut = await make();
      const tenant = newTenant();
      const bad = ['Contoso', "x' or 1 eq 1", 'a/b', 'C0A7050A-0000-4000-8000-000000000002', ''];

      for (const value of bad) {
        assert.ok(
          (await rejection(
            sut.requests.get(value as TenantId, 'CONTOSO-1' as ChangeRequestId),
          )) instanceof InvalidStorageKeyError,
          value,
        );
        assert.ok(
          (await rejection(sut.audit.append(value as TenantId, [event(tenant)]))) instanceof
            InvalidStorageKeyError,
          value,
        );
        assert.ok(
          (await rejection(sut.conversations.get(tenant, value as ObjectId))) instanceof
            InvalidStorageKeyError,
          value,
        );
        assert.ok(
          (await rejection(sut.keyring.current(value as TenantId))) instanceof
            InvalidStorageKeyError,
          value,
        );
      }
      assert.ok(
        (await rejection(
          sut.clients.create(profile(tenant, { code: 'ab/c' as never }), []),
        )) instanceof InvalidStorageKeyError,
      );
      assert.ok(
        (await rejection(
          sut.requests.create(tenant, (n) => write(request(tenant, n, { tenantId: newTenant() }))),
        )) instanceof Error,
      );
    });
  });

  describe('entity-group assertions', () => {
    const row = (partitionKey: string, rowKey: string): EntityAction => ({
      kind: 'create',
      entity: { partitionKey, rowKey },
    });

    it('refuses a cross-partition batch before it reaches storage', async () => {
      const table = openTable(azurite.connectionString, 'crosspartition');
      await table.createTable();

      const error = await rejection(submitEntityGroup(table, [row('a', '1'), row('b', '1')]));

      assert.ok(error instanceof EntityGroupError);
      assert.match(error.message, /one PartitionKey/);
      const stored = [];
      for await (const entity of table.listEntities()) stored.push(entity);
      assert.deepEqual(stored, []);
    });

    it('refuses more than 100 entities, a row twice, or 4 MiB', () => {
      assert.throws(
        () => assertEntityGroup(Array.from({ length: 101 }, (_, i) => row('a', String(i)))),
        EntityGroupError,
      );
      assert.throws(() => assertEntityGroup([row('a', '1'), row('a', '1')]), EntityGroupError);
      const big = (i: number): EntityAction => ({
        kind: 'create',
        entity: { partitionKey: 'a', rowKey: String(i), v: 'x'.repeat(45_000) },
      });
      assert.throws(
        () => assertEntityGroup(Array.from({ length: 100 }, (_, i) => big(i))),
        /4 MiB/,
      );
      assert.throws(() => assertEntityGroup([]), EntityGroupError);
      assertEntityGroup(Array.from({ length: 100 }, (_, i) => row('a', String(i))));
    });
  });

  describe('group commit', () => {
    it('groups concurrent commits of one tenant into few transactions', async () => {
      const sut = await azurite.newStorage();
      const tenant = newTenant();

      await Promise.all(
        Array.from({ length: 100 }, (_, i) => sut.audit.append(tenant, [event(tenant, { i })])),
      );

      assert.ok(sut.commitStats.transactions <= 3, `${sut.commitStats.transactions} transactions`);
      assert.equal(sut.commitStats.entries, 100);
    });

    it('commits the rest of a group one by one when one member breaks the transaction', async () => {
      const sut = await azurite.newStorage();
      const data = tableNames(sut.prefix).data;
      const committer = new PartitionCommitter(
        openTable(azurite.connectionString, data, { sdkRetries: false }),
        openTable(azurite.connectionString, data),
        new FakeClock(),
      );
      const tenant = newTenant();
      const chainable = (n: number) => ({
        type: 'request.submitted',
        actor: { tid: tenant, oid: newOid() },
        requestId: null,
        payload: { n },
      });

      const [before, broken, after] = await Promise.allSettled([
        committer.commit(tenant, () => ({ ops: [], events: [chainable(1)], outbox: [] })),
        committer.commit(tenant, () => ({
          ops: [
            {
              kind: 'create',
              entity: { partitionKey: tenant, rowKey: 'x', v: 'x'.repeat(40_000) },
              onConflict: 'conflict',
            },
          ],
          events: [chainable(2)],
          outbox: [],
        })),
        committer.commit(tenant, () => ({ ops: [], events: [chainable(3)], outbox: [] })),
      ]);

      assert.equal(before.status, 'fulfilled');
      assert.ok(broken.status === 'rejected');
      assert.deepEqual(classifyStorageError(broken.reason), {
        kind: 'status',
        status: 400,
        code: 'PropertyValueTooLarge',
      });
      assert.equal(after.status, 'fulfilled');
      const entries = await sut.audit.read(tenant);
      assert.equal(verifyChain(tenant, entries).ok, true);
      assert.deepEqual(
        entries.map((e) => (JSON.parse(e.canonical) as { payload: { n: number } }).payload.n),
        [1, 3],
      );
    });
  });

  it('builds run and password keys only from validated tenants and numbers', async () => {
    const sut = await makeExecution();
    const at = sut.clock.now();
    for (const value of ['Contoso', "x' or 1 eq 1", 'a/b', '']) {
      const tenant = value as TenantId;
      for (const attempt of [
        sut.runs.get(tenant, '1-1' as RunId),
        sut.runs.listForRequest(tenant, 1),
        sut.passwords.take(tenant, '1-1' as RunId, at),
        sut.passwords.available(tenant, '1-1' as RunId, at),
      ])
        assert.ok((await rejection(attempt)) instanceof InvalidStorageKeyError, value);
    }
    for (const number of [0, -1, 1.5, 10_000_000_000])
      assert.ok(
        (await rejection(sut.runs.listForRequest(newTenant(), number))) instanceof
          InvalidStorageKeyError,
        String(number),
      );
  });

  it('keeps a run at the size limit under Azure’s 1 MiB entity and 64 KiB property limits', async () => {
    const tenant = newTenant();
    const entity = await runEntity(tenant, runNear(run(tenant, 1)));

    // Azure's entity size: 4 + keys in UTF-16 + per property 8 + name in UTF-16 + value (String: 4 + UTF-16).
    let bytes = 4 + (entity.partitionKey.length + entity.rowKey.length) * 2;
    for (const [name, value] of Object.entries(entity)) {
      if (name === 'partitionKey' || name === 'rowKey') continue;
      const size = typeof value === 'string' ? 4 + value.length * 2 : 8;
      assert.ok(size <= 64 * 1024, `${name} is ${size} bytes`);
      bytes += 8 + name.length * 2 + size;
    }
    assert.ok(bytes < 1024 * 1024, `${bytes} bytes`);
    assert.ok(Object.keys(entity).length <= 252);
  });

  it('keeps card keys and conversation keys free of raw strings', async () => {
    const sut = await make();
    const tid = newTenant();
    const oid = newOid();
    await sut.conversations.saveCardActivity(tid, oid, 'approval/../#?\u0001', 'activity-1');
    assert.equal(
      await sut.conversations.getCardActivity(tid, oid, 'approval/../#?\u0001'),
      'activity-1',
    );
  });
});
