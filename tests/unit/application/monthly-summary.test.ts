import { strict as assert } from 'node:assert';
import { monthlySummary } from '../../../src/application/use-cases/monthly-summary';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  contosoProfile,
  createHarness,
  fabrikamProfile,
  people,
  seedClients,
  type Harness,
} from '../../support/fixtures';
import { bookNovember, type NovemberScenario } from '../../support/summary-fixtures';

describe(monthlySummary.name, () => {
  let h: Harness;
  let s: NovemberScenario;

  before(async () => {
    h = createHarness();
    await seedClients(h);
    s = await bookNovember(h.deps, { contoso: contosoProfile(), fabrikam: fabrikamProfile() });
  });

  const sut = (
    actor: (typeof people)[keyof typeof people],
    extra: { clientTenantId?: string; clientCode?: string; month?: string } = {},
  ) => monthlySummary(h.deps, { actor, ...extra });

  it('summarises the client’s month for its admin: counts, standard, emergencies, normal, open', async () => {
    const result = await sut(people.carla, { clientTenantId: CONTOSO_TENANT_ID, month: '2026-11' });
    assert.ok(result.ok, !result.ok ? result.error.message : '');
    const v = result.value;
    assert.equal(v.client.code, 'CONTOSO');
    assert.equal(v.timeZone, 'Europe/London');
    assert.equal(v.total, 6);
    assert.deepEqual(v.byClass, { standard: 1, normal: 2, emergency: 3 });
    assert.deepEqual(v.byOutcome, {
      successful: 2,
      successful_with_issues: 0,
      failed: 1,
      rolled_back: 0,
      denied: 0,
      cancelled: 0,
      open: 3,
    });
    assert.deepEqual(v.standard, [
      {
        id: s.standard.id,
        title: 'Business Premium for Jane',
        status: 'closed',
        outcome: 'successful',
        templateId: 'spb-add',
        templateName: 'Add a Business Premium licence',
      },
    ]);
    assert.deepEqual(
      v.emergencies.map((e) => [e.id, e.retrospective, e.review, e.overEmergencyQuota]),
      [
        [s.emergencyClosed.id, 'approved', 'filed', false],
        [s.emergencyOverdue.id, 'pending', 'overdue', false],
        [s.emergencyOver.id, 'not_started', 'not_due', true],
      ],
    );
    assert.equal(v.emergencyQuota.line, '3 emergencies, quota 2: over by 1');
    assert.equal(v.emergencyQuota.flagged, true);
    assert.deepEqual(
      v.normal.map((n) => [n.id, n.outcome, n.window?.localStart]),
      [
        [s.normalDone.id, 'failed', '2026-11-08 01:00'],
        [s.normalOpen.id, 'open', '2026-11-29 01:00'],
      ],
    );
    assert.deepEqual(
      v.open.map((o) => o.id),
      [s.emergencyOverdue.id, s.normalOpen.id, s.emergencyOver.id],
    );
    const ids = JSON.stringify(v);
    assert.ok(!ids.includes(s.october.id) && !ids.includes(s.fabrikam.id));
  });

  it('gives approvers and MSP staff the same summary, by code or tenant id', async () => {
    const andy = await sut(people.andy, { clientCode: 'contoso', month: '2026-11' });
    const lena = await sut(people.lena, { clientCode: 'CONTOSO', month: '2026-11' });
    assert.ok(andy.ok && lena.ok);
    assert.deepEqual(andy.value, lena.value);
  });

  it('puts the request raised at 23:30 on 31 October in October', async () => {
    const result = await sut(people.tina, { month: '2026-10' });
    assert.ok(result.ok);
    assert.deepEqual(
      result.value.normal.map((n) => n.id),
      [s.october.id],
    );
  });

  it('defaults to the current month of the client’s zone and the caller’s only client', async () => {
    const result = await sut(people.carla);
    assert.ok(result.ok);
    assert.equal(result.value.month, '2026-11');
    assert.equal(result.value.total, 6);
  });

  it('answers another client as not found, and asks MSP staff with several clients to name one', async () => {
    const other = await sut(people.carla, { clientTenantId: FABRIKAM_TENANT_ID, month: '2026-11' });
    assert.ok(!other.ok);
    assert.equal(other.error.code, 'CLIENT.NOT_FOUND');
    const byCode = await sut(people.andy, { clientCode: 'FABRIKAM' });
    assert.ok(!byCode.ok);
    assert.equal(byCode.error.code, 'CLIENT.NOT_FOUND');
    const lena = await sut(people.lena);
    assert.ok(!lena.ok);
    assert.equal(lena.error.code, 'SUMMARY.CHOOSE_CLIENT');
    assert.match(lena.error.message, /CONTOSO, FABRIKAM|FABRIKAM, CONTOSO/);
    const sam = await sut(people.sam);
    assert.ok(!sam.ok);
    assert.equal(sam.error.code, 'ACCESS.NOT_REGISTERED');
  });

  it('refuses a malformed month saying the form', async () => {
    const result = await sut(people.carla, { month: '11/2026' });
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'CR.INVALID_INPUT');
    assert.match(result.error.message, /YYYY-MM/);
  });
});
