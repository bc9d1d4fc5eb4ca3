import { strict as assert } from 'node:assert';
import {
  proposeTemplate,
  reenableTemplate,
  saveTemplate,
} from '../../src/application/use-cases/catalogue';
import { rulesFor } from '../../src/domain/client/client-rules';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { nextSlot } from '../support/approval-flow';
import { cardText } from '../support/bot-client';
import {
  button,
  excludes,
  hasButton,
  includes,
  startClassesStack,
  type ClassesStack,
} from '../support/bot-classes';
import { asPerson } from '../support/client-settings-fixture';

const HOUR_MS = 3_600_000;

/** Issue 4 end to end: each change class and the follow-ups, on a running Cabinet over the Bot Framework protocol. */
describe('Change classes, delegation and follow-ups over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  const { carla, andy, avery } = CONTOSO;
  const { tina, theo, lena } = MSP;

  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  /** A fresh Cabinet (own tables, own clock) for each scenario, with everyone's chat open. */
  function stackPerScenario(): { readonly s: ClassesStack } {
    const holder: { s: ClassesStack } = { s: undefined as unknown as ClassesStack };
    before(async () => {
      holder.s = await startClassesStack(azurite);
      for (const user of [carla, andy, avery, tina, theo, lena])
        assert.equal(await holder.s.bot.install(user), 200);
    });
    after(async () => {
      await holder.s?.stop();
    });
    return holder;
  }

  describe('a standard change under a template Contoso approved', () => {
    const ctx = stackPerScenario();
    const TEMPLATE_ID = 'exo-p1-add';
    const TEMPLATE = {
      name: 'Add an Exchange Online Plan 1 licence',
      ranges: { type: 'licence_change', addSkus: ['EXCHANGESTANDARD'], removeSkus: [] },
      implementationPlan: 'Assign EXCHANGESTANDARD in Entra; the mailbox appears within 15 minutes.',
      rollbackPlan:
        'If the mailbox is not provisioned within an hour, the technician removes EXCHANGESTANDARD and ' +
        're-assigns the previous licence, then verifies the user can sign in (about 10 minutes).',
    };
    const licence = (sku: string, who: string) => ({
      type: 'licence_change',
      title: `${sku} for ${who}`,
      description: `${who} needs ${sku}.`,
      userPrincipalName: `${who.toLowerCase()}@contoso.example`,
      addSkus: sku,
    });
    let preApproved = '';

    it('activates the template when Contoso’s approver clicks Approve on its card', async () => {
      const { s } = ctx;
      const saved = await saveTemplate(s.uc, {
        actor: asPerson(lena),
        id: TEMPLATE_ID,
        content: TEMPLATE,
      });
      assert.ok(saved.ok, saved.ok ? '' : saved.error.message);
      const proposed = await proposeTemplate(s.uc, {
        actor: asPerson(lena),
        templateId: TEMPLATE_ID,
        clientTenantId: CONTOSO.tenantId,
      });
      assert.ok(proposed.ok, proposed.ok ? '' : proposed.error.message);
      const card = await s.waitForCard(andy, TEMPLATE.name, 'Awaiting your approval');
      const approve = button(card, 'Approve template');
      assert.equal(approve.verb, CardVerbs.ApproveTemplate);
      const approved = await s.bot.invoke(andy, approve.verb, approve.data);
      includes(cardText(approved.card), 'Approved');
      const active = await s.uc.templates.activeFor(CONTOSO.tenantId);
      assert.deepEqual(
        active.map((a) => a.template.id),
        [TEMPLATE_ID],
      );
    });

    it('approves a matching request at once: no approval card, the technicians get it ready', async () => {
      const { s } = ctx;
      const id = await s.raise(carla, licence('EXCHANGESTANDARD', 'Jane'));
      preApproved = id;
      const request = await s.stored(id, CONTOSO.tenantId);
      assert.equal(request.status, 'approved');
      assert.equal(request.changeClass, 'standard');
      assert.equal(request.templateId, TEMPLATE_ID);
      assert.equal(request.approvalPlan?.mode, 'pre_approved');

      const ready = await s.waitForCard(tina, id, 'ready to execute');
      includes(cardText(ready), 'Pre-approved (standard change)');
      includes(cardText(ready), `Pre-approved under standard template ${TEMPLATE_ID}`);
      await s.bot.say(carla, `status ${id}`);
      const requesterCard = await s.waitForCard(carla, id, 'Pre-approved under standard template');
      includes(cardText(requesterCard), TEMPLATE_ID);
      includes(cardText(requesterCard), 'needs no approval of its own');
      for (const approver of [andy, avery, lena])
        assert.deepEqual(
          s.cardsWith(approver, request.title),
          [],
          `${approver.name} got a card about ${id}`,
        );

      const audit = (await s.audit(CONTOSO.tenantId)).filter((e) => e.requestId === request.id);
      includes(
        audit.map((e) => e.type),
        'approval.pre_approved',
      );
      excludes(
        audit.map((e) => e.type),
        'approval.requested',
      );
    });

    it('triages a request of the same type outside the template’s ranges as a normal change', async () => {
      const { s } = ctx;
      const id = await s.raise(carla, licence('SPB', 'Jack'));
      const request = await s.stored(id, CONTOSO.tenantId);
      assert.equal(request.status, 'triaged');
      assert.equal(request.changeClass, 'normal');
      assert.equal(request.templateId, undefined);
      await s.waitForCard(tina, id, 'needs your assessment');
    });

    it('suspends the template when its run fails, and a lead’s re-enabling restores pre-approval', async () => {
      const { s } = ctx;
      // Tuesday or Thursday evening comes: even a standard change starts inside Contoso's window.
      const contoso = (await s.uc.clients.get(CONTOSO.tenantId))!.profile;
      const slot = nextSlot(rulesFor(contoso), s.clock.now());
      s.clock.moveTo(new Date(Date.parse(slot.start) + 60_000).toISOString());

      const ready = await s.waitForCard(tina, preApproved, 'ready to execute');
      const start = button(ready, 'Start work');
      const started = await s.bot.invoke(tina, start.verb, start.data);
      includes(cardText(started.card), 'In progress');
      const fail = button(started.card, 'Mark failed');
      const failed = await s.bot.invoke(tina, fail.verb, {
        ...fail.data,
        reason: 'Entra refused the licence: no EXCHANGESTANDARD seats left.',
      });
      includes(cardText(failed.card), 'Failed');
      assert.equal((await s.stored(preApproved, CONTOSO.tenantId)).status, 'failed');
      // The lead hears of it on the template's card, with the reason the run failed.
      const suspended = await s.waitForCard(lena, TEMPLATE.name, 'Suspended because');
      includes(cardText(suspended), 'no EXCHANGESTANDARD seats left');
      assert.deepEqual(await s.uc.templates.activeFor(CONTOSO.tenantId), []);

      const whileSuspended = await s.raise(carla, licence('EXCHANGESTANDARD', 'Joan'));
      const triaged = await s.stored(whileSuspended, CONTOSO.tenantId);
      assert.equal(triaged.status, 'triaged');
      assert.equal(triaged.changeClass, 'normal');
      await s.waitForCard(tina, whileSuspended, 'needs your assessment');

      const reenabled = await reenableTemplate(s.uc, {
        actor: asPerson(lena),
        clientTenantId: CONTOSO.tenantId,
        templateId: TEMPLATE_ID,
        reason: 'Seats bought; the licence assigns again.',
      });
      assert.ok(reenabled.ok, reenabled.ok ? '' : reenabled.error.message);
      const again = await s.raise(carla, licence('EXCHANGESTANDARD', 'Jill'));
      const request = await s.stored(again, CONTOSO.tenantId);
      assert.equal(request.status, 'approved');
      assert.equal(request.templateId, TEMPLATE_ID);
      includes(cardText(await s.waitForCard(tina, again, 'ready to execute')), 'Pre-approved');

      const types = (await s.audit(CONTOSO.tenantId)).map((e) => e.type);
      for (const t of ['template.approved', 'request.failed', 'template.suspended', 'template.reenabled'])
        includes(types, t);
    });
  });
});
