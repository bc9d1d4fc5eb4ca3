import { strict as assert } from 'node:assert';
import type { Person } from '../../../src/domain/shared/person';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  createHarness,
  people,
  raiseGeneral,
  seedClients,
  type Harness,
} from '../../support/fixtures';
import { startTabApi, type TabJson } from '../../support/tab-api-server';
import { signingKey } from '../../support/tab-tokens';

type Body = Record<string, unknown>;

const TEMPLATE = {
  name: 'Add an Exchange Online Plan 1 licence',
  ranges: { type: 'licence_change', addSkus: ['EXCHANGESTANDARD'], removeSkus: [] },
  implementationPlan: 'Assign EXCHANGESTANDARD in Entra; the mailbox appears within 15 minutes.',
  rollbackPlan:
    'If the mailbox is not provisioned within an hour, the technician removes EXCHANGESTANDARD and ' +
    're-assigns the previous licence, then verifies the user can sign in (about 10 minutes).',
};

describe('Tab templates, client settings and questions API', () => {
  let h: Harness;
  let close: () => Promise<void>;
  let call: (who: Person, path: string, body?: unknown) => Promise<TabJson>;

  beforeEach(async () => {
    const key = await signingKey();
    h = createHarness();
    await seedClients(h);
    const api = await startTabApi({ surface: { useCases: h.deps }, key, now: () => h.clock.now() });
    close = () => api.close();
    call = (who, path, body) => api.call(who, path, { body });
  });

  afterEach(() => close());

  const errorOf = (r: TabJson) =>
    r.body['error'] as { code: string; message: string; issues?: { field: string }[] };
  const clientsOf = (r: TabJson) =>
    r.body['clients'] as { code: string; templates: Body[]; isLead: boolean }[];

  describe('templates', () => {
    it('lets a lead create a client template, propose it, and the client approver approve it', async () => {
      const created = await call(people.lena, 'templates', {
        id: 'exchange-plan-1',
        client: 'CONTOSO',
        content: TEMPLATE,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const proposed = await call(people.lena, 'templates/exchange-plan-1/propose', {
        client: 'CONTOSO',
      });
      assert.equal(proposed.status, 200, JSON.stringify(proposed.body));

      const andySees = clientsOf(await call(people.andy, 'templates'));
      assert.deepEqual(
        andySees.map((c) => c.code),
        ['CONTOSO'],
      );
      const row = andySees[0]!.templates[0]!;
      assert.equal(row['status'], 'proposed');
      assert.equal(row['mayDecide'], true);

      const approved = await call(people.andy, 'templates/exchange-plan-1/decide', {
        client: 'CONTOSO',
        version: 1,
        decision: 'approve',
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      const stored = await h.deps.templates.getActivation(
        CONTOSO_TENANT_ID,
        'exchange-plan-1' as never,
      );
      assert.equal(stored?.activation.status, 'active');
      const lenaSees = clientsOf(await call(people.lena, 'templates'));
      const contoso = lenaSees.find((c) => c.code === 'CONTOSO')!;
      assert.equal(contoso.templates[0]!['status'], 'active');
      assert.equal(contoso.templates[0]!['approvedBy'], people.andy.name);
    });

    it('never shows a client another client’s templates', async () => {
      await call(people.lena, 'templates', {
        id: 'exchange-plan-1',
        client: 'CONTOSO',
        content: TEMPLATE,
      });
      await call(people.lena, 'templates/exchange-plan-1/propose', { client: 'CONTOSO' });
      const fiona = await call(people.fiona, 'templates');
      assert.equal(fiona.status, 200);
      assert.ok(!JSON.stringify(fiona.body).includes('exchange-plan-1'));
      const frank = await call(people.frank, 'templates/exchange-plan-1/decide', {
        client: 'CONTOSO',
        version: 1,
        decision: 'approve',
      });
      assert.equal(frank.status, 404);
      assert.equal(errorOf(frank).code, 'CLIENT.NOT_FOUND');
      // The MSP's own people see Fabrikam too, but the Contoso template only under Contoso.
      const lena = clientsOf(await call(people.lena, 'templates'));
      assert.deepEqual(
        lena.find((c) => c.code === 'FABRIKAM')!.templates.map((t) => t['id']),
        [],
      );
    });

    it('refuses a technician who is not a lead, and the MSP approving its own template', async () => {
      const tina = await call(people.tina, 'templates', {
        id: 'exchange-plan-1',
        client: 'CONTOSO',
        content: TEMPLATE,
      });
      assert.equal(tina.status, 403);
      assert.equal(errorOf(tina).code, 'TEMPLATE.NOT_LEAD');
      await call(people.lena, 'templates', { id: 'exchange-plan-1', content: TEMPLATE });
      await call(people.lena, 'templates/exchange-plan-1/propose', { client: 'CONTOSO' });
      const self = await call(people.lena, 'templates/exchange-plan-1/decide', {
        client: 'CONTOSO',
        version: 1,
        decision: 'approve',
      });
      assert.equal(self.status, 403);
      assert.equal(errorOf(self).code, 'TEMPLATE.NOT_CLIENT_APPROVER');
    });

    it('puts each content problem on its field', async () => {
      const r = await call(people.lena, 'templates', {
        id: 'exchange-plan-1',
        client: 'CONTOSO',
        content: {
          ...TEMPLATE,
          name: '',
          ranges: { type: 'licence_change', addSkus: ['not a sku'], removeSkus: [] },
          rollbackPlan: 'Revert the change if needed.',
        },
      });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.deepEqual(
        errorOf(r)
          .issues!.map((i) => i.field)
          .sort(),
        ['name', 'ranges.addSkus', 'rollbackPlan'],
      );
    });

    it('lets a client approver decline with a reason the lead then sees', async () => {
      await call(people.lena, 'templates', { id: 'exchange-plan-1', content: TEMPLATE });
      await call(people.lena, 'templates/exchange-plan-1/propose', { client: 'CONTOSO' });
      const declined = await call(people.andy, 'templates/exchange-plan-1/decide', {
        client: 'CONTOSO',
        version: 1,
        decision: 'decline',
        reason: 'We review every licence change ourselves.',
      });
      assert.equal(declined.status, 200, JSON.stringify(declined.body));
      const contoso = clientsOf(await call(people.lena, 'templates')).find(
        (c) => c.code === 'CONTOSO',
      )!;
      assert.equal(contoso.templates[0]!['status'], 'withdrawn');
      assert.equal(
        contoso.templates[0]!['withdrawnReason'],
        'We review every licence change ourselves.',
      );
      assert.equal(contoso.templates[0]!['mayPropose'], true);
    });
  });

  describe('client settings', () => {
    it('shows the effective rules to the client’s people, with the stored parts only to leads', async () => {
      const andy = await call(people.andy, 'clients/CONTOSO/settings');
      assert.equal(andy.status, 200, JSON.stringify(andy.body));
      const approval = andy.body['approval'] as { steps: Body[]; mspGate: boolean };
      assert.deepEqual(approval.steps[0]!['approvers'], [people.andy.name, people.avery.name]);
      assert.equal(approval.steps[0]!['rule'], 'any one of');
      assert.equal(andy.body['emergencyQuotaPerMonth'], 2);
      assert.equal(andy.body['timeZone'], 'Europe/London');
      assert.equal(andy.body['mayEdit'], false);
      assert.equal(andy.body['parts'], undefined);
      const lena = await call(people.lena, 'clients/CONTOSO/settings');
      assert.equal(lena.body['mayEdit'], true);
      assert.deepEqual((lena.body['parts'] as Body)['emergencyQuotaPerMonth'], null);
    });

    it('never shows a client another client’s settings', async () => {
      const fiona = await call(people.fiona, 'clients/CONTOSO/settings');
      assert.equal(fiona.status, 404);
      assert.ok(!JSON.stringify(fiona.body).includes('Andy'));
      const saved = await call(people.fiona, 'clients/CONTOSO/settings', {
        settings: { emergencyQuotaPerMonth: 9 },
      });
      assert.equal(saved.status, 404);
    });

    it('lets a lead save a part, refuses non-leads, and reports every field issue', async () => {
      const tina = await call(people.tina, 'clients/CONTOSO/settings', {
        settings: { emergencyQuotaPerMonth: 4 },
      });
      assert.equal(tina.status, 403);
      assert.equal(errorOf(tina).code, 'ACCESS.NOT_LEAD');
      const andy = await call(people.andy, 'clients/CONTOSO/settings', {
        settings: { emergencyQuotaPerMonth: 4 },
      });
      assert.equal(andy.status, 403);

      const bad = await call(people.lena, 'clients/CONTOSO/settings', {
        settings: { emergencyQuotaPerMonth: -1, reviewDueBusinessDays: 99 },
      });
      assert.equal(bad.status, 400);
      assert.deepEqual(
        errorOf(bad)
          .issues!.map((i) => i.field)
          .sort(),
        ['emergencyQuotaPerMonth', 'reviewDueBusinessDays'],
      );

      const ok = await call(people.lena, 'clients/CONTOSO/settings', {
        settings: { emergencyQuotaPerMonth: 4 },
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(ok.body['changed'], ['emergencyQuotaPerMonth']);
      const stored = await h.deps.clients.get(CONTOSO_TENANT_ID);
      assert.equal(stored?.profile.settings.emergencyQuotaPerMonth, 4);
      const fabrikam = await h.deps.clients.get(FABRIKAM_TENANT_ID);
      assert.equal(fabrikam?.profile.settings.emergencyQuotaPerMonth, undefined);
    });
  });

  describe('questions', () => {
    it('lets the technician ask and only the requester answer; earlier rounds are listed', async () => {
      const id = (await raiseGeneral(h, people.carla)).request.id;
      const before = await call(people.tina, `requests/${id}/questions`);
      assert.equal(before.status, 200, JSON.stringify(before.body));
      assert.equal(before.body['mayAsk'], true);
      assert.equal((await call(people.carla, `requests/${id}/questions`)).body['mayAsk'], false);

      const asked = await call(people.tina, `requests/${id}/question`, {
        version: before.body['version'],
        question: 'Which floor is the printer on?',
      });
      assert.equal(asked.status, 200, JSON.stringify(asked.body));
      const carla = await call(people.carla, `requests/${id}/questions`);
      assert.equal(carla.body['mayAnswer'], true);
      assert.equal((carla.body['open'] as Body)['question'], 'Which floor is the printer on?');
      assert.equal((await call(people.andy, `requests/${id}/questions`)).body['mayAnswer'], false);

      const version = carla.body['version'];
      const andy = await call(people.andy, `requests/${id}/answer`, { version, answer: 'Third' });
      assert.equal(andy.status, 403);
      const blank = await call(people.carla, `requests/${id}/answer`, { version, answer: ' ' });
      assert.equal(blank.status, 400);
      assert.equal(errorOf(blank).issues![0]!.field, 'answer');

      const answered = await call(people.carla, `requests/${id}/answer`, {
        version,
        answer: 'The third floor, by the kitchen.',
      });
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.equal((answered.body['request'] as Body)['status'], 'triaged');
      const after = await call(people.tina, `requests/${id}/questions`);
      assert.equal(after.body['open'], undefined);
      assert.deepEqual(
        (after.body['earlier'] as Body[]).map((c) => [c['question'], c['answer'], c['by']]),
        [['Which floor is the printer on?', 'The third floor, by the kitchen.', people.tina.name]],
      );
      const stored = await h.deps.requests.get(people.carla.tid, id);
      assert.equal(stored?.request.clarifications?.length, 1);
    });

    it('hides a request from another client’s people', async () => {
      const id = (await raiseGeneral(h, people.carla)).request.id;
      const fiona = await call(people.fiona, `requests/${id}/questions`);
      assert.equal(fiona.status, 404);
      const answer = await call(people.fiona, `requests/${id}/answer`, { version: 1, answer: 'x' });
      assert.equal(answer.status, 404);
    });
  });
});
