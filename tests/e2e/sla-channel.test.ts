import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import type { Clock } from '../../src/application/ports/clock';
import type { OutboxRow } from '../../src/application/ports/outbox';
import type { OutboxStore } from '../../src/application/ports/outbox';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import type { AuditEntry } from '../../src/domain/audit/audit-chain';
import { SlaSweeper, sweepSla } from '../../src/application/use-cases/sla-sweeper';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { loadConfig } from '../../src/config';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { BotClient, cardText, type ChannelUser } from '../support/bot-client';
import { useCasesOn } from '../support/bot-itil';
import { validFields } from '../support/fixtures';
import {
  startLoopbackConnector,
  type ConnectorCall,
  type LoopbackConnector,
} from '../support/loopback-connector';

/** A clock the test moves forward, shared by both instances and the test's own sweepers. */
class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const MINUTE = 60_000;
const SLA_CHANNEL = '19:service-desk-sla@thread.tacv2';
const OTHER_CHANNEL = '19:general@thread.tacv2';

/**
 * Two Cabinet instances on one Azurite: the SLA channel is bound over the Bot Framework protocol,
 * sweepers on several instances race, and the channel gets one post per request that is edited
 * in place for each later threshold (issue 5).
 */
describe('SLA channel: two instances, one post per threshold per request', function () {
  this.timeout(90_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  const cabinets: RunningCabinet[] = [];
  let bot: BotClient;
  let uc: UseCaseDeps & { readonly outbox: OutboxStore };
  let prefix: string;
  const clock = new ShiftedClock();
  const requests: ChangeRequest[] = [];
  const logs: string[] = [];
  const { lena, tina } = MSP;

  /** A message typed in a team's channel, as Teams sends it (the bot @mentioned). */
  async function sayInChannel(user: ChannelUser, channelId: string, text: string) {
    const res = await bot.post({
      id: randomUUID(),
      type: 'message',
      channelId: 'msteams',
      serviceUrl: connector.url,
      timestamp: new Date().toISOString(),
      from: { id: `29:${user.oid}`, name: user.name, aadObjectId: user.oid },
      recipient: { id: '28:cabinet-sandbox-bot', name: 'Cabinet' },
      conversation: {
        id: channelId,
        conversationType: 'channel',
        isGroup: true,
        tenantId: user.tid,
      },
      channelData: {
        tenant: { id: user.tid },
        team: { id: '19:team-service-desk@thread.tacv2' },
        channel: { id: channelId, name: 'SLA alerts' },
      },
      text: `<at>Cabinet</at> ${text}`,
      entities: [
        {
          type: 'mention',
          text: '<at>Cabinet</at>',
          mentioned: { id: '28:cabinet-sandbox-bot', name: 'Cabinet' },
        },
      ],
    });
    assert.equal(res.status, 200);
  }

  /** Says `text` and returns the text of the card that answers it in that conversation. */
  async function answerTo(send: () => Promise<unknown>, conversationId: string): Promise<string> {
    const before = connector.cardsIn(conversationId).length;
    await send();
    await connector.waitFor(() => connector.cardsIn(conversationId).length > before);
    return cardText(connector.cardsIn(conversationId).at(-1));
  }

  /** The SLA cards for a request in the channel: created (POST) and edited in place (PUT). */
  function slaCalls(requestId: string): { posts: ConnectorCall[]; edits: ConnectorCall[] } {
    const mine = connector.calls.filter(
      (c) =>
        c.conversationId === SLA_CHANNEL &&
        c.body?.type === 'message' &&
        (c.body.attachments ?? []).some((a) => {
          const text = cardText(a.content);
          return text.includes(`SLA`) && text.includes(requestId);
        }),
    );
    return {
      posts: mine.filter((c) => c.method === 'POST'),
      edits: mine.filter((c) => c.method === 'PUT'),
    };
  }

  async function chain(tenantId: string): Promise<AuditEntry[]> {
    return (await uc.audit.read(tenantId as typeof CONTOSO.tenantId)).map(
      (e) => JSON.parse(e.canonical) as AuditEntry,
    );
  }

  async function channelRows(tenantId = CONTOSO.tenantId): Promise<OutboxRow[]> {
    return (await uc.outbox.list(tenantId)).filter((r) => r.message.kind === 'teams.channel');
  }

  async function waitUntil(check: () => Promise<boolean> | boolean, what: string) {
    const end = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sweepers of two more instances, each on its own storage handle, racing for the lease. */
  function sweeperPair(): SlaSweeper[] {
    return ['instance-a', 'instance-b'].map((holder) => {
      const storage = createTableStorage({
        connectionString: azurite.connectionString,
        tablePrefix: prefix,
        clock,
      });
      return new SlaSweeper(
        {
          requests: storage.requests,
          clients: storage.clients,
          openRequests: storage.openRequests,
          lease: storage.leases,
          clock,
        },
        { holder, leaseTtlMs: 60_000 },
      );
    });
  }

  /** Both instances sweep at once, ignoring the lease (as when it lapses mid-pass). */
  async function leaselessRace(): Promise<number> {
    const results = await Promise.all(
      [0, 1].map(() => {
        const storage = createTableStorage({
          connectionString: azurite.connectionString,
          tablePrefix: prefix,
          clock,
        });
        return sweepSla({
          requests: storage.requests,
          clients: storage.clients,
          openRequests: storage.openRequests,
          clock,
        });
      }),
    );
    return results.reduce((n, r) => n + r.alerts, 0);
  }

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    prefix = `slach${randomUUID().slice(0, 8)}`;
    const config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: prefix,
      CABINET_RELAY_INTERVAL_MS: '200',
    });
    for (let i = 0; i < 2; i += 1)
      cabinets.push(await startCabinet(config, { clock, log: (line) => logs.push(line) }));
    bot = new BotClient(cabinets[0]!.url, connector.url);
    uc = { ...useCasesOn(azurite.connectionString, prefix, config.mspTenantId), clock };
    for (const title of ['Mail is down for the finance team', 'VPN drops every hour']) {
      const submitted = await submitChange(uc, {
        actor: { ...CONTOSO.carla, name: CONTOSO.carla.name },
        type: 'incident',
        fields: validFields('incident', { title, startedAt: '2026-11-01T08:30' }),
      });
      assert.ok(submitted.ok, submitted.ok ? '' : submitted.error.message);
      requests.push(submitted.value.request);
    }
    const storage = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: prefix,
    });
    await waitUntil(async () => {
      const open = await storage.openRequests.list({ tenantIds: [CONTOSO.tenantId] });
      return requests.every((r) => open.some((e) => e.requestId === r.id));
    }, 'the open-request index to list the new incidents');
  });

  after(async () => {
    for (const cabinet of cabinets) await cabinet.stop();
    await connector?.close();
    await azurite?.stop();
  });

  it('refuses bind sla channel from a technician in a channel and from a lead in a personal chat', async () => {
    const fromTech = await answerTo(
      () => sayInChannel(tina, OTHER_CHANNEL, 'bind sla channel'),
      OTHER_CHANNEL,
    );
    assert.match(fromTech, /didn't bind this channel/);
    assert.match(fromTech, /Only an MSP lead can choose the SLA channel/);
    assert.match(fromTech, /SLA\.LEAD_ONLY/);
    const personal = bot.conversationId(lena);
    const fromChat = await answerTo(() => bot.say(lena, 'bind sla channel'), personal);
    assert.match(fromChat, /must be a channel of a team/);
    assert.match(fromChat, /SLA\.CHANNEL_ONLY/);
    const mspChain = await chain(MSP.tenantId);
    assert.ok(!mspChain.some((e) => e.type === 'sla.channel_bound'));
  });

  it('holds an alert while no channel is bound, and says so in the log', async () => {
    clock.offsetMs = 13 * MINUTE;
    const [a, b] = sweeperPair();
    const swept = await Promise.all([a!.sweepOnce(), b!.sweepOnce()]);
    assert.equal(swept.filter((s) => s !== undefined).length, 1, 'one instance holds the lease');
    await Promise.all([a!.stop(), b!.stop()]);
    await waitUntil(
      async () =>
        (await channelRows()).filter((r) => r.status === 'waiting_for_recipient').length === 2,
      'both alerts to wait for a channel',
    );
    assert.ok(
      logs.some((l) => /no SLA channel is bound; an MSP lead types "bind sla channel"/.test(l)),
    );
    assert.equal(connector.calls.filter((c) => c.conversationId === SLA_CHANNEL).length, 0);
  });

  it('binds the channel for a lead, audited in the MSP chain, and delivers what waited', async () => {
    const answer = await answerTo(
      () => sayInChannel(lena, SLA_CHANNEL, 'bind sla channel'),
      SLA_CHANNEL,
    );
    assert.match(answer, /This is the SLA channel/);
    const bound = (await chain(MSP.tenantId)).filter((e) => e.type === 'sla.channel_bound');
    assert.equal(bound.length, 1);
    assert.equal(bound[0]!.actor.oid, lena.oid);
    await waitUntil(
      () => requests.every((r) => slaCalls(r.id).posts.length === 1),
      'one post per request in the channel',
    );
    for (const r of requests) {
      const card = cardText(slaCalls(r.id).posts[0]!.body!.attachments![0]!.content);
      assert.match(card, new RegExp(`SLA at risk: ${r.id} · Contoso`));
      assert.match(card, /Technician\nNobody yet/);
      assert.match(card, /Acknowledge\nat risk: due in (\d+ min|under a minute)/);
      assert.match(card, /Open/);
    }
  });

  it('records each later threshold once however many instances sweep, and edits the post in place', async () => {
    // The clock moves only once every alert is delivered: a jump past a claim's lease mid-delivery
    // would let a second instance deliver it again (an idempotent edit, but not what is counted here).
    const delivered = () =>
      waitUntil(
        async () => (await channelRows()).every((r) => r.status === 'done'),
        'every channel row delivered',
      );
    clock.offsetMs = 16 * MINUTE;
    assert.equal(await leaselessRace(), 2, 'one acknowledge.breached per request, recorded once');
    await delivered();
    clock.offsetMs = 250 * MINUTE;
    assert.equal(
      await leaselessRace(),
      4,
      'resolve.at_risk and resolve.breached per request, once',
    );
    assert.equal(await leaselessRace(), 0, 'nothing new to record');
    const [a, b] = sweeperPair();
    const swept = await Promise.all([a!.sweepOnce(), b!.sweepOnce()]);
    await Promise.all([a!.stop(), b!.stop()]);
    assert.deepEqual(
      swept.filter((r) => r !== undefined).map((r) => r.alerts),
      [0],
      'the lease holder finds nothing new; the other does not sweep',
    );
    await delivered();
    await waitUntil(
      () => requests.every((r) => slaCalls(r.id).edits.length >= 2),
      'two edits per request',
    );
    for (const r of requests) {
      const rows = (await channelRows()).filter(
        (row) =>
          row.message.kind === 'teams.channel' && row.message.notification.requestId === r.id,
      );
      assert.equal(rows.length, 3, `three alerts recorded for ${r.id}`);
      const { posts, edits } = slaCalls(r.id);
      assert.equal(posts.length, 1, `one post for ${r.id}`);
      assert.equal(edits.length, 2, `two edits in place for ${r.id}`);
      const edited = new Set(edits.map((e) => /\/activities\/([^/]+)$/.exec(e.path)?.[1]));
      assert.equal(edited.size, 1, `every edit for ${r.id} is of its one post`);
      const last = cardText(edits.at(-1)!.body!.attachments![0]!.content);
      assert.match(last, new RegExp(`SLA breached: ${r.id}`));
      assert.match(last, /Acknowledge\nbreached: 3 h 5\d min late/);
      assert.match(last, /Resolve\nbreached: \d+ min late/);
      const stored = await uc.requests.get(CONTOSO.tenantId, r.id);
      assert.deepEqual(stored?.request.slaPosted, [
        'acknowledge.at_risk',
        'acknowledge.breached',
        'resolve.at_risk',
        'resolve.breached',
      ]);
      assert.equal(stored?.request.version, r.version, 'alerts are not a version bump');
      const entries = (await chain(CONTOSO.tenantId)).filter((e) => e.requestId === r.id);
      assert.deepEqual(
        entries.filter((e) => e.type.startsWith('sla.')).map((e) => e.type),
        ['sla.at_risk', 'sla.breached', 'sla.at_risk', 'sla.breached'],
      );
    }
  });
});
