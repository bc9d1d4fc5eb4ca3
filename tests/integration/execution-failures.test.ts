import { strict as assert } from 'node:assert';
import { startExecution } from '../../src/application/use-cases/execution';
import type { DirectoryCommand } from '../../src/domain/execution/directory';
import type { ExecutionRun } from '../../src/domain/execution/execution-run';
import type { ExecutionPlan, PlanStep } from '../../src/domain/execution/execution-plan';
import type { TenantId } from '../../src/domain/shared/ids';
import { SANDBOX_DIRECTORY, type RequestMatch } from '../../src/sandbox/microsoft-cloud';
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
  settle,
  storedRequest,
  useExecutionStack,
  type ExecutionStack,
} from '../support/execution-stack';

const { users, groups } = SANDBOX_DIRECTORY.contoso;

/**
 * The Graph request a step's forward command goes out as, for the cloud's `fail` knob: its route,
 * narrowed by the ids in its path where they are known before the run (a new user's id is not).
 */
function requestOf(command: DirectoryCommand): RequestMatch {
  const user = (id: string) => (/^[0-9a-f-]{36}$/.test(id) ? id : '[^/]+');
  switch (command.kind) {
    case 'user.create':
      return { route: 'POST /users' };
    case 'user.update':
      return { route: 'PATCH /users/{id}', path: new RegExp(`^/users/${user(command.userId)}$`) };
    case 'user.revokeSessions':
      return { route: 'POST /users/{id}/revokeSignInSessions' };
    case 'user.setAutoReply':
      return { route: 'PATCH /users/{id}/mailboxSettings' };
    case 'user.setManager':
      return { route: 'PUT /users/{id}/manager/$ref' };
    case 'user.removeManager':
      return { route: 'DELETE /users/{id}/manager/$ref' };
    case 'user.assignLicences':
      return { route: 'POST /users/{id}/assignLicense' };
    case 'group.add':
      return {
        route: 'POST /groups/{id}/members/$ref',
        path: new RegExp(`^/groups/${command.groupId}/`),
      };
    case 'group.remove':
      return {
        route: 'DELETE /groups/{id}/members/{id}/$ref',
        path: new RegExp(`^/groups/${command.groupId}/members/${user(command.userId)}/`),
      };
    case 'user.delete':
    case 'user.restore':
      throw new Error(`no plan under test starts with ${command.kind}`);
  }
}

/** A permanent refusal of one step's request, every time it is sent. */
function refuse(stack: ExecutionStack, step: PlanStep, tenantId: TenantId = CONTOSO_ID): string {
  const message = `Invalid value specified for step ${step.id} (refused by the test).`;
  stack.tenant(tenantId).fail({
    status: 400,
    code: 'Request_BadRequest',
    message,
    match: requestOf(step.forward),
  });
  return message;
}

function stepOf(plan: ExecutionPlan | undefined, id: string): PlanStep {
  const found = plan?.steps.find((s) => s.id === id);
  assert.ok(found, `the plan has no step ${id}`);
  return found;
}

/** What the run did, step by step. */
const statuses = (run: ExecutionRun) => Object.fromEntries(run.steps.map((p) => [p.id, p.status]));

/** Who hears how a Contoso run ended: the requester, the approvers and the technician. */
const FOLLOWERS = [cast.carla, cast.andy, cast.avery, cast.tina];

const OFFBOARD_FIELDS = {
  userPrincipalName: users.lee.userPrincipalName,
  convertToSharedMailbox: 'true',
  removeLicences: 'true',
  forwardMailTo: users.andy.userPrincipalName,
};

/** Lee's offboarding, in the playbook's order; the first test checks the planner still says so. */
const OFFBOARD_STEPS = [
  'block-sign-in',
  'revoke-sessions',
  'set-auto-reply',
  `leave-${groups.allStaff.id}`,
  `leave-${groups.salesTeam.id}`,
  `leave-${groups.e3Users.id}`,
  `leave-${groups.projectFalcon.id}`,
  'remove-manager',
  'remove-licences',
];
const OFFBOARD_POINT_OF_NO_RETURN = OFFBOARD_STEPS.indexOf('remove-licences');

const newUserFields = (alias: string) => ({
  givenName: 'Fay',
  surname: alias,
  displayName: `Fay ${alias}`,
  userPrincipalName: `fay.${alias}@contoso.example`,
  usageLocation: 'GB',
  managerUpn: users.andy.userPrincipalName,
  licenceSkus: 'SPB',
  groups: 'Sales Team, Project Falcon',
});

const NEW_USER_STEPS = [
  'create-user',
  'assign-licences',
  `join-${groups.salesTeam.id}`,
  `join-${groups.projectFalcon.id}`,
  'set-manager',
];

describe('Graph-backed execution: a refusal at every step (Azurite, sandbox cloud, real SDKs)', function () {
  this.timeout(30_000);
  const stack = useExecutionStack();

  describe('offboarding Lee', () => {
    it('plans the steps this suite refuses one by one, with the licence removal as the point of no return', async () => {
      const s = stack();
      const request = await approvedRequest(s, CONTOSO_ID, 'offboard', OFFBOARD_FIELDS);
      const previewed = await preview(s, request);
      assert.ok(previewed.ok, previewed.ok ? '' : previewed.error.message);
      assert.deepEqual(
        previewed.value.plan.steps.map((step) => step.id),
        OFFBOARD_STEPS,
      );
      assert.equal(previewed.value.plan.pointOfNoReturn, OFFBOARD_POINT_OF_NO_RETURN);
    });

    OFFBOARD_STEPS.slice(0, OFFBOARD_POINT_OF_NO_RETURN).forEach((stepId, index) => {
      it(`undoes everything when ${stepId} is refused (before the point of no return): the tenant is as it was`, async () => {
        const s = stack();
        const contoso = s.tenant(CONTOSO_ID);
        const before = directoryState(contoso);
        const request = await approvedRequest(s, CONTOSO_ID, 'offboard', OFFBOARD_FIELDS);
        let message = '';
        const { run } = await previewAndStart(s, request, {}, (previewed) => {
          message = refuse(s, stepOf(previewed.plan, stepId));
        });

        const done = await settle(s, CONTOSO_ID, run.id);
        assert.equal(done.status, 'compensated', done.reason);
        assert.ok(done.reason?.includes(message), done.reason);
        assert.deepEqual(directoryState(contoso), before, 'the prior state is restored exactly');
        const after = await storedRequest(s, request);
        assert.equal(after.status, 'failed');
        assert.equal(after.failure?.reason, done.reason);
        await assertToldOfEnd(s, CONTOSO_ID, done.id, FOLLOWERS, /failed and was undone/);

        const progress = statuses(done);
        assert.equal(progress[stepId], 'failed');
        const undone = Object.entries(progress).filter(([, status]) => status === 'compensated');
        assert.ok(
          OFFBOARD_STEPS.slice(0, index).every(
            (earlier) => progress[earlier] === 'compensated' || earlier === 'revoke-sessions',
          ),
          `every earlier step undone: ${JSON.stringify(progress)}`,
        );
        assert.equal(progress['remove-licences'], 'pending', 'never reached');
        const trail = (await auditTrail(s, CONTOSO_ID)).filter(
          (e) => e.payload['runId'] === done.id,
        );
        assert.ok(
          trail.some((e) => e.type === 'execution.step_failed' && e.payload['stepId'] === stepId),
        );
        assert.equal(
          trail.filter((e) => e.type === 'execution.step_compensated').length,
          undone.length,
        );
        // Memberships that were taken away and given back are audited both ways.
        assert.equal(
          trail.filter((e) => e.type === 'access.granted').length,
          trail.filter((e) => e.type === 'access.revoked').length,
        );
        await assertChainVerifies(s, CONTOSO_ID);
      });
    });

    it('stops for a person when the licence removal (the point of no return) is refused: the reason, what was done, nothing undone', async () => {
      const s = stack();
      const contoso = s.tenant(CONTOSO_ID);
      const request = await approvedRequest(s, CONTOSO_ID, 'offboard', OFFBOARD_FIELDS);
      let message = '';
      const { run } = await previewAndStart(s, request, {}, (previewed) => {
        message = refuse(s, stepOf(previewed.plan, 'remove-licences'));
      });

      const done = await settle(s, CONTOSO_ID, run.id);
      assert.equal(done.status, 'needs_manual', done.reason);
      assert.match(done.reason ?? '', /Could not finish: Remove the licences of Lee Leaver/);
      assert.ok(done.reason?.includes(message), done.reason);
      assert.match(done.reason ?? '', /Done: Block sign-in for Lee Leaver/);
      const progress = statuses(done);
      assert.equal(progress['remove-licences'], 'failed');
      for (const stepId of OFFBOARD_STEPS.slice(0, OFFBOARD_POINT_OF_NO_RETURN))
        assert.equal(progress[stepId], 'done', `${stepId} stays done`);

      const lee = contoso.user(users.lee.id)!;
      assert.equal(lee.accountEnabled, false, 'nothing was undone');
      assert.equal(lee.managerId, undefined);
      assert.equal(lee.autoReply.status, 'alwaysEnabled');
      assert.ok(!lee.memberOf.includes(groups.salesTeam.id));
      assert.deepEqual(
        lee.licences.map((l) => l.skuPartNumber),
        ['SPB'],
        'the refused removal left Business Premium',
      );
      assert.equal(contoso.counters().mutations['POST /users/{id}/assignLicense'], undefined);
      const after = await storedRequest(s, request);
      assert.equal(after.status, 'failed');
      assert.equal(after.failure?.reason, done.reason);
      await assertToldOfEnd(s, CONTOSO_ID, done.id, FOLLOWERS, /needs a technician/);
      const trail = (await auditTrail(s, CONTOSO_ID)).filter((e) => e.payload['runId'] === done.id);
      assert.ok(!trail.some((e) => e.type === 'execution.step_compensated'));
      assert.ok(
        trail.some(
          (e) => e.type === 'execution.finished' && e.payload['status'] === 'needs_manual',
        ),
      );
      await assertChainVerifies(s, CONTOSO_ID);
    });
  });

  describe('when Graph keeps failing', () => {
    it('retries the licence removal forward while Graph stays unavailable, then stops for a person, undoing nothing', async () => {
      const s = stack();
      const contoso = s.tenant(CONTOSO_ID);
      const request = await approvedRequest(s, CONTOSO_ID, 'offboard', {
        userPrincipalName: users.mo.userPrincipalName,
        removeLicences: 'true',
      });
      const { run } = await previewAndStart(s, request, {}, () =>
        contoso.throttle({
          count: 1_000,
          status: 503,
          retryAfterSeconds: 5,
          match: { route: 'POST /users/{id}/assignLicense' },
        }),
      );
      const done = await settle(s, CONTOSO_ID, run.id);
      assert.equal(done.status, 'needs_manual', done.reason);
      const removal = done.steps.find((p) => p.id === 'remove-licences')!;
      assert.deepEqual([removal.status, removal.failure?.reason], ['failed', 'throttled']);
      assert.ok(removal.attempts > 1, 'retried forward');
      assert.match(done.reason ?? '', /Could not finish: Remove the licences of Mo Mover/);
      assert.equal(contoso.counters().mutations['POST /users/{id}/assignLicense'], undefined);
      const mo = contoso.user(users.mo.id)!;
      assert.equal(mo.accountEnabled, false, 'nothing undone');
      assert.deepEqual(
        mo.licences.map((l) => l.skuPartNumber),
        ['EXCHANGESTANDARD'],
      );
      assert.equal((await storedRequest(s, request)).status, 'failed');
      await assertToldOfEnd(s, CONTOSO_ID, done.id, FOLLOWERS, /needs a technician/);
    });

    it('goes on undoing when some undos are refused, then stops for a person naming exactly what is still in place', async () => {
      const s = stack();
      const contoso = s.tenant(CONTOSO_ID);
      const samBefore = directoryState(contoso).users.find((u) => u.id === users.sam.id)!;
      const request = await approvedRequest(s, CONTOSO_ID, 'offboard', {
        userPrincipalName: users.sam.userPrincipalName,
        removeLicences: 'true',
      });
      let message = '';
      const { run } = await previewAndStart(s, request, {}, (previewed) => {
        message = refuse(s, stepOf(previewed.plan, 'remove-manager'));
        // Every re-add of a membership the run took away is refused as well.
        contoso.fail({
          status: 403,
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges to complete the operation.',
          match: { route: 'POST /groups/{id}/members/$ref' },
        });
      });
      const done = await settle(s, CONTOSO_ID, run.id);
      assert.equal(done.status, 'needs_manual', done.reason);

      // The refused re-adds did not stop the other undos: Sam can sign in, the auto-reply is
      // Sam's own again, and only the memberships are still gone, as the reason says.
      const progress = statuses(done);
      const left = Object.keys(progress).filter((id) => id.startsWith('leave-'));
      assert.ok(left.length > 0, 'the plan took Sam out of groups');
      assert.deepEqual(progress, {
        'block-sign-in': 'compensated',
        'revoke-sessions': 'done',
        'set-auto-reply': 'compensated',
        ...Object.fromEntries(left.map((id) => [id, 'done'])),
        'remove-manager': 'failed',
        'remove-licences': 'pending',
      });
      const gone = left.map((id) => id.slice('leave-'.length));
      assert.deepEqual(
        directoryState(contoso).users.find((u) => u.id === users.sam.id),
        {
          ...samBefore,
          memberOf: samBefore.memberOf.filter((g) => !gone.includes(g)),
        },
      );

      const reason = done.reason ?? '';
      assert.ok(reason.startsWith('Stopped because Clear the manager of Sam'), reason);
      assert.ok(reason.includes(message), reason);
      const notUndone = /could not undo: (.*?)\. Undone/.exec(reason)?.[1] ?? '';
      for (const id of left) {
        const title = stepOf(done.plan, id).title;
        assert.ok(
          notUndone.includes(`${title} (Insufficient privileges to complete the operation.)`),
          `${id} not named as still in place: ${reason}`,
        );
      }
      assert.match(
        reason,
        /Undone, newest first: Turn on the auto-reply of Sam.*; Block sign-in for Sam/,
      );
      assert.match(reason, /Cannot be undone, so left as done: Sign Sam .* out everywhere/);
      assert.match(reason, /Next: undo by hand what could not be undone/);
      const after = await storedRequest(s, request);
      assert.equal(after.status, 'failed');
      assert.equal(after.failure?.reason, reason);

      const trail = (await auditTrail(s, CONTOSO_ID)).filter((e) => e.payload['runId'] === done.id);
      const about = (type: string) =>
        trail
          .filter((e) => e.type === type)
          .map((e) => String(e.payload['stepId']))
          .sort();
      assert.deepEqual(about('execution.compensation_failed'), [...left].sort());
      assert.deepEqual(about('execution.step_compensated'), ['block-sign-in', 'set-auto-reply']);
      assert.ok(!trail.some((e) => e.type === 'access.granted'), 'no membership came back');
      await assertToldOfEnd(
        s,
        CONTOSO_ID,
        done.id,
        FOLLOWERS,
        new RegExp(
          `needs a technician: .*failed, and ${left.length} changes? could not be undone: .*Details are in the Cabinet tab\\.$`,
        ),
      );
      await assertChainVerifies(s, CONTOSO_ID);
    });
  });

  describe('offboarding someone with an auto-reply of their own', () => {
    for (const [who, tenantId, upn, status] of [
      ['Olly (always on)', CONTOSO_ID, users.olly.userPrincipalName, 'alwaysEnabled'],
      [
        'Jo (scheduled)',
        FABRIKAM_ID,
        SANDBOX_DIRECTORY.fabrikam.users.jo.userPrincipalName,
        'scheduled',
      ],
    ] as const)
      it(`gives ${who} their own auto-reply back, window and all, when a later step is refused`, async () => {
        const s = stack();
        const tenant = s.tenant(tenantId);
        const before = directoryState(tenant);
        assert.equal(tenant.user(upn)!.autoReply.status, status);
        const request = await approvedRequest(s, tenantId, 'offboard', {
          userPrincipalName: upn,
          removeLicences: 'true',
        });
        const { run } = await previewAndStart(s, request, {}, (previewed) => {
          refuse(s, stepOf(previewed.plan, 'remove-manager'), tenantId);
        });
        const done = await settle(s, tenantId, run.id);
        assert.equal(done.status, 'compensated', done.reason);
        assert.equal(statuses(done)['set-auto-reply'], 'compensated');
        assert.deepEqual(directoryState(tenant), before, 'the prior state is restored exactly');
      });
  });

  describe('creating a user', () => {
    it('plans the steps this suite refuses one by one, every one undoable', async () => {
      const s = stack();
      const request = await approvedRequest(s, CONTOSO_ID, 'new_user', newUserFields('planned'));
      const previewed = await preview(s, request);
      assert.ok(previewed.ok, previewed.ok ? '' : previewed.error.message);
      assert.deepEqual(
        previewed.value.plan.steps.map((step) => step.id),
        NEW_USER_STEPS,
      );
      assert.equal(previewed.value.plan.pointOfNoReturn, NEW_USER_STEPS.length);
    });

    NEW_USER_STEPS.forEach((stepId, index) => {
      it(`deletes the new account again when ${stepId} is refused: seats, groups and users as they were, password forgotten`, async () => {
        const s = stack();
        const contoso = s.tenant(CONTOSO_ID);
        const before = directoryState(contoso);
        const alias = `failed${index}`;
        const request = await approvedRequest(s, CONTOSO_ID, 'new_user', newUserFields(alias));
        let message = '';
        const { run } = await previewAndStart(s, request, {}, (previewed) => {
          message = refuse(s, stepOf(previewed.plan, stepId));
        });

        const done = await settle(s, CONTOSO_ID, run.id);
        assert.equal(done.status, 'compensated', done.reason);
        assert.ok(done.reason?.includes(message), done.reason);
        assert.deepEqual(directoryState(contoso), before, 'the prior state is restored exactly');
        assert.equal(contoso.user(`fay.${alias}@contoso.example`), undefined);
        assert.equal(
          await s.storage.passwords.available(CONTOSO_ID, done.id, s.clock.now()),
          false,
          'the password of an account that is gone is forgotten',
        );
        const after = await storedRequest(s, request);
        assert.equal(after.status, 'failed');
        assert.equal(after.failure?.reason, done.reason);
        const progress = statuses(done);
        assert.equal(progress[stepId], 'failed');
        if (stepId !== 'create-user') assert.equal(progress['create-user'], 'compensated');
        await assertChainVerifies(s, CONTOSO_ID);
      });
    });

    it('runs a compensated request again once Graph accepts it: one account, complete', async () => {
      const s = stack();
      const contoso = s.tenant(CONTOSO_ID);
      const upn = 'fay.again@contoso.example';
      const request = await approvedRequest(s, CONTOSO_ID, 'new_user', newUserFields('again'));
      const { run } = await previewAndStart(s, request, {}, (previewed) => {
        refuse(s, stepOf(previewed.plan, 'set-manager'));
      });
      assert.equal((await settle(s, CONTOSO_ID, run.id)).status, 'compensated');
      contoso.reset();

      const failed = await storedRequest(s, request);
      assert.equal(failed.status, 'failed');
      const again = await startExecution(s.deps, {
        actor: cast.tina,
        requestId: request.id,
        version: failed.version,
        options: {},
      });
      assert.ok(again.ok, again.ok ? '' : again.error.message);
      const done = await settle(s, CONTOSO_ID, again.value.run.id);
      assert.equal(done.status, 'completed', done.reason);
      const fay = contoso.user(upn);
      assert.equal(fay?.id, done.createdUserId);
      assert.equal(fay?.managerId, users.andy.id);
      assert.equal(contoso.users().filter((u) => u.userPrincipalName === upn).length, 1);
      assert.equal((await storedRequest(s, request)).status, 'implemented');
    });
  });
});
