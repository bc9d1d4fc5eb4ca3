import { strict as assert } from 'node:assert';
import { approvalInbox, bulkApprove } from '../../../src/application/use-cases/approval-inbox';
import { assessChange, sendForApproval } from '../../../src/application/use-cases/assess-change';
import { createDelegation } from '../../../src/domain/approval/delegation.policy';
import type { ChangeRequest } from '../../../src/domain/change-request/change-request';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  raiseGeneral,
  seedClients,
  validFields,
  type Harness,
} from '../../support/fixtures';
import { submitChange } from '../../../src/application/use-cases/submit-change';

const HOUR = 60 * 60_000;
/** A second booking in its own window, so it does not conflict with the first (which would raise its risk). */
const LATER_WINDOW = { windowStart: '2026-11-27T18:00:00Z', windowEnd: '2026-11-27T20:00:00Z' };

function assessmentFields(overrides: Record<string, unknown> = {}) {
  return {
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
    ...overrides,
  };
}

async function sentForApproval(
  h: Harness,
  raise: () => Promise<ChangeRequest>,
  assessment: Record<string, unknown> = {},
  overrideReason?: string,
): Promise<ChangeRequest> {
  const request = await raise();
  const assessed = await assessChange(h.deps, {
    actor: people.tina,
    requestId: request.id,
    fields: assessmentFields(assessment),
    ...(overrideReason ? { overrideReason } : {}),
  });
  assert.equal(assessed.kind, 'done', JSON.stringify(assessed));
  const sent = await sendForApproval(h.deps, { actor: people.tina, requestId: request.id });
  assert.equal(sent.kind, 'done', JSON.stringify(sent));
  return sent.kind === 'done' ? sent.request : request;
}

const general = (h: Harness) => async () => (await raiseGeneral(h, people.carla)).request;
const licence =
  (h: Harness, actor = people.carla) =>
  async () => {
    const raised = await submitChange(h.deps, {
      actor,
      type: 'licence_change',
      fields: validFields('licence_change'),
    });
    assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
    return raised.value.request;
  };

describe(approvalInbox.name, () => {
  it('lists what waits for the caller across requests, oldest first, marking routine low-risk work bulk-approvable', async () => {
    const h = createHarness();
    await seedClients(h);
    const first = await sentForApproval(h, licence(h));
    h.clock.advance(HOUR);
    const second = await sentForApproval(h, general(h), LATER_WINDOW);

    const inbox = await approvalInbox(h.deps, people.andy);
    assert.deepEqual(
      inbox.map((i) => i.request.id),
      [first.id, second.id],
    );
    assert.deepEqual(
      inbox.map((i) => i.bulkApprovable),
      [true, false],
      'a licence change at low risk is routine; a general change is read one by one',
    );
    assert.deepEqual(await approvalInbox(h.deps, people.carla), [], 'the requester owes no vote');
    assert.deepEqual(await approvalInbox(h.deps, people.frank), [], 'another client sees nothing');
  });

  it('lists a seat delegated to the caller while the delegation is in force, naming whom they stand in for', async () => {
    const h = createHarness();
    await seedClients(h);
    const request = await sentForApproval(h, licence(h, people.avery));
    const delegate = async (id: string, to: typeof people.carla) => {
      const delegation = createDelegation(
        {
          id,
          from: people.andy,
          to,
          clientTenantId: CONTOSO_TENANT_ID,
          riskCeiling: 'medium',
          validFrom: '2026-11-23T00:00:00Z',
          validUntil: '2026-11-24T00:00:00Z',
        },
        h.clock.now().toISOString(),
      );
      assert.ok(delegation.ok);
      await h.deps.delegations.create(delegation.value, []);
    };
    await delegate('d1', people.avery);
    assert.deepEqual(
      await approvalInbox(h.deps, people.avery),
      [],
      'the requester never stands in for an approver of their own request',
    );
    await delegate('d2', people.carla);
    const inbox = await approvalInbox(h.deps, people.carla);
    assert.deepEqual(
      inbox.map((i) => [i.request.id, i.onBehalfOf?.oid]),
      [[request.id, people.andy.oid]],
    );
    h.clock.advance(24 * HOUR);
    assert.deepEqual(await approvalInbox(h.deps, people.carla), [], 'it expires by itself');
  });
});

describe(bulkApprove.name, () => {
  it('approves the routine items shown and refuses the rest without touching them', async () => {
    const h = createHarness();
    await seedClients(h);
    const routine = await sentForApproval(h, licence(h));
    const other = await sentForApproval(h, general(h), LATER_WINDOW);
    const results = await bulkApprove(h.deps, people.andy, [
      { requestId: routine.id, version: routine.version },
      { requestId: other.id, version: other.version },
      { requestId: routine.id, version: routine.version },
    ]);
    assert.deepEqual(
      results.map((r) => [r.requestId, r.outcome.kind]),
      [
        [routine.id, 'decided'],
        [other.id, 'not_bulk_approvable'],
      ],
    );
    const stored = async (id: string) =>
      (await h.deps.requests.get(CONTOSO_TENANT_ID, id as ChangeRequest['id']))?.request.status;
    assert.equal(await stored(routine.id), 'approved');
    assert.equal(await stored(other.id), 'awaiting_approval');
  });

  it('refuses an item whose version changed since the inbox showed it', async () => {
    const h = createHarness();
    await seedClients(h);
    const routine = await sentForApproval(h, licence(h));
    const [result] = await bulkApprove(h.deps, people.andy, [
      { requestId: routine.id, version: routine.version - 1 },
    ]);
    assert.equal(result?.outcome.kind, 'refused');
  });
});
