import assert from 'node:assert/strict';
import type { TableClient } from '@azure/data-tables';
import { openTable } from '../../src/adapters/storage/table-connection';
import { entryRowKey } from '../../src/adapters/storage/table-keys';
import { tableNames, type TableStorage } from '../../src/adapters/storage/table-storage';
import {
  canonicalize,
  hashCanonical,
  verifyChain,
  type AuditEntry,
} from '../../src/domain/audit/audit-chain';
import type { TenantId } from '../../src/domain/shared/ids';
import { runAuditCommand, verifyAuditChain } from '../../src/cli/audit.command';
import { freePort } from '../../src/sandbox/azurite';
import { useAzurite } from '../support/azurite-fixture';
import { runCli } from '../support/run-cli';
import { event, newTenant } from '../contract/contract-support';

describe('Audit chain tamper evidence (Table Storage on Azurite)', () => {
  const azurite = useAzurite();
  let storage: TableStorage & { readonly prefix: string };
  let table: TableClient;
  let tenant: TenantId;

  before(async () => {
    storage = await azurite.newStorage();
    table = openTable(azurite.connectionString, tableNames(storage.prefix).data);
  });

  beforeEach(async () => {
    tenant = newTenant();
    for (let n = 1; n <= 5; n += 1) await storage.audit.append(tenant, [event(tenant, { n })]);
  });

  async function stored(seq: number): Promise<{ c: string; h: string }> {
    const row = await table.getEntity<{ c: string; h: string }>(tenant, entryRowKey(seq));
    return { c: row.c, h: row.h };
  }

  async function rewrite(seq: number, values: { c: string; h: string }): Promise<void> {
    await table.updateEntity(
      { partitionKey: tenant, rowKey: entryRowKey(seq), ...values },
      'Merge',
    );
  }

  async function expectBroken(seq: number, reason: RegExp): Promise<void> {
    const verdict = verifyChain(tenant, await storage.audit.read(tenant));
    assert.equal(verdict.ok, false);
    assert.ok(!verdict.ok);
    assert.equal(verdict.seq, seq);
    assert.match(verdict.reason, reason);
    assert.deepEqual(await verifyAuditChain(storage.audit, tenant), verdict);
  }

  it('verifies an untouched chain, head included', async () => {
    const head = await storage.audit.head(tenant);
    assert.deepEqual(await verifyAuditChain(storage.audit, tenant), {
      ok: true,
      count: 5,
      headHash: head!.hash,
    });
  });

  it('catches an edited entry', async () => {
    const entry = await stored(3);
    const edited = { ...(JSON.parse(entry.c) as AuditEntry), payload: { n: 33 } };
    await rewrite(3, { c: canonicalize(edited), h: entry.h });
    await expectBroken(3, /hash does not match the entry content/);
  });

  it('catches a deleted entry', async () => {
    await table.deleteEntity(tenant, entryRowKey(3));
    await expectBroken(3, /entry 3 is missing/);
  });

  it('catches two entries swapped', async () => {
    const [two, three] = [await stored(2), await stored(3)];
    await rewrite(2, three);
    await rewrite(3, two);
    await expectBroken(2, /entry claims seq 3/);
  });

  it('catches a rewritten link even when the entry was re-hashed', async () => {
    const entry = JSON.parse((await stored(3)).c) as AuditEntry;
    const relinked = canonicalize({ ...entry, prev: 'f'.repeat(64) });
    await rewrite(3, { c: relinked, h: hashCanonical(relinked) });
    await expectBroken(3, /prev does not match the hash of the previous entry/);
  });

  it('catches a truncated tail the head still remembers', async () => {
    await table.deleteEntity(tenant, entryRowKey(5));
    await table.deleteEntity(tenant, entryRowKey(4));

    assert.equal(verifyChain(tenant, await storage.audit.read(tenant)).ok, true);
    const verdict = await verifyAuditChain(storage.audit, tenant);
    assert.deepEqual(verdict, {
      ok: false,
      seq: 4,
      reason: 'entry 4 is missing: the head says the chain has 5 entries',
    });
  });

  it('reports through the CLI: OK with exit 0, BROKEN with exit 1', async () => {
    const env = {
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: storage.prefix,
    };
    const head = await storage.audit.head(tenant);

    const intact = await runCli(['audit', 'verify', '--tenant', tenant], env);
    const entry = await stored(2);
    await rewrite(2, { c: entry.c.replace('"n":2', '"n":7'), h: entry.h });
    const broken = await runCli(['audit', 'verify', '--tenant', tenant], env);

    assert.deepEqual([intact.code, intact.stdout], [0, `OK: 5 entries, head ${head!.hash}\n`]);
    assert.deepEqual(
      [broken.code, broken.stdout],
      [1, 'BROKEN at seq 2: hash does not match the entry content\n'],
    );
  });

  it('says how to start the sandbox storage when it is not running', async () => {
    const run = await runCli(['audit', 'verify', '--tenant', tenant], {
      CABINET_AZURITE_PORT: String(await freePort()),
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /not running; start it with npm start/);
  });

  it('keeps verifying after the client’s key is destroyed, while the personal data becomes unreadable', async () => {
    await storage.audit.append(tenant, [
      event(tenant, { kind: 'offboard' }, { upn: 'jane.doe@contoso.example' }),
    ]);
    const [sealed] = await storage.audit.read(tenant, { fromSeq: 6 });
    const lines: string[] = [];
    const show = () =>
      runAuditCommand(['show', '--tenant', tenant, '--from', '6'], {
        audit: storage.audit,
        out: (l) => lines.push(l),
      });

    assert.deepEqual(await storage.audit.openPersonal(tenant, sealed!), {
      upn: 'jane.doe@contoso.example',
    });
    await show();
    assert.match(lines.join('\n'), /personal \{"upn":"jane\.doe@contoso\.example"\}/);

    await storage.keyring.destroy(tenant);
    lines.length = 0;
    await show();

    assert.equal(await storage.audit.openPersonal(tenant, sealed!), undefined);
    assert.match(lines.join('\n'), /personal \[erased\]/);
    assert.equal((await verifyAuditChain(storage.audit, tenant)).ok, true);
    assert.ok(!sealed!.canonical.includes('jane.doe'));
  });
});
