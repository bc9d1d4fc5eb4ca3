import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import { runClientsCommand } from '../../../src/cli/clients.command';
import { CONTOSO, MSP } from '../../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage } from '../../fakes/in-memory-storage';
import { contosoSettings } from '../../support/client-settings-fixture';

describe(runClientsCommand.name, () => {
  const setup = () => {
    const storage = createInMemoryStorage();
    const lines: string[] = [];
    const deps = {
      clients: storage.clients,
      mspTenantId: MSP.tenantId,
      operator: { tid: MSP.tenantId, oid: 'cabinet-cli' },
      out: (l: string) => lines.push(l),
    };
    return { storage, lines, run: (...args: string[]) => runClientsCommand(args, deps) };
  };

  it('onboards a client with its people and audits it in the client’s chain', async () => {
    const { storage, lines, run } = setup();
    const code = await run(
      'add',
      '--tenant',
      CONTOSO.tenantId,
      '--code',
      'contoso',
      '--name',
      'Contoso Ltd',
      '--admin',
      `${CONTOSO.carla.oid}:Carla Admin`,
      '--approver',
      `${CONTOSO.andy.oid}:Andy Approver`,
      '--tech',
      `${MSP.tina.oid}:Tina Tech`,
    );
    assert.equal(code, 0, lines.join('\n'));
    const stored = await storage.clients.getByCode('CONTOSO' as never);
    assert.deepEqual(stored?.profile.approvers, [
      { tid: CONTOSO.tenantId, oid: CONTOSO.andy.oid, name: 'Andy Approver' },
    ]);
    assert.deepEqual(
      stored?.profile.techs.map((t) => t.tid),
      [MSP.tenantId],
    );
    const chain = await storage.audit.read(CONTOSO.tenantId);
    assert.equal(verifyChain(CONTOSO.tenantId, chain).ok, true);
    assert.match(chain[0]!.canonical, /"type":"client.onboarded"/);
  });

  it('replaces the approvers and records who changed it', async () => {
    const { storage, run } = setup();
    await run('add', '--tenant', CONTOSO.tenantId, '--code', 'CONTOSO', '--name', 'Contoso Ltd');
    assert.equal(
      await run(
        'set-approvers',
        '--tenant',
        CONTOSO.tenantId,
        '--approver',
        `${CONTOSO.avery.oid}:Avery Approver`,
      ),
      0,
    );
    assert.deepEqual(
      (await storage.clients.get(CONTOSO.tenantId))?.profile.approvers.map((a) => a.name),
      ['Avery Approver'],
    );
    const chain = await storage.audit.read(CONTOSO.tenantId);
    assert.equal(chain.length, 2);
    assert.match(chain[1]!.canonical, /"type":"client.roles_changed"/);
    assert.match(chain[1]!.canonical, /"actor":\{"oid":"cabinet-cli"/);
  });

  it('refuses bad input with a message that says what to fix, and writes nothing', async () => {
    const { storage, lines, run } = setup();
    assert.equal(
      await run(
        'add',
        '--tenant',
        'contoso.com',
        '--code',
        '1x',
        '--name',
        'Contoso',
        '--approver',
        'andy',
      ),
      2,
    );
    assert.match(lines.join('\n'), /tenant: must be the client's Entra tenant id/);
    assert.match(lines.join('\n'), /code: must be 2–16 letters/);
    assert.match(lines.join('\n'), /is not an Entra object id/);
    assert.deepEqual(await storage.clients.list(), []);
  });

  it('refuses a duplicate client code', async () => {
    const { lines, run } = setup();
    await run('add', '--tenant', CONTOSO.tenantId, '--code', 'CONTOSO', '--name', 'Contoso Ltd');
    assert.equal(
      await run('add', '--tenant', MSP.tina.oid, '--code', 'CONTOSO', '--name', 'Other'),
      2,
    );
    assert.match(lines.at(-1)!, /CONTOSO is already taken/);
  });

  it('lists clients and prints usage for unknown commands', async () => {
    const { lines, run } = setup();
    await run('add', '--tenant', CONTOSO.tenantId, '--code', 'CONTOSO', '--name', 'Contoso Ltd');
    assert.equal(await run('list'), 0);
    assert.match(lines.at(-1)!, /^CONTOSO\s+Contoso Ltd/);
    assert.equal(await run('explode'), 2);
    assert.match(lines.at(-1)!, /cabinet clients <command>/);
  });

  it('configures a client’s settings from a JSON file, reports every field to fix, and shows the rules in force', async () => {
    const { storage, lines, run } = setup();
    const dir = await mkdtemp(join(tmpdir(), 'cabinet-settings-'));
    try {
      await run(
        'add',
        '--tenant',
        CONTOSO.tenantId,
        '--code',
        'CONTOSO',
        '--name',
        'Contoso Ltd',
        '--approver',
        `${CONTOSO.andy.oid}:Andy Approver`,
        '--approver',
        `${CONTOSO.avery.oid}:Avery Approver`,
        '--tech',
        `${MSP.theo.oid}:Theo Tech`,
        '--lead',
        `${MSP.lena.oid}:Lena Lead`,
        '--timezone',
        'Europe/London',
      );
      const good = join(dir, 'good.json');
      await writeFile(good, JSON.stringify(contosoSettings()));
      assert.equal(await run('settings', 'contoso', '--file', good), 0, lines.join('\n'));
      assert.match(lines.at(-1)!, /CONTOSO: saved approvalPolicy, schedule, classOverrides/);
      const stored = await storage.clients.get(CONTOSO.tenantId);
      assert.equal(stored?.profile.settings.schedule?.timeZone, 'Europe/London');
      const chain = await storage.audit.read(CONTOSO.tenantId);
      assert.equal(verifyChain(CONTOSO.tenantId, chain).ok, true);
      assert.match(chain.at(-1)!.canonical, /"type":"client.settings_changed"/);
      assert.match(chain.at(-1)!.canonical, /"actor":\{"oid":"cabinet-cli"/);

      const bad = join(dir, 'bad.json');
      await writeFile(
        bad,
        JSON.stringify({ emergencyQuotaPerMonth: -1, reviewDueBusinessDays: 99 }),
      );
      lines.length = 0;
      assert.equal(await run('settings', 'CONTOSO', '--file', bad), 2);
      assert.deepEqual(lines.slice(1), [
        '  emergencyQuotaPerMonth: must be a whole number of emergency changes a month from 0 to 100',
        '  reviewDueBusinessDays: must be a whole number of business days from 1 to 30',
      ]);
      assert.equal((await storage.audit.read(CONTOSO.tenantId)).length, chain.length);

      lines.length = 0;
      assert.equal(await run('settings', 'CONTOSO', '--show'), 0);
      const rules = JSON.parse(lines.slice(1).join('\n')) as Record<string, unknown>;
      assert.equal(rules['timeZone'], 'Europe/London');
      assert.equal(rules['windowsConfigured'], true);
      assert.equal(rules['emergencyQuotaPerMonth'], 3);
      assert.equal(await run('settings', 'CONTOSO'), 2);
      assert.match(lines.at(-1)!, /either --file <path> or --show/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
