import assert from 'node:assert/strict';
import { openTable } from '../../src/adapters/storage/table-connection';
import { tableNames } from '../../src/adapters/storage/table-storage';
import type { SlaSnapshot } from '../../src/domain/sla/sla';
import { useAzurite } from '../support/azurite-fixture';
import { InMemoryOpenRequestIndex } from '../fakes/in-memory-open-request-index';
import { newTenant, request } from './contract-support';
import { describeOpenRequestIndexContract } from './open-request-index.contract';

describeOpenRequestIndexContract('in memory', () =>
  Promise.resolve(new InMemoryOpenRequestIndex()),
);

describe('Open-request index on Azurite', () => {
  const azurite = useAzurite();

  describeOpenRequestIndexContract(
    'table storage',
    async () => (await azurite.newStorage()).openRequests,
  );

  it('builds its keys from validated ids only, spread over a few fixed shards', async () => {
    const storage = await azurite.newStorage();
    const tenant = newTenant();
    for (let n = 1; n <= 40; n += 1)
      await storage.openRequests.sync(
        request(tenant, n, { title: `Printer / scanner \\ #${n}? 'quoted' ${'\u0007'}` }),
      );
    const table = openTable(azurite.connectionString, tableNames(storage.prefix).openRequests);
    const keys: { partitionKey: string; rowKey: string }[] = [];
    for await (const entity of table.listEntities())
      keys.push({ partitionKey: entity.partitionKey!, rowKey: entity.rowKey! });

    assert.equal(keys.length, 40);
    for (const { partitionKey, rowKey } of keys) {
      assert.match(partitionKey, /^s[0-7]$/);
      assert.match(rowKey, new RegExp(`^${tenant}_r_[0-9]{10}$`));
    }
    assert.ok(new Set(keys.map((k) => k.partitionKey)).size > 1, 'entries spread over shards');
    const entry = await storage.openRequests.get(tenant, request(tenant, 3).id);
    assert.equal(entry?.title, `Printer / scanner \\ #3? 'quoted' ${'\u0007'}`);
  });

  it('keeps an ended request’s SLA outcome under its UTC month, keyed by validated ids', async () => {
    const storage = await azurite.newStorage();
    const tenant = newTenant();
    const sla: SlaSnapshot = {
      acknowledge: {
        targetMinutes: 60,
        dueAt: '2026-11-30T10:00:00.000Z',
        usedMinutes: 60,
        state: 'breached',
      },
      resolve: {
        targetMinutes: 480,
        dueAt: '2026-11-30T18:00:00.000Z',
        usedMinutes: 60,
        state: 'on_track',
      },
      state: 'breached',
      computedAt: '2026-11-30T23:00:00.000Z',
    };
    await storage.openRequests.sync(
      request(tenant, 12, { status: 'cancelled', sla, updatedAt: '2026-11-30T23:30:00.000Z' }),
    );
    const table = openTable(azurite.connectionString, tableNames(storage.prefix).openRequests);
    const keys: string[] = [];
    for await (const entity of table.listEntities())
      keys.push(`${entity.partitionKey}|${entity.rowKey}`);

    assert.deepEqual(keys, [`o202611|${tenant}_r_0000000012`]);
    assert.equal(
      (await storage.openRequests.outcomes({ since: '2026-12-01T00:00:00.000Z' })).length,
      0,
    );
  });
});
