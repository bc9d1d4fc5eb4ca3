import { strict as assert } from 'node:assert';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import {
  delegateSeat,
  delegationOptions,
  listClientDelegations,
  listMyDelegations,
  revokeDelegation,
} from '../../src/application/use-cases/delegations';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';

const DAY = 24 * 3600 * 1000;
const andy = asPerson(CONTOSO.andy);
const avery = asPerson(CONTOSO.avery);
const carla = asPerson(CONTOSO.carla);
const lena = asPerson(MSP.lena);
const tina = asPerson(MSP.tina);
const fiona = asPerson(FABRIKAM.fiona);

describe('Approval delegations (Table Storage on Azurite)', () => {
  const azurite = useAzurite();
  let storage: TableStorage;
  let clock: FakeClock;
  const deps = () => ({
    clients: storage.clients,
    delegations: storage.delegations,
    clock,
    mspTenantId: MSP.tenantId,
  });
  const inAWeek = () => new Date(clock.now().getTime() + 7 * DAY).toISOString();
  const chain = () => storage.audit.read(CONTOSO.tenantId);

  beforeEach(async () => {
    clock = new FakeClock(new Date('2026-03-02T09:00:00.000Z'));
    storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
  });

  it('lets an approver delegate their seat within the client, audited, in force until it expires', async () => {
    const created = await delegateSeat(deps(), {
      actor: andy,
      clientCode: 'contoso',
      toOid: avery.oid,
      riskCeiling: 'medium',
      validUntil: inAWeek(),
    });
    assert.ok(created.ok, created.ok ? '' : created.error.message);
    const d = created.value.delegation;
    assert.deepEqual(
      [d.from, d.to, d.riskCeiling, d.validFrom],
      [andy, avery, 'medium', clock.now().toISOString()],
    );
    assert.equal(created.value.inForce, true);

    assert.deepEqual(
      await storage.delegations.inForce(CONTOSO.tenantId, clock.now().toISOString()),
      [d],
    );
    assert.deepEqual(
      (await listMyDelegations(deps(), avery)).map((v) => v.delegation.id),
      [d.id],
    );
    assert.deepEqual(
      (await listMyDelegations(deps(), andy)).map((v) => v.clientCode),
      ['CONTOSO'],
    );
    assert.deepEqual(await listMyDelegations(deps(), carla), []);

    const entries = await chain();
    assert.equal(verifyChain(CONTOSO.tenantId, entries).ok, true);
    const last = entries.at(-1)!;
    const parsed = JSON.parse(last.canonical) as { type: string; payload: Record<string, unknown> };
    assert.equal(parsed.type, 'delegation.created');
    assert.equal(parsed.payload['delegationId'], d.id);
    assert.doesNotMatch(last.canonical, /Avery Approver/, 'names are sealed, not in clear');
    assert.deepEqual(await storage.audit.openPersonal(CONTOSO.tenantId, last), {
      from: 'Andy Approver',
      to: 'Avery Approver',
    });

    clock.advance(7 * DAY);
    assert.deepEqual(
      await storage.delegations.inForce(CONTOSO.tenantId, clock.now().toISOString()),
      [],
    );
    assert.equal((await listMyDelegations(deps(), avery))[0]!.inForce, false);
    const late = await revokeDelegation(deps(), { actor: andy, id: d.id });
    assert.ok(!late.ok);
    assert.equal(late.error.code, 'DELEGATION.ENDED');
  });

  it('keeps delegations on the delegator’s side and refuses self-delegation and people without a seat', async () => {
    const attempt = (actor: typeof andy, toOid: string, clientCode = 'CONTOSO') =>
      delegateSeat(deps(), {
        actor,
        clientCode,
        toOid,
        riskCeiling: 'high',
        validUntil: inAWeek(),
      });
    const before = (await chain()).length;

    const toMsp = await attempt(andy, tina.oid);
    assert.ok(!toMsp.ok);
    assert.match(toMsp.error.message, /to: must be one of Contoso Ltd's approvers or admins/);
    const toClient = await attempt(lena, andy.oid);
    assert.ok(!toClient.ok);
    assert.match(toClient.error.message, /to: must be an MSP technician or lead of Contoso Ltd/);
    const self = await attempt(andy, andy.oid);
    assert.ok(!self.ok);
    assert.equal(self.error.code, 'APPROVAL.INVALID_DELEGATION');
    assert.match(self.error.message, /cannot delegate to themselves/);
    const admin = await attempt(carla, avery.oid);
    assert.ok(!admin.ok);
    assert.equal(admin.error.code, 'ACCESS.NO_SEAT');
    const tech = await attempt(tina, lena.oid);
    assert.ok(!tech.ok);
    assert.equal(tech.error.code, 'ACCESS.NO_SEAT');
    const otherClient = await attempt(fiona, andy.oid);
    assert.ok(!otherClient.ok);
    assert.equal(otherClient.error.code, 'CLIENT.NOT_FOUND');
    const badRange = await delegateSeat(deps(), {
      actor: andy,
      clientCode: 'CONTOSO',
      toOid: avery.oid,
      riskCeiling: 'extreme',
      validUntil: inAWeek(),
    });
    assert.ok(!badRange.ok);
    assert.match(badRange.error.message, /riskCeiling: must be one of low, medium, high, critical/);
    assert.equal((await chain()).length, before, 'refusals write nothing');

    const lead = await attempt(lena, tina.oid);
    assert.ok(lead.ok, lead.ok ? '' : lead.error.message);
    assert.deepEqual(
      (await delegationOptions(deps(), andy)).map((o) => [
        o.client.code,
        o.candidates.map((c) => c.name),
      ]),
      [['CONTOSO', ['Avery Approver', 'Carla Admin']]],
    );
  });

  it('is revoked by the delegator or an MSP lead, never by the delegate or a stranger', async () => {
    const make = async () => {
      const r = await delegateSeat(deps(), {
        actor: andy,
        clientCode: 'CONTOSO',
        toOid: avery.oid,
        riskCeiling: 'low',
        validUntil: inAWeek(),
      });
      assert.ok(r.ok);
      return r.value.delegation.id;
    };
    const first = await make();
    const byDelegate = await revokeDelegation(deps(), { actor: avery, id: first });
    assert.ok(!byDelegate.ok);
    assert.equal(byDelegate.error.code, 'ACCESS.NOT_DELEGATOR');
    const byStranger = await revokeDelegation(deps(), { actor: fiona, id: first });
    assert.ok(!byStranger.ok);
    assert.equal(byStranger.error.code, 'DELEGATION.NOT_FOUND');
    const byTech = await revokeDelegation(deps(), { actor: tina, id: first });
    assert.ok(!byTech.ok);
    assert.equal(byTech.error.code, 'DELEGATION.NOT_FOUND');

    clock.advance(3600_000);
    const revoked = await revokeDelegation(deps(), { actor: andy, id: first });
    assert.ok(revoked.ok, revoked.ok ? '' : revoked.error.message);
    assert.equal(revoked.value.delegation.revokedAt, clock.now().toISOString());
    assert.equal(revoked.value.inForce, false);
    assert.deepEqual(
      await storage.delegations.inForce(CONTOSO.tenantId, clock.now().toISOString()),
      [],
    );
    const twice = await revokeDelegation(deps(), { actor: andy, id: first });
    assert.ok(!twice.ok);
    assert.equal(twice.error.code, 'DELEGATION.ENDED');

    const second = await make();
    const byLead = await revokeDelegation(deps(), { actor: lena, id: second });
    assert.ok(byLead.ok);

    const forLead = await listClientDelegations(deps(), { actor: lena, clientCode: 'CONTOSO' });
    assert.ok(forLead.ok);
    assert.deepEqual(
      forLead.value.map((v) => v.delegation.id),
      [second, first],
    );
    const forApprover = await listClientDelegations(deps(), { actor: andy, clientCode: 'CONTOSO' });
    assert.ok(!forApprover.ok);

    const entries = await chain();
    assert.equal(verifyChain(CONTOSO.tenantId, entries).ok, true);
    assert.deepEqual(
      entries.slice(-4).map((e) => (JSON.parse(e.canonical) as { type: string }).type),
      ['delegation.created', 'delegation.revoked', 'delegation.created', 'delegation.revoked'],
    );
    assert.match(entries.at(-1)!.canonical, new RegExp(`"actor":\\{"oid":"${lena.oid}"`));
  });
});
