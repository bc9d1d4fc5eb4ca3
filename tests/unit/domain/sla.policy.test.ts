import { strict as assert } from 'node:assert';
import type { ChangeRequest } from '../../../src/domain/change-request/change-request';
import { CHANGE_TYPES } from '../../../src/domain/change-request/change-request.payloads';
import {
  DEFAULT_BUSINESS_HOURS,
  DEFAULT_SLA_TARGETS,
  addWorkingMinutes,
  computeSla,
  slaTargetsFor,
  workingMinutesBetween,
  type SlaCalendar,
  type SlaRules,
} from '../../../src/domain/sla/sla.policy';
import { validateSlaSettings } from '../../../src/domain/sla/sla.settings';
import { people, submitted } from '../../support/fixtures';

const LONDON: SlaCalendar = {
  timeZone: 'Europe/London',
  businessHoursOnly: true,
  businessHours: DEFAULT_BUSINESS_HOURS,
  holidays: [],
};
const ROUND_THE_CLOCK: SlaCalendar = { ...LONDON, businessHoursOnly: false };
const rules = (sla: SlaRules['sla'] = {}): SlaRules => ({ timeZone: 'Europe/London', sla });

/** A general request (business hours, 510 / 2550 min) raised Monday 2026-11-23 09:00 London (= UTC). */
function request(patch: Partial<ChangeRequest> = {}): ChangeRequest {
  const { request: cr } = submitted();
  return { ...cr, createdAt: '2026-11-23T09:00:00.000Z', ...patch };
}
const asker = people.tina;

describe('SLA policy', () => {
  describe('targets', () => {
    it('has a default for every change type, incidents round the clock', () => {
      for (const type of CHANGE_TYPES) assert.ok(DEFAULT_SLA_TARGETS[type].acknowledgeMinutes > 0);
      assert.deepEqual(DEFAULT_SLA_TARGETS.incident, {
        acknowledgeMinutes: 15,
        resolveMinutes: 240,
        businessHoursOnly: false,
      });
      assert.equal(DEFAULT_SLA_TARGETS.offboard.acknowledgeMinutes, 60);
    });

    it("puts the client's overrides on top of the defaults, field by field", () => {
      assert.deepEqual(
        slaTargetsFor('incident', { targets: { incident: { resolveMinutes: 120 } } }),
        {
          acknowledgeMinutes: 15,
          resolveMinutes: 120,
          businessHoursOnly: false,
        },
      );
      assert.deepEqual(slaTargetsFor('general', {}), DEFAULT_SLA_TARGETS.general);
    });
  });

  describe('working time', () => {
    it('counts business hours only, skipping the night and the weekend', () => {
      // Fri 2026-11-27 17:00 → Mon 2026-11-30 10:00 (London = UTC in winter): 30 + 60 minutes.
      assert.equal(
        workingMinutesBetween('2026-11-27T17:00:00Z', '2026-11-30T10:00:00Z', LONDON),
        90,
      );
      assert.equal(
        addWorkingMinutes('2026-11-27T17:00:00Z', 90, LONDON),
        '2026-11-30T10:00:00.000Z',
      );
    });

    it('skips holidays and pauses', () => {
      const calendar = { ...LONDON, holidays: ['2026-11-30'] };
      assert.equal(
        addWorkingMinutes('2026-11-27T17:00:00Z', 90, calendar),
        '2026-12-01T10:00:00.000Z',
      );
      const pause = { start: '2026-12-01T09:00:00Z', end: '2026-12-01T12:00:00Z' };
      assert.equal(
        addWorkingMinutes('2026-11-27T17:00:00Z', 90, calendar, [pause]),
        '2026-12-01T13:00:00.000Z',
      );
      assert.equal(
        workingMinutesBetween('2026-11-27T17:00:00Z', '2026-12-01T13:00:00Z', calendar, [pause]),
        90,
      );
    });

    it('keeps business hours on local clocks across the spring change (London 2026-03-29)', () => {
      // Fri 27 Mar 17:00 GMT (17:00Z) + 90 min → Mon 30 Mar 10:00 BST = 09:00Z.
      assert.equal(
        addWorkingMinutes('2026-03-27T17:00:00Z', 90, LONDON),
        '2026-03-30T09:00:00.000Z',
      );
    });

    it('runs round the clock through the night the clocks change in New York', () => {
      // 2026-11-01 01:00 EDT → 03:00 EST is three real hours.
      const ny = { ...ROUND_THE_CLOCK, timeZone: 'America/New_York' };
      assert.equal(workingMinutesBetween('2026-11-01T05:00:00Z', '2026-11-01T08:00:00Z', ny), 180);
    });
  });

  describe('computeSla', () => {
    it('is on track, then at risk at 80 %, then breached past the target', () => {
      // General: acknowledge in 510 business minutes (one day, 09:00–17:30).
      const cr = request();
      assert.equal(computeSla(cr, rules(), '2026-11-23T10:00:00Z').acknowledge.state, 'on_track');
      const atRisk = computeSla(cr, rules(), '2026-11-23T15:48:00Z');
      assert.equal(atRisk.acknowledge.usedMinutes, 408);
      assert.equal(atRisk.acknowledge.state, 'at_risk');
      assert.equal(atRisk.acknowledge.dueAt, '2026-11-23T17:30:00.000Z');
      assert.equal(atRisk.state, 'at_risk');
      const late = computeSla(cr, rules(), '2026-11-24T09:01:00Z');
      assert.equal(late.acknowledge.state, 'breached');
      assert.equal(late.state, 'breached');
    });

    it('is met once acknowledged in time, and stays breached when acknowledged late', () => {
      const inTime = computeSla(
        request({ acknowledgedAt: '2026-11-23T10:00:00.000Z' }),
        rules(),
        '2026-11-25T10:00:00Z',
      );
      assert.equal(inTime.acknowledge.state, 'met');
      assert.equal(inTime.acknowledge.metAt, '2026-11-23T10:00:00.000Z');
      assert.equal(inTime.acknowledge.usedMinutes, 60);
      const late = computeSla(
        request({ acknowledgedAt: '2026-11-24T10:00:00.000Z' }),
        rules(),
        '2026-11-25T10:00:00Z',
      );
      assert.equal(late.acknowledge.state, 'breached');
    });

    it('pauses while waiting on the client, and the wait pushes the due time later', () => {
      const waiting = request({
        status: 'needs_info',
        acknowledgedAt: '2026-11-23T09:30:00.000Z',
        clarification: {
          question: 'Which mailbox?',
          askedBy: asker,
          askedAt: '2026-11-23T10:00:00.000Z',
          returnTo: 'triaged',
        },
      });
      const paused = computeSla(waiting, rules(), '2026-11-23T12:00:00Z');
      assert.equal(paused.resolve.state, 'paused');
      assert.equal(paused.resolve.usedMinutes, 60);
      assert.equal(paused.state, 'paused');
      // 2550 business minutes = five days from 09:00 Monday, plus the two hours waited.
      assert.equal(paused.resolve.dueAt, '2026-11-30T11:00:00.000Z');

      const answered = request({
        status: 'triaged',
        acknowledgedAt: '2026-11-23T09:30:00.000Z',
        clarifications: [
          {
            question: 'Which mailbox?',
            askedBy: asker,
            askedAt: '2026-11-23T10:00:00.000Z',
            returnTo: 'triaged',
            answer: 'Finance',
            answeredBy: asker,
            answeredAt: '2026-11-23T12:00:00.000Z',
          },
        ],
      });
      const resumed = computeSla(answered, rules(), '2026-11-23T13:00:00Z');
      assert.equal(resumed.resolve.state, 'on_track');
      assert.equal(resumed.resolve.usedMinutes, 120);
      assert.equal(resumed.resolve.dueAt, '2026-11-30T11:00:00.000Z');
    });

    it('meets the resolve clock when the work is done, and stops both clocks when the request ends', () => {
      const done = computeSla(
        request({
          status: 'implemented',
          acknowledgedAt: '2026-11-23T09:30:00.000Z',
          updatedAt: '2026-11-24T09:00:00.000Z',
        }),
        rules(),
        '2026-12-20T09:00:00Z',
      );
      assert.equal(done.resolve.metAt, '2026-11-24T09:00:00.000Z');
      assert.equal(done.resolve.state, 'met');
      assert.equal(done.state, 'met');
      const cancelled = computeSla(
        request({ status: 'cancelled', updatedAt: '2026-11-23T09:10:00.000Z' }),
        rules(),
        '2026-12-20T09:00:00Z',
      );
      assert.deepEqual(
        [cancelled.acknowledge.state, cancelled.resolve.state],
        ['met', 'met'],
        'a cancelled request has nothing left to acknowledge or resolve',
      );
    });

    it("uses the client's targets, business hours and holidays", () => {
      const sla = validateSlaSettings({
        targets: { general: { acknowledgeMinutes: 30, businessHoursOnly: true } },
        businessHours: { days: ['mon', 'tue'], start: '08:00', end: '09:00' },
        holidays: ['2026-11-23'],
      });
      assert.ok(sla.ok);
      const snapshot = computeSla(request(), rules(sla.value), '2026-11-24T08:10:00Z');
      assert.equal(snapshot.acknowledge.usedMinutes, 10);
      assert.equal(snapshot.acknowledge.dueAt, '2026-11-24T08:30:00.000Z');
    });
  });
});
