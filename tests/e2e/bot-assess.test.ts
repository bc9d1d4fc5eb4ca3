import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { loadConfig, type Config } from '../../src/config';
import { startCabinet } from '../../src/main';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import { BotClient, cardText, type ChannelUser } from '../support/bot-client';
import { contosoSlot } from '../support/bot-itil';
import {
  startLoopbackConnector,
  type CardJson,
  type LoopbackConnector,
} from '../support/loopback-connector';

type Element = Record<string, unknown>;

/** Every element of `type` anywhere in a card: body action sets, columns, shown cards. */
function elements(card: unknown, type: string): Element[] {
  const out: Element[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const el = node as Element;
      if (el['type'] === type) out.push(el);
      Object.values(el).forEach(walk);
    }
  };
  walk(card);
  return out;
}

/** The card behind the Action.ShowCard titled `title`, if the card offers it. */
function shownCard(card: unknown, title: string): Element | undefined {
  return elements(card, 'Action.ShowCard').find((a) => a['title'] === title)?.['card'] as
    | Element
    | undefined;
}

/** The Action.Execute titled `title`, wherever it sits. */
function execute(card: unknown, title: string): { verb: string; data: Record<string, unknown> } {
  const found = elements(card, 'Action.Execute').find((a) => a['title'] === title);
  assert.ok(found, `no ${title} in ${cardText(card as CardJson).slice(0, 2000)}`);
  return { verb: String(found['verb']), data: found['data'] as Record<string, unknown> };
}

/** What the inputs of `form` hold as Teams would send them (their current values), by id. */
function inputValues(form: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const type of ['Input.Text', 'Input.ChoiceSet', 'Input.Date', 'Input.Time'])
    for (const input of elements(form, type))
      out[String(input['id'])] = typeof input['value'] === 'string' ? input['value'] : '';
  return out;
}

function includes(haystack: string, needle: string): void {
  assert.ok(
    haystack.includes(needle),
    `expected ${JSON.stringify(needle)} in ${JSON.stringify(haystack).slice(0, 3000)}`,
  );
}

/** A slot as the Assess form's date and time inputs, in Contoso's zone. */
function slotInputs(slot: { windowStart: string; windowEnd: string }): Record<string, string> {
  const start = DateTime.fromISO(slot.windowStart).setZone('Europe/London');
  const end = DateTime.fromISO(slot.windowEnd).setZone('Europe/London');
  return {
    windowStartDate: start.toFormat('yyyy-MM-dd'),
    windowStartTime: start.toFormat('HH:mm'),
    windowEndDate: end.toFormat('yyyy-MM-dd'),
    windowEndTime: end.toFormat('HH:mm'),
  };
}

const BOILERPLATE = 'Revert changes if issues arise.';
const GOOD_PLAN =
  'If any device cannot join within 10 minutes, the technician restores the previous key from the controller backup and confirms a laptop reconnects; takes about 5 minutes.';

describe('Assessing in Teams over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let config: Config;
  const { carla, andy, avery } = CONTOSO;
  const { tina } = MSP;
  let requestId = '';

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `assess${randomUUID().slice(0, 8)}`,
      CABINET_RELAY_INTERVAL_MS: '100',
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
    for (const user of [carla, andy, avery, tina]) assert.equal(await bot.install(user), 200);
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  /** The newest card `user` received that contains every one of `texts`. */
  const waitForCard = async (user: ChannelUser, ...texts: string[]) => {
    const matches = () =>
      connector
        .cardsIn(bot.conversationId(user))
        .filter((c) => texts.every((t) => cardText(c).includes(t)));
    await connector.waitFor(() => matches().length > 0);
    return matches().at(-1)!;
  };

  /** Fills the Assess form of `card` over its current values and clicks Save assessment. */
  const assess = async (card: CardJson, fields: Record<string, string>) => {
    const form = shownCard(card, 'Assess');
    assert.ok(form, `no Assess form in ${cardText(card).slice(0, 2000)}`);
    const save = execute(form, 'Save assessment');
    return bot.invoke(tina, save.verb, { ...save.data, ...inputValues(form), ...fields });
  };

  const assessment = (overrides: Record<string, string> = {}) => ({
    impact: 'minor',
    risk: 'low',
    affectedUsers: '25',
    affectedServices: 'Wi-Fi, Guest Wi-Fi',
    implementationPlan: 'Change the key on the controller and push it to the access points.',
    testPlan: 'Join the network from a laptop and a phone on each floor.',
    rollbackPlan: GOOD_PLAN,
    dependencies: '',
    sensitivity: '',
    overrideReason: 'The office is empty in the evening window, so few people notice a hiccup.',
    ...slotInputs(contosoSlot()),
    ...overrides,
  });

  it('gives the technician the Assess form on the assessment_needed card, and never the client admin', async () => {
    const submitted = await bot.invoke(carla, CardVerbs.Submit, {
      type: 'general',
      title: 'Rotate the office Wi-Fi key',
      description: 'Quarterly rotation.',
      affectedSystems: 'Wi-Fi',
    });
    requestId = /(CONTOSO-\d+)/.exec(cardText(submitted.card))?.[1] ?? '';
    assert.ok(requestId, cardText(submitted.card));
    assert.equal(shownCard(submitted.card, 'Assess'), undefined);

    const needed = await waitForCard(tina, requestId, 'needs your assessment');
    const form = shownCard(needed, 'Assess');
    assert.ok(form);
    assert.deepEqual(execute(form, 'Save assessment').data, { requestId, version: 1 });
    includes(cardText(form), 'Window (Europe/London');

    const carlaView = await bot.invoke(carla, CardVerbs.Status, { requestId });
    includes(cardText(carlaView.card), requestId);
    assert.equal(shownCard(carlaView.card, 'Assess'), undefined);
    assert.equal(shownCard(carlaView.card, 'Reclassify'), undefined);
    assert.ok(!elements(carlaView.card, 'Action.Execute').some((a) => a['verb'] === 'cr.assess'));
  });

  it('sends a form with problems back opened, with the values kept and each problem beside its field', async () => {
    const needed = await waitForCard(tina, requestId, 'needs your assessment');
    const reply = await assess(
      needed,
      assessment({ testPlan: '', windowEndTime: '', dependencies: 'next week' }),
    );
    const text = cardText(reply.card);
    includes(text, 'fix the fields marked in the form below');
    includes(text, 'Test plan is required');
    includes(text, 'Window end needs both a date and a time');
    includes(text, 'Depends on must be request ids like CONTOSO-1042');
    assert.equal(shownCard(reply.card, 'Assess'), undefined, 'the form is open in the card');
    const kept = inputValues(reply.card);
    assert.equal(kept['implementationPlan'], assessment().implementationPlan);
    assert.equal(kept['affectedServices'], 'Wi-Fi, Guest Wi-Fi');
    assert.equal(kept['dependencies'], 'next week');
    assert.equal(execute(reply.card, 'Save assessment').verb, CardVerbs.Assess);
  });

  it('says next to the reason field when a risk override has no reason', async () => {
    const needed = await waitForCard(tina, requestId, 'needs your assessment');
    const reply = await assess(needed, assessment({ risk: 'critical', overrideReason: '' }));
    const text = cardText(reply.card);
    includes(text, 'Reason A reason is required to override the suggested risk');
    assert.equal(inputValues(reply.card)['risk'], 'critical');
  });

  it('saves an assessment with a boilerplate rollback plan, then refuses to send it with what a good plan names', async () => {
    const needed = await waitForCard(tina, requestId, 'needs your assessment');
    const saved = await assess(needed, assessment({ rollbackPlan: BOILERPLATE }));
    const text = cardText(saved.card);
    includes(text, 'Assessment saved as version 2');
    includes(text, 'Cabinet suggests');
    includes(text, 'Why Cabinet rates the risk so');
    includes(text, BOILERPLATE);

    const send = execute(saved.card, 'Send for approval');
    assert.deepEqual(send.data, { requestId, version: 2 });
    const refused = await bot.invoke(tina, send.verb, send.data);
    includes(cardText(refused.card), 'ASSESS.ROLLBACK_PLAN_BOILERPLATE');
    includes(cardText(refused.card), 'A good rollback plan names the trigger');
    includes(cardText(refused.card), 'Triaged');
  });

  it('refuses a slot outside the maintenance windows, naming the next slots that fit', async () => {
    const status = await bot.invoke(tina, CardVerbs.Status, { requestId });
    let monday = DateTime.now().setZone('Europe/London').plus({ days: 4 }).startOf('day');
    // A Monday before the 26th: outside the Tuesday and Thursday windows, clear of the month-end blackout.
    while (monday.weekday !== 1 || monday.day > 25) monday = monday.plus({ days: 1 });
    const outside = {
      windowStartDate: monday.toFormat('yyyy-MM-dd'),
      windowStartTime: '10:00',
      windowEndDate: monday.toFormat('yyyy-MM-dd'),
      windowEndTime: '11:00',
    };
    const saved = await assess(status.card, assessment(outside));
    includes(cardText(saved.card), 'Assessment saved as version 3');
    const send = execute(saved.card, 'Send for approval');
    const refused = await bot.invoke(tina, send.verb, send.data);
    includes(cardText(refused.card), "not inside one of the client's maintenance windows");
    includes(cardText(refused.card), 'the next that fit are');
  });

  it('sends the fixed assessment for approval, and Andy’s card shows the risk, rollback plan and window', async () => {
    const status = await bot.invoke(tina, CardVerbs.Status, { requestId });
    const form = shownCard(status.card, 'Assess');
    assert.ok(form);
    assert.equal(inputValues(form)['windowStartTime'], '10:00', 'the form is pre-filled');
    const saved = await assess(status.card, assessment());
    includes(cardText(saved.card), 'Assessment saved as version 4');
    const send = execute(saved.card, 'Send for approval');
    const sent = await bot.invoke(tina, send.verb, send.data);
    includes(cardText(sent.card), 'Awaiting approval');

    const card = await waitForCard(andy, requestId, 'You are voting on step 1');
    const text = cardText(card);
    includes(text, 'Low');
    includes(text, GOOD_PLAN);
    const slot = slotInputs(contosoSlot());
    includes(text, `${slot.windowStartTime}–${slot.windowEndTime} (Europe/London)`);
    assert.equal(execute(card, 'Approve').data['version'], 4);

    const storage = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: config.storage.tablePrefix,
    });
    const stored = await storage.requests.get(CONTOSO.tenantId, requestId as ChangeRequestId);
    assert.equal(stored?.request.assessment?.rollbackPlan, GOOD_PLAN);
    assert.equal(
      stored?.request.assessment?.requestedWindow?.start,
      DateTime.fromISO(contosoSlot().windowStart).toUTC().toISO(),
    );
  });

  it('reclassifies with a reason, and refuses a token reason saying what to write', async () => {
    const submitted = await bot.invoke(carla, CardVerbs.Submit, {
      type: 'general',
      title: 'Replace the failed firewall',
      description: 'The office is offline.',
      affectedSystems: 'Firewall',
    });
    const id = /(CONTOSO-\d+)/.exec(cardText(submitted.card))?.[1] ?? '';
    const needed = await waitForCard(tina, id, 'needs your assessment');
    const form = shownCard(needed, 'Reclassify');
    assert.ok(form);
    const click = execute(form, 'Reclassify');
    const vague = await bot.invoke(tina, click.verb, {
      ...click.data,
      changeClass: 'emergency',
      reclassifyReason: 'n/a',
    });
    includes(cardText(vague.card), 'ASSESS.REASON_TOO_VAGUE');
    const done = await bot.invoke(tina, click.verb, {
      ...click.data,
      changeClass: 'emergency',
      reclassifyReason: 'The whole office is offline until the firewall is replaced.',
    });
    includes(cardText(done.card), `Reclassified ${id}`);
    includes(cardText(done.card), 'Emergency change');
  });
});
