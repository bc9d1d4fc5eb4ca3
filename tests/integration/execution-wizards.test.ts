import { strict as assert } from 'node:assert';
import { revealTemporaryPassword, startExecution } from '../../src/application/use-cases/execution';
import type { ChangeRequest, Person } from '../../src/domain/change-request/change-request';
import type { ExecutionRun } from '../../src/domain/execution/execution-run';
import { SANDBOX_DIRECTORY, SANDBOX_SKUS } from '../../src/sandbox/microsoft-cloud';
import {
  approvedRequest,
  assertChainVerifies,
  assertToldOfEnd,
  auditTrail,
  cast,
  CONTOSO_ID,
  directoryState,
  FABRIKAM_ID,
  preview,
  previewAndStart,
  rawRows,
  settle,
  storedRequest,
  useExecutionStack,
  type ExecutionStack,
  type TrailEvent,
} from '../support/execution-stack';

const { users, groups } = SANDBOX_DIRECTORY.contoso;
const BP = SANDBOX_SKUS.businessPremium.skuId;
const E3 = SANDBOX_SKUS.e3.skuId;

/** The run's events in the chain (every engine event carries the run id). */
function runEvents(trail: readonly TrailEvent[], run: ExecutionRun): TrailEvent[] {
  return trail.filter((e) => e.payload['runId'] === run.id);
}

/**
 * The run's transitions are in the audit chain in order: queued, planned, each step started then
 * succeeded (in the order the run recorded them done), finished.
 */
function assertEveryStepAudited(trail: readonly TrailEvent[], run: ExecutionRun): void {
  const events = runEvents(trail, run);
  const at = (type: string, stepId?: string) => {
    const index = events.findIndex(
      (e) => e.type === type && (stepId === undefined || e.payload['stepId'] === stepId),
    );
    assert.ok(index >= 0, `no ${type}${stepId ? ` for ${stepId}` : ''}`);
    return index;
  };
  const planned = at('execution.planned');
  assert.ok(at('execution.queued') < planned);
  const finished = at('execution.finished');
  const byOrder = [...run.steps].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
  let previous = planned;
  for (const progress of byOrder) {
    const started = at('execution.step_started', progress.id);
    const succeeded = at('execution.step_succeeded', progress.id);
    assert.ok(planned < started && started < succeeded, `${progress.id} out of order`);
    assert.ok(previous < succeeded, `${progress.id} recorded done out of order`);
    previous = succeeded;
  }
  assert.ok(previous < finished);
}

/** The requester, both approvers and the technician hear that the run completed. */
const assertFollowersTold = (
  stack: ExecutionStack,
  run: ExecutionRun,
  followers: readonly Person[],
) => assertToldOfEnd(stack, CONTOSO_ID, run.id, followers, /completed/);

/** UPNs and display names never sit in an audit payload in clear (they go in the sealed part). */
function assertNoPersonalDataInPayloads(trail: readonly TrailEvent[], ...texts: string[]): void {
  for (const event of trail)
    for (const text of texts)
      assert.ok(
        !JSON.stringify(event.payload).toLowerCase().includes(text.toLowerCase()),
        `${text} in clear in the payload of ${event.type}`,
      );
}

describe('Graph-backed execution: each wizard end to end (Azurite, sandbox cloud, real SDKs)', function () {
  this.timeout(30_000);
  const stack = useExecutionStack();

  it('offboards Lee: blocked, signed out, auto-reply on, groups and manager gone, licences gone after the shared-mailbox tick', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const seatsBefore = directoryState(contoso).freeSeats;
    const request = await approvedRequest(s, CONTOSO_ID, 'offboard', {
      userPrincipalName: users.lee.userPrincipalName,
      convertToSharedMailbox: 'true',
      removeLicences: 'true',
      forwardMailTo: users.andy.userPrincipalName,
    });
    const message = 'Lee has left Contoso. Please write to andy.approver@contoso.example.';
    const { preview: previewed, run } = await previewAndStart(s, request, {
      autoReply: { message },
    });

    const plan = previewed.plan;
    assert.deepEqual(
      plan.steps.map((step) => step.id),
      [
        'block-sign-in',
        'revoke-sessions',
        'set-auto-reply',
        `leave-${groups.allStaff.id}`,
        `leave-${groups.salesTeam.id}`,
        `leave-${groups.e3Users.id}`,
        `leave-${groups.projectFalcon.id}`,
        'remove-manager',
        'remove-licences',
      ],
    );
    assert.equal(plan.steps[plan.pointOfNoReturn]?.id, 'remove-licences');
    assert.ok(
      plan.notes.some((n) => /stays in Sales \(dynamic\).*rule/.test(n)),
      'the dynamic group is skipped with a note',
    );
    assert.ok(
      plan.notes.some((n) =>
        /E3 comes from E3 Licensed Users and goes when Lee Leaver leaves it/.test(n),
      ),
      'the inherited E3 is explained',
    );
    const shared = plan.checklist.find((c) => c.id === 'convert-to-shared-mailbox');
    assert.equal(shared?.before, 'remove-licences');
    assert.ok(
      plan.checklist.some((c) => c.id === `leave-list-${groups.salesAnnouncements.id}`),
      'the mail-enabled group is a checklist task',
    );

    let paused = false;
    const done = await settle(s, CONTOSO_ID, run.id, {
      onPause: (waiting) => {
        if (paused) return;
        paused = true;
        // First pause: the shared-mailbox conversion gates the licence removal.
        assert.match(waiting.reason ?? '', /shared mailbox/i);
        assert.equal(waiting.steps.find((p) => p.id === 'remove-licences')?.status, 'pending');
        assert.ok(
          contoso.user(users.lee.id)!.licences.some((l) => l.skuId === BP),
          'licences stay until the mailbox is converted',
        );
        assert.equal(contoso.user(users.lee.id)!.accountEnabled, false);
      },
    });
    assert.ok(paused, 'the run waited for the checklist');
    assert.equal(done.status, 'completed', done.reason);

    const lee = contoso.user(users.lee.id)!;
    assert.equal(lee.accountEnabled, false);
    assert.ok(lee.sessionsRevokedAt, 'sessions revoked');
    assert.deepEqual(
      [lee.autoReply.status, lee.autoReply.externalAudience, lee.autoReply.internalReplyMessage],
      ['alwaysEnabled', 'all', message],
    );
    assert.equal(lee.managerId, undefined);
    assert.deepEqual(lee.licences, [], 'Business Premium removed, E3 gone with its group');
    assert.deepEqual(
      [...lee.memberOf].sort(),
      [groups.salesAnnouncements.id, groups.salesDynamic.id].sort(),
      'left in the mail-enabled group (checklist) and the dynamic one (rule)',
    );
    assert.deepEqual(lee.ownerOf, [groups.projectFalcon.id], 'ownership is a note, not a step');
    const seatsAfter = directoryState(contoso).freeSeats;
    assert.equal(seatsAfter['SPB'], seatsBefore['SPB']! + 1);
    assert.equal(seatsAfter['ENTERPRISEPACK'], seatsBefore['ENTERPRISEPACK']! + 1);

    assert.equal((await storedRequest(s, request)).status, 'implemented');
    const trail = await auditTrail(s, CONTOSO_ID);
    assertEveryStepAudited(trail, done);
    const revoked = runEvents(trail, done).filter((e) => e.type === 'access.revoked');
    assert.deepEqual(
      revoked.map((e) => [
        e.payload['resourceId'],
        e.payload['userId'],
        e.personal?.['resourceName'],
      ]),
      [
        [groups.allStaff.id, users.lee.id, 'All Staff'],
        [groups.salesTeam.id, users.lee.id, 'Sales Team'],
        [groups.e3Users.id, users.lee.id, 'E3 Licensed Users'],
        [groups.projectFalcon.id, users.lee.id, 'Project Falcon'],
      ],
    );
    assert.ok(
      revoked.every((e) => e.personal?.['userPrincipalName'] === users.lee.userPrincipalName),
    );
    assert.equal(
      runEvents(trail, done).filter((e) => e.type === 'checklist.ticked').length,
      plan.checklist.length,
    );
    assert.ok(trail.some((e) => e.type === 'work.implemented' && e.requestId === request.id));
    assertNoPersonalDataInPayloads(trail, users.lee.userPrincipalName, 'Lee Leaver');
    await assertChainVerifies(s, CONTOSO_ID);
    await assertFollowersTold(s, done, [cast.carla, cast.andy, cast.avery, cast.tina]);
  });

  it('creates Nina with usage location, licence, groups and manager; her password is sealed and revealed once to the requester', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const upn = 'nina.newstart@contoso.example';
    const request = await approvedRequest(s, CONTOSO_ID, 'new_user', {
      givenName: 'Nina',
      surname: 'Newstart',
      displayName: 'Nina Newstart',
      userPrincipalName: upn,
      jobTitle: 'Account Manager',
      department: 'Sales',
      usageLocation: 'GB',
      managerUpn: users.andy.userPrincipalName,
      licenceSkus: 'SPB',
      groups: 'Sales Team, Project Falcon, Sales Announcements',
    });
    const { preview: previewed, run } = await previewAndStart(s, request);
    assert.equal(previewed.plan.pointOfNoReturn, previewed.plan.steps.length, 'all undoable');
    assert.deepEqual(
      previewed.plan.checklist.map((c) => c.id),
      [`join-list-${groups.salesAnnouncements.id}`],
    );

    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    const nina = contoso.user(upn);
    assert.ok(nina, 'the account exists');
    assert.equal(done.createdUserId, nina.id);
    assert.equal(nina.accountEnabled, true);
    assert.equal(nina.usageLocation, 'GB');
    assert.equal(nina.jobTitle, 'Account Manager');
    assert.deepEqual(
      nina.licences.map((l) => [l.skuId, l.assignedByGroup]),
      [[BP, undefined]],
    );
    assert.ok(nina.memberOf.includes(groups.salesTeam.id));
    assert.ok(nina.memberOf.includes(groups.projectFalcon.id));
    assert.ok(
      !nina.memberOf.includes(groups.salesAnnouncements.id),
      'left to Exchange (checklist)',
    );
    assert.equal(nina.managerId, users.andy.id);
    assert.equal(contoso.counters().mutations['POST /users'], 1);
    assert.equal((await storedRequest(s, request)).status, 'implemented');

    // Every row as stored while the password is still kept (sealed), to search once it is known.
    const rowsWhileKept = await rawRows(s);
    assert.ok(await s.storage.passwords.available(CONTOSO_ID, done.id, s.clock.now()));
    assert.ok(
      rowsWhileKept.some((row) => String(row['rowKey']).startsWith('pw_')),
      'the sealed password row is among the rows searched',
    );

    // Only the requester may reveal the password, once.
    const byTech = await revealTemporaryPassword(s.deps, {
      actor: cast.tina,
      requestId: request.id,
      runId: done.id,
    });
    assert.equal(byTech.ok ? 'revealed' : byTech.error.code, 'EXEC.NOT_REQUESTER');
    const revealed = await revealTemporaryPassword(s.deps, {
      actor: cast.carla,
      requestId: request.id,
      runId: done.id,
    });
    assert.ok(revealed.ok, revealed.ok ? '' : revealed.error.message);
    assert.equal(revealed.value.userPrincipalName, upn);
    const password = revealed.value.password.reveal();
    assert.equal(password.length, 16);
    const again = await revealTemporaryPassword(s.deps, {
      actor: cast.carla,
      requestId: request.id,
      runId: done.id,
    });
    assert.equal(again.ok ? 'revealed' : again.error.code, 'EXEC.PASSWORD_GONE');

    // Never in clear: not in any table row, outbox row, card, audit entry or Graph log line.
    const rows = [...rowsWhileKept, ...(await rawRows(s))];
    assert.ok(rows.length > 0);
    for (const row of rows)
      assert.ok(
        !JSON.stringify(row).includes(password),
        `password in clear in row ${String(row['rowKey'])}`,
      );
    for (const row of await s.storage.outbox.list(CONTOSO_ID))
      assert.ok(!JSON.stringify(row.message).includes(password));
    for (const delivery of s.notifier.attempts)
      assert.ok(!JSON.stringify(delivery.notification).includes(password));
    const trail = await auditTrail(s, CONTOSO_ID);
    for (const event of trail) {
      assert.ok(!event.canonical.includes(password), `password in ${event.type}`);
      assert.ok(!JSON.stringify(event.personal ?? {}).includes(password));
    }
    for (const line of s.logs) assert.ok(!line.includes(password), line);

    assertEveryStepAudited(trail, done);
    const granted = runEvents(trail, done).filter((e) => e.type === 'access.granted');
    assert.deepEqual(
      granted.map((e) => [
        e.payload['resourceId'],
        e.payload['userId'],
        e.personal?.['resourceName'],
      ]),
      [
        [groups.salesTeam.id, nina.id, 'Sales Team'],
        [groups.projectFalcon.id, nina.id, 'Project Falcon'],
      ],
    );
    assert.ok(granted.every((e) => e.personal?.['userPrincipalName'] === upn));
    const reveal = trail.find((e) => e.type === 'password.revealed');
    assert.deepEqual([reveal?.payload['runId'], reveal?.payload['userId']], [done.id, nina.id]);
    assertNoPersonalDataInPayloads(trail, upn, 'Nina Newstart');
    await assertChainVerifies(s, CONTOSO_ID);
    await assertFollowersTold(s, done, [cast.carla, cast.andy, cast.avery, cast.tina]);
  });

  it('changes licences: gives Mo Business Premium and takes Exchange Online away', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const seatsBefore = directoryState(contoso).freeSeats;
    const request = await approvedRequest(s, CONTOSO_ID, 'licence_change', {
      userPrincipalName: users.mo.userPrincipalName,
      addSkus: 'SPB',
      removeSkus: 'EXCHANGESTANDARD',
    });
    const { preview: previewed, run } = await previewAndStart(s, request);
    assert.deepEqual(
      previewed.plan.steps.map((step) => step.id),
      ['assign-licences', 'remove-licences'],
    );
    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    assert.deepEqual(
      contoso.user(users.mo.id)!.licences.map((l) => l.skuId),
      [BP],
    );
    const seatsAfter = directoryState(contoso).freeSeats;
    assert.equal(seatsAfter['SPB'], seatsBefore['SPB']! - 1);
    assert.equal(seatsAfter['EXCHANGESTANDARD'], seatsBefore['EXCHANGESTANDARD']! + 1);
    assert.equal((await storedRequest(s, request)).status, 'implemented');
    const trail = await auditTrail(s, CONTOSO_ID);
    assertEveryStepAudited(trail, done);
    await assertChainVerifies(s, CONTOSO_ID);
    await assertFollowersTold(s, done, [cast.carla, cast.andy, cast.avery, cast.tina]);
  });

  it('refuses a licence with no free seats (E3) with a clear message, at preview and in the run, changing nothing', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    // Every E3 seat taken, as seeded (an offboarding elsewhere in this file may have freed one).
    const e3 = contoso.skus().find((sku) => sku.skuId === E3)!;
    contoso.setPrepaidUnits(e3.skuPartNumber, e3.consumedUnits);
    const before = directoryState(contoso);
    assert.equal(before.freeSeats[e3.skuPartNumber], 0);
    const request = await approvedRequest(s, CONTOSO_ID, 'licence_change', {
      userPrincipalName: users.sam.userPrincipalName,
      addSkus: 'ENTERPRISEPACK',
    });
    const refused = await preview(s, request);
    assert.ok(!refused.ok, 'preview refused');
    assert.equal(refused.error.code, 'EXEC.NO_FREE_SEATS');
    assert.match(
      refused.error.message,
      /Office 365 E3 has no free seats \(\d+ of \d+ assigned\): buy a seat or free one/,
    );

    // Started without a preview (say, from a stale wizard): the worker plans, refuses the same way.
    const started = await startExecution(s.deps, {
      actor: cast.tina,
      requestId: request.id,
      version: request.version,
      options: {},
    });
    assert.ok(started.ok, started.ok ? '' : started.error.message);
    const done = await settle(s, CONTOSO_ID, started.value.run.id);
    assert.equal(done.status, 'needs_manual');
    assert.match(done.reason ?? '', /no free seats.*Nothing was changed/);
    const after = await storedRequest(s, request);
    assert.equal(after.status, 'failed');
    assert.equal(after.failure?.reason, done.reason);
    assert.deepEqual(contoso.counters().mutations, {});
    assert.deepEqual(directoryState(contoso), before);
    await assertChainVerifies(s, CONTOSO_ID);
  });

  it('grants Sam membership of IT Admins and records who gained what, when', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const request = await approvedRequest(s, CONTOSO_ID, 'access_change', {
      userPrincipalName: users.sam.userPrincipalName,
      action: 'grant',
      resource: 'IT Admins',
      accessLevel: 'member',
    });
    const { run } = await previewAndStart(s, request);
    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    assert.ok(contoso.group(groups.itAdmins.id)!.members.includes(users.sam.id));
    assert.equal((await storedRequest(s, request)).status, 'implemented');

    const entries = await s.storage.audit.read(CONTOSO_ID);
    const trail = await auditTrail(s, CONTOSO_ID);
    const index = trail.findIndex(
      (e) => e.type === 'access.granted' && e.payload['runId'] === done.id,
    );
    assert.ok(index >= 0, 'no access.granted');
    const granted = trail[index]!;
    assert.deepEqual(
      {
        resourceId: granted.payload['resourceId'],
        userId: granted.payload['userId'],
        relation: granted.payload['relation'],
        ...granted.personal,
      },
      {
        resourceId: groups.itAdmins.id,
        userId: users.sam.id,
        relation: 'member',
        resourceName: 'IT Admins',
        userPrincipalName: users.sam.userPrincipalName,
      },
    );
    const when = (JSON.parse(entries[index]!.canonical) as { ts: string }).ts;
    assert.equal(when, s.clock.now().toISOString());
    assertEveryStepAudited(trail, done);
    await assertChainVerifies(s, CONTOSO_ID);
    await assertFollowersTold(s, done, [cast.carla, cast.andy, cast.avery, cast.tina]);
  });

  it('revokes Olly from Marketing and records who lost what', async () => {
    const s = stack();
    const contoso = s.tenant(CONTOSO_ID);
    const request = await approvedRequest(s, CONTOSO_ID, 'access_change', {
      userPrincipalName: users.olly.userPrincipalName,
      action: 'revoke',
      resource: 'Marketing',
      accessLevel: 'member',
    });
    const { run } = await previewAndStart(s, request);
    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    assert.ok(!contoso.group(groups.marketing.id)!.members.includes(users.olly.id));
    assert.deepEqual(contoso.counters().mutations, { 'DELETE /groups/{id}/members/{id}/$ref': 1 });
    const trail = await auditTrail(s, CONTOSO_ID);
    const revoked = runEvents(trail, done).filter((e) => e.type === 'access.revoked');
    assert.deepEqual(
      revoked.map((e) => [
        e.payload['resourceId'],
        e.payload['userId'],
        e.personal?.['resourceName'],
        e.personal?.['userPrincipalName'],
      ]),
      [[groups.marketing.id, users.olly.id, 'Marketing', users.olly.userPrincipalName]],
    );
    assertEveryStepAudited(trail, done);
    await assertChainVerifies(s, CONTOSO_ID);
  });

  describe('refusals read from the real directory, before anything runs', () => {
    const cases: readonly {
      readonly name: string;
      readonly type: 'new_user' | 'licence_change' | 'access_change';
      readonly fields: Readonly<Record<string, unknown>>;
      readonly code: string;
      readonly message: RegExp;
    }[] = [
      {
        name: 'a user principal name that is taken',
        type: 'new_user',
        fields: {
          givenName: 'Lee',
          surname: 'Again',
          displayName: 'Lee Again',
          userPrincipalName: users.mo.userPrincipalName,
        },
        code: 'EXEC.UPN_TAKEN',
        message: /already used by Mo Mover: choose another user principal name/,
      },
      {
        name: 'a dynamic group for a new user',
        type: 'new_user',
        fields: {
          givenName: 'Dyn',
          surname: 'Amic',
          displayName: 'Dyn Amic',
          userPrincipalName: 'dyn.amic@contoso.example',
          groups: 'Sales (dynamic)',
        },
        code: 'EXEC.DYNAMIC_GROUP',
        message: /has dynamic membership/,
      },
      {
        name: 'removing a licence that comes from a group',
        type: 'licence_change',
        fields: { userPrincipalName: users.avery.userPrincipalName, removeSkus: 'ENTERPRISEPACK' },
        code: 'EXEC.INHERITED_LICENCE',
        message:
          /comes from the group "E3 Licensed Users" and cannot be removed from the user directly/,
      },
      {
        name: 'a licence for a user without a usage location',
        type: 'licence_change',
        fields: { userPrincipalName: users.una.userPrincipalName, addSkus: 'EXCHANGESTANDARD' },
        code: 'EXEC.NO_USAGE_LOCATION',
        message: /has no usage location.*set the usage location/,
      },
      {
        name: 'a group nobody has heard of',
        type: 'access_change',
        fields: {
          userPrincipalName: users.sam.userPrincipalName,
          action: 'grant',
          resource: 'Finance Share',
          accessLevel: 'member',
        },
        code: 'EXEC.GROUP_NOT_FOUND',
        message: /No group named "Finance Share"/,
      },
    ];
    for (const refusal of cases)
      it(`refuses ${refusal.name}, saying what to fix`, async () => {
        const s = stack();
        const request = await approvedRequest(s, CONTOSO_ID, refusal.type, refusal.fields);
        const previewed = await preview(s, request);
        assert.ok(!previewed.ok, 'preview refused');
        assert.equal(previewed.error.code, refusal.code);
        assert.match(previewed.error.message, refusal.message);
        assert.deepEqual(s.tenant(CONTOSO_ID).counters().mutations, {});
      });

    it('sets a missing usage location first when the wizard gives one, then assigns the licence', async () => {
      const s = stack();
      const contoso = s.tenant(CONTOSO_ID);
      const request = await approvedRequest(s, CONTOSO_ID, 'licence_change', {
        userPrincipalName: users.una.userPrincipalName,
        addSkus: 'EXCHANGESTANDARD',
      });
      const { preview: previewed, run } = await previewAndStart(s, request, {
        usageLocation: 'GB',
      });
      assert.deepEqual(
        previewed.plan.steps.map((step) => step.id),
        ['set-usage-location', 'assign-licences'],
      );
      const done = await settle(s, CONTOSO_ID, run.id);
      assert.equal(done.status, 'completed', done.reason);
      const una = contoso.user(users.una.id)!;
      assert.equal(una.usageLocation, 'GB');
      assert.deepEqual(
        una.licences.map((l) => l.skuPartNumber),
        ['EXCHANGESTANDARD'],
      );
    });

    it('leaves a mail-enabled group to the checklist: the run waits for the tick and changes nothing in Graph', async () => {
      const s = stack();
      const contoso = s.tenant(CONTOSO_ID);
      const request = await approvedRequest(s, CONTOSO_ID, 'access_change', {
        userPrincipalName: users.mo.userPrincipalName,
        action: 'grant',
        resource: 'Sales Announcements',
        accessLevel: 'member',
      });
      const { preview: previewed, run } = await previewAndStart(s, request);
      assert.deepEqual(previewed.plan.steps, []);
      assert.match(previewed.plan.checklist[0]?.detail ?? '', /Add-DistributionGroupMember/);
      const waiting = await settle(s, CONTOSO_ID, run.id, { tick: false });
      assert.equal(waiting.status, 'waiting');
      assert.match(waiting.reason ?? '', /Sales Announcements/);
      const done = await settle(s, CONTOSO_ID, run.id);
      assert.equal(done.status, 'completed', done.reason);
      assert.deepEqual(contoso.counters().mutations, {});
      assert.equal((await storedRequest(s, request)).status, 'implemented');
    });

    it('makes Avery an owner of Project Falcon when the request asks for owner access', async () => {
      const s = stack();
      const contoso = s.tenant(CONTOSO_ID);
      const request = await approvedRequest(s, CONTOSO_ID, 'access_change', {
        userPrincipalName: users.avery.userPrincipalName,
        action: 'grant',
        resource: 'Project Falcon',
        accessLevel: 'owner',
      });
      const { run } = await previewAndStart(s, request);
      const done = await settle(s, CONTOSO_ID, run.id);
      assert.equal(done.status, 'completed', done.reason);
      assert.ok(contoso.group(groups.projectFalcon.id)!.owners.includes(users.avery.id));
      const granted = (await auditTrail(s, CONTOSO_ID)).find(
        (e) => e.type === 'access.granted' && e.payload['runId'] === done.id,
      );
      assert.equal(granted?.payload['relation'], 'owner');
    });
  });

  describe('isolation between clients', () => {
    async function refusalsFor(
      s: ExecutionStack,
      request: ChangeRequest,
      outsider: Person,
    ): Promise<string[]> {
      const previewed = await preview(s, request, {}, outsider);
      const started = await startExecution(s.deps, {
        actor: outsider,
        requestId: request.id,
        version: request.version,
        options: {},
      });
      return [
        previewed.ok ? 'previewed' : previewed.error.code,
        started.ok ? 'started' : started.error.code,
      ];
    }

    it("does not let Fabrikam's technician preview or execute a Contoso request, nor Contoso's a Fabrikam one", async () => {
      const s = stack();
      const contosoRequest = await approvedRequest(s, CONTOSO_ID, 'access_change', {
        userPrincipalName: users.avery.userPrincipalName,
        action: 'grant',
        resource: 'Marketing',
        accessLevel: 'member',
      });
      const fabrikamRequest = await approvedRequest(s, FABRIKAM_ID, 'access_change', {
        userPrincipalName: SANDBOX_DIRECTORY.fabrikam.users.kim.userPrincipalName,
        action: 'grant',
        resource: 'Engineering Updates',
        accessLevel: 'member',
      });
      assert.deepEqual(await refusalsFor(s, contosoRequest, cast.theo), [
        'CR.NOT_FOUND',
        'CR.NOT_FOUND',
      ]);
      assert.deepEqual(await refusalsFor(s, fabrikamRequest, cast.tina), [
        'CR.NOT_FOUND',
        'CR.NOT_FOUND',
      ]);
      assert.deepEqual(await s.storage.runs.listForRequest(CONTOSO_ID, contosoRequest.number), []);
      assert.equal((await storedRequest(s, contosoRequest)).status, 'approved');
      for (const tenantId of [CONTOSO_ID, FABRIKAM_ID])
        assert.equal(s.tenant(tenantId).counters().roundTrips, 0, 'nothing read in either tenant');
    });

    it('a Contoso run touches only Contoso: Fabrikam sees no token request and no Graph call', async () => {
      const s = stack();
      const request = await approvedRequest(s, CONTOSO_ID, 'access_change', {
        userPrincipalName: users.avery.userPrincipalName,
        action: 'grant',
        resource: 'Marketing',
        accessLevel: 'member',
      });
      const { run } = await previewAndStart(s, request);
      const done = await settle(s, CONTOSO_ID, run.id);
      assert.equal(done.status, 'completed', done.reason);
      assert.ok(s.tenant(CONTOSO_ID).counters().roundTrips > 0);
      assert.deepEqual(s.tenant(FABRIKAM_ID).counters(), {
        roundTrips: 0,
        batchRequests: 0,
        batchedRequests: 0,
        tokenRequests: 0,
        throttled: 0,
        mutations: {},
      });
      assert.ok(s.tenant(CONTOSO_ID).group(groups.marketing.id)!.members.includes(users.avery.id));
    });
  });
});
