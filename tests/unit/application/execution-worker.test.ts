import { strict as assert } from 'node:assert';
import {
  ExecutionWorker,
  rollBackExecution,
  tickChecklistItem,
} from '../../../src/application/use-cases/execution';
import { ConcurrencyError } from '../../../src/application/ports/errors';
import { actOnRequest } from '../../../src/application/use-cases/act-on-request';
import type {
  ExecutionStore,
  ExecutionWrite,
} from '../../../src/application/ports/execution-store';
import type { DirectoryCommand } from '../../../src/domain/execution/directory';
import { CONTOSO_TENANT_ID, people } from '../../support/fixtures';
import { badRequest } from '../../fakes/in-memory-directory';
import {
  approvedRequest,
  auditTrail,
  driveToRest,
  executionHarness,
  LEASE_MS,
  started,
  storedRequest,
  storedRun,
  userState,
  type ExecutionHarness,
} from './execution.harness';

const OFFBOARD = { removeLicences: 'true', forwardMailTo: 'boss@contoso.example' };
const NEW_USER = {
  givenName: 'Nia',
  surname: 'Newcomer',
  displayName: 'Nia Newcomer',
  userPrincipalName: 'nia.newcomer@contoso.example',
  managerUpn: 'boss@contoso.example',
  licenceSkus: 'SPB',
  groups: 'Finance, Newsletter',
};

/** Offboards Lee up to the end, ticking the checklist when the run asks. */
async function offboardToTheEnd(h: ExecutionHarness, options: Record<string, unknown> = {}) {
  const request = await approvedRequest(h, 'offboard', OFFBOARD);
  const run = await started(h, request, options);
  await driveToRest(h, run.id);
  for (let i = 0; i < 5; i += 1) {
    const current = await storedRun(h, run.id);
    if (current.status !== 'waiting' || current.waitUntil) break;
    for (const item of current.checklist.filter((c) => !c.done)) {
      const ticked = await tickChecklistItem(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
        itemId: item.id,
      });
      assert.ok(ticked.ok);
    }
    await driveToRest(h, run.id);
  }
  return { request, run: await storedRun(h, run.id) };
}

const matching =
  (kind: DirectoryCommand['kind'], groupId?: string) =>
  (c: DirectoryCommand): boolean =>
    c.kind === kind && (groupId === undefined || ('groupId' in c && c.groupId === groupId));

describe(ExecutionWorker.name, () => {
  describe('happy paths', () => {
    it('offboards: blocked, signed out, auto-reply on, groups, manager and licences gone, request implemented', async () => {
      const h = await executionHarness();
      const { request, run } = await offboardToTheEnd(h);
      assert.equal(run.status, 'completed');
      const lee = h.contoso.users.get('u-leaver')!;
      assert.equal(lee.accountEnabled, false);
      assert.equal(lee.sessionsRevoked, 1);
      assert.equal(lee.autoReply.status, 'alwaysEnabled');
      assert.match(lee.autoReply.externalReplyMessage, /boss@contoso.example/);
      assert.equal(lee.managerId, undefined);
      assert.deepEqual(lee.assignedLicences, []);
      assert.ok(!h.contoso.groups.get('g-finance')!.members.has('u-leaver'));
      assert.ok(!h.contoso.groups.get('g-team')!.members.has('u-leaver'));
      // Exchange-only and rule-based memberships are left to the checklist and the rule.
      assert.ok(h.contoso.groups.get('g-news')!.members.has('u-leaver'));
      assert.ok(h.contoso.groups.get('g-sales')!.members.has('u-leaver'));
      assert.ok(run.checklist.every((c) => c.done));

      const after = await storedRequest(h, request);
      assert.equal(after.status, 'implemented');
      const rows = await h.storage.outbox.list(CONTOSO_TENANT_ID);
      const updates = rows.filter(
        (r) =>
          r.message.kind === 'teams.notify' &&
          r.message.notification.template === 'execution_update',
      );
      const finalTo = new Set(
        updates
          .filter(
            (r) =>
              r.message.kind === 'teams.notify' &&
              /completed/.test(r.message.notification.note ?? ''),
          )
          .map((r) => (r.message.kind === 'teams.notify' ? r.message.recipient.oid : '')),
      );
      for (const p of [people.carla, people.andy, people.avery, people.tina])
        assert.ok(finalTo.has(p.oid), `${p.name} not told`);

      const trail = await auditTrail(h);
      const types = trail.map((e) => e.type);
      for (const t of [
        'work.started',
        'execution.queued',
        'execution.planned',
        'execution.step_started',
        'execution.step_succeeded',
        'access.revoked',
        'checklist.ticked',
        'execution.finished',
        'work.implemented',
      ])
        assert.ok(types.includes(t), `no ${t} in the audit trail`);
      const revoked = trail.filter((e) => e.type === 'access.revoked');
      assert.deepEqual(revoked.map((e) => e.payload['resourceId']).sort(), ['g-finance', 'g-team']);
      assert.ok(
        revoked.every((e) => e.personal?.['userPrincipalName'] === 'leaver@contoso.example'),
      );
      for (const e of trail)
        assert.ok(
          !JSON.stringify(e.payload).includes('leaver@contoso.example'),
          `UPN in clear in ${e.type}`,
        );
    });

    it('creates a new user with usage location, licence, group and manager, and keeps the password to reveal', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'new_user', NEW_USER);
      const run = await started(h, request);
      await driveToRest(h, run.id);
      const waiting = await storedRun(h, run.id);
      assert.equal(waiting.status, 'waiting', 'the distribution list is a checklist task');
      await tickChecklistItem(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
        itemId: waiting.checklist[0]!.id,
      });
      await driveToRest(h, run.id);
      const done = await storedRun(h, run.id);
      assert.equal(done.status, 'completed');
      const nia = h.contoso.byUpn('nia.newcomer@contoso.example')!;
      assert.equal(done.createdUserId, nia.id);
      assert.equal(nia.usageLocation, 'GB');
      assert.deepEqual(nia.assignedLicences, [{ skuId: 'sku-spb', disabledPlans: [] }]);
      assert.ok(h.contoso.groups.get('g-finance')!.members.has(nia.id));
      assert.equal(nia.managerId, 'u-boss');
      assert.ok(
        h.contoso.passwords.get('nia.newcomer@contoso.example'),
        'created with a temporary password',
      );
      assert.ok(await h.storage.passwords.available(CONTOSO_TENANT_ID, run.id, h.clock.now()));
      const granted = (await auditTrail(h)).filter((e) => e.type === 'access.granted');
      assert.deepEqual(
        granted.map((e) => [e.payload['resourceId'], e.payload['userId']]),
        [['g-finance', nia.id]],
      );
    });

    it('changes licences: adds before it removes', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'licence_change', {
        addSkus: 'SPB',
        removeSkus: 'ENTERPRISEPACK',
      });
      const run = await started(h, request);
      await driveToRest(h, run.id);
      assert.equal((await storedRun(h, run.id)).status, 'completed');
      assert.deepEqual(h.contoso.users.get('u-jane')!.assignedLicences, [
        { skuId: 'sku-spb', disabledPlans: [] },
      ]);
      assert.equal((await storedRequest(h, request)).status, 'implemented');
    });

    it('grants access and records who gained what', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'access_change', {
        resource: 'Finance',
        accessLevel: 'member',
      });
      const run = await started(h, request);
      await driveToRest(h, run.id);
      assert.equal((await storedRun(h, run.id)).status, 'completed');
      assert.ok(h.contoso.groups.get('g-finance')!.members.has('u-jane'));
      const granted = (await auditTrail(h)).find((e) => e.type === 'access.granted');
      assert.deepEqual(
        {
          resource: granted?.payload['resourceId'],
          user: granted?.payload['userId'],
          name: granted?.personal?.['resourceName'],
        },
        { resource: 'g-finance', user: 'u-jane', name: 'Finance' },
      );
    });

    it('sends one command per round trip when batching is off, with the same result', async () => {
      const h = await executionHarness({ together: false });
      await offboardToTheEnd(h);
      assert.ok(h.directory.calls.every((c) => c.commands.length === 1 && !c.together));
      assert.deepEqual(h.contoso.users.get('u-leaver')!.assignedLicences, []);
      const batched = await executionHarness();
      await offboardToTheEnd(batched);
      assert.ok(batched.directory.calls.length < h.directory.calls.length);
      assert.ok(batched.directory.calls.some((c) => c.commands.length > 1 && c.together));
    });
  });

  describe('failures', () => {
    const offboardSteps = [
      'block-sign-in',
      'revoke-sessions',
      'set-auto-reply',
      'leave-g-finance',
      'leave-g-team',
      'remove-manager',
    ];
    const commandOf: Record<string, (c: DirectoryCommand) => boolean> = {
      'block-sign-in': (c) => c.kind === 'user.update' && c.changes.accountEnabled === false,
      'revoke-sessions': matching('user.revokeSessions'),
      'set-auto-reply': (c) =>
        c.kind === 'user.setAutoReply' && c.autoReply.status === 'alwaysEnabled',
      'leave-g-finance': matching('group.remove', 'g-finance'),
      'leave-g-team': matching('group.remove', 'g-team'),
      'remove-manager': matching('user.removeManager'),
      'remove-licences': (c) => c.kind === 'user.assignLicences' && c.remove.length > 0,
    };

    for (const stepId of offboardSteps) {
      it(`undoes everything done when ${stepId} is refused before the point of no return`, async () => {
        const h = await executionHarness();
        const before = userState(h.contoso, 'u-leaver');
        h.directory.inject(commandOf[stepId]!, badRequest(`Graph refused ${stepId}`), Infinity);
        const { request, run } = await offboardToTheEnd(h);
        assert.equal(run.status, 'compensated');
        assert.deepEqual(userState(h.contoso, 'u-leaver'), before, 'prior state not restored');
        assert.match(run.reason ?? '', new RegExp(`Graph refused ${stepId}`));
        const after = await storedRequest(h, request);
        assert.equal(after.status, 'failed');
        assert.equal(after.failure?.reason, run.reason);
      });
    }

    it('stops for a person after the point of no return, saying what failed and what was done', async () => {
      const h = await executionHarness();
      h.directory.inject(
        commandOf['remove-licences']!,
        badRequest('Licences are locked'),
        Infinity,
      );
      const { request, run } = await offboardToTheEnd(h);
      assert.equal(run.status, 'needs_manual');
      assert.match(
        run.reason ?? '',
        /Could not finish: Remove the licences of Lee Leaver.*Licences are locked/,
      );
      assert.match(run.reason ?? '', /Done: Block sign-in for Lee Leaver/);
      const lee = h.contoso.users.get('u-leaver')!;
      assert.equal(lee.accountEnabled, false, 'nothing was undone');
      assert.equal((await storedRequest(h, request)).status, 'failed');
    });

    it('goes on undoing when one undo is refused, then stops for a person naming what is left', async () => {
      const h = await executionHarness();
      const before = userState(h.contoso, 'u-leaver') as { groups: string[] };
      h.directory.inject(matching('user.removeManager'), badRequest('Manager is locked'), Infinity);
      h.directory.inject(
        matching('group.add', 'g-finance'),
        badRequest('Graph refused re-adding to Finance'),
        Infinity,
      );
      const { request, run } = await offboardToTheEnd(h);

      assert.equal(run.status, 'needs_manual');
      // Everything but the refused re-add is back as it was: unblocked, auto-reply and Team restored.
      assert.deepEqual(userState(h.contoso, 'u-leaver'), {
        ...before,
        groups: before.groups.filter((g) => g !== 'g-finance'),
      });
      const progress = Object.fromEntries(run.steps.map((p) => [p.id, p.status]));
      assert.deepEqual(progress, {
        'block-sign-in': 'compensated',
        'revoke-sessions': 'done',
        'set-auto-reply': 'compensated',
        'leave-g-finance': 'done',
        'leave-g-team': 'compensated',
        'remove-manager': 'failed',
        'remove-licences': 'pending',
      });
      const reason = run.reason ?? '';
      assert.match(reason, /^Stopped because Clear the manager of Lee Leaver.*Manager is locked/);
      assert.match(
        reason,
        /could not undo: Remove Lee Leaver from Finance[^;]*\(Graph refused re-adding to Finance\)\./,
      );
      assert.match(reason, /Undone, newest first: .*Team.*Turn on the auto-reply.*Block sign-in/);
      assert.match(reason, /Cannot be undone, so left as done: Sign Lee Leaver out everywhere/);
      assert.match(reason, /Next: undo by hand what could not be undone/);
      const after = await storedRequest(h, request);
      assert.equal(after.status, 'failed');
      assert.equal(after.failure?.reason, reason);

      const trail = (await auditTrail(h)).filter((e) => e.payload['runId'] === run.id);
      const about = (type: string) =>
        trail.filter((e) => e.type === type).map((e) => e.payload['stepId']);
      assert.deepEqual(about('execution.compensation_failed'), ['leave-g-finance']);
      assert.deepEqual(about('execution.step_compensated'), [
        'leave-g-team',
        'set-auto-reply',
        'block-sign-in',
      ]);
      assert.deepEqual(
        trail.filter((e) => e.type === 'access.granted').map((e) => e.payload['resourceId']),
        ['g-team'],
      );

      // The card says it in a line and points to the tab, where the full reason is.
      const notes = (await h.storage.outbox.list(CONTOSO_TENANT_ID)).flatMap((r) =>
        r.message.kind === 'teams.notify' &&
        r.message.notification.template === 'execution_update' &&
        r.message.notification.runId === run.id &&
        /needs a technician/.test(r.message.notification.note ?? '')
          ? [r.message.notification.note ?? '']
          : [],
      );
      assert.equal(notes.length, 4, 'requester, both approvers and the technician');
      for (const note of notes) {
        assert.match(
          note,
          /^Execution \d+-1 needs a technician: Clear the manager of Lee Leaver.* failed, and 1 change could not be undone: Remove Lee Leaver from Finance \(security group\)\. Details are in the Cabinet tab\.$/,
        );
        assert.ok(note.length <= 300 && note.length < reason.length, note);
      }
    });

    it('keeps the card banner short when names are long, cutting at a word and pointing to the tab', async () => {
      const h = await executionHarness();
      const lee = h.contoso.users.get('u-leaver')!;
      lee.displayName = `Lee ${'Featherstonehaugh-Cholmondeley '.repeat(12)}Leaver`;
      h.directory.inject(matching('user.removeManager'), badRequest('Manager is locked'), Infinity);
      const { run } = await offboardToTheEnd(h);
      assert.equal(run.status, 'compensated');
      const notes = (await h.storage.outbox.list(CONTOSO_TENANT_ID)).flatMap((r) =>
        r.message.kind === 'teams.notify' &&
        r.message.notification.runId === run.id &&
        /failed and was undone/.test(r.message.notification.note ?? '')
          ? [r.message.notification.note ?? '']
          : [],
      );
      assert.ok(notes.length > 0);
      for (const note of notes) {
        assert.ok(note.length <= 300, `${note.length} characters`);
        assert.match(
          note,
          /^Execution \d+-1 failed and was undone: Clear the manager of Lee .*(?:Featherstonehaugh|Cholmondeley)… Details are in the Cabinet tab\.$/,
        );
      }
      assert.ok((run.reason ?? '').length > 1_000, 'the full story stays on the run');
    });

    for (const [stepId, match] of [
      ['create-user', matching('user.create')],
      ['assign-licences', matching('user.assignLicences')],
      ['join-g-finance', matching('group.add', 'g-finance')],
      ['set-manager', matching('user.setManager')],
    ] as const) {
      it(`deletes the new account again when ${stepId} is refused, and forgets its password`, async () => {
        const h = await executionHarness();
        h.directory.inject(match, badRequest(), Infinity);
        const request = await approvedRequest(h, 'new_user', { ...NEW_USER, groups: 'Finance' });
        const run = await started(h, request);
        await driveToRest(h, run.id);
        const done = await storedRun(h, run.id);
        assert.equal(done.status, 'compensated');
        assert.equal(h.contoso.byUpn('nia.newcomer@contoso.example'), undefined);
        assert.equal(h.contoso.consumed('sku-spb'), 1, 'the seat went back');
        assert.equal(
          await h.storage.passwords.available(CONTOSO_TENANT_ID, run.id, h.clock.now()),
          false,
        );
      });
    }

    it('waits as long as a throttled service asks, then carries on', async () => {
      const h = await executionHarness();
      h.directory.inject(
        matching('user.revokeSessions'),
        { kind: 'throttle', retryAfterMs: 90_000 },
        1,
      );
      const request = await approvedRequest(h, 'offboard', OFFBOARD);
      const run = await started(h, request);
      const startedAt = h.clock.now().getTime();
      const first = await h.worker().drive(CONTOSO_TENANT_ID, run.id);
      assert.equal(first.status, 'later');
      assert.ok(first.status === 'later' && first.at.getTime() - startedAt >= 90_000);
      const waiting = await storedRun(h, run.id);
      assert.equal(waiting.status, 'waiting');
      assert.equal(waiting.lease, undefined, 'a waiting run holds no lease');
      assert.match(waiting.reason ?? '', /Sign Lee Leaver out everywhere.*sent again/);
      // The trail says why the run paused, for which step and until when.
      const paused = (await auditTrail(h)).filter((e) => e.type === 'execution.waiting');
      assert.deepEqual(
        paused.map((e) => [e.payload['stepId'], e.payload['phase'], e.payload['until']]),
        [['revoke-sessions', 'forward', waiting.waitUntil]],
      );
      // Driven again too early (another row, another instance): it only says when.
      const early = await h.worker('worker-b').drive(CONTOSO_TENANT_ID, run.id);
      assert.deepEqual(early, first);
      h.clock.advance(90_000);
      await driveToRest(h, run.id);
      const after = await storedRun(h, run.id);
      assert.equal(after.status, 'waiting', 'now only the checklist is left');
      assert.equal(h.directory.count('user.revokeSessions'), 1);
    });

    it('does not start a run whose request was cancelled while it was queued', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard', OFFBOARD);
      const run = await started(h, request);
      const cancelled = await actOnRequest(h.deps, {
        actor: people.carla,
        requestId: request.id,
        action: { type: 'Cancelled', reason: 'Lee is staying after all' },
      });
      assert.equal(cancelled.kind, 'done');
      await driveToRest(h, run.id);
      const done = await storedRun(h, run.id);
      assert.equal(done.status, 'needs_manual');
      assert.match(done.reason ?? '', /cancelled now, so the run did not start/);
      assert.equal(h.directory.applied.length, 0);
      assert.equal((await storedRequest(h, request)).status, 'cancelled');
    });

    it('ends needs_manual when the plan cannot be made any more (the user left before the run)', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard', OFFBOARD);
      const run = await started(h, request);
      h.contoso.users.delete('u-leaver');
      await driveToRest(h, run.id);
      const done = await storedRun(h, run.id);
      assert.equal(done.status, 'needs_manual');
      assert.match(done.reason ?? '', /No user leaver@contoso.example.*Nothing was changed/);
      assert.equal(h.directory.applied.length, 0);
      assert.equal((await storedRequest(h, request)).status, 'failed');
    });
  });

  describe('crashes', () => {
    /** A store that dies once, on the write recording `stepId`'s outcome: the command went out, its result did not. */
    function crashingOnOutcome(store: ExecutionStore, stepId: string): ExecutionStore {
      let crashed = false;
      return {
        get: (t, id) => store.get(t, id),
        listForRequest: (t, n) => store.listForRequest(t, n),
        save: (t, write: ExecutionWrite) => {
          const outcome = write.audit.some(
            (e) =>
              (e.type === 'execution.step_succeeded' || e.type === 'execution.step_failed') &&
              e.payload['stepId'] === stepId,
          );
          if (outcome && !crashed) {
            crashed = true;
            return Promise.reject(new Error('process killed'));
          }
          return store.save(t, write);
        },
      };
    }

    for (const stepId of [
      'block-sign-in',
      'set-auto-reply',
      'leave-g-finance',
      'remove-manager',
      'remove-licences',
    ]) {
      it(`resumes after a crash between sending ${stepId} and recording it, applying each change once`, async () => {
        const h = await executionHarness();
        const request = await approvedRequest(h, 'offboard', {
          ...OFFBOARD,
          convertToSharedMailbox: 'false',
        });
        const run = await started(h, request, {});
        const dying = h.worker('worker-a', crashingOnOutcome(h.storage.runs, stepId));
        await assert.rejects(driveToRest(h, run.id, dying), /process killed/);
        const mid = await storedRun(h, run.id);
        assert.equal(mid.steps.find((s) => s.id === stepId)?.status, 'started');
        // A new process finds the dead worker's lease and waits it out, then takes over.
        const restarted = h.worker('worker-b');
        const blocked = await restarted.drive(CONTOSO_TENANT_ID, run.id);
        assert.equal(blocked.status, 'later');
        h.clock.advance(LEASE_MS);
        await driveToRest(h, run.id, restarted);
        const done = await storedRun(h, run.id);
        assert.equal(done.status, 'waiting', 'only the forwarding task is left');
        const counts = [
          'user.update',
          'user.setAutoReply',
          'user.removeManager',
          'user.assignLicences',
        ].map((k) => h.directory.count(k as DirectoryCommand['kind']));
        assert.deepEqual(counts, [1, 1, 1, 1]);
        assert.equal(h.directory.count('group.remove'), 2);
      });
    }

    it('reconciles a user creation whose response was lost: one user, its id recorded', async () => {
      const h = await executionHarness();
      h.directory.inject(matching('user.create'), { kind: 'lost' }, 1);
      const request = await approvedRequest(h, 'new_user', { ...NEW_USER, groups: 'Finance' });
      const run = await started(h, request);
      await assert.rejects(driveToRest(h, run.id), /connection closed/);
      h.clock.advance(LEASE_MS);
      await driveToRest(h, run.id, h.worker('worker-b'));
      const done = await storedRun(h, run.id);
      assert.equal(done.status, 'completed');
      assert.equal(h.directory.count('user.create'), 1);
      assert.equal(done.createdUserId, h.contoso.byUpn('nia.newcomer@contoso.example')?.id);
      assert.ok(h.contoso.groups.get('g-finance')!.members.has(done.createdUserId!));
    });

    it('lets only one of two workers drive a run at a time', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'licence_change', {
        addSkus: 'SPB',
        removeSkus: 'ENTERPRISEPACK',
      });
      const run = await started(h, request);
      const [a, b] = await Promise.all([
        h.worker('worker-a').drive(CONTOSO_TENANT_ID, run.id),
        h.worker('worker-b').drive(CONTOSO_TENANT_ID, run.id),
      ]);
      assert.deepEqual([a.status, b.status].sort(), ['later', 'settled']);
      assert.equal((await storedRun(h, run.id)).status, 'completed');
      assert.equal(h.directory.count('user.assignLicences'), 2);
    });

    it('stops when another worker took the run over, without writing over it', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'licence_change', { addSkus: 'SPB' });
      const run = await started(h, request);
      let stolen = false;
      const store = h.storage.runs;
      const racing: ExecutionStore = {
        get: (t, id) => store.get(t, id),
        listForRequest: (t, n) => store.listForRequest(t, n),
        save: async (t, write) => {
          if (!stolen && write.audit.some((e) => e.type === 'execution.step_started')) {
            stolen = true;
            throw new ConcurrencyError();
          }
          return store.save(t, write);
        },
      };
      const outcome = await h.worker('worker-a', racing).drive(CONTOSO_TENANT_ID, run.id);
      assert.equal(outcome.status, 'later');
      assert.equal(h.directory.applied.length, 0, 'nothing sent once the run was lost');
    });
  });

  describe('rollback', () => {
    it('rolls a completed offboarding back to the captured state and the request to rolled_back', async () => {
      const h = await executionHarness();
      const before = userState(h.contoso, 'u-leaver');
      const { request, run } = await offboardToTheEnd(h);
      const back = await rollBackExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(back.ok, back.ok ? '' : back.error.message);
      await driveToRest(h, back.value.run.id);
      const waiting = await storedRun(h, back.value.run.id);
      for (const item of waiting.checklist)
        await tickChecklistItem(h.execution, {
          actor: people.tina,
          requestId: request.id,
          runId: waiting.id,
          itemId: item.id,
        });
      await driveToRest(h, back.value.run.id);
      assert.equal((await storedRun(h, back.value.run.id)).status, 'completed');
      assert.deepEqual(userState(h.contoso, 'u-leaver'), before);
      const after = await storedRequest(h, request);
      assert.equal(after.status, 'rolled_back');
      assert.equal(after.closure?.outcome, 'rolled_back');
      const granted = (await auditTrail(h))
        .filter((e) => e.type === 'access.granted')
        .map((e) => e.payload['resourceId']);
      assert.deepEqual(granted.sort(), ['g-finance', 'g-team']);
    });

    it('goes on rolling back when one undo is refused, keeps the request implemented, and a second rollback finishes', async () => {
      const h = await executionHarness();
      const before = userState(h.contoso, 'u-leaver') as { groups: string[] };
      const { request, run } = await offboardToTheEnd(h);
      h.directory.inject(
        matching('group.add', 'g-finance'),
        badRequest('Graph refused re-adding to Finance'),
      );
      const back = await rollBackExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(back.ok, back.ok ? '' : back.error.message);
      await driveToRest(h, back.value.run.id);
      const partial = await storedRun(h, back.value.run.id);
      assert.equal(partial.status, 'needs_manual');
      assert.deepEqual(userState(h.contoso, 'u-leaver'), {
        ...before,
        groups: before.groups.filter((g) => g !== 'g-finance'),
      });
      const reason = partial.reason ?? '';
      assert.match(
        reason,
        /^Could not undo: Remove Lee Leaver from Finance[^;]*\(Graph refused re-adding to Finance\)\./,
      );
      assert.match(reason, /Undone: .*Block sign-in for Lee Leaver/);
      assert.match(reason, /Checklist still open: Reverse by hand: /);
      assert.match(
        reason,
        new RegExp(
          `state before run ${run.id}\\) and work through the open checklist, or fix the cause and roll back again`,
        ),
      );
      assert.equal((await storedRequest(h, request)).status, 'implemented');

      // Once Graph accepts, rolling back again finishes the job.
      const again = await rollBackExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(again.ok, again.ok ? '' : again.error.message);
      await driveToRest(h, again.value.run.id);
      const waiting = await storedRun(h, again.value.run.id);
      for (const item of waiting.checklist)
        await tickChecklistItem(h.execution, {
          actor: people.tina,
          requestId: request.id,
          runId: waiting.id,
          itemId: item.id,
        });
      await driveToRest(h, again.value.run.id);
      assert.equal((await storedRun(h, again.value.run.id)).status, 'completed');
      assert.deepEqual(userState(h.contoso, 'u-leaver'), before);
      assert.equal((await storedRequest(h, request)).status, 'rolled_back');
    });

    it('deletes a created user on rollback and forgets the unrevealed password', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'new_user', { ...NEW_USER, groups: 'Finance' });
      const run = await started(h, request);
      await driveToRest(h, run.id);
      const back = await rollBackExecution(h.execution, {
        actor: people.lena,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(back.ok);
      await driveToRest(h, back.value.run.id);
      assert.equal((await storedRun(h, back.value.run.id)).status, 'completed');
      assert.equal(h.contoso.byUpn('nia.newcomer@contoso.example'), undefined);
      assert.equal(h.contoso.consumed('sku-spb'), 1);
      assert.equal(
        await h.storage.passwords.available(CONTOSO_TENANT_ID, run.id, h.clock.now()),
        false,
      );
    });
  });
});
