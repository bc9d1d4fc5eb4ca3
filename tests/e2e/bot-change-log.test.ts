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

/** Carla asks for Contoso's change log and monthly report in Teams; she never sees Fabrikam's. */
describe('Change log and monthly report over the Bot Framework protocol', function () {
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
      CABINET_TABLE_PREFIX: `changelog${randomUUID().slice(0, 8)}`,
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

  async function ask(text: string): Promise<string> {
    const conversation = bot.conversationId(carla);
    const before = connector.cardsIn(conversation).length;
    assert.equal(await bot.say(carla, text), 200);
    await connector.waitFor(() => connector.cardsIn(conversation).length > before);
    return cardText(connector.cardsIn(conversation).at(-1));
  }

  it('answers changelog MONTH with Contoso’s changes: authorised by, expected, actual, rollback', async () => {
    const text = await ask('changelog 2026-11');
    assert.match(text, /Change log: Contoso/);
    assert.match(text, /2026-11, Europe\/London · 6 changes/);
    assert.match(
      text,
      new RegExp(`\\*\\*${s.normalDone.id}\\*\\* Patch the firewall · 2026-11-03 09:00 · normal`),
    );
    assert.match(text, /Check connectivity from each site afterwards\./);
    assert.match(text, /No rollback plan recorded/);
    assert.ok(!text.includes(s.fabrikam.id) && !text.includes('Fabrikam VPN'));
  });

  it('ignores a forged client: Fabrikam’s log is not found for Carla', async () => {
    const text = await ask('changelog FABRIKAM 2026-11');
    assert.match(text, /not found, or you do not work with it/);
    assert.ok(!text.includes(s.fabrikam.id) && !text.includes('Fabrikam VPN'));
  });

  it('answers report MONTH with the figures and red flags', async () => {
    const text = await ask('report 2026-11');
    assert.match(text, /Monthly change report: Contoso/);
    assert.match(text, /3 of 6 \(50 %\), target at most 10 %/);
    assert.match(text, /Red flags/);
    assert.match(text, /1 post-implementation review is overdue/);
    assert.match(text, /Change log page/);
  });
});
