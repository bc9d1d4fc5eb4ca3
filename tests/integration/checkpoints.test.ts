import { strict as assert } from 'node:assert';
import {
  loadSandboxCheckpointSigner,
  type NodeCheckpointSigner,
} from '../../src/adapters/crypto/checkpoint-signer';
import {
  createBlobCheckpointAnchor,
  type BlobCheckpointAnchor,
} from '../../src/adapters/storage/blob-checkpoint-anchor';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import { CheckpointConflictError } from '../../src/application/ports/checkpoints';
import { isNotificationRow } from '../../src/application/ports/outbox';
import {
  checkpointAt,
  checkpointTenant,
  Checkpointer,
  noteSha256,
  proveRequest,
  type CheckpointDeps,
} from '../../src/application/use-cases/checkpoints';
import type { AuditEvent } from '../../src/domain/audit/audit-event';
import {
  parseCheckpoint,
  parseSignedNote,
  verifyNoteSignature,
} from '../../src/domain/audit/checkpoint';
import { verifyKeyManifest } from '../../src/domain/audit/key-manifest';
import { entryLeafHash, merkleRoot, verifyInclusion } from '../../src/domain/audit/merkle';
import type { TenantId } from '../../src/domain/shared/ids';
import { checkpointWitnessCard } from '../../src/surfaces/bot/cards/checkpoint.view';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { contosoProfile, people } from '../support/fixtures';

describe('Audit checkpoints (Table Storage + Blob anchors on Azurite)', () => {
  const azurite = useAzurite();
  const tenant: TenantId = contosoProfile().tenantId;
  let clock: FakeClock;
  let storage: TableStorage & { readonly prefix: string };
  let anchor: BlobCheckpointAnchor;
  let signer: NodeCheckpointSigner;
  let deps: CheckpointDeps & { readonly clients: TableStorage['clients'] };
  let kicked: TenantId[];

  const entry = (n: number, requestId: string | null = null): AuditEvent => ({
    type: 'request.submitted',
    actor: { tid: tenant, oid: people.carla.oid },
    requestId,
    payload: { n },
  });

  async function appendEntries(count: number, requestId: string | null = null): Promise<void> {
    for (let n = 0; n < count; n += 1) await storage.audit.append(tenant, [entry(n, requestId)]);
  }

  async function witnessRows() {
    return (await storage.outbox.list(tenant))
      .filter(isNotificationRow)
      .filter((row) => row.message.notification.template === 'checkpoint_witness');
  }

  beforeEach(async () => {
    clock = new FakeClock();
    storage = await azurite.newStorage({ clock });
    anchor = createBlobCheckpointAnchor({
      connectionString: azurite.connectionString,
      container: `${storage.prefix}anchors`,
    });
    await anchor.ensureContainer();
    signer = await loadSandboxCheckpointSigner({
      connectionString: azurite.connectionString,
      tablePrefix: storage.prefix,
      clock,
    });
    await storage.clients.create(contosoProfile(), [entry(0)]);
    kicked = [];
    deps = {
      audit: storage.audit,
      checkpoints: storage.checkpoints,
      anchor,
      signer,
      clients: storage.clients,
      clock,
      outboxWritten: (t) => kicked.push(t),
    };
  });

  it('signs, stores, anchors and witnesses a checkpoint of the whole chain, once', async () => {
    await appendEntries(6);
    const first = await checkpointTenant(deps, tenant);
    assert.ok(first);
    assert.equal(first.created, true);
    assert.equal(first.checkpoint.size, 7);
    assert.equal(first.checkpoint.witnessed, true);

    const entries = await storage.audit.read(tenant);
    const root = merkleRoot(entries.map((e) => entryLeafHash(e.canonical)));
    assert.equal(first.checkpoint.root, root.toString('hex'));
    assert.ok(verifyNoteSignature(first.checkpoint.note, signer.publicKeySpki, signer.keyName));
    const parsed = parseSignedNote(first.checkpoint.note);
    assert.ok(parsed.ok);
    const body = parseCheckpoint(parsed.value.body);
    assert.ok(body.ok);
    assert.deepEqual(
      { origin: body.value.origin, size: body.value.size, root: body.value.root.toString('hex') },
      { origin: `audit.cabinet/${tenant}`, size: 7, root: root.toString('hex') },
    );

    const rows = await storage.checkpoints.list(tenant);
    assert.deepEqual(
      rows.map((r) => [r.size, r.root, r.note]),
      [[7, root.toString('hex'), first.checkpoint.note]],
    );
    assert.deepEqual(await anchor.list(tenant), [
      {
        size: 7,
        root: root.toString('hex'),
        noteSha256: noteSha256(first.checkpoint.note),
        anchoredAt: clock.now().toISOString(),
      },
    ]);
    const witnesses = await witnessRows();
    assert.deepEqual(
      witnesses.map((w) => [w.message.recipient.oid, w.message.notification.checkpoint]),
      [[people.carla.oid, { size: 7, root: root.toString('hex') }]],
    );
    assert.deepEqual(kicked, [tenant]);

    const again = await checkpointTenant(deps, tenant);
    assert.equal(again?.created, false);
    assert.equal(again?.checkpoint.note, first.checkpoint.note);
    assert.equal((await storage.checkpoints.list(tenant)).length, 1);
    assert.equal((await anchor.list(tenant)).length, 1);
    assert.equal((await witnessRows()).length, 1);
  });

  it('refuses a second, different root for a stored size, in the table and in the anchor blob', async () => {
    await appendEntries(2);
    const { checkpoint } = await checkpointAt(deps, tenant, 3);
    const otherRoot = 'ab'.repeat(32);
    await assert.rejects(
      storage.checkpoints.save(tenant, { size: 3, root: otherRoot, note: checkpoint.note }),
      (error: unknown) =>
        error instanceof CheckpointConflictError &&
        error.size === 3 &&
        error.storedRoot === checkpoint.root,
    );
    await assert.rejects(
      anchor.append(tenant, {
        size: 3,
        root: otherRoot,
        noteSha256: noteSha256(checkpoint.note),
        anchoredAt: clock.now().toISOString(),
      }),
      CheckpointConflictError,
    );
    assert.deepEqual(
      (await storage.checkpoints.list(tenant)).map((c) => c.root),
      [checkpoint.root],
    );
    assert.equal((await anchor.list(tenant)).length, 1);
  });

  it('reuses the stored checkpoint of a size for exports, and keeps smaller and larger sizes apart', async () => {
    await appendEntries(9);
    const at5 = await checkpointAt(deps, tenant, 5);
    const at10 = await checkpointAt(deps, tenant, 10);
    const at5again = await checkpointAt(deps, tenant, 5);
    assert.equal(at5again.created, false);
    assert.equal(at5again.checkpoint.note, at5.checkpoint.note);
    assert.deepEqual(
      (await storage.checkpoints.list(tenant, { upToSize: 9 })).map((c) => c.size),
      [5],
    );
    assert.equal((await storage.checkpoints.latest(tenant))?.note, at10.checkpoint.note);
    assert.deepEqual(
      (await anchor.list(tenant)).map((a) => a.size),
      [5, 10],
    );
    await assert.rejects(checkpointAt(deps, tenant, 11), RangeError);
  });

  it('racing checkpoints of one size store, anchor and witness it once', async () => {
    await appendEntries(4);
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => checkpointAt(deps, tenant, 5)),
    );
    assert.equal(new Set(outcomes.map((o) => o.checkpoint.note)).size, 1);
    assert.equal((await storage.checkpoints.list(tenant)).length, 1);
    assert.equal((await anchor.list(tenant)).length, 1);
    assert.equal((await witnessRows()).length, 1);
  });

  it('two checkpointers at once: one works, one checkpoint per size', async () => {
    await appendEntries(120);
    const make = (holder: string) =>
      new Checkpointer({ ...deps, lease: storage.leases }, { holder, leaseTtlMs: 60_000 });
    const [a, b] = [make('instance-a'), make('instance-b')];
    const results = await Promise.all([a.checkpointOnce(), b.checkpointOnce()]);
    assert.equal(results.filter((r) => r === undefined).length, 1);
    assert.equal(results.find((r) => r !== undefined)?.checkpoints, 1);
    assert.deepEqual(
      (await storage.checkpoints.list(tenant)).map((c) => c.size),
      [121],
    );
    await Promise.all([a.stop(), b.stop()]);
  });

  it('checkpoints after N new entries, or once the oldest new entry is T old', async () => {
    const sut = new Checkpointer(
      { ...deps, lease: storage.leases },
      { everyEntries: 5, maxAgeMs: 5 * 60_000 },
    );
    await sut.checkpointOnce();
    assert.equal((await storage.checkpoints.latest(tenant))?.size, undefined);
    clock.advance(5 * 60_000);
    assert.equal((await sut.checkpointOnce())?.checkpoints, 1);
    assert.equal((await storage.checkpoints.latest(tenant))?.size, 1);

    await appendEntries(3);
    clock.advance(4 * 60_000);
    assert.equal((await sut.checkpointOnce())?.checkpoints, 0);
    clock.advance(60_000);
    assert.equal((await sut.checkpointOnce())?.checkpoints, 1);
    assert.equal((await storage.checkpoints.latest(tenant))?.size, 4);

    await appendEntries(5);
    assert.equal((await sut.checkpointOnce())?.checkpoints, 1);
    assert.equal((await storage.checkpoints.latest(tenant))?.size, 9);
    assert.equal((await sut.checkpointOnce())?.checkpoints, 0);
    await sut.stop();
  });

  it("proves a request's entries against a signed checkpoint with the key manifest", async () => {
    await appendEntries(3, 'CON-0001');
    await appendEntries(4);
    await appendEntries(2, 'CON-0001');
    await appendEntries(2, 'CON-0002');
    const proof = await proveRequest(deps, tenant, 'CON-0001');
    assert.ok(proof);
    assert.equal(proof.format, 'cabinet-inclusion/v1');
    assert.equal(proof.treeSize, 12);
    assert.deepEqual(
      proof.entries.map((e) => e.seq),
      [2, 3, 4, 9, 10],
    );
    const manifest = verifyKeyManifest(JSON.parse(JSON.stringify(proof.keys)));
    assert.ok(manifest.ok);
    const key = manifest.keys[0]!;
    assert.ok(verifyNoteSignature(proof.checkpoint, key.publicKeySpki, key.name));
    const note = parseSignedNote(proof.checkpoint);
    assert.ok(note.ok);
    const body = parseCheckpoint(note.value.body);
    assert.ok(body.ok);
    for (const e of proof.entries) {
      const path = e.proof.map((h) => Buffer.from(h, 'hex'));
      const leaf = entryLeafHash(e.canonical);
      assert.ok(verifyInclusion(leaf, e.seq - 1, proof.treeSize, path, body.value.root));
      assert.equal(verifyInclusion(leaf, e.seq, proof.treeSize, path, body.value.root), false);
    }
    assert.equal(await proveRequest(deps, tenant, 'CON-9999'), undefined);

    await appendEntries(1);
    const covered = await proveRequest(deps, tenant, 'CON-0001');
    assert.equal(covered?.treeSize, 12, 'the latest checkpoint still covers the request');
  });

  it('keeps the sandbox checkpoint key across restarts', async () => {
    const again = await loadSandboxCheckpointSigner({
      connectionString: azurite.connectionString,
      tablePrefix: storage.prefix,
      clock,
    });
    assert.ok(again.publicKeySpki.equals(signer.publicKeySpki));
    assert.deepEqual(again.manifest(), signer.manifest());
    assert.ok(verifyKeyManifest(signer.manifest()).ok);
  });

  it('the witness card says how many entries, which root, anchored', () => {
    const card = JSON.stringify(
      checkpointWitnessCard({ clientName: 'Contoso', size: 42, root: 'ab'.repeat(32) }),
    );
    assert.match(card, /Audit checkpoint: 42 entries, root abababababababab…, anchored/);
    assert.ok(card.includes('ab'.repeat(32)));
  });
});
