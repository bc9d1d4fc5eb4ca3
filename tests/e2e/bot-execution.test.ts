import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { parseRequestId } from '../../src/domain/shared/ids';
import { startCabinet } from '../../src/main';
import { sandboxGraphConfig, type RunningCabinet } from '../../src/sandbox/launcher';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningMicrosoftCloud } from '../../src/sandbox/microsoft-cloud';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { sendToApprovers, takeChangesAnyTime, useCasesOn } from '../support/approval-flow';
import { BotClient, cardActions, cardText } from '../support/bot-client';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopback-connector';
import { startTestCloud } from '../support/microsoft-cloud-fixture';

const NEW_USER = {
  type: 'new_user',
  title: 'New starter: Nora North',
  description: 'Nora joins Sales on Monday and needs an account.',
  givenName: 'Nora',
  surname: 'North',
  displayName: 'Nora North',
  userPrincipalName: 'nora.north@contoso.example',
  usageLocation: 'GB',
  startDate: '2030-01-06',
  licenceSkus: 'SPB',
  groups: 'All Staff, Sales Team',
};

/** The whole sandbox stack as `npm start` wires it, with the bot driven over the Bot Framework protocol. */
describe('Executing a change from Teams, end to end', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let cloud: RunningMicrosoftCloud;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let useCases: UseCaseDeps;
  const { carla, andy } = CONTOSO;
  const { tina } = MSP;
  const conv = (user: { oid: string }) => `personal-${user.oid}`;
  const waitForCard = async (user: { oid: string }, text: string) => {
    await connector.waitFor(() =>
      connector.cardsIn(conv(user)).some((c) => cardText(c).includes(text)),
    );
    return connector
      .cardsIn(conv(user))
      .filter((c) => cardText(c).includes(text))
      .at(-1)!;
  };

  before(async () => {
    [azurite, cloud, connector] = await Promise.all([
      startAzurite(),
      startTestCloud(),
      startLoopbackConnector(),
    ]);
    const base = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `exe${randomUUID().slice(0, 8)}`,
      CABINET_RELAY_INTERVAL_MS: '100',
    });
    const config: Config = {
      ...base,
      graph: sandboxGraphConfig(cloud),
    };
    cabinet = await startCabinet(config, { log: () => undefined, sandbox: { cloud } });
    bot = new BotClient(cabinet.url, connector.url);
    const clock = { now: () => new Date() };
    const storage = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: config.storage.tablePrefix,
      clock,
    });
    useCases = useCasesOn(storage, clock, MSP.tenantId);
    // Executing now, not on the sandbox's Thursday evening: the tab's sign-in is checked against real time.
    await takeChangesAnyTime(useCases, CONTOSO.tenantId);
  });

  after(async () => {
    await cabinet?.stop();
    await Promise.all([connector?.close(), cloud?.stop(), azurite?.stop()]);
  });

  /** What the tab does: a sandbox sign-in token, then the JSON API with it. */
  async function asTechnician(): Promise<(path: string, body?: unknown) => Promise<Response>> {
    const signIn = await fetch(`${cabinet.url}/api/tab/sandbox/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ person: 'tina' }),
    });
    const { token } = (await signIn.json()) as { token: string };
    return (path, body) =>
      fetch(`${cabinet.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
  }

  it('raises and approves a new user in Teams, executes it from the tab, and reveals the password once', async () => {
    for (const user of [carla, andy, tina]) assert.equal(await bot.install(user), 200);
    const submitted = await bot.invoke(carla, CardVerbs.Submit, NEW_USER);
    assert.match(cardText(submitted.card), /CONTOSO-1/);
    // Tina's assessment, through the use cases on Cabinet's tables: its surfaces are not under test here.
    await sendToApprovers(
      useCases,
      { id: parseRequestId('CONTOSO-1')!.id, tenantId: CONTOSO.tenantId },
      { technician: tina },
    );
    const approval = await waitForCard(andy, 'New starter: Nora North');
    const approve = cardActions(approval).find((a) => a.title === 'Approve')!;
    await bot.invoke(andy, approve.verb, approve.data);

    const ready = await waitForCard(tina, 'ready to execute');
    const wizard = (ready['actions'] as { type: string; title: string; url?: string }[]).find(
      (a) => a.title === 'Open wizard',
    );
    assert.equal(wizard?.type, 'Action.OpenUrl');
    assert.equal(wizard?.url, `${cabinet.url}/tab/?request=CONTOSO-1`);

    const api = await asTechnician();
    const preview = await api('/api/tab/requests/CONTOSO-1/preview', { options: {} });
    assert.equal(preview.status, 200, await preview.clone().text());
    const { digest, version } = (await preview.json()) as { digest: string; version: number };
    const started = await api('/api/tab/requests/CONTOSO-1/runs', {
      version,
      previewDigest: digest,
    });
    assert.equal(started.status, 202, await started.clone().text());
    const { run } = (await started.json()) as { run: { id: string } };

    const done = await waitForCard(carla, 'Implemented');
    const reveal = cardActions(done).find((a) => a.verb === CardVerbs.RevealPassword);
    assert.ok(reveal, 'the requester is offered the temporary password');
    assert.equal(reveal.data['runId'], run.id);

    const created = cloud.tenant(CONTOSO.tenantId).user(NEW_USER.userPrincipalName);
    assert.ok(created, 'the account exists in the client tenant');

    const byApprover = await bot.invoke(andy, reveal.verb, reveal.data);
    assert.doesNotMatch(cardText(byApprover.card), /Temporary password \(shown once\)/);

    const shown = await bot.invoke(carla, reveal.verb, reveal.data);
    const text = cardText(shown.card);
    assert.match(text, /Temporary password \(shown once\)/);
    assert.match(text, /nora\.north@contoso\.example/);
    const password = text.split('\n').at(-1)!;
    assert.match(password, /^\S{16}$/);

    const again = await bot.invoke(carla, reveal.verb, reveal.data);
    assert.doesNotMatch(cardText(again.card), /Temporary password \(shown once\)/);
    assert.ok(!cardText(again.card).includes(password));
    // Proactive sends are all the connector records: invoke responses never pass through it.
    assert.ok(
      !JSON.stringify(connector.calls.map((c) => c.body)).includes(password),
      'no proactive card carries the password',
    );
  });
});
