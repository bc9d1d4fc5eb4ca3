import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TableClient } from '@azure/data-tables';
import { openTable } from '../../src/adapters/storage/table-connection';
import { entryRowKey, RowKeys } from '../../src/adapters/storage/table-keys';
import { checkpointRowKey } from '../../src/adapters/storage/table-checkpoint-store';
import { tableNames, type TableStorage } from '../../src/adapters/storage/table-storage';
import { checkpointTenant } from '../../src/application/use-cases/checkpoints';
import {
  exportEvidence,
  type EvidenceExportDeps,
} from '../../src/application/use-cases/evidence-export';
import { openEvidenceDeps } from '../../src/cli/evidence-deps';
import { asTenantId, type TenantId } from '../../src/domain/shared/ids';
import type { BundleReport } from '../../verifier/verify.mjs' with { 'resolution-mode': 'import' };
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';

const VERIFIER = require.resolve('../../verifier/verify.mjs');

/**
 * T5b (reliability-security.md §6): a checkpoint is anchored to the append blob, 50 more entries
 * follow, then the table loses data the way a restore from an older backup does: entries and the
 * head go back together (and `c_` rows with them), while the anchor blob, kept apart, survives.
 */
describe('T5b: truncation after anchoring, through the real export and verify.mjs (Azurite)', function () {
  this.timeout(120_000);
  const azurite = useAzurite();
  const clock = new FakeClock(new Date('2026-11-23T09:00:00.000Z'));
  const anchoredSize = 30;
  const tailSize = 50;
  let storage: TableStorage & { readonly prefix: string };
  let deps: EvidenceExportDeps;
  let table: TableClient;
  let work: string;

  before(async () => {
    storage = await azurite.newStorage({ clock });
    deps = await openEvidenceDeps(storage, {
      connectionString: azurite.connectionString,
      tablePrefix: storage.prefix,
      anchorContainer: `anchors-${storage.prefix}`,
      clock,
      generatorVersion: '0.1.0-test',
    });
    table = openTable(azurite.connectionString, tableNames(storage.prefix).data);
    work = mkdtempSync(join(tmpdir(), 'cabinet-truncation-'));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  async function append(tenant: TenantId, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      clock.advance(1_000);
      await storage.audit.append(tenant, [
        {
          type: 'request.submitted',
          actor: { tid: tenant, oid: 'aaaaaaaa-1111-4111-8111-000000000001' },
          requestId: randomUUID(),
          payload: { status: 'submitted' },
        },
      ]);
    }
  }

  /** `anchoredSize` entries, checkpointed and anchored, then `tailSize` more: returns the tenant. */
  async function anchoredThenTail(): Promise<TenantId> {
    const tenant = asTenantId(randomUUID())!;
    await append(tenant, anchoredSize);
    const outcome = await checkpointTenant(deps, tenant);
    assert.equal(outcome?.checkpoint.size, anchoredSize);
    assert.deepEqual(
      (await deps.anchor.list(tenant)).map((a) => a.size),
      [anchoredSize],
    );
    await append(tenant, tailSize);
    assert.equal((await storage.audit.head(tenant))?.seq, anchoredSize + tailSize);
    return tenant;
  }

  /** The table as a backup taken when the chain had `keep` entries: later entries, head and `c_` rows gone. */
  async function restoreTo(tenant: TenantId, keep: number): Promise<void> {
    const head = (await storage.audit.head(tenant))!;
    for (let seq = keep + 1; seq <= head.seq; seq += 1)
      await table.deleteEntity(tenant, entryRowKey(seq));
    for (const checkpoint of await deps.checkpoints.list(tenant))
      if (checkpoint.size > keep)
        await table.deleteEntity(tenant, checkpointRowKey(checkpoint.size));
    const [last] = await storage.audit.read(tenant, { fromSeq: keep, limit: 1 });
    await table.updateEntity(
      { partitionKey: tenant, rowKey: RowKeys.head, seq: keep, hash: last!.hash },
      'Merge',
    );
    assert.equal((await storage.audit.head(tenant))?.seq, keep);
  }

  /** Exports November up to today's entries and runs the bundle's auditor tool on the ZIP. */
  async function exportAndVerify(tenant: TenantId) {
    const result = await exportEvidence(deps, {
      tenantId: tenant,
      from: '2026-11-01',
      to: '2026-11-30',
    });
    assert.ok(result.ok, JSON.stringify(result));
    const zipPath = join(work, `${tenant}.zip`);
    writeFileSync(zipPath, result.value.zip);
    const run = spawnSync(process.execPath, [VERIFIER, zipPath], { encoding: 'utf8' });
    return { code: run.status, report: JSON.parse(run.stdout) as BundleReport };
  }

  it('(a) only the unanchored tail lost: the bundle verifies (exit 0); the loss is the exposure window', async () => {
    const tenant = await anchoredThenTail();
    // Before the loss, these entries were protected by the hash chain alone: no checkpoint, no anchor.
    const exposed = (await storage.audit.head(tenant))!.seq - anchoredSize;
    assert.equal(exposed, tailSize);

    await restoreTo(tenant, anchoredSize);
    const { code, report } = await exportAndVerify(tenant);

    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(report.verified, true);
    assert.equal(report.entries, anchoredSize);
    assert.deepEqual(report.checkpoints.anchored, [anchoredSize]);
    assert.deepEqual(report.checkpoints.unanchored, []);
    // Nothing signed or anchored ever named the 50 lost entries, so no verifier can see them: the
    // exposure window is bounded by the checkpoint cadence (T9), not detected after the fact.
    assert.deepEqual(
      report.warnings.filter((w) => w.code.startsWith('TAIL_')),
      [],
      JSON.stringify(report.warnings),
    );
  });

  it('(b) anchored entries lost too: verify.mjs exits 1 with TRUNCATED_BEFORE_CHECKPOINT', async () => {
    const tenant = await anchoredThenTail();
    const keep = anchoredSize - 10;
    await restoreTo(tenant, keep);
    assert.deepEqual(
      (await deps.checkpoints.list(tenant)).map((c) => c.size),
      [],
      'the stored checkpoint went back with the table',
    );
    assert.deepEqual(
      (await deps.anchor.list(tenant)).map((a) => a.size),
      [anchoredSize],
      'the anchor blob survives the table restore',
    );

    const { code, report } = await exportAndVerify(tenant);

    assert.equal(code, 1, JSON.stringify(report));
    assert.equal(report.verified, false);
    assert.equal(report.firstFailure?.reason, 'TRUNCATED_BEFORE_CHECKPOINT');
    assert.equal(report.firstFailure?.seq, keep + 1);
    assert.equal(report.firstFailure?.file, 'anchors/anchors.json');
  });
});
