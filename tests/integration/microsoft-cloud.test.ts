import {
  BatchRequestContent,
  BatchResponseContent,
  GraphError,
  PageIterator,
  type Client,
  type PageCollection,
} from '@microsoft/microsoft-graph-client';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import {
  SANDBOX_DIRECTORY,
  SANDBOX_SKUS,
  type RunningMicrosoftCloud,
  type SandboxTenant,
} from '../../src/sandbox/microsoft-cloud';
import { graphClientFor, startTestCloud } from '../support/microsoft-cloud-fixture';

const contoso = SANDBOX_DIRECTORY.contoso;
const fabrikam = SANDBOX_DIRECTORY.fabrikam;
const ref = (id: string) => ({
  '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}`,
});
const newUser = (alias: string, extra: Record<string, unknown> = {}) => ({
  accountEnabled: true,
  displayName: `New ${alias}`,
  mailNickname: alias,
  userPrincipalName: `${alias}@${contoso.domain}`,
  usageLocation: 'GB',
  passwordProfile: { forceChangePasswordNextSignIn: true, password: 'Temp-Passw0rd!' },
  ...extra,
});

type BatchBody = ConstructorParameters<typeof BatchResponseContent>[0];

async function graphError(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GraphError, String(error));
    assert.match(error.requestId ?? '', /^[0-9a-f-]{36}$/);
    return error;
  }
  return assert.fail('expected a GraphError');
}

describe('Sandbox Microsoft cloud: Graph', () => {
  let cloud: RunningMicrosoftCloud;
  let client: Client;
  let tenant: SandboxTenant;

  beforeEach(async () => {
    cloud = await startTestCloud();
    client = graphClientFor(cloud, contoso.tenantId);
    tenant = cloud.tenant(contoso.tenantId);
  });

  afterEach(async () => {
    await cloud.stop();
  });

  it('creates a user and reads it back with $select and the default properties', async () => {
    const created = (await client.api('/users').post(newUser('nina.new'))) as { id: string };
    const selected = (await client
      .api(`/users/nina.new@${contoso.domain}`)
      .select(['id', 'accountEnabled', 'usageLocation', 'mailNickname'])
      .get()) as Record<string, unknown>;
    assert.deepEqual(
      { ...selected, '@odata.context': undefined },
      {
        '@odata.context': undefined,
        id: created.id,
        accountEnabled: true,
        usageLocation: 'GB',
        mailNickname: 'nina.new',
      },
    );
    const plain = (await client.api(`/users/${created.id}`).get()) as Record<string, unknown>;
    assert.equal(plain['displayName'], 'New nina.new');
    assert.equal('accountEnabled' in plain, false);
    assert.equal(tenant.user(`nina.new@${contoso.domain}`)?.id, created.id);
  });

  it('refuses what Entra refuses, in Graph error envelopes the SDK understands', async () => {
    const cases: [Promise<unknown>, number, string, RegExp][] = [
      [
        client.api('/users').post(newUser('lee.leaver')),
        400,
        'Request_BadRequest',
        /same value for property userPrincipalName/,
      ],
      [
        client.api('/users').post(newUser('x', { userPrincipalName: 'x@elsewhere.example' })),
        400,
        'Request_BadRequest',
        /userPrincipalName is invalid/,
      ],
      [
        client.api('/users').post(newUser('weak', { passwordProfile: { password: 'short' } })),
        400,
        'Request_BadRequest',
        /complexity/,
      ],
      [
        client.api(`/users/${contoso.users.una.id}/assignLicense`).post({
          addLicenses: [{ skuId: SANDBOX_SKUS.businessPremium.skuId, disabledPlans: [] }],
          removeLicenses: [],
        }),
        400,
        'Request_BadRequest',
        /invalid usage location/,
      ],
      [
        client.api(`/users/${contoso.users.mo.id}/assignLicense`).post({
          addLicenses: [{ skuId: SANDBOX_SKUS.e3.skuId, disabledPlans: [] }],
          removeLicenses: [],
        }),
        400,
        'Request_BadRequest',
        /does not have any available licenses/,
      ],
      [
        client.api(`/users/${contoso.users.mo.id}/assignLicense`).post({
          addLicenses: [{ skuId: '11111111-2222-4333-8444-555555555555', disabledPlans: [] }],
          removeLicenses: [],
        }),
        400,
        'Request_BadRequest',
        /valid company License/,
      ],
      [
        client
          .api(`/users/${contoso.users.lee.id}/assignLicense`)
          .post({ addLicenses: [], removeLicenses: [SANDBOX_SKUS.e3.skuId] }),
        400,
        'Request_BadRequest',
        /inherited from a group membership/,
      ],
      [
        client
          .api(`/groups/${contoso.groups.salesTeam.id}/members/$ref`)
          .post(ref(contoso.users.lee.id)),
        400,
        'Request_BadRequest',
        /already exist/,
      ],
      [
        client
          .api(`/groups/${contoso.groups.salesTeam.id}/members/${contoso.users.mo.id}/$ref`)
          .delete(),
        404,
        'Request_ResourceNotFound',
        /do not exist/,
      ],
      [
        client
          .api(`/groups/${contoso.groups.salesAnnouncements.id}/members/$ref`)
          .post(ref(contoso.users.mo.id)),
        400,
        'Request_BadRequest',
        /mail-enabled security groups and or distribution list/,
      ],
      [
        client
          .api(`/groups/${contoso.groups.salesDynamic.id}/members/$ref`)
          .post(ref(contoso.users.mo.id)),
        400,
        'Request_BadRequest',
        /dynamic membership/,
      ],
      [
        client.api(`/users/${contoso.users.una.id}/mailboxSettings`).get(),
        404,
        'MailboxNotEnabledForRESTAPI',
        /mailbox/,
      ],
      [
        client.api(`/users/${contoso.users.carla.id}`).patch({ accountEnabled: false }),
        403,
        'Authorization_RequestDenied',
        /Insufficient privileges/,
      ],
      [
        client.api('/users/nobody@contoso.example').get(),
        404,
        'Request_ResourceNotFound',
        /does not exist/,
      ],
      [
        client.api('/users').filter("startswith(mail,'a') or displayName eq 'b'").get(),
        400,
        'Request_UnsupportedQuery',
        /Unsupported/,
      ],
      [client.api('/nonsense').get(), 400, 'BadRequest', /segment 'nonsense'/],
    ];
    for (const [promise, statusCode, code, message] of cases) {
      const error = await graphError(promise);
      assert.equal(error.statusCode, statusCode, error.message);
      assert.equal(error.code, code, error.message);
      assert.match(error.message, message);
    }
    assert.deepEqual(tenant.counters().mutations, {});
  });

  it('keeps seat counts and licence sources as Entra reports them', async () => {
    const before = (await client.api('/subscribedSkus').get()) as {
      value: { skuPartNumber: string; consumedUnits: number; prepaidUnits: { enabled: number } }[];
    };
    const free = (part: string, skus: typeof before) => {
      const sku = skus.value.find((candidate) => candidate.skuPartNumber === part)!;
      return sku.prepaidUnits.enabled - sku.consumedUnits;
    };
    assert.equal(free('SPB', before), 2);
    assert.equal(free('ENTERPRISEPACK', before), 0);

    await client.api(`/users/${contoso.users.mo.id}/assignLicense`).post({
      addLicenses: [{ skuId: SANDBOX_SKUS.businessPremium.skuId, disabledPlans: [] }],
      removeLicenses: [SANDBOX_SKUS.exchangeOnline.skuId],
    });
    const after = (await client.api('/subscribedSkus').get()) as typeof before;
    assert.equal(free('SPB', after), 1);
    assert.equal(free('EXCHANGESTANDARD', after), free('EXCHANGESTANDARD', before) + 1);

    const lee = (await client
      .api(`/users/${contoso.users.lee.id}`)
      .select('licenseAssignmentStates')
      .get()) as { licenseAssignmentStates: { skuId: string; assignedByGroup: string | null }[] };
    assert.deepEqual(
      lee.licenseAssignmentStates.map((state) => [state.skuId, state.assignedByGroup]),
      [
        [SANDBOX_SKUS.businessPremium.skuId, null],
        [SANDBOX_SKUS.e3.skuId, contoso.groups.e3Users.id],
      ],
    );
    const details = (await client.api(`/users/${contoso.users.lee.id}/licenseDetails`).get()) as {
      value: { skuPartNumber: string }[];
    };
    assert.deepEqual(
      details.value.map((detail) => detail.skuPartNumber),
      ['SPB', 'ENTERPRISEPACK'],
    );
  });

  it('pages with absolute https nextLinks that PageIterator follows', async () => {
    const first = (await client
      .api('/users')
      .select('id,userPrincipalName')
      .top(2)
      .get()) as PageCollection;
    assert.match(
      first['@odata.nextLink'] ?? '',
      new RegExp(`^${cloud.url}/v1.0/users\\?.*\\$skiptoken=`),
    );
    const seen: string[] = [];
    await new PageIterator(client, first, (user: { userPrincipalName: string }) => {
      seen.push(user.userPrincipalName);
      return true;
    }).iterate();
    assert.deepEqual(
      seen.sort(),
      tenant
        .users()
        .map((user) => user.userPrincipalName)
        .sort(),
    );
    assert.ok(tenant.counters().roundTrips >= Math.ceil(seen.length / 2));

    const filtered = (await client
      .api('/users')
      .filter(`userPrincipalName eq '${contoso.users.lee.userPrincipalName}'`)
      .get()) as { value: { id: string }[] };
    assert.deepEqual(
      filtered.value.map((user) => user.id),
      [contoso.users.lee.id],
    );
  });

  it('changes memberships, manager, auto-reply and sessions, and counts each mutation once', async () => {
    const lee = contoso.users.lee.id;
    await client.api(`/groups/${contoso.groups.salesTeam.id}/members/${lee}/$ref`).delete();
    await client.api(`/groups/${contoso.groups.itAdmins.id}/owners/$ref`).post(ref(lee));
    await client.api(`/users/${lee}/manager/$ref`).delete();
    await client
      .api(`/users/${lee}/manager/$ref`)
      .put({ '@odata.id': `https://graph.microsoft.com/v1.0/users/${contoso.users.avery.id}` });
    const revoked = (await client.api(`/users/${lee}/revokeSignInSessions`).post({})) as {
      value: boolean;
    };
    assert.equal(revoked.value, true);
    await client.api(`/users/${lee}/mailboxSettings`).patch({
      automaticRepliesSetting: {
        status: 'alwaysEnabled',
        externalAudience: 'all',
        internalReplyMessage: 'Gone',
        externalReplyMessage: 'Gone',
      },
    });
    await client.api(`/users/${lee}`).patch({ accountEnabled: false });

    const inspected = tenant.user(lee)!;
    assert.equal(inspected.accountEnabled, false);
    assert.equal(inspected.managerId, contoso.users.avery.id);
    assert.equal(inspected.autoReply.status, 'alwaysEnabled');
    assert.ok(inspected.sessionsRevokedAt);
    assert.equal(inspected.memberOf.includes(contoso.groups.salesTeam.id), false);
    assert.equal(inspected.ownerOf.includes(contoso.groups.itAdmins.id), true);
    const memberOf = (await client
      .api(`/users/${lee}/memberOf/microsoft.graph.group`)
      .select('id')
      .get()) as { value: { id: string }[] };
    assert.deepEqual(
      memberOf.value.map((group) => group.id).sort(),
      [...inspected.memberOf].sort(),
    );
    const manager = (await client.api(`/users/${lee}/manager`).get()) as { id: string };
    assert.equal(manager.id, contoso.users.avery.id);

    assert.deepEqual(tenant.counters().mutations, {
      'DELETE /groups/{id}/members/{id}/$ref': 1,
      'POST /groups/{id}/owners/$ref': 1,
      'DELETE /users/{id}/manager/$ref': 1,
      'PUT /users/{id}/manager/$ref': 1,
      'POST /users/{id}/revokeSignInSessions': 1,
      'PATCH /users/{id}/mailboxSettings': 1,
      'PATCH /users/{id}': 1,
    });
    assert.deepEqual(
      tenant.mutationLog().map((entry) => entry.sequence),
      [1, 2, 3, 4, 5, 6, 7],
    );
  });

  it('deletes the member itself when /$ref is missing, and restores it from deletedItems', async () => {
    const sam = contoso.users.sam;
    await client.api(`/groups/${contoso.groups.salesTeam.id}/members/${sam.id}`).delete();
    assert.equal(tenant.user(sam.id), undefined);
    assert.deepEqual(
      tenant
        .deletedUsers()
        .map((user) => user.id)
        .sort(),
      [contoso.users.pat.id, sam.id].sort(),
    );
    const deleted = (await client.api('/directory/deletedItems/microsoft.graph.user').get()) as {
      value: { id: string }[];
    };
    assert.equal(
      deleted.value.some((user) => user.id === sam.id),
      true,
    );

    await client.api('/users').post(newUser(sam.userPrincipalName.split('@')[0]!));
    const conflict = await graphError(
      client.api(`/directory/deletedItems/${sam.id}/restore`).post({}),
    );
    assert.equal(conflict.statusCode, 400);
    const restored = (await client
      .api(`/directory/deletedItems/${sam.id}/restore`)
      .post({ newUserPrincipalName: `sam.returns@${contoso.domain}` })) as {
      id: string;
      userPrincipalName: string;
    };
    assert.equal(restored.id, sam.id);
    assert.equal(tenant.user(sam.id)?.userPrincipalName, `sam.returns@${contoso.domain}`);
    assert.equal(tenant.user(sam.id)?.memberOf.includes(contoso.groups.salesTeam.id), true);
  });

  it('runs $batch sub-requests through the same handlers, with dependsOn and 424', async () => {
    const url = (path: string) => `${cloud.url}/v1.0${path}`;
    const json = { 'Content-Type': 'application/json' };
    const batch = new BatchRequestContent([
      {
        id: '1',
        request: new Request(url(`/users/${contoso.users.mo.id}?$select=id,accountEnabled`)),
      },
      {
        id: '2',
        request: new Request(url(`/groups/${contoso.groups.salesTeam.id}/members/$ref`), {
          method: 'POST',
          headers: json,
          body: JSON.stringify(ref(contoso.users.mo.id)),
        }),
      },
      {
        id: '3',
        request: new Request(url(`/groups/${contoso.groups.salesTeam.id}/members/$ref`), {
          method: 'POST',
          headers: json,
          body: JSON.stringify(ref(contoso.users.lee.id)),
        }),
      },
    ]);
    const responses = new BatchResponseContent(
      (await client.api('/$batch').post(await batch.getContent())) as BatchBody,
    );
    assert.equal(responses.getResponseById('1').status, 200);
    assert.equal(responses.getResponseById('2').status, 204);
    assert.equal(responses.getResponseById('3').status, 400);
    assert.equal(
      tenant.group(contoso.groups.salesTeam.id)?.members.includes(contoso.users.mo.id),
      true,
    );

    const dependent = new BatchRequestContent([
      {
        id: 'first',
        request: new Request(url(`/groups/${contoso.groups.salesAnnouncements.id}/members/$ref`), {
          method: 'POST',
          headers: json,
          body: JSON.stringify(ref(contoso.users.mo.id)),
        }),
      },
      {
        id: 'then',
        request: new Request(url(`/users/${contoso.users.mo.id}`), {
          method: 'PATCH',
          headers: json,
          body: JSON.stringify({ jobTitle: 'Never' }),
        }),
      },
    ]);
    dependent.addDependency('then', 'first');
    const chained = new BatchResponseContent(
      (await client.api('/$batch').post(await dependent.getContent())) as BatchBody,
    );
    assert.equal(chained.getResponseById('first').status, 400);
    assert.equal(chained.getResponseById('then').status, 424);
    assert.equal(tenant.user(contoso.users.mo.id)?.jobTitle, 'Support Engineer');
    assert.deepEqual(tenant.counters().mutations, { 'POST /groups/{id}/members/$ref': 1 });
    assert.equal(tenant.mutationLog()[0]?.viaBatch, true);
    assert.equal(tenant.counters().batchRequests, 2);

    const tooMany = new Array(21)
      .fill(0)
      .map((_, index) => ({ id: String(index), method: 'GET', url: '/users' }));
    assert.equal(
      (await graphError(client.api('/$batch').post({ requests: tooMany }))).statusCode,
      400,
    );
    const duplicates = [
      { id: 'a', method: 'GET', url: 'users' },
      { id: 'A', method: 'GET', url: 'users' },
    ];
    assert.equal(
      (await graphError(client.api('/$batch').post({ requests: duplicates }))).statusCode,
      400,
    );
  });

  it('throttles the next matching requests with Retry-After, top level and inside $batch', async () => {
    const noRetry = graphClientFor(cloud, contoso.tenantId, { retry: false });
    tenant.throttle({ count: 1, retryAfterSeconds: 7, match: { route: 'GET /users/{id}' } });
    const throttled = await graphError(noRetry.api(`/users/${contoso.users.mo.id}`).get());
    assert.equal(throttled.statusCode, 429);
    assert.equal(throttled.code, 'TooManyRequests');
    assert.equal(throttled.headers?.get('retry-after'), '7');
    await noRetry.api(`/users/${contoso.users.mo.id}`).get();

    tenant.throttle({
      count: 1,
      status: 503,
      retryAfterFormat: 'http-date',
      match: { method: 'PATCH' },
    });
    const raw = (await noRetry.api('/$batch').post({
      requests: [
        { id: 'a', method: 'GET', url: `/users/${contoso.users.mo.id}` },
        {
          id: 'b',
          method: 'PATCH',
          url: `users/${contoso.users.mo.id}`,
          headers: { 'Content-Type': 'application/json' },
          body: { jobTitle: 'Lead' },
        },
      ],
    })) as { responses: { id: string; status: number; headers: Record<string, string> }[] };
    const byId = new Map(raw.responses.map((response) => [response.id, response]));
    assert.equal(byId.get('a')?.status, 200);
    assert.equal(byId.get('b')?.status, 503);
    assert.ok(!Number.isNaN(Date.parse(byId.get('b')!.headers['Retry-After']!)));

    tenant.throttle({ count: 1, retryAfterSeconds: 0 });
    const retried = (await client
      .api(`/users/${contoso.users.mo.id}`)
      .select('jobTitle')
      .get()) as { jobTitle: string };
    assert.equal(retried.jobTitle, 'Support Engineer');
    assert.equal(tenant.counters().throttled, 3);
  });

  it('fails matching requests permanently until reset, and adds latency per round trip', async () => {
    const noRetry = graphClientFor(cloud, contoso.tenantId, { retry: false });
    tenant.fail({
      status: 400,
      code: 'Request_BadRequest',
      message: 'Injected',
      match: { route: 'PATCH /users/{id}' },
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await graphError(
        noRetry.api(`/users/${contoso.users.mo.id}`).patch({ jobTitle: 'X' }),
      );
      assert.equal(error.message, 'Injected');
    }
    tenant.reset();
    await noRetry.api(`/users/${contoso.users.mo.id}`).patch({ jobTitle: 'X' });

    tenant.setLatency(120);
    const started = Date.now();
    await noRetry.api('/$batch').post({
      requests: ['1', '2', '3'].map((id) => ({
        id,
        method: 'GET',
        url: `/users/${contoso.users.mo.id}`,
      })),
    });
    assert.ok(Date.now() - started >= 120);
  });

  it('can carry out a request and lose its response', async () => {
    const noRetry = graphClientFor(cloud, contoso.tenantId, { retry: false });
    tenant.loseResponse({ mode: 'gateway-timeout', match: { route: 'POST /users' } });
    const timedOut = await graphError(noRetry.api('/users').post(newUser('olive.once')));
    assert.equal(timedOut.statusCode, 504);
    assert.ok(tenant.user(`olive.once@${contoso.domain}`));

    tenant.loseResponse({ mode: 'drop-connection', match: { route: 'POST /users' } });
    await assert.rejects(noRetry.api('/users').post(newUser('dora.drop')));
    assert.ok(tenant.user(`dora.drop@${contoso.domain}`));
    assert.deepEqual(
      tenant.mutationLog().map((entry) => [entry.route, entry.responseLost]),
      [
        ['POST /users', true],
        ['POST /users', true],
      ],
    );
  });

  it('keeps each tenant to itself and checks the token and its roles', async () => {
    const fabrikamUser = await graphError(client.api(`/users/${fabrikam.users.gail.id}`).get());
    assert.equal(fabrikamUser.statusCode, 404);
    const fabrikamClient = graphClientFor(cloud, fabrikam.tenantId);
    const users = (await fabrikamClient.api('/users').select('userPrincipalName').get()) as {
      value: { userPrincipalName: string }[];
    };
    assert.ok(users.value.every((user) => user.userPrincipalName.endsWith(`@${fabrikam.domain}`)));

    const anonymous = await fetch(`${cloud.url}/v1.0/users`, {
      dispatcher: new Agent({ connect: { ca: cloud.caCertificatePem } }),
    });
    assert.equal(anonymous.status, 401);
    assert.equal(
      ((await anonymous.json()) as { error: { code: string } }).error.code,
      'InvalidAuthenticationToken',
    );

    tenant.setAppRoles(['Directory.Read.All']);
    const readOnly = graphClientFor(cloud, contoso.tenantId);
    const denied = await graphError(
      readOnly.api(`/users/${contoso.users.mo.id}`).patch({ jobTitle: 'X' }),
    );
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'Authorization_RequestDenied');
  });
});

describe('Sandbox Microsoft cloud: state file', () => {
  it('keeps directory changes across a restart', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cabinet-cloud-state-'));
    const stateFile = join(folder, 'state.json');
    try {
      const first = await startTestCloud({ stateFile });
      await graphClientFor(first, contoso.tenantId).api('/users').post(newUser('stella.stays'));
      await first.stop();
      const second = await startTestCloud({ stateFile });
      try {
        assert.ok(second.tenant(contoso.tenantId).user(`stella.stays@${contoso.domain}`));
        assert.equal(second.tenant(contoso.tenantId).counters().mutations['POST /users'], 1);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
