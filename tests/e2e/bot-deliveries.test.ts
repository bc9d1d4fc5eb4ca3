import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { OutboxRow, OutboxStore } from '../../src/application/ports/outbox';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { loadConfig } from '../../src/config';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { BotClient, cardText } from '../support/bot-client';
import { useCasesOn } from '../support/bot-itil';
import { asPerson } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';
import {
  startLoopbackConnector,
  type CardJson,
  type LoopbackConnector,
} from '../support/loopback-connector';

/** Every Action.Execute on a card, wherever it sits (each parked row has its own action set). */
function executeActions(card: CardJson): { verb: string; data: Record<string, unknown> }[] {
  const found: { verb: string; data: Record<string, unknown> }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record['type'] === 'Action.Execute')
        found.push({
          verb: String(record['verb']),
          data: (record['data'] ?? {}) as Record<string, unknown>,
        });
      Object.values(record).forEach(walk);
    }
  };
  walk(card);
  return found;
}

/**
 * Lena (MSP lead) types `deliveries`, sees a parked Teams message with its last error and retries
 * it from the card; Tina (technician) is refused. Tina adds a note with `note <id> <text>`.
 */
describe('Parked deliveries and notes over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let uc: UseCaseDeps & { readonly outbox: OutboxStore };
  const { lena, tina } = MSP;

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    const config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `deliv${randomUUID().slice(0, 8)}`,
      // The relay's sweep never comes during the test: the rows it parks are parked here, by hand.
      CABINET_RELAY_INTERVAL_MS: '600000',
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
    uc = useCasesOn(azurite.connectionString, config.storage.tablePrefix, config.mspTenantId);
    for (const user of [lena, tina]) assert.equal(await bot.install(user), 200);
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  async function raise(): Promise<ChangeRequest> {
    const raised = await submitChange(uc, {
      actor: asPerson(CONTOSO.carla),
      type: 'general',
      fields: validFields('general'),
    });
    assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
    return raised.value.request;
  }

  /** Parks the request's first Teams message, as the relay does when Teams keeps refusing it. */
  async function parkOne(request: ChangeRequest, error: string): Promise<OutboxRow> {
    const claimed = await uc.outbox.claimDue(CONTOSO.tenantId, new Date(), { limit: 100 });
    const row = claimed.find(
      (r) => r.message.kind === 'teams.notify' && r.message.notification.requestId === request.id,
    );
    assert.ok(row);
    await uc.outbox.fail(row, { error, park: true }, new Date());
    return row;
  }

  it('lists a parked row for the lead and retries it from the card', async () => {
    const request = await raise();
    const row = await parkOne(request, 'Teams answered 403 Forbidden');

    assert.equal(await bot.say(lena, 'deliveries'), 200);
    const conversation = bot.conversationId(lena);
    const listCards = () =>
      connector.cardsIn(conversation).filter((c) => cardText(c).includes('Parked deliveries'));
    await connector.waitFor(() => listCards().length > 0);
    const card = listCards().at(-1)!;
    const text = cardText(card);
    assert.ok(text.includes('Last error: Teams answered 403 Forbidden'), text);
    assert.ok(text.includes(request.id), text);
    const retry = executeActions(card).find(
      (a) => a.verb === CardVerbs.RetryDelivery && a.data['rowId'] === row.id,
    );
    assert.ok(retry, 'a Retry action for the parked row');
    assert.equal(retry.data['tenantId'], CONTOSO.tenantId);

    // Tina clicks the same action (a forwarded card): refused, the row stays parked.
    const refused = await bot.invoke(tina, retry.verb, retry.data);
    assert.ok(cardText(refused.card).includes('DELIVERY.NOT_LEAD'), cardText(refused.card));
    const parked = async () =>
      (await uc.outbox.list(CONTOSO.tenantId, { statuses: ['parked'] })).map((r) => r.id);
    assert.ok((await parked()).includes(row.id));

    const reply = await bot.invoke(lena, retry.verb, retry.data);
    assert.equal(reply.httpStatus, 200);
    const after = cardText(reply.card);
    assert.ok(after.includes('Due again:'), after);
    assert.ok(!(await parked()).includes(row.id));
    const stored = (await uc.outbox.list(CONTOSO.tenantId)).find((r) => r.id === row.id);
    assert.equal(stored?.status, 'pending');
    assert.equal(stored?.attempts, 0);

    const again = await bot.invoke(lena, retry.verb, retry.data);
    assert.ok(cardText(again.card).includes('There is no parked delivery'), cardText(again.card));
  });

  it('refuses the deliveries command to a technician', async () => {
    assert.equal(await bot.say(tina, 'deliveries'), 200);
    await connector.waitFor(() =>
      connector
        .cardsIn(bot.conversationId(tina))
        .some((c) => cardText(c).includes('DELIVERY.NOT_LEAD')),
    );
  });

  it('adds a note typed as `note <id> <text>`, keeping its case', async () => {
    const request = await raise();
    assert.equal(await bot.say(tina, `note ${request.id} Licence ordered; ETA Friday.`), 200);
    await connector.waitFor(() =>
      connector
        .cardsIn(bot.conversationId(tina))
        .some((c) => cardText(c).includes(`Note added to ${request.id}`)),
    );
    const entries = await uc.audit.read(CONTOSO.tenantId);
    const last = entries.at(-1)!;
    assert.equal((JSON.parse(last.canonical) as { type: string }).type, 'note.added');
    assert.equal(
      (await uc.audit.openPersonal(CONTOSO.tenantId, last))?.['text'],
      'Licence ordered; ETA Friday.',
    );
  });
});
