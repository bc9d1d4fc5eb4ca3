import { strict as assert } from 'node:assert';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import {
  createWebhookKey,
  retireWebhookKeys,
  rotateWebhookKey,
  webhookKeyStatus,
  type WebhookKeysDeps,
} from '../../src/application/use-cases/webhook-keys';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';

const HOUR = 3_600_000;
const lena = { kind: 'person', person: asPerson(MSP.lena) } as const;
const tina = { kind: 'person', person: asPerson(MSP.tina) } as const;
const carla = { kind: 'person', person: asPerson(CONTOSO.carla) } as const;
const OPERATOR = { tid: MSP.tenantId, oid: 'cabinet-cli' };

describe('webhook key use cases on Azurite (leads of the client, or the operator)', () => {
  const azurite = useAzurite();
  let storage: TableStorage;
  let clock: FakeClock;
  let deps: WebhookKeysDeps;

  beforeEach(async () => {
    clock = new FakeClock();
    storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
    deps = {
      webhookKeys: storage.webhookKeys,
      clients: storage.clients,
      clock,
      mspTenantId: MSP.tenantId,
    };
  });

  /** The `webhook.key_*` entries of a client's chain: type, actor, payload. */
  async function keyEntries(tenantId: string) {
    return (await storage.audit.read(tenantId as typeof CONTOSO.tenantId))
      .map((e) => JSON.parse(e.canonical) as { type: string; actor: unknown; payload: unknown })
      .filter((e) => e.type.startsWith('webhook.key_'));
  }

  it('a lead creates, rotates and retires; each change is audited under the lead, never with a secret', async () => {
    const created = await createWebhookKey(deps, lena, { code: 'contoso' });
    assert.ok(created.ok, created.ok ? '' : created.error.message);
    const first = created.value.issued;
    assert.match(created.value.urlPath ?? '', /^\/api\/webhooks\/wh_[a-z2-7]{26}$/);
    assert.match(first.secret.reveal(), /^whsec_/);

    clock.advance(HOUR);
    const rotated = await rotateWebhookKey(deps, lena, { code: CONTOSO.code }, 2 * HOUR);
    assert.ok(rotated.ok);
    assert.deepEqual(
      rotated.value.secrets.map((s) => [s.kid, s.state]),
      [
        [first.kid, 'retiring'],
        [rotated.value.issued.kid, 'active'],
      ],
    );

    const retired = await retireWebhookKeys(deps, lena, { code: CONTOSO.code });
    assert.ok(retired.ok);
    assert.deepEqual(
      retired.value.secrets.map((s) => s.state),
      ['retired', 'active'],
    );
    const status = await webhookKeyStatus(deps, lena, { clientTenantId: CONTOSO.tenantId });
    assert.ok(status.ok);
    assert.deepEqual(status.value, retired.value);
    assert.ok(!JSON.stringify(status.value).includes('whsec_'), 'a status never holds a secret');

    const actor = { tid: MSP.lena.tid, oid: MSP.lena.oid };
    const entries = await keyEntries(CONTOSO.tenantId);
    assert.deepEqual(
      entries.map((e) => [e.type, e.actor]),
      [
        ['webhook.key_created', actor],
        ['webhook.key_rotated', actor],
        ['webhook.key_retired', actor],
      ],
    );
    const chain = JSON.stringify(await storage.audit.read(CONTOSO.tenantId));
    for (const secret of [first.secret, rotated.value.issued.secret])
      assert.ok(!chain.includes(secret.reveal()));
  });

  it('refuses technicians, client people and strangers, and writes nothing for them', async () => {
    const before = (await storage.audit.read(CONTOSO.tenantId)).length;
    const asTech = await createWebhookKey(deps, tina, { code: CONTOSO.code });
    assert.equal(asTech.ok ? '' : asTech.error.code, 'ACCESS.NOT_LEAD');
    const asClient = await createWebhookKey(deps, carla, { code: CONTOSO.code });
    assert.equal(asClient.ok ? '' : asClient.error.code, 'ACCESS.NOT_LEAD');
    // Tina has no part in Fabrikam: she is told nothing about it.
    const stranger = await webhookKeyStatus(deps, tina, { code: FABRIKAM.code });
    assert.equal(stranger.ok ? '' : stranger.error.code, 'CLIENT.NOT_FOUND');
    assert.equal(await storage.webhookKeys.get(CONTOSO.tenantId), undefined);
    assert.equal((await storage.audit.read(CONTOSO.tenantId)).length, before);
  });

  it('the operator may act for any client; failed and empty changes write no entry', async () => {
    const operator = { kind: 'operator', operator: OPERATOR } as const;
    assert.ok((await createWebhookKey(deps, operator, { code: FABRIKAM.code })).ok);
    const again = await createWebhookKey(deps, lena, { code: FABRIKAM.code });
    assert.equal(again.ok ? '' : again.error.code, 'WEBHOOK.KEY_EXISTS');
    assert.ok(
      (await retireWebhookKeys(deps, lena, { code: FABRIKAM.code })).ok,
      'nothing to retire',
    );
    const unknown = await retireWebhookKeys(deps, lena, { code: FABRIKAM.code }, 'knope');
    assert.equal(unknown.ok ? '' : unknown.error.code, 'WEBHOOK.NOTHING_TO_RETIRE');
    const tooLong = await rotateWebhookKey(deps, lena, { code: FABRIKAM.code }, 721 * HOUR);
    assert.equal(tooLong.ok, false);
    const noKey = await rotateWebhookKey(deps, lena, { code: CONTOSO.code });
    assert.equal(noKey.ok ? '' : noKey.error.code, 'WEBHOOK.NO_KEY');
    assert.deepEqual(
      (await keyEntries(FABRIKAM.tenantId)).map((e) => [e.type, e.actor]),
      [['webhook.key_created', OPERATOR]],
    );
    assert.deepEqual(await keyEntries(CONTOSO.tenantId), []);
  });
});
