import { strict as assert } from 'node:assert';
import { loadSandboxCheckpointSigner } from '../../src/adapters/crypto/checkpoint-signer';
import { createBlobCheckpointAnchor } from '../../src/adapters/storage/blob-checkpoint-anchor';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import {
  Checkpointer,
  checkpointTenant,
  noteSha256,
} from '../../src/application/use-cases/checkpoints';
import type { AuditEvent } from '../../src/domain/audit/audit-event';
import { verifyNoteSignature } from '../../src/domain/audit/checkpoint';
import { entryLeafHash, merkleRoot } from '../../src/domain/audit/merkle';
import type { TenantId } from '../../src/domain/shared/ids';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from './azurite-fixture';
import { contosoProfile, people } from './fixtures';

const RATE_PER_SECOND = 20;
const TICK_MS = 5_000;
const EVERY_ENTRIES = 100;
const MAX_AGE_MS = 5 * 60_000;
const LEASE_TTL_MS = 60_000;

export interface CadenceScenario {
  /** Simulated minutes at 20 entries/s while the first instance checkpoints. */
  readonly burstMinutes: number;
  /** Simulated minutes at one entry a minute: only the age rule (5 min) checkpoints these. */
  readonly trickleMinutes: number;
  /** Simulated minutes at 20 entries/s after the first instance is killed. */
  readonly takeoverMinutes: number;
}

/**
 * T9 (reliability-security.md §6) on Azurite with a simulated clock: entries arrive second by
 * simulated second and a Checkpointer (N = 100, T = 5 min) ticks every simulated 5 s through
 * `checkpointOnce`, never on timers, so nothing depends on wall-clock time.
 */
export function describeCheckpointCadence(scenario: CadenceScenario): void {
  const { burstMinutes, trickleMinutes, takeoverMinutes } = scenario;
  describe(`T9 checkpoint cadence: ${burstMinutes} min at ${RATE_PER_SECOND}/s, ${trickleMinutes} min trickle, takeover after a killed holder`, function () {
    this.timeout(0);
    const azurite = useAzurite();
    const tenant: TenantId = contosoProfile().tenantId;
    const clock = new FakeClock(new Date('2026-11-23T09:00:00.000Z'));
    let storage: TableStorage & { readonly prefix: string };
    let deps: ConstructorParameters<typeof Checkpointer>[0];
    /** Append time of each entry, by seq - 1 (the client's creation entry is seq 1). */
    const appendedAt: number[] = [];

    const event = (n: number): AuditEvent => ({
      type: 'request.submitted',
      actor: { tid: tenant, oid: people.carla.oid },
      requestId: null,
      payload: { n },
    });

    before(async () => {
      storage = await azurite.newStorage({ clock });
      const anchor = createBlobCheckpointAnchor({
        connectionString: azurite.connectionString,
        container: `${storage.prefix}anchors`,
      });
      await anchor.ensureContainer();
      const signer = await loadSandboxCheckpointSigner({
        connectionString: azurite.connectionString,
        tablePrefix: storage.prefix,
        clock,
      });
      await storage.clients.create(contosoProfile(), [event(0)]);
      appendedAt.push(clock.now().getTime());
      deps = {
        audit: storage.audit,
        checkpoints: storage.checkpoints,
        anchor,
        signer,
        clients: storage.clients,
        clock,
        lease: storage.leases,
      };
      // The onboarding entry starts out anchored, so the burst's 100-entry steps line up with the
      // 5 s ticks (20/s × 5 s = 100) and the measured bound is the policy's, not an off-by-one.
      await checkpointTenant(deps, tenant);
    });

    const checkpointer = (holder: string) =>
      new Checkpointer(deps, {
        holder,
        leaseTtlMs: LEASE_TTL_MS,
        everyEntries: EVERY_ENTRIES,
        maxAgeMs: MAX_AGE_MS,
      });

    async function appendBatch(count: number): Promise<void> {
      const events = Array.from({ length: count }, (_, i) => event(appendedAt.length + i));
      await storage.audit.append(tenant, events);
      for (let i = 0; i < count; i += 1) appendedAt.push(clock.now().getTime());
    }

    async function lastAnchored(): Promise<number> {
      return Math.max(0, ...(await deps.anchor.list(tenant)).map((a) => a.size));
    }

    /** What is protected by the hash chain alone right now: entries past the last anchor, and for how long. */
    async function exposure(): Promise<{ entries: number; ageMs: number }> {
      const anchored = await lastAnchored();
      const entries = appendedAt.length - anchored;
      return {
        entries,
        ageMs: entries === 0 ? 0 : clock.now().getTime() - appendedAt[anchored]!,
      };
    }

    it('anchors at least every 100 entries or 5 minutes; a killed holder is replaced once its lease lapses; one root per size, each the recomputed Merkle root', async () => {
      const first = checkpointer('instance-a');
      let maxEntries = 0;
      let maxAgeMs = 0;
      let lastTickOfA = clock.now().getTime();

      /** Runs `seconds` simulated seconds: `perSecond(s)` entries each second, a tick every 5 s. */
      async function run(
        seconds: number,
        perSecond: (second: number) => number,
        tick: () => Promise<void>,
      ): Promise<void> {
        for (let s = 1; s <= seconds; s += 1) {
          clock.advance(1_000);
          const count = perSecond(s);
          if (count > 0) await appendBatch(count);
          if (s % (TICK_MS / 1_000) === 0) await tick();
        }
      }

      const tickA = async () => {
        // Exposure peaks just before a tick: measure it there.
        const before = await exposure();
        maxEntries = Math.max(maxEntries, before.entries);
        maxAgeMs = Math.max(maxAgeMs, before.ageMs);
        const pass = await first.checkpointOnce();
        assert.ok(pass, 'the only instance holds the lease');
        assert.equal(pass.failed, 0);
        lastTickOfA = clock.now().getTime();
      };

      await run(burstMinutes * 60, () => RATE_PER_SECOND, tickA);
      const afterBurst = (await deps.checkpoints.list(tenant)).length;
      assert.ok(afterBurst >= (burstMinutes * 60 * RATE_PER_SECOND) / EVERY_ENTRIES);
      await run(trickleMinutes * 60, (s) => (s % 60 === 0 ? 1 : 0), tickA);
      assert.ok(
        (await deps.checkpoints.list(tenant)).length > afterBurst,
        'the age rule checkpointed the trickle',
      );

      assert.ok(maxEntries <= EVERY_ENTRIES, `max exposure ${maxEntries} entries`);
      assert.ok(maxAgeMs <= MAX_AGE_MS + TICK_MS, `max exposure ${maxAgeMs / 1000} s`);
      assert.ok(maxEntries >= EVERY_ENTRIES - RATE_PER_SECOND, 'the burst reached the entry rule');
      assert.ok(maxAgeMs > MAX_AGE_MS - TICK_MS, 'the trickle reached the age rule');

      // Instance A is killed: no more ticks and no release, so its lease runs out on its own.
      const second = checkpointer('instance-b');
      let takenAt: number | undefined;
      await run(
        takeoverMinutes * 60,
        () => RATE_PER_SECOND,
        async () => {
          const pass = await second.checkpointOnce();
          if (takenAt === undefined) {
            if (pass === undefined) {
              assert.ok(
                clock.now().getTime() < lastTickOfA + LEASE_TTL_MS,
                'B waits only for the TTL',
              );
              return;
            }
            takenAt = clock.now().getTime();
            assert.equal(pass.checkpoints, 1, 'B checkpoints the backlog at once');
            assert.equal(await lastAnchored(), appendedAt.length);
            return;
          }
          assert.ok(pass, 'B keeps the lease');
          const now = await exposure();
          assert.equal(now.entries, 0, 'B checkpoints every pass at 20/s');
        },
      );
      assert.ok(takenAt !== undefined, 'B took over');
      assert.ok(takenAt >= lastTickOfA + LEASE_TTL_MS);
      assert.ok(
        takenAt <= lastTickOfA + LEASE_TTL_MS + TICK_MS,
        'B took over within one tick of the TTL',
      );
      assert.equal(await first.checkpointOnce(), undefined, 'a revived A finds the lease taken');

      const entries = await storage.audit.read(tenant);
      assert.equal(entries.length, appendedAt.length);
      const leaves = entries.map((e) => entryLeafHash(e.canonical));
      const stored = await deps.checkpoints.list(tenant);
      const sizes = stored.map((c) => c.size);
      assert.equal(new Set(sizes).size, sizes.length, 'one checkpoint per size');
      assert.deepEqual(
        sizes,
        [...sizes].sort((a, b) => a - b),
      );
      for (const c of stored) {
        assert.equal(
          c.root,
          merkleRoot(leaves.slice(0, c.size)).toString('hex'),
          `root of ${c.size}`,
        );
        assert.ok(verifyNoteSignature(c.note, deps.signer.publicKeySpki, deps.signer.keyName));
        assert.equal(c.witnessed, true);
      }
      const anchors = await deps.anchor.list(tenant);
      assert.deepEqual(
        anchors.map((a) => [a.size, a.root, a.noteSha256]),
        stored.map((c) => [c.size, c.root, noteSha256(c.note)]),
        'every checkpoint anchored once, in order, as stored',
      );
    });
  });
}
