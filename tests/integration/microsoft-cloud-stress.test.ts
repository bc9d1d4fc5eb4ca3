import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { DiagnosticsChannel } from 'undici';
import {
  createGraphDirectory,
  type CreateGraphDirectoryOptions,
  type GraphTenantDirectory,
} from '../../src/adapters/graph/graph-tenant-directory';
import { DirectoryError } from '../../src/application/ports/tenant-directory';
import type {
  CommandOutcome,
  DirectoryCommand,
  DirectoryGroup,
} from '../../src/domain/execution/directory';
import type { TenantId } from '../../src/domain/shared/ids';
import {
  SANDBOX_DIRECTORY,
  SANDBOX_SKUS,
  startMicrosoftCloud,
  type InspectedUser,
  type RunningMicrosoftCloud,
  type SeededGroup,
  type SeededUser,
} from '../../src/sandbox/microsoft-cloud';
import {
  confidentialClientFor,
  graphClientFor,
  startTestCloud,
} from '../support/microsoft-cloud-fixture';

const contoso = SANDBOX_DIRECTORY.contoso;
const fabrikam = SANDBOX_DIRECTORY.fabrikam;
const EXO = SANDBOX_SKUS.exchangeOnline.skuId;

function directoryFor(
  cloud: RunningMicrosoftCloud,
  options: Partial<CreateGraphDirectoryOptions> = {},
): GraphTenantDirectory {
  return createGraphDirectory({
    clientId: cloud.app.clientId,
    credential: { kind: 'secret', clientSecret: cloud.app.clientSecret },
    cloud: { kind: 'sandbox', url: cloud.url, caCertificatePem: cloud.caCertificatePem },
    sleep: () => Promise.resolve(),
    ...options,
  });
}

/** Every HTTP answer of 500 or more that reached a client of `origin` through undici (the Graph SDK's fetch). */
function watchServerErrors(origin: string): { readonly seen: string[]; stop(): void } {
  const seen: string[] = [];
  const onHeaders = (message: unknown): void => {
    const { request, response } = message as DiagnosticsChannel.RequestHeadersMessage;
    if (String(request.origin ?? '').replace(/\/+$/, '') !== origin) return;
    if (response.statusCode >= 500)
      seen.push(`${request.method} ${request.path} → ${response.statusCode}`);
  };
  subscribe('undici:request:headers', onHeaders);
  return { seen, stop: () => unsubscribe('undici:request:headers', onHeaders) };
}

const sorted = (ids: Iterable<string>): string[] => [...ids].sort();
const idsOf = (groups: readonly DirectoryGroup[]): string[] => sorted(groups.map((g) => g.id));

/** One tenant's part of the storm: who is only read (and must read exactly as seeded), who is written. */
interface TenantLoad {
  readonly tenantId: TenantId;
  readonly readOnly: readonly SeededUser[];
  readonly writers: readonly SeededUser[];
  /** Writers without a usage location get one, then a licence, in that order. */
  readonly unlocated: readonly SeededUser[];
  readonly licensed: readonly SeededUser[];
  readonly memberGroup: SeededGroup;
  readonly ownerGroup: SeededGroup;
  readonly manager: SeededUser;
  readonly groupNames: readonly string[];
}

const LOADS: readonly TenantLoad[] = [
  {
    tenantId: contoso.tenantId as TenantId,
    readOnly: [
      contoso.users.carla,
      contoso.users.andy,
      contoso.users.avery,
      contoso.users.lee,
      contoso.users.mo,
    ],
    writers: [contoso.users.sam, contoso.users.olly, contoso.users.una, contoso.users.dee],
    unlocated: [contoso.users.una],
    licensed: [contoso.users.dee],
    memberGroup: contoso.groups.marketing,
    ownerGroup: contoso.groups.salesTeam,
    manager: contoso.users.andy,
    groupNames: Object.values(contoso.groups).map((g) => g.displayName),
  },
  {
    tenantId: fabrikam.tenantId as TenantId,
    readOnly: [fabrikam.users.fiona, fabrikam.users.frank, fabrikam.users.gail, fabrikam.users.jo],
    writers: [fabrikam.users.kim, fabrikam.users.ravi, fabrikam.users.ivan],
    unlocated: [fabrikam.users.ivan],
    licensed: [],
    memberGroup: fabrikam.groups.engineering,
    ownerGroup: fabrikam.groups.platformTeam,
    manager: fabrikam.users.frank,
    groupNames: Object.values(fabrikam.groups).map((g) => g.displayName),
  },
];

describe('Sandbox Microsoft cloud under concurrent load', function () {
  this.timeout(30_000);

  let folder = '';
  let cloud: RunningMicrosoftCloud | undefined;
  const cloudLog: string[] = [];
  const adapterLog: string[] = [];
  const directories: GraphTenantDirectory[] = [];

  before(async () => {
    // A fresh folder: the cloud makes its CA and keys, and every token is a first one.
    folder = mkdtempSync(join(tmpdir(), 'cabinet-cloud-stress-'));
    cloud = await startMicrosoftCloud({
      certDir: folder,
      stateFile: join(folder, 'state.json'),
      log: (line) => cloudLog.push(line),
    });
  });

  after(async () => {
    await Promise.all(directories.map((d) => d.close()));
    await cloud?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('answers parallel reads and writes for two tenants from a cold start without a single 5xx', async () => {
    const running = cloud!;
    const wire = watchServerErrors(running.url);
    // Two MSAL applications, so first tokens for one tenant are also requested concurrently; one
    // reads one item per page, so collections are followed through nextLinks while writes land.
    const log = (line: string) => adapterLog.push(line);
    const plain = directoryFor(running, { log });
    const paged = directoryFor(running, { log, pageSize: 1 });
    directories.push(plain, paged);

    const seededReaders = new Map(
      LOADS.map((load) => [
        load.tenantId,
        new Map(load.readOnly.map((u) => [u.id, running.tenant(load.tenantId).user(u.id)!])),
      ]),
    );
    const mismatches: string[] = [];
    const expectEqual = (actual: unknown, expected: unknown, what: string) => {
      try {
        assert.deepEqual(actual, expected);
      } catch {
        mismatches.push(`${what}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
      }
    };

    const readExactly = async (
      directory: GraphTenantDirectory,
      load: TenantLoad,
      seeded: InspectedUser,
    ) => {
      const t = load.tenantId;
      const tenant = running.tenant(t);
      const manager = seeded.managerId && tenant.user(seeded.managerId) ? seeded.managerId : null;
      const [user, memberOf, ownerOf, found, autoReply, skus, groups] = await Promise.all([
        directory.findUser(t, seeded.userPrincipalName),
        directory.listGroupsOf(t, seeded.id, 'member'),
        directory.listGroupsOf(t, seeded.id, 'owner'),
        directory.getManager(t, seeded.id),
        directory.getAutoReply(t, seeded.id),
        directory.listSkus(t),
        directory.findGroups(t, load.memberGroup.displayName),
      ]);
      expectEqual(user?.id, seeded.id, `${seeded.userPrincipalName} id`);
      expectEqual(idsOf(memberOf), sorted(seeded.memberOf), `${seeded.userPrincipalName} memberOf`);
      expectEqual(idsOf(ownerOf), sorted(seeded.ownerOf), `${seeded.userPrincipalName} ownerOf`);
      expectEqual(found?.id ?? null, manager, `${seeded.userPrincipalName} manager`);
      expectEqual(autoReply.status, seeded.autoReply.status, `${seeded.userPrincipalName} reply`);
      expectEqual(
        sorted(skus.map((s) => s.skuId)),
        sorted(tenant.skus().map((s) => s.skuId)),
        `${t} skus`,
      );
      expectEqual(idsOf(groups), [load.memberGroup.id], `${t} group lookup`);
    };

    const load = (t: TenantId): TenantLoad => LOADS.find((l) => l.tenantId === t)!;
    /** Reads of users being written: their answers move, so only "answered" is checked. */
    const readWhileWritten = async (
      directory: GraphTenantDirectory,
      t: TenantId,
      writer: SeededUser,
    ) => {
      const notFoundIsFine = (error: unknown) => {
        if (error instanceof DirectoryError && error.failure.reason === 'not_found') return;
        throw error;
      };
      await Promise.all([
        directory.findUser(t, writer.id),
        directory.listGroupsOf(t, writer.id, 'member'),
        directory.listGroupsOf(t, writer.id, 'owner'),
        directory.getAutoReply(t, writer.id).catch(notFoundIsFine),
        ...load(t).groupNames.map((name) => directory.findGroups(t, name)),
      ]);
    };
    // Writers given a licence get a mailbox on the way; auto-replies go to those who had one.
    const hadMailbox = new Set(
      LOADS.flatMap((l) =>
        l.writers.filter((w) => running.tenant(l.tenantId).user(w.id)!.hasMailbox),
      ),
    );
    const writes = (l: TenantLoad): Promise<CommandOutcome[]>[] =>
      l.writers.flatMap((writer, i) => {
        const hasMailbox = hadMailbox.has(writer);
        const together: DirectoryCommand[] = [
          { kind: 'user.revokeSessions', userId: writer.id },
          { kind: 'group.add', groupId: l.memberGroup.id, userId: writer.id, relation: 'member' },
          { kind: 'group.add', groupId: l.ownerGroup.id, userId: writer.id, relation: 'owner' },
          { kind: 'user.setManager', userId: writer.id, managerId: l.manager.id },
          ...(hasMailbox
            ? [
                {
                  kind: 'user.setAutoReply',
                  userId: writer.id,
                  autoReply: {
                    status: 'alwaysEnabled',
                    externalAudience: 'all',
                    internalReplyMessage: 'Away.',
                    externalReplyMessage: 'Away.',
                  },
                } satisfies DirectoryCommand,
              ]
            : []),
        ];
        const licence: DirectoryCommand = {
          kind: 'user.assignLicences',
          userId: writer.id,
          add: [{ skuId: EXO, disabledPlans: [] }],
          remove: [],
        };
        const inOrder: DirectoryCommand[] = l.unlocated.includes(writer)
          ? [{ kind: 'user.update', userId: writer.id, changes: { usageLocation: 'FR' } }, licence]
          : l.licensed.includes(writer)
            ? [licence]
            : [];
        const directory = i % 2 === 0 ? plain : paged;
        return [
          directory.perform(l.tenantId, together, { together: i % 2 === 0 }),
          directory.perform(l.tenantId, inOrder, { together: false }),
        ];
      });

    try {
      // Everything at once, before either directory holds a token.
      const storm: Promise<unknown>[] = [];
      for (const l of LOADS)
        for (const directory of [plain, paged]) {
          for (const seeded of seededReaders.get(l.tenantId)!.values())
            storm.push(readExactly(directory, l, seeded));
          for (const writer of l.writers)
            storm.push(readWhileWritten(directory, l.tenantId, writer));
        }
      const performed = LOADS.flatMap(writes);
      const settled = await Promise.allSettled([...storm, ...performed]);

      const failures = settled.flatMap((s) =>
        s.status === 'rejected' ? [String((s.reason as Error).stack ?? s.reason)] : [],
      );
      assert.deepEqual(failures, [], 'every read answered');
      const refused = (await Promise.all(performed))
        .flat()
        .filter((o): o is Extract<CommandOutcome, { ok: false }> => !o.ok);
      assert.deepEqual(
        refused.map((o) => o.failure),
        [],
        'every write succeeded',
      );
      assert.deepEqual(mismatches, [], 'reads of users nobody wrote match the seed');
    } finally {
      wire.stop();
    }

    // The cloud's reports first: they name the route and carry the stack.
    assert.deepEqual(
      cloudLog.filter((line) => line.includes('request failed') || line.includes('could not')),
      [],
      'the cloud failed no request',
    );
    assert.deepEqual(wire.seen, [], 'no 5xx on the wire');
    assert.deepEqual(adapterLog, [], 'the adapter retried nothing');

    for (const l of LOADS) {
      const tenant = running.tenant(l.tenantId);
      for (const writer of l.writers) {
        const user = tenant.user(writer.id)!;
        assert.ok(user.sessionsRevokedAt, `${writer.userPrincipalName} sessions revoked`);
        assert.ok(user.memberOf.includes(l.memberGroup.id), `${writer.userPrincipalName} member`);
        assert.ok(user.ownerOf.includes(l.ownerGroup.id), `${writer.userPrincipalName} owner`);
        assert.equal(user.managerId, l.manager.id);
        if (hadMailbox.has(writer)) assert.equal(user.autoReply.status, 'alwaysEnabled');
        if (l.unlocated.includes(writer)) assert.equal(user.usageLocation, 'FR');
        if (l.unlocated.includes(writer) || l.licensed.includes(writer))
          assert.ok(user.licences.some((licence) => licence.skuId === EXO));
      }
    }
  });

  it('kept the state file whole through the storm: a restart has every change', async () => {
    await cloud!.stop();
    const restarted = await startMicrosoftCloud({
      certDir: folder,
      stateFile: join(folder, 'state.json'),
    });
    cloud = restarted;
    for (const l of LOADS)
      for (const writer of l.writers) {
        const user = restarted.tenant(l.tenantId).user(writer.id)!;
        assert.ok(user.memberOf.includes(l.memberGroup.id), writer.userPrincipalName);
        assert.equal(user.managerId, l.manager.id);
      }
  });
});

describe('Sandbox Microsoft cloud: failures that are not Graph refusals', function () {
  this.timeout(30_000);

  let folder = '';
  const opened: { stop(): Promise<void> }[] = [];
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'cabinet-cloud-faults-'));
  });
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  /** Contoso's directory record as the state file holds it. */
  interface StoredTenant {
    appServicePrincipalId: unknown;
    users: { id: string; assignedLicenses: unknown }[];
  }

  /** A cloud started from a state file whose Contoso record `edit` bent into what no code expects. */
  async function cloudWithBrokenState(
    log: string[],
    edit: (contosoRecord: StoredTenant) => void,
  ): Promise<RunningMicrosoftCloud> {
    const stateFile = join(folder, 'state.json');
    const seeding = await startTestCloud({ stateFile });
    await seeding.stop();
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      tenants: { record: StoredTenant & { id: string } }[];
    };
    edit(state.tenants.find((t) => t.record.id === contoso.tenantId)!.record);
    writeFileSync(stateFile, JSON.stringify(state));
    const cloud = await startTestCloud({ stateFile, log: (line) => log.push(line) });
    opened.push(cloud);
    return cloud;
  }

  it('reports a route that throws with its route and answers Graph’s 500 envelope, the rest of its $batch answered', async () => {
    const log: string[] = [];
    const cloud = await cloudWithBrokenState(log, (record) => {
      record.users.find((u) => u.id === contoso.users.sam.id)!.assignedLicenses = null;
    });
    const directory = directoryFor(cloud, { retry: { maxRetries: 0 } });
    opened.push({ stop: () => directory.close() });
    const t = contoso.tenantId as TenantId;

    const [licence, revoke] = await directory.perform(
      t,
      [
        {
          kind: 'user.assignLicences',
          userId: contoso.users.sam.id,
          add: [{ skuId: EXO, disabledPlans: [] }],
          remove: [],
        },
        { kind: 'user.revokeSessions', userId: contoso.users.olly.id },
      ],
      { together: true },
    );
    assert.ok(licence && !licence.ok);
    assert.equal(licence.failure.httpStatus, 500);
    assert.equal(licence.failure.code, 'InternalServerError');
    assert.match(licence.failure.message, /POST \/users\/\{id\}\/assignLicense/);
    assert.deepEqual(revoke, { ok: true });
    assert.ok(cloud.tenant(t).user(contoso.users.olly.id)!.sessionsRevokedAt);

    const read = await directory.findUser(t, contoso.users.sam.id).then(
      () => assert.fail('reading the broken user should fail'),
      (error: unknown) => error,
    );
    assert.ok(read instanceof DirectoryError);
    assert.equal(read.failure.code, 'InternalServerError');

    const reports = log.filter((line) => line.includes('request failed'));
    assert.equal(reports.length, 2, reports.join('\n'));
    assert.match(reports[0]!, /request failed: POST \/users\/\{id\}\/assignLicense in a \$batch/);
    assert.match(reports[1]!, /request failed: GET \/users\/\{id\} \(GET \/users\/[^)]*\) threw/);
    for (const report of reports) assert.match(report, /TypeError/);
  });

  it('reports a failure outside Graph routes (the token endpoint) with its path, answered as an OAuth server_error', async () => {
    const log: string[] = [];
    const cloud = await cloudWithBrokenState(log, (record) => {
      record.appServicePrincipalId = null;
    });
    const directory = directoryFor(cloud, { retry: { maxRetries: 0 } });
    opened.push({ stop: () => directory.close() });

    const read = await directory.listSkus(contoso.tenantId as TenantId).then(
      () => assert.fail('no token can be issued, so nothing can be read'),
      (error: unknown) => error,
    );
    assert.ok(read instanceof DirectoryError);
    assert.equal(read.failure.reason, 'unavailable');
    assert.equal(read.failure.httpStatus, 500);
    assert.equal(read.failure.code, 'server_error');
    const reports = log.filter((line) => line.includes('request failed'));
    assert.ok(reports.length > 0);
    for (const report of reports)
      assert.match(
        report,
        new RegExp(`request failed: POST /${contoso.tenantId}/oauth2/v2.0/token threw TypeError`),
      );
  });

  it('answers an applied change even when the state file cannot be written, and still stops', async () => {
    const log: string[] = [];
    // A regular file where the state file's folder should be: every write fails.
    writeFileSync(join(folder, 'occupied'), '');
    const cloud = await startTestCloud({
      stateFile: join(folder, 'occupied', 'state.json'),
      log: (line) => log.push(line),
    });
    const directory = directoryFor(cloud, { retry: { maxRetries: 0 } });
    const t = contoso.tenantId as TenantId;
    try {
      const [revoked] = await directory.perform(
        t,
        [{ kind: 'user.revokeSessions', userId: contoso.users.sam.id }],
        { together: false },
      );
      assert.deepEqual(revoked, { ok: true });
      assert.ok(cloud.tenant(t).user(contoso.users.sam.id)!.sessionsRevokedAt);
      assert.ok(log.some((line) => line.includes('could not write')));
    } finally {
      await directory.close();
      await cloud.stop();
    }
  });

  it('refuses a request target that starts with // instead of failing or reading it as another host', async () => {
    const log: string[] = [];
    const cloud = await startTestCloud({ log: (line) => log.push(line) });
    opened.push(cloud);
    const token = await graphTokenFor(cloud, contoso.tenantId);
    for (const path of ['//', `//elsewhere/v1.0/users/${contoso.users.sam.id}`]) {
      const status = await rawGet(cloud, path, token);
      assert.equal(status, 400, path);
    }
    assert.deepEqual(
      log.filter((line) => line.includes('request failed')),
      [],
    );
  });

  it('refuses a reference with a malformed escape as a bad request', async () => {
    const cloud = await startTestCloud();
    opened.push(cloud);
    const client = graphClientFor(cloud, contoso.tenantId, { retry: false });
    const error = await client
      .api(`/groups/${contoso.groups.marketing.id}/members/$ref`)
      .post({ '@odata.id': `${cloud.url}/v1.0/directoryObjects/%zz` })
      .then(
        () => assert.fail('a malformed reference should be refused'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof GraphError);
    assert.equal(error.statusCode, 400);
    assert.equal(error.code, 'Request_BadRequest');
  });
});

async function graphTokenFor(cloud: RunningMicrosoftCloud, tenantId: string): Promise<string> {
  const result = await confidentialClientFor(cloud).acquireTokenByClientCredential({
    authority: cloud.authorityFor(tenantId),
    scopes: ['https://graph.microsoft.com/.default'],
  });
  return result!.accessToken;
}

/** A GET with the request target exactly as given (fetch would normalise it). */
function rawGet(cloud: RunningMicrosoftCloud, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: '127.0.0.1',
        port: cloud.port,
        servername: 'localhost',
        ca: cloud.caCertificatePem,
        method: 'GET',
        path,
        headers: { Authorization: `Bearer ${token}` },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    sent.on('error', reject);
    sent.end();
  });
}
