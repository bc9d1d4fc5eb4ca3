import assert from 'node:assert/strict';
import { ConcurrencyError } from '../../src/application/ports/errors';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import {
  event,
  newTenant,
  notify,
  rejection,
  request,
  write,
  type MakeStorage,
  type StorageUnderTest,
} from './contract-support';
import { isNotificationRow } from '../../src/application/ports/outbox';

/** The ChangeRequestStore contract: atomic request + audit + outbox commits under optimistic concurrency. */
export function describeChangeRequestStoreContract(name: string, make: MakeStorage): void {
  describe(`ChangeRequestStore contract: ${name}`, () => {
    let sut: StorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    it('numbers each client’s requests from 1 and stores what was built', async () => {
      const tenant = newTenant();
      const other = newTenant();
      const first = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      const second = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      const elsewhere = await sut.requests.create(other, (n) => write(request(other, n)));

      assert.deepEqual(
        [first.request.number, second.request.number, elsewhere.request.number],
        [1, 2, 1],
      );
      assert.ok(first.etag.length > 0);
      assert.deepEqual(await sut.requests.get(tenant, first.request.id), first);
      assert.deepEqual(
        (await sut.requests.get(tenant, second.request.id))?.request,
        request(tenant, 2),
      );
    });

    it('writes the request, its audit entries and its outbox rows together', async () => {
      const tenant = newTenant();
      const created = await sut.requests.create(tenant, (n) =>
        write(request(tenant, n), [notify(tenant, `CONTOSO-${n}`)]),
      );

      const entries = await sut.audit.read(tenant);
      assert.deepEqual(verifyChain(tenant, entries), {
        ok: true,
        count: 1,
        headHash: entries[0]!.hash,
      });
      assert.equal(
        (JSON.parse(entries[0]!.canonical) as { payload: { id: string } }).payload.id,
        created.request.id,
      );
      const rows = await sut.outbox.list(tenant);
      assert.deepEqual(
        rows.map((row) => row.status),
        ['pending', 'pending'],
      );
      assert.deepEqual(
        rows.filter(isNotificationRow).map((row) => row.message.notification.requestId),
        [created.request.id],
      );
      assert.deepEqual(rows[1]!.message, { kind: 'index.sync', requestId: created.request.id });
    });

    it('gives concurrent creates distinct consecutive numbers', async () => {
      const tenant = newTenant();
      const created = await Promise.all(
        Array.from({ length: 6 }, () =>
          sut.requests.create(tenant, (n) => write(request(tenant, n))),
        ),
      );

      assert.deepEqual(
        created.map((c) => c.request.number).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6],
      );
      assert.equal(verifyChain(tenant, await sut.audit.read(tenant)).ok, true);
      assert.equal((await sut.audit.read(tenant)).length, 6);
    });

    it('saves an update made on the current ETag and hands back a new one', async () => {
      const tenant = newTenant();
      const created = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      const edited = request(tenant, 1, { title: 'Replace both printers', version: 2 });

      const updated = await sut.requests.update(tenant, created.etag, write(edited));

      assert.notEqual(updated.etag, created.etag);
      assert.deepEqual(await sut.requests.get(tenant, edited.id), updated);
      assert.equal((await sut.audit.read(tenant)).length, 2);
    });

    it('refuses an update on a stale ETag and writes nothing', async () => {
      const tenant = newTenant();
      const created = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      const current = await sut.requests.update(
        tenant,
        created.etag,
        write(request(tenant, 1, { version: 2 })),
      );

      const error = await rejection(
        sut.requests.update(
          tenant,
          created.etag,
          write(request(tenant, 1, { version: 3, title: 'lost' }), [notify(tenant, 'CONTOSO-1')]),
        ),
      );

      assert.ok(error instanceof ConcurrencyError);
      assert.deepEqual(await sut.requests.get(tenant, current.request.id), current);
      assert.equal((await sut.audit.read(tenant)).length, 2);
      assert.deepEqual(
        (await sut.outbox.list(tenant)).map((row) => row.message),
        [
          { kind: 'index.sync', requestId: created.request.id },
          { kind: 'index.sync', requestId: created.request.id },
        ],
        'only the index.sync rows of the create and the winning update',
      );
    });

    it('lets exactly one of two concurrent updates on the same ETag win', async () => {
      const tenant = newTenant();
      const created = await sut.requests.create(tenant, (n) => write(request(tenant, n)));

      const results = await Promise.allSettled([
        sut.requests.update(
          tenant,
          created.etag,
          write(request(tenant, 1, { version: 2, title: 'A' })),
        ),
        sut.requests.update(
          tenant,
          created.etag,
          write(request(tenant, 1, { version: 2, title: 'B' })),
        ),
      ]);

      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      assert.ok(lost[0]!.reason instanceof ConcurrencyError);
      assert.deepEqual(
        (await sut.requests.get(tenant, created.request.id))?.request,
        won[0]!.value.request,
      );
      assert.equal((await sut.audit.read(tenant)).length, 2);
    });

    it('fails only the stale writer when commits of one tenant run together', async () => {
      const tenant = newTenant();
      const one = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      const two = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      await sut.requests.update(tenant, one.etag, write(request(tenant, 1, { version: 2 })));

      const [stale, appended, fresh] = await Promise.allSettled([
        sut.requests.update(
          tenant,
          one.etag,
          write(request(tenant, 1, { version: 3 }), [], { stale: true }),
        ),
        sut.audit.append(tenant, [event(tenant, { standalone: true })]),
        sut.requests.update(
          tenant,
          two.etag,
          write(request(tenant, 2, { version: 2 }), [], { fresh: true }),
        ),
      ]);

      assert.ok(stale.status === 'rejected' && stale.reason instanceof ConcurrencyError);
      assert.equal(appended.status, 'fulfilled');
      assert.equal(fresh.status, 'fulfilled');
      const entries = await sut.audit.read(tenant);
      assert.equal(verifyChain(tenant, entries).ok, true);
      const payloads = entries.map(
        (e) => (JSON.parse(e.canonical) as { payload: Record<string, unknown> }).payload,
      );
      assert.equal(payloads.filter((p) => p['stale']).length, 0);
      assert.equal(payloads.filter((p) => p['standalone'] || p['fresh']).length, 2);
      assert.equal((await sut.requests.get(tenant, two.request.id))?.request.version, 2);
    });

    it('lists newest first, filtered by status, up to the limit', async () => {
      const tenant = newTenant();
      for (const status of ['submitted', 'triaged', 'submitted', 'closed'] as const) {
        await sut.requests.create(tenant, (n) => write(request(tenant, n, { status })));
      }

      assert.deepEqual(
        (await sut.requests.list(tenant)).map((r) => r.number),
        [4, 3, 2, 1],
      );
      assert.deepEqual(
        (await sut.requests.list(tenant, { statuses: ['submitted', 'closed'] })).map(
          (r) => r.number,
        ),
        [4, 3, 1],
      );
      assert.deepEqual(
        (await sut.requests.list(tenant, { limit: 2 })).map((r) => r.number),
        [4, 3],
      );
      assert.deepEqual(await sut.requests.list(newTenant()), []);
    });

    it('finds nothing for unknown, malformed or other clients’ ids', async () => {
      const tenant = newTenant();
      await sut.requests.create(tenant, (n) => write(request(tenant, n)));

      assert.equal(await sut.requests.get(tenant, 'CONTOSO-2' as ChangeRequestId), undefined);
      assert.equal(await sut.requests.get(tenant, 'FABRIKAM-1' as ChangeRequestId), undefined);
      assert.equal(await sut.requests.get(tenant, "CONTOSO-1'/../x" as ChangeRequestId), undefined);
      assert.equal(await sut.requests.get(newTenant(), 'CONTOSO-1' as ChangeRequestId), undefined);
    });
  });
}
