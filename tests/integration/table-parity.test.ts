import assert from 'node:assert/strict';
import type { TableClient } from '@azure/data-tables';
import { submitEntityGroup, type EntityAction } from '../../src/adapters/storage/entity-group';
import { openTable } from '../../src/adapters/storage/table-connection';
import { classifyStorageError } from '../../src/adapters/storage/table-errors';
import { rejection } from '../contract/contract-support';
import { useAzurite, uniquePrefix } from '../support/azurite-fixture';

/** Azurite/Azure concurrency parity (reliability-security.md §6 T11): batches are all-or-nothing. */
describe('Entity-group transactions are atomic on the pinned Azurite', () => {
  const azurite = useAzurite();
  let table: TableClient;
  const pk = 'c0a7050a-0000-4000-8000-000000000002';
  const create = (rowKey: string): EntityAction => ({
    kind: 'create',
    entity: { partitionKey: pk, rowKey, v: 1 },
  });

  beforeEach(async () => {
    table = openTable(azurite.connectionString, uniquePrefix(), { sdkRetries: false });
    await table.createTable();
  });

  async function rows(): Promise<string[]> {
    const keys: string[] = [];
    for await (const entity of table.listEntities()) keys.push(entity.rowKey!);
    return keys.sort();
  }

  it('(a) fails a whole batch whose head update carries a stale ETag: none of its creates exist', async () => {
    const [stale] = await submitEntityGroup(table, [create('h')]);
    await table.updateEntity({ partitionKey: pk, rowKey: 'h', v: 2 }, 'Replace', { etag: stale });

    const error = await rejection(
      submitEntityGroup(table, [
        { kind: 'update', entity: { partitionKey: pk, rowKey: 'h', v: 3 }, etag: stale! },
        create('e_1'),
        create('e_2'),
        create('e_3'),
      ]),
    );

    assert.deepEqual(classifyStorageError(error), {
      kind: 'status',
      status: 412,
      code: 'UpdateConditionNotSatisfied',
    });
    assert.deepEqual(await rows(), ['h']);
    assert.equal((await table.getEntity<{ v: number }>(pk, 'h')).v, 2);
  });

  it('(b) fails a batch that creates an existing entry with 409, writing nothing', async () => {
    await submitEntityGroup(table, [create('e_1')]);

    const error = await rejection(
      submitEntityGroup(table, [create('e_2'), create('e_1'), create('e_3')]),
    );

    assert.deepEqual(classifyStorageError(error), {
      kind: 'status',
      status: 409,
      code: 'EntityAlreadyExists',
    });
    assert.deepEqual(await rows(), ['e_1']);
  });

  it('(c) rolls back the first update when the second has a wrong ETag', async () => {
    const [a, b] = await submitEntityGroup(table, [create('a'), create('b')]);
    await table.updateEntity({ partitionKey: pk, rowKey: 'b', v: 2 }, 'Replace', { etag: b });

    await rejection(
      submitEntityGroup(table, [
        { kind: 'update', entity: { partitionKey: pk, rowKey: 'a', v: 9 }, etag: a! },
        { kind: 'update', entity: { partitionKey: pk, rowKey: 'b', v: 9 }, etag: b! },
      ]),
    );

    assert.equal((await table.getEntity<{ v: number }>(pk, 'a')).v, 1);
    assert.equal((await table.getEntity<{ v: number }>(pk, 'b')).v, 2);
  });
});
