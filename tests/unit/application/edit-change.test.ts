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

const ID = 'CONTOSO-1' as ChangeRequestId;

async function awaitingApproval(): Promise<Harness> {
  const h = createHarness();
  await seedClients(h);
  assert.ok(
    (
      await submitChange(h.deps, {
        actor: people.carla,
        type: 'new_user',
        fields: validFields('new_user'),
      })
    ).ok,
  );
  return h;
}

const edit = (overrides: Partial<EditChangeCommand> = {}): EditChangeCommand => ({
  actor: people.carla,
  requestId: ID,
  version: 1,
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
    assert.equal(result.value.version, 2);
    assert.equal(result.value.status, 'awaiting_approval');
    assert.equal(result.value.title, 'Onboard Jane Doe (start moved)');
    assert.equal(result.value.approval?.version, 2);
    const reissued = (await h.deps.outbox.list(CONTOSO_TENANT_ID))
      .filter(isNotificationRow)
      .slice(outboxBefore)
      .map((r) => ({ to: r.message.recipient.oid, ...r.message.notification }));
    assert.deepEqual(reissued, [
      {
        to: people.andy.oid,
        template: 'approval_request',
        requestId: ID,
        version: 2,
        cardKey: 'approval:CONTOSO-1',
      },
      {
        to: people.avery.oid,
        template: 'approval_request',
        requestId: ID,
        version: 2,
        cardKey: 'approval:CONTOSO-1',
      },
    ]);
    const entries = await h.deps.audit.read(CONTOSO_TENANT_ID);
    const last = JSON.parse(entries.at(-1)!.canonical) as {
      type: string;
      payload: Record<string, unknown>;
    };
    assert.equal(last.type, 'request.edited');
    assert.equal(last.payload['supersededApprovalVersion'], 1);
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
      version: 1,
      decision: 'approve',
    });
    assert.equal(old.kind === 'refused' && old.error.code, 'CR.STALE_VERSION');
    const current = await decideApproval(h.deps, {
      actor: people.andy,
      requestId: ID,
      version: 2,
      decision: 'approve',
    });
    assert.equal(current.kind, 'decided');
    if (current.kind === 'decided')
      assert.deepEqual(
        [current.request.status, current.request.approval?.version],
        ['approved', 2],
      );
    assert.ok(verifyChain(CONTOSO_TENANT_ID, await h.deps.audit.read(CONTOSO_TENANT_ID)).ok);
  });

  it('refuses an edit built from an older version and writes nothing', async () => {
    const h = await awaitingApproval();
    assert.ok((await sut(h.deps, edit())).ok);
    const before = await snapshot(h);
    const result = await sut(
      h.deps,
      edit({ version: 1, fields: validFields('new_user', { title: 'Lost update' }) }),
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
    const byApprover = await sut(h.deps, edit({ actor: people.andy, version: 2 }));
    const byImpostor = await sut(h.deps, edit({ actor: people.impostor, version: 2 }));
    assert.equal(!byApprover.ok && byApprover.error.code, 'CR.NOT_ALLOWED');
    assert.equal(!byImpostor.ok && byImpostor.error.code, 'CR.NOT_FOUND');
    assert.deepEqual(await snapshot(h), before);

    assert.equal(
      (
        await decideApproval(h.deps, {
          actor: people.avery,
          requestId: ID,
          version: 2,
          decision: 'approve',
        })
      ).kind,
      'decided',
    );
    const afterDecision = await sut(h.deps, edit({ version: 2 }));
    assert.equal(!afterDecision.ok && afterDecision.error.code, 'CR.INVALID_TRANSITION');
  });
});
