import { strict as assert } from 'node:assert';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import type { Person } from '../../../src/domain/change-request/change-request';
import type { ChangeRequestId } from '../../../src/domain/shared/ids';
import {
  decideApproval,
  type DecideApprovalCommand,
} from '../../../src/application/use-cases/decide-approval';
import { editChange } from '../../../src/application/use-cases/edit-change';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  createHarness,
  people,
  seedClients,
  validFields,
  type Harness,
} from '../../support/fixtures';
import { isNotificationRow } from '../../../src/application/ports/outbox';
import { sendToApprovers } from '../../support/approval-flow';

const ID = 'CONTOSO-1' as ChangeRequestId;
/** The version approvers see: assessing the submitted request moved it from 1 to 2. */
const V = 2;
/** Outbox rows each harness had once its request was awaiting approval. */
const rowsAtStart = new WeakMap<Harness, number>();

/** Contoso with CONTOSO-1 raised by `requester`, assessed by Tina and awaiting Andy or Avery. */
async function awaitingApproval(requester: Person = people.carla): Promise<Harness> {
  const h = createHarness();
  await seedClients(h);
  const submitted = await submitChange(h.deps, {
    actor: requester,
    type: 'general',
    fields: validFields('general'),
  });
  assert.ok(submitted.ok);
  const sent = await sendToApprovers(h.deps, submitted.value.request);
  assert.equal(sent.version, V);
  rowsAtStart.set(h, (await h.deps.outbox.list(CONTOSO_TENANT_ID)).length);
  return h;
}

const approve = (
  actor: Person,
  extra: Partial<DecideApprovalCommand> = {},
): DecideApprovalCommand => ({
  actor,
  requestId: ID,
  version: V,
  // The approval card carries the step it is for.
  step: 'client',
  decision: 'approve',
  ...extra,
});
const deny = (
  actor: Person,
  reason?: string,
  extra: Partial<DecideApprovalCommand> = {},
): DecideApprovalCommand => ({
  ...approve(actor, extra),
  decision: 'deny',
  ...(reason === undefined ? {} : { reason }),
});

async function chain(h: Harness, tenant = CONTOSO_TENANT_ID) {
  return (await h.deps.audit.read(tenant)).map(
    (e) =>
      JSON.parse(e.canonical) as {
        type: string;
        actor: { tid: string; oid: string };
        requestId: string | null;
        payload: Record<string, unknown>;
      },
  );
}

async function stored(h: Harness) {
  return (await h.deps.requests.get(CONTOSO_TENANT_ID, ID))!.request;
}

/** Outbox rows written since the request started awaiting approval. */
async function newRows(h: Harness) {
  return (await h.deps.outbox.list(CONTOSO_TENANT_ID))
    .slice(rowsAtStart.get(h))
    .filter(isNotificationRow)
    .map((r) => ({ to: r.message.recipient.oid, ...r.message.notification }));
}

describe(decideApproval.name, () => {
  const sut = decideApproval;

  it("records a designated approver's approval, with the card they saw", async () => {
    const h = await awaitingApproval();
    h.clock.advance(60_000);
    const outcome = await sut(
      h.deps,
      approve(people.andy, { cardHash: (r) => `hash-of-${r.id}-v${r.version}` }),
    );
    assert.equal(outcome.kind, 'decided');
    const request = await stored(h);
    assert.equal(request.status, 'approved');
    assert.equal(request.approval?.status, 'approved');
    assert.deepEqual(request.approval?.steps[0]?.votes, [
      {
        seat: people.andy,
        by: people.andy,
        outcome: 'approved',
        at: '2026-11-23T09:01:00.000Z',
        version: V,
        cardHash: `hash-of-CONTOSO-1-v${V}`,
      },
    ]);
    const granted = (await chain(h)).filter((e) => e.type === 'approval.granted');
    assert.equal(granted.length, 1);
    assert.deepEqual(granted[0]!.actor, { tid: people.andy.tid, oid: people.andy.oid });
    assert.equal(granted[0]!.payload['cardHash'], `hash-of-CONTOSO-1-v${V}`);
    assert.equal(granted[0]!.payload['approvalVersion'], V);
    assert.equal(granted[0]!.payload['step'], 'client');
  });

  it("updates the other approver's card, tells the requester, sends the technicians a ready card and the client its notice", async () => {
    const h = await awaitingApproval();
    await sut(h.deps, approve(people.andy));
    assert.deepEqual(await newRows(h), [
      {
        to: people.avery.oid,
        template: 'approval_decided',
        requestId: ID,
        version: V,
        cardKey: 'approval:CONTOSO-1',
      },
      { to: people.carla.oid, template: 'approval_decided', requestId: ID, version: V },
      { to: people.tina.oid, template: 'ready_to_execute', requestId: ID, version: V },
      ...[people.carla, people.andy, people.avery].map((p) => ({
        to: p.oid,
        template: 'change_notice',
        requestId: ID,
        version: V,
      })),
    ]);
    assert.ok(h.outboxWrites.length >= 2);
  });

  it('answers a double click with already_decided and records one decision', async () => {
    const h = await awaitingApproval();
    const first = await sut(h.deps, approve(people.andy));
    const rowsAfterFirst = (await h.deps.outbox.list(CONTOSO_TENANT_ID)).length;
    const second = await sut(h.deps, approve(people.andy));
    const late = await sut(h.deps, deny(people.avery, 'too late'));
    assert.equal(first.kind, 'decided');
    assert.equal(second.kind, 'already_decided');
    assert.equal(late.kind, 'already_decided');
    if (second.kind === 'already_decided') assert.equal(second.request.status, 'approved');
    const entries = await chain(h);
    assert.equal(entries.filter((e) => e.type === 'approval.granted').length, 1);
    assert.equal(
      entries.filter((e) => e.type === 'approval.denied' || e.type === 'approval.refused').length,
      0,
    );
    assert.equal((await h.deps.outbox.list(CONTOSO_TENANT_ID)).length, rowsAfterFirst);
  });

  it('answers a late click that names no step (an older card, an API caller) with already_decided, unaudited', async () => {
    const h = await awaitingApproval();
    const { step: _step, ...withoutStep } = approve(people.andy);
    assert.equal((await sut(h.deps, withoutStep)).kind, 'decided');
    assert.equal((await sut(h.deps, withoutStep)).kind, 'already_decided');
    const { step: _s, ...lateDeny } = deny(people.avery, 'too late');
    assert.equal((await sut(h.deps, lateDeny)).kind, 'already_decided');
    const entries = await chain(h);
    assert.equal(entries.filter((e) => e.type === 'approval.refused').length, 0);
  });

  it('lets exactly one of two approvers deciding at once win', async () => {
    const h = await awaitingApproval();
    const outcomes = await Promise.all([
      sut(h.deps, approve(people.andy)),
      sut(h.deps, deny(people.avery, 'No budget')),
    ]);
    assert.deepEqual(outcomes.map((o) => o.kind).sort(), ['already_decided', 'decided']);
    const entries = await chain(h);
    const decisions = entries.filter(
      (e) => e.type === 'approval.granted' || e.type === 'approval.denied',
    );
    assert.equal(decisions.length, 1, JSON.stringify(decisions.map((d) => d.type)));
    const request = await stored(h);
    assert.equal(request.status, decisions[0]!.type === 'approval.granted' ? 'approved' : 'denied');
    assert.ok(verifyChain(CONTOSO_TENANT_ID, await h.deps.audit.read(CONTOSO_TENANT_ID)).ok);
  });

  for (const [who, actor] of [
    ["an impostor carrying an approver's object id", people.impostor],
    ["another client's approver", people.frank],
  ] as const) {
    it(`refuses ${who} as not found, audits it in the client's chain and changes nothing`, async () => {
      const h = await awaitingApproval();
      const before = await h.deps.requests.get(CONTOSO_TENANT_ID, ID);
      const chainBefore = (await chain(h)).length;
      const outcome = await sut(h.deps, approve(actor));
      assert.equal(outcome.kind, 'refused');
      if (outcome.kind !== 'refused') return;
      assert.equal(outcome.error.code, 'CR.NOT_FOUND');
      assert.equal(outcome.visible, undefined, 'nothing about the request is revealed');
      const entries = await chain(h);
      assert.equal(entries.length, chainBefore + 1);
      const refusal = entries.at(-1)!;
      assert.equal(refusal.type, 'approval.refused');
      assert.deepEqual(refusal.actor, { tid: actor.tid, oid: actor.oid });
      assert.equal(refusal.requestId, ID);
      assert.equal(refusal.payload['code'], 'ACCESS.WRONG_TENANT');
      assert.deepEqual(await h.deps.requests.get(CONTOSO_TENANT_ID, ID), before);
      assert.equal(
        (await chain(h, FABRIKAM_TENANT_ID)).length,
        1,
        "the actor's own tenant chain is untouched",
      );
    });
  }

  it('refuses and audits self-approval by a requester who is also an approver', async () => {
    const h = await awaitingApproval(people.avery);
    const outcome = await sut(h.deps, approve(people.avery));
    assert.equal(outcome.kind, 'refused');
    if (outcome.kind === 'refused') assert.equal(outcome.error.code, 'CR.SELF_APPROVAL');
    const last = (await chain(h)).at(-1)!;
    assert.equal(last.type, 'approval.refused');
    assert.equal(last.payload['code'], 'CR.SELF_APPROVAL');
    assert.equal((await stored(h)).status, 'awaiting_approval');
  });

  for (const [who, actor] of [
    ['a same-tenant user who is not an approver', people.sam],
    ["the client's MSP technician", people.tina],
    ['the client admin', people.carla],
  ] as const) {
    it(`refuses and audits ${who}`, async () => {
      const h = await awaitingApproval(people.andy);
      const outcome = await sut(h.deps, approve(actor));
      assert.equal(outcome.kind, 'refused');
      if (outcome.kind === 'refused') assert.equal(outcome.error.code, 'CR.NOT_AN_APPROVER');
      const last = (await chain(h)).at(-1)!;
      assert.deepEqual(
        [last.type, last.payload['code']],
        ['approval.refused', 'CR.NOT_AN_APPROVER'],
      );
      assert.equal((await stored(h)).status, 'awaiting_approval');
    });
  }

  it('refuses a stale card with the current request, audited, and accepts the current one', async () => {
    const h = await awaitingApproval();
    const edited = await editChange(h.deps, {
      actor: people.carla,
      requestId: ID,
      version: V,
      fields: validFields('general', { title: 'Clearer title' }),
    });
    assert.ok(edited.ok);
    const stale = await sut(h.deps, approve(people.andy, { version: V }));
    assert.equal(stale.kind, 'refused');
    if (stale.kind !== 'refused') return;
    assert.equal(stale.error.code, 'CR.STALE_VERSION');
    assert.equal(stale.visible?.request.version, V + 1);
    assert.equal(stale.visible?.request.title, 'Clearer title');
    const last = (await chain(h)).at(-1)!;
    assert.deepEqual(
      [last.type, last.payload['code'], last.payload['cardVersion']],
      ['approval.refused', 'CR.STALE_VERSION', V],
    );
    assert.equal((await stored(h)).status, 'awaiting_approval');
    assert.equal((await sut(h.deps, approve(people.andy, { version: V + 1 }))).kind, 'decided');
  });

  it('refuses a denial without a reason without auditing it, so the approver can add one', async () => {
    const h = await awaitingApproval();
    const chainBefore = (await chain(h)).length;
    for (const reason of [undefined, '', '   ']) {
      const outcome = await sut(h.deps, deny(people.andy, reason));
      assert.equal(outcome.kind, 'refused');
      if (outcome.kind === 'refused') assert.equal(outcome.error.code, 'CR.REASON_REQUIRED');
    }
    assert.equal((await chain(h)).length, chainBefore);
    assert.equal((await stored(h)).status, 'awaiting_approval');
  });

  it('records a denial with its reason sealed, and sends no ready card', async () => {
    const h = await awaitingApproval();
    const outcome = await sut(h.deps, deny(people.avery, 'Wait until the audit is over'));
    assert.equal(outcome.kind, 'decided');
    assert.equal((await stored(h)).status, 'denied');
    const entries = await h.deps.audit.read(CONTOSO_TENANT_ID);
    assert.ok(!entries.at(-1)!.canonical.includes('Wait until'));
    assert.deepEqual(await h.deps.audit.openPersonal(CONTOSO_TENANT_ID, entries.at(-1)!), {
      reason: 'Wait until the audit is over',
    });
    assert.deepEqual(
      (await newRows(h)).map((r) => [r.to, r.template]),
      [
        [people.andy.oid, 'approval_decided'],
        [people.carla.oid, 'approval_decided'],
      ],
    );
  });

  it('answers not found for ids that do not parse, unknown clients and unknown numbers, without auditing', async () => {
    const h = await awaitingApproval();
    const chainBefore = (await chain(h)).length;
    for (const requestId of ['garbage', 'NOBODY-1', 'CONTOSO-99', "CONTOSO-1' or 1=1"]) {
      const outcome = await sut(h.deps, approve(people.andy, { requestId }));
      assert.equal(outcome.kind, 'refused', requestId);
      if (outcome.kind === 'refused') assert.equal(outcome.error.code, 'CR.NOT_FOUND');
    }
    assert.equal((await chain(h)).length, chainBefore);
  });

  it('leaves the chain verifiable after decisions and refusals', async () => {
    const h = await awaitingApproval();
    await sut(h.deps, approve(people.impostor));
    await sut(h.deps, approve(people.sam));
    await sut(h.deps, approve(people.andy, { version: 7 }));
    await sut(h.deps, approve(people.avery));
    await sut(h.deps, approve(people.andy));
    const verdict = verifyChain(CONTOSO_TENANT_ID, await h.deps.audit.read(CONTOSO_TENANT_ID));
    assert.ok(verdict.ok);
    // Onboarding; submitted, triaged, assessed, sent; three refusals; the approval. Avery's late
    // click and Andy's repeat are answered as already decided, unaudited.
    assert.equal(verdict.count, 1 + 4 + 3 + 1);
  });

  it('tells a same-tenant person with no part nothing about a decided round, and audits the click', async () => {
    const h = await awaitingApproval();
    await sut(h.deps, approve(people.andy));
    const before = (await chain(h)).length;
    const outcome = await sut(h.deps, approve(people.sam));
    assert.equal(outcome.kind, 'refused');
    assert.ok(outcome.kind === 'refused' && outcome.visible === undefined);
    assert.equal(outcome.kind === 'refused' && outcome.error.code, 'CR.NOT_AN_APPROVER');
    assert.deepEqual(
      (await chain(h)).slice(before).map((e) => e.type),
      ['approval.refused'],
    );
  });

  it('does not let another tenant write to a client chain by guessing request ids', async () => {
    const h = await awaitingApproval();
    const before = (await chain(h)).length;
    const outcome = await sut(h.deps, approve(people.frank, { requestId: 'CONTOSO-99' }));
    assert.equal(outcome.kind === 'refused' && outcome.error.code, 'CR.NOT_FOUND');
    assert.equal((await chain(h)).length, before);
  });
});
