import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import { startCabinet } from '../../src/main';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import { BotClient, cardText } from '../support/bot-client';
import {
  allCardActions,
  assessAndSend,
  assessmentFields,
  contosoSlot,
  showCardTitles,
  useCasesOn,
} from '../support/bot-itil';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopback-connector';

function includes(haystack: string | readonly string[], needle: string): void {
  assert.ok(
    haystack.includes(needle),
    `expected ${JSON.stringify(needle)} in ${JSON.stringify(haystack).slice(0, 3000)}`,
  );
}
function excludes(haystack: string | readonly string[], needle: string): void {
  assert.ok(
    !haystack.includes(needle),
    `did not expect ${JSON.stringify(needle)} in ${JSON.stringify(haystack).slice(0, 3000)}`,
  );
}

describe('ITIL cards and verbs over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let config: Config;
  let uc: UseCaseDeps;
  /** The request the CAB tests follow from its first card to its approval. */
  let cabRequest = '';
  let emergencyRequest = '';
  const { carla, andy, avery } = CONTOSO;
  const { tina, theo, lena } = MSP;
  const { fiona, frank } = FABRIKAM;

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `itil${randomUUID().slice(0, 8)}`,
      CABINET_RELAY_INTERVAL_MS: '100',
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
    uc = useCasesOn(azurite.connectionString, config.storage.tablePrefix, config.mspTenantId);
    for (const user of [carla, andy, avery, tina, theo, lena, fiona, frank])
      assert.equal(await bot.install(user), 200);
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  const conv = (user: { oid: string }) => `personal-${user.oid}`;
  /** The newest card `user` received that contains every one of `texts`. */
  const waitForCard = async (user: { oid: string }, ...texts: string[]) => {
    const matches = () =>
      connector.cardsIn(conv(user)).filter((c) => texts.every((t) => cardText(c).includes(t)));
    await connector.waitFor(() => matches().length > 0);
    return matches().at(-1)!;
  };
  const button = (card: Record<string, unknown>, title: string) => {
    const found = allCardActions(card).find((a) => a.title === title);
    assert.ok(found, `no ${title} button in ${JSON.stringify(allCardActions(card))}`);
    return found;
  };
  const raise = async (
    user: typeof carla,
    fields: Record<string, unknown>,
  ): Promise<ChangeRequestId> => {
    const submitted = await bot.invoke(user, CardVerbs.Submit, { type: 'general', ...fields });
    const id = /((?:CONTOSO|FABRIKAM)-\d+)/.exec(cardText(submitted.card))?.[1];
    assert.ok(id, `no request id in ${cardText(submitted.card)}`);
    return id as ChangeRequestId;
  };

  it('shows risk, rollback plan, window and the steps on the approval card, with step and version in its data', async () => {
    const id = await raise(carla, {
      title: 'Rotate the office Wi-Fi key',
      description: 'Quarterly rotation.',
      affectedSystems: 'Wi-Fi',
    });
    includes(
      cardText(await waitForCard(tina, id, 'needs your assessment')),
      'Assess it here (Assess) or in the Cabinet tab',
    );
    cabRequest = id;
    await assessAndSend(uc, tina, id, assessmentFields({ ...contosoSlot(), risk: 'high' }));

    const card = await waitForCard(andy, id, 'You are voting on step 1 of 2');
    const text = cardText(card);
    includes(text, 'Normal change');
    includes(text, 'High (set by Tina Tech; Cabinet suggested');
    includes(text, 'Minor');
    includes(text, '18:00–19:00 (Europe/London)');
    includes(text, 'restores the previous key from the controller backup');
    includes(text, '1. Client approval — any one of 2 must approve: Andy Approver, Avery Approver');
    includes(text, '2. Change advisory board — 2 of 3 must approve');
    const approve = button(card, 'Approve');
    assert.deepEqual(approve.data, { requestId: id, version: 2, step: 'client' });
  });

  it('opens the CAB step when the client approves, and the CAB members then get their cards', async () => {
    const id = cabRequest;
    const card = await waitForCard(andy, id, 'You are voting on step 1 of 2');
    const approve = button(card, 'Approve');
    const first = await bot.invoke(andy, approve.verb, approve.data);
    includes(cardText(first.card), 'Andy Approver approved');
    includes(cardText(first.card), 'Awaiting approval');

    const lenaCard = await waitForCard(
      lena,
      id,
      'You are voting on step 2 of 2, Change advisory board: 2 of 3 must approve.',
    );
    const lenaApprove = button(lenaCard, 'Approve');
    assert.equal(lenaApprove.data['step'], 'cab');
    // A click on the first step's card once the CAB step is open counts nowhere.
    const stale = await bot.invoke(andy, approve.verb, approve.data);
    excludes(cardText(stale.card), 'Approved by');

    await bot.invoke(lena, lenaApprove.verb, lenaApprove.data);
    const theoCard = await waitForCard(theo, id, 'You are voting on step 2 of 2');
    const theoApprove = button(theoCard, 'Approve');
    const settled = await bot.invoke(theo, theoApprove.verb, theoApprove.data);
    includes(cardText(settled.card), 'Approved by');
    includes(cardText(settled.card), 'Lena Lead approved · Theo Tech approved');
    await waitForCard(carla, id, 'Approved by');
    // The client's contacts get the advance notice of a scheduled normal change.
    includes(cardText(await waitForCard(avery, id, 'Scheduled:')), '(Europe/London)');
  });

  it('asks the requester a question, takes the answer, and gives the approver a live card again', async () => {
    const id = await raise(carla, {
      title: 'Add a guest SSID',
      description: 'Visitors need Wi-Fi.',
      affectedSystems: 'Wi-Fi',
    });
    await assessAndSend(uc, tina, id, assessmentFields(contosoSlot()));
    const card = await waitForCard(andy, id, 'You are voting on step 1 of 1');
    includes(showCardTitles(card), 'Ask a question');
    const ask = button(card, 'Send question');
    assert.equal(ask.verb, CardVerbs.Ask);
    const asked = await bot.invoke(andy, ask.verb, {
      ...ask.data,
      question: 'Should guests be isolated from the office printers?',
    });
    includes(cardText(asked.card), 'Needs information');

    const question = await waitForCard(carla, id, 'Should guests be isolated');
    includes(cardText(question), 'Answer below');
    const answer = button(question, 'Send answer');
    assert.equal(answer.verb, CardVerbs.Answer);
    const answered = await bot.invoke(carla, answer.verb, {
      ...answer.data,
      answer: 'Yes, guests must not reach the printers.',
    });
    includes(cardText(answered.card), 'Awaiting approval');

    const live = await waitForCard(andy, id, 'Carla Admin answered your question');
    includes(cardText(live), 'guests must not reach the printers');
    const approve = button(live, 'Approve');
    const approved = await bot.invoke(andy, approve.verb, approve.data);
    includes(cardText(approved.card), 'Approved by Andy Approver');
  });

  it('closes a normal change with the review card instead of Close', async () => {
    const id = await raise(fiona, {
      title: 'Replace the lobby printer',
      description: 'The old one is out of support.',
      affectedSystems: 'Printing',
    });
    await assessAndSend(
      uc,
      theo,
      id,
      assessmentFields({
        windowStart: '2030-03-05T18:00:00-05:00',
        windowEnd: '2030-03-05T19:00:00-05:00',
      }),
    );
    const approval = await waitForCard(frank, id, 'You are voting on step 1 of 1');
    const approve = button(approval, 'Approve');
    await bot.invoke(frank, approve.verb, approve.data);

    const ready = await waitForCard(theo, id, 'ready to execute');
    const start = button(ready, 'Start work');
    const started = await bot.invoke(theo, start.verb, start.data);
    const implement = button(started.card, 'Mark implemented');
    const implemented = await bot.invoke(theo, implement.verb, {
      ...implement.data,
      notes: 'Swapped',
    });
    includes(showCardTitles(implemented.card), 'File the review');
    excludes(
      allCardActions(implemented.card).map((a) => a.title),
      'Close',
    );
    const review = button(implemented.card, 'File review and close');
    assert.equal(review.verb, CardVerbs.Review);

    const incomplete = await bot.invoke(theo, review.verb, {
      ...review.data,
      objectiveAchieved: 'yes',
      outcome: 'successful_with_issues',
      becomeStandard: 'false',
    });
    includes(cardText(incomplete.card), 'unexpectedImpacts');
    const closed = await bot.invoke(theo, review.verb, {
      ...review.data,
      objectiveAchieved: 'yes',
      outcome: 'successful_with_issues',
      unexpectedImpacts: 'The lobby had no printing for 20 minutes longer than planned.',
      becomeStandard: 'false',
      becomeStandardNote: '',
    });
    includes(cardText(closed.card), 'Closed');
    await waitForCard(fiona, id, 'Closed');
    const stored = await uc.requests.get(FABRIKAM.tenantId, id);
    assert.equal(stored?.request.review?.outcome, 'successful_with_issues');
    const audit = (await uc.audit.read(FABRIKAM.tenantId)).map(
      (e) => JSON.parse(e.canonical) as { type: string; requestId: string | null },
    );
    assert.ok(audit.some((e) => e.type === 'review.filed' && e.requestId === id));
  });

  it('lets a technician raise an emergency from the form, a lead approve it, and tells the client at once', async () => {
    const form = await bot.invoke(tina, CardVerbs.ShowForm, {
      type: 'general',
      clientTenantId: CONTOSO.tenantId,
    });
    includes(cardText(form.card), 'Emergency change: it cannot wait for the usual approval');
    const clientForm = await bot.invoke(carla, CardVerbs.ShowForm, { type: 'general' });
    excludes(cardText(clientForm.card), 'Emergency change');

    const id = await raise(tina, {
      title: 'Block the phishing sender domain',
      description: 'A phishing wave is hitting finance mailboxes now.',
      affectedSystems: 'Exchange Online',
      clientTenantId: CONTOSO.tenantId,
      changeClass: 'emergency',
      emergencyReason: 'Live phishing campaign against finance.',
    });
    await assessAndSend(uc, tina, id, assessmentFields({ affectedServices: 'Exchange Online' }));

    const leadCard = await waitForCard(lena, id, 'You are voting on step 1 of 1');
    includes(
      cardText(leadCard),
      'Emergency — approved by an MSP lead; retrospective client approval follows.',
    );
    includes(cardText(leadCard), 'Emergency change');
    const notice = await waitForCard(carla, id, 'Emergency change raised by Tina Tech');
    includes(cardText(notice), 'A phishing wave is hitting finance mailboxes now.');
    await waitForCard(andy, id, 'Emergency change raised by Tina Tech');

    const approve = button(leadCard, 'Approve');
    assert.equal(approve.data['step'], 'emergency_lead');
    const approved = await bot.invoke(lena, approve.verb, approve.data);
    includes(cardText(approved.card), 'Approved by Lena Lead');
    emergencyRequest = id;
    await waitForCard(tina, id, 'ready to execute');
  });

  it('takes the client’s retrospective approval and the review before an emergency closes', async () => {
    const id = emergencyRequest;
    const ready = await waitForCard(tina, id, 'ready to execute');
    const start = button(ready, 'Start work');
    const started = await bot.invoke(tina, start.verb, start.data);
    const implement = button(started.card, 'Mark implemented');
    const implemented = await bot.invoke(tina, implement.verb, implement.data);
    includes(cardText(implemented.card), 'Review pending');

    // The client's approver finds the retrospective round on the request's card.
    await bot.say(andy, `status ${id}`);
    const retro = await waitForCard(andy, id, 'Retrospective approval');
    includes(cardText(retro), 'You are voting on step 1 of 1, Retrospective client approval');
    const approve = button(retro, 'Approve');
    assert.equal(approve.data['step'], 'retrospective');
    const decided = await bot.invoke(andy, approve.verb, approve.data);
    includes(cardText(decided.card), 'Andy Approver approved');

    const status = await bot.invoke(tina, CardVerbs.Status, { requestId: id });
    const review = button(status.card, 'File review and close');
    const closed = await bot.invoke(tina, review.verb, {
      ...review.data,
      objectiveAchieved: 'yes',
      outcome: 'successful',
      becomeStandard: 'false',
    });
    includes(cardText(closed.card), 'Closed');
  });
});
