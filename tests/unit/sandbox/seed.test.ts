import { strict as assert } from 'node:assert';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import { rulesFor } from '../../../src/domain/client/client-rules';
import { CONTOSO, FABRIKAM, MSP } from '../../../src/sandbox/sandbox-tenants';
import { CONTOSO_SANDBOX_PSA, FABRIKAM_SANDBOX_PSA, seedSandbox } from '../../../src/sandbox/seed';
import { createInMemoryStorage } from '../../fakes/in-memory-storage';

describe(seedSandbox.name, () => {
  it('configures Contoso’s CAB, windows and blackout, leaves Fabrikam’s rules on the defaults, and maps each to its PSA, once', async () => {
    const storage = createInMemoryStorage();
    const deps = { clients: storage.clients, mspTenantId: MSP.tenantId };
    assert.equal(await seedSandbox(deps), 2);
    assert.equal(await seedSandbox(deps), 0);

    const contoso = rulesFor((await storage.clients.get(CONTOSO.tenantId))!.profile);
    const cab = contoso.approvalPolicy.steps.find((s) => s.id === 'cab');
    assert.deepEqual(cab?.rule, { kind: 'quorum', required: 2 });
    assert.deepEqual(
      cab?.approvers.map((p) => p.tid),
      [MSP.tenantId, MSP.tenantId, CONTOSO.tenantId],
    );
    assert.deepEqual(cab?.when, { minRisk: 'high', classes: ['normal'] });
    assert.equal(contoso.approvalPolicy.mspGate, false);
    assert.deepEqual(contoso.approvalPolicy.timing, {
      remindAfterHours: 24,
      escalateAfterHours: 48,
    });
    assert.equal(contoso.timeZone, 'Europe/London');
    assert.equal(contoso.windowsConfigured, true);
    assert.deepEqual(
      contoso.schedule.blackouts.map((b) => b.kind),
      ['month_end'],
    );
    assert.equal(contoso.schedule.noticeHours, 48);
    const chain = await storage.audit.read(CONTOSO.tenantId);
    assert.equal(verifyChain(CONTOSO.tenantId, chain).ok, true);
    assert.match(chain.at(-1)!.canonical, /"type":"client.settings_changed"/);

    const fabrikam = (await storage.clients.get(FABRIKAM.tenantId))!.profile;
    assert.deepEqual(fabrikam.settings, {
      timeZone: 'America/New_York',
      psa: FABRIKAM_SANDBOX_PSA,
    });
    assert.equal(rulesFor(fabrikam).windowsConfigured, false);
    const contosoProfile = (await storage.clients.get(CONTOSO.tenantId))!.profile;
    assert.deepEqual(contosoProfile.settings.psa, CONTOSO_SANDBOX_PSA);
  });
});
