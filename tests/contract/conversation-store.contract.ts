import assert from 'node:assert/strict';
import { newOid, newTenant, type MakeStorage, type StorageUnderTest } from './contract-support';

/** The ConversationStore contract: references per person, the welcome once, card activity ids. */
export function describeConversationStoreContract(name: string, make: MakeStorage): void {
  describe(`ConversationStore contract: ${name}`, () => {
    let sut: StorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    it('stores a reference, says whether it is new, and keeps the welcome across refreshes', async () => {
      const tid = newTenant();
      const oid = newOid();

      assert.deepEqual(
        await sut.conversations.save({ tid, oid, reference: { conversation: { id: 'a:1' } } }),
        { created: true, welcomed: false },
      );
      assert.equal(
        await sut.conversations.markWelcomed(tid, oid, '2026-11-23T09:00:00.000Z'),
        true,
      );
      assert.equal(
        await sut.conversations.markWelcomed(tid, oid, '2026-11-23T10:00:00.000Z'),
        false,
      );
      assert.deepEqual(
        await sut.conversations.save({ tid, oid, reference: { conversation: { id: 'a:2' } } }),
        { created: false, welcomed: true },
      );

      assert.deepEqual(await sut.conversations.get(tid, oid), {
        tid,
        oid,
        reference: { conversation: { id: 'a:2' } },
        welcomedAt: '2026-11-23T09:00:00.000Z',
        stale: false,
      });
      assert.equal(await sut.conversations.get(tid, newOid()), undefined);
      assert.equal(
        await sut.conversations.markWelcomed(tid, newOid(), '2026-11-23T09:00:00.000Z'),
        false,
      );
    });

    it('welcomes a person once even when turns race', async () => {
      const tid = newTenant();
      const oid = newOid();
      await sut.conversations.save({ tid, oid, reference: {} });

      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          sut.conversations.markWelcomed(tid, oid, '2026-11-23T09:00:00.000Z'),
        ),
      );

      assert.equal(results.filter(Boolean).length, 1);
    });

    it('reports who is reachable: stored and not stale, until a save refreshes it', async () => {
      const tid = newTenant();
      const [live, stale, unknown] = [newOid(), newOid(), newOid()];
      await sut.conversations.save({ tid, oid: live, reference: {} });
      await sut.conversations.save({ tid, oid: stale, reference: {} });
      await sut.conversations.markStale(tid, stale);
      await sut.conversations.markStale(tid, unknown);
      const everyone = [live, stale, unknown].map((oid) => ({ tid, oid }));

      assert.deepEqual([...(await sut.conversations.reachable(everyone))], [`${tid}|${live}`]);
      assert.equal((await sut.conversations.get(tid, stale))?.stale, true);

      await sut.conversations.save({ tid, oid: stale, reference: {} });
      assert.equal((await sut.conversations.reachable(everyone)).size, 2);
    });

    it('remembers card activity ids per person and card key, whatever the key contains', async () => {
      const tid = newTenant();
      const oid = newOid();
      const key = "approval/CONTOSO-1?v=2#x\\'";

      assert.equal(await sut.conversations.getCardActivity(tid, oid, key), undefined);
      await sut.conversations.saveCardActivity(tid, oid, key, 'activity-1');
      await sut.conversations.saveCardActivity(tid, oid, 'status/CONTOSO-1', 'activity-2');
      await sut.conversations.saveCardActivity(tid, oid, key, 'activity-3');

      assert.equal(await sut.conversations.getCardActivity(tid, oid, key), 'activity-3');
      assert.equal(
        await sut.conversations.getCardActivity(tid, oid, 'status/CONTOSO-1'),
        'activity-2',
      );
      assert.equal(await sut.conversations.getCardActivity(tid, newOid(), key), undefined);
    });
  });
}
