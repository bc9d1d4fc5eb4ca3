import { strict as assert } from 'node:assert';
import { openConversation } from '../../../src/application/use-cases/open-conversation';
import { OutboxRelay } from '../../../src/application/use-cases/relay-outbox';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import type { Person } from '../../../src/domain/change-request/change-request';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  RecordingNotifier,
  contosoProfile,
  createHarness,
  fabrikamProfile,
  openChats,
  people,
  seedClients,
  validFields,
  raiseGeneral,
} from '../../support/fixtures';
import { isNotificationRow, type OutboxRow } from '../../../src/application/ports/outbox';
import { sendToApprovers } from '../../support/approval-flow';

/** Who each outbox row is for. */
const recipients = (rows: readonly OutboxRow[]) =>
  rows.filter(isNotificationRow).map((r) => r.message.recipient.oid);

const reference = (p: Person) => ({
  conversation: { id: `a:${p.oid}` },
  serviceUrl: 'https://smba.example/',
});

describe(openConversation.name, () => {
  const sut = openConversation;

  it('welcomes a person exactly once however often Teams resends the install', async () => {
    const h = createHarness();
    await seedClients(h);
    const first = await sut(h.deps, { person: people.carla, reference: reference(people.carla) });
    h.clock.advance(1_000);
    const again = await sut(h.deps, { person: people.carla, reference: reference(people.carla) });
    const concurrent = await Promise.all(
      [1, 2, 3].map(() => sut(h.deps, { person: people.andy, reference: reference(people.andy) })),
    );
    assert.equal(first.welcome, true);
    assert.equal(again.welcome, false);
    assert.equal(concurrent.filter((c) => c.welcome).length, 1);
    assert.equal(
      (await h.deps.conversations.get(people.carla.tid, people.carla.oid))?.welcomedAt,
      '2026-11-23T09:00:00.000Z',
    );
  });

  it('says who the person is to Cabinet', async () => {
    const h = createHarness();
    await seedClients(h);
    const carla = await sut(h.deps, { person: people.carla, reference: reference(people.carla) });
    assert.deepEqual(
      carla.identity.memberships.map((m) => [m.client.code, [...m.roles]]),
      [['CONTOSO', ['client_admin']]],
    );
    assert.equal(carla.identity.isMspStaff, false);
    const lena = await sut(h.deps, { person: people.lena, reference: reference(people.lena) });
    assert.equal(lena.identity.isMspStaff, true);
    assert.deepEqual(
      lena.identity.memberships.map((m) => m.client.code),
      ['CONTOSO', 'FABRIKAM'],
    );
    const stranger = await sut(h.deps, {
      person: people.impostor,
      reference: reference(people.impostor),
    });
    assert.deepEqual(stranger.identity.memberships, []);
  });

  it('releases the cards that were waiting for the person, in every client they serve', async () => {
    const h = createHarness();
    await seedClients(h);
    const notifier = new RecordingNotifier({ conversations: h.deps.conversations });
    const relay = new OutboxRelay({
      outbox: h.deps.outbox,
      notifier,
      clients: h.deps.clients,
      clock: h.clock,
    });
    for (const requester of [people.carla, people.fiona])
      await sendToApprovers(h.deps, (await raiseGeneral(h, requester)).request);
    await relay.sweep();
    const waiting = recipients(
      await h.deps.outbox.list(CONTOSO_TENANT_ID, { statuses: ['waiting_for_recipient'] }),
    );
    assert.equal(waiting.filter((oid) => oid === people.andy.oid).length, 1, "Andy's card waits");

    h.outboxWrites.length = 0;
    const andy = await sut(h.deps, { person: people.andy, reference: reference(people.andy) });
    assert.equal(andy.released, 1);
    assert.deepEqual(h.outboxWrites, [CONTOSO_TENANT_ID]);
    const again = await sut(h.deps, { person: people.andy, reference: reference(people.andy) });
    assert.equal(again.released, 0, 'nothing is released twice');

    const pending = await h.deps.outbox.list(CONTOSO_TENANT_ID, { statuses: ['pending'] });
    assert.deepEqual(recipients(pending), [people.andy.oid]);
    assert.deepEqual(
      recipients(
        await h.deps.outbox.list(CONTOSO_TENANT_ID, { statuses: ['waiting_for_recipient'] }),
      ),
      waiting.filter((oid) => oid !== people.andy.oid),
      "everyone else's rows still wait",
    );
    assert.equal(
      recipients(
        await h.deps.outbox.list(FABRIKAM_TENANT_ID, { statuses: ['waiting_for_recipient'] }),
      ).filter((oid) => oid === people.frank.oid).length,
      1,
      "Frank's card still waits",
    );
  });

  it("releases an MSP technician's cards from every client they serve", async () => {
    const h = createHarness();
    await seedClients(h, contosoProfile(), fabrikamProfile({ techs: [people.theo, people.tina] }));
    await openChats(h, people.carla, people.andy, people.avery, people.fiona, people.frank);
    const notifier = new RecordingNotifier({ conversations: h.deps.conversations });
    const relay = new OutboxRelay({
      outbox: h.deps.outbox,
      notifier,
      clients: h.deps.clients,
      clock: h.clock,
    });
    for (const [requester, approver, id] of [
      [people.carla, people.andy, 'CONTOSO-1'],
      [people.fiona, people.frank, 'FABRIKAM-1'],
    ] as const) {
      const raised = await submitChange(h.deps, {
        actor: requester,
        type: 'general',
        fields: validFields('general'),
      });
      assert.ok(raised.ok);
      const sent = await sendToApprovers(h.deps, raised.value.request);
      assert.equal(
        (
          await decideApproval(h.deps, {
            actor: approver,
            requestId: id,
            version: sent.version,
            decision: 'approve',
          })
        ).kind,
        'decided',
      );
    }
    await relay.sweep();
    const forTechs = [
      [CONTOSO_TENANT_ID, people.tina.oid],
      [FABRIKAM_TENANT_ID, people.theo.oid],
      [FABRIKAM_TENANT_ID, people.tina.oid],
    ] as const;
    assert.deepEqual(
      notifier.attempts
        .filter((a) => a.outcome.status === 'no_conversation')
        .map((a) => [a.tenantId, a.recipient.oid, a.notification.template])
        .sort(),
      forTechs
        .flatMap(([tenant, oid]) => [
          [tenant, oid, 'assessment_needed'],
          [tenant, oid, 'ready_to_execute'],
        ])
        .sort(),
    );
    h.outboxWrites.length = 0;
    const tina = await sut(h.deps, { person: people.tina, reference: reference(people.tina) });
    assert.equal(tina.released, 4, "Tina's assessment and ready cards in both clients");
    assert.deepEqual([...h.outboxWrites].sort(), [CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID].sort());
  });
});
