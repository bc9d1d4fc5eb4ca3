import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { ChangeRequestId, ObjectId, TenantId } from '../../../src/domain/shared/ids';
import {
  WEEKDAYS,
  type Blackout,
  type ScheduleConflict,
  type ScheduledChange,
  type WeeklyRule,
} from '../../../src/domain/schedule/schedule';
import { findConflicts } from '../../../src/domain/schedule/schedule.conflicts';
import {
  blackoutsBetween,
  checkScheduledSlot,
  nextFittingSlots,
  windowsBetween,
} from '../../../src/domain/schedule/schedule.policy';
import { validateScheduleSettings } from '../../../src/domain/schedule/schedule.settings';

/**
 * Window and blackout maths across zones and daylight-saving changes. Dates are drawn uniformly
 * from 2025–2027 or from the days the zone's clocks change (found with luxon), so every run
 * exercises skipped and repeated hours.
 */

const ZONES = [
  'Europe/London',
  'America/New_York',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'Australia/Lord_Howe',
] as const;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RANGE_START = Date.parse('2025-01-01T00:00:00Z');
const RANGE_END = Date.parse('2028-01-01T00:00:00Z');

/** Instants at which the zone's offset changes in 2025–2027 (to the hour). */
function transitions(zone: string): number[] {
  const out: number[] = [];
  let prev = DateTime.fromMillis(RANGE_START, { zone }).offset;
  for (let t = RANGE_START + HOUR; t < RANGE_END; t += HOUR) {
    const offset = DateTime.fromMillis(t, { zone }).offset;
    if (offset !== prev) out.push(t);
    prev = offset;
  }
  return out;
}
const TRANSITIONS = new Map(ZONES.map((z) => [z, transitions(z)]));

const zoneArb = fc.constantFrom(...ZONES);
/** An instant: uniform, or within two days of one of the zone's clock changes. */
const instantNear = (zone: string) => {
  const changes = TRANSITIONS.get(zone as (typeof ZONES)[number]) ?? [];
  const uniform = fc.integer({ min: RANGE_START, max: RANGE_END - 30 * DAY });
  if (changes.length === 0) return uniform;
  return fc.oneof(
    uniform,
    fc
      .tuple(fc.constantFrom(...changes), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
      .map(([t, d]) => t + d),
  );
};
const minuteOf = (t: number) => Math.floor(t / 60_000) * 60_000;

const hhmm = fc.oneof(
  fc.constantFrom(
    '00:30',
    '01:00',
    '01:30',
    '01:59',
    '02:00',
    '02:30',
    '02:45',
    '03:00',
    '03:15',
    '03:45',
    '22:00',
    '23:30',
  ),
  fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
);
const daysArb = fc.subarray([...WEEKDAYS], { minLength: 1 });
const weeklyArb = (id: string) =>
  fc.record({
    kind: fc.constant('weekly' as const),
    id: fc.constant(id),
    name: fc.constant(id),
    days: daysArb,
    start: hhmm,
    durationMinutes: fc.oneof(
      fc.integer({ min: 1, max: 24 * 60 }),
      fc.constantFrom(30, 60, 90, 240),
    ),
  });

const localDateTime = (t: number, zone: string) =>
  DateTime.fromMillis(t, { zone }).toFormat("yyyy-LL-dd'T'HH:mm");

/** Settings that pass validation: 1–2 weekly windows, a few blackouts, a notice period. */
const settingsArb = fc
  .record({
    zone: zoneArb,
    windows: fc.oneof(
      fc.tuple(weeklyArb('w1')).map((ws) => [...ws]),
      fc.tuple(weeklyArb('w1'), weeklyArb('w2')).map((ws) => [...ws]),
    ),
    weeklyBlackout: fc.option(weeklyArb('b-weekly'), { nil: undefined }),
    monthEnd: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    once: fc.option(
      fc.tuple(
        fc.integer({ min: RANGE_START, max: RANGE_END - 30 * DAY }),
        fc.integer({ min: 1, max: 72 * 60 }),
      ),
      { nil: undefined },
    ),
    noticeHours: fc.integer({ min: 48, max: 72 }),
  })
  .map((r) => {
    const blackouts: Blackout[] = [];
    if (r.weeklyBlackout) blackouts.push(r.weeklyBlackout);
    if (r.monthEnd)
      blackouts.push({
        kind: 'month_end',
        id: 'b-month',
        name: 'Month end',
        businessDays: r.monthEnd,
      });
    if (r.once) {
      const [start, minutes] = r.once;
      const s = localDateTime(start, 'UTC');
      const e = localDateTime(start + minutes * 60_000, 'UTC');
      blackouts.push({ kind: 'once', id: 'b-once', name: 'One-off', start: s, end: e });
    }
    return validateScheduleSettings({
      timeZone: r.zone,
      maintenanceWindows: r.windows,
      blackouts,
      noticeHours: r.noticeHours,
    });
  })
  .filter((r) => r.ok)
  .map((r) => (r.ok ? r.value : (undefined as never)));

/** Settings plus an instant the test asks about, drawn near the zone's clock changes. */
const withInstant = settingsArb.chain((s) =>
  instantNear(s.timeZone).map((t) => ({ settings: s, at: minuteOf(t) })),
);

function ok<T>(
  r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } },
): T {
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

const iso = (t: number) => new Date(t).toISOString();
const ms = (s: string) => Date.parse(s);

/** The instants [start, end) covered by merged intervals. */
function covers(intervals: readonly { start: string; end: string }[], start: number, end: number) {
  let cursor = start;
  for (const i of [...intervals].sort((a, b) => ms(a.start) - ms(b.start))) {
    if (ms(i.start) > cursor) break;
    cursor = Math.max(cursor, ms(i.end));
    if (cursor >= end) return true;
  }
  return cursor >= end;
}

describe('schedule policy properties', () => {
  it('returns windows inside the range, sorted, apart per rule, each instant inside its local span', () => {
    fc.assert(
      fc.property(
        withInstant,
        fc.integer({ min: 1, max: 10 * 24 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 6 }),
        ({ settings, at }, hours, fractions) => {
          const to = at + hours * HOUR;
          const windows = ok(windowsBetween(settings, iso(at), iso(to)));
          const rules = new Map(settings.maintenanceWindows.map((w) => [w.id, w as WeeklyRule]));
          const lastEnd = new Map<string, number>();
          let lastStart = -Infinity;
          for (const w of windows) {
            const [s, e] = [ms(w.start), ms(w.end)];
            assert.ok(at <= s && s < e && e <= to, 'inside the range, not empty');
            assert.ok(s >= lastStart, 'sorted by start');
            lastStart = s;
            const occStart = ms(w.occurrence.start);
            assert.ok(occStart >= (lastEnd.get(w.ruleId) ?? -Infinity), 'no overlap within a rule');
            lastEnd.set(w.ruleId, ms(w.occurrence.end));
            const rule = rules.get(w.ruleId);
            assert.ok(rule);
            const local = DateTime.fromISO(w.localStart, { zone: 'utc' });
            assert.ok(rule.days.includes(WEEKDAYS[local.weekday - 1]!), 'starts on a rule weekday');
            assert.equal(local.toFormat('HH:mm'), rule.start);
            assert.equal(
              local.plus({ minutes: rule.durationMinutes }).toFormat("yyyy-LL-dd'T'HH:mm"),
              w.localEnd,
            );
            for (const f of [0, ...fractions]) {
              const t = Math.min(e - 1, s + Math.floor(f * (e - s)));
              const wall = localDateTime(t, settings.timeZone);
              assert.ok(
                w.localStart <= wall && wall < w.localEnd,
                `${iso(t)} reads ${wall} in ${settings.timeZone}, outside ${w.localStart}–${w.localEnd}`,
              );
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('accepts a normal slot only inside a window, outside every blackout and after the notice period', () => {
    fc.assert(
      fc.property(
        withInstant,
        fc.integer({ min: 1, max: 6 * 60 }),
        fc.integer({ min: -6 * 60, max: 5 * 24 * 60 }),
        fc.boolean(),
        ({ settings, at }, minutes, shift, fromSuggestion) => {
          const suggestion = fromSuggestion
            ? ok(
                nextFittingSlots(settings, minutes, iso(at + shift * 60_000), 1, {
                  horizonDays: 60,
                }),
              )[0]
            : undefined;
          const start = suggestion ? ms(suggestion.start) : at + shift * 60_000;
          const end = start + minutes * 60_000;
          const result = checkScheduledSlot(
            settings,
            { start: iso(start), end: iso(end) },
            'normal',
            iso(at),
          );
          if (!result.ok) {
            assert.equal(result.error.code, 'SCHED.SLOT_REFUSED');
            return;
          }
          assert.ok(start >= at + settings.noticeHours * HOUR, 'notice period respected');
          const windows = ok(windowsBetween(settings, iso(start), iso(end)));
          assert.ok(covers(windows, start, end), 'inside maintenance windows');
          assert.deepEqual(ok(blackoutsBetween(settings, iso(start), iso(end))), [], 'no blackout');
          assert.equal(result.value.notice.kind, 'notice_card');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('accepts every suggested slot for a normal change', () => {
    fc.assert(
      fc.property(withInstant, fc.integer({ min: 1, max: 8 * 60 }), ({ settings, at }, minutes) => {
        const from = at + settings.noticeHours * HOUR;
        for (const s of ok(nextFittingSlots(settings, minutes, iso(from), 2, { horizonDays: 60 })))
          ok(checkScheduledSlot(settings, s, 'normal', iso(at)));
      }),
      { numRuns: 60 },
    );
  });

  it('lets an emergency through windows, blackouts and notice whenever it does not start in the past', () => {
    fc.assert(
      fc.property(
        withInstant,
        fc.integer({ min: 0, max: 14 * 24 * 60 }),
        fc.integer({ min: 1, max: 12 * 60 }),
        ({ settings, at }, offset, minutes) => {
          const start = at + offset * 60_000;
          const slot = { start: iso(start), end: iso(start + minutes * 60_000) };
          const check = ok(checkScheduledSlot(settings, slot, 'emergency', iso(at)));
          assert.equal(check.notice.kind, 'immediate');
          const normal = checkScheduledSlot(settings, slot, 'normal', iso(at));
          const refusedFor = normal.ok
            ? []
            : ((normal.error.details.codes as string[]) ?? []).slice().sort();
          assert.deepEqual(check.waived.map((p) => p.code).sort(), refusedFor);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('finds overlap and dependency conflicts symmetrically', () => {
    const tech = (n: number) => ({
      tid: 'a0000000-0000-4000-8000-000000000001' as TenantId,
      oid: `b0000000-0000-4000-8000-00000000000${n}` as ObjectId,
    });
    const base = Date.parse('2026-10-24T20:00:00Z');
    const changeArb = (id: string, other: string) =>
      fc
        .record({
          client: fc.constantFrom('CONTOSO', 'FABRIKAM'),
          tech: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
          start: fc.integer({ min: 0, max: 24 * 4 }),
          quarters: fc.integer({ min: 1, max: 16 }),
          depends: fc.boolean(),
        })
        .map(
          (r): ScheduledChange => ({
            id: id as ChangeRequestId,
            client: r.client,
            start: iso(base + r.start * 15 * 60_000),
            end: iso(base + (r.start + r.quarters) * 15 * 60_000),
            ...(r.tech === undefined ? {} : { technician: tech(r.tech) }),
            ...(r.depends ? { dependsOn: [other as ChangeRequestId] } : {}),
          }),
        );
    const kinds = (cs: readonly ScheduleConflict[]) => cs.map((c) => c.kind).sort();
    fc.assert(
      fc.property(
        changeArb('CONTOSO-1', 'CONTOSO-2'),
        changeArb('CONTOSO-2', 'CONTOSO-1'),
        (a, b) => {
          const ab = ok(findConflicts(a, [b]));
          const ba = ok(findConflicts(b, [a]));
          assert.deepEqual(kinds(ab), kinds(ba));
          const overlap = ms(a.start) < ms(b.end) && ms(b.start) < ms(a.end);
          assert.equal(
            ab.some((c) => c.kind === 'client_overlap'),
            overlap && a.client === b.client,
          );
          assert.equal(
            ab.some((c) => c.kind === 'technician_double_booked'),
            overlap && a.technician !== undefined && a.technician.oid === b.technician?.oid,
          );
          for (const c of ab) if ('otherId' in c) assert.equal(c.otherId, b.id);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every accepted normal change clear of blackouts in a settings-aware conflict check', () => {
    fc.assert(
      fc.property(withInstant, fc.integer({ min: 15, max: 240 }), ({ settings, at }, minutes) => {
        const [slot] = ok(nextFittingSlots(settings, minutes, iso(at), 1, { horizonDays: 60 }));
        if (!slot) return;
        const candidate: ScheduledChange = {
          id: 'CONTOSO-9' as ChangeRequestId,
          client: 'CONTOSO',
          ...slot,
        };
        const conflicts = ok(findConflicts(candidate, [], { settings }));
        assert.deepEqual(conflicts, []);
      }),
      { numRuns: 60 },
    );
  });
});
