import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { submitChange } from '../../src/application/use-cases/submit-change';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { loadConfig, type Config } from '../../src/config';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import type { ChangeType } from '../../src/domain/change-request/change-request.payloads';
import type { RequestedWindow } from '../../src/domain/assessment/assessment';
import { rulesFor } from '../../src/domain/client/client-rules';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { CONTOSO } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { nextSlot, sendToApprovers } from '../support/approval-flow';
import { BotClient, cardActions, cardText } from '../support/bot-client';
import { useCasesOn } from '../support/bot-itil';
import { asPerson } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';
import {
  startLoopbackConnector,
  type CardJson,
  type LoopbackConnector,
} from '../support/loopback-connector';

/** Every element of `type` on a card, wherever it sits (body, containers, action sets). */
function elementsOf(card: CardJson, type: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record['type'] === type) found.push(record);
      Object.values(record).forEach(walk);
    }
  };
  walk(card);
  return found;
}

const toggleIds = (card: CardJson) => elementsOf(card, 'Input.Toggle').map((t) => t['id']);

/** Andy types `approvals`, switches on the routine licence change and approves it from the card. */
describe('Approval inbox over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let config: Config;
  let uc: UseCaseDeps;
  const { carla, andy } = CONTOSO;

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `inbox${randomUUID().slice(0, 8)}`,
      CABINET_RELAY_INTERVAL_MS: '100',
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
    uc = useCasesOn(azurite.connectionString, config.storage.tablePrefix, config.mspTenantId);
    for (const user of [carla, andy]) assert.equal(await bot.install(user), 200);
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  /** Raised by Carla and sent to the approvers in `window`, so the two bookings never conflict. */
  async function awaiting(type: ChangeType, window: RequestedWindow): Promise<ChangeRequest> {
    const raised = await submitChange(uc, {
      actor: asPerson(carla),
      type,
      fields: validFields(type),
    });
    assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
    return sendToApprovers(uc, raised.value.request, { assessment: { requestedWindow: window } });
  }

  it('lists what waits for Andy and approves the one routine item he switched on', async () => {
    const contoso = (await uc.clients.get(CONTOSO.tenantId))?.profile;
    assert.ok(contoso);
    const first = nextSlot(rulesFor(contoso), uc.clock.now());
    // The next slot the schedule accepts after the first one ends, clear of its booking.
    const second = nextSlot(rulesFor(contoso), new Date(first.end));
    const routine = await awaiting('licence_change', first);
    const general = await awaiting('general', second);

    assert.equal(await bot.say(andy, 'my approvals'), 200);
    const conversation = bot.conversationId(andy);
    const inboxCards = () =>
      connector
        .cardsIn(conversation)
        .filter((c) => cardText(c).includes('Waiting for your approval'));
    await connector.waitFor(() => inboxCards().length > 0);
    const card = inboxCards().at(-1)!;
    const text = cardText(card);
    assert.ok(
      text.indexOf(routine.id) >= 0 && text.indexOf(routine.id) < text.indexOf(general.id),
      `oldest first: ${text}`,
    );
    assert.deepEqual(toggleIds(card), [`pick-${routine.id}`], 'only the routine item has a toggle');
    const opens = elementsOf(card, 'Action.Execute').filter((a) => a['verb'] === CardVerbs.Status);
    assert.deepEqual(
      opens.map((a) => [a['title'], (a['data'] as Record<string, unknown>)['requestId']]),
      [
        ['Open', routine.id],
        ['Open to decide', general.id],
      ],
    );
    const approveSelected = cardActions(card).find((a) => a.title === 'Approve selected');
    assert.ok(approveSelected);
    assert.equal(approveSelected.verb, CardVerbs.BulkApprove);

    // Teams merges the inputs into the action's data; a toggle the card never had is ignored.
    const reply = await bot.invoke(andy, approveSelected.verb, {
      ...approveSelected.data,
      [`pick-${routine.id}`]: 'true',
      [`pick-${general.id}`]: 'true',
    });
    assert.equal(reply.httpStatus, 200);
    const after = cardText(reply.card);
    assert.ok(after.includes(`Approved ${routine.id}.`), after);
    assert.ok(after.includes(general.id), 'the other request still waits');
    assert.deepEqual(toggleIds(reply.card), []);

    const stored = async (r: ChangeRequest) =>
      (await uc.requests.get(r.tenantId, r.id))?.request.status;
    assert.equal(await stored(routine), 'approved');
    assert.equal(await stored(general), 'awaiting_approval');
    const types = (await uc.audit.read(CONTOSO.tenantId)).map(
      (e) => (JSON.parse(e.canonical) as { type: string }).type,
    );
    assert.equal(types.at(-1), 'approval.granted');
    assert.equal(types.filter((t) => t === 'approval.granted').length, 1, 'one approval only');
  });

  it('answers an empty inbox with a short card, and refuses card data it did not send', async () => {
    assert.equal(await bot.say(carla, 'approvals'), 200);
    await connector.waitFor(() =>
      connector
        .cardsIn(bot.conversationId(carla))
        .some((c) => cardText(c).includes('Nothing waits for your approval.')),
    );
    const forged = await bot.invoke(andy, CardVerbs.BulkApprove, {
      shown: Array.from({ length: 500 }, (_, i) => ({ requestId: `CONTOSO-${i}`, version: 1 })),
    });
    assert.ok(cardText(forged.card).includes('CARD.INVALID_DATA'));
  });
});
