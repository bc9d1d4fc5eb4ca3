import { strict as assert } from 'node:assert';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import { configureClientSettings } from '../../src/application/use-cases/client-settings';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import { rulesFor } from '../../src/domain/client/client-rules';
import type { ValidationError } from '../../src/domain/shared/errors';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { useAzurite } from '../support/azurite-fixture';
import {
  as,
  asPerson,
  contosoSettings,
  onboardSandboxClients,
} from '../support/client-settings-fixture';

describe('configureClientSettings (Table Storage on Azurite)', () => {
  const azurite = useAzurite();
  let storage: TableStorage;
  const deps = () => ({ clients: storage.clients, mspTenantId: MSP.tenantId });
  const chainLength = async () => (await storage.audit.read(CONTOSO.tenantId)).length;

  beforeEach(async () => {
    storage = await azurite.newStorage();
    await onboardSandboxClients(storage);
  });

  it('saves valid settings from an MSP lead, fills the schedule zone, and audits which parts changed', async () => {
    const result = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'contoso',
      settings: contosoSettings(),
    });
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    assert.deepEqual(result.value.changed, [
      'approvalPolicy',
      'schedule',
      'classOverrides',
      'emergencyQuotaPerMonth',
      'reviewDueBusinessDays',
    ]);
    const stored = (await storage.clients.get(CONTOSO.tenantId))!.profile;
    const rules = rulesFor(stored);
    assert.equal(rules.schedule.timeZone, 'Europe/London');
    assert.equal(rules.windowsConfigured, true);
    assert.deepEqual(
      rules.approvalPolicy.steps.map((s) => [s.id, s.rule]),
      [
        ['client', { kind: 'any_of' }],
        ['cab', { kind: 'quorum', required: 2 }],
      ],
    );
    assert.equal(rules.emergencyQuotaPerMonth, 3);
    assert.equal(rules.reviewDueBusinessDays, 4);
    assert.equal(rules.classOverrides.offboard?.defaultClass, 'emergency');

    const chain = await storage.audit.read(CONTOSO.tenantId);
    assert.equal(verifyChain(CONTOSO.tenantId, chain).ok, true);
    const last = JSON.parse(chain.at(-1)!.canonical) as Record<string, unknown>;
    assert.equal(last['type'], 'client.settings_changed');
    assert.deepEqual(last['actor'], { oid: MSP.lena.oid, tid: MSP.tenantId });
    assert.deepEqual((last['payload'] as Record<string, unknown>)['parts'], result.value.changed);

    const again = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings: { emergencyQuotaPerMonth: 3 },
    });
    assert.ok(again.ok);
    assert.deepEqual(again.value.changed, []);
    assert.equal(await chainLength(), chain.length, 'an unchanged setting writes nothing');
  });

  it('reports every field to fix at once and writes nothing', async () => {
    const bad = contosoSettings();
    const policy = bad['approvalPolicy'] as { steps: Array<Record<string, unknown>> };
    policy.steps[1]!['rule'] = { kind: 'quorum', required: 4 };
    const before = await chainLength();
    const result = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings: {
        ...bad,
        schedule: { ...(bad['schedule'] as object), noticeHours: 12 },
        classOverrides: { new_user: { defaultClass: 'emergency' }, coffee: {} },
        emergencyQuotaPerMonth: 101,
        reviewDueBusinessDays: 0,
        colour: 'blue',
      },
    });
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'CR.INVALID_INPUT');
    const fields = (result.error as ValidationError).issues.map((i) => i.field).sort();
    assert.deepEqual(fields, [
      'approvalPolicy.steps.1.rule.required',
      'classOverrides.coffee',
      'classOverrides.new_user.defaultClass',
      'colour',
      'emergencyQuotaPerMonth',
      'reviewDueBusinessDays',
      'schedule.noticeHours',
    ]);
    assert.equal(await chainLength(), before);
  });

  it('refuses approvers on the wrong side or unknown to the client', async () => {
    const settings = contosoSettings();
    const policy = settings['approvalPolicy'] as { steps: Array<Record<string, unknown>> };
    policy.steps[0]!['approvers'] = [asPerson(MSP.tina), asPerson(CONTOSO.sam)];
    const result = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings,
    });
    assert.ok(!result.ok);
    assert.deepEqual(
      (result.error as ValidationError).issues.map((i) => i.field),
      ['approvalPolicy.steps.0.approvers.0.tid', 'approvalPolicy.steps.0.approvers.1'],
    );
    assert.match(result.error.message, /Sam Staff is not one of Contoso Ltd's people/);
  });

  it('keeps the client and schedule time zones one', async () => {
    const mismatch = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings: { schedule: { timeZone: 'America/New_York' } },
    });
    assert.ok(!mismatch.ok);
    assert.match(
      mismatch.error.message,
      /schedule\.timeZone: must be the client's time zone \(Europe\/London\)/,
    );
    assert.ok(
      (
        await configureClientSettings(deps(), {
          actor: as(MSP.lena),
          code: 'CONTOSO',
          settings: contosoSettings(),
        })
      ).ok,
    );
    const moveOnly = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings: { timeZone: 'Europe/Dublin' },
    });
    assert.ok(!moveOnly.ok);
    assert.match(
      moveOnly.error.message,
      /schedule: is kept in Europe\/London; send the schedule again/,
    );
    const moved = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings: { timeZone: 'Europe/Dublin', schedule: contosoSettings()['schedule'] },
    });
    assert.ok(moved.ok, moved.ok ? '' : moved.error.message);
    assert.equal(rulesFor(moved.value.profile).schedule.timeZone, 'Europe/Dublin');
    assert.equal(moved.value.profile.settings.timeZone, 'Europe/Dublin');
    const cleared = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings: { schedule: null, approvalPolicy: null },
    });
    assert.ok(cleared.ok);
    assert.deepEqual(cleared.value.changed, ['approvalPolicy', 'schedule']);
    assert.equal(rulesFor(cleared.value.profile).windowsConfigured, false);
  });

  it('saves SLA targets, business hours and holidays, audited, and reports their fields to fix', async () => {
    const saved = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings: {
        sla: {
          targets: { incident: { acknowledgeMinutes: 10 } },
          businessHours: { days: ['mon', 'tue', 'wed', 'thu'], start: '08:00', end: '16:00' },
          holidays: ['2026-12-25'],
        },
      },
    });
    assert.ok(saved.ok, saved.ok ? '' : saved.error.message);
    assert.deepEqual(saved.value.changed, ['sla']);
    const rules = rulesFor((await storage.clients.get(CONTOSO.tenantId))!.profile);
    assert.equal(rules.sla.targets.incident?.acknowledgeMinutes, 10);
    assert.deepEqual(rules.sla.holidays, ['2026-12-25']);
    const last = JSON.parse((await storage.audit.read(CONTOSO.tenantId)).at(-1)!.canonical) as {
      payload: { parts: string[] };
    };
    assert.deepEqual(last.payload.parts, ['sla']);

    const bad = await configureClientSettings(deps(), {
      actor: as(MSP.lena),
      code: 'CONTOSO',
      settings: { sla: { targets: { incident: { resolveMinutes: 0 } }, holidays: ['soon'] } },
    });
    assert.ok(!bad.ok);
    assert.deepEqual(
      (bad.error as ValidationError).issues.map((i) => i.field),
      ['sla.targets.incident.resolveMinutes', 'sla.holidays.0'],
    );
  });

  it('lets only an MSP lead of that client (or the CLI operator) configure', async () => {
    const before = await chainLength();
    const tech = await configureClientSettings(deps(), {
      actor: as(MSP.tina),
      code: 'CONTOSO',
      settings: { emergencyQuotaPerMonth: 5 },
    });
    assert.ok(!tech.ok);
    assert.equal(tech.error.code, 'ACCESS.NOT_LEAD');
    assert.match(tech.error.message, /ask Lena Lead/);
    const approver = await configureClientSettings(deps(), {
      actor: as(CONTOSO.andy),
      code: 'CONTOSO',
      settings: { emergencyQuotaPerMonth: 5 },
    });
    assert.ok(!approver.ok);
    assert.equal(approver.error.code, 'ACCESS.NOT_LEAD');
    const stranger = await configureClientSettings(deps(), {
      actor: as(FABRIKAM.fiona),
      code: 'CONTOSO',
      settings: { emergencyQuotaPerMonth: 5 },
    });
    assert.ok(!stranger.ok);
    assert.equal(stranger.error.code, 'CLIENT.NOT_FOUND');
    assert.equal(await chainLength(), before);

    const cli = await configureClientSettings(deps(), {
      actor: { kind: 'operator', operator: { tid: MSP.tenantId, oid: 'cabinet-cli' } },
      clientTenantId: CONTOSO.tenantId,
      settings: { emergencyQuotaPerMonth: 5 },
    });
    assert.ok(cli.ok);
    const chain = await storage.audit.read(CONTOSO.tenantId);
    assert.match(chain.at(-1)!.canonical, /"actor":\{"oid":"cabinet-cli"/);
    assert.equal(verifyChain(CONTOSO.tenantId, chain).ok, true);
  });
});
