import { strict as assert } from 'node:assert';
import {
  changeCalendar,
  conflictsForRequest,
  type CalendarChange,
  type ChangeCalendar,
} from '../../src/application/use-cases/calendar';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import type { Person } from '../../src/domain/change-request/change-request';
import { MSP_TENANT } from '../../src/sandbox/sandbox-tenants';
import { useAzurite } from '../support/azurite-fixture';
import { bookCalendarScenario, onboard, type CalendarScenario } from '../support/calendar-fixtures';
import { contosoProfile, fabrikamProfile, people } from '../support/fixtures';
import { FakeClock } from '../fakes/in-memory-storage';

/**
 * The change calendar against Table Storage (Azurite): windows and blackouts across the British
 * clock change, booked changes, their conflicts, and who may see which client.
 */
describe('changeCalendar', function () {
  this.timeout(60_000);
  const azurite = useAzurite();
  let deps: UseCaseDeps;
  let s: CalendarScenario;
  const contoso = contosoProfile();
  const fabrikam = fabrikamProfile();

  before(async () => {
    const storage = await azurite.newStorage();
    deps = {
      requests: storage.requests,
      audit: storage.audit,
      clients: storage.clients,
      conversations: storage.conversations,
      delegations: storage.delegations,
      templates: storage.catalogue(MSP_TENANT),
      clock: new FakeClock(),
      mspTenantId: MSP_TENANT,
    };
    await onboard(deps, people.lena, contoso, fabrikam);
    s = await bookCalendarScenario(deps, { contoso, fabrikam }, people);
  });

  async function calendar(
    actor: Person,
    from: string,
    to: string,
    clientTenantId?: string,
  ): Promise<ChangeCalendar> {
    const result = await changeCalendar(deps, {
      actor,
      from,
      to,
      ...(clientTenantId ? { clientTenantId } : {}),
    });
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    return result.value;
  }

  const change = (cal: ChangeCalendar, id: string): CalendarChange => {
    const found = cal.changes.find((c) => c.id === id);
    assert.ok(found, `${id} is not on the calendar`);
    return found;
  };

  it('lays out windows and blackouts in the client’s zone across the night the clocks go forward', async () => {
    const cal = await calendar(people.tina, '2026-03-16', '2026-04-13', contoso.tenantId);

    assert.equal(cal.timeZone, 'Europe/London');
    assert.equal(cal.from, '2026-03-16T00:00:00.000Z');
    assert.equal(cal.to, '2026-04-12T23:00:00.000Z', 'local midnight in summer time');
    assert.equal(cal.days.length, 28);
    assert.deepEqual(
      cal.days.find((d) => d.date === '2026-03-29'),
      { date: '2026-03-29', start: '2026-03-29T00:00:00.000Z', end: '2026-03-29T23:00:00.000Z' },
      'the day the clocks go forward has 23 hours',
    );
    assert.deepEqual(
      cal.windows.map((w) => [w.start, w.end, w.localStart, w.localEnd]),
      [
        [
          '2026-03-22T00:30:00.000Z',
          '2026-03-22T03:30:00.000Z',
          '2026-03-22T00:30',
          '2026-03-22T03:30',
        ],
        // 00:30 GMT to 03:30 BST: the window is two hours of real time that night.
        [
          '2026-03-29T00:30:00.000Z',
          '2026-03-29T02:30:00.000Z',
          '2026-03-29T00:30',
          '2026-03-29T03:30',
        ],
        [
          '2026-04-04T23:30:00.000Z',
          '2026-04-05T02:30:00.000Z',
          '2026-04-05T00:30',
          '2026-04-05T03:30',
        ],
        [
          '2026-04-11T23:30:00.000Z',
          '2026-04-12T02:30:00.000Z',
          '2026-04-12T00:30',
          '2026-04-12T03:30',
        ],
      ],
    );
    assert.ok(cal.windows.every((w) => w.name === 'Sunday early' && w.clientCode === contoso.code));
    assert.deepEqual(
      cal.blackouts.map((b) => [b.name, b.start, b.end, b.localStart, b.localEnd]),
      [
        [
          'Month-end close',
          '2026-03-30T23:00:00.000Z',
          '2026-03-31T23:00:00.000Z',
          '2026-03-31T00:00',
          '2026-04-01T00:00',
        ],
      ],
    );
  });

  it('shows open scheduled changes in range, with class and technician, and leaves off closed and unscheduled ones', async () => {
    const cal = await calendar(people.tina, '2026-03-16', '2026-04-13', contoso.tenantId);

    assert.deepEqual(
      cal.changes.map((c) => c.id),
      [s.firewall.id, s.switchUpgrade.id, s.mailbox.id, s.licences.id, s.directorySync.id],
    );
    const mailbox = change(cal, s.mailbox.id);
    assert.equal(mailbox.title, 'Migrate the finance mailbox');
    assert.equal(mailbox.changeClass, 'emergency');
    assert.equal(mailbox.technician, people.tina.name, 'the assessor when nobody is assigned');
    assert.equal(mailbox.localStart, '2026-03-31T10:00', 'British Summer Time');
    assert.equal(change(cal, s.switchUpgrade.id).technician, people.lena.name);

    const march = await calendar(people.tina, '2026-03-23', '2026-03-30', contoso.tenantId);
    assert.deepEqual(march.changes, [], 'nothing booked that week');
  });

  it('reports overlaps, a blackout overlap and dependency order on each change', async () => {
    const cal = await calendar(people.tina, '2026-03-16', '2026-04-13', contoso.tenantId);
    const kinds = (id: string) => change(cal, id).conflicts.map((c) => [c.kind, c.otherId]);

    assert.deepEqual(kinds(s.firewall.id), [['client_overlap', s.switchUpgrade.id]]);
    const mailbox = change(cal, s.mailbox.id).conflicts;
    assert.deepEqual(
      mailbox.map((c) => c.kind),
      ['blackout_overlap'],
    );
    assert.match(mailbox[0]!.message, /Month-end close/);
    assert.deepEqual(kinds(s.licences.id), [['dependency_order', s.directorySync.id]]);
    assert.match(change(cal, s.licences.id).conflicts[0]!.message, /depends on/);
    assert.deepEqual(kinds(s.directorySync.id), [['dependency_order', s.licences.id]]);
  });

  it('reports a technician double-booked at another client without naming that client’s request to those who do not serve it', async () => {
    const tina = await calendar(people.tina, '2026-03-16', '2026-04-13', contoso.tenantId);
    const seenByTina = change(tina, s.switchUpgrade.id).conflicts;
    assert.deepEqual(
      seenByTina.map((c) => [c.kind, c.otherId]),
      [
        ['client_overlap', s.firewall.id],
        ['technician_double_booked', undefined],
      ],
    );
    assert.match(seenByTina[1]!.message, /another client's change/);
    assert.ok(!JSON.stringify(tina).includes(s.fabrikamVpn.id));

    const lena = await calendar(people.lena, '2026-03-16', '2026-04-13');
    const seenByLena = change(lena, s.switchUpgrade.id).conflicts;
    assert.deepEqual(
      seenByLena.map((c) => [c.kind, c.otherId]),
      [
        ['client_overlap', s.firewall.id],
        ['technician_double_booked', s.fabrikamVpn.id],
      ],
    );
    assert.deepEqual(
      change(lena, s.fabrikamVpn.id).conflicts.map((c) => [c.kind, c.otherId]),
      [['technician_double_booked', s.switchUpgrade.id]],
    );
  });

  it('lists every client an MSP lead serves in the MSP-wide view, in UTC when their zones differ', async () => {
    const cal = await calendar(people.lena, '2026-03-16T00:00:00Z', '2026-04-13T00:00:00Z');

    assert.equal(cal.mspWide, true);
    assert.deepEqual(cal.clients.map((c) => c.code).sort(), [contoso.code, fabrikam.code].sort());
    assert.equal(cal.timeZone, 'UTC');
    assert.deepEqual(
      new Set(cal.changes.map((c) => c.clientCode)),
      new Set([contoso.code, fabrikam.code]),
    );
    assert.equal(cal.changes.length, 6);
  });

  it('shows a client user only their own client, and refuses another client as not found', async () => {
    const own = await calendar(people.carla, '2026-03-16', '2026-04-13');
    assert.equal(own.mspWide, false);
    assert.deepEqual(
      own.clients.map((c) => c.code),
      [contoso.code],
    );
    assert.deepEqual(
      own.choices.map((c) => c.code),
      [contoso.code],
    );
    assert.ok(own.changes.every((c) => c.clientCode === contoso.code));
    assert.ok(!JSON.stringify(own).includes(s.fabrikamVpn.id));

    const other = await changeCalendar(deps, {
      actor: people.carla,
      clientTenantId: fabrikam.tenantId,
      from: '2026-03-16',
      to: '2026-04-13',
    });
    assert.ok(!other.ok);
    assert.equal(other.error.code, 'CLIENT.NOT_FOUND');

    const tinaAtFabrikam = await changeCalendar(deps, {
      actor: people.tina,
      clientTenantId: fabrikam.tenantId,
      from: '2026-03-16',
      to: '2026-04-13',
    });
    assert.ok(!tinaAtFabrikam.ok);
    assert.equal(tinaAtFabrikam.error.code, 'CLIENT.NOT_FOUND');
  });

  it('refuses a range longer than six weeks or back to front, saying what to ask for', async () => {
    const long = await changeCalendar(deps, {
      actor: people.tina,
      from: '2026-03-01',
      to: '2026-05-01',
    });
    assert.ok(!long.ok);
    assert.equal(long.error.code, 'CR.INVALID_INPUT');
    assert.match(long.error.message, /at most 43 days/);
    const backwards = await changeCalendar(deps, {
      actor: people.tina,
      from: '2026-03-10',
      to: 'yesterday',
    });
    assert.ok(!backwards.ok);
    assert.match(backwards.error.message, /to: must be a date/);
  });

  it('gives an approval card the conflicts of one request, never naming another client’s request', async () => {
    const result = await conflictsForRequest(deps, s.switchUpgrade);
    assert.ok(result.ok);
    assert.deepEqual(
      result.value.map((c) => [c.kind, c.otherId]),
      [
        ['client_overlap', s.firewall.id],
        ['technician_double_booked', undefined],
      ],
    );
    const none = await conflictsForRequest(deps, s.unscheduled);
    assert.deepEqual(none, { ok: true, value: [] });
  });
});
