import { strict as assert } from 'node:assert';
import { openTable } from '../../src/adapters/storage/table-connection';
import { TableLease } from '../../src/adapters/storage/table-lease';
import { uniquePrefix, useAzurite } from '../support/azurite-fixture';

describe(TableLease.name, () => {
  const azurite = useAzurite();
  let sut: TableLease;
  const t0 = new Date('2026-11-23T09:00:00Z');
  const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

  beforeEach(async () => {
    const table = openTable(azurite.connectionString, `${uniquePrefix()}leases`);
    await table.createTable();
    sut = new TableLease(table);
  });

  it('lets exactly one of many racing instances take a free lease', async () => {
    const holders = Array.from({ length: 8 }, (_, i) => `instance-${i}`);
    const won = await Promise.all(holders.map((h) => sut.tryAcquire('sla-sweeper', h, 60_000, t0)));
    assert.equal(won.filter(Boolean).length, 1);
  });

  it('refuses others while the lease runs, and lets its holder take it again', async () => {
    assert.equal(await sut.tryAcquire('sla-sweeper', 'a', 60_000, t0), true);
    assert.equal(await sut.tryAcquire('sla-sweeper', 'b', 60_000, at(59)), false);
    assert.equal(await sut.tryAcquire('sla-sweeper', 'a', 60_000, at(30)), true);
    assert.equal(await sut.tryAcquire('sla-sweeper', 'b', 60_000, at(89)), false);
  });

  it('lets another instance take over once the lease lapsed, and the old holder can no longer renew', async () => {
    assert.equal(await sut.tryAcquire('sla-sweeper', 'a', 60_000, t0), true);
    assert.equal(await sut.tryAcquire('sla-sweeper', 'b', 60_000, at(61)), true);
    assert.equal(await sut.renew('sla-sweeper', 'a', 60_000, at(62)), false);
    assert.equal(await sut.tryAcquire('sla-sweeper', 'a', 60_000, at(62)), false);
  });

  it('only one of two instances takes over a lapsed lease at the same moment', async () => {
    assert.equal(await sut.tryAcquire('sla-sweeper', 'a', 60_000, t0), true);
    const won = await Promise.all(
      ['b', 'c', 'd'].map((h) => sut.tryAcquire('sla-sweeper', h, 60_000, at(61))),
    );
    assert.equal(won.filter(Boolean).length, 1);
  });

  it('renewal keeps others out past the first term', async () => {
    assert.equal(await sut.tryAcquire('sla-sweeper', 'a', 60_000, t0), true);
    assert.equal(await sut.renew('sla-sweeper', 'a', 60_000, at(50)), true);
    assert.equal(await sut.tryAcquire('sla-sweeper', 'b', 60_000, at(100)), false);
    assert.equal(await sut.tryAcquire('sla-sweeper', 'b', 60_000, at(111)), true);
  });

  it('release hands the lease over at once; a non-holder cannot release it', async () => {
    assert.equal(await sut.tryAcquire('sla-sweeper', 'a', 60_000, t0), true);
    await sut.release('sla-sweeper', 'b');
    assert.equal(await sut.tryAcquire('sla-sweeper', 'b', 60_000, at(1)), false);
    await sut.release('sla-sweeper', 'a');
    assert.equal(await sut.tryAcquire('sla-sweeper', 'b', 60_000, at(2)), true);
    assert.equal(await sut.renew('sla-sweeper', 'a', 60_000, at(3)), false);
  });

  it('keeps differently named leases apart', async () => {
    assert.equal(await sut.tryAcquire('sla-sweeper', 'a', 60_000, t0), true);
    assert.equal(await sut.tryAcquire('checkpointer', 'b', 60_000, t0), true);
  });
});
