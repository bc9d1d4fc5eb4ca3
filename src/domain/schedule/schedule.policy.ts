import { DateTime } from 'luxon';
import type { ChangeClass } from '../change-request/change-class';
import type { DomainError } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';
import {
  SLOT_MAX_MINUTES,
  WEEKDAYS,
  type Blackout,
  type MaintenanceWindow,
  type NoticePlan,
  type RuleOccurrence,
  type ScheduleSettings,
  type Slot,
  type UtcInterval,
  type WeeklyRule,
  type WindowOccurrence,
} from './schedule';
import { ScheduleErrors, SlotRefusedError } from './schedule.errors';
import {
  DAY_MS,
  MINUTE_MS,
  formatLocal,
  formatPlain,
  localMidnight,
  parseInstant,
  parseLocalDateTime,
  parseLocalTime,
  plainWeekday,
  resolveBlackout,
  resolveWindow,
  toIsoUtc,
} from './schedule.time';

const HOUR_MS = 60 * MINUTE_MS;

/**
 * Maintenance windows, blackouts, advance notice and slot suggestions: pure functions of a client's
 * `ScheduleSettings` (validated by `validateScheduleSettings`) and instants passed in.
 * @remarks Daylight-saving handling is described in `schedule.time.ts`: windows shrink to what the
 * clocks show, blackouts grow to cover it. Rules are wall-clock rules: "22:00 for 4 h" is 22:00 to
 * 02:00 on the client's clocks, so it lasts 3 h on the night clocks go forward and 5 h when they go back.
 */

/** How far ahead `nextFittingSlots` looks before giving up. */
export const SUGGESTION_HORIZON_DAYS = 400;
/** How far ahead a refusal looks for slots to suggest instead. */
export const REFUSAL_SUGGESTION_HORIZON_DAYS = 92;
/** The most a clock change can lengthen a wall-clock window (real fall-backs are at most 2 h). */
const DST_SLACK_MS = 3 * HOUR_MS;
const SUGGESTION_CHUNK_DAYS = 35;

interface Span {
  readonly start: number;
  readonly end: number;
}

interface Occ extends Span {
  readonly ruleId: string;
  readonly name: string;
  readonly plainStart: number;
  readonly plainEnd: number;
}

type Resolver = (s: number, e: number, zone: string) => Span | undefined;

function weeklyOccurrences(
  rule: WeeklyRule,
  zone: string,
  from: number,
  to: number,
  resolve: Resolver,
): Occ[] {
  const startMinutes = parseLocalTime(rule.start) ?? 0;
  const out: Occ[] = [];
  // Start far enough back that an occurrence begun before `from` and still running is found.
  const firstDay =
    localMidnight(from, zone) - (Math.ceil(rule.durationMinutes / (24 * 60)) + 1) * DAY_MS;
  const lastDay = localMidnight(to, zone) + DAY_MS;
  for (let day = firstDay; day <= lastDay; day += DAY_MS) {
    const weekday = WEEKDAYS[plainWeekday(day) - 1];
    if (!weekday || !rule.days.includes(weekday)) continue;
    const plainStart = day + startMinutes * MINUTE_MS;
    const plainEnd = plainStart + rule.durationMinutes * MINUTE_MS;
    const span = resolve(plainStart, plainEnd, zone);
    if (span && span.start < to && span.end > from)
      out.push({ ...span, ruleId: rule.id, name: rule.name, plainStart, plainEnd });
  }
  return out;
}

function onceOccurrences(
  rule: { id: string; name: string; start: string; end: string },
  zone: string,
  from: number,
  to: number,
  resolve: Resolver,
): Occ[] {
  const plainStart = parseLocalDateTime(rule.start);
  const plainEnd = parseLocalDateTime(rule.end);
  if (plainStart === undefined || plainEnd === undefined) return [];
  const span = resolve(plainStart, plainEnd, zone);
  return span && span.start < to && span.end > from
    ? [{ ...span, ruleId: rule.id, name: rule.name, plainStart, plainEnd }]
    : [];
}

function monthEndOccurrences(
  rule: { id: string; name: string; businessDays: number },
  zone: string,
  from: number,
  to: number,
): Occ[] {
  const out: Occ[] = [];
  let month = DateTime.fromMillis(localMidnight(from, zone), { zone: 'utc' })
    .startOf('month')
    .minus({ months: 1 });
  const last = DateTime.fromMillis(localMidnight(to, zone), { zone: 'utc' }).startOf('month');
  while (month <= last) {
    const next = month.plus({ months: 1 });
    let day = next.minus({ days: 1 });
    let counted = 0;
    for (;;) {
      if (day.weekday <= 5) counted++;
      if (counted === rule.businessDays) break;
      day = day.minus({ days: 1 });
    }
    const plainStart = day.toMillis();
    const plainEnd = next.toMillis();
    const span = resolveBlackout(plainStart, plainEnd, zone);
    if (span && span.start < to && span.end > from)
      out.push({ ...span, ruleId: rule.id, name: rule.name, plainStart, plainEnd });
    month = next;
  }
  return out;
}

const byStart = (a: Span, b: Span) => a.start - b.start || a.end - b.end;

function windowOccurrences(settings: ScheduleSettings, from: number, to: number): Occ[] {
  return settings.maintenanceWindows
    .flatMap((w: MaintenanceWindow) =>
      w.kind === 'weekly'
        ? weeklyOccurrences(w, settings.timeZone, from, to, resolveWindow)
        : onceOccurrences(w, settings.timeZone, from, to, resolveWindow),
    )
    .sort(byStart);
}

function blackoutOccurrences(settings: ScheduleSettings, from: number, to: number): Occ[] {
  const zone = settings.timeZone;
  return settings.blackouts
    .flatMap((b: Blackout) => {
      switch (b.kind) {
        case 'weekly':
          return weeklyOccurrences(b, zone, from, to, resolveBlackout);
        case 'once':
          return onceOccurrences(b, zone, from, to, resolveBlackout);
        case 'month_end':
          return monthEndOccurrences(b, zone, from, to);
      }
    })
    .sort(byStart);
}

/** Union of spans, touching ones joined: adjacent windows form one longer window. */
function merge(spans: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const s of [...spans].sort(byStart)) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end)
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, s.end) };
    else out.push({ start: s.start, end: s.end });
  }
  return out;
}

/** `spans` minus `holes` (both sorted and merged). */
function subtract(spans: readonly Span[], holes: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    let cursor = s.start;
    for (const h of holes) {
      if (h.end <= cursor || h.start >= s.end) continue;
      if (h.start > cursor) out.push({ start: cursor, end: h.start });
      cursor = Math.max(cursor, h.end);
    }
    if (cursor < s.end) out.push({ start: cursor, end: s.end });
  }
  return out;
}

const toOccurrence = (o: Occ): RuleOccurrence => ({
  ruleId: o.ruleId,
  name: o.name,
  start: toIsoUtc(o.start),
  end: toIsoUtc(o.end),
  localStart: formatPlain(o.plainStart),
  localEnd: formatPlain(o.plainEnd),
});

const interval = (s: Span): UtcInterval => ({ start: toIsoUtc(s.start), end: toIsoUtc(s.end) });

function range(fromUtc: string | number, toUtc: string | number): Result<Span, DomainError> {
  const from = parseInstant(fromUtc);
  const to = parseInstant(toUtc);
  if (from === undefined) return err(ScheduleErrors.invalidInstant('from'));
  if (to === undefined) return err(ScheduleErrors.invalidInstant('to'));
  return to < from
    ? err(ScheduleErrors.invalidSlot('the range ends before it starts'))
    : ok({ start: from, end: to });
}

/**
 * The maintenance windows that fall in `[fromUtc, toUtc)`, clipped to it, sorted by start, for a
 * calendar. Each keeps its whole `occurrence` and the local span it stands for.
 */
export function windowsBetween(
  settings: ScheduleSettings,
  fromUtc: string | number,
  toUtc: string | number,
): Result<WindowOccurrence[], DomainError> {
  const r = range(fromUtc, toUtc);
  if (!r.ok) return r;
  const { start: from, end: to } = r.value;
  return ok(
    windowOccurrences(settings, from, to).map((o) => ({
      ...toOccurrence(o),
      start: toIsoUtc(Math.max(o.start, from)),
      end: toIsoUtc(Math.min(o.end, to)),
      occurrence: interval(o),
    })),
  );
}

/** The blackouts that overlap `[fromUtc, toUtc)`, whole (not clipped), sorted by start. */
export function blackoutsBetween(
  settings: ScheduleSettings,
  fromUtc: string | number,
  toUtc: string | number,
): Result<RuleOccurrence[], DomainError> {
  const r = range(fromUtc, toUtc);
  if (!r.ok) return r;
  return ok(blackoutOccurrences(settings, r.value.start, r.value.end).map(toOccurrence));
}

/** Free time: merged windows minus blackouts, between `from` and `to`. */
function freeSpans(settings: ScheduleSettings, from: number, to: number): Span[] {
  const windows = merge(windowOccurrences(settings, from, to));
  const blackouts = merge(blackoutOccurrences(settings, from, to));
  return subtract(windows, blackouts);
}

/**
 * An upper bound on how long any stretch of window can last, so a search for a slot no window can
 * hold stops at once instead of scanning the horizon. Exact for weekly rules on the clocks, plus
 * DST slack; unbounded when there are one-off windows (they may join weekly ones).
 */
function longestWindowMs(settings: ScheduleSettings): number {
  const weekMs = 7 * DAY_MS;
  const spans: Span[] = [];
  for (const w of settings.maintenanceWindows) {
    if (w.kind !== 'weekly') return Infinity;
    const start = (parseLocalTime(w.start) ?? 0) * MINUTE_MS;
    for (const d of w.days)
      for (const week of [0, 1, 2]) {
        const s = week * weekMs + WEEKDAYS.indexOf(d) * DAY_MS + start;
        spans.push({ start: s, end: s + w.durationMinutes * MINUTE_MS });
      }
  }
  const longest = Math.max(0, ...merge(spans).map((m) => m.end - m.start));
  return longest >= 2 * weekMs ? Infinity : longest + DST_SLACK_MS;
}

function fitting(
  settings: ScheduleSettings,
  durationMs: number,
  from: number,
  count: number,
  horizonDays = SUGGESTION_HORIZON_DAYS,
): Span[] {
  const out: Span[] = [];
  if (durationMs > longestWindowMs(settings)) return out;
  const horizon = from + horizonDays * DAY_MS;
  let chunkStart = from;
  // Chunks overlap by the longest possible window so one spanning a chunk boundary is seen whole.
  while (out.length < count && chunkStart < horizon) {
    const chunkEnd = chunkStart + SUGGESTION_CHUNK_DAYS * DAY_MS;
    for (const free of freeSpans(settings, chunkStart, chunkEnd + 8 * DAY_MS)) {
      const start = Math.max(free.start, from);
      const last = out[out.length - 1];
      if (start < chunkStart || start >= chunkEnd || (last && start < last.end)) continue;
      if (free.end - start >= durationMs) out.push({ start, end: start + durationMs });
      if (out.length >= count) break;
    }
    chunkStart = chunkEnd;
  }
  return out;
}

/** Options for `nextFittingSlots`. */
export interface NextFittingSlotsOptions {
  /** Days ahead of `fromUtc` to search (1–400, default `SUGGESTION_HORIZON_DAYS`). */
  readonly horizonDays?: number;
}

/**
 * The next `count` slots of `durationMinutes` that start at or after `fromUtc`, inside a
 * maintenance window and outside every blackout: the earliest start in each free stretch of window.
 * Fewer (or none) come back if the rules allow no more within the horizon.
 */
export function nextFittingSlots(
  settings: ScheduleSettings,
  durationMinutes: number,
  fromUtc: string | number,
  count: number,
  options: NextFittingSlotsOptions = {},
): Result<UtcInterval[], DomainError> {
  const from = parseInstant(fromUtc);
  if (from === undefined) return err(ScheduleErrors.invalidInstant('from'));
  if (
    !Number.isInteger(durationMinutes) ||
    durationMinutes < 1 ||
    durationMinutes > SLOT_MAX_MINUTES
  )
    return err(
      ScheduleErrors.invalidSlot(`the length must be 1 to ${SLOT_MAX_MINUTES} whole minutes`),
    );
  if (!Number.isInteger(count) || count < 0 || count > 50)
    return err(ScheduleErrors.invalidSlot('ask for 0 to 50 suggestions'));
  const horizonDays = options.horizonDays ?? SUGGESTION_HORIZON_DAYS;
  if (!Number.isInteger(horizonDays) || horizonDays < 1 || horizonDays > SUGGESTION_HORIZON_DAYS)
    return err(
      ScheduleErrors.invalidSlot(`search 1 to ${SUGGESTION_HORIZON_DAYS} whole days ahead`),
    );
  return ok(fitting(settings, durationMinutes * MINUTE_MS, from, count, horizonDays).map(interval));
}

function parseSlot(slot: Slot): Result<Span, DomainError> {
  const start = parseInstant(slot.start);
  const end = parseInstant(slot.end);
  if (start === undefined) return err(ScheduleErrors.invalidInstant('start'));
  if (end === undefined) return err(ScheduleErrors.invalidInstant('end'));
  if (end <= start) return err(ScheduleErrors.invalidSlot('it must end after it starts'));
  if (end - start > SLOT_MAX_MINUTES * MINUTE_MS)
    return err(ScheduleErrors.invalidSlot('a change may book at most 7 days'));
  return ok({ start, end });
}

/** What `checkScheduledSlot` accepted, and what it let pass because the change is an emergency. */
export interface SlotCheck {
  readonly changeClass: ChangeClass;
  readonly slot: UtcInterval;
  /** The (merged) maintenance window the slot lies in, when it lies in one. */
  readonly window?: UtcInterval;
  /** Emergency only: the refusals a normal change would have had (cards say so). */
  readonly waived: readonly DomainError[];
  readonly notice: NoticePlan;
}

const SUGGESTIONS = 3;

/**
 * May a change of `changeClass` be scheduled in `slot`, seen at `now`?
 * - normal: inside a maintenance window, outside every blackout, at least `noticeHours` after `now`;
 * - standard: inside a window and outside blackouts, no notice (it goes in the monthly summary);
 * - emergency: windows and notice are waived, and blackouts too unless `emergencyExempt` is false;
 *   the waived refusals come back in `waived` so the card can say so.
 * A slot starting before `now` is refused for every class.
 * @returns the check, or `SlotRefusedError` listing every problem with its own code and suggestions.
 */
export function checkScheduledSlot(
  settings: ScheduleSettings,
  slot: Slot,
  changeClass: ChangeClass,
  now: string | number,
): Result<SlotCheck, DomainError> {
  return checkSlot(settings, slot, changeClass, now, { notice: true, past: true });
}

/**
 * May work on a change of `changeClass` run in `slot` (from now until its planned end)? The window
 * and blackout rules of `checkScheduledSlot`, without notice (given when it was scheduled) or the
 * past check, for the moment execution starts (DESIGN.md §2: refused outside its window unless
 * emergency).
 */
export function checkExecutionSlot(
  settings: ScheduleSettings,
  slot: Slot,
  changeClass: ChangeClass,
  now: string | number,
): Result<SlotCheck, DomainError> {
  return checkSlot(settings, slot, changeClass, now, { notice: false, past: false });
}

function checkSlot(
  settings: ScheduleSettings,
  slot: Slot,
  changeClass: ChangeClass,
  now: string | number,
  rules: { readonly notice: boolean; readonly past: boolean },
): Result<SlotCheck, DomainError> {
  const parsed = parseSlot(slot);
  if (!parsed.ok) return parsed;
  const at = parseInstant(now);
  if (at === undefined) return err(ScheduleErrors.invalidInstant('now'));
  const s = parsed.value;
  const duration = s.end - s.start;
  const zone = settings.timeZone;
  const fmt = (iso: string) => formatLocal(parseInstant(iso) ?? 0, zone);
  const noticeMs = settings.noticeHours * HOUR_MS;
  const earliest = rules.notice && changeClass === 'normal' ? at + noticeMs : at;
  const suggest = () =>
    fitting(
      settings,
      duration,
      Math.max(earliest, at),
      SUGGESTIONS,
      REFUSAL_SUGGESTION_HORIZON_DAYS,
    ).map(interval);

  const hard: DomainError[] = [];
  const waivable: DomainError[] = [];
  const blackoutProblems: DomainError[] = [];
  if (rules.past && s.start < at) hard.push(ScheduleErrors.inPast(slot, toIsoUtc(at)));

  const window = merge(windowOccurrences(settings, s.start, s.end)).find(
    (w) => w.start <= s.start && s.end <= w.end,
  );
  let suggestions: UtcInterval[] | undefined;
  if (!window) {
    suggestions = suggest();
    waivable.push(ScheduleErrors.outsideWindow(suggestions, fmt));
  }
  for (const b of blackoutOccurrences(settings, s.start, s.end))
    blackoutProblems.push(ScheduleErrors.inBlackout(toOccurrence(b), fmt));
  if (rules.notice && s.start < at + noticeMs && changeClass !== 'standard') {
    const first = fitting(settings, duration, at + noticeMs, 1, REFUSAL_SUGGESTION_HORIZON_DAYS)[0];
    const problem = ScheduleErrors.shortNotice(
      settings.noticeHours,
      toIsoUtc(at + noticeMs),
      first && interval(first),
      fmt,
    );
    waivable.push(problem);
  }

  const emergency = changeClass === 'emergency';
  const problems = emergency
    ? [...hard, ...(settings.emergencyExempt ? [] : blackoutProblems)]
    : [...hard, ...waivable, ...blackoutProblems];
  if (problems.length > 0) return err(new SlotRefusedError(problems, suggestions ?? suggest()));
  return ok({
    changeClass,
    slot: interval(s),
    ...(window ? { window: interval(window) } : {}),
    waived: emergency ? [...waivable, ...(settings.emergencyExempt ? blackoutProblems : [])] : [],
    notice: noticeFor(settings, s.start, changeClass),
  });
}

function noticeFor(
  settings: ScheduleSettings,
  start: number,
  changeClass: ChangeClass,
): NoticePlan {
  switch (changeClass) {
    case 'normal':
      return {
        kind: 'notice_card',
        dueAt: toIsoUtc(start - settings.noticeHours * HOUR_MS),
        noticeHours: settings.noticeHours,
      };
    case 'emergency':
      return { kind: 'immediate' };
    case 'standard':
      return { kind: 'monthly_summary' };
  }
}

/**
 * When the client must hear about a change in `slot`: for a normal change the notice card is due
 * `noticeHours` (elapsed hours, not clock hours) before the start; emergency → immediately;
 * standard → the monthly summary only.
 */
export function noticeDueAt(
  settings: ScheduleSettings,
  slot: Slot,
  changeClass: ChangeClass = 'normal',
): Result<NoticePlan, DomainError> {
  const parsed = parseSlot(slot);
  return parsed.ok ? ok(noticeFor(settings, parsed.value.start, changeClass)) : parsed;
}
