import assert from 'node:assert/strict';
import { ConcurrencyError, ConflictError } from '../../src/application/ports/errors';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import {
  event,
  newCode,
  newTenant,
  person,
  profile,
  rejection,
  type MakeStorage,
  type StorageUnderTest,
} from './contract-support';

/** The ClientDirectory contract: profiles saved with their audit entries, unique tenants and codes. */
export function describeClientDirectoryContract(name: string, make: MakeStorage): void {
  describe(`ClientDirectory contract: ${name}`, () => {
    let sut: StorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    it('onboards a client with its audit entry and finds it by tenant, code and staff', async () => {
      const msp = newTenant();
      const tech = person(msp, 'Tina Tech');
      const tenant = newTenant();
      const client = profile(tenant, { techs: [tech] });

      const stored = await sut.clients.create(client, [
        event(tenant, { onboarded: true }, undefined, 'client.onboarded'),
      ]);

      assert.deepEqual(stored.profile, client);
      assert.deepEqual(await sut.clients.get(tenant), stored);
      assert.deepEqual(await sut.clients.getByCode(client.code), stored);
      assert.deepEqual(await sut.clients.list(), [client]);
      assert.deepEqual(await sut.clients.forStaff(msp, tech.oid), [client]);
      assert.deepEqual(await sut.clients.forStaff(newTenant(), tech.oid), []);
      const entries = await sut.audit.read(tenant);
      assert.deepEqual(verifyChain(tenant, entries).ok, true);
      assert.equal(entries.length, 1);
    });

    it('lists clients by code', async () => {
      const b = profile(newTenant(), { code: newCode() });
      const a = profile(newTenant(), { code: `A${b.code.slice(1)}` as typeof b.code });
      await sut.clients.create(b, []);
      await sut.clients.create(a, []);
      assert.deepEqual(
        (await sut.clients.list()).map((p) => p.code),
        [a.code, b.code],
      );
    });

    it('refuses a tenant that is already a client', async () => {
      const tenant = newTenant();
      const first = await sut.clients.create(profile(tenant), [event(tenant)]);

      const error = await rejection(sut.clients.create(profile(tenant), [event(tenant)]));

      assert.ok(error instanceof ConflictError);
      assert.deepEqual(await sut.clients.get(tenant), first);
      assert.equal((await sut.audit.read(tenant)).length, 1);
    });

    it('refuses a code another client holds, writing nothing', async () => {
      const first = await sut.clients.create(profile(newTenant()), []);
      const tenant = newTenant();

      const error = await rejection(
        sut.clients.create(profile(tenant, { code: first.profile.code }), [event(tenant)]),
      );

      assert.ok(error instanceof ConflictError);
      assert.deepEqual(await sut.clients.getByCode(first.profile.code), first);
      assert.equal(await sut.clients.get(tenant), undefined);
      assert.deepEqual(await sut.audit.read(tenant), []);
    });

    it('lets one of two concurrent onboardings of a code win', async () => {
      const code = newCode();
      const results = await Promise.allSettled([
        sut.clients.create(profile(newTenant(), { code }), []),
        sut.clients.create(profile(newTenant(), { code }), []),
      ]);

      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const lost = results.find((r) => r.status === 'rejected');
      assert.ok(lost?.reason instanceof ConflictError);
    });

    it('updates on the current ETag and refuses a stale one', async () => {
      const tenant = newTenant();
      const created = await sut.clients.create(profile(tenant), []);
      const renamed = { ...created.profile, name: 'Client Group plc' };

      const updated = await sut.clients.update(renamed, created.etag, [
        event(tenant, {}, undefined, 'client.roles_changed'),
      ]);
      const error = await rejection(
        sut.clients.update({ ...created.profile, name: 'lost' }, created.etag, [event(tenant)]),
      );

      assert.notEqual(updated.etag, created.etag);
      assert.ok(error instanceof ConcurrencyError);
      assert.deepEqual(await sut.clients.get(tenant), updated);
      assert.equal((await sut.audit.read(tenant)).length, 1);
    });

    it('moves a client to a free code and refuses a taken one', async () => {
      const taken = await sut.clients.create(profile(newTenant()), []);
      const created = await sut.clients.create(profile(newTenant()), []);
      const code = newCode();

      const moved = await sut.clients.update({ ...created.profile, code }, created.etag, []);
      const error = await rejection(
        sut.clients.update({ ...moved.profile, code: taken.profile.code }, moved.etag, []),
      );

      assert.ok(error instanceof ConflictError);
      assert.deepEqual(await sut.clients.getByCode(code), moved);
      assert.equal(await sut.clients.getByCode(created.profile.code), undefined);
      assert.deepEqual(await sut.clients.getByCode(taken.profile.code), taken);
    });
  });
}
