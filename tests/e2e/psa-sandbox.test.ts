import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { isPsaSyncRow } from '../../src/application/ports/outbox';
import { requestHistory } from '../../src/application/use-cases/browse-requests';
import { loadConfig, type Config } from '../../src/config';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { parseRequestId, type TenantId } from '../../src/domain/shared/ids';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { sandboxGraphConfig, type RunningCabinet } from '../../src/sandbox/launcher';
import type { RunningMicrosoftCloud } from '../../src/sandbox/microsoft-cloud';
import { startSandboxPsas, type RunningSandboxPsas } from '../../src/sandbox/psa/sandbox-psas';
import type { RunningPsaSandbox, SandboxTicket } from '../../src/sandbox/psa/types';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { BotClient, cardText } from '../support/bot-client';
import { useCasesOn } from '../support/bot-itil';
import { asPerson } from '../support/client-settings-fixture';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopback-connector';
import { startTestCloud } from '../support/microsoft-cloud-fixture';

type Person = (typeof MSP)['tina'];

/** Generous: the relay, the PSA's webhook and the poller all run on their own schedules. */
const BUDGET_MS = 30_000;

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const end = Date.now() + BUDGET_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`not within ${BUDGET_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The sandbox composition as `npm start` wires it: Azurite, the three sandbox PSAs, Cabinet seeded
 * with Contoso on HaloPSA and Fabrikam on ConnectWise, the PSAs' webhooks pointed at Cabinet, and
 * people talking to the bot over the Bot Framework protocol.
 */
describe('PSA sync in the sandbox composition, end to end', function () {
  this.timeout(120_000);
  let azurite: RunningAzurite;
  let cloud: RunningMicrosoftCloud;
  let connector: LoopbackConnector;
  let psas: RunningSandboxPsas;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let uc: ReturnType<typeof useCasesOn>;
  const conv = (user: { oid: string }) => `personal-${user.oid}`;

  before(async () => {
    [azurite, cloud, connector, psas] = await Promise.all([
      startAzurite(),
      startTestCloud(),
      startLoopbackConnector(),
      startSandboxPsas(),
    ]);
    const base = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `psae${randomUUID().slice(0, 8)}`,
      CABINET_RELAY_INTERVAL_MS: '100',
    });
    const config: Config = {
      ...base,
      graph: sandboxGraphConfig(cloud),
      psa: psas.connections(base.psa.pollIntervalMs),
    };
    cabinet = await startCabinet(config, { log: () => undefined, sandbox: { cloud, psas } });
    bot = new BotClient(cabinet.url, connector.url);
    uc = useCasesOn(azurite.connectionString, config.storage.tablePrefix, config.mspTenantId);
    for (const user of [CONTOSO.carla, FABRIKAM.fiona, MSP.tina, MSP.theo])
      assert.equal(await bot.install(user), 200);
  });

  after(async () => {
    await cabinet?.stop();
    await Promise.all([connector?.close(), psas?.stop(), cloud?.stop(), azurite?.stop()]);
  });

  async function stored(tenantId: TenantId, requestId: string): Promise<ChangeRequest> {
    const found = await uc.requests.get(tenantId, parseRequestId(requestId)!.id);
    assert.ok(found, `request ${requestId} stored`);
    return found.request;
  }

  /** The request's timeline as the tab shows it (the browse use case behind `/api/tab/requests/…`). */
  async function timeline(viewer: Person, requestId: string) {
    const history = await requestHistory(uc, { actor: asPerson(viewer), requestId });
    assert.ok(history.ok, history.ok ? '' : history.error.message);
    return history.value.timeline;
  }

  const ticketsOf = (psa: RunningPsaSandbox, company: string): SandboxTicket[] =>
    psa.tickets().filter((t) => t.company === company);

  /** Raises a general request by the client admin over the bot; returns its id. */
  async function raise(requester: Person, title: string): Promise<string> {
    const submitted = await bot.invoke(requester, CardVerbs.Submit, {
      type: 'general',
      title,
      description: 'Raised in the PSA end-to-end test.',
      affectedSystems: 'Wi-Fi',
    });
    const id = /\b([A-Z]+-\d+)\b/.exec(cardText(submitted.card))?.[1];
    assert.ok(id, cardText(submitted.card));
    return id;
  }

  function flow(c: {
    readonly name: string;
    readonly psa: () => RunningPsaSandbox;
    readonly tenantId: TenantId;
    readonly company: string;
    readonly requester: Person;
    readonly technician: Person;
  }): void {
    it(`${c.name}: ticket opened once, notes both ways exactly once`, async () => {
      const psa = c.psa();
      const requestId = await raise(c.requester, `PSA flow for ${c.name}`);

      // The relay opens exactly one ticket for the client's company, referencing the request.
      const ticket = await until('the ticket is linked on the request', async () => {
        const linked = (await stored(c.tenantId, requestId)).psa?.ticketId;
        return linked === undefined ? undefined : linked;
      });
      const opened = ticketsOf(psa, c.company);
      assert.equal(opened.length, 1, JSON.stringify(opened));
      assert.equal(opened[0]!.id, ticket);
      assert.equal(opened[0]!.externalRef, requestId);
      assert.equal(psa.tickets().length, 1, 'nothing opened for another company');

      // A technician's note in the PSA reaches the request (webhook; the poller must not repeat it).
      const techText = `Checked the access points ${randomUUID()}`;
      await psa.addTechnicianNote(ticket, techText, { author: 'Hal Tech' });
      await until('the PSA note is on the request', async () =>
        (await timeline(c.technician, requestId)).some(
          (e) => e.type === 'psa.note_received' && JSON.stringify(e.personal).includes(techText),
        )
          ? true
          : undefined,
      );
      await until('the technician gets a psa_note card', () =>
        connector.cardsIn(conv(c.technician)).some((card) => cardText(card).includes(techText))
          ? true
          : undefined,
      );

      // Cabinet's own note, added over the bot, reaches the PSA ticket.
      const cabinetText = `Scheduled for Friday ${randomUUID()}`;
      assert.equal(await bot.say(c.technician, `note ${requestId} ${cabinetText}`), 200);
      await until('the Cabinet note is on the PSA ticket', () =>
        psa
          .tickets()
          .find((t) => t.id === ticket)
          ?.notes.some((n) => n.text.includes(cabinetText))
          ? true
          : undefined,
      );
      await until('no PSA work is left for the client', async () => {
        const open = (await uc.outbox.list(c.tenantId, { statuses: ['pending', 'parked'] })).filter(
          isPsaSyncRow,
        );
        assert.deepEqual(
          open.filter((r) => r.status === 'parked').map((r) => r.lastError),
          [],
          'no PSA row parked',
        );
        return open.length === 0 ? true : undefined;
      });

      // Exactly once each way, after everything has settled.
      const notes = psa.tickets().find((t) => t.id === ticket)!.notes;
      assert.equal(notes.filter((n) => n.text.includes(cabinetText)).length, 1);
      assert.equal(notes.filter((n) => n.text.includes(techText)).length, 1);
      const received = (await timeline(c.technician, requestId)).filter(
        (e) => e.type === 'psa.note_received',
      );
      assert.equal(received.filter((e) => JSON.stringify(e.personal).includes(techText)).length, 1);
      assert.equal(
        received.filter((e) => JSON.stringify(e.personal).includes(cabinetText)).length,
        0,
        'Cabinet’s own note is not taken back in (no echo)',
      );
      assert.equal(
        connector.cardsIn(conv(c.technician)).filter((card) => cardText(card).includes(techText))
          .length,
        1,
      );
      assert.equal(ticketsOf(psa, c.company).length, 1);
    });
  }

  flow({
    name: 'Contoso on HaloPSA',
    psa: () => psas.halopsa,
    tenantId: CONTOSO.tenantId,
    company: '12',
    requester: CONTOSO.carla,
    technician: MSP.tina,
  });

  flow({
    name: 'Fabrikam on ConnectWise',
    psa: () => psas.connectwise,
    tenantId: FABRIKAM.tenantId,
    company: 'FABRIKAM',
    requester: FABRIKAM.fiona,
    technician: MSP.theo,
  });
});
