import assert from 'node:assert/strict';
import { GENESIS_HASH, verifyChain } from '../../src/domain/audit/audit-chain';
import { event, newTenant, type MakeStorage, type StorageUnderTest } from './contract-support';

/** The AuditLog contract: a linear, verifiable chain per tenant, with personal data sealed under the client's key. */
export function describeAuditLogContract(name: string, make: MakeStorage): void {
  describe(`AuditLog contract: ${name}`, () => {
    let sut: StorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    it('chains appends from seq 1 and reports the head', async () => {
      const tenant = newTenant();
      const first = await sut.audit.append(tenant, [
        event(tenant, { n: 1 }),
        event(tenant, { n: 2 }),
      ]);
      const second = await sut.audit.append(tenant, [event(tenant, { n: 3 })]);

      const entries = await sut.audit.read(tenant);
      assert.deepEqual(
        entries.map((e) => e.seq),
        [1, 2, 3],
      );
      assert.deepEqual(first, { seq: 2, hash: entries[1]!.hash });
      assert.deepEqual(second, { seq: 3, hash: entries[2]!.hash });
      assert.deepEqual(await sut.audit.head(tenant), second);
      assert.deepEqual(verifyChain(tenant, entries), { ok: true, count: 3, headHash: second.hash });
      assert.equal((JSON.parse(entries[0]!.canonical) as { prev: string }).prev, GENESIS_HASH);
    });

    it('reads a window of the chain', async () => {
      const tenant = newTenant();
      await sut.audit.append(
        tenant,
        Array.from({ length: 5 }, (_, i) => event(tenant, { n: i + 1 })),
      );

      assert.deepEqual(
        (await sut.audit.read(tenant, { fromSeq: 2, limit: 3 })).map((e) => e.seq),
        [2, 3, 4],
      );
      assert.deepEqual(
        (await sut.audit.read(tenant, { fromSeq: 5 })).map((e) => e.seq),
        [5],
      );
      assert.deepEqual(await sut.audit.read(tenant, { fromSeq: 6 }), []);
    });

    it('keeps concurrent appends linear: every event exactly once, no gaps', async () => {
      const tenant = newTenant();
      const heads = await Promise.all(
        Array.from({ length: 120 }, (_, i) => sut.audit.append(tenant, [event(tenant, { id: i })])),
      );

      const entries = await sut.audit.read(tenant);
      assert.equal(verifyChain(tenant, entries).ok, true);
      assert.deepEqual(
        entries.map((e) => e.seq),
        Array.from({ length: 120 }, (_, i) => i + 1),
      );
      const ids = entries
        .map((e) => (JSON.parse(e.canonical) as { payload: { id: number } }).payload.id)
        .sort((a, b) => a - b);
      assert.deepEqual(
        ids,
        Array.from({ length: 120 }, (_, i) => i),
      );
      assert.equal(new Set(heads.map((h) => h.seq)).size, 120);
      for (const head of heads) assert.equal(entries[head.seq - 1]!.hash, head.hash);
    });

    it('keeps tenants’ chains apart', async () => {
      const a = newTenant();
      const b = newTenant();
      await Promise.all([
        sut.audit.append(a, [event(a)]),
        sut.audit.append(b, [event(b)]),
        sut.audit.append(a, [event(a)]),
      ]);

      assert.equal(verifyChain(a, await sut.audit.read(a)).ok, true);
      assert.equal((await sut.audit.read(a)).length, 2);
      assert.equal(verifyChain(b, await sut.audit.read(b)).ok, true);
      assert.equal(await sut.audit.head(newTenant()), undefined);
    });

    it('returns the head unchanged for an empty append', async () => {
      const tenant = newTenant();
      assert.deepEqual(await sut.audit.append(tenant, []), { seq: 0, hash: GENESIS_HASH });
      const head = await sut.audit.append(tenant, [event(tenant)]);
      assert.deepEqual(await sut.audit.append(tenant, []), head);
    });

    it('stores personal data sealed, opens it with the key, and loses it with the key', async () => {
      const tenant = newTenant();
      await sut.audit.append(tenant, [
        event(tenant, { kind: 'new_user' }, { upn: 'jane.doe@contoso.example', name: 'Jane Doe' }),
        event(tenant),
      ]);
      const [sealed, plain] = await sut.audit.read(tenant);

      assert.ok(!sealed!.canonical.includes('jane.doe'));
      assert.deepEqual(await sut.audit.openPersonal(tenant, sealed!), {
        upn: 'jane.doe@contoso.example',
        name: 'Jane Doe',
      });
      assert.equal(await sut.audit.openPersonal(tenant, plain!), undefined);

      await sut.keyring.destroy(tenant);

      assert.equal(verifyChain(tenant, await sut.audit.read(tenant)).ok, true);
      assert.equal(await sut.audit.openPersonal(tenant, sealed!), undefined);
    });
  });
}
