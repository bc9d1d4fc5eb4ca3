import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { WEEKDAYS } from '../../../src/domain/schedule/schedule';
import {
  addWorkingMinutes,
  workingMinutesBetween,
  type SlaCalendar,
} from '../../../src/domain/sla/sla.policy';

/**
 * Working-time maths in the zones whose clock changes the desk meets most (London, New York).
 * Instants are drawn uniformly from 2025–2027 or within two days of a clock change, so every run
 * crosses skipped and repeated hours.
 */

const ZONES = ['Europe/London', 'America/New_York'] as const;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const RANGE_START = Date.parse('2025-01-01T00:00:00Z');
const RANGE_END = Date.parse('2028-01-01T00:00:00Z');

function clockChanges(zone: string): number[] {
  const out: number[] = [];
  let prev = DateTime.fromMillis(RANGE_START, { zone }).offset;
  for (let t = RANGE_START + HOUR; t < RANGE_END; t += HOUR) {
    const offset = DateTime.fromMillis(t, { zone }).offset;
    if (offset !== prev) out.push(t);
    prev = offset;
  }
  return out;
}
const CHANGES = new Map(ZONES.map((z) => [z, clockChanges(z)]));

const instantNear = (zone: (typeof ZONES)[number]) =>
  fc.oneof(
    fc.integer({ min: RANGE_START, max: RANGE_END - 60 * DAY }),
    fc
      .tuple(
        fc.constantFrom(...(CHANGES.get(zone) ?? [])),
        fc.integer({ min: -2 * DAY, max: 2 * DAY }),
      )
      .map(([t, d]) => t + d),
  );

const time = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 59))
  .map(([h, m]) => ({ h, m, text: `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}` }));

/** A calendar in one of the zones (business hours or round the clock) and a start instant in it. */
const calendarAndStart = fc.constantFrom(...ZONES).chain((zone) =>
  fc
    .record({
      businessHoursOnly: fc.boolean(),
      days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
      a: time,
      b: time,
      start: instantNear(zone),
      holidayOffsets: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 6 }),
    })
    .filter(({ a, b }) => a.h * 60 + a.m !== b.h * 60 + b.m)
    .map(({ businessHoursOnly, days, a, b, start, holidayOffsets }) => {
      const [from, to] = a.h * 60 + a.m < b.h * 60 + b.m ? [a, b] : [b, a];
      const holidays = holidayOffsets.map(
        (d) => DateTime.fromMillis(start + d * DAY, { zone }).toISODate() ?? '',
      );
      const calendar: SlaCalendar = {
        timeZone: zone,
        businessHoursOnly,
        businessHours: { days, start: from.text, end: to.text },
        holidays,
      };
      return { calendar, start };
    }),
);

/** Pauses after `start`, as offsets in minutes and lengths. */
const pausesAfter = (start: number) =>
  fc
    .array(
      fc.tuple(fc.integer({ min: 0, max: 20 * 24 * 60 }), fc.integer({ min: 1, max: 3 * 24 * 60 })),
      { maxLength: 4 },
    )
    .map((list) =>
      list.map(([at, length]) => ({
        start: new Date(start + at * MINUTE).toISOString(),
        end: new Date(start + (at + length) * MINUTE).toISOString(),
      })),
    );

const iso = (ms: number) => new Date(ms).toISOString();
const minutes = fc.integer({ min: 0, max: 5000 });

describe('SLA working time (properties)', () => {
  it('never counts more working time than wall time', () => {
    fc.assert(
      fc.property(
        calendarAndStart.chain((c) =>
          fc.record({
            c: fc.constant(c),
            span: fc.integer({ min: 0, max: 30 * DAY }),
            pauses: pausesAfter(c.start),
          }),
        ),
        ({ c, span, pauses }) => {
          const used = workingMinutesBetween(iso(c.start), iso(c.start + span), c.calendar, pauses);
          assert.ok(used >= 0 && used <= span / MINUTE, `${used} of ${span / MINUTE}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives back the minutes added: measuring from the start to the due time', () => {
    fc.assert(
      fc.property(
        calendarAndStart.chain((c) =>
          fc.record({ c: fc.constant(c), m: minutes, pauses: pausesAfter(c.start) }),
        ),
        ({ c, m, pauses }) => {
          const due = addWorkingMinutes(iso(c.start), m, c.calendar, pauses);
          assert.ok(Date.parse(due) >= c.start);
          assert.equal(workingMinutesBetween(iso(c.start), due, c.calendar, pauses), m);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('only ever pushes the due time later with each pause', () => {
    fc.assert(
      fc.property(
        calendarAndStart.chain((c) =>
          fc.record({ c: fc.constant(c), m: minutes, pauses: pausesAfter(c.start) }),
        ),
        ({ c, m, pauses }) => {
          let previous = Date.parse(addWorkingMinutes(iso(c.start), m, c.calendar, []));
          for (let i = 1; i <= pauses.length; i++) {
            const due = Date.parse(
              addWorkingMinutes(iso(c.start), m, c.calendar, pauses.slice(0, i)),
            );
            assert.ok(due >= previous, `pause ${i} brought the due time forward`);
            previous = due;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts no time on a holiday, whatever the business hours', () => {
    fc.assert(
      fc.property(calendarAndStart, ({ calendar, start }) => {
        const holiday = {
          ...calendar,
          businessHoursOnly: true,
          holidays: [DateTime.fromMillis(start, { zone: calendar.timeZone }).toISODate() ?? ''],
        };
        const day = DateTime.fromMillis(start, { zone: calendar.timeZone }).startOf('day');
        const from = day.toUTC().toISO() ?? '';
        const to = day.plus({ days: 1 }).toUTC().toISO() ?? '';
        assert.equal(workingMinutesBetween(from, to, holiday), 0);
        const due = Date.parse(addWorkingMinutes(from, 1, holiday));
        assert.ok(due > Date.parse(to), 'the first working minute is after the holiday');
      }),
      { numRuns: 200 },
    );
  });

  it('makes a business day as long as its local hours, on the days the clocks change too', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), (zone) => {
        for (const change of CHANGES.get(zone) ?? []) {
          const day = DateTime.fromMillis(change, { zone }).startOf('day');
          const calendar: SlaCalendar = {
            timeZone: zone,
            businessHoursOnly: true,
            businessHours: { days: [...WEEKDAYS], start: '00:00', end: '23:59' },
            holidays: [],
          };
          const realMinutes =
            (day.set({ hour: 23, minute: 59 }).toMillis() - day.toMillis()) / MINUTE;
          const counted = workingMinutesBetween(
            day.toUTC().toISO() ?? '',
            day.plus({ days: 1 }).toUTC().toISO() ?? '',
            calendar,
          );
          assert.equal(counted, realMinutes);
          assert.ok(Math.abs(realMinutes - 1439) === 60, `${zone} ${day.toISODate()}`);
        }
      }),
      { numRuns: 2 },
    );
  });
});
