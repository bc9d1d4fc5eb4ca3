import { strict as assert } from 'node:assert';
import {
  proposeTemplate,
  reenableTemplate,
  saveTemplate,
} from '../../src/application/use-cases/catalogue';
import { delegateSeat } from '../../src/application/use-cases/delegations';
import { sweepFollowUps } from '../../src/application/use-cases/follow-ups';
import { rulesFor } from '../../src/domain/client/client-rules';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { nextSlot, sendToApprovers } from '../support/approval-flow';
import { cardText } from '../support/bot-client';
import {
  button,
  excludes,
  executeActionsIn,
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
      implementationPlan:
        'Assign EXCHANGESTANDARD in Entra; the mailbox appears within 15 minutes.',
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
      for (const t of [
        'template.approved',
        'request.failed',
        'template.suspended',
        'template.reenabled',
      ])
        includes(types, t);
    });
  });

  describe('a delegated approval', () => {
    const ctx = stackPerScenario();
    let delegatedUntil = '';
    let lateCard: Record<string, unknown> = {};
    let lateId = '';

    /** Tina raises it for Contoso (so Carla, the delegate, is not its requester) and sends it for approval. */
    const awaiting = async (s: ClassesStack, title: string, slotFrom: Date) => {
      const id = await s.raise(tina, {
        type: 'general',
        title,
        description: 'Quarterly rotation.',
        affectedSystems: 'Wi-Fi',
        clientTenantId: CONTOSO.tenantId,
      });
      const contoso = (await s.uc.clients.get(CONTOSO.tenantId))!.profile;
      const window = nextSlot(rulesFor(contoso), slotFrom);
      await sendToApprovers(s.uc, await s.stored(id, CONTOSO.tenantId), {
        technician: tina,
        assessment: { requestedWindow: window },
      });
      return { id, window };
    };

    it('lets Carla approve in Andy’s seat from her approvals, naming both on the cards and the vote', async () => {
      const { s } = ctx;
      delegatedUntil = new Date(s.clock.now().getTime() + 5 * 24 * HOUR_MS).toISOString();
      const delegated = await delegateSeat(s.uc, {
        actor: asPerson(andy),
        clientCode: CONTOSO.code,
        toOid: carla.oid,
        riskCeiling: 'high',
        validUntil: delegatedUntil,
      });
      assert.ok(delegated.ok, delegated.ok ? '' : delegated.error.message);
      const first = await awaiting(s, 'Rotate the office Wi-Fi key', s.clock.now());

      assert.equal(await s.bot.say(carla, 'approvals'), 200);
      const inbox = await s.waitForCard(carla, 'Waiting for your approval', first.id);
      includes(cardText(inbox), 'for Andy Approver');
      const open = executeActionsIn(inbox).find(
        (a) => a.verb === CardVerbs.Status && a.data['requestId'] === first.id,
      );
      assert.ok(open, `no open action for ${first.id}`);
      const live = await s.bot.invoke(carla, open.verb, open.data);
      const approve = button(live.card, 'Approve');
      assert.equal(approve.verb, CardVerbs.Approve);
      const decided = await s.bot.invoke(carla, approve.verb, approve.data);
      includes(cardText(decided.card), 'Approved by Carla Admin (for Andy Approver)');

      await s.waitForCard(tina, first.id, 'Approved by Carla Admin (for Andy Approver)');
      const stored = await s.stored(first.id, CONTOSO.tenantId);
      assert.equal(stored.status, 'approved');
      const votes = stored.approval!.steps.flatMap((st) => st.votes);
      assert.deepEqual(
        votes.map((v) => [v.by.oid, v.seat.oid, v.outcome]),
        [[carla.oid, andy.oid, 'approved']],
      );

      // A second request, whose live card Carla holds when the delegation runs out.
      const second = await awaiting(s, 'Add a guest SSID', new Date(first.window.end));
      lateId = second.id;
      const status = await s.bot.invoke(carla, CardVerbs.Status, { requestId: lateId });
      assert.ok(hasButton(status.card, 'Approve'), 'the delegate’s card is live while in force');
      lateCard = status.card;
    });

    it('refuses and audits the delegate’s click once the delegation has run out', async () => {
      const { s } = ctx;
      s.clock.moveTo(new Date(Date.parse(delegatedUntil) + 60_000).toISOString());
      const approve = button(lateCard, 'Approve');
      const refused = await s.bot.invoke(carla, approve.verb, approve.data);
      excludes(cardText(refused.card), 'Approved by');
      includes(cardText(refused.card), 'You are not a designated approver');
      const stored = await s.stored(lateId, CONTOSO.tenantId);
      assert.equal(stored.status, 'awaiting_approval');
      assert.deepEqual(
        stored.approval!.steps.flatMap((st) => st.votes),
        [],
      );
      const refusals = (await s.audit(CONTOSO.tenantId)).filter(
        (e) => e.type === 'approval.refused' && e.requestId === stored.id,
      );
      assert.deepEqual(
        refusals.map((e) => e.actor.oid),
        [carla.oid],
      );
    });
  });

  describe('an emergency whose review falls overdue', () => {
    const ctx = stackPerScenario();
    let id = '';

    it('takes the emergency from the form through Lena’s approval to review pending, telling the client', async () => {
      const { s } = ctx;
      id = await s.raise(tina, {
        type: 'general',
        title: 'Block the phishing sender domain',
        description: 'A phishing wave is hitting finance mailboxes now.',
        affectedSystems: 'Exchange Online',
        clientTenantId: CONTOSO.tenantId,
        changeClass: 'emergency',
        emergencyReason: 'Live phishing campaign against finance.',
      });
      assert.equal((await s.stored(id, CONTOSO.tenantId)).changeClass, 'emergency');
      await sendToApprovers(s.uc, await s.stored(id, CONTOSO.tenantId), { technician: tina });

      const leadCard = await s.waitForCard(lena, id, 'You are voting on step 1 of 1');
      const approve = button(leadCard, 'Approve');
      assert.equal(approve.data['step'], 'emergency_lead');
      includes(
        cardText((await s.bot.invoke(lena, approve.verb, approve.data)).card),
        'Approved by Lena Lead',
      );
      for (const contact of [carla, andy])
        includes(
          cardText(await s.waitForCard(contact, id, 'Emergency change raised by Tina Tech')),
          'Live phishing campaign against finance.',
        );

      const ready = await s.waitForCard(tina, id, 'ready to execute');
      const start = button(ready, 'Start work');
      const started = await s.bot.invoke(tina, start.verb, start.data);
      const implement = button(started.card, 'Mark implemented');
      const implemented = await s.bot.invoke(tina, implement.verb, {
        ...implement.data,
        notes: 'Sender domain blocked in the tenant allow/block list.',
      });
      includes(cardText(implemented.card), 'Review pending');
      assert.equal((await s.stored(id, CONTOSO.tenantId)).status, 'review_pending');
      const retro = await s.waitForCard(andy, id, 'carried out as an emergency');
      assert.equal(button(retro, 'Approve').data['step'], 'retrospective');
    });

    it('escalates the overdue review to the technician and the lead, saying what is missing', async () => {
      const { s } = ctx;
      const dueAt = (await s.stored(id, CONTOSO.tenantId)).reviewDueAt;
      assert.ok(dueAt, 'no review deadline');
      s.clock.moveTo(new Date(Date.parse(dueAt) + 60_000).toISOString());
      await sweepFollowUps(s.uc);
      for (const who of [tina, lena]) {
        const overdue = cardText(await s.waitForCard(who, id, 'is overdue'));
        includes(
          overdue,
          `Still missing: the post-implementation review (file it below) and the client's retrospective approval (waiting on Andy Approver, Avery Approver)`,
        );
        // The retrospective approval's step shows who it waits on too.
        includes(
          overdue,
          '1. Retrospective client approval — any one of 2 must approve: Andy Approver, Avery Approver · open now',
        );
        assert.ok(hasButton(await s.waitForCard(who, id, 'is overdue'), 'File review and close'));
      }
      const escalated = (await s.audit(CONTOSO.tenantId)).filter(
        (e) => e.type === 'review.escalated',
      );
      assert.equal(escalated.length, 1);
      assert.deepEqual(escalated[0]!.payload['missing'], ['review', 'retrospective']);
      assert.deepEqual(
        [...(escalated[0]!.payload['toOids'] as string[])].sort(),
        [tina.oid, lena.oid].sort(),
      );
    });

    it('closes once the approver approves retrospectively and the technician files the review', async () => {
      const { s } = ctx;
      const retro = await s.waitForCard(andy, id, 'carried out as an emergency');
      const approve = button(retro, 'Approve');
      includes(
        cardText((await s.bot.invoke(andy, approve.verb, approve.data)).card),
        'Andy Approver approved',
      );

      const status = await s.bot.invoke(tina, CardVerbs.Status, { requestId: id });
      const review = button(status.card, 'File review and close');
      const closed = await s.bot.invoke(tina, review.verb, {
        ...review.data,
        objectiveAchieved: 'yes',
        outcome: 'successful',
        becomeStandard: 'false',
      });
      includes(cardText(closed.card), 'Closed');
      const stored = await s.stored(id, CONTOSO.tenantId);
      assert.equal(stored.status, 'closed');
      assert.equal(stored.retrospective?.status, 'approved');
      const types = (await s.audit(CONTOSO.tenantId))
        .filter((e) => e.requestId === stored.id)
        .map((e) => e.type);
      for (const t of ['review.escalated', 'approval.retrospective_decided', 'review.filed'])
        includes(types, t);
    });
  });

  describe('a normal change that waits too long for its approvers', () => {
    const ctx = stackPerScenario();
    let id = '';
    let opened = 0;

    it('re-issues the approver’s card with a reminder banner once the reminder time has passed', async () => {
      const { s } = ctx;
      id = await s.raise(carla, {
        type: 'general',
        title: 'Replace the core switch firmware',
        description: 'The vendor withdrew the current release.',
        affectedSystems: 'Network',
      });
      const sent = await sendToApprovers(s.uc, await s.stored(id, CONTOSO.tenantId), {
        technician: tina,
      });
      opened = Date.parse(sent.approval!.steps[0]!.openedAt!);
      await s.waitForCard(andy, id, 'You are voting on step 1 of 1');
      const timing = rulesFor((await s.uc.clients.get(CONTOSO.tenantId))!.profile).approvalPolicy
        .timing;

      s.clock.moveTo(new Date(opened + (timing.remindAfterHours + 1) * HOUR_MS).toISOString());
      await sweepFollowUps(s.uc);
      for (const approver of [andy, avery]) {
        const reminder = await s.waitForCard(approver, id, 'Reminder:');
        includes(cardText(reminder), 'has waited for your decision since');
        assert.ok(hasButton(reminder, 'Approve'), 'the re-issued card keeps its buttons');
        assert.equal(button(reminder, 'Approve').data['version'], sent.version);
      }
      assert.deepEqual(s.cardsWith(lena, 'Escalated:'), []);
      const reminded = (await s.audit(CONTOSO.tenantId)).filter(
        (e) => e.type === 'approval.reminded' && e.requestId === sent.id,
      );
      assert.deepEqual(
        reminded.map((e) => e.payload['toOid']).sort(),
        [andy.oid, avery.oid].sort(),
      );
    });

    it('escalates to the MSP lead past the escalation time, naming whom it waits on', async () => {
      const { s } = ctx;
      const timing = rulesFor((await s.uc.clients.get(CONTOSO.tenantId))!.profile).approvalPolicy
        .timing;
      s.clock.moveTo(new Date(opened + (timing.escalateAfterHours + 1) * HOUR_MS).toISOString());
      await sweepFollowUps(s.uc);
      const escalation = cardText(await s.waitForCard(lena, id, 'Escalated:'));
      includes(escalation, 'for Andy Approver, Avery Approver');
      includes(escalation, 'Chase them, or have a delegate decide.');
      const escalated = (await s.audit(CONTOSO.tenantId)).filter(
        (e) => e.type === 'approval.escalated',
      );
      assert.equal(escalated.length, 1);
      assert.deepEqual(escalated[0]!.payload['toOids'], [lena.oid]);
      // A second sweep sends nothing again.
      assert.equal(await sweepFollowUps(s.uc), 0);
    });
  });
});
