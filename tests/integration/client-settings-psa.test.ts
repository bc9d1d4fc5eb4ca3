import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import { configureClientSettings } from '../../src/application/use-cases/client-settings';
import { runClientsCommand } from '../../src/cli/clients.command';
import type { ValidationError } from '../../src/domain/shared/errors';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { useAzurite } from '../support/azurite-fixture';
import { as, onboardSandboxClients } from '../support/client-settings-fixture';

const MAPPING = {
  psa: 'halopsa',
  company: '12',
  board: '21',
  priorities: { low: '4', medium: '3', high: '2', critical: '1' },
  typePriorities: { offboard: 'high' },
  statuses: { closed: '9', in_progress: '2' },
};

describe('PSA mapping as a part of client settings (Table Storage on Azurite)', () => {
  const azurite = useAzurite();
  let storage: TableStorage;
  const deps = () => ({ clients: storage.clients, mspTenantId: MSP.tenantId });

  beforeEach(async () => {
    storage = await azurite.newStorage();
    await onboardSandboxClients(storage);
  });

  it('an MSP lead sets, replaces and clears the mapping; each save is audited', async () => {
    const set = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'contoso',
      settings: { psa: MAPPING },
    });
    assert.ok(set.ok, set.ok ? '' : set.error.message);
    assert.deepEqual(set.value.changed, ['psa']);
    assert.deepEqual((await storage.clients.get(CONTOSO.tenantId))!.profile.settings.psa, MAPPING);

    const cleared = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'contoso',
      settings: { psa: null },
    });
    assert.ok(cleared.ok);
    assert.equal((await storage.clients.get(CONTOSO.tenantId))!.profile.settings.psa, undefined);
    const types = (await storage.audit.read(CONTOSO.tenantId)).map(
      (e) =>
        (JSON.parse(e.canonical) as { type: string; payload: { parts?: string[] } }).payload.parts,
    );
    assert.deepEqual(types.slice(-2), [['psa'], ['psa']]);
  });

  it('reports every mapping field to fix under psa.*, and saves nothing', async () => {
    const before = (await storage.audit.read(CONTOSO.tenantId)).length;
    const result = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'contoso',
      settings: { psa: { ...MAPPING, psa: 'servicenow', priorities: { low: '4' } } },
    });
    assert.equal(result.ok, false);
    const fields = (result.ok ? [] : (result.error as ValidationError).issues).map((i) => i.field);
    for (const f of [
      'psa.psa',
      'psa.priorities.medium',
      'psa.priorities.high',
      'psa.priorities.critical',
    ])
      assert.ok(fields.includes(f), `${f} in ${fields.join(', ')}`);
    assert.equal((await storage.audit.read(CONTOSO.tenantId)).length, before);
  });

  it('a technician who is not a lead cannot set it', async () => {
    const result = await configureClientSettings(deps(), {
      actor: as(MSP.tina),
      code: 'contoso',
      settings: { psa: MAPPING },
    });
    assert.equal(result.ok, false);
    assert.equal((await storage.clients.get(CONTOSO.tenantId))!.profile.settings.psa, undefined);
  });

  it('cabinet clients settings sets it from a file and --show prints it', async () => {
    const lines: string[] = [];
    const run = (...args: string[]) =>
      runClientsCommand(args, {
        clients: storage.clients,
        mspTenantId: MSP.tenantId,
        operator: { tid: MSP.tenantId, oid: 'cabinet-cli' },
        out: (l: string) => lines.push(l),
      });
    const dir = await mkdtemp(join(tmpdir(), 'cabinet-psa-'));
    try {
      const file = join(dir, 'psa.json');
      await writeFile(file, JSON.stringify({ psa: MAPPING }));
      assert.equal(await run('settings', 'CONTOSO', '--file', file), 0, lines.join('\n'));
      assert.match(lines.at(-1)!, /CONTOSO: saved psa\./);
      assert.equal(await run('settings', 'CONTOSO', '--show'), 0);
      assert.match(lines.at(-1)!, /^PSA mapping:\n[\s\S]*"company": "12"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
