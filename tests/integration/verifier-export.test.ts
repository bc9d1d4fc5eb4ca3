import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import JSZip from 'jszip';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import { checkpointTenant } from '../../src/application/use-cases/checkpoints';
import {
  exportEvidence,
  type EvidenceExportDeps,
} from '../../src/application/use-cases/evidence-export';
import { asTenantId } from '../../src/domain/shared/ids';
import { openEvidenceDeps } from '../../src/cli/evidence-deps';
import type { BundleReport } from '../../verifier/verify.mjs' with { 'resolution-mode': 'import' };
import { MovableClock } from '../support/approval-flow';
import { useAzurite } from '../support/azurite-fixture';

/** The auditor's run: `node verify.mjs …` in a process without a network where `unshare -n` works. */
function auditorRun(verifier: string, args: readonly string[], cwd: string) {
  const offline = spawnSync('unshare', ['-n', 'true']).status === 0;
  const [command, ...prefix] = offline ? ['unshare', '-n', process.execPath] : [process.execPath];
  const run = spawnSync(command, [...prefix, verifier, ...args], { cwd, encoding: 'utf8' });
  return { code: run.status, report: JSON.parse(run.stdout) as BundleReport };
}

describe('verify.mjs on a real export (Azurite)', function () {
  this.timeout(120_000);
  const azurite = useAzurite();
  const clock = new MovableClock();
  let storage: TableStorage & { readonly prefix: string };
  let deps: EvidenceExportDeps;
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
    work = mkdtempSync(join(tmpdir(), 'cabinet-verifier-export-'));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('the verifier shipped in the bundle verifies it offline, zipped and unpacked, and reports the anchored checkpoint', async () => {
    const tenant = asTenantId(randomUUID())!;
    const append = async (ts: string) => {
      clock.moveTo(ts);
      await storage.audit.append(tenant, [
        {
          type: 'request.submitted',
          actor: { tid: tenant, oid: 'aaaaaaaa-1111-4111-8111-000000000001' },
          requestId: randomUUID(),
          payload: { status: 'submitted' },
        },
      ]);
    };
    for (let i = 0; i < 12; i += 1)
      await append(`2026-11-02T10:${String(i).padStart(2, '0')}:00.000Z`);
    await checkpointTenant(deps, tenant);
    for (let i = 0; i < 3; i += 1) await append(`2026-11-03T10:0${i}:00.000Z`);

    const result = await exportEvidence(deps, {
      tenantId: tenant,
      from: '2026-11-01',
      to: '2026-11-30',
    });
    assert.ok(result.ok);
    const zipPath = join(work, 'bundle.zip');
    writeFileSync(zipPath, result.value.zip);

    const archive = await JSZip.loadAsync(result.value.zip);
    const unpacked = join(work, 'unpacked');
    for (const file of Object.values(archive.files).filter((f) => !f.dir)) {
      mkdirSync(dirname(join(unpacked, file.name)), { recursive: true });
      writeFileSync(join(unpacked, file.name), await file.async('nodebuffer'));
    }
    const shipped = join(unpacked, 'verifier/verify.mjs');
    assert.ok(
      readFileSync(shipped).equals(readFileSync(require.resolve('../../verifier/verify.mjs'))),
      'the bundle ships the repository verifier',
    );

    const zipped = auditorRun(shipped, [zipPath], work);
    assert.equal(zipped.code, 0, JSON.stringify(zipped.report));
    assert.equal(zipped.report.entries, 15);
    assert.equal(zipped.report.tenantId, tenant);
    assert.ok(zipped.report.checkpoints.anchored.includes(12), JSON.stringify(zipped.report));

    const folder = auditorRun(shipped, ['.'], unpacked);
    assert.equal(folder.code, 0, JSON.stringify(folder.report));
    assert.deepEqual(folder.report.checkpoints, zipped.report.checkpoints);

    const manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')) as {
      pinnedKey: string;
    };
    const pinned = auditorRun(shipped, [zipPath, '--pin', manifest.pinnedKey], work);
    assert.equal(pinned.code, 0);
    const wrongPin = auditorRun(shipped, [zipPath, '--pin', '0'.repeat(64)], work);
    assert.equal(wrongPin.code, 1);
    assert.equal(wrongPin.report.firstFailure?.reason, 'PINNED_KEY_MISMATCH');
  });
});
