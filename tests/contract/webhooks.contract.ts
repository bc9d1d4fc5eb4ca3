import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AuditLog } from '../../src/application/ports/audit-log';
import type { ChangeRequestStore } from '../../src/application/ports/change-request-store';
import { ConcurrencyError, ConflictError } from '../../src/application/ports/errors';
import {
  CLIENT_KEY_PATTERN,
  type WebhookKeyStore,
  type WebhookLedger,
} from '../../src/application/ports/webhook-keys';
import { newTenant, rejection, request, write } from './contract-support';

export interface WebhookStorageUnderTest {
  readonly keys: WebhookKeyStore;
  readonly ledger: WebhookLedger;
  readonly requests: ChangeRequestStore;
  readonly audit: AuditLog;
}

const NOW = new Date('2026-11-23T09:00:00.000Z');
const HOUR = 3_600_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);
/** Who changes the keys in these tests: the CLI operator. */
const ACTOR = { tid: '00000000-0000-4000-8000-00000000aaaa', oid: 'cabinet-cli' };
const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/** The webhook key store and ledger contract, and receipts written with request writes. */
export function describeWebhookStorageContract(
  name: string,
  make: () => Promise<WebhookStorageUnderTest>,
): void {
  describe(`Webhook keys and ledger contract: ${name}`, () => {
    let sut: WebhookStorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    it('creates one key per client, resolvable only by its opaque client key', async () => {
      const tenant = newTenant();
      const { key, issued } = await sut.keys.create(tenant, NOW, ACTOR);
      assert.match(key.clientKey, CLIENT_KEY_PATTERN);
      assert.ok(!key.clientKey.includes(tenant));
      const resolved = await sut.keys.resolve(key.clientKey, NOW);
      assert.equal(resolved?.tenantId, tenant);
      assert.deepEqual(
        resolved?.secrets.map((s) => [s.kid, s.secret.reveal()]),
        [[issued.kid, issued.secret.reveal()]],
      );
      assert.ok((await rejection(sut.keys.create(tenant, NOW, ACTOR))) instanceof ConflictError);
      assert.equal(await sut.keys.resolve('wh_aaaaaaaaaaaaaaaaaaaaaaaaaa', NOW), undefined);
      assert.equal(await sut.keys.resolve(tenant, NOW), undefined);
    });

    it('rotation keeps both secrets valid for the grace period (24 h by default), then only the new one', async () => {
      const tenant = newTenant();
      const { key, issued: first } = await sut.keys.create(tenant, NOW, ACTOR);
      const rotated = await sut.keys.rotate(tenant, at(HOUR), ACTOR);
      assert.ok(rotated);
      assert.notEqual(rotated.issued.kid, first.kid);
      const during = await sut.keys.resolve(key.clientKey, at(24 * HOUR));
      assert.deepEqual(
        during?.secrets.map((s) => s.kid),
        [first.kid, rotated.issued.kid],
      );
      assert.equal(
        during?.secrets[0]?.retiresAt,
        at(25 * HOUR).toISOString(),
        'the old secret retires a day after the rotation',
      );
      const afterwards = await sut.keys.resolve(key.clientKey, at(25 * HOUR + 1));
      assert.deepEqual(
        afterwards?.secrets.map((s) => s.kid),
        [rotated.issued.kid],
      );
      assert.equal((await sut.keys.get(tenant))?.secrets.length, 2, 'get shows retired ones too');
      assert.equal(await sut.keys.rotate(newTenant(), NOW, ACTOR), undefined);
    });

    it('retires a secret at once, but never the newest', async () => {
      const tenant = newTenant();
      const { key, issued: first } = await sut.keys.create(tenant, NOW, ACTOR);
      const alone = await sut.keys.retire(tenant, NOW, ACTOR);
      assert.equal(alone?.secrets[0]?.retiresAt, undefined, 'the only secret stays');
      const rotated = await sut.keys.rotate(tenant, NOW, ACTOR);
      assert.equal(await sut.keys.retire(tenant, NOW, ACTOR, rotated!.issued.kid), undefined);
      assert.equal(await sut.keys.retire(tenant, NOW, ACTOR, 'knope'), undefined);
      const retired = await sut.keys.retire(tenant, at(1000), ACTOR, first.kid);
      assert.ok(retired);
      const resolved = await sut.keys.resolve(key.clientKey, at(1000));
      assert.deepEqual(
        resolved?.secrets.map((s) => s.kid),
        [rotated!.issued.kid],
      );
    });

    it("writes each key change into the client's audit chain: who, which kid, when it stops; never a secret", async () => {
      const tenant = newTenant();
      const { key, issued: first } = await sut.keys.create(tenant, NOW, ACTOR);
      const rotated = await sut.keys.rotate(tenant, at(HOUR), ACTOR);
      await sut.keys.retire(tenant, at(2 * HOUR), ACTOR);
      const entries = await sut.audit.read(tenant);
      const events = entries.map(
        (e) => JSON.parse(e.canonical) as { type: string; actor: unknown; payload: unknown },
      );
      assert.deepEqual(
        events.map((e) => [e.type, e.actor, e.payload]),
        [
          [
            'webhook.key_created',
            ACTOR,
            { tenantId: tenant, clientKey: key.clientKey, kid: first.kid },
          ],
          [
            'webhook.key_rotated',
            ACTOR,
            {
              tenantId: tenant,
              clientKey: key.clientKey,
              kid: rotated!.issued.kid,
              retiring: [{ kid: first.kid, retiresAt: at(25 * HOUR).toISOString() }],
            },
          ],
          [
            'webhook.key_retired',
            ACTOR,
            {
              tenantId: tenant,
              clientKey: key.clientKey,
              retired: [{ kid: first.kid, retiresAt: at(2 * HOUR).toISOString() }],
            },
          ],
        ],
      );
      const text = entries.map((e) => e.canonical).join('\n');
      for (const secret of [first.secret, rotated!.issued.secret])
        assert.ok(!text.includes(secret.reveal()), 'no secret in the audit chain');
    });

    it('a change that fails or changes nothing writes no audit entry', async () => {
      const tenant = newTenant();
      const { issued } = await sut.keys.create(tenant, NOW, ACTOR);
      assert.ok((await rejection(sut.keys.create(tenant, NOW, ACTOR))) instanceof ConflictError);
      assert.ok(await sut.keys.retire(tenant, NOW, ACTOR), 'nothing to retire is no error');
      assert.equal(await sut.keys.retire(tenant, NOW, ACTOR, issued.kid), undefined);
      assert.equal(await sut.keys.retire(tenant, NOW, ACTOR, 'knope'), undefined);
      const other = newTenant();
      assert.equal(await sut.keys.rotate(other, NOW, ACTOR), undefined);
      assert.equal(await sut.keys.retire(other, NOW, ACTOR), undefined);
      assert.deepEqual(await sut.audit.read(other), []);
      assert.equal((await sut.audit.read(tenant)).length, 1);
      // Two rotations from the same stored key: the loser writes neither its secret nor its entry.
      const outcomes = await Promise.allSettled([
        sut.keys.rotate(tenant, at(HOUR), ACTOR),
        sut.keys.rotate(tenant, at(HOUR), ACTOR),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled').length;
      assert.ok(won >= 1);
      for (const o of outcomes)
        if (o.status === 'rejected')
          assert.ok(o.reason instanceof ConcurrencyError, String(o.reason));
      assert.equal((await sut.keys.get(tenant))?.secrets.length, 1 + won);
      assert.equal((await sut.audit.read(tenant)).length, 1 + won);
    });

    it('writes a delivery receipt with the request; a second one for the same delivery writes nothing', async () => {
      const tenant = newTenant();
      const id = hash(`delivery-${tenant}`);
      const receipt = {
        kind: 'webhook_delivery' as const,
        id,
        data: { requestId: 'CONTOSO-1', status: 'submitted', at: NOW.toISOString() },
      };
      await sut.requests.create(tenant, (n) => ({
        ...write(request(tenant, n)),
        receipts: [receipt],
      }));
      assert.deepEqual(await sut.ledger.delivery(tenant, id), receipt.data);
      const error = await rejection(
        sut.requests.create(tenant, (n) => ({ ...write(request(tenant, n)), receipts: [receipt] })),
      );
      assert.ok(error instanceof ConflictError, String(error));
      assert.equal((await sut.requests.list(tenant)).length, 1);
      assert.equal((await sut.audit.read(tenant)).length, 1);
      assert.equal(await sut.ledger.delivery(newTenant(), id), undefined);
    });

    it('idempotency records: insert-only begin, and the move to done only under the ETag it began with', async () => {
      const tenant = newTenant();
      const key = hash(`key-${tenant}`);
      const began = {
        fingerprint: 'f1',
        state: 'in_progress' as const,
        createdAt: NOW.toISOString(),
      };
      const etag = await sut.ledger.begin(tenant, key, began);
      assert.ok((await rejection(sut.ledger.begin(tenant, key, began))) instanceof ConflictError);
      assert.ok(
        (await rejection(sut.ledger.begin(tenant, key, began, 'W/"stale"'))) instanceof
          ConcurrencyError,
      );
      const done = { ...began, state: 'done' as const, outcome: { kind: 'accepted' } };
      const stale = await rejection(
        sut.requests.create(tenant, (n) => ({
          ...write(request(tenant, n)),
          receipts: [{ kind: 'idempotency', id: key, data: done, etag: 'W/"stale"' }],
        })),
      );
      assert.ok(stale instanceof ConcurrencyError, String(stale));
      assert.equal((await sut.requests.list(tenant)).length, 0);
      await sut.requests.create(tenant, (n) => ({
        ...write(request(tenant, n)),
        receipts: [{ kind: 'idempotency', id: key, data: done, etag }],
      }));
      const stored = await sut.ledger.idempotency(tenant, key);
      assert.deepEqual(stored?.record, done);
      assert.ok(
        (await rejection(sut.ledger.release(tenant, key, etag))) instanceof ConcurrencyError,
      );
    });

    it('finishes or releases an in-progress record under its ETag', async () => {
      const tenant = newTenant();
      const key = hash(`other-${tenant}`);
      const began = {
        fingerprint: 'f2',
        state: 'in_progress' as const,
        createdAt: NOW.toISOString(),
      };
      const first = await sut.ledger.begin(tenant, key, began);
      await sut.ledger.release(tenant, key, first);
      assert.equal(await sut.ledger.idempotency(tenant, key), undefined);
      const second = await sut.ledger.begin(tenant, key, began);
      const refused = { ...began, state: 'done' as const, outcome: { kind: 'refused' } };
      await sut.ledger.finish(tenant, key, second, refused);
      const stored = await sut.ledger.idempotency(tenant, key);
      assert.deepEqual(stored?.record, refused);
      const replaced = await sut.ledger.begin(tenant, key, began, stored.etag);
      assert.equal((await sut.ledger.idempotency(tenant, key))?.etag, replaced);
    });
  });
}
