import assert from 'node:assert/strict';
import { newTenant, type MakeStorage, type StorageUnderTest } from './contract-support';

/** The DataKeyring contract: one AES-256 key per client, created on first use, gone when destroyed. */
export function describeDataKeyringContract(name: string, make: MakeStorage): void {
  describe(`DataKeyring contract: ${name}`, () => {
    let sut: StorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    it('creates a client’s key once and finds it by id', async () => {
      const tenant = newTenant();
      const [a, b] = await Promise.all([sut.keyring.current(tenant), sut.keyring.current(tenant)]);

      assert.equal(a.key.length, 32);
      assert.equal(a.kid, b.kid);
      assert.ok(a.key.equals(b.key));
      assert.deepEqual(await sut.keyring.find(tenant, a.kid), a);
      assert.equal(await sut.keyring.find(tenant, 'another-kid'), undefined);
      assert.equal(await sut.keyring.find(newTenant(), a.kid), undefined);
      assert.notEqual((await sut.keyring.current(newTenant())).kid, a.kid);
    });

    it('forgets a destroyed key and issues a new one afterwards', async () => {
      const tenant = newTenant();
      const old = await sut.keyring.current(tenant);

      await sut.keyring.destroy(tenant);
      await sut.keyring.destroy(tenant);

      assert.equal(await sut.keyring.find(tenant, old.kid), undefined);
      assert.notEqual((await sut.keyring.current(tenant)).kid, old.kid);
    });
  });
}
