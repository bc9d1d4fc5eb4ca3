import assert from 'node:assert/strict';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import type { TenantId } from '../../src/domain/shared/ids';
import { verifyAuditChain } from '../../src/cli/audit.command';
import { useAzurite } from './azurite-fixture';
import { runAuditWriters } from './audit-writers';

/**
 * Registers a test: `writers` processes append `appends` entries each to one tenant at once; the
 * chain must come out linear and contiguous with every acknowledged append present exactly once.
 */
export function describeConcurrentAppends(
  writers: number,
  appends: number,
  timeoutMs: number,
): void {
  describe('Audit appends from several processes on one tenant (Azurite)', function () {
    this.timeout(timeoutMs);
    const azurite = useAzurite();

    it(`keeps ${writers} writers × ${appends} appends linear: every acknowledged append exactly once, no gaps`, async () => {
      const storage = await azurite.newStorage();
      const tenantId = 'c0a7050a-0000-4000-8000-00000000c0c0' as TenantId;

      const reports = await runAuditWriters(
        Array.from({ length: writers }, (_, i) => ({
          connectionString: azurite.connectionString,
          tablePrefix: storage.prefix,
          tenantId,
          writer: `w${i + 1}`,
          inFlight: 25,
          count: appends,
        })),
      );

      const entries = await storage.audit.read(tenantId);
      assert.deepEqual(verifyChain(tenantId, entries).ok, true);
      assert.equal((await verifyAuditChain(storage.audit, tenantId)).ok, true);
      assert.deepEqual(
        entries.map((e) => e.seq),
        Array.from({ length: writers * appends }, (_, i) => i + 1),
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
      assert.equal(acknowledged.length, writers * appends);
      assert.deepEqual([...acknowledged].sort(), [...ids].sort());
    });
  });
}
