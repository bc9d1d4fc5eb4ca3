import { strict as assert } from 'node:assert';
import { riskSignals } from '../../../src/domain/change-request/approval-facts';
import { rulesFor } from '../../../src/domain/client/client-rules';
import type { ScheduleSettings } from '../../../src/domain/schedule/schedule';
import { contosoProfile, NOW, validAssessment } from '../../support/fixtures';

const evenings: ScheduleSettings = {
  timeZone: 'Europe/London',
  maintenanceWindows: [
    {
      kind: 'weekly',
      id: 'evenings',
      name: 'Tue/Thu evenings',
      days: ['tue', 'thu'],
      start: '18:00',
      durationMinutes: 300,
    },
  ],
  blackouts: [
    {
      kind: 'once',
      id: 'freeze',
      name: 'Year-end freeze',
      start: '2026-12-01T00:00',
      end: '2026-12-02T00:00',
    },
  ],
  noticeHours: 48,
  emergencyExempt: true,
};
const withEvenings = rulesFor(
  contosoProfile({ settings: { timeZone: 'Europe/London', schedule: evenings } }),
);
const unconfigured = rulesFor(contosoProfile());
const window = (start: string, end: string) => validAssessment({ requestedWindow: { start, end } });

describe(riskSignals.name, () => {
  it('reads the window against the client’s maintenance windows and blackouts', () => {
    const thursday = window('2026-11-26T18:00:00.000Z', '2026-11-26T20:00:00.000Z');
    const wednesday = window('2026-11-25T18:00:00.000Z', '2026-11-25T20:00:00.000Z');
    const frozen = window('2026-12-01T18:00:00.000Z', '2026-12-01T20:00:00.000Z');
    const signals = (a: ReturnType<typeof window>) =>
      riskSignals({ type: 'general' }, a, withEvenings, NOW, 0);
    assert.deepEqual(
      [signals(thursday), signals(wednesday), signals(frozen)].map((s) => [
        s.outsideMaintenanceWindow,
        s.overlapsBlackout,
      ]),
      [
        [false, false],
        [true, false],
        [false, true],
      ],
    );
  });

  it('treats a client without maintenance windows as open any time', () => {
    const wednesday = window('2026-11-25T18:00:00.000Z', '2026-11-25T20:00:00.000Z');
    const s = riskSignals({ type: 'general' }, wednesday, unconfigured, NOW, 2);
    assert.equal(s.outsideMaintenanceWindow, false);
    assert.equal(s.overlapsBlackout, false);
    assert.equal(s.conflicts, 2);
    assert.ok(s.leadTimeHours !== undefined && s.leadTimeHours > 48);
  });

  it('has no lead time when nothing is booked', () => {
    const s = riskSignals(
      { type: 'general' },
      validAssessment({ requestedWindow: undefined }),
      unconfigured,
      NOW,
      0,
    );
    assert.equal(s.leadTimeHours, undefined);
  });
});
