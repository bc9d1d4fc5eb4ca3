import { strict as assert } from 'node:assert';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import { ValidationError } from '../../../src/domain/shared/errors';
import {
  onboardClient,
  setClientRole,
  type OnboardClientCommand,
} from '../../../src/application/use-cases/manage-clients';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  MSP_TENANT_ID,
  createHarness,
  people,
  seedClients,
  type Harness,
} from '../../support/fixtures';

const operator = { tid: people.lena.tid, oid: people.lena.oid };

function contosoCommand(overrides: Partial<OnboardClientCommand> = {}): OnboardClientCommand {
  return {
    operator,
    tenantId: CONTOSO_TENANT_ID.toUpperCase(),
    code: ' contoso ',
    name: ' Contoso Ltd ',
    admins: [{ oid: people.carla.oid, name: people.carla.name }],
    approvers: [
      { oid: people.andy.oid, name: people.andy.name },
      { oid: people.avery.oid.toUpperCase(), name: people.avery.name },
    ],
    techs: [{ oid: people.tina.oid, name: people.tina.name }],
    leads: [{ oid: people.lena.oid, name: people.lena.name }],
    timeZone: 'Europe/London',
    ...overrides,
  };
}

async function chainOf(h: Harness, tenant = CONTOSO_TENANT_ID) {
  const entries = await h.deps.audit.read(tenant);
  return {
    entries,
    parsed: entries.map(
      (e) =>
        JSON.parse(e.canonical) as {
          type: string;
          actor: unknown;
          payload: Record<string, unknown>;
        },
    ),
  };
}

describe(onboardClient.name, () => {
  const sut = onboardClient;

  it('onboards a client with normalised ids and people in the right tenants', async () => {
    const h = createHarness();
    const result = await sut(h.deps, contosoCommand());
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    assert.deepEqual(result.value, {
      tenantId: CONTOSO_TENANT_ID,
      code: 'CONTOSO',
      name: 'Contoso Ltd',
      admins: [people.carla],
      approvers: [people.andy, people.avery],
      techs: [people.tina],
      leads: [people.lena],
      settings: { timeZone: 'Europe/London' },
    });
    assert.deepEqual((await h.deps.clients.getByCode(result.value.code))?.profile, result.value);
  });

  it("makes the onboarding the first entry of the client's own chain, with the name sealed", async () => {
    const h = createHarness();
    await sut(h.deps, contosoCommand());
    const { entries, parsed } = await chainOf(h);
    assert.equal(entries.length, 1);
    assert.equal(parsed[0]!.type, 'client.onboarded');
    assert.deepEqual(parsed[0]!.actor, operator);
    assert.equal(parsed[0]!.payload['code'], 'CONTOSO');
    assert.ok(
      !entries[0]!.canonical.includes('Contoso Ltd'),
      'the client name is personal data and sealed',
    );
    assert.deepEqual(await h.deps.audit.openPersonal(CONTOSO_TENANT_ID, entries[0]!), {
      name: 'Contoso Ltd',
    });
    assert.ok(verifyChain(CONTOSO_TENANT_ID, entries).ok);
    assert.deepEqual(await h.deps.audit.read(MSP_TENANT_ID), []);
  });

  it('reports every invalid field at once and writes nothing', async () => {
    const h = createHarness();
    const result = await sut(
      h.deps,
      contosoCommand({
        tenantId: 'contoso.onmicrosoft.com',
        code: '1-bad code',
        name: '   ',
        approvers: [
          { oid: 'andy', name: 'Andy' },
          { oid: people.avery.oid, name: ' ' },
        ],
      }),
    );
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.ok(result.error instanceof ValidationError);
    assert.deepEqual(result.error.issues.map((i) => i.field).sort(), [
      'approvers[0]',
      'approvers[1]',
      'code',
      'name',
      'tenant',
    ]);
    assert.deepEqual(await h.deps.clients.list(), []);
    assert.deepEqual(h.storage.data.audit.size, 0);
  });

  it("refuses the MSP's own tenant as a client", async () => {
    const h = createHarness();
    const result = await sut(h.deps, contosoCommand({ tenantId: MSP_TENANT_ID }));
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.error.message, /tenant: is the MSP's own tenant/);
  });

  it('refuses a taken code or tenant with CLIENT.EXISTS and leaves the chain alone', async () => {
    const h = createHarness();
    await sut(h.deps, contosoCommand());
    const sameCode = await sut(
      h.deps,
      contosoCommand({ tenantId: FABRIKAM_TENANT_ID, name: 'Contoso again' }),
    );
    const sameTenant = await sut(h.deps, contosoCommand({ code: 'CONTOSO2' }));
    for (const result of [sameCode, sameTenant]) {
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, 'CLIENT.EXISTS');
    }
    assert.equal((await chainOf(h)).entries.length, 1);
    assert.deepEqual(await h.deps.audit.read(FABRIKAM_TENANT_ID), []);
    assert.equal((await h.deps.clients.list()).length, 1);
  });

  it('lists a person named twice once', async () => {
    const h = createHarness();
    const result = await sut(
      h.deps,
      contosoCommand({
        approvers: [
          { oid: people.andy.oid, name: 'Andy' },
          { oid: people.andy.oid.toUpperCase(), name: 'Andy again' },
        ],
      }),
    );
    assert.ok(result.ok);
    assert.equal(result.value.approvers.length, 1);
  });
});

describe(setClientRole.name, () => {
  const sut = setClientRole;

  it("replaces a role's holders and records it in the client's chain", async () => {
    const h = createHarness();
    await seedClients(h);
    const result = await sut(h.deps, {
      operator,
      tenantId: CONTOSO_TENANT_ID,
      role: 'approvers',
      people: [{ oid: people.sam.oid, name: people.sam.name }],
    });
    assert.ok(result.ok);
    assert.deepEqual(result.value.approvers, [people.sam]);
    assert.deepEqual((await h.deps.clients.get(CONTOSO_TENANT_ID))?.profile.approvers, [
      people.sam,
    ]);

    const { entries, parsed } = await chainOf(h);
    assert.deepEqual(
      parsed.map((p) => p.type),
      ['client.onboarded', 'client.roles_changed'],
    );
    assert.deepEqual(parsed[1]!.actor, operator);
    assert.equal(parsed[1]!.payload['role'], 'approvers');
    assert.deepEqual(parsed[1]!.payload['oids'], [people.sam.oid]);
    assert.ok(!entries[1]!.canonical.includes(people.sam.name));
    assert.deepEqual(await h.deps.audit.openPersonal(CONTOSO_TENANT_ID, entries[1]!), {
      names: [people.sam.name],
    });
    assert.ok(verifyChain(CONTOSO_TENANT_ID, entries).ok);
    assert.equal(
      (await chainOf(h, FABRIKAM_TENANT_ID)).entries.length,
      1,
      "another client's chain is untouched",
    );
  });

  it('puts technicians and leads in the MSP tenant', async () => {
    const h = createHarness();
    await seedClients(h);
    const result = await sut(h.deps, {
      operator,
      tenantId: CONTOSO_TENANT_ID,
      role: 'techs',
      people: [{ oid: people.theo.oid, name: people.theo.name }],
    });
    assert.ok(result.ok);
    assert.deepEqual(result.value.techs, [people.theo]);
    assert.deepEqual(
      (await h.deps.clients.forStaff(MSP_TENANT_ID, people.theo.oid)).map((c) => c.code).sort(),
      ['CONTOSO', 'FABRIKAM'],
    );
  });

  it('refuses an unknown client with CLIENT.NOT_FOUND', async () => {
    const h = createHarness();
    for (const tenantId of ['not-a-guid', FABRIKAM_TENANT_ID]) {
      const result = await sut(h.deps, { operator, tenantId, role: 'approvers', people: [] });
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, 'CLIENT.NOT_FOUND');
    }
  });

  it('refuses bad object ids and writes nothing', async () => {
    const h = createHarness();
    await seedClients(h);
    const result = await sut(h.deps, {
      operator,
      tenantId: CONTOSO_TENANT_ID,
      role: 'approvers',
      people: [{ oid: 'andy@contoso', name: 'Andy' }],
    });
    assert.equal(result.ok, false);
    if (!result.ok)
      assert.deepEqual(
        (result.error as ValidationError).issues.map((i) => i.field),
        ['approvers[0]'],
      );
    assert.deepEqual((await h.deps.clients.get(CONTOSO_TENANT_ID))?.profile.approvers, [
      people.andy,
      people.avery,
    ]);
    assert.equal((await chainOf(h)).entries.length, 1);
  });
});
