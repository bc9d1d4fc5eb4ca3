import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PasswordUnreadableError } from '../../src/application/ports/execution-store';
import type { RunId } from '../../src/domain/execution/execution-run';
import { Secret } from '../../src/domain/shared/secret';
import { newTenant, rejection } from './contract-support';
import type { ExecutionStorageUnderTest, MakeExecutionStorage } from './execution-support';

const RUN = '7-1' as RunId;
const HOURS_72 = 72 * 3_600_000;

/** A password no test shares, long enough that finding it in storage cannot be a coincidence. */
const newPassword = () => new Secret(`Tmp-${randomBytes(12).toString('base64url')}!`);

/** The PasswordVault contract: sealed at rest, revealed once, gone after expiry or discard. */
export function describePasswordVaultContract(name: string, make: MakeExecutionStorage): void {
  describe(`PasswordVault contract: ${name}`, () => {
    let sut: ExecutionStorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    const expiry = () => new Date(sut.clock.now().getTime() + HOURS_72);

    it('keeps a password and hands it out exactly once', async () => {
      const tenant = newTenant();
      const password = newPassword();

      const kept = await sut.passwords.keep(tenant, RUN, password, expiry());

      assert.equal(kept.reveal(), password.reveal());
      assert.equal(await sut.passwords.available(tenant, RUN, sut.clock.now()), true);
      const taken = await sut.passwords.take(tenant, RUN, sut.clock.now());
      assert.ok(taken instanceof Secret);
      assert.equal(taken.reveal(), password.reveal());
      assert.equal(await sut.passwords.take(tenant, RUN, sut.clock.now()), undefined);
      assert.equal(await sut.passwords.available(tenant, RUN, sut.clock.now()), false);
    });

    it('keeps the first password when asked to keep another for the same run', async () => {
      const tenant = newTenant();
      const first = newPassword();

      await sut.passwords.keep(tenant, RUN, first, expiry());
      const again = await sut.passwords.keep(tenant, RUN, newPassword(), expiry());

      assert.equal(again.reveal(), first.reveal());
      const taken = await sut.passwords.take(tenant, RUN, sut.clock.now());
      assert.equal(taken instanceof Secret && taken.reveal(), first.reveal());
    });

    it('gives the password to exactly one of ten people asking at the same moment', async () => {
      const tenant = newTenant();
      const password = newPassword();
      await sut.passwords.keep(tenant, RUN, password, expiry());

      const answers = await Promise.all(
        Array.from({ length: 10 }, () => sut.passwords.take(tenant, RUN, sut.clock.now())),
      );

      const secrets = answers.filter((a) => a instanceof Secret);
      assert.equal(secrets.length, 1);
      assert.equal(secrets[0]!.reveal(), password.reveal());
      assert.deepEqual(
        answers.filter((a) => !(a instanceof Secret)),
        Array.from({ length: 9 }, () => undefined),
      );
    });

    it('says expired after the expiry, removes it, and then knows nothing of it', async () => {
      const tenant = newTenant();
      const expiresAt = expiry();
      await sut.passwords.keep(tenant, RUN, newPassword(), expiresAt);

      assert.equal(
        await sut.passwords.available(tenant, RUN, new Date(expiresAt.getTime() - 1)),
        true,
      );
      assert.equal(await sut.passwords.available(tenant, RUN, expiresAt), false);
      assert.equal(await sut.passwords.take(tenant, RUN, expiresAt), 'expired');
      assert.equal(await sut.passwords.take(tenant, RUN, expiresAt), undefined);
    });

    it('discards a password without revealing it', async () => {
      const tenant = newTenant();
      await sut.passwords.keep(tenant, RUN, newPassword(), expiry());

      await sut.passwords.discard(tenant, RUN);
      await sut.passwords.discard(tenant, RUN);

      assert.equal(await sut.passwords.available(tenant, RUN, sut.clock.now()), false);
      assert.equal(await sut.passwords.take(tenant, RUN, sut.clock.now()), undefined);
    });

    it('never stores the password in clear', async () => {
      const tenant = newTenant();
      const password = newPassword();

      await sut.passwords.keep(tenant, RUN, password, expiry());
      await sut.passwords.keep(tenant, '7-2' as RunId, password, expiry());

      const stored = await sut.storedText();
      assert.ok(stored.length > 0);
      assert.equal(stored.includes(password.reveal()), false);
      assert.equal(stored.includes(Buffer.from(password.reveal()).toString('base64')), false);
    });

    it('keeps tenants and runs apart', async () => {
      const tenant = newTenant();
      const other = newTenant();
      await sut.passwords.keep(tenant, RUN, newPassword(), expiry());

      assert.equal(await sut.passwords.available(other, RUN, sut.clock.now()), false);
      assert.equal(await sut.passwords.take(other, RUN, sut.clock.now()), undefined);
      assert.equal(await sut.passwords.take(tenant, '7-2' as RunId, sut.clock.now()), undefined);
      assert.equal(await sut.passwords.available(tenant, RUN, sut.clock.now()), true);
      for (const bad of ['7', '0-1', "7-1' or true", ''])
        assert.equal(await sut.passwords.take(tenant, bad as RunId, sut.clock.now()), undefined);
    });

    it('treats a password as expired once the client’s data key is destroyed', async () => {
      const tenant = newTenant();
      await sut.passwords.keep(tenant, RUN, newPassword(), expiry());

      await sut.keyring.destroy(tenant);

      assert.equal(await sut.passwords.available(tenant, RUN, sut.clock.now()), false);
      const keptAgain = await rejection(sut.passwords.keep(tenant, RUN, newPassword(), expiry()));
      assert.ok(keptAgain instanceof PasswordUnreadableError, String(keptAgain));
      assert.equal(await sut.passwords.take(tenant, RUN, sut.clock.now()), 'expired');
      assert.equal(await sut.passwords.take(tenant, RUN, sut.clock.now()), undefined);
    });
  });
}
