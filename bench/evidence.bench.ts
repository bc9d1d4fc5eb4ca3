/**
 * Evidence export benchmark (`npm run bench -- --only evidence`): export a client with `entries`
 * audit entries (issue 7: 100k) — entries per second of the whole export (read, decrypt the
 * history, checkpoint, proofs, sign, ZIP) divided by entries per second of a raw scan of the same
 * partition's rows with the Tables SDK, in the same run (target ≥ 0.5).
 * @remarks Entries are seeded straight through the chain and the storage mapper in 100-entity
 * transactions (appending through the audit log would take far longer than the bench is worth).
 * The first export also signs, stores, anchors and witnesses the size-N checkpoint, reading the log
 * a second time to verify it before signing; the re-export reuses it, so both are printed, each
 * with its phases. The history phase reads each active request's record (names, numbers) with point
 * reads, which Azurite serves slowly on a large partition; the seeded log has a request per 10
 * entries, a pessimistic mix. Nothing is asserted.
 */
import { performance } from 'node:perf_hooks';
import { odata } from '@azure/data-tables';
import { submitEntityGroup, type EntityAction } from '../src/adapters/storage/entity-group';
import { openTable } from '../src/adapters/storage/table-connection';
import { entryEntity } from '../src/adapters/storage/table-entity.mapper';
import { createTableStorage, tableNames } from '../src/adapters/storage/table-storage';
import { exportEvidence } from '../src/application/use-cases/evidence-export';
import { openEvidenceDeps } from '../src/cli/evidence-deps';
import { chainEvents, GENESIS_HASH } from '../src/domain/audit/audit-chain';
import type { TenantId } from '../src/domain/shared/ids';
import type { RunningAzurite } from '../src/sandbox/azurite';

const TENANT = 'e71de0ce-0000-4000-8000-000000000007' as TenantId;
const TARGET_RATIO = 0.5;
const format = (n: number) => Math.round(n).toLocaleString('en-US');

export async function runEvidenceBench(options: {
  readonly azurite: RunningAzurite;
  readonly entries: number;
}): Promise<void> {
  const prefix = `bev${Date.now().toString(36)}`;
  const clock = { now: () => new Date('2026-11-30T12:00:00.000Z') };
  const storage = createTableStorage({
    connectionString: options.azurite.connectionString,
    tablePrefix: prefix,
    clock,
  });
  await storage.ensureTables();
  const table = openTable(options.azurite.connectionString, tableNames(prefix).data, {
    sdkRetries: false,
  });

  let head = { seq: 0, hash: GENESIS_HASH };
  let partitionKey = '';
  for (let start = 0; start < options.entries; start += 100) {
    const size = Math.min(100, options.entries - start);
    const events = Array.from({ length: size }, (_, i) => ({
      type: 'request.submitted' as const,
      actor: { tid: TENANT, oid: '7ec40000-0000-4000-8000-000000000011' },
      requestId: `BENCH-${Math.floor((start + i) / 10)}`,
      payload: { status: 'submitted', n: start + i },
    }));
    const ts = new Date(Date.UTC(2026, 10, 1) + start * 1000).toISOString();
    const chained = chainEvents(TENANT, head.seq === 0 ? undefined : head, events, ts);
    let prev = head.hash;
    const actions: EntityAction[] = chained.map((entry) => {
      const row = entryEntity(TENANT, entry, prev);
      prev = entry.hash;
      partitionKey = row.partitionKey;
      return { kind: 'create', entity: row };
    });
    await submitEntityGroup(table, actions);
    const last = chained.at(-1)!;
    head = { seq: last.seq, hash: last.hash };
  }

  const scanStart = performance.now();
  let scanned = 0;
  for await (const row of table.listEntities({
    queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` },
  })) {
    if (typeof row.rowKey === 'string' && row.rowKey.startsWith('e_')) scanned += 1;
  }
  const raw = scanned / ((performance.now() - scanStart) / 1000);

  const deps = await openEvidenceDeps(storage, {
    connectionString: options.azurite.connectionString,
    tablePrefix: prefix,
    anchorContainer: `${prefix}-anchors`,
    clock,
    generatorVersion: 'bench',
  });
  const exportOnce = async (): Promise<{ perSecond: number; bytes: number; parts: string }> => {
    const started = performance.now();
    const phases = new Map<string, number>();
    let phase = '';
    let phaseAt = started;
    const result = await exportEvidence(
      deps,
      { tenantId: TENANT, from: '2026-11-01', to: '2026-12-31' },
      (p) => {
        if (p.phase === phase) return;
        const now = performance.now();
        if (phase) phases.set(phase, now - phaseAt);
        phase = p.phase;
        phaseAt = now;
      },
    );
    phases.set(phase, performance.now() - phaseAt);
    if (!result.ok) throw new Error(result.error.message);
    const perSecond = result.value.manifest.entries.last / ((performance.now() - started) / 1000);
    const parts = [...phases].map(([name, ms]) => `${name} ${format(ms)} ms`).join(', ');
    return { perSecond, bytes: result.value.zip.length, parts };
  };
  const first = await exportOnce();
  const again = await exportOnce();
  console.log(
    `raw partition scan (${format(scanned)} entry rows, Tables SDK): ${format(raw)} entries/s`,
  );
  console.log(
    `evidence export, first (signs the size-N checkpoint): ${format(first.perSecond)} entries/s ÷ raw scan = ${(first.perSecond / raw).toFixed(2)}`,
  );
  console.log(`  ${first.parts}`);
  console.log(
    `evidence export, again (checkpoint and manifest signature reused): ${format(again.perSecond)} entries/s ÷ raw scan = ${(again.perSecond / raw).toFixed(2)} (target ≥ ${TARGET_RATIO}); ZIP ${format(again.bytes / 1024)} KiB`,
  );
  console.log(`  ${again.parts}`);
}
