/**
 * Webhook intake benchmark (`npm run bench -- --only webhook`): signed `POST /api/webhooks/<key>`
 * deliveries taken in by Cabinet's own HTTP server (`startHttpServer` with `webhookRoute`, keys
 * from the table key store, rate limits raised out of the way) on Azurite, as accepted deliveries
 * per second, divided by the physical floor measured in the same run: change requests created
 * straight through the request store (`requests.create`: the number, the request, its audit entry,
 * one transaction), the least any intake must write. Both go into one client, each into a storage
 * of its own, so both start from an empty partition; each pace is measured one at a time and 16 at
 * once ({@link IN_FLIGHT}), a line each.
 * @remarks On top of the floor an accepted delivery costs the HTTP round trip, the HMAC, schema
 * validation and four reads (the key behind the URL, the delivery ledger, the client's settings,
 * its templates), and its one transaction is larger (receipt, `webhook.accepted` entry,
 * technicians' notifications). A point read on Azurite costs well under half a create, so the
 * intake should keep at least half the floor's pace: target ≥ {@link TARGET_RATIO}. The second line
 * of each pass shows the intake's own calls. At 16 in flight both sides queue on the client's
 * request-number counter, the intake's larger transaction holding it longer. Nothing is asserted
 * beyond every delivery being accepted and stored once.
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
import { spentLine, timed, type Spent } from './timed';

/**
 * One at a time shows the intake's own cost; 16 at once, a burst from one client, where both
 * sides queue on the client's request-number counter (its ETag conflicts make the floor itself
 * slower than one at a time).
 */
const IN_FLIGHT = [1, 16] as const;
const TARGET_RATIO = 0.5;

const format = (n: number) => Math.round(n).toLocaleString('en-US');

export interface WebhookBenchOptions {
  readonly azurite: RunningAzurite;
  /** Deliveries sent, and requests created for the floor. */
  readonly deliveries?: number;
}

/** Runs `work(i)` for i in [0, total), `inFlight` at a time; returns the rate per second. */
async function rate(
  total: number,
  inFlight: number,
  work: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const loop = async () => {
    while (next < total) await work(next++);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, loop));
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
  /** What the intake's calls took in the latest pass, to show where it spends beyond the floor. */
  const spent: Spent = new Map();
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
            requests: timed(storage.requests, 'requests', spent),
            audit: timed(storage.audit, 'audit', spent),
            clients: timed(storage.clients, 'clients', spent),
            conversations: timed(storage.conversations, 'conversations', spent),
            delegations: timed(storage.delegations, 'delegations', spent),
            templates: timed(storage.catalogue(MSP.tenantId), 'templates', spent),
            clock,
            mspTenantId: MSP.tenantId,
            ledger: timed(storage.webhookLedger, 'ledger', spent),
          },
          keys: timed(storage.webhookKeys, 'keys', spent),
          perIp: { burst: 1_000_000, perSecond: 1_000_000 },
          perClient: { burst: 1_000_000, perSecond: 1_000_000 },
        }),
      ],
    },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const body = Buffer.from(
      JSON.stringify({
        type: 'general',
        fields: validFields('general'),
        submittedBy: { name: 'Pat Public' },
      }),
    );
    const run = randomBytes(4).toString('hex');
    for (const inFlight of IN_FLIGHT) {
      const floor = await rate(total, inFlight, async () => {
        await floorStorage.requests.create(CONTOSO.tenantId, (number) => {
          const { request, audit } = submitted({ number });
          return { request, audit: [audit], outbox: [] };
        });
      });
      spent.clear();
      const accepted = await rate(total, inFlight, async (i) => {
        const deliveryId = `bench-${run}-${inFlight}-${i}`;
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
      console.log(
        `webhook intake (${format(total)} signed deliveries, ${inFlight} in flight, one client): ${format(accepted)} accepted/s  ÷ raw requests.create ${format(floor)}/s = ${(accepted / floor).toFixed(2)} (target ≥ ${TARGET_RATIO})`,
      );
      console.log(`  the intake's calls: ${spentLine(spent)}`);
    }
    const stored = await storage.requests.list(CONTOSO.tenantId, { limit: 10 * total });
    const expected = total * IN_FLIGHT.length;
    if (stored.length !== expected)
      throw new Error(`${expected} deliveries were accepted but ${stored.length} requests stored.`);
  } finally {
    await server.close();
  }
}
