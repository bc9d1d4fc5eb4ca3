import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createGraphDirectory,
  type CreateGraphDirectoryOptions,
  type GraphTenantDirectory,
} from '../../src/adapters/graph/graph-tenant-directory';
import { DirectoryError } from '../../src/application/ports/tenant-directory';
import type {
  CommandOutcome,
  DirectoryCommand,
  DirectoryFailure,
  NewDirectoryUser,
} from '../../src/domain/execution/directory';
import type { TenantId } from '../../src/domain/shared/ids';
import { Secret } from '../../src/domain/shared/secret';
import {
  SANDBOX_DIRECTORY,
  SANDBOX_SKUS,
  startMicrosoftCloud,
  UNCONSENTED_TENANT,
  type RunningMicrosoftCloud,
} from '../../src/sandbox/microsoft-cloud';

const CONTOSO = SANDBOX_DIRECTORY.contoso.tenantId as TenantId;
const FABRIKAM = SANDBOX_DIRECTORY.fabrikam.tenantId as TenantId;
const { users: contoso, groups: contosoGroups } = SANDBOX_DIRECTORY.contoso;
const { users: fabrikam } = SANDBOX_DIRECTORY.fabrikam;
const BP = SANDBOX_SKUS.businessPremium.skuId;
const E3 = SANDBOX_SKUS.e3.skuId;
const EXO = SANDBOX_SKUS.exchangeOnline.skuId;
const PASSWORD = 'Tmp-Pa55word-Never-Logged!';

/** What one directory under test did: the waits it asked for and what it logged. */
interface Harness {
  readonly directory: GraphTenantDirectory;
  readonly waits: number[];
  readonly logs: string[];
}

/** One sandbox cloud per suite (fresh directory state); directories are closed after each test. */
function useCloud(): {
  readonly cloud: () => RunningMicrosoftCloud;
  readonly open: (options?: Partial<CreateGraphDirectoryOptions>) => Harness;
  readonly allLogs: string[];
} {
  let certDir = '';
  let cloud: RunningMicrosoftCloud | undefined;
  const opened: GraphTenantDirectory[] = [];
  const allLogs: string[] = [];
  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'cabinet-graph-'));
    cloud = await startMicrosoftCloud({ port: 0, certDir });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
    for (const tenant of [CONTOSO, FABRIKAM]) {
      cloud!.tenant(tenant).reset();
      cloud!.tenant(tenant).resetCounters();
    }
  });
  after(async () => {
    await cloud?.stop();
    rmSync(certDir, { recursive: true, force: true });
  });
  const open = (options: Partial<CreateGraphDirectoryOptions> = {}): Harness => {
    const running = cloud!;
    const waits: number[] = [];
    const logs: string[] = [];
    const directory = createGraphDirectory({
      clientId: running.app.clientId,
      credential: { kind: 'secret', clientSecret: running.app.clientSecret },
      cloud: { kind: 'sandbox', url: running.url, caCertificatePem: running.caCertificatePem },
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
      log: (line) => {
        logs.push(line);
        allLogs.push(line);
      },
      ...options,
    });
    opened.push(directory);
    return { directory, waits, logs };
  };
  return { cloud: () => cloud!, open, allLogs };
}

function failureOf(outcome: CommandOutcome | undefined): DirectoryFailure {
  assert.ok(outcome && !outcome.ok, `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.failure;
}

async function rejection(promise: Promise<unknown>): Promise<DirectoryError> {
  try {
    await promise;
  } catch (error: unknown) {
    assert.ok(error instanceof DirectoryError, String(error));
    return error;
  }
  assert.fail('expected a DirectoryError');
}

function newUser(alias: string, overrides: Partial<NewDirectoryUser> = {}): NewDirectoryUser {
  return {
    userPrincipalName: `${alias}@contoso.example`,
    displayName: `New ${alias}`,
    givenName: 'New',
    surname: alias,
    mailNickname: alias.replace(/[^A-Za-z0-9]/g, ''),
    usageLocation: 'GB',
    ...overrides,
  };
}

const together = { together: true, initialPassword: new Secret(PASSWORD) } as const;
const oneByOne = { together: false, initialPassword: new Secret(PASSWORD) } as const;

describe('GraphTenantDirectory against the sandbox cloud', function () {
  this.timeout(60_000);

  describe('reads', () => {
    const sandbox = useCloud();

    it('finds a user by UPN or id, telling direct licences from group-inherited ones', async () => {
      const { directory } = sandbox.open();
      const byUpn = await directory.findUser(CONTOSO, contoso.lee.userPrincipalName);
      const byId = await directory.findUser(CONTOSO, contoso.lee.id);
      assert.deepEqual(byUpn, byId);
      const { signInSessionsValidFrom, ...rest } = byUpn!;
      assert.match(signInSessionsValidFrom ?? '', /^\d{4}-\d\d-\d\dT/);
      assert.deepEqual(rest, {
        id: contoso.lee.id,
        userPrincipalName: contoso.lee.userPrincipalName,
        displayName: 'Lee Leaver',
        accountEnabled: true,
        usageLocation: 'GB',
        assignedLicences: [{ skuId: BP, disabledPlans: [] }],
        inheritedLicences: [{ skuId: E3, groupId: contosoGroups.e3Users.id }],
      });
      assert.equal(await directory.findUser(CONTOSO, 'nobody@contoso.example'), undefined);
    });

    it("finds a user whose UPN holds # and ' (URL-encoded in the path)", async () => {
      const { directory } = sandbox.open();
      const upn = "o'neil#2@contoso.example";
      const [created] = await directory.perform(
        CONTOSO,
        [{ kind: 'user.create', user: newUser("o'neil#2") }],
        together,
      );
      assert.ok(created?.ok);
      const found = await directory.findUser(CONTOSO, upn);
      assert.equal(found?.id, created.createdUserId);
      assert.equal(found?.userPrincipalName, upn);
    });

    it('lists the groups a user is a member or owner of, following every page', async () => {
      const { directory } = sandbox.open({ pageSize: 2 });
      const memberOf = await directory.listGroupsOf(CONTOSO, contoso.lee.id, 'member');
      assert.deepEqual(
        memberOf.map((g) => g.id).sort(),
        sandbox
          .cloud()
          .tenant(CONTOSO)
          .groups()
          .filter((g) => g.members.includes(contoso.lee.id))
          .map((g) => g.id)
          .sort(),
      );
      assert.ok(memberOf.length > 4, 'enough groups to need three pages of two');
      assert.ok(sandbox.cloud().tenant(CONTOSO).counters().roundTrips >= 3);
      const owned = await directory.listGroupsOf(CONTOSO, contoso.lee.id, 'owner');
      assert.deepEqual(
        owned.map((g) => g.displayName),
        ['Project Falcon'],
      );
      assert.deepEqual(
        await directory.listGroupsOf(CONTOSO, 'f0000000-0000-4000-8000-000000000000', 'member'),
        [],
      );
    });

    it('finds groups by exact display name, ignoring case, and a quote in a name cannot inject', async () => {
      const { directory } = sandbox.open();
      const sales = await directory.findGroups(CONTOSO, 'sales team');
      assert.deepEqual(sales, [
        {
          id: contosoGroups.salesTeam.id,
          displayName: 'Sales Team',
          mailEnabled: false,
          securityEnabled: true,
          groupTypes: [],
        },
      ]);
      assert.deepEqual(
        await directory.findGroups(CONTOSO, "Sales Team' or displayName eq 'Marketing"),
        [],
      );
      assert.deepEqual(await directory.findGroups(CONTOSO, "O'Brien & Co #1"), []);
    });

    it('reads a group by id and says when there is none', async () => {
      const { directory } = sandbox.open();
      assert.deepEqual(await directory.getGroup(CONTOSO, contosoGroups.salesAnnouncements.id), {
        id: contosoGroups.salesAnnouncements.id,
        displayName: 'Sales Announcements',
        mailEnabled: true,
        securityEnabled: true,
        groupTypes: [],
      });
      assert.equal(
        await directory.getGroup(CONTOSO, 'f0000000-0000-4000-8000-000000000000'),
        undefined,
      );
    });

    it('lists subscriptions with their seats', async () => {
      const { directory } = sandbox.open();
      const skus = await directory.listSkus(CONTOSO);
      const free = Object.fromEntries(
        skus.map((s) => [s.skuPartNumber, s.enabledUnits - s.consumedUnits]),
      );
      assert.deepEqual(
        free,
        Object.fromEntries(
          sandbox
            .cloud()
            .tenant(CONTOSO)
            .skus()
            .map((s) => [s.skuPartNumber, s.freeUnits]),
        ),
      );
      assert.equal(free[SANDBOX_SKUS.businessPremium.skuPartNumber], 2);
      assert.equal(free[SANDBOX_SKUS.e3.skuPartNumber], 0);
    });

    it('reads a manager, and nothing for a user without one', async () => {
      const { directory } = sandbox.open();
      assert.equal((await directory.getManager(CONTOSO, contoso.lee.id))?.id, contoso.andy.id);
      assert.equal(await directory.getManager(CONTOSO, contoso.carla.id), undefined);
    });

    it('reads auto-replies, scheduled ones in UTC, and refuses a user without a mailbox', async () => {
      const { directory } = sandbox.open();
      const olly = await directory.getAutoReply(CONTOSO, contoso.olly.id);
      assert.equal(olly.status, 'alwaysEnabled');
      assert.match(olly.internalReplyMessage, /parental leave/);
      const jo = await directory.getAutoReply(FABRIKAM, fabrikam.jo.id);
      const stored = sandbox.cloud().tenant(FABRIKAM).user(fabrikam.jo.id)!.autoReply;
      assert.equal(jo.status, 'scheduled');
      assert.equal(
        jo.scheduledStart,
        new Date(`${stored.scheduledStartDateTime!.slice(0, 19)}Z`).toISOString(),
      );
      assert.equal(
        jo.scheduledEnd,
        new Date(`${stored.scheduledEndDateTime!.slice(0, 19)}Z`).toISOString(),
      );
      const una = await rejection(directory.getAutoReply(CONTOSO, contoso.una.id));
      assert.equal(una.failure.reason, 'not_found');
    });

    it('answers every kind of check by reading back', async () => {
      const { directory } = sandbox.open();
      const checks = [
        { kind: 'user.exists', userPrincipalName: contoso.lee.userPrincipalName, expected: true },
        { kind: 'user.exists', userPrincipalName: 'ghost@contoso.example', expected: false },
        { kind: 'user.enabled', userId: contoso.dee.id, expected: false },
        {
          kind: 'user.inGroup',
          userId: contoso.lee.id,
          groupId: contosoGroups.salesTeam.id,
          relation: 'member',
          expected: true,
        },
        {
          kind: 'user.inGroup',
          userId: contoso.lee.id,
          groupId: contosoGroups.marketing.id,
          relation: 'member',
          expected: false,
        },
        {
          kind: 'user.inGroup',
          userId: contoso.lee.id,
          groupId: contosoGroups.projectFalcon.id,
          relation: 'owner',
          expected: true,
        },
        { kind: 'user.licences', userId: contoso.lee.id, has: [BP, E3], lacks: [EXO] },
        { kind: 'user.manager', userId: contoso.lee.id, managerId: contoso.andy.id },
        { kind: 'user.manager', userId: contoso.carla.id, managerId: null },
        { kind: 'user.autoReply', userId: contoso.olly.id, status: 'alwaysEnabled' },
        { kind: 'none' },
      ] as const;
      for (const check of checks)
        assert.equal(await directory.check(CONTOSO, check), true, check.kind);
      const wrong = [
        { kind: 'user.enabled', userId: contoso.lee.id, expected: false },
        { kind: 'user.licences', userId: contoso.lee.id, has: [EXO], lacks: [] },
        // E3 comes from a group: removing it directly is not something a check can expect.
        { kind: 'user.licences', userId: contoso.lee.id, has: [], lacks: [BP] },
        { kind: 'user.manager', userId: contoso.lee.id, managerId: null },
        { kind: 'user.autoReply', userId: contoso.lee.id, status: 'alwaysEnabled' },
      ] as const;
      for (const check of wrong)
        assert.equal(await directory.check(CONTOSO, check), false, check.kind);

      // Revoking moves signInSessionsValidFromDateTime: that is how a lost revoke is read back.
      const before = (await directory.findUser(CONTOSO, contoso.lee.id))!.signInSessionsValidFrom!;
      const revoked = {
        kind: 'user.sessionsRevoked',
        userId: contoso.lee.id,
        validFromBefore: before,
      } as const;
      assert.equal(await directory.check(CONTOSO, revoked), false);
      await directory.perform(CONTOSO, [{ kind: 'user.revokeSessions', userId: contoso.lee.id }], {
        together: false,
      });
      assert.equal(await directory.check(CONTOSO, revoked), true);
    });

    it("reads a tenant only with that tenant's token", async () => {
      const { directory } = sandbox.open();
      assert.equal(await directory.findUser(CONTOSO, fabrikam.gail.userPrincipalName), undefined);
      assert.equal(await directory.findUser(CONTOSO, fabrikam.gail.id), undefined);
      assert.equal(
        (await directory.findUser(FABRIKAM, fabrikam.gail.id))?.displayName,
        'Gail Goodbye',
      );
      assert.equal(await directory.findUser(FABRIKAM, contoso.lee.id), undefined);
      assert.equal(sandbox.cloud().tenant(CONTOSO).counters().roundTrips, 2);
      assert.equal(sandbox.cloud().tenant(FABRIKAM).counters().roundTrips, 2);
    });
  });

  describe('commands', () => {
    const sandbox = useCloud();

    it('creates a user with a temporary password, then licences, groups, manager and auto-reply', async () => {
      const { directory } = sandbox.open();
      const user = newUser('nina.new', { jobTitle: 'Analyst', department: 'Finance' });
      const [created] = await directory.perform(CONTOSO, [{ kind: 'user.create', user }], together);
      assert.ok(created?.ok && created.createdUserId);
      const id = created.createdUserId;
      const outcomes = await directory.perform(
        CONTOSO,
        [
          {
            kind: 'user.assignLicences',
            userId: id,
            add: [{ skuId: BP, disabledPlans: [] }],
            remove: [],
          },
          {
            kind: 'group.add',
            groupId: contosoGroups.salesTeam.id,
            userId: id,
            relation: 'member',
          },
          {
            kind: 'group.add',
            groupId: contosoGroups.projectFalcon.id,
            userId: id,
            relation: 'owner',
          },
          { kind: 'user.setManager', userId: id, managerId: contoso.andy.id },
        ],
        together,
      );
      assert.deepEqual(outcomes, [{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
      const [autoReply] = await directory.perform(
        CONTOSO,
        [
          {
            kind: 'user.setAutoReply',
            userId: id,
            autoReply: {
              status: 'scheduled',
              externalAudience: 'contactsOnly',
              internalReplyMessage: 'Starting soon',
              externalReplyMessage: 'Starting soon (ext)',
              scheduledStart: '2026-05-01T08:00:00.000Z',
              scheduledEnd: '2026-05-08T17:00:00.000Z',
            },
          },
        ],
        together,
      );
      assert.deepEqual(autoReply, { ok: true });
      const stored = sandbox.cloud().tenant(CONTOSO).user(user.userPrincipalName)!;
      assert.equal(stored.id, id);
      assert.equal(stored.accountEnabled, true);
      assert.equal(stored.usageLocation, 'GB');
      assert.equal(stored.jobTitle, 'Analyst');
      assert.deepEqual(
        stored.licences.map((l) => l.skuId),
        [BP],
      );
      assert.deepEqual(stored.memberOf, [contosoGroups.salesTeam.id]);
      assert.deepEqual(stored.ownerOf, [contosoGroups.projectFalcon.id]);
      assert.equal(stored.managerId, contoso.andy.id);
      assert.equal(stored.autoReply.status, 'scheduled');
      assert.equal(
        new Date(`${stored.autoReply.scheduledStartDateTime!.slice(0, 19)}Z`).toISOString(),
        '2026-05-01T08:00:00.000Z',
      );
      assert.deepEqual(await directory.getAutoReply(CONTOSO, id), {
        status: 'scheduled',
        externalAudience: 'contactsOnly',
        internalReplyMessage: 'Starting soon',
        externalReplyMessage: 'Starting soon (ext)',
        scheduledStart: '2026-05-01T08:00:00.000Z',
        scheduledEnd: '2026-05-08T17:00:00.000Z',
      });
    });

    it('offboards: blocks sign-in, revokes sessions, sets the auto-reply, removes groups, manager and licences; deletes and restores', async () => {
      const { directory } = sandbox.open();
      const lee = contoso.lee.id;
      const offboard: DirectoryCommand[] = [
        { kind: 'user.update', userId: lee, changes: { accountEnabled: false } },
        { kind: 'user.revokeSessions', userId: lee },
        {
          kind: 'user.setAutoReply',
          userId: lee,
          autoReply: {
            status: 'alwaysEnabled',
            externalAudience: 'all',
            internalReplyMessage: 'Lee has left; contact Andy.',
            externalReplyMessage: 'Lee has left Contoso.',
          },
        },
        {
          kind: 'group.remove',
          groupId: contosoGroups.salesTeam.id,
          userId: lee,
          relation: 'member',
        },
        {
          kind: 'group.remove',
          groupId: contosoGroups.projectFalcon.id,
          userId: lee,
          relation: 'owner',
        },
        { kind: 'user.removeManager', userId: lee },
        { kind: 'user.assignLicences', userId: lee, add: [], remove: [BP] },
      ];
      const outcomes = await directory.perform(CONTOSO, offboard, together);
      assert.deepEqual(
        outcomes,
        offboard.map(() => ({ ok: true })),
      );
      const after = sandbox.cloud().tenant(CONTOSO).user(lee)!;
      assert.equal(after.accountEnabled, false);
      assert.ok(after.sessionsRevokedAt);
      assert.equal(after.autoReply.status, 'alwaysEnabled');
      assert.equal(after.autoReply.internalReplyMessage, 'Lee has left; contact Andy.');
      assert.ok(!after.memberOf.includes(contosoGroups.salesTeam.id));
      assert.ok(!after.ownerOf.includes(contosoGroups.projectFalcon.id));
      assert.equal(after.managerId, undefined);
      assert.deepEqual(
        after.licences.map((l) => [l.skuId, l.assignedByGroup]),
        [[E3, contosoGroups.e3Users.id]],
      );

      // Every command is safe to repeat: "already so" is success.
      assert.deepEqual(
        await directory.perform(CONTOSO, offboard, oneByOne),
        offboard.map(() => ({ ok: true })),
      );
      assert.deepEqual(
        await directory.perform(
          CONTOSO,
          [
            {
              kind: 'group.add',
              groupId: contosoGroups.allStaff.id,
              userId: lee,
              relation: 'member',
            },
            {
              kind: 'user.assignLicences',
              userId: contoso.andy.id,
              add: [{ skuId: BP, disabledPlans: [] }],
              remove: [],
            },
          ],
          together,
        ),
        [{ ok: true }, { ok: true }],
      );

      assert.deepEqual(
        await directory.perform(CONTOSO, [{ kind: 'user.delete', userId: lee }], together),
        [{ ok: true }],
      );
      assert.equal(sandbox.cloud().tenant(CONTOSO).user(lee), undefined);
      assert.ok(
        sandbox
          .cloud()
          .tenant(CONTOSO)
          .deletedUsers()
          .some((u) => u.id === lee),
      );
      assert.deepEqual(
        await directory.perform(CONTOSO, [{ kind: 'user.delete', userId: lee }], together),
        [{ ok: true }],
      );

      const restore: DirectoryCommand[] = [{ kind: 'user.restore', userId: lee }];
      assert.deepEqual(await directory.perform(CONTOSO, restore, together), [{ ok: true }]);
      assert.equal(
        sandbox.cloud().tenant(CONTOSO).user(lee)?.userPrincipalName,
        contoso.lee.userPrincipalName,
      );
      assert.deepEqual(await directory.perform(CONTOSO, restore, together), [{ ok: true }]);
      assert.equal(
        sandbox.cloud().tenant(CONTOSO).counters().mutations[
          'POST /directory/deletedItems/{id}/restore'
        ],
        1,
      );
    });

    it('classifies every refusal through the real SDK, keeping Graph code, message, request id and status', async () => {
      const { directory } = sandbox.open();
      const cases: [DirectoryCommand, DirectoryFailure['reason'], number][] = [
        [
          {
            kind: 'user.assignLicences',
            userId: contoso.mo.id,
            add: [{ skuId: E3, disabledPlans: [] }],
            remove: [],
          },
          'no_free_seats',
          400,
        ],
        [
          {
            kind: 'user.assignLicences',
            userId: contoso.una.id,
            add: [{ skuId: BP, disabledPlans: [] }],
            remove: [],
          },
          'no_usage_location',
          400,
        ],
        [
          { kind: 'user.assignLicences', userId: contoso.avery.id, add: [], remove: [E3] },
          'inherited_licence',
          400,
        ],
        [
          {
            kind: 'group.add',
            groupId: contosoGroups.salesAnnouncements.id,
            userId: contoso.mo.id,
            relation: 'member',
          },
          'mail_enabled_group',
          400,
        ],
        [
          {
            kind: 'user.create',
            user: newUser('sam', { userPrincipalName: contoso.sam.userPrincipalName }),
          },
          'already_exists',
          400,
        ],
        [
          {
            kind: 'user.update',
            userId: 'f0000000-0000-4000-8000-000000000000',
            changes: { accountEnabled: false },
          },
          'not_found',
          404,
        ],
        [
          { kind: 'user.update', userId: contoso.carla.id, changes: { accountEnabled: false } },
          'forbidden',
          403,
        ],
        [
          {
            kind: 'group.add',
            groupId: contosoGroups.salesDynamic.id,
            userId: contoso.mo.id,
            relation: 'member',
          },
          'invalid',
          400,
        ],
        [
          { kind: 'user.update', userId: contoso.mo.id, changes: { usageLocation: 'Narnia' } },
          'invalid',
          400,
        ],
      ];
      const outcomes = await directory.perform(
        CONTOSO,
        cases.map(([command]) => command),
        together,
      );
      outcomes.forEach((outcome, i) => {
        const [command, reason, status] = cases[i]!;
        const failure = failureOf(outcome);
        assert.equal(failure.reason, reason, `${command.kind}: ${failure.message}`);
        assert.equal(failure.httpStatus, status);
        assert.equal(failure.retryable, false);
        assert.match(failure.code, /^[A-Za-z_]+$/);
        assert.ok(failure.message.length > 0);
        assert.match(failure.requestId ?? '', /^[0-9a-f-]{36}$/);
      });
      const stored = sandbox.cloud().tenant(CONTOSO);
      assert.equal(stored.user(contoso.carla.id)?.accountEnabled, true);
      assert.equal(stored.counters().mutations['POST /users'], undefined);
    });

    it('classifies an identity the tenant does not know as forbidden', async () => {
      const { directory } = sandbox.open();
      sandbox.cloud().tenant(CONTOSO).fail({
        status: 401,
        code: 'Authorization_IdentityNotFound',
        message: 'The identity of the calling application could not be established.',
        count: 2,
      });
      const failure = (await rejection(directory.findUser(CONTOSO, contoso.mo.id))).failure;
      assert.deepEqual(
        [failure.reason, failure.code, failure.httpStatus],
        ['forbidden', 'Authorization_IdentityNotFound', 401],
      );
      const [outcome] = await directory.perform(
        CONTOSO,
        [{ kind: 'user.revokeSessions', userId: contoso.mo.id }],
        together,
      );
      assert.equal(failureOf(outcome).reason, 'forbidden');
    });

    it('refuses a create without a temporary password and sends nothing', async () => {
      const { directory } = sandbox.open();
      const [outcome] = await directory.perform(
        CONTOSO,
        [{ kind: 'user.create', user: newUser('nopass') }],
        { together: true },
      );
      assert.equal(failureOf(outcome).code, 'MissingPassword');
      assert.equal(sandbox.cloud().tenant(CONTOSO).counters().roundTrips, 0);
    });
  });

  describe('round trips, throttling and lost answers', () => {
    const sandbox = useCloud();
    const staff = [contoso.sam, contoso.mo, contoso.olly, contoso.andy, contoso.avery];
    const revokeAll = (n: number): DirectoryCommand[] =>
      Array.from({ length: n }, (_, i) => ({
        kind: 'user.revokeSessions',
        userId: staff[i % staff.length]!.id,
      }));

    it('splits more than twenty commands into $batch requests of at most twenty', async () => {
      const { directory } = sandbox.open();
      const outcomes = await directory.perform(CONTOSO, revokeAll(25), together);
      assert.equal(outcomes.filter((o) => o.ok).length, 25);
      const counters = sandbox.cloud().tenant(CONTOSO).counters();
      assert.deepEqual(
        [counters.roundTrips, counters.batchRequests, counters.batchedRequests],
        [2, 2, 25],
      );
      assert.equal(counters.mutations['POST /users/{id}/revokeSignInSessions'], 25);
      assert.deepEqual([directory.stats.roundTrips, directory.stats.batches], [2, 2]);
    });

    it('sends one request at a time, in order, when not together', async () => {
      const { directory } = sandbox.open();
      const commands: DirectoryCommand[] = [
        { kind: 'user.revokeSessions', userId: contoso.mo.id },
        {
          kind: 'group.add',
          groupId: contosoGroups.marketing.id,
          userId: contoso.mo.id,
          relation: 'member',
        },
        { kind: 'user.update', userId: contoso.mo.id, changes: { usageLocation: 'IE' } },
      ];
      assert.deepEqual(await directory.perform(CONTOSO, commands, oneByOne), [
        { ok: true },
        { ok: true },
        { ok: true },
      ]);
      const tenant = sandbox.cloud().tenant(CONTOSO);
      assert.deepEqual([tenant.counters().roundTrips, tenant.counters().batchRequests], [3, 0]);
      assert.deepEqual(
        tenant.mutationLog().map((m) => m.route),
        [
          'POST /users/{id}/revokeSignInSessions',
          'POST /groups/{id}/members/$ref',
          'PATCH /users/{id}',
        ],
      );
      assert.equal(directory.stats.roundTrips, 3);
    });

    it('waits at least Retry-After: 1 after a 429, then succeeds with one mutation', async () => {
      const { directory, waits } = sandbox.open();
      const tenant = sandbox.cloud().tenant(CONTOSO);
      tenant.throttle({
        count: 1,
        status: 429,
        retryAfterSeconds: 1,
        match: { route: 'PATCH /users/{id}' },
      });
      const outcomes = await directory.perform(
        CONTOSO,
        [{ kind: 'user.update', userId: contoso.mo.id, changes: { usageLocation: 'FR' } }],
        oneByOne,
      );
      assert.deepEqual(outcomes, [{ ok: true }]);
      assert.deepEqual(waits, [1000]);
      assert.equal(tenant.user(contoso.mo.id)?.usageLocation, 'FR');
      assert.equal(tenant.counters().mutations['PATCH /users/{id}'], 1);
      assert.equal(directory.stats.retries, 1);
    });

    it('honours a Retry-After given as an HTTP date', async () => {
      const { directory, waits } = sandbox.open();
      sandbox
        .cloud()
        .tenant(CONTOSO)
        .throttle({
          count: 1,
          status: 503,
          retryAfterSeconds: 3,
          retryAfterFormat: 'http-date',
          match: { route: 'GET /users/{id}' },
        });
      assert.equal((await directory.findUser(CONTOSO, contoso.mo.id))?.id, contoso.mo.id);
      assert.equal(waits.length, 1);
      assert.ok(waits[0]! > 1000 && waits[0]! <= 3000, `waited ${waits[0]} ms`);
    });

    it('backs off with jitter under the budget when a 503 has no Retry-After', async () => {
      const retry = { budgetMs: 5000, maxDelayMs: 2000, baseDelayMs: 400, maxRetries: 8 };
      const { directory, waits } = sandbox.open({ retry });
      sandbox
        .cloud()
        .tenant(CONTOSO)
        .throttle({
          count: 3,
          status: 503,
          retryAfterFormat: 'none',
          match: { route: 'POST /groups/{id}/members/$ref' },
        });
      const [outcome] = await directory.perform(
        CONTOSO,
        [
          {
            kind: 'group.add',
            groupId: contosoGroups.itAdmins.id,
            userId: contoso.olly.id,
            relation: 'member',
          },
        ],
        oneByOne,
      );
      assert.deepEqual(outcome, { ok: true });
      assert.equal(waits.length, 3);
      waits.forEach((ms, retryIndex) =>
        assert.ok(ms >= 0 && ms < Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** retryIndex)),
      );
      assert.ok(waits.reduce((a, b) => a + b, 0) <= retry.budgetMs);
    });

    it('hands back a throttled, retryable failure with retryAfterMs once the budget is spent', async () => {
      const { directory, waits } = sandbox.open({ retry: { budgetMs: 2500, maxDelayMs: 30_000 } });
      const tenant = sandbox.cloud().tenant(CONTOSO);
      tenant.throttle({ count: 100, status: 429, retryAfterSeconds: 1 });
      const outcomes = await directory.perform(
        CONTOSO,
        [
          { kind: 'user.update', userId: contoso.mo.id, changes: { accountEnabled: false } },
          { kind: 'user.revokeSessions', userId: contoso.mo.id },
        ],
        oneByOne,
      );
      for (const outcome of outcomes) {
        const failure = failureOf(outcome);
        assert.deepEqual(
          [failure.reason, failure.retryable, failure.retryAfterMs],
          ['throttled', true, 1000],
        );
      }
      assert.deepEqual(waits, [1000, 1000]);
      assert.equal(tenant.user(contoso.mo.id)?.accountEnabled, true);

      const read = await rejection(directory.findUser(CONTOSO, contoso.mo.id));
      assert.deepEqual(
        [read.failure.reason, read.failure.retryable, read.failure.retryAfterMs],
        ['throttled', true, 1000],
      );

      tenant.reset();
      tenant.throttle({ count: 1, status: 429, retryAfterSeconds: 315 });
      const long = await rejection(directory.findUser(CONTOSO, contoso.mo.id));
      assert.equal(
        long.failure.retryAfterMs,
        315_000,
        'a wait past the per-attempt cap is handed back, not slept',
      );
    });

    it('retries only the throttled sub-request of a $batch', async () => {
      const { directory, waits } = sandbox.open();
      const tenant = sandbox.cloud().tenant(CONTOSO);
      tenant.throttle({
        count: 1,
        status: 429,
        retryAfterSeconds: 2,
        match: { route: 'POST /users/{id}/revokeSignInSessions' },
      });
      const outcomes = await directory.perform(
        CONTOSO,
        [
          { kind: 'user.update', userId: contoso.olly.id, changes: { usageLocation: 'DE' } },
          { kind: 'user.revokeSessions', userId: contoso.olly.id },
          {
            kind: 'group.add',
            groupId: contosoGroups.salesTeam.id,
            userId: contoso.olly.id,
            relation: 'member',
          },
        ],
        together,
      );
      assert.deepEqual(outcomes, [{ ok: true }, { ok: true }, { ok: true }]);
      assert.deepEqual(waits, [2000]);
      const counters = tenant.counters();
      assert.deepEqual(
        [counters.roundTrips, counters.batchRequests, counters.batchedRequests],
        [2, 1, 3],
      );
      assert.deepEqual(counters.mutations, {
        'PATCH /users/{id}': 1,
        'POST /users/{id}/revokeSignInSessions': 1,
        'POST /groups/{id}/members/$ref': 1,
      });
    });

    for (const mode of ['gateway-timeout', 'drop-connection'] as const)
      it(`reconciles a POST /users that was applied but answered ${mode}: one user, found by reading`, async () => {
        const { directory } = sandbox.open();
        const tenant = sandbox.cloud().tenant(CONTOSO);
        tenant.loseResponse({ mode, match: { route: 'POST /users' } });
        const user = newUser(`lost.${mode}`);
        const [outcome] = await directory.perform(
          CONTOSO,
          [{ kind: 'user.create', user }],
          oneByOne,
        );
        assert.ok(outcome?.ok);
        assert.equal(outcome.createdUserId, tenant.user(user.userPrincipalName)?.id);
        assert.equal(tenant.counters().mutations['POST /users'], 1);
        assert.equal(
          tenant.users().filter((u) => u.userPrincipalName === user.userPrincipalName).length,
          1,
        );
        assert.equal(directory.stats.reconciliations, 1);
      });

    it('reads a lost create again when the first read-back missed it and the resend finds the UPN taken', async () => {
      const { directory, waits } = sandbox.open();
      const tenant = sandbox.cloud().tenant(CONTOSO);
      const user = newUser('lagging');
      tenant.loseResponse({ mode: 'drop-connection', match: { route: 'POST /users' } });
      // Directory replication lag: the first read after the create does not see the user yet.
      tenant.fail({
        status: 404,
        code: 'Request_ResourceNotFound',
        message: `Resource '${user.userPrincipalName}' does not exist or one of its queried reference-property objects are not present.`,
        count: 1,
        match: { route: 'GET /users/{id}' },
      });
      const [outcome] = await directory.perform(CONTOSO, [{ kind: 'user.create', user }], oneByOne);
      assert.ok(outcome?.ok);
      assert.equal(outcome.createdUserId, tenant.user(user.userPrincipalName)?.id);
      assert.equal(tenant.counters().mutations['POST /users'], 1);
      assert.equal(waits.length, 2);
      assert.equal(directory.stats.reconciliations, 2);
    });

    it('reconciles a create inside a $batch whose connection dropped, and repeats the rest safely', async () => {
      const { directory } = sandbox.open();
      const tenant = sandbox.cloud().tenant(CONTOSO);
      tenant.loseResponse({ mode: 'drop-connection', match: { route: 'POST /$batch' } });
      const user = newUser('batch.lost');
      const outcomes = await directory.perform(
        CONTOSO,
        [
          { kind: 'user.create', user },
          {
            kind: 'group.add',
            groupId: contosoGroups.itAdmins.id,
            userId: contoso.sam.id,
            relation: 'member',
          },
          {
            kind: 'group.remove',
            groupId: contosoGroups.allStaff.id,
            userId: contoso.sam.id,
            relation: 'member',
          },
        ],
        together,
      );
      assert.ok(
        outcomes[0]?.ok && outcomes[0].createdUserId === tenant.user(user.userPrincipalName)?.id,
      );
      assert.deepEqual(outcomes.slice(1), [{ ok: true }, { ok: true }]);
      const mutations = tenant.counters().mutations;
      assert.equal(mutations['POST /users'], 1);
      assert.equal(mutations['POST /groups/{id}/members/$ref'], 1);
      assert.equal(mutations['DELETE /groups/{id}/members/{id}/$ref'], 1);
      assert.ok(tenant.user(contoso.sam.id)?.memberOf.includes(contosoGroups.itAdmins.id));
    });

    it('abandons a request that outlives its timeout and says Graph did not answer', async () => {
      const { directory } = sandbox.open({ requestTimeoutMs: 100, retry: { maxRetries: 1 } });
      await directory.findUser(CONTOSO, contoso.mo.id); // a token first, so only Graph is slow
      sandbox.cloud().tenant(CONTOSO).setLatency(2000);
      const error = await rejection(directory.findUser(CONTOSO, contoso.mo.id));
      assert.deepEqual(
        [error.failure.reason, error.failure.code, error.failure.retryable],
        ['unavailable', 'Timeout', true],
      );
      assert.equal(directory.stats.retries, 1);
    });

    it('never logs tokens, passwords, UPNs or names', () => {
      assert.ok(sandbox.allLogs.length > 0);
      for (const line of sandbox.allLogs) {
        assert.doesNotMatch(line, /@|eyJ|Bearer/, line);
        assert.ok(!line.includes(PASSWORD), line);
      }
    });
  });

  describe('tokens', () => {
    const sandbox = useCloud();

    it('says the client must grant admin consent when the app is not consented there', async () => {
      const { directory } = sandbox.open();
      const tenantId = UNCONSENTED_TENANT.tenantId as TenantId;
      const error = await rejection(directory.findUser(tenantId, 'anyone@tailspin.example'));
      assert.equal(error.failure.reason, 'forbidden');
      assert.equal(error.failure.code, 'AADSTS700016');
      assert.equal(error.failure.retryable, false);
      assert.ok(
        error.failure.message.includes(
          `${sandbox.cloud().url}/${tenantId}/adminconsent?client_id=${sandbox.cloud().app.clientId}`,
        ),
        error.failure.message,
      );
      const [outcome] = await directory.perform(
        tenantId,
        [{ kind: 'user.revokeSessions', userId: 'x' }],
        together,
      );
      assert.equal(failureOf(outcome).code, 'AADSTS700016');
    });

    it('asks Entra for one token per tenant, however many requests run at once', async () => {
      const { directory } = sandbox.open();
      const staff = [contoso.sam, contoso.mo, contoso.olly, contoso.andy, contoso.avery];
      const found = await Promise.all(staff.map((u) => directory.findUser(CONTOSO, u.id)));
      assert.deepEqual(
        found.map((u) => u?.id),
        staff.map((u) => u.id),
      );
      await directory.findUser(FABRIKAM, fabrikam.kim.id);
      assert.equal(sandbox.cloud().tenant(CONTOSO).counters().tokenRequests, 1);
      assert.equal(sandbox.cloud().tenant(FABRIKAM).counters().tokenRequests, 1);
    });

    it('says the credential must be renewed when the secret is wrong', async () => {
      const { directory } = sandbox.open({
        credential: { kind: 'secret', clientSecret: 'wrong-secret' },
      });
      const error = await rejection(directory.findUser(CONTOSO, contoso.mo.id));
      assert.equal(error.failure.code, 'AADSTS7000215');
      assert.match(error.failure.message, /create a new secret or certificate/);
    });

    it("says to check the client's tenant id when the tenant does not exist", async () => {
      const { directory } = sandbox.open();
      const error = await rejection(
        directory.findUser('0dd0dd00-0000-4000-8000-00000000dead' as TenantId, 'x'),
      );
      assert.equal(error.failure.reason, 'invalid');
      assert.match(error.failure.message, /check the client's tenant id/);
    });
  });
});
