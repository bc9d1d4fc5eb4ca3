import { strict as assert } from 'node:assert';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  createConfiguredCheckpointSigner,
  loadSandboxCheckpointSigner,
  type NodeCheckpointSigner,
} from '../../src/adapters/crypto/checkpoint-signer';
import { openTable } from '../../src/adapters/storage/table-connection';
import { entryRowKey } from '../../src/adapters/storage/table-keys';
import { tableNames } from '../../src/adapters/storage/table-storage';
import { canonicalize, hashCanonical, type AuditEntry } from '../../src/domain/audit/audit-chain';
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
import {
  endorsementText,
  keyManifestEntry,
  verifyKeyManifest,
  type KeyManifest,
} from '../../src/domain/audit/key-manifest';
import { entryLeafHash, merkleRoot, verifyInclusion } from '../../src/domain/audit/merkle';
import type { TenantId } from '../../src/domain/shared/ids';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import { asObjectId } from '../../src/domain/shared/ids';
import { createBotAdapter } from '../../src/surfaces/bot/bot-adapter';
import { checkpointWitnessCard } from '../../src/surfaces/bot/cards/checkpoint.view';
import { TeamsNotifier } from '../../src/surfaces/bot/teams-notifier';
import { cardText } from '../support/bot-client';
import { startLoopbackConnector } from '../support/loopback-connector';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { contosoProfile, fabrikamProfile, people } from '../support/fixtures';

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

  it("delivers the witness card to the client's admin in Teams", async () => {
    const connector = await startLoopbackConnector();
    try {
      await storage.conversations.save({
        tid: tenant,
        oid: asObjectId(people.carla.oid)!,
        reference: {
          channelId: 'msteams',
          serviceUrl: connector.url,
          conversation: { id: 'a:carla-chat', conversationType: 'personal', tenantId: tenant },
          bot: { id: '28:cabinet-sandbox-bot', name: 'Cabinet' },
          user: { id: `29:${people.carla.oid}`, aadObjectId: people.carla.oid },
        },
      });
      await appendEntries(2);
      const outcome = await checkpointTenant(deps, tenant);
      const relay = new OutboxRelay(
        {
          outbox: storage.outbox,
          notifier: new TeamsNotifier({
            adapter: createBotAdapter(undefined),
            appId: '',
            conversations: storage.conversations,
            requests: storage.requests,
            clients: storage.clients,
            delegations: storage.delegations,
            clock,
          }),
          clients: storage.clients,
          clock,
        },
        { baseDelayMs: 1, maxDelayMs: 1, random: () => 0 },
      );
      await relay.deliverDue(tenant);
      assert.deepEqual(
        (await witnessRows()).map((r) => r.status),
        ['done'],
      );
      const sent = connector.calls.flatMap((c) => c.body?.attachments ?? []);
      assert.equal(sent.length, 1);
      const text = cardText(sent[0]!.content);
      assert.match(text, /Audit checkpoint: 3 entries, root [0-9a-f]{16}…, anchored/);
      assert.ok(text.includes(outcome!.checkpoint.root));
      assert.ok(text.includes('Contoso'));
    } finally {
      await connector.close();
    }
  });

  it('refuses to sign a chain rewritten under an earlier checkpoint, even with recomputed hashes', async () => {
    await appendEntries(4);
    const { checkpoint } = await checkpointAt(deps, tenant, 3);
    // Rewrite entries 2..5 with edited payloads and a freshly linked chain: only the checkpoint tells.
    const table = openTable(azurite.connectionString, tableNames(storage.prefix).data);
    const entries = await storage.audit.read(tenant);
    let prev = entries[0]!.hash;
    for (const stored of entries.slice(1)) {
      const parsed = JSON.parse(stored.canonical) as AuditEntry;
      const canonical = canonicalize({ ...parsed, prev, payload: { n: 99 } });
      const hash = hashCanonical(canonical);
      await table.updateEntity(
        { partitionKey: tenant, rowKey: entryRowKey(stored.seq), c: canonical, h: hash },
        'Merge',
      );
      prev = hash;
    }
    await table.updateEntity({ partitionKey: tenant, rowKey: 'h', hash: prev }, 'Merge');
    await assert.rejects(
      checkpointAt(deps, tenant, 5),
      (error: unknown) =>
        error instanceof CheckpointConflictError &&
        error.size === 3 &&
        error.storedRoot === checkpoint.root,
    );
    assert.deepEqual(
      (await storage.checkpoints.list(tenant)).map((c) => c.size),
      [3],
    );
  });

  it('refuses to prove from a log shorter than its latest checkpoint', async () => {
    await appendEntries(4, 'CON-0001');
    await checkpointTenant(deps, tenant);
    const table = openTable(azurite.connectionString, tableNames(storage.prefix).data);
    await table.deleteEntity(tenant, entryRowKey(5));
    await assert.rejects(proveRequest(deps, tenant, 'CON-0001'), /truncated/);
  });

  it("one client's refused chain is logged and does not hold up the others", async () => {
    const other = fabrikamProfile();
    await storage.clients.create(other, []);
    await storage.audit.append(other.tenantId, [
      { ...entry(1), actor: { tid: other.tenantId, oid: people.fiona.oid } },
    ]);
    await appendEntries(2);
    await checkpointAt(deps, tenant, 2);
    const table = openTable(azurite.connectionString, tableNames(storage.prefix).data);
    await table.updateEntity(
      { partitionKey: tenant, rowKey: entryRowKey(2), c: '{"edited":true}' },
      'Merge',
    );
    const logged: string[] = [];
    const sut = new Checkpointer(
      { ...deps, lease: storage.leases },
      { everyEntries: 1, log: (line) => logged.push(line) },
    );
    assert.deepEqual(await sut.checkpointOnce(), { checked: 2, checkpoints: 1, failed: 1 });
    assert.equal((await storage.checkpoints.latest(other.tenantId))?.size, 1);
    assert.equal((await storage.checkpoints.latest(tenant))?.size, 2);
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, new RegExp(`tenant ${tenant} failed: Refusing to checkpoint`));
    await sut.stop();
  });

  it('keeps the first signature stored for a document, so re-exports reuse it', async () => {
    const sha = 'cd'.repeat(32);
    assert.equal(await storage.checkpoints.getSignature(tenant, sha), undefined);
    assert.equal(await storage.checkpoints.putSignature(tenant, sha, 'first'), 'first');
    assert.equal(await storage.checkpoints.putSignature(tenant, sha, 'second'), 'first');
    assert.equal(await storage.checkpoints.getSignature(tenant, sha), 'first');
  });

  it('signs with a configured key that is the newest of a verified manifest, and refuses any other', async () => {
    const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
    const old = pair();
    const current = pair();
    const first = keyManifestEntry({
      name: 'cabinet-2025',
      publicKeySpki: spki(old.publicKey),
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    const secondFields = {
      name: 'cabinet-2026',
      publicKeySpki: spki(current.publicKey),
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    const endorsement = sign(
      'sha256',
      Buffer.from(
        endorsementText({ ...secondFields, publicKey: spki(current.publicKey).toString('base64') }),
        'utf8',
      ),
      { key: old.privateKey, dsaEncoding: 'ieee-p1363' },
    );
    const manifest: KeyManifest = {
      format: 'cabinet-keys/v1',
      keys: [first, keyManifestEntry({ ...secondFields, endorsement })],
    };
    const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const sut = createConfiguredCheckpointSigner({
      privateKeyPem: pem(current.privateKey),
      manifestJson: JSON.stringify(manifest),
    });
    assert.equal(sut.keyName, 'cabinet-2026');
    assert.deepEqual(sut.manifest(), manifest);
    const configured = { ...deps, signer: sut };
    await appendEntries(1);
    const { checkpoint } = await checkpointAt(configured, tenant, 2);
    assert.ok(verifyNoteSignature(checkpoint.note, spki(current.publicKey), 'cabinet-2026'));
    assert.throws(
      () =>
        createConfiguredCheckpointSigner({
          privateKeyPem: pem(old.privateKey),
          manifestJson: JSON.stringify(manifest),
        }),
      /not the newest key/,
    );
    assert.throws(
      () =>
        createConfiguredCheckpointSigner({
          privateKeyPem: pem(current.privateKey),
          manifestJson: JSON.stringify({ ...manifest, keys: [manifest.keys[1]] }),
        }),
      /does not verify/,
    );
  });

  it('the witness card says how many entries, which root, anchored', () => {
    const card = JSON.stringify(
      checkpointWitnessCard({ clientName: 'Contoso', size: 42, root: 'ab'.repeat(32) }),
    );
    assert.match(card, /Audit checkpoint: 42 entries, root abababababababab…, anchored/);
    assert.ok(card.includes('ab'.repeat(32)));
  });
});
