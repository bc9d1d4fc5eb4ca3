import { strict as assert } from 'node:assert';
import { validateSlaSettings } from '../../../src/domain/sla/sla.settings';

const sut = validateSlaSettings;

function issues(raw: unknown): Record<string, string> {
  const result = sut(raw);
  assert.equal(result.ok, false, 'should be refused');
  if (result.ok) throw new Error('unreachable');
  return Object.fromEntries(result.error.issues.map((i) => [i.field, i.message]));
}

describe(validateSlaSettings.name, () => {
  it('accepts overrides, business hours and holidays, storing holidays sorted', () => {
    const result = sut({
      targets: { incident: { acknowledgeMinutes: 10 }, offboard: { businessHoursOnly: false } },
      businessHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00' },
      holidays: ['2026-12-28', '2026-12-25'],
    });
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    assert.deepEqual(result.value.holidays, ['2026-12-25', '2026-12-28']);
    assert.equal(result.value.targets?.incident?.acknowledgeMinutes, 10);
  });

  it('accepts nothing set: every part has a default', () => {
    assert.deepEqual(sut({}), { ok: true, value: {} });
  });

  it('reports every field to fix at once', () => {
    const found = issues({
      targets: {
        incident: { acknowledgeMinutes: 0, resolveMinutes: 90 * 24 * 60 + 1 },
        general: { acknowledgeMinutes: 1.5, typo: 1 },
        nope: {},
      },
      businessHours: { days: [], start: '25:00', end: '09:00' },
      holidays: ['2026-02-30', '2026-12-25', '2026-12-25'],
    });
    assert.match(found['targets.incident.acknowledgeMinutes'] ?? '', /at least 1 minute/);
    assert.match(found['targets.incident.resolveMinutes'] ?? '', /at most 90 days/);
    assert.match(found['targets.general.acknowledgeMinutes'] ?? '', /whole minutes/);
    assert.match(found['targets.general'] ?? '', /typo/);
    assert.match(found['targets'] ?? '', /nope/);
    assert.match(found['businessHours.days'] ?? '', /at least one weekday/);
    assert.match(found['businessHours.start'] ?? '', /local time/);
    assert.match(found['holidays.0'] ?? '', /date like/);
    assert.match(found['holidays'] ?? '', /repeat/);
  });

  it('wants business hours that end after they start, at most 200 holidays', () => {
    assert.match(
      issues({ businessHours: { days: ['mon'], start: '17:00', end: '09:00' } })[
        'businessHours.end'
      ] ?? '',
      /after the start/,
    );
    const many = Array.from({ length: 201 }, (_, i) =>
      new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10),
    );
    assert.match(issues({ holidays: many })['holidays'] ?? '', /at most 200/);
  });

  it('refuses acknowledging slower than resolving, and targets that never fall due', () => {
    assert.match(
      issues({ targets: { incident: { acknowledgeMinutes: 300 } } })[
        'targets.incident.acknowledgeMinutes'
      ] ?? '',
      /no longer than resolving \(240 min\)/,
    );
    const found = issues({
      targets: { general: { resolveMinutes: 90 * 24 * 60 } },
      businessHours: { days: ['mon'], start: '09:00', end: '10:00' },
    });
    assert.match(found['targets.general.resolveMinutes'] ?? '', /a year of business hours/);
  });
});
