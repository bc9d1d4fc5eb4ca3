import { strict as assert } from 'node:assert';
import type { ChannelBinding, ChannelStore } from '../../src/application/ports/channel-store';
import type { Clock } from '../../src/application/ports/clock';
import { openRequestEntry } from '../../src/application/ports/open-request-index';
import type { OutboxRow, OutboxStore } from '../../src/application/ports/outbox';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import { sweepSla } from '../../src/application/use-cases/sla-sweeper';
import { submitChange } from '../../src/application/use-cases/submit-change';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { asObjectId, type TenantId } from '../../src/domain/shared/ids';
import { createBotAdapter } from '../../src/surfaces/bot/bot-adapter';
import { TeamsNotifier } from '../../src/surfaces/bot/teams-notifier';
import { useAzurite } from '../support/azurite-fixture';
import { cardText } from '../support/bot-client';
import {
  CONTOSO_TENANT_ID,
  MSP_TENANT_ID,
  contosoProfile,
  people,
  validFields,
} from '../support/fixtures';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopback-connector';

const MINUTE = 60_000;
const CHANNEL = '19:sla@thread.tacv2';

class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** Fails the first `times` calls of `method`, as a process dying at that point would leave things. */
function crashing<T extends object>(target: T, method: keyof T, times = 1): T {
  let left = times;
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (prop !== method || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (left > 0) {
          left -= 1;
          return Promise.reject(new Error('instance crashed'));
        }
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
}

/**
 * The SLA channel's dedupe across a crash: the alert row is recorded before anything is sent and the
 * post's id after, so a crash between the two repeats at most that one post (issue 5).
 */
describe('SLA channel posts across a crash', function () {
  this.timeout(60_000);
  const azurite = useAzurite();
  let connector: LoopbackConnector;
  const clock = new ShiftedClock();

  before(async () => {
    connector = await startLoopbackConnector();
  });
  after(async () => {
    await connector.close();
  });

  /** A fresh Contoso with one incident, a bound SLA channel, and a relay whose stores may crash. */
  async function scene(crash: { channels?: keyof ChannelStore; outbox?: keyof OutboxStore }) {
    clock.offsetMs = 0;
    const storage = await azurite.newStorage({ clock });
    await storage.clients.create(contosoProfile(), []);
    const uc = {
      requests: storage.requests,
      audit: storage.audit,
      clients: storage.clients,
      conversations: storage.conversations,
      delegations: storage.delegations,
      templates: storage.catalogue(MSP_TENANT_ID),
      clock,
      mspTenantId: MSP_TENANT_ID,
    };
    const submitted = await submitChange(uc, {
      actor: people.carla,
      type: 'incident',
      fields: validFields('incident', { startedAt: '2026-11-01T08:30' }),
    });
    assert.ok(submitted.ok);
    const request: ChangeRequest = submitted.value.request;
    const binding: ChannelBinding = {
      purpose: 'sla',
      conversationId: CHANNEL,
      reference: {
        channelId: 'msteams',
        serviceUrl: connector.url,
        conversation: { id: CHANNEL, conversationType: 'channel', isGroup: true },
        bot: { id: '28:cabinet-sandbox-bot', name: 'Cabinet' },
      },
      boundBy: { tid: MSP_TENANT_ID, oid: asObjectId(people.lena.oid)! },
      boundAt: clock.now().toISOString(),
    };
    await storage.channels.bind(binding);
    const channels = crash.channels ? crashing(storage.channels, crash.channels) : storage.channels;
    const outbox = crash.outbox ? crashing(storage.outbox, crash.outbox) : storage.outbox;
    const relay = new OutboxRelay(
      {
        outbox,
        notifier: new TeamsNotifier({
          adapter: createBotAdapter(undefined),
          appId: '',
          conversations: storage.conversations,
          requests: storage.requests,
          clients: storage.clients,
          delegations: storage.delegations,
          clock,
          channels,
        }),
        clients: storage.clients,
        clock,
      },
      { baseDelayMs: 1, maxDelayMs: 1, random: () => 0 },
    );
    const sweep = async () => {
      const stored = await storage.requests.get(CONTOSO_TENANT_ID, request.id);
      return sweepSla({
        requests: storage.requests,
        clients: storage.clients,
        openRequests: { list: () => Promise.resolve([openRequestEntry(stored!.request)!]) },
        clock,
      });
    };
    /** Delivers until every SLA row is done (the relay retries what a crash left). */
    const deliverAll = async (tenantId: TenantId = CONTOSO_TENANT_ID) => {
      for (let pass = 0; pass < 50; pass += 1) {
        await relay.deliverDue(tenantId);
        const rows: OutboxRow[] = (await storage.outbox.list(tenantId)).filter(
          (r) => r.message.kind === 'teams.channel',
        );
        if (rows.every((r) => r.status === 'done')) return rows;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('SLA rows were not all delivered');
    };
    const calls = () =>
      connector.calls.filter(
        (c) =>
          c.conversationId === CHANNEL &&
          (c.body?.attachments ?? []).some((a) => cardText(a.content).includes(request.id)),
      );
    const before = connector.calls.length;
    return {
      request,
      sweep,
      deliverAll,
      posts: () =>
        calls().filter((c) => c.method === 'POST' && connector.calls.indexOf(c) >= before),
      edits: () =>
        calls().filter((c) => c.method === 'PUT' && connector.calls.indexOf(c) >= before),
    };
  }

  it('repeats the one post when the instance dies after posting and before recording its id, then edits', async () => {
    const s = await scene({ channels: 'saveCardActivity' });
    clock.offsetMs = 13 * MINUTE;
    assert.equal((await s.sweep()).alerts, 1);
    await s.deliverAll();
    assert.equal(s.posts().length, 2, 'the post is repeated once, never more');
    clock.offsetMs = 16 * MINUTE;
    assert.equal((await s.sweep()).alerts, 1);
    await s.deliverAll();
    assert.equal(s.posts().length, 2, 'a later alert does not post again');
    assert.equal(s.edits().length, 1, 'it edits the post whose id was recorded');
  });

  it('edits rather than re-posts when the instance dies after recording the id and before settling the row', async () => {
    const s = await scene({ outbox: 'complete' });
    clock.offsetMs = 13 * MINUTE;
    assert.equal((await s.sweep()).alerts, 1);
    await s.deliverAll();
    assert.equal(s.posts().length, 1);
    assert.equal(s.edits().length, 1, 'the redelivery edits the post in place');
  });

  it('records a threshold once: the next sweep finds it posted, and the channel gets one post', async () => {
    const s = await scene({});
    clock.offsetMs = 13 * MINUTE;
    assert.equal((await s.sweep()).alerts, 1);
    assert.equal((await s.sweep()).alerts, 0);
    await s.deliverAll();
    assert.equal(s.posts().length, 1);
    assert.equal(s.edits().length, 0);
  });
});
