import { strict as assert } from 'node:assert';
import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import { odata } from '@azure/data-tables';
import { openTable } from '../../src/adapters/storage/table-connection';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import { StorageUnavailableError } from '../../src/application/ports/errors';
import type { WebhookKeyStore } from '../../src/application/ports/webhook-keys';
import type { WebhookIntakeDeps } from '../../src/application/use-cases/webhook-intake';
import {
  signWebhook,
  webhookRoute,
  WEBHOOK_MAX_BODY_BYTES,
  type WebhookRouteDeps,
} from '../../src/surfaces/http/webhook.route';
import { startHttpServer, type RawRoute } from '../../src/surfaces/http/server';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { onboardSandboxClients } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';

/** Who issues the test keys: the CLI operator, as in production. */
const OPERATOR = { tid: MSP.tenantId, oid: 'cabinet-cli' };

interface Endpoint {
  readonly clientKey: string;
  kid: string;
  secret: string;
}

interface Running {
  readonly url: string;
  close(): Promise<void>;
}

/** Cabinet's own HTTP server with only the webhook route mounted (no bot traffic in these tests). */
function serve(route: RawRoute): Promise<Running> {
  return startHttpServer(
    {
      bot: {} as Application<TurnState>,
      adapter: {} as TeamsAdapter,
      readiness: () => Promise.resolve(),
      allowServiceUrl: () => false,
      log: () => undefined,
      rawRoutes: [route],
    },
    { host: '127.0.0.1', port: 0 },
  );
}

describe('signed webhook intake over HTTP on Azurite (issue 6 §3)', function () {
  this.timeout(60_000);
  const azurite = useAzurite();
  let storage: TableStorage & { readonly prefix: string };
  let clock: FakeClock;
  let contoso: Endpoint;
  let fabrikam: Endpoint;
  let running: Running;
  let deliveries = 0;

  const intakeDeps = (): WebhookIntakeDeps => ({
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    templates: storage.catalogue(MSP.tenantId),
    clock,
    mspTenantId: MSP.tenantId,
    ledger: storage.webhookLedger,
  });
  const routeDeps = (overrides: Partial<WebhookRouteDeps> = {}): WebhookRouteDeps => ({
    intake: intakeDeps(),
    keys: storage.webhookKeys,
    perIp: { burst: 1000, perSecond: 1000 },
    perClient: { burst: 1000, perSecond: 1000 },
    ...overrides,
  });

  interface Send {
    readonly endpoint?: Endpoint;
    readonly path?: string;
    readonly body?: string | Buffer;
    readonly deliveryId?: string;
    readonly idempotencyKey?: string;
    readonly t?: number;
    readonly sign?: (payload: {
      t: number;
      deliveryId: string;
      body: Buffer;
    }) => string | undefined;
    readonly contentType?: string;
    readonly url?: string;
  }

  const formBody = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      type: 'general',
      fields: validFields('general'),
      submittedBy: { name: 'Pat Public' },
      ...overrides,
    });

  async function send(options: Send = {}): Promise<Response> {
    const endpoint = options.endpoint ?? contoso;
    const body = Buffer.from(options.body ?? formBody());
    const deliveryId = options.deliveryId ?? `dlv-${++deliveries}-${Date.now()}`;
    const t = options.t ?? Math.floor(clock.now().getTime() / 1000);
    const signature = options.sign
      ? options.sign({ t, deliveryId, body })
      : `t=${t},kid=${endpoint.kid},v1=${signWebhook(endpoint.secret, t, deliveryId, body)}`;
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/json',
      'x-cabinet-delivery': deliveryId,
    };
    if (signature !== undefined) headers['x-cabinet-signature'] = signature;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    return fetch(
      `${options.url ?? running.url}${options.path ?? `/api/webhooks/${endpoint.clientKey}`}`,
      {
        method: 'POST',
        headers,
        body,
      },
    );
  }

  /** Everything a delivery may write for Contoso: requests, audit entries, receipts. */
  async function footprint(): Promise<{ requests: number; audit: number; receipts: number }> {
    const table = openTable(azurite.connectionString, `${storage.prefix}data`);
    let receipts = 0;
    for await (const row of table.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${CONTOSO.tenantId}` },
    })) {
      if (/^(wd|ik)_/.test(row.rowKey ?? '')) receipts += 1;
    }
    return {
      requests: (await storage.requests.list(CONTOSO.tenantId, { limit: 10_000 })).length,
      audit: (await storage.audit.read(CONTOSO.tenantId)).length,
      receipts,
    };
  }

  async function refusedWithoutTrace(response: Promise<Response>, status: number) {
    const before = await footprint();
    const res = await response;
    assert.equal(res.status, status, await res.clone().text());
    assert.deepEqual(await footprint(), before);
    return res;
  }

  before(async () => {
    storage = await azurite.newStorage();
    clock = new FakeClock();
    await onboardSandboxClients(storage);
    const c = await storage.webhookKeys.create(CONTOSO.tenantId, clock.now(), OPERATOR);
    contoso = { clientKey: c.key.clientKey, kid: c.issued.kid, secret: c.issued.secret.reveal() };
    const f = await storage.webhookKeys.create(FABRIKAM.tenantId, clock.now(), OPERATOR);
    fabrikam = { clientKey: f.key.clientKey, kid: f.issued.kid, secret: f.issued.secret.reveal() };
    running = await serve(webhookRoute(routeDeps()));
  });
  after(async () => {
    await running.close();
  });

  it('takes a signed delivery in as a webhook request, once, with its audit entry and receipt in the same commit', async () => {
    const before = await footprint();
    const res = await send({ deliveryId: 'form-0001' });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { requestId: string; status: string };
    assert.match(body.requestId, /^CONTOSO-\d+$/);
    assert.equal(body.status, 'triaged');
    const stored = await storage.requests.get(CONTOSO.tenantId, body.requestId as never);
    assert.equal(stored?.request.source, 'webhook');
    assert.equal(stored?.request.requester.tid, CONTOSO.tenantId);
    assert.equal(stored?.request.requester.oid, `webhook:${contoso.kid}`);
    assert.equal(stored?.request.requester.name, 'Pat Public');
    const after = await footprint();
    assert.equal(after.requests, before.requests + 1);
    assert.equal(after.receipts, before.receipts + 1);
    const entries = (await storage.audit.read(CONTOSO.tenantId)).map(
      (e) =>
        JSON.parse(e.canonical) as {
          type: string;
          requestId: string | null;
          payload: Record<string, unknown>;
        },
    );
    const accepted = entries.filter(
      (e) => e.type === 'webhook.accepted' && e.requestId === body.requestId,
    );
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.payload['kid'], contoso.kid);
    assert.equal(accepted[0]!.payload['deliveryId'], 'form-0001');
    assert.ok(!JSON.stringify(accepted[0]).includes('Pat Public'), 'the name is sealed');
    const rows = await storage.outbox.list(CONTOSO.tenantId);
    assert.ok(
      rows.every(
        (r) => r.message.kind !== 'teams.notify' || !r.message.recipient.oid.startsWith('webhook:'),
      ),
      'nobody tries to reach the integration requester in Teams',
    );
    assert.ok(
      rows.some(
        (r) =>
          r.message.kind === 'teams.notify' && r.message.notification.requestId === body.requestId,
      ),
      'the technicians hear of it',
    );

    const replay = await send({ deliveryId: 'form-0001' });
    assert.equal(replay.status, 200);
    assert.deepEqual(await replay.json(), { ...body, duplicate: true });
    assert.deepEqual(await footprint(), after);
  });

  describe('the negative matrix: the right status, nothing stored', () => {
    it('one byte altered → 401', async () => {
      const res = await refusedWithoutTrace(
        send({
          sign: ({ t, deliveryId, body }) => {
            const altered = Buffer.from(body);
            altered[10] = altered[10]! ^ 1;
            return `t=${t},kid=${contoso.kid},v1=${signWebhook(contoso.secret, t, deliveryId, altered)}`;
          },
        }),
        401,
      );
      assert.deepEqual(await res.json(), {
        error: 'signature_invalid',
        reason: 'The signature does not match.',
      });
    });

    it("another client's secret → 401, with the same reason as an unknown key id", async () => {
      const wrongSecret = await refusedWithoutTrace(
        send({
          sign: ({ t, deliveryId, body }) =>
            `t=${t},kid=${fabrikam.kid},v1=${signWebhook(fabrikam.secret, t, deliveryId, body)}`,
        }),
        401,
      );
      const wrongKidOnly = await refusedWithoutTrace(
        send({
          sign: ({ t, deliveryId, body }) =>
            `t=${t},kid=${contoso.kid},v1=${signWebhook(fabrikam.secret, t, deliveryId, body)}`,
        }),
        401,
      );
      assert.deepEqual(await wrongSecret.json(), await wrongKidOnly.json());
    });

    it('missing signature header → 401; malformed → 401', async () => {
      await refusedWithoutTrace(send({ sign: () => undefined }), 401);
      await refusedWithoutTrace(send({ sign: () => 'v1=abc' }), 401);
    });

    it('t −301 s and +301 s → 401; ±300 s still accepted', async () => {
      const now = Math.floor(clock.now().getTime() / 1000);
      await refusedWithoutTrace(send({ t: now - 301 }), 401);
      await refusedWithoutTrace(send({ t: now + 301 }), 401);
      assert.equal((await send({ t: now - 300 })).status, 202);
      assert.equal((await send({ t: now + 300 })).status, 202);
    });

    it('a body of 256 KiB + 1 → 413 before any signature work', async () => {
      const big = Buffer.alloc(WEBHOOK_MAX_BODY_BYTES + 1, 0x20);
      await refusedWithoutTrace(send({ body: big }), 413);
      // Chunked, without Content-Length: the stream itself is cut at the cap.
      const chunked = await refusedWithoutTrace(
        fetch(`${running.url}/api/webhooks/${contoso.clientKey}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-cabinet-delivery': 'chunked-1',
            'x-cabinet-signature': `t=1,kid=${contoso.kid},v1=00`,
          },
          body: new ReadableStream({
            start(controller) {
              for (let i = 0; i < 5; i += 1) controller.enqueue(new Uint8Array(64 * 1024 + 1));
              controller.close();
            },
          }),
          duplex: 'half',
        }),
        413,
      );
      assert.equal(((await chunked.json()) as { error: string }).error, 'payload_too_large');
    });

    it('wrong content type → 415; unknown client key → 404; bad JSON → 400', async () => {
      await refusedWithoutTrace(send({ contentType: 'text/plain' }), 415);
      await refusedWithoutTrace(send({ path: '/api/webhooks/wh_aaaaaaaaaaaaaaaaaaaaaaaaaa' }), 404);
      await refusedWithoutTrace(send({ path: '/api/webhooks/not-a-key' }), 404);
      await refusedWithoutTrace(send({ body: '{"type":' }), 400);
    });

    it('a body that fails the schema → 422 listing each bad field', async () => {
      const res = await refusedWithoutTrace(
        send({
          body: JSON.stringify({
            type: 'general',
            fields: { description: 'x' },
            submittedBy: { name: 7 },
            tenantId: FABRIKAM.tenantId,
          }),
        }),
        422,
      );
      const body = (await res.json()) as { error: string; issues: { field: string }[] };
      assert.equal(body.error, 'invalid_request');
      const fields = body.issues.map((i) => i.field);
      for (const field of ['tenantId', 'submittedBy.name', 'title'])
        assert.ok(fields.includes(field), `${field} listed in ${fields.join(', ')}`);
    });

    it('rotation: both secrets valid during it, the old one refused once retired', async () => {
      const rotated = await storage.webhookKeys.rotate(CONTOSO.tenantId, clock.now(), OPERATOR);
      assert.ok(rotated);
      const old = { ...contoso };
      const fresh = { ...contoso, kid: rotated.issued.kid, secret: rotated.issued.secret.reveal() };
      assert.equal((await send({ endpoint: old })).status, 202);
      assert.equal((await send({ endpoint: fresh })).status, 202);
      await storage.webhookKeys.retire(CONTOSO.tenantId, clock.now(), OPERATOR);
      await refusedWithoutTrace(send({ endpoint: old }), 401);
      assert.equal((await send({ endpoint: fresh })).status, 202);
      contoso.kid = fresh.kid;
      contoso.secret = fresh.secret;
    });

    it('a rotated-out secret stops on its own after the grace period', async () => {
      const rotated = await storage.webhookKeys.rotate(
        CONTOSO.tenantId,
        clock.now(),
        OPERATOR,
        60_000,
      );
      assert.ok(rotated);
      const old = { ...contoso };
      clock.advance(61_000);
      await refusedWithoutTrace(send({ endpoint: old }), 401);
      contoso.kid = rotated.issued.kid;
      contoso.secret = rotated.issued.secret.reveal();
      assert.equal((await send()).status, 202);
    });

    it('a burst from one address → 429 with Retry-After, before any storage work', async () => {
      const limited = await serve(webhookRoute(routeDeps({ perIp: { burst: 3, perSecond: 0.1 } })));
      try {
        const statuses: number[] = [];
        let retryAfter: string | null = null;
        for (let i = 0; i < 5; i += 1) {
          const res = await send({ url: limited.url, sign: () => undefined });
          statuses.push(res.status);
          if (res.status === 429) retryAfter = res.headers.get('retry-after');
        }
        assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
        assert.equal(retryAfter, '10');
      } finally {
        await limited.close();
      }
    });

    it("a burst for one client → 429 once signatures verify; the other client's deliveries still pass", async () => {
      const limited = await serve(
        webhookRoute(routeDeps({ perClient: { burst: 2, perSecond: 0.5 } })),
      );
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i += 1) statuses.push((await send({ url: limited.url })).status);
        assert.deepEqual(statuses, [202, 202, 429]);
        assert.equal((await send({ url: limited.url, endpoint: fabrikam })).status, 202);
      } finally {
        await limited.close();
      }
    });
  });

  describe('Idempotency-Key (Stripe semantics)', () => {
    it('same key and body → the stored response; another body → 422; nothing created twice', async () => {
      const body = formBody({ fields: validFields('general', { title: 'Idempotent one' }) });
      const first = await send({ body, idempotencyKey: 'order-1' });
      assert.equal(first.status, 202);
      const created = (await first.json()) as { requestId: string };
      const before = await footprint();
      const again = await send({ body, idempotencyKey: 'order-1' });
      assert.equal(again.status, 202);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(await again.json(), created);
      const other = await send({ body: formBody(), idempotencyKey: 'order-1' });
      assert.equal(other.status, 422);
      assert.equal(((await other.json()) as { error: string }).error, 'idempotency_key_reused');
      assert.deepEqual(await footprint(), before);
    });

    it('validation failures are not stored: the same key runs once the body is fixed', async () => {
      const bad = JSON.stringify({ type: 'general', fields: {} });
      assert.equal((await send({ body: bad, idempotencyKey: 'order-2' })).status, 422);
      assert.equal((await send({ idempotencyKey: 'order-2' })).status, 202);
    });

    it('concurrent calls with one key → one request; the rest 409 in_progress or the replay', async () => {
      const before = await footprint();
      const body = formBody({ fields: validFields('general', { title: 'Concurrent' }) });
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => send({ body, idempotencyKey: 'order-3' })),
      );
      const statuses = responses.map((r) => r.status);
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
        requestId?: string;
        error?: string;
      }[];
      assert.ok(
        statuses.every((s) => s === 202 || s === 409),
        statuses.join(','),
      );
      const ids = new Set(bodies.filter((b) => b.requestId).map((b) => b.requestId));
      assert.equal(ids.size, 1);
      for (const [i, s] of statuses.entries())
        if (s === 409) assert.equal(bodies[i]!.error, 'in_progress');
      assert.equal((await footprint()).requests, before.requests + 1);
    });

    it('a key older than 24 h runs as a new call', async () => {
      const body = formBody({ fields: validFields('general', { title: 'Daily' }) });
      const first = (await (await send({ body, idempotencyKey: 'order-4' })).json()) as {
        requestId: string;
      };
      clock.advance(24 * 60 * 60 * 1000 + 1000);
      const later = await send({ body, idempotencyKey: 'order-4' });
      assert.equal(later.status, 202);
      const second = (await later.json()) as { requestId: string };
      assert.notEqual(second.requestId, first.requestId);
    });
  });

  it('the same delivery id racing on two connections creates one request (the receipt is in the request commit)', async () => {
    const before = await footprint();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => send({ deliveryId: 'race-delivery-1' })),
    );
    const statuses = responses.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 202).length, 1, statuses.join(','));
    assert.ok(statuses.every((s) => s === 202 || s === 200));
    const ids = new Set(
      ((await Promise.all(responses.map((r) => r.json()))) as { requestId: string }[]).map(
        (b) => b.requestId,
      ),
    );
    assert.equal(ids.size, 1);
    const after = await footprint();
    assert.equal(after.requests, before.requests + 1);
    assert.equal(after.receipts, before.receipts + 1);
  });

  it('503 with a clear body when storage is down, and nothing accepted', async () => {
    const down = await serve(
      webhookRoute({
        ...routeDeps(),
        keys: Object.assign(Object.create(storage.webhookKeys) as WebhookKeyStore, {
          resolve: () => Promise.reject(new StorageUnavailableError('storage is unreachable')),
        }),
      }),
    );
    try {
      const res = await send({ url: down.url });
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { error: string }).error, 'storage_unavailable');
      assert.equal(res.headers.get('retry-after'), '30');
    } finally {
      await down.close();
    }
  });
});
