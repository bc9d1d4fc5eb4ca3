import { DateTime } from 'luxon';
import type { ChangeRequest, ChangeStatus } from '../change-request/change-request';
import type { ChangeType } from '../change-request/change-request.payloads';
import type { UtcInterval } from '../schedule/schedule';
import { parseLocalTime } from '../schedule/schedule.time';
import {
  AT_RISK_SHARE,
  type BusinessHours,
  type ClientSlaSettings,
  type SlaClock,
  type SlaSnapshot,
  type SlaState,
  type SlaTargets,
} from './sla';

/**
 * Cabinet's SLA targets per change type, for clients that set none (issue 5). One business day is
 * 510 minutes: the default business hours, 09:00–17:30.
 *
 * | type           | acknowledge          | resolve                | clock          |
 * |----------------|----------------------|------------------------|----------------|
 * | incident       | 15 min               | 4 h                    | 24×7           |
 * | offboard       | 1 h                  | 1 business day (510)   | business hours |
 * | access_change  | 2 h                  | 1 business day (510)   | business hours |
 * | licence_change | 4 h                  | 1 business day (510)   | business hours |
 * | new_user       | 4 h                  | 3 business days (1530) | business hours |
 * | general        | 1 business day (510) | 5 business days (2550) | business hours |
 *
 * @remarks Incidents are service outages, so their clock runs round the clock; a leaver's access
 * and access grants are security matters, so they are answered fastest among the planned types.
 */
export const DEFAULT_SLA_TARGETS: { readonly [T in ChangeType]: SlaTargets } = {
  incident: { acknowledgeMinutes: 15, resolveMinutes: 240, businessHoursOnly: false },
  offboard: { acknowledgeMinutes: 60, resolveMinutes: 510, businessHoursOnly: true },
  access_change: { acknowledgeMinutes: 120, resolveMinutes: 510, businessHoursOnly: true },
  licence_change: { acknowledgeMinutes: 240, resolveMinutes: 510, businessHoursOnly: true },
  new_user: { acknowledgeMinutes: 240, resolveMinutes: 1530, businessHoursOnly: true },
  general: { acknowledgeMinutes: 510, resolveMinutes: 2550, businessHoursOnly: true },
};

/** Mon–Fri 09:00–17:30 in the client's zone, until the client sets its own. */
export const DEFAULT_BUSINESS_HOURS: BusinessHours = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '17:30',
};

/** A client's SLA settings with Cabinet's defaults filled in (what `ClientRules.sla` holds). */
export type SlaSettings = Required<ClientSlaSettings>;

export function withSlaDefaults(settings: ClientSlaSettings = {}): SlaSettings {
  return {
    targets: settings.targets ?? {},
    businessHours: settings.businessHours ?? DEFAULT_BUSINESS_HOURS,
    holidays: settings.holidays ?? [],
  };
}

/** The targets a request of `type` runs under: Cabinet's defaults with the client's overrides on top. */
export function slaTargetsFor(type: ChangeType, settings: ClientSlaSettings = {}): SlaTargets {
  const override = settings.targets?.[type] ?? {};
  const defaults = DEFAULT_SLA_TARGETS[type];
  return {
    acknowledgeMinutes: override.acknowledgeMinutes ?? defaults.acknowledgeMinutes,
    resolveMinutes: override.resolveMinutes ?? defaults.resolveMinutes,
    businessHoursOnly: override.businessHoursOnly ?? defaults.businessHoursOnly,
  };
}

/** When an SLA clock runs: round the clock, or in the client's business hours outside its holidays. */
export interface SlaCalendar {
  readonly timeZone: string;
  readonly businessHoursOnly: boolean;
  readonly businessHours: BusinessHours;
  /** Local dates `YYYY-MM-DD` (honoured only when `businessHoursOnly`). */
  readonly holidays: readonly string[];
}

const MINUTE = 60_000;
/** No working time for this long means the calendar has none at all: a broken invariant. */
const MAX_IDLE_MS = 2 * 366 * 24 * 60 * MINUTE;

interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * Working minutes between two instants: time inside the calendar's working hours, minus the pauses.
 * @returns minutes (fractional when the instants are not on whole minutes); 0 when `to` ≤ `from`.
 */
export function workingMinutesBetween(
  from: string,
  to: string,
  calendar: SlaCalendar,
  pauses: readonly UtcInterval[] = [],
): number {
  return workingMsBetween(Date.parse(from), Date.parse(to), calendar, toSpans(pauses)) / MINUTE;
}

/**
 * The instant at which `minutes` working minutes have run from `start`: across nights, weekends,
 * holidays, clock changes and the pauses (each pause pushes the instant later by the working
 * time it covers).
 */
export function addWorkingMinutes(
  start: string,
  minutes: number,
  calendar: SlaCalendar,
  pauses: readonly UtcInterval[] = [],
): string {
  return new Date(
    addWorkingMs(Date.parse(start), minutes * MINUTE, calendar, toSpans(pauses)),
  ).toISOString();
}

function workingMsBetween(from: number, to: number, calendar: SlaCalendar, pauses: Span[]): number {
  let total = 0;
  for (const span of workingSpans(from, calendar, pauses)) {
    if (span.start >= to) break;
    total += Math.min(span.end, to) - span.start;
  }
  return total;
}

function addWorkingMs(start: number, ms: number, calendar: SlaCalendar, pauses: Span[]): number {
  if (ms <= 0) return start;
  let left = ms;
  let lastEnd = start;
  for (const span of workingSpans(start, calendar, pauses)) {
    if (span.start - lastEnd > MAX_IDLE_MS)
      throw new Error(
        `SLA calendar in ${calendar.timeZone} has no working time after ${new Date(lastEnd).toISOString()}`,
      );
    const length = span.end - span.start;
    if (length >= left) return span.start + left;
    left -= length;
    lastEnd = span.end;
  }
  throw new Error('unreachable: working spans are endless');
}

/** Pauses as merged, sorted spans (a pause may be open-ended until the caller's `now`). */
function toSpans(pauses: readonly UtcInterval[]): Span[] {
  const spans = pauses
    .map((p) => ({ start: Date.parse(p.start), end: Date.parse(p.end) }))
    .filter((p) => p.end > p.start)
    .sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const s of spans) {
    const last = merged.at(-1);
    if (last && s.start <= last.end)
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, s.end) };
    else merged.push(s);
  }
  return merged;
}

/** Working spans from `from` on, ascending and disjoint, with the pauses cut out. */
function* workingSpans(from: number, calendar: SlaCalendar, pauses: Span[]): Generator<Span> {
  for (const span of calendarSpans(from, calendar)) yield* cut(span, pauses);
}

function* cut(span: Span, pauses: Span[]): Generator<Span> {
  let start = span.start;
  for (const p of pauses) {
    if (p.end <= start) continue;
    if (p.start >= span.end) break;
    if (p.start > start) yield { start, end: p.start };
    start = Math.max(start, p.end);
    if (start >= span.end) return;
  }
  if (start < span.end) yield { start, end: span.end };
}

/**
 * The calendar's working spans from `from` on. Business hours are read on each local date with
 * luxon in the client's zone, so a day on which the clocks change is as long as its clocks say.
 * @remarks A start or end time the clocks skip falls at the moment they jump (luxon moves it forward).
 */
function* calendarSpans(from: number, calendar: SlaCalendar): Generator<Span> {
  if (!calendar.businessHoursOnly) {
    yield { start: from, end: Number.POSITIVE_INFINITY };
    return;
  }
  const hours = calendar.businessHours;
  const startMinutes = parseLocalTime(hours.start) ?? 0;
  const endMinutes = parseLocalTime(hours.end) ?? 0;
  const holidays = new Set(calendar.holidays);
  const weekdays = new Set<number>(hours.days.map((d) => WEEKDAY_NUMBER[d]));
  let day = DateTime.fromMillis(from, { zone: calendar.timeZone }).startOf('day');
  for (;;) {
    if (weekdays.has(day.weekday) && !holidays.has(day.toISODate() ?? '')) {
      const date = { year: day.year, month: day.month, day: day.day };
      const at = (minutes: number) =>
        DateTime.fromObject(
          { ...date, hour: Math.floor(minutes / 60), minute: minutes % 60 },
          { zone: calendar.timeZone },
        ).toMillis();
      const start = Math.max(at(startMinutes), from);
      const end = at(endMinutes);
      if (end > start) yield { start, end };
    }
    day = day.plus({ days: 1 });
  }
}

const WEEKDAY_NUMBER = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 } as const;

/** What the SLA maths needs of a client's rules (`ClientRules` has it). */
export interface SlaRules {
  readonly timeZone: string;
  readonly sla: ClientSlaSettings;
}

/** Statuses in which the work is done: the resolve clock is met when the request first reaches one. */
const RESOLVED: ReadonlySet<ChangeStatus> = new Set(['implemented', 'review_pending', 'closed']);
/**
 * Statuses that end a request without the work: nothing is left to resolve, so the clocks stop and
 * count as met at that moment (a denial or cancellation is not the desk running late).
 */
const ENDED: ReadonlySet<ChangeStatus> = new Set(['denied', 'cancelled', 'rolled_back']);

/** Breached > at_risk > paused > on_track > met: the snapshot shows the worse clock. */
const RANK: { readonly [S in SlaState]: number } = {
  breached: 4,
  at_risk: 3,
  paused: 2,
  on_track: 1,
  met: 0,
};

/**
 * The request's SLA clocks at `now` (issue 5): both start at `createdAt`; acknowledge is met at
 * `acknowledgedAt`, resolve when the work is done (see `RESOLVED`, `ENDED`). Time waiting on the
 * client (`needs_info`, from `clarifications` and the open `clarification`) does not count.
 * @remarks States, decided here:
 * - `met` only when met within the target; a clock met **late keeps `breached`**, so attainment
 *   counts it and the snapshot never turns a breach green.
 * - `paused` while in `needs_info`, unless the clock is already breached (pausing cannot undo a
 *   breach); `dueAt` then assumes the clock resumes at `now`.
 * - `at_risk` from `AT_RISK_SHARE` of the target used; `breached` once more than the target is used.
 * The resolve clock's `metAt` is kept from the previous snapshot; without one it is `updatedAt`
 * (the last transition, which is the one that reached the status when the machine computes it).
 * An ended request (denied, cancelled, rolled back) has nothing left to resolve, so both clocks
 * stop there and count as met at that moment.
 */
/**
 * What the SLA clocks are computed from: a request, or its entry in the open-request index (which
 * carries the same fields, so the sweeper need not read the request).
 */
export type SlaSubject = Pick<
  ChangeRequest,
  'type' | 'status' | 'createdAt' | 'updatedAt' | 'acknowledgedAt' | 'sla'
> & {
  readonly clarification?: { readonly askedAt: string };
  readonly clarifications?: readonly { readonly askedAt: string; readonly answeredAt: string }[];
};

export function computeSla(cr: SlaSubject, rules: SlaRules, now: string): SlaSnapshot {
  const targets = slaTargetsFor(cr.type, rules.sla);
  const settings = withSlaDefaults(rules.sla);
  const calendar: SlaCalendar = {
    timeZone: rules.timeZone,
    businessHoursOnly: targets.businessHoursOnly,
    businessHours: settings.businessHours,
    holidays: settings.holidays,
  };
  const pauses: UtcInterval[] = [
    ...(cr.clarifications ?? []).map((q) => ({ start: q.askedAt, end: q.answeredAt })),
    ...(cr.status === 'needs_info' && cr.clarification
      ? [{ start: cr.clarification.askedAt, end: now }]
      : []),
  ];
  const resolvedAt =
    cr.sla?.resolve.metAt ??
    (RESOLVED.has(cr.status) || ENDED.has(cr.status) ? cr.updatedAt : undefined);
  const paused = cr.status === 'needs_info';
  const clock = (targetMinutes: number, metAt: string | undefined) =>
    slaClock(cr.createdAt, targetMinutes, metAt, now, paused, calendar, pauses);
  // A request done or ended without a recorded acknowledgement (rows from before issue 5) was
  // acknowledged by then at the latest.
  const acknowledge = clock(targets.acknowledgeMinutes, cr.acknowledgedAt ?? resolvedAt);
  const resolve = clock(targets.resolveMinutes, resolvedAt);
  return {
    acknowledge,
    resolve,
    state: RANK[acknowledge.state] >= RANK[resolve.state] ? acknowledge.state : resolve.state,
    computedAt: now,
  };
}

function slaClock(
  start: string,
  targetMinutes: number,
  metAt: string | undefined,
  now: string,
  paused: boolean,
  calendar: SlaCalendar,
  pauses: readonly UtcInterval[],
): SlaClock {
  const spans = toSpans(pauses);
  const startMs = Date.parse(start);
  const targetMs = targetMinutes * MINUTE;
  const until = metAt ?? now;
  const usedMs = workingMsBetween(startMs, Date.parse(until), calendar, spans);
  const dueAt = new Date(addWorkingMs(startMs, targetMs, calendar, spans)).toISOString();
  const state: SlaState =
    usedMs > targetMs
      ? 'breached'
      : metAt !== undefined
        ? 'met'
        : paused
          ? 'paused'
          : usedMs >= targetMs * AT_RISK_SHARE
            ? 'at_risk'
            : 'on_track';
  return {
    targetMinutes,
    dueAt,
    ...(metAt !== undefined ? { metAt } : {}),
    usedMinutes: Math.floor(usedMs / MINUTE),
    state,
  };
}
