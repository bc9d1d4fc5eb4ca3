import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { NodeCheckpointSigner } from '../../../src/adapters/crypto/checkpoint-signer';
import { AuditLogTruncatedError } from '../../../src/application/ports/checkpoints';
import { isNotificationRow } from '../../../src/application/ports/outbox';
import {
  checkpointAt,
  checkpointDue,
  checkpointTenant,
  type CheckpointDeps,
} from '../../../src/application/use-cases/checkpoints';
import { verifyNoteSignature } from '../../../src/domain/audit/checkpoint';
import { keyManifestEntry } from '../../../src/domain/audit/key-manifest';
import {
  InMemoryCheckpointAnchor,
  InMemoryCheckpointStore,
} from '../../fakes/in-memory-checkpoints';
import { createInMemoryStorage } from '../../fakes/in-memory-storage';
import { contosoProfile, people } from '../../support/fixtures';

describe('checkpointTenant', () => {
  const tenant = contosoProfile().tenantId;

  function setUp() {
    const storage = createInMemoryStorage();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const manifest = {
      format: 'cabinet-keys/v1' as const,
      keys: [
        keyManifestEntry({
          name: 'cabinet-test',
          publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
          createdAt: '2026-01-01T00:00:00.000Z',
        }),
      ],
    };
    const deps: CheckpointDeps = {
      audit: storage.audit,
      checkpoints: new InMemoryCheckpointStore(storage.data),
      anchor: new InMemoryCheckpointAnchor(),
      signer: new NodeCheckpointSigner(privateKey, 'cabinet-test', manifest),
      clients: storage.clients,
      clock: storage.clock,
    };
    return { storage, deps };
  }

  const event = () => ({
    type: 'request.submitted' as const,
    actor: { tid: tenant, oid: people.carla.oid },
    requestId: null,
    payload: {},
  });

  it('refuses to sign a chain shorter than a checkpoint already anchored (restored from an older backup)', async () => {
    const { storage, deps } = setUp();
    await storage.clients.create(contosoProfile(), [event(), event(), event()]);
    await deps.anchor.append(tenant, {
      size: 5,
      root: '00'.repeat(32),
      noteSha256: '00'.repeat(32),
      anchoredAt: '2026-01-01T00:00:00.000Z',
    });

    await assert.rejects(checkpointTenant(deps, tenant), AuditLogTruncatedError);
    const failures: unknown[] = [];
    const pass = await checkpointDue(
      { ...deps, clients: storage.clients },
      { everyEntries: 1 },
      { onFailure: (_, error) => failures.push(error) },
    );
    assert.equal(pass.failed, 1);
    assert.ok(
      failures[0] instanceof AuditLogTruncatedError,
      'the periodic checkpointer refuses too',
    );
    assert.equal(await deps.checkpoints.latest(tenant), undefined);
    assert.deepEqual(
      (await deps.anchor.list(tenant)).map((a) => a.size),
      [5],
    );
  });

  it('signs nothing while the chain is empty', async () => {
    const { deps } = setUp();
    assert.equal(await checkpointTenant(deps, tenant), undefined);
    await assert.rejects(checkpointAt(deps, tenant, 0), RangeError);
  });

  it('witnesses a checkpoint of a client without admins with no cards, once', async () => {
    const { storage, deps } = setUp();
    await storage.clients.create(contosoProfile({ admins: [] }), [event()]);
    const outcome = await checkpointTenant(deps, tenant);
    assert.equal(outcome?.checkpoint.witnessed, true);
    assert.ok(
      verifyNoteSignature(outcome.checkpoint.note, deps.signer.publicKeySpki, 'cabinet-test'),
    );
    assert.deepEqual((await storage.outbox.list(tenant)).filter(isNotificationRow), []);
    assert.equal((await deps.anchor.list(tenant)).length, 1);
  });

  it('sends each of several admins one witness card', async () => {
    const { storage, deps } = setUp();
    await storage.clients.create(contosoProfile({ admins: [people.carla, people.andy] }), [
      event(),
    ]);
    await checkpointTenant(deps, tenant);
    await checkpointTenant(deps, tenant);
    const cards = (await storage.outbox.list(tenant)).filter(isNotificationRow);
    assert.deepEqual(
      cards.map((c) => [c.message.recipient.oid, c.message.notification.template]).sort(),
      [
        [people.andy.oid, 'checkpoint_witness'],
        [people.carla.oid, 'checkpoint_witness'],
      ].sort(),
    );
  });
});
