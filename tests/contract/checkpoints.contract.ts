import assert from 'node:assert/strict';
import {
  CheckpointConflictError,
  type CheckpointAnchor,
  type CheckpointStore,
} from '../../src/application/ports/checkpoints';
import type { OutboxMessage, OutboxStore } from '../../src/application/ports/outbox';
import { newOid, newTenant } from './contract-support';

/** A fresh checkpoint store, its anchor, and the outbox its witness rows land in. */
export type MakeCheckpointPorts = () => Promise<{
  readonly checkpoints: CheckpointStore;
  readonly anchor: CheckpointAnchor;
  readonly outbox: Pick<OutboxStore, 'list'>;
}>;

const root = (byte: string) => byte.repeat(32);
const note = (size: number) => `audit.cabinet/x\n${size}\nroot\n\n— k AAAA\n`;

/** The CheckpointStore and CheckpointAnchor contracts: insert-only by size, witnessed once, anchored once. */
export function describeCheckpointContract(name: string, make: MakeCheckpointPorts): void {
  describe(`Checkpoint ports contract: ${name}`, () => {
    let sut: Awaited<ReturnType<MakeCheckpointPorts>>;
    beforeEach(async () => {
      sut = await make();
    });

    it('stores checkpoints by size, lists them in size order, and finds the latest', async () => {
      const tenant = newTenant();
      for (const size of [10, 2, 100])
        await sut.checkpoints.save(tenant, { size, root: root('aa'), note: note(size) });
      assert.deepEqual(
        (await sut.checkpoints.list(tenant)).map((c) => c.size),
        [2, 10, 100],
      );
      assert.deepEqual(
        (await sut.checkpoints.list(tenant, { upToSize: 10 })).map((c) => c.size),
        [2, 10],
      );
      assert.equal((await sut.checkpoints.latest(tenant))?.size, 100);
      assert.equal(await sut.checkpoints.get(tenant, 3), undefined);
      assert.deepEqual(await sut.checkpoints.list(newTenant()), []);
    });

    it('keeps the first note for a size and refuses another root for it', async () => {
      const tenant = newTenant();
      const first = await sut.checkpoints.save(tenant, {
        size: 5,
        root: root('aa'),
        note: note(5),
      });
      const again = await sut.checkpoints.save(tenant, {
        size: 5,
        root: root('aa'),
        note: `${note(5)}— k BBBB\n`,
      });
      assert.equal(again.note, first.note);
      await assert.rejects(
        sut.checkpoints.save(tenant, { size: 5, root: root('bb'), note: note(5) }),
        CheckpointConflictError,
      );
    });

    it('marks a checkpoint witnessed once, with its witness rows in the same write', async () => {
      const tenant = newTenant();
      const stored = await sut.checkpoints.save(tenant, {
        size: 7,
        root: root('cc'),
        note: note(7),
      });
      const card: OutboxMessage = {
        kind: 'teams.notify',
        recipient: { tid: tenant, oid: newOid() },
        notification: {
          template: 'checkpoint_witness',
          requestId: 'checkpoint-7',
          version: 7,
          checkpoint: { size: 7, root: root('cc') },
        },
      };
      assert.equal(await sut.checkpoints.markWitnessed(tenant, stored, [card]), true);
      assert.equal(await sut.checkpoints.markWitnessed(tenant, stored, [card]), false);
      assert.equal((await sut.checkpoints.get(tenant, 7))?.witnessed, true);
      assert.deepEqual(
        (await sut.outbox.list(tenant)).map((r) => r.message),
        [card],
      );
    });

    it('anchors a size once and refuses a different record for it', async () => {
      const tenant = newTenant();
      const record = {
        size: 3,
        root: root('dd'),
        noteSha256: root('ee'),
        anchoredAt: '2026-11-23T09:00:00.000Z',
      };
      await sut.anchor.append(tenant, record);
      await sut.anchor.append(tenant, { ...record, anchoredAt: '2026-11-23T10:00:00.000Z' });
      await sut.anchor.append(tenant, { ...record, size: 4 });
      assert.deepEqual(await sut.anchor.list(tenant), [record, { ...record, size: 4 }]);
      await assert.rejects(
        sut.anchor.append(tenant, { ...record, noteSha256: root('ff') }),
        CheckpointConflictError,
      );
      assert.deepEqual(await sut.anchor.list(newTenant()), []);
    });
  });
}
