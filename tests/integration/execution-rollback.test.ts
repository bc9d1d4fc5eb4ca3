import { strict as assert } from 'node:assert';
import {
  revealTemporaryPassword,
  rollBackExecution,
} from '../../src/application/use-cases/execution';
import type { ChangeRequest, Person } from '../../src/domain/change-request/change-request';
import type { ExecutionRun } from '../../src/domain/execution/execution-run';
import type { TenantId } from '../../src/domain/shared/ids';
import { SANDBOX_DIRECTORY } from '../../src/sandbox/microsoft-cloud';
import {
  approvedRequest,
  assertChainVerifies,
  auditTrail,
  cast,
  CONTOSO_ID,
  directoryState,
  FABRIKAM_ID,
  previewAndStart,
  settle,
  storedRequest,
  useExecutionStack,
  type ExecutionStack,
} from '../support/execution-stack';

const fabrikam = SANDBOX_DIRECTORY.fabrikam;
const contoso = SANDBOX_DIRECTORY.contoso;

const UNTOUCHED = {
  roundTrips: 0,
  batchRequests: 0,
  batchedRequests: 0,
  tokenRequests: 0,
  throttled: 0,
  mutations: {},
};

/** Rolls a completed run back as `actor` and drives the rollback run to its end. */
async function rolledBack(
  stack: ExecutionStack,
  tenantId: TenantId,
  request: ChangeRequest,
  run: ExecutionRun,
  actor: Person,
): Promise<ExecutionRun> {
  const back = await rollBackExecution(stack.deps, {
    actor,
    requestId: request.id,
    runId: run.id,
  });
  assert.ok(back.ok, back.ok ? '' : back.error.message);
  assert.equal(back.value.run.kind, 'rollback');
  assert.equal(back.value.run.rollbackOf, run.id);
  return settle(stack, tenantId, back.value.run.id);
}

describe('Graph-backed execution: rolling a completed run back (Azurite, sandbox cloud, real SDKs)', function () {
  this.timeout(30_000);
  const stack = useExecutionStack();

  it("rolls Gail's completed offboarding back: Fabrikam's directory as it was, the request rolled_back, Contoso never touched", async () => {
    const s = stack();
    const tenant = s.tenant(FABRIKAM_ID);
    const before = directoryState(tenant);
    const request = await approvedRequest(s, FABRIKAM_ID, 'offboard', {
      userPrincipalName: fabrikam.users.gail.userPrincipalName,
      convertToSharedMailbox: 'true',
      removeLicences: 'true',
      forwardMailTo: fabrikam.users.frank.userPrincipalName,
    });
    const { run } = await previewAndStart(s, request);
    const done = await settle(s, FABRIKAM_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    const gone = tenant.user(fabrikam.users.gail.id)!;
    assert.equal(gone.accountEnabled, false);
    assert.deepEqual(gone.licences, []);
    assert.equal((await storedRequest(s, request)).status, 'implemented');

    const undone = await rolledBack(s, FABRIKAM_ID, request, done, cast.theo);
    assert.equal(undone.status, 'completed', undone.reason);
    assert.deepEqual(directoryState(tenant), before, 'the prior state is back');
    const gail = tenant.user(fabrikam.users.gail.id)!;
    assert.equal(gail.accountEnabled, true);
    assert.equal(gail.managerId, fabrikam.users.frank.id);
    assert.ok(gail.sessionsRevokedAt, 'signed-out sessions stay signed out (nothing to undo)');

    const after = await storedRequest(s, request);
    assert.equal(after.status, 'rolled_back');
    const trail = (await auditTrail(s, FABRIKAM_ID)).filter(
      (e) => e.payload['runId'] === undone.id,
    );
    const regained = trail
      .filter((e) => e.type === 'access.granted')
      .map((e) => e.payload['resourceId'])
      .sort();
    const lost = (await auditTrail(s, FABRIKAM_ID))
      .filter((e) => e.type === 'access.revoked' && e.payload['runId'] === done.id)
      .map((e) => e.payload['resourceId'])
      .sort();
    assert.ok(lost.length > 0);
    assert.deepEqual(regained, lost, 'every membership the offboarding took is given back');
    assert.ok(
      trail.some((e) => e.type === 'execution.finished' && e.payload['status'] === 'completed'),
    );
    await assertChainVerifies(s, FABRIKAM_ID);
    assert.deepEqual(s.tenant(CONTOSO_ID).counters(), UNTOUCHED, 'Contoso was never called');
  });

  it('rolls a new account back: the user deleted, the seat returned, the unrevealed password forgotten', async () => {
    const s = stack();
    const tenant = s.tenant(CONTOSO_ID);
    const before = directoryState(tenant);
    const upn = 'ron.rollback@contoso.example';
    const request = await approvedRequest(s, CONTOSO_ID, 'new_user', {
      givenName: 'Ron',
      surname: 'Rollback',
      displayName: 'Ron Rollback',
      userPrincipalName: upn,
      usageLocation: 'GB',
      managerUpn: contoso.users.andy.userPrincipalName,
      licenceSkus: 'SPB',
      groups: 'Sales Team',
    });
    const { run } = await previewAndStart(s, request);
    const done = await settle(s, CONTOSO_ID, run.id);
    assert.equal(done.status, 'completed', done.reason);
    assert.ok(tenant.user(upn));

    const undone = await rolledBack(s, CONTOSO_ID, request, done, cast.lena);
    assert.equal(undone.status, 'completed', undone.reason);
    assert.equal(tenant.user(upn), undefined);
    assert.deepEqual(directoryState(tenant), before);
    assert.equal((await storedRequest(s, request)).status, 'rolled_back');
    const reveal = await revealTemporaryPassword(s.deps, {
      actor: cast.carla,
      requestId: request.id,
      runId: done.id,
    });
    assert.equal(reveal.ok ? 'revealed' : reveal.error.code, 'EXEC.PASSWORD_GONE');
    assert.deepEqual(s.tenant(FABRIKAM_ID).counters(), UNTOUCHED, 'Fabrikam was never called');
    await assertChainVerifies(s, CONTOSO_ID);
  });
});
