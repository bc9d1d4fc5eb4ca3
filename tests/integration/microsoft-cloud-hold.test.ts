import type { Client } from '@microsoft/microsoft-graph-client';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import {
  SANDBOX_DIRECTORY,
  type RunningMicrosoftCloud,
  type SandboxTenant,
} from '../../src/sandbox/microsoft-cloud';
import {
  confidentialClientFor,
  graphClientFor,
  startTestCloud,
} from '../support/microsoft-cloud-fixture';

const contoso = SANDBOX_DIRECTORY.contoso;
const mo = contoso.users.mo.id;
const falcon = contoso.groups.projectFalcon.id;

/** Tracks whether a request has been answered yet, without awaiting it. */
function watch<T>(promise: Promise<T>): {
  readonly done: () => boolean;
  readonly result: Promise<T>;
} {
  let done = false;
  const result = promise.finally(() => (done = true));
  return { done: () => done, result };
}

describe('Sandbox Microsoft cloud: holding requests', () => {
  let cloud: RunningMicrosoftCloud;
  let client: Client;
  let tenant: SandboxTenant;

  beforeEach(async () => {
    cloud = await startTestCloud();
    client = graphClientFor(cloud, contoso.tenantId, { retry: false });
    tenant = cloud.tenant(contoso.tenantId);
  });

  afterEach(async () => {
    await cloud.stop();
  });

  it('applies a request held after, and answers only once released', async () => {
    const hold = tenant.hold({ phase: 'after', match: { route: 'PATCH /users/{id}' } });
    const patch = watch(client.api(`/users/${mo}`).patch({ jobTitle: 'Held' }));

    const [held] = await hold.held;

    assert.deepEqual(held, {
      method: 'PATCH',
      path: `/users/${mo}`,
      route: 'PATCH /users/{id}',
      viaBatch: false,
    });
    assert.equal(tenant.user(mo)?.jobTitle, 'Held');
    assert.deepEqual(
      tenant.mutationLog().map((m) => m.route),
      ['PATCH /users/{id}'],
    );
    assert.equal(patch.done(), false);
    hold.release();
    await patch.result;
    assert.deepEqual(await hold.ended, ['released']);
  });

  it('applies nothing of a request held before until it is released', async () => {
    const hold = tenant.hold({ phase: 'before', match: { route: 'PATCH /users/{id}' } });
    const patch = watch(client.api(`/users/${mo}`).patch({ jobTitle: 'Later' }));

    await hold.held;

    assert.equal(tenant.user(mo)?.jobTitle, 'Support Engineer');
    assert.deepEqual(tenant.mutationLog(), []);
    hold.release();
    await patch.result;
    assert.equal(tenant.user(mo)?.jobTitle, 'Later');
  });

  it('never applies a request held before whose caller hung up', async () => {
    const hold = tenant.hold({ phase: 'before', match: { route: 'PATCH /users/{id}' } });
    const token = await confidentialClientFor(cloud).acquireTokenByClientCredential({
      authority: cloud.authorityFor(contoso.tenantId),
      scopes: ['https://graph.microsoft.com/.default'],
    });
    const outgoing = httpsRequest(`${cloud.url}/v1.0/users/${mo}`, {
      method: 'PATCH',
      ca: cloud.caCertificatePem,
      headers: {
        Authorization: `Bearer ${token!.accessToken}`,
        'Content-Type': 'application/json',
      },
    });
    outgoing.on('error', () => undefined);
    outgoing.end(JSON.stringify({ jobTitle: 'Never' }));

    await hold.held;
    outgoing.destroy();

    assert.deepEqual(await hold.ended, ['caller-gone']);
    hold.release();
    assert.equal(tenant.user(mo)?.jobTitle, 'Support Engineer');
    assert.deepEqual(tenant.mutationLog(), []);
  });

  it('holds a whole $batch by its envelope: nothing run before, everything run after', async () => {
    const batch = {
      requests: [
        { id: '1', method: 'PATCH', url: `/users/${mo}`, body: { jobTitle: 'Batched' } },
        {
          id: '2',
          method: 'DELETE',
          url: `/groups/${contoso.groups.itAdmins.id}/members/${mo}/$ref`,
        },
      ].map((r) => (r.body ? { ...r, headers: { 'Content-Type': 'application/json' } } : r)),
    };
    const before = tenant.hold({ phase: 'before', match: { route: 'POST /$batch' } });
    const first = watch(client.api('/$batch').post(batch));
    await before.held;
    assert.deepEqual(tenant.mutationLog(), []);
    before.release();
    await first.result;
    assert.equal(tenant.mutationLog().length, 2);

    tenant.resetCounters();
    const after = tenant.hold({ phase: 'after', match: { route: 'POST /$batch' } });
    const second = watch(
      client.api('/$batch').post({
        requests: [
          {
            id: '1',
            method: 'POST',
            url: `/groups/${falcon}/members/$ref`,
            headers: { 'Content-Type': 'application/json' },
            body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${mo}` },
          },
        ],
      }),
    );
    await after.held;
    assert.deepEqual(
      tenant.mutationLog().map((m) => [m.route, m.viaBatch]),
      [['POST /groups/{id}/members/$ref', true]],
    );
    assert.equal(second.done(), false);
    after.release();
    await second.result;
  });

  it('holds as many requests as asked, lets later ones pass, and lets all go on reset', async () => {
    const hold = tenant.hold({ phase: 'before', count: 2, match: { method: 'PATCH' } });
    const ids = [mo, contoso.users.sam.id, contoso.users.andy.id];
    const patches = ids.map((id) => watch(client.api(`/users/${id}`).patch({ jobTitle: 'New' })));

    const held = await hold.held;
    const passed = ids.findIndex((id) => !held.some((h) => h.path === `/users/${id}`));
    await patches[passed]!.result;

    assert.equal(held.length, 2);
    assert.equal(tenant.mutationLog().length, 1);
    tenant.reset();
    await Promise.all(patches.map((p) => p.result));
    assert.deepEqual(await hold.ended, ['released', 'released']);
    assert.equal(tenant.mutationLog().length, 3);
  });
});
