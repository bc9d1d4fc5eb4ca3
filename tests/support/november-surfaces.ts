import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config';
import type { Person } from '../../src/domain/shared/person';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { BotClient, cardText } from './bot-client';
import { useCasesOn } from './bot-itil';
import { asPerson, onboardSandboxClients } from './client-settings-fixture';
import { startLoopbackConnector, type LoopbackConnector } from './loopback-connector';
import { bookNovember, type NovemberScenario } from './summary-fixtures';
import { startTabApi, type TabApiServer } from './tab-api-server';
import { TabPage, chromiumAvailable, CHROMIUM_PATH } from './tab-ui';
import { mintTabToken, signingKey } from './tab-tokens';

/** Carla in Teams, asking about the November bookings (see `bookNovember`). */
export interface NovemberInTeams {
  readonly s: NovemberScenario;
  /** Says `text` as Carla and waits for the card answering it; its text. */
  ask(text: string): Promise<string>;
}

/**
 * Cabinet (sandbox composition) on its own Azurite with the November bookings and Carla's Teams
 * chat installed, started in `before` and stopped in `after`. Call it inside a `describe`.
 */
export function useNovemberInTeams(tablePrefix: string): NovemberInTeams {
  let azurite: RunningAzurite | undefined;
  let connector: LoopbackConnector | undefined;
  let cabinet: RunningCabinet | undefined;
  let bot: BotClient | undefined;
  let scenario: NovemberScenario | undefined;
  const { carla } = CONTOSO;
  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    const config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `${tablePrefix}${randomUUID().slice(0, 8)}`,
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
    const uc = useCasesOn(azurite.connectionString, config.storage.tablePrefix, config.mspTenantId);
    const contoso = (await uc.clients.get(CONTOSO.tenantId))?.profile;
    const fabrikam = (await uc.clients.get(FABRIKAM.tenantId))?.profile;
    assert.ok(contoso && fabrikam);
    scenario = await bookNovember(uc, { contoso, fabrikam });
    assert.equal(await bot.install(carla), 200);
  });
  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });
  return {
    get s() {
      return scenario!;
    },
    async ask(text) {
      const conversation = bot!.conversationId(carla);
      const before = connector!.cardsIn(conversation).length;
      assert.equal(await bot!.say(carla, text), 200);
      await connector!.waitFor(() => connector!.cardsIn(conversation).length > before);
      return cardText(connector!.cardsIn(conversation).at(-1));
    },
  };
}

/** Carla's tab page over the November bookings. */
export interface NovemberInTab {
  readonly s: NovemberScenario;
  readonly carla: TabPage;
}

/**
 * The tab API on in-memory storage with the November bookings, and Carla's page opened in headless
 * Chromium at `/tab/?page=<page>&month=2026-11` (skipped without Chromium, except on CI).
 */
export function useNovemberInTab(page: string): NovemberInTab {
  let http: TabApiServer | undefined;
  let carla: TabPage | undefined;
  let scenario: NovemberScenario | undefined;
  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      this.skip();
    }
    const key = await signingKey();
    const storage = createInMemoryStorage(new FakeClock());
    await onboardSandboxClients(storage);
    const useCases = {
      ...storage,
      templates: storage.catalogue(MSP.tenantId),
      mspTenantId: MSP.tenantId,
    };
    const contoso = (await storage.clients.get(CONTOSO.tenantId))?.profile;
    const fabrikam = (await storage.clients.get(FABRIKAM.tenantId))?.profile;
    assert.ok(contoso && fabrikam);
    scenario = await bookNovember(useCases, { contoso, fabrikam });
    const who: Record<string, Person> = { carla: asPerson(CONTOSO.carla) };
    http = await startTabApi({
      surface: {
        useCases,
        sandboxSignIn: {
          people: [
            { key: 'carla', name: CONTOSO.carla.name, description: 'Client admin — Contoso' },
          ],
          issue: (person) =>
            mintTabToken(who[person]!, {
              key,
              now: Math.floor(storage.clock.now().getTime() / 1000),
            }),
        },
      },
      key,
      now: () => storage.clock.now(),
    });
    carla = await TabPage.open(`${http.url}/tab/?page=${page}&month=2026-11`, {
      name: `tab-${page}`,
    });
  });
  after(async () => {
    await carla?.close();
    await http?.close();
  });
  return {
    get s() {
      return scenario!;
    },
    get carla() {
      return carla!;
    },
  };
}
