import { strict as assert } from 'node:assert';
import type { DomainError } from '../../../src/domain/shared/errors';
import { ValidationError } from '../../../src/domain/shared/errors';
import type { ChangeRequestId, ObjectId, TenantId } from '../../../src/domain/shared/ids';
import type { Result } from '../../../src/domain/shared/result';
import type {
  ScheduleSettings,
  ScheduledChange,
  WeeklyRule,
} from '../../../src/domain/schedule/schedule';
import { SlotRefusedError } from '../../../src/domain/schedule/schedule.errors';
import { findConflicts } from '../../../src/domain/schedule/schedule.conflicts';
import {
  blackoutsBetween,
  checkExecutionSlot,
  checkScheduledSlot,
  nextFittingSlots,
  noticeDueAt,
  windowsBetween,
} from '../../../src/domain/schedule/schedule.policy';
import { validateScheduleSettings } from '../../../src/domain/schedule/schedule.settings';

function value<T>(r: Result<T, DomainError>): T {
  if (!r.ok) assert.fail(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

function refusal<T>(r: Result<T, DomainError>): SlotRefusedError {
  assert.ok(!r.ok, 'expected a refusal');
  assert.ok(r.error instanceof SlotRefusedError, `expected SlotRefusedError, got ${r.error.code}`);
  return r.error;
}

const weekly = (
  id: string,
  days: WeeklyRule['days'],
  start: string,
  durationMinutes: number,
): WeeklyRule => ({ kind: 'weekly', id, name: id, days, start, durationMinutes });

function settings(overrides: Partial<ScheduleSettings> = {}): ScheduleSettings {
  return value(
    validateScheduleSettings({
      timeZone: 'Europe/London',
      maintenanceWindows: [weekly('weeknight', ['tue', 'thu'], '22:00', 240)],
      blackouts: [],
      noticeHours: 48,
      ...overrides,
    }),
  );
}

const spans = (s: ScheduleSettings, from: string, to: string) =>
  value(windowsBetween(s, from, to)).map((w) => [w.start, w.end]);

describe('schedule windows across daylight-saving changes (2026)', () => {
  it('keeps a London 22:00 window at 22:00 local on both sides of the spring change', () => {
    const sut = settings({ maintenanceWindows: [weekly('sat', ['sat'], '22:00', 240)] });
    assert.deepEqual(spans(sut, '2026-03-21T00:00:00Z', '2026-04-06T00:00:00Z'), [
      ['2026-03-21T22:00:00.000Z', '2026-03-22T02:00:00.000Z'],
      // 22:00 GMT to 02:00 BST: three hours, as the clocks on the wall say.
      ['2026-03-28T22:00:00.000Z', '2026-03-29T01:00:00.000Z'],
      ['2026-04-04T21:00:00.000Z', '2026-04-05T01:00:00.000Z'],
    ]);
  });

  it('lasts five hours in London on the night the clocks go back', () => {
    const sut = settings({ maintenanceWindows: [weekly('sat', ['sat'], '22:00', 240)] });
    assert.deepEqual(spans(sut, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z'), [
      ['2026-10-24T21:00:00.000Z', '2026-10-25T02:00:00.000Z'],
    ]);
  });

  it('starts a London window whose start time is skipped at the moment the clocks jump', () => {
    const sut = settings({ maintenanceWindows: [weekly('sun', ['sun'], '01:30', 60)] });
    const [w] = value(windowsBetween(sut, '2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z'));
    assert.deepEqual([w?.start, w?.end], ['2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z']);
    assert.deepEqual([w?.localStart, w?.localEnd], ['2026-03-29T01:30', '2026-03-29T02:30']);
  });

  it('drops a London window that lies wholly in the skipped hour', () => {
    const sut = settings({ maintenanceWindows: [weekly('sun', ['sun'], '01:10', 30)] });
    assert.deepEqual(spans(sut, '2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z'), []);
  });

  it('starts a London window in the repeated hour at its second occurrence', () => {
    const sut = settings({ maintenanceWindows: [weekly('sun', ['sun'], '01:30', 60)] });
    assert.deepEqual(spans(sut, '2026-10-25T00:00:00Z', '2026-10-26T00:00:00Z'), [
      ['2026-10-25T01:30:00.000Z', '2026-10-25T02:30:00.000Z'],
    ]);
  });

  it('ends a London window in the repeated hour at its first occurrence', () => {
    const sut = settings({ maintenanceWindows: [weekly('sun', ['sun'], '00:30', 60)] });
    assert.deepEqual(spans(sut, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z'), [
      ['2026-10-24T23:30:00.000Z', '2026-10-25T00:30:00.000Z'],
    ]);
  });

  it('handles the New York changes of 8 March and 1 November 2026', () => {
    const ny = (rule: WeeklyRule) =>
      settings({ timeZone: 'America/New_York', maintenanceWindows: [rule] });
    const night = ny(weekly('sat', ['sat'], '23:00', 240));
    const early = ny(weekly('sun', ['sun'], '02:30', 60));
    // 23:00 EST to 03:00 EDT: three hours.
    assert.deepEqual(spans(night, '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z'), [
      ['2026-03-08T04:00:00.000Z', '2026-03-08T07:00:00.000Z'],
    ]);
    // 02:30 does not exist on 8 March: the window opens when the clocks jump to 03:00 EDT.
    assert.deepEqual(spans(early, '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z'), [
      ['2026-03-08T07:00:00.000Z', '2026-03-08T07:30:00.000Z'],
    ]);
    // 23:00 EDT to 03:00 EST: five hours.
    assert.deepEqual(spans(night, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z'), [
      ['2026-11-01T03:00:00.000Z', '2026-11-01T08:00:00.000Z'],
    ]);
    // 02:30 on 1 November happens once (after the repeated 01:00–02:00 hour): 02:30 EST.
    assert.deepEqual(spans(early, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z'), [
      ['2026-11-01T07:30:00.000Z', '2026-11-01T08:30:00.000Z'],
    ]);
    const repeated = ny(weekly('sun', ['sun'], '01:30', 60));
    // 01:30 happens twice: the window opens at the second (EST) one and ends at 02:30 EST.
    assert.deepEqual(spans(repeated, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z'), [
      ['2026-11-01T06:30:00.000Z', '2026-11-01T07:30:00.000Z'],
    ]);
  });

  it('clips windows to the range asked for and keeps the whole occurrence', () => {
    const sut = settings();
    const [w] = value(windowsBetween(sut, '2026-06-03T00:00:00Z', '2026-06-04T00:00:00Z'));
    assert.deepEqual([w?.start, w?.end], ['2026-06-03T00:00:00.000Z', '2026-06-03T01:00:00.000Z']);
    assert.deepEqual(w?.occurrence, {
      start: '2026-06-02T21:00:00.000Z',
      end: '2026-06-03T01:00:00.000Z',
    });
  });
});

describe('schedule blackouts', () => {
  it('covers both occurrences of a repeated hour (blackouts resolve outward)', () => {
    const sut = settings({
      blackouts: [
        {
          kind: 'once',
          id: 'b',
          name: 'Switch move',
          start: '2026-10-25T01:15',
          end: '2026-10-25T01:45',
        },
      ],
    });
    const [b] = value(blackoutsBetween(sut, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z'));
    assert.deepEqual([b?.start, b?.end], ['2026-10-25T00:15:00.000Z', '2026-10-25T01:45:00.000Z']);
  });

  it('blacks out the last three business days of the month until the month ends', () => {
    const sut = settings({
      blackouts: [{ kind: 'month_end', id: 'close', name: 'Month-end close', businessDays: 3 }],
    });
    const march = value(blackoutsBetween(sut, '2026-03-15T00:00:00Z', '2026-03-31T12:00:00Z'));
    assert.deepEqual(
      march.map((b) => [b.start, b.end, b.localStart, b.localEnd]),
      [
        [
          '2026-03-27T00:00:00.000Z',
          '2026-03-31T23:00:00.000Z',
          '2026-03-27T00:00',
          '2026-04-01T00:00',
        ],
      ],
    );
    // May 2026 ends on a Sunday: Wed 27, Thu 28, Fri 29, then the weekend to month end.
    const may = value(blackoutsBetween(sut, '2026-05-20T00:00:00Z', '2026-05-31T00:00:00Z'));
    assert.deepEqual(
      may.map((b) => b.localStart),
      ['2026-05-27T00:00'],
    );
  });
});

describe(checkScheduledSlot.name, () => {
  const now = '2026-06-01T09:00:00Z'; // Monday
  const inWindow = { start: '2026-06-04T21:00:00Z', end: '2026-06-04T23:00:00Z' }; // Thu 22:00 BST
  const freeze = settings({
    blackouts: [
      {
        kind: 'once',
        id: 'freeze',
        name: 'Office move',
        start: '2026-06-04T00:00',
        end: '2026-06-05T00:00',
      },
    ],
  });

  it('accepts a normal change inside a window with enough notice, and says when notice is due', () => {
    const check = value(checkScheduledSlot(settings(), inWindow, 'normal', now));
    assert.deepEqual(check.window, {
      start: '2026-06-04T21:00:00.000Z',
      end: '2026-06-05T01:00:00.000Z',
    });
    assert.deepEqual(check.waived, []);
    assert.deepEqual(check.notice, {
      kind: 'notice_card',
      dueAt: '2026-06-02T21:00:00.000Z',
      noticeHours: 48,
    });
  });

  it('refuses a slot outside every window and names the next windows that fit', () => {
    const e = refusal(
      checkScheduledSlot(
        settings(),
        { start: '2026-06-05T12:00:00Z', end: '2026-06-05T13:00:00Z' },
        'normal',
        now,
      ),
    );
    assert.deepEqual(
      e.problems.map((p) => p.code),
      ['SCHED.OUTSIDE_WINDOW'],
    );
    assert.deepEqual(
      (e.problems[0]?.details.nextFitting as { start: string }[]).map((s) => s.start),
      ['2026-06-04T21:00:00.000Z', '2026-06-09T21:00:00.000Z', '2026-06-11T21:00:00.000Z'],
    );
    assert.match(e.message, /Thu 4 Jun 2026 22:00 \(Europe\/London\)/);
  });

  it('refuses a slot in a blackout and names the blackout', () => {
    const e = refusal(checkScheduledSlot(freeze, inWindow, 'normal', now));
    assert.deepEqual(
      e.problems.map((p) => p.code),
      ['SCHED.IN_BLACKOUT'],
    );
    assert.match(e.message, /"Office move"/);
    // The Thursday window is free again once the move's day ends at midnight local.
    assert.deepEqual(e.suggestions[0], {
      start: '2026-06-04T23:00:00.000Z',
      end: '2026-06-05T01:00:00.000Z',
    });
  });

  it('refuses too little notice and says the earliest allowed start', () => {
    const e = refusal(checkScheduledSlot(settings(), inWindow, 'normal', '2026-06-03T09:00:00Z'));
    assert.deepEqual(
      e.problems.map((p) => p.code),
      ['SCHED.SHORT_NOTICE'],
    );
    assert.equal(e.problems[0]?.details.earliestStart, '2026-06-05T09:00:00.000Z');
    assert.match(e.message, /48 h notice/);
  });

  it('refuses a slot in the past, for every class', () => {
    for (const cls of ['normal', 'standard', 'emergency'] as const) {
      const e = refusal(checkScheduledSlot(settings(), inWindow, cls, '2026-06-04T22:00:00Z'));
      assert.ok(
        e.problems.some((p) => p.code === 'SCHED.IN_PAST'),
        cls,
      );
    }
  });

  it('lets a standard change in a window go without notice, listed in the monthly summary', () => {
    const check = value(
      checkScheduledSlot(settings(), inWindow, 'standard', '2026-06-04T20:00:00Z'),
    );
    assert.deepEqual(check.notice, { kind: 'monthly_summary' });
    const e = refusal(
      checkScheduledSlot(
        settings(),
        { start: '2026-06-05T12:00:00Z', end: '2026-06-05T13:00:00Z' },
        'standard',
        now,
      ),
    );
    assert.deepEqual(
      e.problems.map((p) => p.code),
      ['SCHED.OUTSIDE_WINDOW'],
    );
  });

  it('lets an emergency bypass windows, blackout and notice, and says what it waived', () => {
    const slot = { start: '2026-06-04T12:00:00Z', end: '2026-06-04T13:00:00Z' };
    const check = value(checkScheduledSlot(freeze, slot, 'emergency', '2026-06-04T11:00:00Z'));
    assert.deepEqual(check.waived.map((p) => p.code).sort(), [
      'SCHED.IN_BLACKOUT',
      'SCHED.OUTSIDE_WINDOW',
      'SCHED.SHORT_NOTICE',
    ]);
    assert.deepEqual(check.notice, { kind: 'immediate' });
  });

  it('keeps a blackout closed to emergencies when the client is not emergency-exempt', () => {
    const hard = { ...freeze, emergencyExempt: false };
    const slot = { start: '2026-06-04T12:00:00Z', end: '2026-06-04T13:00:00Z' };
    const e = refusal(checkScheduledSlot(hard, slot, 'emergency', '2026-06-04T11:00:00Z'));
    assert.deepEqual(
      e.problems.map((p) => p.code),
      ['SCHED.IN_BLACKOUT'],
    );
  });

  it('accepts a slot across two touching windows as one window', () => {
    const sut = settings({
      maintenanceWindows: [
        weekly('late', ['tue'], '22:00', 120),
        weekly('early', ['wed'], '00:00', 120),
      ],
    });
    const slot = { start: '2026-06-02T22:00:00Z', end: '2026-06-03T00:30:00Z' };
    value(checkScheduledSlot(sut, slot, 'normal', '2026-05-01T00:00:00Z'));
  });

  it('refuses slots it cannot read', () => {
    const bad = checkScheduledSlot(
      settings(),
      { start: '2026-06-04T22:00', end: '2026-06-04T23:00Z' },
      'normal',
      now,
    );
    assert.ok(!bad.ok && bad.error.code === 'SCHED.INVALID_INSTANT');
    const backwards = checkScheduledSlot(
      settings(),
      { start: inWindow.end, end: inWindow.start },
      'normal',
      now,
    );
    assert.ok(!backwards.ok && backwards.error.code === 'SCHED.INVALID_SLOT');
  });
});

describe(noticeDueAt.name, () => {
  it('is the notice period in elapsed hours before the start, across a clock change', () => {
    const slot = { start: '2026-03-30T21:00:00Z', end: '2026-03-30T22:00:00Z' };
    assert.deepEqual(value(noticeDueAt(settings({ noticeHours: 72 }), slot)), {
      kind: 'notice_card',
      dueAt: '2026-03-27T21:00:00.000Z',
      noticeHours: 72,
    });
    assert.deepEqual(value(noticeDueAt(settings(), slot, 'emergency')), { kind: 'immediate' });
    assert.deepEqual(value(noticeDueAt(settings(), slot, 'standard')), { kind: 'monthly_summary' });
  });
});

describe(nextFittingSlots.name, () => {
  it('suggests the earliest start in each free stretch, skipping blackouts', () => {
    const sut = settings({
      blackouts: [
        {
          kind: 'once',
          id: 'b',
          name: 'Go-live',
          start: '2026-06-02T22:00',
          end: '2026-06-02T23:30',
        },
      ],
    });
    assert.deepEqual(value(nextFittingSlots(sut, 60, '2026-06-01T00:00:00Z', 2)), [
      { start: '2026-06-02T22:30:00.000Z', end: '2026-06-02T23:30:00.000Z' },
      { start: '2026-06-04T21:00:00.000Z', end: '2026-06-04T22:00:00.000Z' },
    ]);
  });

  it('starts from inside a window when asked from inside it, and returns none without windows', () => {
    assert.deepEqual(value(nextFittingSlots(settings(), 60, '2026-06-02T22:00:00Z', 1)), [
      { start: '2026-06-02T22:00:00.000Z', end: '2026-06-02T23:00:00.000Z' },
    ]);
    assert.deepEqual(
      value(nextFittingSlots(settings({ maintenanceWindows: [] }), 60, '2026-06-02T22:00:00Z', 3)),
      [],
    );
  });
});

describe(validateScheduleSettings.name, () => {
  const issues = (raw: unknown) => {
    const r = validateScheduleSettings(raw);
    assert.ok(!r.ok && r.error instanceof ValidationError, 'expected a ValidationError');
    return r.error.issues;
  };

  it('defaults notice to 48 h and emergencies to exempt', () => {
    const s = value(validateScheduleSettings({ timeZone: 'Asia/Kolkata' }));
    assert.equal(s.noticeHours, 48);
    assert.equal(s.emergencyExempt, true);
    assert.deepEqual([s.maintenanceWindows, s.blackouts], [[], []]);
  });

  it('names each bad field with what to fix', () => {
    assert.deepEqual(
      issues({
        timeZone: 'Mars/Olympus',
        noticeHours: 24,
        maintenanceWindows: [weekly('w', [], '25:00', 0)],
      }),
      [
        {
          field: 'timeZone',
          message: 'must be an IANA time zone like Europe/London or America/New_York',
        },
        { field: 'maintenanceWindows.0.days', message: 'must name at least one weekday' },
        { field: 'maintenanceWindows.0.start', message: 'must be a local time like 22:00' },
        {
          field: 'maintenanceWindows.0.durationMinutes',
          message: 'must be at least 1 minute (a window cannot be empty)',
        },
        { field: 'noticeHours', message: 'must be between 48 and 72 hours' },
      ],
    );
    assert.deepEqual(issues({ timeZone: 'UTC', noticeHours: 73 }), [
      { field: 'noticeHours', message: 'must be between 48 and 72 hours' },
    ]);
  });

  it('refuses one-off ranges that end before they start and repeated ids', () => {
    assert.deepEqual(
      issues({
        timeZone: 'UTC',
        maintenanceWindows: [weekly('x', ['mon'], '22:00', 60)],
        blackouts: [
          {
            kind: 'once',
            id: 'x',
            name: 'Move',
            start: '2026-06-02T10:00',
            end: '2026-06-02T10:00',
          },
        ],
      }),
      [
        { field: 'blackouts.0.end', message: 'must be after the start' },
        { field: 'blackouts.0.id', message: 'repeats the id of maintenanceWindows.0' },
      ],
    );
  });

  it('refuses overlapping maintenance windows, across midnight and the week end too', () => {
    assert.deepEqual(
      issues({
        timeZone: 'UTC',
        maintenanceWindows: [
          weekly('sun-night', ['sun'], '22:00', 240),
          weekly('mon-early', ['mon'], '01:00', 60),
          {
            kind: 'once',
            id: 'extra',
            name: 'extra',
            start: '2026-06-07T23:00',
            end: '2026-06-08T00:30',
          },
        ],
      }),
      [
        {
          field: 'maintenanceWindows.1',
          message:
            '"mon-early" overlaps "sun-night" (maintenanceWindows.0); merge them or move one',
        },
        {
          field: 'maintenanceWindows.2',
          message: '"extra" overlaps "sun-night" (maintenanceWindows.0); merge them or move one',
        },
      ],
    );
    assert.deepEqual(
      issues({
        timeZone: 'UTC',
        maintenanceWindows: [weekly('long', ['mon', 'tue'], '22:00', 1500)],
      }),
      [
        {
          field: 'maintenanceWindows.0.durationMinutes',
          message: 'makes "long" overlap itself from one day to the next; shorten it',
        },
      ],
    );
  });
});

describe(findConflicts.name, () => {
  const tech = {
    tid: 'a0000000-0000-4000-8000-000000000001' as TenantId,
    oid: 'b0000000-0000-4000-8000-000000000001' as ObjectId,
  };
  const change = (
    id: string,
    client: string,
    start: string,
    end: string,
    extra: Partial<ScheduledChange> = {},
  ): ScheduledChange => ({
    id: id as ChangeRequestId,
    client,
    start,
    end,
    ...extra,
  });

  it('finds same-client overlaps, double-booked technicians, dependency order and blackouts', () => {
    const candidate = change(
      'CONTOSO-2',
      'CONTOSO',
      '2026-06-04T21:00:00Z',
      '2026-06-04T23:00:00Z',
      {
        technician: tech,
        dependsOn: ['CONTOSO-1' as ChangeRequestId],
      },
    );
    const others = [
      change('CONTOSO-1', 'CONTOSO', '2026-06-04T22:00:00Z', '2026-06-04T22:30:00Z'),
      change('FABRIKAM-7', 'FABRIKAM', '2026-06-04T22:45:00Z', '2026-06-05T00:00:00Z', {
        technician: tech,
      }),
      change('CONTOSO-3', 'CONTOSO', '2026-06-04T23:00:00Z', '2026-06-05T00:00:00Z'),
      change('CONTOSO-4', 'CONTOSO', '2026-06-04T22:00:00Z', '2026-06-05T00:00:00Z', {
        dependsOn: ['CONTOSO-2' as ChangeRequestId],
      }),
    ];
    const sut = settings({
      blackouts: [
        {
          kind: 'once',
          id: 'move',
          name: 'Office move',
          start: '2026-06-04T23:30',
          end: '2026-06-05T02:00',
        },
      ],
    });
    const found = value(findConflicts(candidate, others, { settings: sut }));
    assert.deepEqual(
      found.map((c) => [c.kind, 'otherId' in c ? c.otherId : c.blackoutId]),
      [
        ['client_overlap', 'CONTOSO-1'],
        ['dependency_order', 'CONTOSO-1'],
        ['technician_double_booked', 'FABRIKAM-7'],
        ['client_overlap', 'CONTOSO-4'],
        ['dependency_order', 'CONTOSO-4'],
        ['blackout_overlap', 'move'],
      ],
    );
  });
});

describe(checkExecutionSlot.name, () => {
  it('lets work start inside the window without notice, and refuses it outside unless emergency', () => {
    const slot = { start: '2026-06-04T21:05:00Z', end: '2026-06-04T22:00:00Z' };
    value(checkExecutionSlot(settings(), slot, 'normal', '2026-06-04T21:05:01Z'));
    const late = { start: '2026-06-05T09:00:00Z', end: '2026-06-05T10:00:00Z' };
    const e = refusal(checkExecutionSlot(settings(), late, 'normal', late.start));
    assert.deepEqual(
      e.problems.map((p) => p.code),
      ['SCHED.OUTSIDE_WINDOW'],
    );
    const check = value(checkExecutionSlot(settings(), late, 'emergency', late.start));
    assert.deepEqual(
      check.waived.map((p) => p.code),
      ['SCHED.OUTSIDE_WINDOW'],
    );
  });
});
