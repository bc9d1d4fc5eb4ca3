import assert from 'node:assert/strict';
import {
  createGraphDirectory,
  type GraphTenantDirectory,
} from '../../src/adapters/graph/graph-tenant-directory';
import type { TenantId } from '../../src/domain/shared/ids';
import {
  SANDBOX_DIRECTORY,
  type RunningMicrosoftCloud,
  type SandboxTenant,
} from '../../src/sandbox/microsoft-cloud';
import { startTestCloud } from '../support/microsoft-cloud-fixture';

const CONTOSO = SANDBOX_DIRECTORY.contoso.tenantId as TenantId;
const FABRIKAM = SANDBOX_DIRECTORY.fabrikam.tenantId as TenantId;
const contosoUsers = Object.values(SANDBOX_DIRECTORY.contoso.users);
const gail = SANDBOX_DIRECTORY.fabrikam.users.gail;

describe('GraphTenantDirectory: requests in flight per client tenant (sandbox cloud)', () => {
  let cloud: RunningMicrosoftCloud;
  let contoso: SandboxTenant;
  let directory: GraphTenantDirectory | undefined;

  before(async () => {
    cloud = await startTestCloud();
    contoso = cloud.tenant(CONTOSO);
  });
  afterEach(async () => {
    await directory?.close();
    directory = undefined;
    contoso.reset();
  });
  after(async () => {
    await cloud.stop();
  });

  /** A directory whose tokens for both tenants are already fetched, with counters from zero. */
  async function open(maxConcurrentRequestsPerTenant: number): Promise<GraphTenantDirectory> {
    directory = createGraphDirectory({
      clientId: cloud.app.clientId,
      credential: { kind: 'secret', clientSecret: cloud.app.clientSecret },
      cloud: { kind: 'sandbox', url: cloud.url, caCertificatePem: cloud.caCertificatePem },
      maxConcurrentRequestsPerTenant,
    });
    await directory.listSkus(CONTOSO);
    await directory.listSkus(FABRIKAM);
    contoso.resetCounters();
    return directory;
  }

  it('lets no more than the cap reach a tenant at once, the rest in turn, while another tenant is served', async () => {
    const sut = await open(2);
    const users = contosoUsers.slice(0, 6);
    // One hold per request, so each arrival at the server is seen and each is let go on its own.
    const holds = users.map(() =>
      contoso.hold({ phase: 'before', match: { route: 'GET /users/{id}' } }),
    );
    const reads = users.map((u) => sut.findUser(CONTOSO, u.userPrincipalName));

    await Promise.all([holds[0]!.held, holds[1]!.held]);
    const elsewhere = await sut.findUser(FABRIKAM, gail.userPrincipalName);
    assert.equal(elsewhere?.id, gail.id, 'Fabrikam is answered while Contoso has two held');
    assert.equal(contoso.counters().roundTrips, 2, 'no third request reached Contoso');

    for (const [i, hold] of holds.entries()) {
      hold.release();
      const next = holds[i + 2];
      if (!next) continue;
      await next.held;
      assert.equal(contoso.counters().roundTrips, i + 3, 'each answer lets exactly one more in');
    }
    assert.deepEqual(
      (await Promise.all(reads)).map((u) => u?.id),
      users.map((u) => u.id),
    );
  });

  it('counts a $batch as one request, and a read of the same tenant waits for it', async () => {
    const sut = await open(1);
    const batch = contoso.hold({ phase: 'before', match: { route: 'POST /$batch' } });
    const [lee, mo, sam] = [
      SANDBOX_DIRECTORY.contoso.users.lee,
      SANDBOX_DIRECTORY.contoso.users.mo,
      SANDBOX_DIRECTORY.contoso.users.sam,
    ];
    const performed = sut.perform(
      CONTOSO,
      [lee, mo, sam].map((u) => ({ kind: 'user.revokeSessions' as const, userId: u.id })),
      { together: true },
    );
    await batch.held;
    const read = sut.findUser(CONTOSO, lee.userPrincipalName);

    assert.equal((await sut.findUser(FABRIKAM, gail.userPrincipalName))?.id, gail.id);
    assert.equal(contoso.counters().roundTrips, 1, 'the read waits behind the held batch');
    batch.release();

    assert.deepEqual(
      (await performed).map((o) => o.ok),
      [true, true, true],
    );
    assert.equal((await read)?.id, lee.id);
    const counters = contoso.counters();
    assert.deepEqual(
      [counters.roundTrips, counters.batchRequests, counters.batchedRequests],
      [2, 1, 3],
    );
  });
});
