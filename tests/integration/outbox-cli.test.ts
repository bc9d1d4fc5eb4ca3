import assert from 'node:assert/strict';
import { runOutboxCommand } from '../../src/cli/outbox.command';
import { FakeClock } from '../fakes/in-memory-storage';
import { newTenant, notify, profile, request, write } from '../contract/contract-support';
import { useAzurite } from '../support/azurite-fixture';

describe('cabinet outbox (Table Storage on Azurite)', () => {
  const azurite = useAzurite();

  it('lists parked rows across clients and makes one due again', async () => {
    const clock = new FakeClock();
    const storage = await azurite.newStorage({ clock });
    const tenant = newTenant();
    await storage.clients.create(profile(tenant), []);
    await storage.requests.create(tenant, (n) =>
      write(request(tenant, n), [notify(tenant, `CONTOSO-${n}`)]),
    );
    const [row] = await storage.outbox.claimDue(tenant, clock.now());
    await storage.outbox.fail(row!, { error: 'Teams answered 403', park: true }, clock.now());
    const lines: string[] = [];
    const run = (...args: string[]) =>
      runOutboxCommand(args, {
        outbox: storage.outbox,
        clients: storage.clients,
        now: () => clock.now(),
        out: (l) => lines.push(l),
      });

    assert.equal(await run('list', '--status', 'parked'), 0);
    assert.match(
      lines.join('\n'),
      new RegExp(
        `${tenant} ${row!.id} parked .*attempts 1[\\s\\S]*status_update for CONTOSO-1[\\s\\S]*last error: Teams answered 403`,
      ),
    );

    lines.length = 0;
    assert.equal(await run('retry', '--tenant', tenant, '--id', row!.id), 0);
    assert.equal(await run('retry', '--tenant', tenant, '--id', 'nope'), 1);
    assert.equal(await run('list', '--tenant', tenant, '--status', 'parked'), 0);
    assert.deepEqual(lines.slice(1), [
      `No retryable outbox row nope for tenant ${tenant}: it does not exist or was already delivered.`,
      'No outbox rows with status parked.',
    ]);
    assert.equal((await storage.outbox.claimDue(tenant, clock.now()))[0]?.id, row!.id);
    assert.equal(await run('list', '--status', 'lost'), 2);
  });
});
