import { strict as assert } from 'node:assert';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import type { Person } from '../../../src/domain/change-request/change-request';
import type { ChangeRequestId, TenantId } from '../../../src/domain/shared/ids';
import { ValidationError } from '../../../src/domain/shared/errors';
import {
  submitChange,
  type SubmitChangeCommand,
} from '../../../src/application/use-cases/submit-change';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  MSP_TENANT_ID,
  contosoProfile,
  createHarness,
  fabrikamProfile,
  people,
  seedClients,
  validFields,
  type Harness,
} from '../../support/fixtures';
import { isNotificationRow } from '../../../src/application/ports/outbox';
import { sendForApproval } from '../../../src/application/use-cases/assess-change';
import { sendToApprovers } from '../../support/approval-flow';

const raise = (actor: Person, extra: Partial<SubmitChangeCommand> = {}): SubmitChangeCommand => ({
  actor,
  type: 'new_user',
  fields: validFields('new_user', { title: 'Onboard Jane Doe' }),
  ...extra,
});

async function seeded(): Promise<Harness> {
  const h = createHarness();
  await seedClients(h);
  return h;
}

async function requestEntries(h: Harness, tenant: TenantId, id: string) {
  const entries = await h.deps.audit.read(tenant);
  return entries.filter(
    (e) => (JSON.parse(e.canonical) as { requestId: string | null }).requestId === id,
  );
}

/** Nothing but the onboarding entries, no requests, no outbox rows. */
async function assertNothingWritten(h: Harness): Promise<void> {
  for (const tenant of [CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID]) {
    assert.deepEqual(await h.deps.requests.list(tenant), []);
    assert.deepEqual(await h.deps.outbox.list(tenant), []);
    assert.equal((await h.deps.audit.read(tenant)).length, 1);
  }
  assert.deepEqual(h.outboxWrites, []);
}

describe(submitChange.name, () => {
  const sut = submitChange;

  it('raises CONTOSO-1 for a client admin and triages it for assessment in one write', async () => {
    const h = await seeded();
    const result = await sut(h.deps, raise(people.carla));
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    const { request } = result.value;
    assert.equal(request.id, 'CONTOSO-1');
    assert.equal(request.status, 'triaged');
    assert.equal(request.changeClass, 'normal');
    assert.equal(request.source, 'teams');
    assert.equal(request.version, 1);
    assert.deepEqual(request.requester, people.carla);
    assert.equal(request.approval, undefined, 'no approval before the MSP has assessed it');
    assert.deepEqual(
      (await h.deps.requests.get(CONTOSO_TENANT_ID, 'CONTOSO-1' as ChangeRequestId))?.request,
      request,
    );

    const entries = await requestEntries(h, CONTOSO_TENANT_ID, 'CONTOSO-1');
    assert.deepEqual(
      entries.map((e) => (JSON.parse(e.canonical) as { type: string }).type),
      ['request.submitted', 'request.triaged'],
    );
    assert.ok(
      entries.every((e) => !e.canonical.includes('Onboard Jane Doe')),
      'personal data is sealed in the chain',
    );
    assert.equal(
      (await h.deps.audit.openPersonal(CONTOSO_TENANT_ID, entries[0]!))?.['title'],
      'Onboard Jane Doe',
    );
  });

  it('writes one assessment_needed outbox row per client technician, and none to approvers yet', async () => {
    const h = await seeded();
    await sut(h.deps, raise(people.carla));
    const rows = await h.deps.outbox.list(CONTOSO_TENANT_ID);
    assert.deepEqual(
      rows.map((r) => r.message),
      [
        ...[people.tina].map((t) => ({
          kind: 'teams.notify',
          recipient: { tid: t.tid, oid: t.oid },
          notification: { template: 'assessment_needed', requestId: 'CONTOSO-1', version: 1 },
        })),
        { kind: 'index.sync', requestId: 'CONTOSO-1' },
      ],
    );
    assert.ok(rows.every((r) => r.status === 'pending'));
    assert.deepEqual(h.outboxWrites, [CONTOSO_TENANT_ID]);
  });

  it('sends one approval_request per approver once assessed and sent, keyed so decisions can update the card', async () => {
    const h = await seeded();
    const raised = await sut(h.deps, raise(people.carla));
    assert.ok(raised.ok);
    const sent = await sendToApprovers(h.deps, raised.value.request);
    const rows = (await h.deps.outbox.list(CONTOSO_TENANT_ID)).filter(
      (r) => isNotificationRow(r) && r.message.notification.template === 'approval_request',
    );
    assert.deepEqual(
      rows.map((r) => r.message),
      [people.andy, people.avery].map((a) => ({
        kind: 'teams.notify',
        recipient: { tid: a.tid, oid: a.oid },
        notification: {
          template: 'approval_request',
          requestId: 'CONTOSO-1',
          version: sent.version,
          cardKey: 'approval:CONTOSO-1',
        },
      })),
    );
  });

  it('numbers requests per client', async () => {
    const h = await seeded();
    const ids: string[] = [];
    for (const actor of [people.carla, people.carla, people.fiona]) {
      const result = await sut(h.deps, raise(actor));
      assert.ok(result.ok);
      ids.push(result.value.request.id);
    }
    assert.deepEqual(ids, ['CONTOSO-1', 'CONTOSO-2', 'FABRIKAM-1']);
  });

  it('never asks the requester to approve their own request', async () => {
    const h = await seeded();
    const result = await sut(h.deps, raise(people.avery));
    assert.ok(result.ok);
    const sent = await sendToApprovers(h.deps, result.value.request);
    assert.deepEqual(sent.approval?.steps[0]?.approvers, [people.andy]);
    assert.deepEqual(
      (await h.deps.outbox.list(CONTOSO_TENANT_ID))
        .filter(isNotificationRow)
        .filter((r) => r.message.notification.template === 'approval_request')
        .map((r) => r.message.recipient.oid),
      [people.andy.oid],
    );
  });

  it('lets an MSP technician raise for a client they are assigned to', async () => {
    const h = await seeded();
    const result = await sut(h.deps, raise(people.tina, { clientTenantId: CONTOSO_TENANT_ID }));
    assert.ok(result.ok);
    assert.equal(result.value.request.id, 'CONTOSO-1');
    assert.equal(result.value.request.source, 'msp');
    assert.deepEqual(result.value.request.requester, people.tina);
    assert.equal(result.value.request.status, 'triaged');
    const sent = await sendToApprovers(h.deps, result.value.request);
    assert.deepEqual(sent.approval?.steps[0]?.approvers, [people.andy, people.avery]);
  });

  it('lets MSP staff raise an emergency with a reason, audited as reclassified; refuses it from a client user', async () => {
    const h = await seeded();
    const emergencyFields = (reason: string) =>
      validFields('general', { changeClass: 'emergency', emergencyReason: reason });
    const byTina = await sut(h.deps, {
      actor: people.tina,
      clientTenantId: CONTOSO_TENANT_ID,
      type: 'general',
      fields: emergencyFields('Mailbox compromised, the client asked to lock it now'),
    });
    assert.ok(byTina.ok, byTina.ok ? '' : byTina.error.message);
    assert.equal(byTina.value.request.changeClass, 'emergency');
    assert.equal(byTina.value.request.status, 'triaged');
    const entries = await requestEntries(h, CONTOSO_TENANT_ID, byTina.value.request.id);
    assert.deepEqual(
      entries.map((e) => (JSON.parse(e.canonical) as { type: string }).type),
      ['request.submitted', 'request.triaged', 'request.reclassified'],
    );
    const vague = await sut(h.deps, {
      actor: people.tina,
      clientTenantId: CONTOSO_TENANT_ID,
      type: 'general',
      fields: emergencyFields('n/a'),
    });
    assert.equal(!vague.ok && vague.error.code, 'ASSESS.REASON_TOO_VAGUE');
    const byCarla = await sut(h.deps, {
      actor: people.carla,
      type: 'general',
      fields: emergencyFields('Mailbox compromised, the client asked to lock it now'),
    });
    assert.equal(!byCarla.ok && byCarla.error.code, 'ASSESS.NOT_STAFF');
    assert.equal((await h.deps.requests.list(CONTOSO_TENANT_ID)).length, 1);
  });

  it('refuses a technician for a client they are not assigned to, or with no client chosen, and writes nothing', async () => {
    const h = await seeded();
    const unassigned = await sut(
      h.deps,
      raise(people.tina, { clientTenantId: FABRIKAM_TENANT_ID }),
    );
    const unchosen = await sut(h.deps, raise(people.tina));
    const unknown = await sut(h.deps, raise(people.tina, { clientTenantId: 'not-a-tenant' }));
    assert.deepEqual(
      [unassigned, unchosen, unknown].map((r) => !r.ok && r.error.code),
      ['ACCESS.CLIENT_NOT_ALLOWED', 'ACCESS.CHOOSE_CLIENT', 'ACCESS.CLIENT_NOT_ALLOWED'],
    );
    await assertNothingWritten(h);
  });

  it('refuses people Cabinet does not know, and writes nothing', async () => {
    const h = await seeded();
    const strangers: Person[] = [
      people.sam,
      people.impostor,
      {
        tid: MSP_TENANT_ID,
        oid: 'dddddddd-0000-4000-8000-000000000099',
        name: 'New hire',
      } as Person,
      {
        tid: 'eeeeeeee-0000-4000-8000-000000000000',
        oid: people.carla.oid,
        name: 'Somebody elsewhere',
      } as Person,
    ];
    for (const actor of strangers) {
      const result = await sut(h.deps, raise(actor, { clientTenantId: CONTOSO_TENANT_ID }));
      assert.equal(result.ok, false, actor.name);
      if (!result.ok) assert.equal(result.error.code, 'ACCESS.NOT_REGISTERED', actor.name);
    }
    await assertNothingWritten(h);
  });

  it("files a client user's request under their own tenant whatever client they name", async () => {
    const h = await seeded();
    const result = await sut(h.deps, raise(people.fiona, { clientTenantId: CONTOSO_TENANT_ID }));
    assert.ok(result.ok);
    assert.equal(result.value.request.id, 'FABRIKAM-1');
    assert.deepEqual(await h.deps.requests.list(CONTOSO_TENANT_ID), []);
  });

  it('refuses to send for approval when the client has no approver other than the requester, and writes nothing for it', async () => {
    for (const approvers of [[people.carla], []]) {
      const h = createHarness();
      await seedClients(h, contosoProfile({ approvers }), fabrikamProfile());
      const result = await sut(h.deps, raise(people.carla));
      assert.ok(result.ok, 'raising needs no approver yet');
      const auditBefore = (await h.deps.audit.read(CONTOSO_TENANT_ID)).length;
      const outboxBefore = (await h.deps.outbox.list(CONTOSO_TENANT_ID)).filter(
        isNotificationRow,
      ).length;
      let error: unknown;
      try {
        await sendToApprovers(h.deps, result.value.request);
      } catch (e: unknown) {
        error = e;
      }
      assert.ok(error instanceof Error, 'sending for approval must be refused');
      const stored = await h.deps.requests.get(CONTOSO_TENANT_ID, result.value.request.id);
      const again = await sendForApproval(h.deps, {
        actor: people.tina,
        requestId: result.value.request.id,
      });
      assert.equal(again.kind, 'refused');
      if (again.kind === 'refused')
        assert.equal(again.error.code, 'APPROVAL.NO_ELIGIBLE_APPROVERS');
      const after = await h.deps.requests.get(CONTOSO_TENANT_ID, result.value.request.id);
      assert.equal(after?.request.status, 'triaged');
      assert.equal(after?.request.approval, undefined);
      assert.deepEqual(after?.request, stored?.request);
      assert.equal(
        (await h.deps.outbox.list(CONTOSO_TENANT_ID)).filter(isNotificationRow).length,
        outboxBefore,
        'no approval card for nobody',
      );
      assert.equal(
        (await h.deps.audit.read(CONTOSO_TENANT_ID)).length,
        auditBefore + 1,
        'only the assessment was recorded',
      );
    }
  });

  it("returns the form's field errors and writes nothing", async () => {
    const h = await seeded();
    const result = await sut(
      h.deps,
      raise(people.carla, {
        fields: validFields('new_user', { userPrincipalName: 'jane', startDate: '2026-11-01' }),
      }),
    );
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.ok(result.error instanceof ValidationError);
    assert.deepEqual(result.error.issues.map((i) => i.field).sort(), [
      'startDate',
      'userPrincipalName',
    ]);
    await assertNothingWritten(h);
  });

  it("leaves every client's audit chain verifiable", async () => {
    const h = await seeded();
    await sut(h.deps, raise(people.carla));
    await sut(
      h.deps,
      raise(people.tina, {
        clientTenantId: CONTOSO_TENANT_ID,
        type: 'general',
        fields: validFields('general'),
      }),
    );
    await sut(h.deps, raise(people.fiona, { type: 'incident', fields: validFields('incident') }));
    for (const tenant of [CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID]) {
      const verdict = verifyChain(tenant, await h.deps.audit.read(tenant));
      assert.ok(verdict.ok, JSON.stringify(verdict));
    }
    assert.equal((await h.deps.audit.read(CONTOSO_TENANT_ID)).length, 1 + 2 + 2);
  });
});
