import { strict as assert } from 'node:assert';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import type { Person } from '../../../src/domain/change-request/change-request';
import type { ChangeRequestId } from '../../../src/domain/shared/ids';
import {
  actOnRequest,
  type ActOnRequestCommand,
  type RequestAction,
} from '../../../src/application/use-cases/act-on-request';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  seedClients,
  type Harness,
  raiseGeneral,
} from '../../support/fixtures';
import { isNotificationRow } from '../../../src/application/ports/outbox';
import { fileReview } from '../../../src/application/use-cases/review-change';
import { sendToApprovers } from '../../support/approval-flow';

const ID = 'CONTOSO-1' as ChangeRequestId;
/** The version once Tina has assessed the submitted request. */
const V = 2;

/**
 * CONTOSO-1 raised by Carla, assessed and sent for approval; with `approved`, Andy approves it and
 * the clock moves to the start of its scheduled slot, when a normal change may start.
 */
async function harness(approved: boolean): Promise<Harness> {
  const h = createHarness();
  await seedClients(h);
  const sent = await sendToApprovers(h.deps, (await raiseGeneral(h, people.carla)).request);
  assert.equal(sent.version, V);
  if (approved) {
    assert.equal(
      (
        await decideApproval(h.deps, {
          actor: people.andy,
          requestId: ID,
          version: V,
          decision: 'approve',
        })
      ).kind,
      'decided',
    );
    const slot = sent.assessment?.requestedWindow;
    assert.ok(slot);
    h.clock.advance(Date.parse(slot.start) - h.clock.now().getTime());
  }
  return h;
}

const act = (
  actor: Person,
  action: RequestAction,
  extra: Partial<ActOnRequestCommand> = {},
): ActOnRequestCommand => ({ actor, requestId: ID, version: V, action, ...extra });

async function entries(h: Harness) {
  return (await h.deps.audit.read(CONTOSO_TENANT_ID)).map((e) => ({
    stored: e,
    ...(JSON.parse(e.canonical) as {
      type: string;
      actor: { oid: string };
      payload: Record<string, unknown>;
    }),
  }));
}

async function rowsSince(h: Harness, count: number) {
  return (await h.deps.outbox.list(CONTOSO_TENANT_ID))
    .slice(count)
    .filter(isNotificationRow)
    .map((r) => ({
      to: r.message.recipient.oid,
      template: r.message.notification.template,
      cardKey: r.message.notification.cardKey,
    }));
}

const status = async (h: Harness) =>
  (await h.deps.requests.get(CONTOSO_TENANT_ID, ID))!.request.status;

describe(actOnRequest.name, () => {
  const sut = actOnRequest;

  it('takes an approved request through start and implemented, telling the requester each time; its review closes it', async () => {
    const h = await harness(true);
    const outboxBefore = (await h.deps.outbox.list(CONTOSO_TENANT_ID)).length;
    const steps: [RequestAction, string, string][] = [
      [{ type: 'WorkStarted' }, 'in_progress', 'work.started'],
      [{ type: 'ImplementationCompleted', notes: 'Rule added' }, 'implemented', 'work.implemented'],
    ];
    for (const [action, expected, auditType] of steps) {
      const outcome = await sut(h.deps, act(people.tina, action));
      assert.equal(outcome.kind, 'done', action.type);
      if (outcome.kind === 'done') assert.equal(outcome.request.status, expected);
      const last = (await entries(h)).at(-1)!;
      assert.equal(last.type, auditType);
      assert.equal(last.actor.oid, people.tina.oid);
    }
    const chainBefore = (await entries(h)).length;
    const closedByHand = await sut(
      h.deps,
      act(people.tina, { type: 'Closed', outcome: 'successful', notes: 'Firewall rule live' }),
    );
    assert.equal(closedByHand.kind === 'refused' && closedByHand.error.code, 'CR.REVIEW_REQUIRED');
    assert.equal((await entries(h)).length, chainBefore, 'a wrong step is not an audited refusal');
    assert.equal(await status(h), 'implemented');

    const reviewed = await fileReview(h.deps, {
      actor: people.tina,
      requestId: ID,
      version: V,
      fields: {
        objectiveAchieved: 'yes',
        outcome: 'successful_with_issues',
        unexpectedImpacts: 'Firewall rule live; one VPN user had to reconnect',
        becomeStandard: 'false',
      },
    });
    assert.equal(reviewed.kind === 'done' && reviewed.request.status, 'closed');
    assert.deepEqual(await rowsSince(h, outboxBefore), [
      { to: people.carla.oid, template: 'status_update', cardKey: undefined },
      { to: people.carla.oid, template: 'status_update', cardKey: undefined },
      { to: people.carla.oid, template: 'request_closed', cardKey: undefined },
    ]);
    const request = (await h.deps.requests.get(CONTOSO_TENANT_ID, ID))!.request;
    assert.deepEqual(request.closure, {
      outcome: 'successful_with_issues',
      notes: 'Firewall rule live; one VPN user had to reconnect',
      by: people.tina,
      at: h.clock.now().toISOString(),
    });
    const closed = (await entries(h)).at(-1)!;
    assert.equal(closed.type, 'review.filed');
    assert.ok(!closed.stored.canonical.includes('Firewall rule live'), 'review text is sealed');
    assert.match(
      JSON.stringify(await h.deps.audit.openPersonal(CONTOSO_TENANT_ID, closed.stored)),
      /one VPN user had to reconnect/,
    );
  });

  it('refuses a technician of another client as not found, without touching the request or the chain', async () => {
    const h = await harness(true);
    const before = (await entries(h)).length;
    for (const stranger of [people.theo, people.impostor, people.frank]) {
      const outcome = await sut(h.deps, act(stranger, { type: 'WorkStarted' }));
      assert.equal(outcome.kind, 'refused');
      if (outcome.kind === 'refused') {
        assert.equal(outcome.error.code, 'CR.NOT_FOUND');
        assert.equal(outcome.request, undefined);
      }
    }
    assert.equal((await entries(h)).length, before);
    assert.equal(await status(h), 'approved');
  });

  it('refuses a client admin starting work, and audits the attempt', async () => {
    const h = await harness(true);
    const outcome = await sut(h.deps, act(people.carla, { type: 'WorkStarted' }));
    assert.equal(outcome.kind, 'refused');
    if (outcome.kind !== 'refused') return;
    assert.equal(outcome.error.code, 'CR.NOT_STAFF');
    assert.equal(outcome.request?.status, 'approved');
    const last = (await entries(h)).at(-1)!;
    assert.equal(last.type, 'action.refused');
    assert.equal(last.actor.oid, people.carla.oid);
    assert.deepEqual(last.payload, { code: 'CR.NOT_STAFF', action: 'WorkStarted' });
    assert.equal(await status(h), 'approved');
  });

  it('refuses a same-tenant user with no role as not registered', async () => {
    const h = await harness(true);
    const outcome = await sut(h.deps, act(people.sam, { type: 'Cancelled', reason: 'x' }));
    assert.equal(outcome.kind === 'refused' && outcome.error.code, 'ACCESS.NOT_REGISTERED');
  });

  it('refuses starting work before approval without auditing a mere wrong state', async () => {
    const h = await harness(false);
    const before = (await entries(h)).length;
    const outcome = await sut(h.deps, act(people.tina, { type: 'WorkStarted' }));
    assert.equal(outcome.kind === 'refused' && outcome.error.code, 'CR.INVALID_TRANSITION');
    assert.equal((await entries(h)).length, before);
    assert.equal(await status(h), 'awaiting_approval');
  });

  it('refuses a card of another version with the current request', async () => {
    const h = await harness(true);
    const outcome = await sut(
      h.deps,
      act(people.tina, { type: 'WorkStarted' }, { version: V + 1 }),
    );
    assert.equal(outcome.kind, 'refused');
    if (outcome.kind !== 'refused') return;
    assert.equal(outcome.error.code, 'CR.STALE_VERSION');
    assert.equal(outcome.request?.version, V);
    assert.equal(await status(h), 'approved');
  });

  it("lets the requester cancel while awaiting approval and replaces the approvers' live cards", async () => {
    const h = await harness(false);
    const outboxBefore = (await h.deps.outbox.list(CONTOSO_TENANT_ID)).length;
    const outcome = await sut(
      h.deps,
      act(people.carla, { type: 'Cancelled', reason: 'Raised by mistake' }),
    );
    assert.equal(outcome.kind, 'done');
    assert.equal(await status(h), 'cancelled');
    assert.deepEqual(await rowsSince(h, outboxBefore), [
      { to: people.andy.oid, template: 'approval_decided', cardKey: 'approval:CONTOSO-1' },
      { to: people.avery.oid, template: 'approval_decided', cardKey: 'approval:CONTOSO-1' },
    ]);
    assert.equal(
      (
        await decideApproval(h.deps, {
          actor: people.andy,
          requestId: ID,
          version: V,
          decision: 'approve',
        })
      ).kind,
      'refused',
    );
  });

  it('tells the requester, and the technicians of approved work, when it is cancelled or rolled back', async () => {
    const cancelled = await harness(true);
    const before = (await cancelled.deps.outbox.list(CONTOSO_TENANT_ID)).length;
    assert.equal(
      (
        await sut(
          cancelled.deps,
          act(people.lena, { type: 'Cancelled', reason: 'Client changed their mind' }),
        )
      ).kind,
      'done',
    );
    assert.deepEqual(await rowsSince(cancelled, before), [
      { to: people.carla.oid, template: 'status_update', cardKey: undefined },
      { to: people.tina.oid, template: 'status_update', cardKey: undefined },
    ]);

    const rolled = await harness(true);
    await sut(rolled.deps, act(people.tina, { type: 'WorkStarted' }));
    await sut(rolled.deps, act(people.tina, { type: 'Failed', reason: 'Licence pool empty' }));
    const beforeRollback = (await rolled.deps.outbox.list(CONTOSO_TENANT_ID)).length;
    const outcome = await sut(
      rolled.deps,
      act(people.tina, { type: 'RolledBack', notes: 'Nothing was changed' }),
    );
    assert.equal(outcome.kind === 'done' && outcome.request.status, 'rolled_back');
    assert.deepEqual(await rowsSince(rolled, beforeRollback), [
      { to: people.carla.oid, template: 'request_closed', cardKey: undefined },
    ]);
  });

  it('retries after a failure and still closes by review', async () => {
    const h = await harness(true);
    for (const action of [
      { type: 'WorkStarted' },
      { type: 'Failed', reason: 'Timeout' },
      { type: 'WorkStarted' },
      { type: 'ImplementationCompleted' },
    ] as RequestAction[]) {
      const outcome = await sut(h.deps, act(people.lena, action));
      assert.equal(outcome.kind, 'done', action.type);
    }
    const reviewed = await fileReview(h.deps, {
      actor: people.lena,
      requestId: ID,
      version: V,
      fields: {
        objectiveAchieved: 'yes',
        outcome: 'successful_with_issues',
        unexpectedImpacts: 'Second try worked',
        becomeStandard: 'false',
      },
    });
    assert.equal(reviewed.kind, 'done');
    assert.equal(await status(h), 'closed');
    const verdict = verifyChain(CONTOSO_TENANT_ID, await h.deps.audit.read(CONTOSO_TENANT_ID));
    assert.ok(verdict.ok);
    // Onboarding; submitted, triaged, assessed, sent; approved; four actions; the review.
    assert.equal(verdict.count, 1 + 4 + 1 + 4 + 1);
  });
});
