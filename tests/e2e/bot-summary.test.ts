import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { loadConfig } from '../../src/config';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { CONTOSO, FABRIKAM } from '../../src/sandbox/sandbox-tenants';
import { BotClient, cardText } from '../support/bot-client';
import { useCasesOn } from '../support/bot-itil';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopback-connector';
import { bookNovember, type NovemberScenario } from '../support/summary-fixtures';

/** Carla types `summary CONTOSO 2026-11` in Teams and gets the month as a card. */
describe('Monthly summary over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let uc: UseCaseDeps;
  let s: NovemberScenario;
  const { carla } = CONTOSO;

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    const config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `summary${randomUUID().slice(0, 8)}`,
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
    uc = useCasesOn(azurite.connectionString, config.storage.tablePrefix, config.mspTenantId);
    const contoso = (await uc.clients.get(CONTOSO.tenantId))?.profile;
    const fabrikam = (await uc.clients.get(FABRIKAM.tenantId))?.profile;
    assert.ok(contoso && fabrikam);
    s = await bookNovember(uc, { contoso, fabrikam });
    assert.equal(await bot.install(carla), 200);
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  /** Says `text` and waits for the card answering it. */
  async function ask(text: string): Promise<string> {
    const conversation = bot.conversationId(carla);
    const before = connector.cardsIn(conversation).length;
    assert.equal(await bot.say(carla, text), 200);
    await connector.waitFor(() => connector.cardsIn(conversation).length > before);
    return cardText(connector.cardsIn(conversation).at(-1));
  }

  it('answers summary CODE MONTH with the month’s card', async () => {
    const text = await ask('summary CONTOSO 2026-11');
    assert.match(text, /Monthly summary: Contoso/);
    assert.match(text, /2026-11, Europe\/London/);
    assert.match(text, /6 \(1 standard, 2 normal, 3 emergency\)/);
    assert.match(text, /Emergency quota: 3 emergencies, quota \d+: .*\(flagged\)/);
    assert.match(
      text,
      new RegExp(
        `${s.standard.id}\\*\\* Business Premium for Jane · Add a Business Premium licence · Successful`,
      ),
    );
    assert.match(
      text,
      new RegExp(
        `${s.emergencyOver.id}\\*\\* Rotate the leaked key · retrospective not started · review not due · Open · over quota`,
      ),
    );
    assert.ok(!text.includes(s.october.id) && !text.includes(s.fabrikam.id));
  });

  it('answers plain summary with this month of Carla’s client', async () => {
    const text = await ask('summary');
    assert.match(text, /Monthly summary: Contoso/);
  });

  it('answers another client as not found, saying how to ask', async () => {
    const text = await ask('summary FABRIKAM 2026-11');
    assert.match(text, /not found, or you do not work with it/);
    assert.match(text, /CLIENT\.NOT_FOUND/);
    assert.ok(!text.includes(s.fabrikam.id));
  });
});
