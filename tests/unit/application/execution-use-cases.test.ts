import { strict as assert } from 'node:assert';
import {
  listExecutions,
  previewExecution,
  revealTemporaryPassword,
  rollBackExecution,
  startExecution,
  tickChecklistItem,
} from '../../../src/application/use-cases/execution';
import { CONTOSO_TENANT_ID, people } from '../../support/fixtures';
import {
  approvedRequest,
  auditTrail,
  driveToRest,
  executionHarness,
  started,
  storedRequest,
  storedRun,
} from './execution.harness';

const NEW_USER = {
  givenName: 'Nia',
  surname: 'Newcomer',
  displayName: 'Nia Newcomer',
  userPrincipalName: 'nia.newcomer@contoso.example',
  licenceSkus: 'SPB',
  groups: 'Finance',
};

describe('Execution use cases', () => {
  describe(previewExecution.name, () => {
    it('shows the plan and its digest without changing anything', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard', { removeLicences: 'true' });
      const result = await previewExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
      });
      assert.ok(result.ok, result.ok ? '' : result.error.message);
      assert.equal(
        result.value.plan.steps[result.value.plan.pointOfNoReturn]?.id,
        'remove-licences',
      );
      assert.match(result.value.digest, /^[0-9a-f]{64}$/);
      assert.equal(h.directory.applied.length, 0);
      assert.equal(result.value.options.type, 'offboard');
    });

    it('refuses with what to fix when the licence has no free seats', async () => {
      const h = await executionHarness();
      h.contoso.skus.get('sku-spb')!.enabledUnits = 1;
      const request = await approvedRequest(h, 'new_user', NEW_USER);
      const result = await previewExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
      });
      assert.ok(!result.ok);
      assert.equal(
        result.error.message,
        'Microsoft 365 Business Premium has no free seats (1 of 1 assigned): buy a seat or free one, then preview again.',
      );
    });

    it('passes on what the client must grant when Cabinet may not read their directory', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard');
      const consent =
        "Cabinet's Graph app is not consented in this client: an admin of the client must grant admin consent at https://login.microsoftonline.com/c0a7050a-0000-4000-8000-000000000002/adminconsent?client_id=cab1e700-0000-4000-8000-0000000000a1.";
      h.directory.refuseReads({
        reason: 'forbidden',
        code: 'AADSTS700016',
        message: consent,
        retryable: false,
      });
      const result = await previewExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
      });
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'EXEC.DIRECTORY_FORBIDDEN');
      assert.ok(result.error.message.includes(consent), result.error.message);
    });

    it('says when Graph is too busy to read the directory', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard');
      h.directory.throttleReads(1);
      const result = await previewExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
      });
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'EXEC.DIRECTORY_UNAVAILABLE');
    });

    it('accepts edited wizard fields and says which approved ones changed', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'new_user', NEW_USER);
      const result = await previewExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
        options: { userPrincipalName: 'nia.n@contoso.example', groups: [] },
      });
      assert.ok(result.ok, result.ok ? '' : result.error.message);
      assert.ok(
        result.value.plan.notes.some((n) =>
          /sign-in name \(.+ → nia\.n@contoso\.example\), groups \(.+ → none\)/.test(n),
        ),
        result.value.plan.notes.join('\n'),
      );
    });
  });

  describe('authorisation', () => {
    it('hides the request from a technician of another client', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard');
      for (const call of [
        previewExecution(h.execution, { actor: people.theo, requestId: request.id }),
        startExecution(h.execution, {
          actor: people.theo,
          requestId: request.id,
          version: request.version,
        }),
      ]) {
        const result = await call;
        assert.ok(!result.ok);
        assert.equal(result.error.code, 'CR.NOT_FOUND');
      }
    });

    it('refuses the requester, and audits it', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard');
      const result = await startExecution(h.execution, {
        actor: people.carla,
        requestId: request.id,
        version: request.version,
      });
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'CR.NOT_STAFF');
      const refused = (await auditTrail(h)).filter((e) => e.type === 'action.refused');
      assert.deepEqual(
        refused.map((e) => [e.payload['code'], e.payload['action']]),
        [['CR.NOT_STAFF', 'execute']],
      );
      assert.deepEqual(await h.storage.runs.listForRequest(CONTOSO_TENANT_ID, request.number), []);
    });

    it('refuses a stale version and a request without a current approval', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard');
      const stale = await startExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
        version: request.version - 1,
      });
      assert.ok(!stale.ok);
      assert.equal(stale.error.code, 'CR.STALE_VERSION');
      const general = await approvedRequest(h, 'general');
      const notExecutable = await previewExecution(h.execution, {
        actor: people.tina,
        requestId: general.id,
      });
      assert.ok(!notExecutable.ok);
      assert.equal(notExecutable.error.code, 'EXEC.NOT_EXECUTABLE');
    });

    it('lets a lead of the client execute, tick and roll back', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'access_change', { resource: 'Finance' });
      const run = await started(h, request, {}, people.lena);
      await driveToRest(h, run.id);
      const back = await rollBackExecution(h.execution, {
        actor: people.lena,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(back.ok);
    });
  });

  describe(startExecution.name, () => {
    it('moves the request in progress and queues the run with its graph.execute row, in one write', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard');
      const result = await startExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
        version: request.version,
        previewDigest: 'a'.repeat(64),
      });
      assert.ok(result.ok);
      assert.equal(result.value.request.status, 'in_progress');
      assert.equal(result.value.run.status, 'queued');
      assert.equal((await storedRequest(h, request)).status, 'in_progress');
      const rows = await h.storage.outbox.list(CONTOSO_TENANT_ID);
      assert.deepEqual(
        rows.filter((r) => r.message.kind === 'graph.execute').map((r) => r.message),
        [{ kind: 'graph.execute', requestId: request.id, runId: result.value.run.id }],
      );
      assert.ok(h.outboxWrites.includes(CONTOSO_TENANT_ID));
      assert.equal(h.directory.calls.length, 0, 'nothing waits on Graph');
    });

    it('tells the technician when the plan run differs from the one previewed', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'access_change', { resource: 'Finance' });
      const preview = await previewExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
      });
      assert.ok(preview.ok);
      h.contoso.groups.get('g-finance')!.members.add('u-jane');
      const result = await startExecution(h.execution, {
        actor: people.tina,
        requestId: request.id,
        version: request.version,
        previewDigest: preview.value.digest,
      });
      assert.ok(result.ok);
      await driveToRest(h, result.value.run.id);
      const run = await storedRun(h, result.value.run.id);
      assert.match(run.plan?.notes[0] ?? '', /changed after the preview/);
      const planned = (await auditTrail(h)).find((e) => e.type === 'execution.planned');
      assert.equal(planned?.payload['matchesPreview'], false);
    });

    it('lets only one of two simultaneous starts through', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard');
      const both = await Promise.all(
        [people.tina, people.lena].map((actor) =>
          startExecution(h.execution, { actor, requestId: request.id, version: request.version }),
        ),
      );
      assert.deepEqual(both.map((r) => r.ok).sort(), [false, true]);
      const refused = both.find((r) => !r.ok);
      assert.equal(refused && !refused.ok && refused.error.code, 'EXEC.RUN_ACTIVE');
      assert.equal(
        (await h.storage.runs.listForRequest(CONTOSO_TENANT_ID, request.number)).length,
        1,
      );
      const rows = await h.storage.outbox.list(CONTOSO_TENANT_ID);
      assert.equal(rows.filter((r) => r.message.kind === 'graph.execute').length, 1);
    });

    it('retries after a failed run, as a new run', async () => {
      const h = await executionHarness();
      h.directory.inject(
        (c) => c.kind === 'group.add',
        {
          kind: 'fail',
          failure: { reason: 'invalid', code: 'X', message: 'no', retryable: false },
        },
        1,
      );
      const request = await approvedRequest(h, 'access_change', { resource: 'Finance' });
      const first = await started(h, request);
      await driveToRest(h, first.id);
      assert.equal((await storedRun(h, first.id)).status, 'compensated');
      const failed = await storedRequest(h, request);
      assert.equal(failed.status, 'failed');
      const second = await started(h, failed);
      assert.equal(second.id, `${request.number}-2`);
      await driveToRest(h, second.id);
      assert.equal((await storedRequest(h, request)).status, 'implemented');
      const listed = await listExecutions(h.execution, {
        actor: people.carla,
        requestId: request.id,
      });
      assert.ok(listed.ok);
      assert.deepEqual(
        listed.value.runs.map((r) => r.status),
        ['compensated', 'completed'],
      );
    });
  });

  describe(tickChecklistItem.name, () => {
    it('resumes a run that waits for the mailbox conversion', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard', { removeLicences: 'true' });
      const run = await started(h, request);
      await driveToRest(h, run.id);
      const waiting = await storedRun(h, run.id);
      assert.equal(waiting.status, 'waiting');
      assert.match(waiting.reason ?? '', /Convert the mailbox of Lee Leaver to a shared mailbox/);
      assert.equal(
        h.contoso.users.get('u-leaver')!.assignedLicences.length,
        1,
        'licences wait for the conversion',
      );
      const told = (await h.storage.outbox.list(CONTOSO_TENANT_ID)).filter(
        (r) =>
          r.message.kind === 'teams.notify' &&
          r.message.notification.template === 'execution_update',
      );
      assert.deepEqual(
        told.map((r) => r.message.kind === 'teams.notify' && r.message.recipient.oid),
        [people.tina.oid],
      );

      const rowsBefore = (await h.storage.outbox.list(CONTOSO_TENANT_ID)).filter(
        (r) => r.message.kind === 'graph.execute',
      ).length;
      const ticked = await tickChecklistItem(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
        itemId: 'convert-to-shared-mailbox',
        note: 'Converted in EAC',
      });
      assert.ok(ticked.ok);
      const rowsAfter = (await h.storage.outbox.list(CONTOSO_TENANT_ID)).filter(
        (r) => r.message.kind === 'graph.execute',
      ).length;
      assert.equal(rowsAfter, rowsBefore + 1);
      await driveToRest(h, run.id);
      assert.deepEqual(h.contoso.users.get('u-leaver')!.assignedLicences, []);
      const listTask = await storedRun(h, run.id);
      assert.equal(listTask.status, 'waiting', 'the distribution list still waits for a person');
      assert.match(
        listTask.reason ?? '',
        /Remove Lee Leaver from the distribution list Newsletter/,
      );
      await tickChecklistItem(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
        itemId: 'leave-list-g-news',
      });
      await driveToRest(h, run.id);
      assert.equal((await storedRun(h, run.id)).status, 'completed');
      const tick = (await auditTrail(h)).find((e) => e.type === 'checklist.ticked');
      assert.equal(tick?.personal?.['note'], 'Converted in EAC');
    });

    it('refuses unknown items and the client’s own people', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'offboard');
      const run = await started(h, request);
      await driveToRest(h, run.id);
      const unknown = await tickChecklistItem(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
        itemId: 'nope',
      });
      assert.ok(!unknown.ok);
      assert.equal(unknown.error.code, 'EXEC.CHECKLIST_ITEM_NOT_FOUND');
      const carla = await tickChecklistItem(h.execution, {
        actor: people.carla,
        requestId: request.id,
        runId: run.id,
        itemId: 'convert-to-shared-mailbox',
      });
      assert.ok(!carla.ok);
      assert.equal(carla.error.code, 'CR.NOT_STAFF');
    });
  });

  describe(revealTemporaryPassword.name, () => {
    async function createdUser() {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'new_user', NEW_USER);
      const run = await started(h, request);
      await driveToRest(h, run.id);
      assert.equal((await storedRun(h, run.id)).status, 'completed');
      return { h, request, run };
    }

    it('reveals the password the account was created with, once, to the requester only', async () => {
      const { h, request, run } = await createdUser();
      const tina = await revealTemporaryPassword(h.execution, {
        actor: people.tina,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(!tina.ok);
      assert.equal(tina.error.code, 'EXEC.NOT_REQUESTER');
      const first = await revealTemporaryPassword(h.execution, {
        actor: people.carla,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(first.ok);
      assert.equal(first.value.userPrincipalName, 'nia.newcomer@contoso.example');
      const secret = first.value.password.reveal();
      assert.equal(secret, h.contoso.passwords.get('nia.newcomer@contoso.example'));
      assert.equal(
        JSON.stringify(first.value),
        `{"password":"[secret]","userPrincipalName":"nia.newcomer@contoso.example"}`,
      );
      const again = await revealTemporaryPassword(h.execution, {
        actor: people.carla,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(!again.ok);
      assert.equal(again.error.code, 'EXEC.PASSWORD_GONE');

      // Nowhere in storage: outbox rows, audit entries, runs.
      const rows = JSON.stringify(await h.storage.outbox.list(CONTOSO_TENANT_ID));
      const trail = await auditTrail(h);
      const runs = JSON.stringify(
        await h.storage.runs.listForRequest(CONTOSO_TENANT_ID, request.number),
      );
      for (const [where, text] of [
        ['outbox', rows],
        ['audit', JSON.stringify(trail)],
        ['runs', runs],
      ] as const)
        assert.ok(!text.includes(secret), `the password is in the ${where}`);
      const revealed = trail.filter((e) => e.type === 'password.revealed');
      assert.equal(revealed.length, 1);
      assert.deepEqual(revealed[0]!.personal, {
        userPrincipalName: 'nia.newcomer@contoso.example',
      });
    });

    it('is gone after 72 hours', async () => {
      const { h, request, run } = await createdUser();
      h.clock.advance(72 * 60 * 60_000);
      const late = await revealTemporaryPassword(h.execution, {
        actor: people.carla,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(!late.ok);
      assert.equal(late.error.code, 'EXEC.PASSWORD_EXPIRED');
    });

    it('reuses the kept password when a run resumes before creating the user', async () => {
      const h = await executionHarness();
      const request = await approvedRequest(h, 'new_user', NEW_USER);
      const run = await started(h, request);
      h.directory.inject(
        (c) => c.kind === 'user.create',
        { kind: 'throttle', retryAfterMs: 1000 },
        1,
      );
      await driveToRest(h, run.id);
      const revealed = await revealTemporaryPassword(h.execution, {
        actor: people.carla,
        requestId: request.id,
        runId: run.id,
      });
      assert.ok(revealed.ok);
      assert.equal(
        revealed.value.password.reveal(),
        h.contoso.passwords.get('nia.newcomer@contoso.example'),
      );
    });
  });
});
