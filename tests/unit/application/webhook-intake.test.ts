import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { WebhookKey, WebhookLedger } from '../../../src/application/ports/webhook-keys';
import {
  sha256Hex,
  takeInWebhook,
  type VerifiedDelivery,
  type WebhookIntakeDeps,
  type WebhookOutcome,
} from '../../../src/application/use-cases/webhook-intake';
import type { TenantId } from '../../../src/domain/shared/ids';
import { Secret } from '../../../src/domain/shared/secret';
import { InMemoryWebhookLedger } from '../../fakes/in-memory-webhooks';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  seedClients,
  validFields,
  type Harness,
} from '../../support/fixtures';

const keyFor = (tenantId: TenantId): WebhookKey => ({
  clientKey: 'wh_aaaaaaaaaaaaaaaaaaaaaaaaaa',
  tenantId,
  secrets: [{ kid: 'k1', secret: new Secret('s'), createdAt: '2026-11-23T00:00:00.000Z' }],
});

let deliveries = 0;
function delivery(body: unknown, extra: Partial<VerifiedDelivery> = {}): VerifiedDelivery {
  const raw = Buffer.from(JSON.stringify(body));
  return {
    key: keyFor(CONTOSO_TENANT_ID),
    kid: 'k1',
    deliveryId: `d-${++deliveries}`,
    method: 'POST',
    path: '/api/webhooks/wh_aaaaaaaaaaaaaaaaaaaaaaaaaa',
    rawBody: raw,
    body,
    ...extra,
  };
}

const general = (title = 'Webhook change') => ({
  type: 'general',
  fields: validFields('general', { title }),
});

async function setUp(): Promise<{ h: Harness; deps: WebhookIntakeDeps; ledger: WebhookLedger }> {
  const h = createHarness();
  await seedClients(h);
  const ledger = new InMemoryWebhookLedger(h.storage.data);
  return { h, deps: { ...h.deps, ledger }, ledger };
}

describe('webhook intake (use case, in memory)', () => {
  it('stores a refusal under the idempotency key and replays it, creating nothing', async () => {
    const { h, deps } = await setUp();
    const body = {
      type: 'general',
      fields: validFields('general', { changeClass: 'emergency', emergencyReason: 'Now!' }),
    };
    const first = await takeInWebhook(deps, delivery(body, { idempotencyKey: 'k-1' }));
    assert.equal(first.kind, 'refused');
    const again = await takeInWebhook(deps, delivery(body, { idempotencyKey: 'k-1' }));
    assert.deepEqual(again, { ...first, replayed: true });
    assert.equal((await h.deps.requests.list(CONTOSO_TENANT_ID)).length, 0);
  });

  it('takes over an in-progress record once its call must have died (60 s), not before', async () => {
    const { deps, ledger, h } = await setUp();
    const d = delivery(general(), { idempotencyKey: 'k-2' });
    const fingerprint = sha256Hex(
      Buffer.concat([Buffer.from(`${d.method}\n${d.path}\n`), d.rawBody]),
    );
    await ledger.begin(CONTOSO_TENANT_ID, sha256Hex('k-2'), {
      fingerprint,
      state: 'in_progress',
      createdAt: h.clock.now().toISOString(),
    });
    h.clock.advance(30_000);
    assert.deepEqual(await takeInWebhook(deps, d), { kind: 'in_progress' });
    h.clock.advance(31_000);
    const taken = await takeInWebhook(deps, { ...d, deliveryId: 'd-takeover' });
    assert.equal(taken.kind, 'accepted');
  });

  it('a key for a tenant that is no longer a client raises nothing', async () => {
    const { deps } = await setUp();
    const outcome = await takeInWebhook(
      deps,
      delivery(general(), { key: keyFor('0b0b0b0b-0000-4000-8000-00000000000b' as TenantId) }),
    );
    assert.deepEqual(outcome, { kind: 'unknown_client' });
  });

  it('concurrent calls with one key, in any interleaving: one request, the others 409 or its replay', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 5 }), async (s, n) => {
        const { deps, ledger, h } = await setUp();
        const scheduled: WebhookLedger = {
          delivery: s.scheduleFunction(ledger.delivery.bind(ledger)),
          idempotency: s.scheduleFunction(ledger.idempotency.bind(ledger)),
          begin: s.scheduleFunction(ledger.begin.bind(ledger)),
          finish: s.scheduleFunction(ledger.finish.bind(ledger)),
          release: s.scheduleFunction(ledger.release.bind(ledger)),
        };
        const body = general('Concurrent');
        const calls = Array.from({ length: n }, (_, i) =>
          takeInWebhook(
            { ...deps, ledger: scheduled },
            delivery(body, { idempotencyKey: 'same', deliveryId: `c-${i}` }),
          ),
        );
        const outcomes: WebhookOutcome[] = await s.waitFor(Promise.all(calls));
        const requests = await h.deps.requests.list(CONTOSO_TENANT_ID);
        assert.equal(requests.length, 1);
        for (const o of outcomes) {
          if (o.kind === 'accepted') assert.equal(o.requestId, requests[0]!.id);
          else assert.equal(o.kind, 'in_progress');
        }
        assert.equal(outcomes.filter((o) => o.kind === 'accepted' && !o.replayed).length, 1);
      }),
      { numRuns: 40 },
    );
  });
});
