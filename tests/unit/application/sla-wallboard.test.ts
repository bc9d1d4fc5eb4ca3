import { strict as assert } from 'node:assert';
import type { SlaOutcome } from '../../../src/application/ports/open-request-index';
import { slaWallboard, type SlaWallboard } from '../../../src/application/use-cases/sla-wallboard';
import type { ChangeRequestId, ClientCode, TenantId } from '../../../src/domain/shared/ids';
import { CONTOSO, FABRIKAM } from '../../../src/sandbox/sandbox-tenants';
import type { Person } from '../../../src/domain/shared/person';
import { createHarness, people, seedClients, type Harness } from '../../support/fixtures';
import { seededIndex, wallboardEntries, WALLBOARD_NOW } from '../../support/wallboard-fixtures';

describe(slaWallboard.name, () => {
  let h: Harness;

  before(async () => {
    h = createHarness();
    await seedClients(h);
    h.clock.advance(WALLBOARD_NOW.getTime() - h.clock.now().getTime());
  });

  async function sut(actor: Person): Promise<SlaWallboard> {
    const result = await slaWallboard(
      { ...h.deps, openRequests: seededIndex(wallboardEntries()) },
      { actor },
    );
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    return result.value;
  }

  it('groups a lead’s open requests by client, type, status and SLA state', async () => {
    const board = await sut(people.lena);
    assert.deepEqual(
      board.clients.map((c) => [c.code, c.open, c.byState]),
      [
        ['CONTOSO', 4, { breached: 2, at_risk: 1, paused: 0, on_track: 1, met: 0, none: 0 }],
        ['FABRIKAM', 4, { breached: 1, at_risk: 0, paused: 0, on_track: 2, met: 0, none: 1 }],
      ],
    );
    assert.deepEqual(board.clients[0]?.byType, {
      incident: 1,
      offboard: 1,
      new_user: 1,
      general: 1,
    });
    assert.deepEqual(board.clients[1]?.byStatus, {
      submitted: 1,
      triaged: 1,
      in_progress: 1,
      awaiting_approval: 1,
    });
    assert.equal(board.totals.open, 8);
    assert.equal(board.totals.byState.breached, 3);
  });

  it('counts breaches today and this week in each client’s own zone', async () => {
    const board = await sut(people.lena);
    // Contoso's offboarding missed its acknowledgement today; its new starter yesterday (Tuesday).
    // Fabrikam's VPN outage breached at 23:30 Tuesday in New York: this week, not today there.
    assert.deepEqual(
      board.clients.map((c) => [c.code, c.breachesToday, c.breachesThisWeek]),
      [
        ['CONTOSO', 1, 2],
        ['FABRIKAM', 0, 1],
      ],
    );
    assert.equal(board.totals.breachesToday, 1);
    assert.equal(board.totals.breachesThisWeek, 3);
  });

  it('works out attainment from the clocks already met or missed', async () => {
    const board = await sut(people.lena);
    assert.deepEqual(
      board.clients.map((c) => c.attainment),
      [
        { met: 2, missed: 2, share: 0.5 },
        { met: 2, missed: 1, share: 2 / 3 },
      ],
    );
    assert.deepEqual(board.totals.attainment, { met: 4, missed: 3, share: 4 / 7 });
  });

  it('still counts the breaches and attainment of requests that have ended since', async () => {
    const ended = (
      client: { readonly tenantId: string; readonly code: string },
      number: number,
      endedAt: string,
      acknowledge: SlaOutcome['acknowledge'],
      resolve: SlaOutcome['resolve'],
    ): SlaOutcome => ({
      tenantId: client.tenantId as TenantId,
      clientCode: client.code as ClientCode,
      requestId: `${client.code}-${number}` as ChangeRequestId,
      number,
      type: 'general',
      status: 'closed',
      version: 5,
      endedAt,
      acknowledge,
      resolve,
    });
    const outcomes = [
      // Resolved this morning, two days after its Monday due time: a breach this week.
      ended(
        CONTOSO,
        9,
        '2026-11-25T09:30:00.000Z',
        { state: 'met', dueAt: '2026-11-23T09:00:00.000Z', metAt: '2026-11-23T08:50:00.000Z' },
        { state: 'breached', dueAt: '2026-11-23T15:00:00.000Z', metAt: '2026-11-25T09:30:00.000Z' },
      ),
      // The same request's earlier end (rolled back, then reopened elsewhere in the index's history,
      // e.g. in another month's partition): only its latest outcome counts.
      ended(
        CONTOSO,
        9,
        '2026-11-24T09:00:00.000Z',
        { state: 'breached', dueAt: '2026-11-23T08:00:00.000Z', metAt: '2026-11-23T08:50:00.000Z' },
        { state: 'breached', dueAt: '2026-11-23T15:00:00.000Z', metAt: '2026-11-24T09:00:00.000Z' },
      ),
      // Cancelled last Saturday, its acknowledgement missed on Friday; resolution never decided.
      ended(
        CONTOSO,
        8,
        '2026-11-21T12:00:00.000Z',
        { state: 'breached', dueAt: '2026-11-20T12:00:00.000Z' },
        { state: 'on_track', dueAt: '2026-11-22T12:00:00.000Z' },
      ),
      // Ended more than a week ago: out of the board.
      ended(
        FABRIKAM,
        9,
        '2026-11-10T12:00:00.000Z',
        { state: 'breached', dueAt: '2026-11-09T12:00:00.000Z' },
        { state: 'breached', dueAt: '2026-11-10T11:00:00.000Z' },
      ),
    ];
    const result = await slaWallboard(
      { ...h.deps, openRequests: seededIndex(wallboardEntries(), outcomes) },
      { actor: people.lena },
    );
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    const board = result.value;

    assert.deepEqual(
      board.clients.map((c) => [c.code, c.open, c.breachesToday, c.breachesThisWeek]),
      [
        ['CONTOSO', 4, 1, 3],
        ['FABRIKAM', 4, 0, 1],
      ],
    );
    assert.deepEqual(
      board.clients.map((c) => c.attainment),
      [
        { met: 3, missed: 4, share: 3 / 7 },
        { met: 2, missed: 1, share: 2 / 3 },
      ],
    );
    assert.equal(board.totals.breachesThisWeek, 4);
    assert.deepEqual(board.totals.attainment, { met: 5, missed: 5, share: 0.5 });
    assert.ok(board.closest.every((d) => d.requestId !== 'CONTOSO-9'));
  });

  it('lists running clocks soonest due first with minutes to breach, negative once late', async () => {
    const board = await sut(people.lena);
    assert.deepEqual(
      board.closest.map((d) => [d.requestId, d.clock, d.minutesToBreach, d.state]),
      [
        ['FABRIKAM-3', 'resolve', -330, 'breached'],
        ['CONTOSO-2', 'acknowledge', -10, 'breached'],
        ['CONTOSO-1', 'resolve', 30, 'at_risk'],
        ['FABRIKAM-1', 'acknowledge', 75, 'on_track'],
        ['CONTOSO-2', 'resolve', 1380, 'on_track'],
        ['FABRIKAM-1', 'resolve', 1500, 'on_track'],
        ['FABRIKAM-4', 'resolve', 1740, 'on_track'],
        ['CONTOSO-4', 'resolve', 3300, 'on_track'],
      ],
    );
  });

  it('shows a technician only the clients they serve', async () => {
    const board = await sut(people.tina);
    assert.deepEqual(
      board.clients.map((c) => c.code),
      ['CONTOSO'],
    );
    assert.ok(board.closest.every((d) => d.clientCode === 'CONTOSO'));
    assert.equal(board.totals.open, 4);
  });

  it('refuses a client user: the board is the MSP’s view', async () => {
    const result = await slaWallboard(
      { ...h.deps, openRequests: seededIndex(wallboardEntries()) },
      { actor: people.carla },
    );
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'ACCESS.MSP_ONLY');
  });
});
