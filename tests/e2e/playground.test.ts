import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTableStorage, type TableStorage } from '../../src/adapters/storage/table-storage';
import { loadConfig } from '../../src/config';
import { startCabinet } from '../../src/main';
import { freePort, startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import {
  PLAYGROUND_PERSONAS,
  startPlayground,
  type RunningPlayground,
} from '../../src/sandbox/playground';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { sendToApprovers, useCasesOn } from '../support/approval-flow';
import { PlaygroundPage, chromiumAvailable, CHROMIUM_PATH } from '../support/playground-ui';

/**
 * Cabinet as people use it: two Agents Playground instances (Carla, Contoso's admin, and Andy, its approver)
 * in headless Chromium, talking to the real bot over HTTP, with storage in Azurite.
 */
describe('Cabinet in the Agents Playground', function () {
  this.timeout(180_000);
  let dataDir: string | undefined;
  let azurite: RunningAzurite | undefined;
  let cabinet: RunningCabinet | undefined;
  let storage: TableStorage;
  const playgrounds: RunningPlayground[] = [];
  let carla: PlaygroundPage;
  let andy: PlaygroundPage;

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs it with apt-get.`);
      this.skip();
    }
    dataDir = mkdtempSync(join(tmpdir(), 'cabinet-e2e-playground-'));
    azurite = await startAzurite();
    const config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_PLAYGROUNDS: 'off',
      CABINET_TABLE_PREFIX: `pg${randomUUID().replace(/-/g, '').slice(0, 10)}`,
      CABINET_RELAY_INTERVAL_MS: '200',
      CABINET_DATA_DIR: dataDir,
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    storage = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: config.storage.tablePrefix,
    });
    const botEndpoint = `${cabinet.url}/api/messages`;
    for (const persona of [PLAYGROUND_PERSONAS.carla, PLAYGROUND_PERSONAS.andy]) {
      playgrounds.push(
        await startPlayground({ persona, port: await freePort(), botEndpoint, dataDir }),
      );
    }
    const [carlaPlayground, andyPlayground] = playgrounds;
    [carla, andy] = await Promise.all([
      PlaygroundPage.open(carlaPlayground!.url, { name: 'carla' }),
      PlaygroundPage.open(andyPlayground!.url, { name: 'andy' }),
    ]);
    await Promise.all([carla.openPersonalChat(), andy.openPersonalChat()]);
    await Promise.all([
      carla.waitForCardText('Welcome to Cabinet'),
      andy.waitForCardText('Welcome to Cabinet'),
    ]);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    const step = `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}`;
    await Promise.allSettled([carla?.screenshot(step), andy?.screenshot(step)]);
  });

  after(async () => {
    await Promise.allSettled([carla?.close(), andy?.close()]);
    await Promise.allSettled(playgrounds.map((p) => p.stop()));
    await cabinet?.stop();
    await azurite?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers help with a card about Cabinet', async () => {
    await carla.waitForNewCard('Welcome to Cabinet', () => carla.sendMessage('help'));
    await carla.screenshot('01-help');
  });

  it('carries a request from Carla to Andy for approval and tells Carla the decision', async () => {
    const title = `Move the office printer ${randomUUID().slice(0, 8)}`;

    await carla.waitForNewCard('What do you need?', () => carla.sendMessage('new'));
    await carla.selectChoice('Type of request', /^General change/);
    await carla.clickCardButton('Next');
    await carla.waitForCardText('What and why');
    await carla.fillCardInput('Title', title);
    await carla.fillCardInput(
      'What and why',
      'The printer moves to the second floor; the print queue must follow it.',
    );
    await carla.screenshot('02-form');
    await carla.clickCardButton('Submit request');
    await carla.waitForCardText([title, 'Triaged']);
    await carla.screenshot('03-submitted');

    // Tina's assessment, through the use cases on Cabinet's tables: the playgrounds here are Carla's and Andy's.
    const raised = (await storage.requests.list(CONTOSO.tenantId)).find((r) => r.title === title);
    assert.ok(raised, 'the request is stored');
    const clock = { now: () => new Date() };
    await andy.waitForNewCard(title, async () => {
      await sendToApprovers(useCasesOn(storage, clock, MSP.tenantId), raised, {
        technician: MSP.tina,
      });
    });
    await andy.waitForCardText([
      title,
      `for ${CONTOSO.name}`,
      'You are voting on step 1 of 1, Client approval',
    ]);
    await andy.screenshot('04-approval-card');

    await carla.waitForNewCard([title, 'Approved by Andy Approver'], async () => {
      await andy.clickCardButton('Approve');
      await andy.waitForCardText([title, 'Approved by Andy Approver']);
      await andy.screenshot('05-approved');
    });
    await carla.screenshot('06-decision');
  });
});
