import { strict as assert } from 'node:assert';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import {
  decideTemplate,
  listTemplates,
  proposeTemplate,
  recordTemplateOutcome,
  reenableTemplate,
  saveTemplate,
  suggestPromotions,
} from '../../src/application/use-cases/catalogue';
import { matchActiveTemplate } from '../../src/domain/catalogue/template-match.policy';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import type { TemplateId } from '../../src/domain/catalogue/template';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import type { TenantId } from '../../src/domain/shared/ids';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';

const andy = asPerson(CONTOSO.andy);
const carla = asPerson(CONTOSO.carla);
const frank = asPerson(FABRIKAM.frank);
const lena = asPerson(MSP.lena);
const tina = asPerson(MSP.tina);
const contoso = CONTOSO.tenantId;
const fabrikam = FABRIKAM.tenantId;

const LICENCE_TEMPLATE = {
  name: 'Add a Business Premium licence',
  ranges: { type: 'licence_change', addSkus: ['SPB'], removeSkus: [] },
  implementationPlan: 'Assign SPB in Entra; the user signs out and in again.',
  rollbackPlan:
    'If the user cannot sign in within 10 minutes, the technician removes SPB and re-assigns the ' +
    'previous licence, then verifies the user can open Outlook (about 15 minutes).',
};

describe('Standard-change catalogue (Table Storage on Azurite)', function () {
  this.timeout(60_000);
  const azurite = useAzurite();
  let storage: TableStorage;
  let deps: Pick<
    UseCaseDeps,
    'templates' | 'clients' | 'audit' | 'requests' | 'clock' | 'mspTenantId'
  >;

  beforeEach(async () => {
    storage = await azurite.newStorage();
    await onboardSandboxClients(storage);
    deps = {
      templates: storage.catalogue(MSP.tenantId),
      clients: storage.clients,
      audit: storage.audit,
      requests: storage.requests,
      clock: new FakeClock(),
      mspTenantId: MSP.tenantId,
    };
  });

  const chainOk = async (tenantId: TenantId) => {
    const entries = await storage.audit.read(tenantId);
    const verdict = verifyChain(tenantId, entries);
    assert.ok(verdict.ok && verdict.count === entries.length, JSON.stringify(verdict));
    return entries;
  };
  const typesIn = async (tenantId: TenantId) =>
    (await storage.audit.read(tenantId)).map(
      (e) => (JSON.parse(e.canonical) as { type: string }).type,
    );
  const pendingCards = async (tenantId: TenantId) =>
    (await storage.outbox.list(tenantId, { statuses: ['pending'] })).map((r) =>
      r.message.kind === 'teams.notify'
        ? `${r.message.notification.template}:${r.message.recipient.oid}`
        : r.message.kind,
    );

  async function globalTemplateProposedToContoso() {
    const saved = await saveTemplate(deps, {
      actor: lena,
      id: 'spb-add',
      content: LICENCE_TEMPLATE,
    });
    assert.ok(saved.ok, saved.ok ? '' : saved.error.message);
    const proposed = await proposeTemplate(deps, {
      actor: lena,
      templateId: 'spb-add',
      clientTenantId: contoso,
    });
    assert.ok(proposed.ok, proposed.ok ? '' : proposed.error.message);
    return saved.value.template;
  }

  it('activates a template for a client only when that client’s approver approves it', async () => {
    const template = await globalTemplateProposedToContoso();
    assert.deepEqual(await storage.catalogue(MSP.tenantId).activeFor(contoso), []);
    assert.deepEqual((await pendingCards(contoso)).sort(), [
      `template_approval_request:${CONTOSO.andy.oid}`,
      `template_approval_request:${CONTOSO.avery.oid}`,
    ]);

    for (const who of [tina, lena, carla, frank]) {
      const refused = await decideTemplate(deps, {
        actor: who,
        clientTenantId: contoso,
        templateId: 'spb-add',
        version: 1,
        decision: 'approve',
      });
      assert.equal(refused.kind, 'refused');
      assert.equal(
        refused.kind === 'refused' && refused.error.code,
        'TEMPLATE.NOT_CLIENT_APPROVER',
      );
    }
    assert.deepEqual(await deps.templates.activeFor(contoso), []);

    const approved = await decideTemplate(deps, {
      actor: andy,
      clientTenantId: contoso,
      templateId: 'spb-add',
      version: template.version,
      decision: 'approve',
    });
    assert.equal(approved.kind, 'decided');
    const again = await decideTemplate(deps, {
      actor: andy,
      clientTenantId: contoso,
      templateId: 'spb-add',
      version: template.version,
      decision: 'approve',
    });
    assert.equal(again.kind, 'already_decided');

    const active = await deps.templates.activeFor(contoso);
    assert.deepEqual(
      active.map((a) => [a.template.id, a.activation.status, a.activation.approvedBy?.oid]),
      [['spb-add', 'active', CONTOSO.andy.oid]],
    );
    assert.equal(
      matchActiveTemplate(active, {
        type: 'licence_change',
        payload: { userPrincipalName: 'jane@contoso.example', addSkus: ['SPB'], removeSkus: [] },
      }).template?.template.id,
      'spb-add',
    );
    assert.deepEqual(await deps.templates.activeFor(fabrikam), []);

    const types = await typesIn(contoso);
    assert.equal(types.filter((t) => t === 'action.refused').length, 4);
    assert.equal(types.filter((t) => t === 'template.approved').length, 1);
    assert.ok(types.includes('template.proposed'));
    assert.ok((await typesIn(MSP.tenantId)).includes('template.created'));
    await chainOk(contoso);
    await chainOk(MSP.tenantId);
  });

  it('suspends on a failed run, tells the leads, and only a lead re-enables it', async () => {
    const template = await globalTemplateProposedToContoso();
    await decideTemplate(deps, {
      actor: andy,
      clientTenantId: contoso,
      templateId: template.id,
      version: 1,
      decision: 'approve',
    });
    const ok = await recordTemplateOutcome(deps, {
      clientTenantId: contoso,
      templateId: template.id,
      outcome: 'succeeded',
    });
    assert.equal(ok?.successfulRuns, 1);
    const failed = await recordTemplateOutcome(deps, {
      clientTenantId: contoso,
      templateId: template.id,
      outcome: 'failed',
      requestId: 'CONTOSO-7',
      reason: 'No free SPB seats',
    });
    assert.equal(failed?.status, 'suspended');
    assert.deepEqual(await deps.templates.activeFor(contoso), []);
    assert.ok((await pendingCards(contoso)).includes(`template_suspended:${MSP.lena.oid}`));
    const suspendedEntry = (await storage.audit.read(contoso)).find(
      (e) => (JSON.parse(e.canonical) as { type: string }).type === 'template.suspended',
    );
    assert.ok(suspendedEntry);
    assert.deepEqual(await storage.audit.openPersonal(contoso, suspendedEntry), {
      reason: 'No free SPB seats',
    });

    const byTech = await reenableTemplate(deps, {
      actor: tina,
      clientTenantId: contoso,
      templateId: template.id,
      reason: 'seats bought',
    });
    assert.ok(!byTech.ok);
    assert.equal(byTech.error.code, 'TEMPLATE.NOT_LEAD');
    const byLead = await reenableTemplate(deps, {
      actor: lena,
      clientTenantId: contoso,
      templateId: template.id,
      reason: 'Bought five more SPB seats',
    });
    assert.ok(byLead.ok);
    assert.equal((await deps.templates.activeFor(contoso)).length, 1);
    assert.ok((await typesIn(contoso)).includes('template.reenabled'));
    await chainOk(contoso);
  });

  it('an edit bumps the version and needs the client’s approval again', async () => {
    await globalTemplateProposedToContoso();
    await decideTemplate(deps, {
      actor: andy,
      clientTenantId: contoso,
      templateId: 'spb-add',
      version: 1,
      decision: 'approve',
    });
    const edited = await saveTemplate(deps, {
      actor: lena,
      id: 'spb-add',
      content: {
        ...LICENCE_TEMPLATE,
        ranges: { ...LICENCE_TEMPLATE.ranges, addSkus: ['SPB', 'VISIOCLIENT'] },
      },
    });
    assert.ok(edited.ok);
    assert.equal(edited.value.template.version, 2);
    assert.deepEqual(edited.value.reproposedTo, [contoso]);
    assert.deepEqual(await deps.templates.activeFor(contoso), []);
    const stale = await decideTemplate(deps, {
      actor: andy,
      clientTenantId: contoso,
      templateId: 'spb-add',
      version: 1,
      decision: 'approve',
    });
    assert.equal(stale.kind === 'refused' && stale.error.code, 'TEMPLATE.STALE_VERSION');
    const fresh = await decideTemplate(deps, {
      actor: andy,
      clientTenantId: contoso,
      templateId: 'spb-add',
      version: 2,
      decision: 'approve',
    });
    assert.equal(fresh.kind, 'decided');
    assert.equal((await deps.templates.activeFor(contoso))[0]?.template.version, 2);
    await chainOk(contoso);
    await chainOk(MSP.tenantId);
  });

  it('keeps a client’s own templates from every other client', async () => {
    const own = await saveTemplate(deps, {
      actor: lena,
      id: 'contoso-finance-read',
      clientTenantId: contoso,
      content: {
        ...LICENCE_TEMPLATE,
        name: 'Read access to Finance Share',
        ranges: {
          type: 'access_change',
          actions: ['grant'],
          resources: ['Finance Share'],
          accessLevels: ['read'],
          maxDays: 30,
        },
      },
    });
    assert.ok(own.ok, own.ok ? '' : own.error.message);
    const elsewhere = await proposeTemplate(deps, {
      actor: lena,
      templateId: 'contoso-finance-read',
      clientTenantId: fabrikam,
    });
    assert.ok(!elsewhere.ok);
    assert.equal(elsewhere.error.code, 'TEMPLATE.NOT_FOUND');
    assert.deepEqual(await deps.templates.templatesFor(fabrikam), []);
    const fabrikamView = await listTemplates(deps, frank);
    assert.ok(fabrikamView.ok);
    assert.deepEqual(fabrikamView.value, []);
    const contosoView = await listTemplates(deps, andy);
    assert.ok(contosoView.ok);
    assert.deepEqual(
      contosoView.value.map((v) => [v.template.id, v.status]),
      [['contoso-finance-read', 'not_proposed']],
    );
    const frankTries = await decideTemplate(deps, {
      actor: frank,
      clientTenantId: fabrikam,
      templateId: 'contoso-finance-read',
      version: 1,
      decision: 'approve',
    });
    assert.equal(frankTries.kind === 'refused' && frankTries.error.code, 'TEMPLATE.NOT_FOUND');
  });

  it('suggests promoting repeated successful normal changes, audited once', async () => {
    const closed = (n: number): ChangeRequest =>
      ({
        id: `CONTOSO-${n}`,
        number: n,
        tenantId: contoso,
        type: 'licence_change',
        changeClass: 'normal',
        status: 'closed',
        payload: {
          userPrincipalName: `u${n}@contoso.example`,
          addSkus: ['EXCHANGESTANDARD'],
          removeSkus: [],
        },
        closure: { outcome: 'successful', notes: 'ok', by: tina, at: '2026-11-01T00:00:00Z' },
      }) as unknown as ChangeRequest;
    const history = [1, 2, 3, 4, 5].map(closed);
    const withHistory = {
      ...deps,
      requests: { ...deps.requests, list: () => Promise.resolve(history) },
    };
    const first = await suggestPromotions(withHistory, contoso);
    assert.deepEqual(
      first.map((s) => [s.isNew, s.suggestion.requestIds.length]),
      [[true, 5]],
    );
    const second = await suggestPromotions(withHistory, contoso);
    assert.deepEqual(
      second.map((s) => s.isNew),
      [false],
    );
    const types = await typesIn(contoso);
    assert.equal(types.filter((t) => t === 'template.promotion_suggested').length, 1);
    await chainOk(contoso);
  });

  it('refuses templates whose rollback plan is boilerplate, saying what to fix', async () => {
    const saved = await saveTemplate(deps, {
      actor: lena,
      id: 'bad-plan',
      content: { ...LICENCE_TEMPLATE, rollbackPlan: 'Revert changes if issues arise.' },
    });
    assert.ok(!saved.ok);
    assert.equal(saved.error.code, 'TEMPLATE.INVALID');
    assert.match(saved.error.message, /rollbackPlan/);
    const byTech = await saveTemplate(deps, {
      actor: tina,
      id: 'x-tech',
      content: LICENCE_TEMPLATE,
    });
    assert.ok(!byTech.ok);
    assert.equal(byTech.error.code, 'TEMPLATE.NOT_LEAD');
    assert.equal(await deps.templates.getTemplate('global', 'bad-plan' as TemplateId), undefined);
  });
});
