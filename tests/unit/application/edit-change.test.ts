import { strict as assert } from 'node:assert';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import type { ChangeRequestId } from '../../../src/domain/shared/ids';
import { ValidationError } from '../../../src/domain/shared/errors';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import { editChange, type EditChangeCommand } from '../../../src/application/use-cases/edit-change';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  seedClients,
  validFields,
  type Harness,
} from '../../support/fixtures';
import { isNotificationRow } from '../../../src/application/ports/outbox';
import { sendToApprovers } from '../../support/approval-flow';

const ID = 'CONTOSO-1' as ChangeRequestId;
/** The version approvers see once Tina has assessed the submitted request. */
const V = 2;

/** CONTOSO-1 raised by Carla, assessed by Tina and awaiting Andy or Avery at version `V`. */
async function awaitingApproval(): Promise<Harness> {
  const h = createHarness();
  await seedClients(h);
  const raised = await submitChange(h.deps, {
    actor: people.carla,
    type: 'new_user',
    fields: validFields('new_user'),
  });
  assert.ok(raised.ok);
  assert.equal((await sendToApprovers(h.deps, raised.value.request)).version, V);
  return h;
}

const edit = (overrides: Partial<EditChangeCommand> = {}): EditChangeCommand => ({
  actor: people.carla,
  requestId: ID,
  version: V,
  fields: validFields('new_user', {
    title: 'Onboard Jane Doe (start moved)',
    startDate: '2026-12-07',
  }),
  ...overrides,
});

/** What a refused edit must leave behind: the request, chain and outbox exactly as they were. */
async function snapshot(h: Harness) {
  return {
    request: await h.deps.requests.get(CONTOSO_TENANT_ID, ID),
    chain: (await h.deps.audit.read(CONTOSO_TENANT_ID)).length,
    outbox: (await h.deps.outbox.list(CONTOSO_TENANT_ID)).length,
  };
}

describe(editChange.name, () => {
  const sut = editChange;

  it("bumps the version, keeps the request awaiting approval and re-issues every approver's card for the new version", async () => {
    const h = await awaitingApproval();
    const outboxBefore = (await h.deps.outbox.list(CONTOSO_TENANT_ID)).length;
    const result = await sut(h.deps, edit());
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    assert.equal(result.value.version, V + 1);
    assert.equal(result.value.status, 'awaiting_approval');
    assert.equal(result.value.title, 'Onboard Jane Doe (start moved)');
    assert.equal(result.value.approval?.version, V + 1);
    assert.equal(result.value.approval?.status, 'pending');
    const reissued = (await h.deps.outbox.list(CONTOSO_TENANT_ID))
      .slice(outboxBefore)
      .filter(isNotificationRow)
      .map((r) => ({ to: r.message.recipient.oid, ...r.message.notification }));
    assert.deepEqual(reissued, [
      {
        to: people.andy.oid,
        template: 'approval_request',
        requestId: ID,
        version: V + 1,
        cardKey: 'approval:CONTOSO-1',
      },
      {
        to: people.avery.oid,
        template: 'approval_request',
        requestId: ID,
        version: V + 1,
        cardKey: 'approval:CONTOSO-1',
      },
    ]);
    const entries = await h.deps.audit.read(CONTOSO_TENANT_ID);
    const last = JSON.parse(entries.at(-1)!.canonical) as {
      type: string;
      payload: Record<string, unknown>;
    };
    assert.equal(last.type, 'request.edited');
    assert.equal(last.payload['supersededApprovalVersion'], V);
    assert.ok(
      !entries.at(-1)!.canonical.includes('jane.doe@contoso.example'),
      'the edited content is sealed',
    );
  });

  it('makes an approval of the old version stale and accepts one of the new version', async () => {
    const h = await awaitingApproval();
    await sut(h.deps, edit());
    const old = await decideApproval(h.deps, {
      actor: people.andy,
      requestId: ID,
      version: V,
      decision: 'approve',
    });
    assert.equal(old.kind === 'refused' && old.error.code, 'CR.STALE_VERSION');
    const current = await decideApproval(h.deps, {
      actor: people.andy,
      requestId: ID,
      version: V + 1,
      decision: 'approve',
    });
    assert.equal(current.kind, 'decided');
    if (current.kind === 'decided')
      assert.deepEqual(
        [current.request.status, current.request.approval?.version],
        ['approved', V + 1],
      );
    assert.ok(verifyChain(CONTOSO_TENANT_ID, await h.deps.audit.read(CONTOSO_TENANT_ID)).ok);
  });

  it('refuses an edit built from an older version and writes nothing', async () => {
    const h = await awaitingApproval();
    assert.ok((await sut(h.deps, edit())).ok);
    const before = await snapshot(h);
    const result = await sut(
      h.deps,
      edit({ version: V, fields: validFields('new_user', { title: 'Lost update' }) }),
    );
    assert.equal(!result.ok && result.error.code, 'CR.STALE_VERSION');
    assert.deepEqual(await snapshot(h), before);
  });

  it('returns field errors and writes nothing', async () => {
    const h = await awaitingApproval();
    const before = await snapshot(h);
    const result = await sut(
      h.deps,
      edit({ fields: validFields('new_user', { userPrincipalName: 'jane', title: '' }) }),
    );
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.ok(result.error instanceof ValidationError);
      assert.deepEqual(result.error.issues.map((i) => i.field).sort(), [
        'title',
        'userPrincipalName',
      ]);
    }
    assert.deepEqual(await snapshot(h), before);
  });

  it("lets the client's technician edit, but not an approver, another tenant or anyone after the decision", async () => {
    const h = await awaitingApproval();
    const byTech = await sut(h.deps, edit({ actor: people.tina }));
    assert.ok(byTech.ok);
    const before = await snapshot(h);
    const byApprover = await sut(h.deps, edit({ actor: people.andy, version: V + 1 }));
    const byImpostor = await sut(h.deps, edit({ actor: people.impostor, version: V + 1 }));
    assert.equal(!byApprover.ok && byApprover.error.code, 'CR.NOT_ALLOWED');
    assert.equal(!byImpostor.ok && byImpostor.error.code, 'CR.NOT_FOUND');
    assert.deepEqual(await snapshot(h), before);

    assert.equal(
      (
        await decideApproval(h.deps, {
          actor: people.avery,
          requestId: ID,
          version: V + 1,
          decision: 'approve',
        })
      ).kind,
      'decided',
    );
    const afterDecision = await sut(h.deps, edit({ version: V + 1 }));
    assert.equal(!afterDecision.ok && afterDecision.error.code, 'CR.INVALID_TRANSITION');
  });
});
