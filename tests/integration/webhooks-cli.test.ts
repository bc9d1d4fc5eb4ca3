import assert from 'node:assert/strict';
import { runWebhooksCommand } from '../../src/cli/webhooks.command';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { onboardSandboxClients } from '../support/client-settings-fixture';

const OPERATOR = { tid: MSP.tenantId, oid: 'cabinet-cli' };

describe('cabinet webhooks (Table Storage on Azurite)', () => {
  const azurite = useAzurite();

  it('creates, shows, rotates and retires a client key, printing each secret once', async () => {
    const clock = new FakeClock();
    const storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
    const lines: string[] = [];
    const run = (...args: string[]) =>
      runWebhooksCommand(args, {
        keys: storage.webhookKeys,
        clients: storage.clients,
        mspTenantId: MSP.tenantId,
        operator: OPERATOR,
        now: () => clock.now(),
        out: (l) => lines.push(l),
      });

    assert.equal(await run('show', '--client', CONTOSO.code), 1);
    assert.equal(await run('create', '--client', CONTOSO.code.toLowerCase()), 0);
    const created = lines.join('\n');
    const path = /URL path: (\/api\/webhooks\/wh_[a-z2-7]{26})/.exec(created)?.[1];
    const kid = /Key id: +(\S+)/.exec(created)?.[1];
    const secret = /Secret: +(whsec_\S+)/.exec(created)?.[1];
    assert.ok(path && kid && secret, created);
    assert.equal(await run('create', '--client', CONTOSO.code), 1);

    lines.length = 0;
    assert.equal(await run('rotate', '--client', CONTOSO.code, '--grace-hours', '2'), 0);
    const rotated = lines.join('\n');
    assert.match(rotated, new RegExp(`Key id ${kid} keeps working until 2026-11-23T11:00:00.000Z`));
    assert.ok(!rotated.includes(secret));

    lines.length = 0;
    assert.equal(await run('retire', '--client', CONTOSO.code), 0);
    assert.equal(await run('show', '--client', CONTOSO.code), 0);
    const shown = lines.join('\n');
    assert.match(shown, new RegExp(`${kid} +created .* retired 2026-11-23T09:00:00.000Z`));
    assert.ok(!shown.includes('whsec_'), 'show never prints a secret');
    assert.equal(await run('show', '--client', 'NOPE'), 2);

    // Each change is in Contoso's audit chain under the operator, with kids and never a secret.
    const entries = (await storage.audit.read(CONTOSO.tenantId))
      .map((e) => JSON.parse(e.canonical) as { type: string; actor: unknown })
      .filter((e) => e.type.startsWith('webhook.key_'));
    assert.deepEqual(
      entries.map((e) => [e.type, e.actor]),
      [
        ['webhook.key_created', OPERATOR],
        ['webhook.key_rotated', OPERATOR],
        ['webhook.key_retired', OPERATOR],
      ],
    );
    assert.equal(await run('frobnicate'), 2);
  });
});
