import assert from 'node:assert/strict';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import type { TenantId } from '../../src/domain/shared/ids';
import { verifyAuditChain } from '../../src/cli/audit.command';
import { useAzurite } from '../support/azurite-fixture';
import { runAuditWriters } from '../support/audit-writers';

const WRITERS = 4;
const APPENDS = 250;

describe('Audit appends from several processes on one tenant (Azurite)', function () {
  this.timeout(120_000);
  const azurite = useAzurite();

  it(`keeps ${WRITERS} writers × ${APPENDS} appends linear: every acknowledged append exactly once, no gaps`, async () => {
    const storage = await azurite.newStorage();
    const tenantId = 'c0a7050a-0000-4000-8000-00000000c0c0' as TenantId;

    const reports = await runAuditWriters(
      Array.from({ length: WRITERS }, (_, i) => ({
        connectionString: azurite.connectionString,
        tablePrefix: storage.prefix,
        tenantId,
        writer: `w${i + 1}`,
        inFlight: 25,
        count: APPENDS,
      })),
    );

    const entries = await storage.audit.read(tenantId);
    assert.deepEqual(verifyChain(tenantId, entries).ok, true);
    assert.equal((await verifyAuditChain(storage.audit, tenantId)).ok, true);
    assert.deepEqual(
      entries.map((e) => e.seq),
      Array.from({ length: WRITERS * APPENDS }, (_, i) => i + 1),
    );
    const ids = entries.map(
      (e) => (JSON.parse(e.canonical) as { payload: { id: string } }).payload.id,
    );
    assert.equal(new Set(ids).size, ids.length, 'an append was stored twice');
    const acknowledged = reports.flatMap((r) => (Array.isArray(r.acked) ? r.acked : []));
    assert.deepEqual(
      reports.map((r) => [r.failed, r.errors]),
      reports.map(() => [0, []]),
    );
    assert.equal(acknowledged.length, WRITERS * APPENDS);
    assert.deepEqual([...acknowledged].sort(), [...ids].sort());
  });
});
