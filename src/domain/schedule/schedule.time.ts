import { DateTime, IANAZone } from 'luxon';

/**
 * Wall-clock ↔ instant conversions for the schedule policy, all through luxon.
 *
 * A "plain" time is a local wall-clock date-time with no zone, held as milliseconds as if it were
 * UTC (so plain arithmetic is calendar arithmetic: +1 day is the same clock time tomorrow).
 *
 * @remarks Daylight-saving rules, chosen deliberately:
 * - A local time that occurs **twice** (clocks go back) has two instants; a local time that is
 *   **skipped** (clocks go forward) has none, and the first instant the clock reads it or later is
 *   the moment the clocks jump.
 * - Maintenance windows resolve *inward*: a window starts at the **last** instant its start time is
 *   on the clock and ends at the **first** instant after that its end time is. So every instant in a
 *   window shows a local time inside the rule's span, and a window never grows because of a change.
 * - Blackouts resolve *outward*: a blackout starts at the **first** instant its start time (or later)
 *   is on the clock and ends at the **last** one its end time is. So every instant whose local time
 *   lies in the blacked-out span is covered.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const isValidZone = (zone: string): boolean => IANAZone.isValidZone(zone);

/** luxon's zone (luxon caches these by name). */
const zoneOf = (zone: string): IANAZone => IANAZone.create(zone);

/**
 * The local wall-clock time (as plain ms) at `instant` in `zone`.
 * @remarks The offset comes from luxon's IANA zone; local = instant + offset is its definition.
 */
export function wallAt(instant: number, zone: string): number {
  return instant + zoneOf(zone).offset(instant) * MINUTE;
}

/**
 * Every instant at which the clocks in `zone` read exactly `plain` (0, 1 or 2 of them), ascending.
 * @remarks Same method as luxon's `DateTime#getPossibleOffsets`: try the offsets in force a day
 * either side and keep each instant whose own offset agrees. Done on the zone directly because
 * building `DateTime`s for it dominated the cost of suggestion searches.
 */
export function instantsOf(plain: number, zone: string): number[] {
  const z = zoneOf(zone);
  const out: number[] = [];
  for (const offset of new Set([z.offset(plain - DAY), z.offset(plain + DAY)])) {
    const t = plain - offset * MINUTE;
    if (z.offset(t) === offset && !out.includes(t)) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

/** The moment the clocks jump over a skipped `plain`: the first instant whose local time is ≥ it. */
function gapEnd(plain: number, zone: string): number {
  // luxon moves a skipped time forward past the gap, so its instant is already at or after the jump.
  let hi = DateTime.fromMillis(plain, { zone: 'utc' })
    .setZone(zone, { keepLocalTime: true })
    .toMillis();
  let lo = hi - DAY - 2 * 60 * MINUTE;
  if (wallAt(hi, zone) < plain || wallAt(lo, zone) >= plain) return hi;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (wallAt(mid, zone) >= plain) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** First instant the clock reads `plain` (first occurrence; the jump if skipped). */
export function firstInstantOf(plain: number, zone: string): number {
  const all = instantsOf(plain, zone);
  return all[0] ?? gapEnd(plain, zone);
}

/** Last instant the clock reads `plain` (second occurrence if repeated; the jump if skipped). */
export function lastInstantOf(plain: number, zone: string): number {
  const all = instantsOf(plain, zone);
  return all[all.length - 1] ?? gapEnd(plain, zone);
}

/** First instant strictly after `after` at which the clock reads `plain` (or has jumped past it). */
export function firstInstantOfAfter(
  plain: number,
  zone: string,
  after: number,
): number | undefined {
  const all = instantsOf(plain, zone);
  if (all.length === 0) {
    const jump = gapEnd(plain, zone);
    return jump > after ? jump : undefined;
  }
  return all.find((t) => t > after);
}

/** Window resolution (inward): undefined when the whole span was skipped by the clocks. */
export function resolveWindow(
  plainStart: number,
  plainEnd: number,
  zone: string,
): { start: number; end: number } | undefined {
  const start = lastInstantOf(plainStart, zone);
  const end = firstInstantOfAfter(plainEnd, zone, start);
  return end === undefined || end <= start ? undefined : { start, end };
}

/** Blackout resolution (outward): undefined only if the clocks skipped the whole span. */
export function resolveBlackout(
  plainStart: number,
  plainEnd: number,
  zone: string,
): { start: number; end: number } | undefined {
  const start = firstInstantOf(plainStart, zone);
  const end = lastInstantOf(plainEnd, zone);
  return end <= start ? undefined : { start, end };
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;
const LOCAL_TIME = /^(\d{2}):(\d{2})$/;

/** `YYYY-MM-DDTHH:mm` → plain ms, or undefined if it is not a real calendar date-time. */
export function parseLocalDateTime(value: string): number | undefined {
  const m = LOCAL_DATE_TIME.exec(value);
  if (!m) return undefined;
  const dt = DateTime.fromObject(
    {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4]),
      minute: Number(m[5]),
    },
    { zone: 'utc' },
  );
  return dt.isValid ? dt.toMillis() : undefined;
}

/** `HH:mm` → minutes after midnight, or undefined. */
export function parseLocalTime(value: string): number | undefined {
  const m = LOCAL_TIME.exec(value);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : undefined;
}

/** plain ms → `YYYY-MM-DDTHH:mm`. */
export function formatPlain(plain: number): string {
  return DateTime.fromMillis(plain, { zone: 'utc' }).toFormat("yyyy-LL-dd'T'HH:mm");
}

/** ISO weekday (1 = Monday) of a plain time (calendar arithmetic: 1970-01-01 was a Thursday). */
export function plainWeekday(plain: number): number {
  const days = Math.floor(plain / DAY);
  return ((((days + 3) % 7) + 7) % 7) + 1;
}

/** Midnight (plain) of the local day containing `instant`. */
export function localMidnight(instant: number, zone: string): number {
  const wall = wallAt(instant, zone);
  return wall - (((wall % DAY) + DAY) % DAY);
}

/** For people: `Tue 31 Mar 2026 22:00 (Europe/London)`, independent of the host's locale and zone. */
export function formatLocal(instant: number, zone: string): string {
  return `${DateTime.fromMillis(instant, { zone, locale: 'en-GB' }).toFormat('ccc d LLL yyyy HH:mm')} (${zone})`;
}

export function toIsoUtc(instant: number): string {
  return DateTime.fromMillis(instant, { zone: 'utc' }).toISO() ?? new Date(instant).toISOString();
}

const EXPLICIT_OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * An instant given as an ISO string with an explicit offset (`Z` or `±hh:mm`) or as epoch ms.
 * @remarks A string without an offset is refused: it would be read in the host's zone.
 */
export function parseInstant(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  const text = value.trim();
  if (!EXPLICIT_OFFSET.test(text)) return undefined;
  const dt = DateTime.fromISO(text, { setZone: true });
  return dt.isValid ? dt.toMillis() : undefined;
}

export const MINUTE_MS = MINUTE;
export const DAY_MS = DAY;
