import assert from 'node:assert/strict';
import { ConcurrencyError } from '../../src/application/ports/errors';
import { isNotificationRow, type OutboxMessage } from '../../src/application/ports/outbox';
import type { TenantId } from '../../src/domain/shared/ids';
import {
  newOid,
  newTenant,
  notify,
  rejection,
  request,
  write,
  type MakeStorage,
  type StorageUnderTest,
} from './contract-support';

/** The OutboxStore contract: rows written with their state change, claimed by lease, settled under ETags. */
export function describeOutboxStoreContract(name: string, make: MakeStorage): void {
  describe(`OutboxStore contract: ${name}`, () => {
    let sut: StorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    /** Writes `messages` with a new request; the request store adds its `index.sync` row after them. */
    async function enqueue(tenant: TenantId, messages: readonly OutboxMessage[]): Promise<void> {
      await sut.requests.create(tenant, (n) => write(request(tenant, n), messages));
    }

    it('claims due rows by lease, so a second relay gets none until the lease runs out', async () => {
      const tenant = newTenant();
      await enqueue(tenant, [notify(tenant, 'CONTOSO-1'), notify(tenant, 'CONTOSO-1')]);
      const now = sut.clock.now();

      const claimed = await sut.outbox.claimDue(tenant, now, { leaseMs: 10_000 });
      const second = await sut.outbox.claimDue(tenant, now);
      const later = await sut.outbox.claimDue(tenant, new Date(now.getTime() + 10_000));

      assert.equal(claimed.length, 3, 'two notifications and the index.sync row');
      assert.ok(
        claimed.every(
          (row) =>
            row.leaseUntil === new Date(now.getTime() + 10_000).toISOString() &&
            row.status === 'pending',
        ),
      );
      assert.deepEqual(second, []);
      assert.equal(later.length, 3);
    });

    it('never lets two concurrent relays claim the same row', async () => {
      const tenant = newTenant();
      await enqueue(
        tenant,
        Array.from({ length: 8 }, () => notify(tenant, 'CONTOSO-1')),
      );
      const now = sut.clock.now();

      const [a, b] = await Promise.all([
        sut.outbox.claimDue(tenant, now),
        sut.outbox.claimDue(tenant, now),
      ]);

      const ids = [...a, ...b].map((row) => row.id);
      assert.equal(ids.length, 9, 'eight notifications and the index.sync row');
      assert.equal(new Set(ids).size, 9);
    });

    it('respects the claim limit and oldest-first order', async () => {
      const tenant = newTenant();
      await enqueue(tenant, [notify(tenant, 'CONTOSO-1')]);
      sut.clock.advance(1);
      await enqueue(tenant, [notify(tenant, 'CONTOSO-2')]);

      const claimed = await sut.outbox.claimDue(tenant, sut.clock.now(), { limit: 1 });

      assert.deepEqual(
        claimed.filter(isNotificationRow).map((row) => row.message.notification.requestId),
        ['CONTOSO-1'],
      );
      assert.deepEqual(
        (await sut.outbox.list(tenant))
          .filter(isNotificationRow)
          .map((row) => row.message.notification.requestId),
        ['CONTOSO-1', 'CONTOSO-2'],
      );
    });

    it('completes a claimed row once; a stale copy cannot settle it again', async () => {
      const tenant = newTenant();
      await enqueue(tenant, [notify(tenant, 'CONTOSO-1')]);
      const [row] = await sut.outbox.claimDue(tenant, sut.clock.now());

      await sut.outbox.complete(row!, sut.clock.now());
      const error = await rejection(sut.outbox.complete(row!, sut.clock.now()));

      assert.ok(error instanceof ConcurrencyError);
      assert.deepEqual(
        (await sut.outbox.list(tenant)).filter(isNotificationRow).map((r) => r.status),
        ['done'],
      );
      assert.deepEqual(
        (await sut.outbox.claimDue(tenant, new Date(sut.clock.now().getTime() + 3_600_000))).filter(
          isNotificationRow,
        ),
        [],
      );
    });

    it('schedules a failed row for later, releasing its lease, and parks it when told to', async () => {
      const tenant = newTenant();
      await enqueue(tenant, [notify(tenant, 'CONTOSO-1')]);
      const now = sut.clock.now();
      const [row] = await sut.outbox.claimDue(tenant, now, { leaseMs: 3_600_000 });
      const retryAt = new Date(now.getTime() + 60_000);

      await sut.outbox.fail(
        row!,
        { error: 'Teams said 502', nextAttemptAt: retryAt, park: false },
        now,
      );

      assert.deepEqual(await sut.outbox.claimDue(tenant, new Date(now.getTime() + 30_000)), []);
      const [again] = await sut.outbox.claimDue(tenant, retryAt);
      assert.equal(again?.attempts, 1);
      assert.equal(again?.lastError, 'Teams said 502');

      await sut.outbox.fail(again, { error: 'still 502', park: true }, retryAt);

      const parked = await sut.outbox.list(tenant, { statuses: ['parked'] });
      assert.deepEqual(
        parked.map((r) => [r.status, r.attempts, r.lastError]),
        [['parked', 2, 'still 502']],
      );
      assert.deepEqual(
        (await sut.outbox.list(tenant, { statuses: ['pending'] })).filter(isNotificationRow),
        [],
      );
    });

    it('puts a row off without counting a failure, releasing its lease', async () => {
      const tenant = newTenant();
      await enqueue(tenant, [notify(tenant, 'CONTOSO-1')]);
      const now = sut.clock.now();
      const [row] = await sut.outbox.claimDue(tenant, now, { leaseMs: 3_600_000 });
      const at = new Date(now.getTime() + 60_000);

      await sut.outbox.reschedule(row!, at, now);
      const stale = await rejection(sut.outbox.reschedule(row!, at, now));

      assert.ok(stale instanceof ConcurrencyError);
      assert.deepEqual(await sut.outbox.claimDue(tenant, new Date(at.getTime() - 1)), []);
      const [again] = await sut.outbox.claimDue(tenant, at);
      assert.deepEqual(
        [again?.status, again?.attempts, again?.reschedules, again?.lastError],
        ['pending', 0, 1, undefined],
      );
      await sut.outbox.reschedule(again!, at, at);
      assert.equal((await sut.outbox.list(tenant))[0]?.reschedules, 2);
    });

    it('counts every claim of a row, except one handed back untouched', async () => {
      const tenant = newTenant();
      await enqueue(tenant, [notify(tenant, 'CONTOSO-1')]);
      const now = sut.clock.now();
      const soon = new Date(now.getTime() + 1_000);
      const later = new Date(now.getTime() + 2_000);

      const [first] = await sut.outbox.claimDue(tenant, now, { leaseMs: 500, limit: 1 });
      const [second] = await sut.outbox.claimDue(tenant, soon, { leaseMs: 500, limit: 1 });
      await sut.outbox.reschedule(second!, later, soon, { untouched: true });
      const [third] = await sut.outbox.claimDue(tenant, later, { limit: 1 });

      assert.deepEqual([first?.claims, second?.claims, third?.claims], [1, 2, 2]);
    });

    it('renews a lease only for the holder of the current row', async () => {
      const tenant = newTenant();
      await enqueue(tenant, [notify(tenant, 'CONTOSO-1')]);
      const now = sut.clock.now();
      const [row] = await sut.outbox.claimDue(tenant, now, { leaseMs: 10_000 });
      const later = new Date(now.getTime() + 5_000);

      const renewed = await sut.outbox.renewLease(row!, later, 10_000);

      assert.equal(renewed?.leaseUntil, new Date(later.getTime() + 10_000).toISOString());
      assert.equal(await sut.outbox.renewLease(row!, later, 10_000), undefined);
      assert.deepEqual(
        (await sut.outbox.claimDue(tenant, new Date(now.getTime() + 12_000))).filter(
          isNotificationRow,
        ),
        [],
      );
      await sut.outbox.complete(renewed, later);
      assert.deepEqual(
        (await sut.outbox.list(tenant)).filter(isNotificationRow).map((r) => r.status),
        ['done'],
      );
    });

    it('makes a retried parked row due at once with a fresh budget, but not a done or unknown one', async () => {
      const tenant = newTenant();
      await enqueue(tenant, [notify(tenant, 'CONTOSO-1'), notify(tenant, 'CONTOSO-1')]);
      const now = sut.clock.now();
      const [putOff, second] = await sut.outbox.claimDue(tenant, now);
      await sut.outbox.reschedule(putOff!, now, now);
      const [first] = await sut.outbox.claimDue(tenant, now);
      await sut.outbox.fail(first!, { error: 'gone', park: true }, now);
      await sut.outbox.complete(second!, now);
      const later = new Date(now.getTime() + 5_000);

      assert.equal(await sut.outbox.retry(tenant, first!.id, later), true);
      assert.equal(await sut.outbox.retry(tenant, second!.id, later), false);
      assert.equal(await sut.outbox.retry(tenant, 'no-such-row', later), false);
      assert.equal(await sut.outbox.retry(newTenant(), first!.id, later), false);
      const [due] = await sut.outbox.claimDue(tenant, later);
      assert.equal(due?.id, first!.id);
      assert.equal(due?.attempts, 0);
      assert.equal(due?.reschedules ?? 0, 0);
    });

    it('holds rows for a recipient until that recipient is released', async () => {
      const tenant = newTenant();
      const waiting = newOid();
      const other = newOid();
      await enqueue(tenant, [
        notify(tenant, 'CONTOSO-1', waiting),
        notify(tenant, 'CONTOSO-1', other),
      ]);
      const now = sut.clock.now();
      for (const row of await sut.outbox.claimDue(tenant, now))
        await sut.outbox.waitForRecipient(row, now);
      const later = new Date(now.getTime() + 1_000);

      assert.deepEqual(await sut.outbox.claimDue(tenant, later), []);
      assert.equal(
        await sut.outbox.releaseWaiting(tenant, { tid: tenant, oid: waiting }, later),
        1,
      );

      const released = await sut.outbox.claimDue(tenant, later);
      assert.deepEqual(
        released.filter(isNotificationRow).map((row) => row.message.recipient.oid),
        [waiting],
      );
      assert.deepEqual(
        (await sut.outbox.list(tenant, { statuses: ['waiting_for_recipient'] }))
          .filter(isNotificationRow)
          .map((r) => r.message.recipient.oid),
        [other],
      );
    });
  });
}
