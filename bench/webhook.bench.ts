/**
 * Webhook intake benchmark (`npm run bench -- --only webhook`): signed `POST /api/webhooks/<key>`
 * deliveries taken in by Cabinet's own HTTP server (`startHttpServer` with `webhookRoute`, keys
 * from the table key store, rate limits raised out of the way) on Azurite, as accepted deliveries
 * per second, divided by the physical floor measured in the same run: change requests created
 * straight through the request store (`requests.create`: the number, the request, its audit entry,
 * one transaction), the least any intake must write. Both keep {@link IN_FLIGHT} going at once into
 * one client, each into a storage of its own, so both start from an empty partition.
 * @remarks On top of the floor an accepted delivery costs the HTTP round trip, resolving the key
 * (unsealing its secrets), the HMAC, schema validation, the client's settings and the delivery
 * receipt, `webhook.accepted` entry and technicians' notifications in the same transaction. About
 * one more read-and-write's worth of storage work per request, hence the target ≥
 * {@link TARGET_RATIO}. Nothing is asserted beyond every delivery being accepted once.
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { createTableStorage, type TableStorage } from '../src/adapters/storage/table-storage';
import type { RunningAzurite } from '../src/sandbox/azurite';
import { CONTOSO, MSP } from '../src/sandbox/sandbox-tenants';
import { startHttpServer } from '../src/surfaces/http/server';
import { signWebhook, webhookRoute } from '../src/surfaces/http/webhook.route';
import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import { onboardSandboxClients } from '../tests/support/client-settings-fixture';
import { submitted, validFields } from '../tests/support/fixtures';

const IN_FLIGHT = 16;
const TARGET_RATIO = 0.5;

const format = (n: number) => Math.round(n).toLocaleString('en-US');

export interface WebhookBenchOptions {
  readonly azurite: RunningAzurite;
  /** Deliveries sent, and requests created for the floor. */
  readonly deliveries?: number;
}

/** Runs `work(i)` for i in [0, total), {@link IN_FLIGHT} at a time; returns the rate per second. */
async function rate(total: number, work: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const loop = async () => {
    while (next < total) await work(next++);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, total) }, loop));
  return total / ((performance.now() - started) / 1000);
}

async function newStorage(azurite: RunningAzurite): Promise<TableStorage> {
  const storage = createTableStorage({
    connectionString: azurite.connectionString,
    tablePrefix: `benchwh${randomBytes(3).toString('hex')}`,
  });
  await storage.ensureTables();
  await onboardSandboxClients(storage);
  return storage;
}

export async function runWebhookBench(options: WebhookBenchOptions): Promise<void> {
  const total = options.deliveries ?? 500;
  const floorStorage = await newStorage(options.azurite);
  const storage = await newStorage(options.azurite);
  const clock = { now: () => new Date() };
  const { key, issued } = await storage.webhookKeys.create(CONTOSO.tenantId, clock.now(), {
    tid: MSP.tenantId,
    oid: 'cabinet-bench',
  });
  const secret = issued.secret.reveal();
  const server = await startHttpServer(
    {
      // Only the webhook route is exercised; no bot traffic reaches these.
      bot: {} as Application<TurnState>,
      adapter: {} as TeamsAdapter,
      readiness: () => Promise.resolve(),
      allowServiceUrl: () => false,
      log: () => undefined,
      rawRoutes: [
        webhookRoute({
          intake: {
            requests: storage.requests,
            audit: storage.audit,
            clients: storage.clients,
            conversations: storage.conversations,
            delegations: storage.delegations,
            templates: storage.catalogue(MSP.tenantId),
            clock,
            mspTenantId: MSP.tenantId,
            ledger: storage.webhookLedger,
          },
          keys: storage.webhookKeys,
          perIp: { burst: 1_000_000, perSecond: 1_000_000 },
          perClient: { burst: 1_000_000, perSecond: 1_000_000 },
        }),
      ],
    },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const floor = await rate(total, async () => {
      await floorStorage.requests.create(CONTOSO.tenantId, (number) => {
        const { request, audit } = submitted({ number });
        return { request, audit: [audit], outbox: [] };
      });
    });

    const body = Buffer.from(
      JSON.stringify({
        type: 'general',
        fields: validFields('general'),
        submittedBy: { name: 'Pat Public' },
      }),
    );
    const run = randomBytes(4).toString('hex');
    const accepted = await rate(total, async (i) => {
      const deliveryId = `bench-${run}-${i}`;
      const t = Math.floor(Date.now() / 1000);
      const res = await fetch(`${server.url}/api/webhooks/${key.clientKey}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-cabinet-delivery': deliveryId,
          'x-cabinet-signature': `t=${t},kid=${issued.kid},v1=${signWebhook(secret, t, deliveryId, body)}`,
        },
        body,
      });
      if (res.status !== 202)
        throw new Error(`Delivery ${deliveryId} answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    });

    const stored = await storage.requests.list(CONTOSO.tenantId, { limit: total + 1 });
    if (stored.length !== total)
      throw new Error(`${total} deliveries were accepted but ${stored.length} requests stored.`);
    console.log(
      `webhook intake (${format(total)} signed deliveries, ${IN_FLIGHT} in flight, one client): ${format(accepted)} accepted/s  ÷ raw requests.create ${format(floor)}/s = ${(accepted / floor).toFixed(2)} (target ≥ ${TARGET_RATIO})`,
    );
  } finally {
    await server.close();
  }
}
