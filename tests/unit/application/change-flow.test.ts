import { strict as assert } from 'node:assert';
import { verifyChain } from '../../../src/domain/audit/audit-chain';
import type { ChangeRequestId } from '../../../src/domain/shared/ids';
import { actOnRequest } from '../../../src/application/use-cases/act-on-request';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import { editChange } from '../../../src/application/use-cases/edit-change';
import { identify } from '../../../src/application/use-cases/identify';
import { openConversation } from '../../../src/application/use-cases/open-conversation';
import { OutboxRelay } from '../../../src/application/use-cases/relay-outbox';
import {
  listVisibleRequests,
  resolveRequest,
} from '../../../src/application/use-cases/resolve-request';
import { fileReview } from '../../../src/application/use-cases/review-change';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import { sendToApprovers } from '../../support/approval-flow';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  RecordingNotifier,
  createHarness,
  people,
  seedClients,
  validFields,
  type Harness,
  raiseGeneral,
} from '../../support/fixtures';

const ID = 'CONTOSO-1' as ChangeRequestId;
const ref = { conversation: { id: 'chat' } };

async function assertChainsVerify(h: Harness): Promise<void> {
  for (const tenant of [CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID]) {
    const verdict = verifyChain(tenant, await h.deps.audit.read(tenant));
    assert.ok(verdict.ok, `${tenant}: ${JSON.stringify(verdict)}`);
  }
}

describe('change request flow', () => {
  it('raises, assesses, approves, executes and closes by review a new_user change, notifying everyone, with a chain that verifies', async () => {
    const h = createHarness();
    await seedClients(h);
    const notifier = new RecordingNotifier({ conversations: h.deps.conversations });
    const relay = new OutboxRelay({
      outbox: h.deps.outbox,
      notifier,
      clients: h.deps.clients,
      clock: h.clock,
      openRequests: { index: h.storage.openRequests, requests: h.deps.requests },
    });
    for (const p of [people.carla, people.avery, people.tina])
      await openConversation(h.deps, { person: p, reference: ref });

    const raised = await submitChange(h.deps, {
      actor: people.carla,
      type: 'new_user',
      fields: validFields('new_user'),
    });
    assert.ok(raised.ok);
    await relay.sweep();
    const sent = await sendToApprovers(h.deps, raised.value.request);
    await relay.sweep();
    assert.deepEqual(
      (await h.deps.outbox.list(CONTOSO_TENANT_ID, { statuses: ['waiting_for_recipient'] })).map(
        (r) => r.message.kind === 'teams.notify' && r.message.recipient.oid,
      ),
      [people.andy.oid],
      'the card for Andy, who never opened Cabinet, waits for him',
    );

    h.clock.advance(5 * 60_000);
    const edited = await editChange(h.deps, {
      actor: people.carla,
      requestId: ID,
      version: sent.version,
      fields: validFields('new_user', { jobTitle: 'Senior Analyst' }),
    });
    assert.ok(edited.ok);
    const version = edited.value.version;
    await openConversation(h.deps, { person: people.andy, reference: ref });
    await relay.sweep();
    assert.deepEqual(
      notifier.sentTo(people.andy).map((d) => d.notification.version),
      [sent.version, version],
      'the held card, then its replacement',
    );

    assert.equal(
      (
        await decideApproval(h.deps, {
          actor: people.andy,
          requestId: ID,
          version,
          decision: 'approve',
        })
      ).kind,
      'decided',
    );
    // A normal change starts in its scheduled slot.
    const slot = edited.value.assessment?.requestedWindow;
    assert.ok(slot);
    h.clock.advance(Date.parse(slot.start) - h.clock.now().getTime());
    for (const action of [
      { type: 'WorkStarted' },
      { type: 'ImplementationCompleted', notes: 'Account created' },
    ] as const) {
      const outcome = await actOnRequest(h.deps, {
        actor: people.tina,
        requestId: ID,
        version,
        action,
      });
      assert.equal(outcome.kind, 'done', action.type);
    }
    const closedByHand = await actOnRequest(h.deps, {
      actor: people.tina,
      requestId: ID,
      version,
      action: { type: 'Closed', outcome: 'successful', notes: 'Jane can sign in' },
    });
    assert.equal(closedByHand.kind === 'refused' && closedByHand.error.code, 'CR.REVIEW_REQUIRED');
    const reviewed = await fileReview(h.deps, {
      actor: people.tina,
      requestId: ID,
      version,
      fields: { objectiveAchieved: 'yes', outcome: 'successful', becomeStandard: 'false' },
    });
    assert.equal(reviewed.kind, 'done');
    assert.equal(reviewed.kind === 'done' && reviewed.request.status, 'closed');
    await relay.sweep();

    assert.deepEqual(
      notifier.sentTo(people.carla).map((d) => d.notification.template),
      [
        'status_update',
        'approval_decided',
        'change_notice',
        'status_update',
        'status_update',
        'request_closed',
      ],
    );
    assert.deepEqual(
      notifier.sentTo(people.tina).map((d) => d.notification.template),
      ['assessment_needed', 'ready_to_execute'],
    );
    assert.equal(
      (
        await h.deps.outbox.list(CONTOSO_TENANT_ID, {
          statuses: ['pending', 'waiting_for_recipient', 'parked'],
        })
      ).length,
      0,
    );
    assert.deepEqual(
      await h.storage.openRequests.list(),
      [],
      'the closed request has left the open-request index',
    );

    const entries = await h.deps.audit.read(CONTOSO_TENANT_ID);
    assert.deepEqual(
      entries.map((e) => (JSON.parse(e.canonical) as { type: string }).type),
      [
        'client.onboarded',
        'request.submitted',
        'request.triaged',
        'request.assessed',
        'approval.requested',
        'request.edited',
        'approval.granted',
        'work.started',
        'work.implemented',
        'review.filed',
      ],
    );
    await assertChainsVerify(h);
  });

  it("keeps the chain verifiable but the personal data unreadable once the client's key is destroyed", async () => {
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
    const [, submitted] = await h.deps.audit.read(CONTOSO_TENANT_ID);
    assert.equal(
      (await h.deps.audit.openPersonal(CONTOSO_TENANT_ID, submitted!))?.['title'],
      'Please do a new user',
    );

    await h.storage.keyring.destroy(CONTOSO_TENANT_ID);
    const entries = await h.deps.audit.read(CONTOSO_TENANT_ID);
    assert.ok(verifyChain(CONTOSO_TENANT_ID, entries).ok);
    for (const entry of entries)
      assert.equal(await h.deps.audit.openPersonal(CONTOSO_TENANT_ID, entry), undefined);
    assert.ok(entries.every((e) => !e.canonical.includes('jane.doe')));
  });

  it("never shows a client's request to another tenant or to staff of other clients", async () => {
    const h = createHarness();
    await seedClients(h);
    await raiseGeneral(h, people.carla);
    await raiseGeneral(h, people.fiona);

    for (const stranger of [people.impostor, people.frank, people.fiona, people.theo]) {
      const seen = await resolveRequest(h.deps, stranger, 'contoso-1');
      assert.equal(!seen.ok && seen.error.code, 'CR.NOT_FOUND', stranger.name);
    }
    const own = await resolveRequest(h.deps, people.andy, 'contoso-1');
    assert.ok(own.ok);
    assert.equal(own.value.stored.request.id, ID);

    const visible = async (p: typeof people.carla) =>
      (await listVisibleRequests(h.deps, (await identify(h.deps, p)).memberships))
        .map((r) => r.id)
        .sort();
    assert.deepEqual(await visible(people.carla), ['CONTOSO-1']);
    assert.deepEqual(await visible(people.frank), ['FABRIKAM-1']);
    assert.deepEqual(await visible(people.tina), ['CONTOSO-1']);
    assert.deepEqual(await visible(people.lena), ['CONTOSO-1', 'FABRIKAM-1']);
    assert.deepEqual(await visible(people.impostor), []);
    await assertChainsVerify(h);
  });
});
