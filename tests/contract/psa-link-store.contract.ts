import assert from 'node:assert/strict';
import type { PsaLinkStore } from '../../src/application/ports/psa';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import { newTenant } from './contract-support';

/** Makes a fresh, empty link store for one test. */
export type MakePsaLinkStore = () => Promise<PsaLinkStore>;

/** The PsaLinkStore contract: tickets resolve to their owner per PSA, watermarks per PSA. */
export function describePsaLinkStoreContract(name: string, make: MakePsaLinkStore): void {
  describe(`PsaLinkStore contract: ${name}`, () => {
    let sut: PsaLinkStore;
    beforeEach(async () => {
      sut = await make();
    });

    it('finds the owner of a linked ticket, and nothing for an unknown one', async () => {
      const owner = { tenantId: newTenant(), requestId: 'CONTOSO-7' as ChangeRequestId };
      await sut.link('halopsa', '1042', owner);
      assert.deepEqual(await sut.owner('halopsa', '1042'), owner);
      assert.equal(await sut.owner('halopsa', '1043'), undefined);
    });

    it('keeps the same ticket id apart in different PSAs', async () => {
      const halo = { tenantId: newTenant(), requestId: 'CONTOSO-7' as ChangeRequestId };
      const cw = { tenantId: newTenant(), requestId: 'FABRIKAM-3' as ChangeRequestId };
      await sut.link('halopsa', '55', halo);
      await sut.link('connectwise', '55', cw);
      assert.deepEqual(await sut.owner('halopsa', '55'), halo);
      assert.deepEqual(await sut.owner('connectwise', '55'), cw);
      assert.equal(await sut.owner('autotask', '55'), undefined);
    });

    it('links again idempotently (a redelivery after a lost response)', async () => {
      const owner = { tenantId: newTenant(), requestId: 'CONTOSO-9' as ChangeRequestId };
      await sut.link('autotask', '9001', owner);
      await sut.link('autotask', '9001', owner);
      assert.deepEqual(await sut.owner('autotask', '9001'), owner);
    });

    it('answers nothing for a ticket id that could not be a row key', async () => {
      assert.equal(await sut.owner('halopsa', '../x/y'), undefined);
    });

    it('has no watermark until one is set, then the latest per PSA', async () => {
      assert.equal(await sut.watermark('connectwise'), undefined);
      await sut.setWatermark('connectwise', new Date('2026-11-23T09:00:00.000Z'));
      await sut.setWatermark('connectwise', new Date('2026-11-23T09:01:00.000Z'));
      await sut.setWatermark('autotask', new Date('2026-11-23T08:00:00.000Z'));
      assert.equal((await sut.watermark('connectwise'))?.toISOString(), '2026-11-23T09:01:00.000Z');
      assert.equal((await sut.watermark('autotask'))?.toISOString(), '2026-11-23T08:00:00.000Z');
      assert.equal(await sut.watermark('halopsa'), undefined);
    });
  });
}
