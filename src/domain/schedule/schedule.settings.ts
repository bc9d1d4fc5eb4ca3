import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../shared/errors';
import { toIssues } from '../shared/form-fields';
import { err, ok, type Result } from '../shared/result';
import {
  NOTICE_HOURS_DEFAULT,
  NOTICE_HOURS_MAX,
  NOTICE_HOURS_MIN,
  ONE_OFF_BLACKOUT_MAX_DAYS,
  ONE_OFF_WINDOW_MAX_MINUTES,
  WEEKDAYS,
  WEEKLY_DURATION_MAX_MINUTES,
  type Blackout,
  type MaintenanceWindow,
  type ScheduleSettings,
  type WeeklyRule,
} from './schedule';
import {
  DAY_MS,
  MINUTE_MS,
  isValidZone,
  parseLocalDateTime,
  parseLocalTime,
  plainWeekday,
} from './schedule.time';

const MAX_WINDOWS = 50;
const MAX_BLACKOUTS = 200;
const WEEK_MINUTES = 7 * 24 * 60;

const id = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'may use letters, digits, dot, dash and underscore only');
const name = z.string().trim().min(1, 'is required').max(80, 'must be at most 80 characters');
const localTime = z
  .string()
  .trim()
  .refine((v) => parseLocalTime(v) !== undefined, 'must be a local time like 22:00');
const localDateTime = z
  .string()
  .trim()
  .refine(
    (v) => parseLocalDateTime(v) !== undefined,
    'must be a local date and time like 2026-12-24T18:00',
  );
const days = z
  .array(z.enum(WEEKDAYS, { message: `must be one of ${WEEKDAYS.join(', ')}` }))
  .min(1, 'must name at least one weekday')
  .refine((d) => new Set(d).size === d.length, 'must not repeat a weekday');

const weekly = z.object({
  kind: z.literal('weekly'),
  id,
  name,
  days,
  start: localTime,
  durationMinutes: z
    .number({ message: 'must be a number of minutes' })
    .int('must be whole minutes')
    .min(1, 'must be at least 1 minute (a window cannot be empty)')
    .max(WEEKLY_DURATION_MAX_MINUTES, 'must be at most 7 days (10080 minutes)'),
});

const once = z.object({
  kind: z.literal('once'),
  id,
  name,
  start: localDateTime,
  end: localDateTime,
});

const monthEnd = z.object({
  kind: z.literal('month_end'),
  id,
  name,
  businessDays: z
    .number({ message: 'must be a number of business days' })
    .int('must be whole days')
    .min(1, 'must be at least 1 business day')
    .max(10, 'must be at most 10 business days'),
});

const maintenanceWindow = z.discriminatedUnion('kind', [weekly, once]);
const blackout = z.discriminatedUnion('kind', [weekly, once, monthEnd]);

const Settings = z.object({
  timeZone: z
    .string({ message: 'is required' })
    .trim()
    .min(1, 'is required')
    .refine(isValidZone, 'must be an IANA time zone like Europe/London or America/New_York'),
  maintenanceWindows: z
    .array(maintenanceWindow)
    .max(MAX_WINDOWS, `must list at most ${MAX_WINDOWS} windows`)
    .default([]),
  blackouts: z
    .array(blackout)
    .max(MAX_BLACKOUTS, `must list at most ${MAX_BLACKOUTS} blackouts`)
    .default([]),
  noticeHours: z
    .number({ message: 'must be a number of hours' })
    .int('must be whole hours')
    .min(NOTICE_HOURS_MIN, `must be between ${NOTICE_HOURS_MIN} and ${NOTICE_HOURS_MAX} hours`)
    .max(NOTICE_HOURS_MAX, `must be between ${NOTICE_HOURS_MIN} and ${NOTICE_HOURS_MAX} hours`)
    .default(NOTICE_HOURS_DEFAULT),
  emergencyExempt: z.boolean({ message: 'must be true or false' }).default(true),
});

/**
 * Parse and check a client's schedule settings; every problem comes back at once, by field path
 * (`maintenanceWindows.1.start`). Beyond the shape: ids are unique, and maintenance windows may not
 * overlap each other or themselves on the client's clocks (merge them instead).
 */
export function validateScheduleSettings(raw: unknown): Result<ScheduleSettings, ValidationError> {
  const parsed = Settings.safeParse(raw);
  if (!parsed.success) return err(new ValidationError(toIssues(parsed.error, 'settings')));
  const settings: ScheduleSettings = parsed.data;
  const ranges = [
    ...oneOffRanges(
      'maintenanceWindows',
      settings.maintenanceWindows,
      ONE_OFF_WINDOW_MAX_MINUTES,
      '7 days',
    ),
    ...oneOffRanges(
      'blackouts',
      settings.blackouts,
      ONE_OFF_BLACKOUT_MAX_DAYS * 24 * 60,
      `${ONE_OFF_BLACKOUT_MAX_DAYS} days`,
    ),
  ];
  // Overlap checks need sane one-off ranges, so they wait until those are fixed.
  const issues = [
    ...ranges,
    ...duplicateIds(settings),
    ...(ranges.length > 0 ? [] : overlappingWindows(settings.maintenanceWindows)),
  ];
  return issues.length > 0 ? err(new ValidationError(issues)) : ok(settings);
}

function oneOffRanges(
  list: string,
  items: readonly (MaintenanceWindow | Blackout)[],
  maxMinutes: number,
  maxText: string,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  items.forEach((item, i) => {
    if (item.kind !== 'once') return;
    const s = parseLocalDateTime(item.start) ?? 0;
    const e = parseLocalDateTime(item.end) ?? 0;
    if (e <= s) issues.push({ field: `${list}.${i}.end`, message: 'must be after the start' });
    else if (e - s > maxMinutes * MINUTE_MS)
      issues.push({
        field: `${list}.${i}.end`,
        message: `must be at most ${maxText} after the start`,
      });
  });
  return issues;
}

function duplicateIds(settings: ScheduleSettings): FieldIssue[] {
  const seen = new Map<string, string>();
  const issues: FieldIssue[] = [];
  const visit = (list: string, i: number, value: string) => {
    const first = seen.get(value);
    if (first) issues.push({ field: `${list}.${i}.id`, message: `repeats the id of ${first}` });
    else seen.set(value, `${list}.${i}`);
  };
  settings.maintenanceWindows.forEach((w, i) => visit('maintenanceWindows', i, w.id));
  settings.blackouts.forEach((b, i) => visit('blackouts', i, b.id));
  return issues;
}

/** Plain (wall-clock) intervals in minutes of a reference week, Monday 00:00 = 0. */
function weekSpans(rule: WeeklyRule): Array<[number, number]> {
  const start = parseLocalTime(rule.start) ?? 0;
  return rule.days.map((d) => {
    const s = WEEKDAYS.indexOf(d) * 24 * 60 + start;
    return [s, s + rule.durationMinutes];
  });
}

const overlaps = (a: readonly [number, number], b: readonly [number, number]) =>
  a[0] < b[1] && b[0] < a[1];

/** Does any pair of spans (one week apart allowed) overlap? Self-pairs only across different entries. */
function weeklyClash(a: WeeklyRule, b: WeeklyRule, same: boolean): boolean {
  const sa = weekSpans(a);
  const sb = weekSpans(b);
  return sa.some((x, i) =>
    sb.some((y, j) =>
      [-WEEK_MINUTES, 0, WEEK_MINUTES].some(
        (shift) => !(same && i === j && shift === 0) && overlaps(x, [y[0] + shift, y[1] + shift]),
      ),
    ),
  );
}

/** Plain spans (minutes since the epoch, as if UTC) of a one-off window. */
function onceSpan(w: { start: string; end: string }): [number, number] {
  return [
    (parseLocalDateTime(w.start) ?? 0) / MINUTE_MS,
    (parseLocalDateTime(w.end) ?? 0) / MINUTE_MS,
  ];
}

/** Weekly occurrences (plain minutes) near a one-off span, for the clash check. */
function weeklyNear(rule: WeeklyRule, span: [number, number]): Array<[number, number]> {
  const start = parseLocalTime(rule.start) ?? 0;
  const out: Array<[number, number]> = [];
  const firstDay = Math.floor(span[0] / (24 * 60)) - 8;
  const lastDay = Math.floor(span[1] / (24 * 60)) + 1;
  for (let day = firstDay; day <= lastDay; day++) {
    const weekday = WEEKDAYS[plainWeekday(day * DAY_MS) - 1];
    if (weekday && rule.days.includes(weekday)) {
      const s = day * 24 * 60 + start;
      out.push([s, s + rule.durationMinutes]);
    }
  }
  return out;
}

function clash(a: MaintenanceWindow, b: MaintenanceWindow, same: boolean): boolean {
  if (a.kind === 'weekly' && b.kind === 'weekly') return weeklyClash(a, b, same);
  if (same) return false;
  if (a.kind === 'once' && b.kind === 'once') return overlaps(onceSpan(a), onceSpan(b));
  const [rule, once] =
    a.kind === 'weekly' ? [a, b as typeof b & { kind: 'once' }] : [b as WeeklyRule, a];
  const span = onceSpan(once);
  return weeklyNear(rule, span).some((x) => overlaps(x, span));
}

function overlappingWindows(windows: readonly MaintenanceWindow[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  windows.forEach((w, i) => {
    if (clash(w, w, true))
      issues.push({
        field: `maintenanceWindows.${i}.durationMinutes`,
        message: `makes "${w.name}" overlap itself from one day to the next; shorten it`,
      });
    for (let j = 0; j < i; j++) {
      const other = windows[j];
      if (other && clash(other, w, false))
        issues.push({
          field: `maintenanceWindows.${i}`,
          message: `"${w.name}" overlaps "${other.name}" (maintenanceWindows.${j}); merge them or move one`,
        });
    }
  });
  return issues;
}
