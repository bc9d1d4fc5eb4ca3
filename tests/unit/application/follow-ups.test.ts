import { strict as assert } from 'node:assert';
import { assessChange, sendForApproval } from '../../../src/application/use-cases/assess-change';
import { actOnRequest } from '../../../src/application/use-cases/act-on-request';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import { sweepFollowUps } from '../../../src/application/use-cases/follow-ups';
import type { TeamsNotifyMessage } from '../../../src/application/ports/outbox';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import type { ChangeRequest } from '../../../src/domain/change-request/change-request';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  raiseGeneral,
  seedClients,
  type Harness,
  validFields,
} from '../../support/fixtures';

const HOUR = 60 * 60_000;

/** Raw assessment form data that passes every readiness rule (window three days out). */
const ASSESSMENT_FIELDS = {
  impact: 'minor',
  risk: 'low',
  affectedUsers: '1',
  affectedServices: ['Microsoft 365'],
  implementationPlan: 'Apply the change in the admin centre and confirm it in the audit log.',
  testPlan: 'Sign in as the user and check the change is visible.',
  rollbackPlan:
    'If the user cannot sign in within 15 minutes, the technician restores the previous settings from the change record and verifies sign-in with the user; takes about 10 minutes.',
  dependencies: [],
  windowStart: '2026-11-26T18:00:00Z',
  windowEnd: '2026-11-26T20:00:00Z',
  sensitivity: [],
};

async function awaitingApproval(h: Harness): Promise<ChangeRequest> {
  const { request } = await raiseGeneral(h, people.carla);
  const assessed = await assessChange(h.deps, {
    actor: people.tina,
    requestId: request.id,
    fields: ASSESSMENT_FIELDS,
  });
  assert.equal(assessed.kind, 'done', JSON.stringify(assessed));
  const sent = await sendForApproval(h.deps, { actor: people.tina, requestId: request.id });
  assert.equal(sent.kind, 'done', JSON.stringify(sent));
  return sent.kind === 'done' ? sent.request : request;
}

async function notifications(h: Harness): Promise<TeamsNotifyMessage[]> {
  const rows = await h.deps.outbox.list(CONTOSO_TENANT_ID);
  return rows
    .map((r) => r.message)
    .filter((m): m is TeamsNotifyMessage => m.kind === 'teams.notify');
}

describe(sweepFollowUps.name, () => {
  it('reminds the waiting approvers after the client’s reminder time and escalates to the leads later, each once and audited', async () => {
    const h = createHarness();
    await seedClients(h);
    const request = await awaitingApproval(h);

    assert.equal(await sweepFollowUps(h.deps), 0, 'nothing is due at once');
    h.clock.advance(24 * HOUR);
    assert.equal(await sweepFollowUps(h.deps), 2, 'both Contoso approvers are reminded');
    assert.equal(await sweepFollowUps(h.deps), 0, 'a reminder goes out once');
    h.clock.advance(24 * HOUR);
    assert.equal(await sweepFollowUps(h.deps), 1, 'the stall is escalated');

    const sent = await notifications(h);
    const reminded = sent.filter((m) => m.notification.template === 'approval_reminder');
    assert.deepEqual(
      reminded.map((m) => m.recipient.oid).sort(),
      [people.andy.oid, people.avery.oid].sort(),
    );
    const escalated = sent.filter((m) => m.notification.template === 'approval_escalation');
    assert.deepEqual(
      escalated.map((m) => m.recipient.oid),
      [people.lena.oid],
    );
    const audit = await h.deps.audit.read(CONTOSO_TENANT_ID);
    const types = audit.map((e) => (JSON.parse(e.canonical) as { type: string }).type);
    assert.equal(types.filter((t) => t === 'approval.reminded').length, 2);
    assert.equal(types.filter((t) => t === 'approval.escalated').length, 1);
    assert.ok(verifyChain(CONTOSO_TENANT_ID, audit).ok);
    const stored = await h.deps.requests.get(CONTOSO_TENANT_ID, request.id);
    assert.equal(
      stored?.request.version,
      request.version,
      'chasing is not a change of the request',
    );
  });

  it('chases nobody once the approvers have decided', async () => {
    const h = createHarness();
    await seedClients(h);
    const request = await awaitingApproval(h);
    const decided = await decideApproval(h.deps, {
      actor: people.andy,
      requestId: request.id,
      version: request.version,
      decision: 'approve',
    });
    assert.equal(decided.kind, 'decided');
    h.clock.advance(72 * HOUR);
    assert.equal(await sweepFollowUps(h.deps), 0);
  });

  it('escalates an emergency whose review is overdue to its technician and the leads, saying what is missing', async () => {
    const h = createHarness();
    await seedClients(h);
    const raised = await submitChange(h.deps, {
      actor: people.tina,
      clientTenantId: CONTOSO_TENANT_ID,
      type: 'general',
      fields: {
        ...validFields('general'),
        changeClass: 'emergency',
        emergencyReason: 'Mail flow is down for everyone',
      },
    });
    assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
    const id = raised.value.request.id;
    assert.equal(raised.value.request.changeClass, 'emergency');
    const fields = { ...ASSESSMENT_FIELDS, windowStart: '', windowEnd: '', risk: 'medium' };
    const assessed = await assessChange(h.deps, {
      actor: people.tina,
      requestId: id,
      fields,
      overrideReason: 'Outage',
    });
    assert.equal(assessed.kind, 'done', JSON.stringify(assessed));
    const sent = await sendForApproval(h.deps, { actor: people.tina, requestId: id });
    assert.equal(sent.kind, 'done', JSON.stringify(sent));
    const version = sent.kind === 'done' ? sent.request.version : 0;
    const approved = await decideApproval(h.deps, {
      actor: people.lena,
      requestId: id,
      version,
      decision: 'approve',
    });
    assert.equal(approved.kind, 'decided', JSON.stringify(approved));
    for (const action of [{ type: 'WorkStarted' }, { type: 'ImplementationCompleted' }] as const) {
      const done = await actOnRequest(h.deps, { actor: people.tina, requestId: id, action });
      assert.equal(done.kind, 'done', JSON.stringify(done));
    }
    const implemented = await h.deps.requests.get(CONTOSO_TENANT_ID, id);
    assert.equal(implemented?.request.status, 'review_pending');
    // Monday 09:00 + 5 business days = the next Monday 09:00 (London and UTC agree in November).
    assert.equal(implemented?.request.reviewDueAt, '2026-11-30T09:00:00.000Z');

    h.clock.advance(8 * 24 * HOUR);
    await sweepFollowUps(h.deps);
    const overdue = (await notifications(h)).filter(
      (m) => m.notification.template === 'review_overdue',
    );
    assert.deepEqual(
      overdue.map((m) => m.recipient.oid).sort(),
      [people.lena.oid, people.tina.oid].sort(),
    );
    const escalation = (await h.deps.audit.read(CONTOSO_TENANT_ID))
      .map((e) => JSON.parse(e.canonical) as { type: string; payload: { missing?: string[] } })
      .find((e) => e.type === 'review.escalated');
    assert.deepEqual(escalation?.payload.missing, ['review', 'retrospective']);
  });
});
