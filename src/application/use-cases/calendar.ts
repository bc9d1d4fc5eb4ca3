import {
  CHANGE_STATUSES,
  isTerminal,
  type ChangeClass,
  type ChangeRequest,
  type ChangeStatus,
  type Person,
} from '../../domain/change-request/change-request';
import type { ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import type {
  RuleOccurrence,
  ScheduleConflict,
  ScheduleConflictKind,
  ScheduledChange,
} from '../../domain/schedule/schedule';
import { findConflicts } from '../../domain/schedule/schedule.conflicts';
import { blackoutsBetween, windowsBetween } from '../../domain/schedule/schedule.policy';
import {
  DAY_MS,
  firstInstantOf,
  formatLocal,
  formatPlain,
  localMidnight,
  parseInstant,
  parseLocalDateTime,
  toIsoUtc,
  wallAt,
} from '../../domain/schedule/schedule.time';
import { DomainError, ValidationError, type FieldIssue } from '../../domain/shared/errors';
import type { ChangeRequestId, ClientCode, ObjectId, TenantId } from '../../domain/shared/ids';
import { err, ok, type Result } from '../../domain/shared/result';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';
import { identify } from './identify';

/**
 * The change calendar (issue 4 §5): windows, blackouts and scheduled changes of one client or of
 * every client an MSP person serves, with each change's conflicts.
 */

/** Six weeks (a month view's whole weeks) plus a day, so a range that spans a clock change still fits. */
export const CALENDAR_MAX_DAYS = 43;
/** More booked changes than a client has open at once; the store reads the whole status range anyway. */
const BOOKINGS_LIMIT = 1000;
const OPEN_STATUSES: readonly ChangeStatus[] = CHANGE_STATUSES.filter((s) => !isTerminal(s));
const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

export const CalendarErrors = {
  /** The same answer for "no such client" and "not yours": which clients exist is not leaked. */
  clientNotFound: () =>
    new DomainError(
      'CLIENT.NOT_FOUND',
      'That client was not found, or you do not work with it. Pick one of your clients.',
    ),
} as const;

export interface ChangeCalendarInput {
  readonly actor: Person;
  /** One client; absent: every client the actor may see (MSP staff), or the client user's own. */
  readonly clientTenantId?: string;
  /** An instant with an offset, or a local date `YYYY-MM-DD` read in the calendar's time zone. */
  readonly from: string;
  /** End (exclusive), in the same forms as `from`. */
  readonly to: string;
}

/** A client as the calendar names it. */
export interface CalendarClient {
  readonly tenantId: TenantId;
  readonly code: ClientCode;
  readonly name: string;
  readonly timeZone: string;
}

/** Local wall-clock times `YYYY-MM-DDTHH:mm` in the calendar's zone, beside the UTC instants. */
export interface LocalSpan {
  readonly start: string;
  readonly end: string;
  readonly localStart: string;
  readonly localEnd: string;
}

/** A window or blackout occurrence of one client. */
export interface CalendarRule extends LocalSpan {
  readonly clientCode: ClientCode;
  readonly ruleId: string;
  readonly name: string;
}

/** A clash as the viewer may see it: another client's request is never named to them. */
export interface CalendarConflict {
  readonly kind: ScheduleConflictKind;
  /** The other request, when the viewer may see it. */
  readonly otherId?: ChangeRequestId;
  readonly message: string;
}

export interface CalendarChange extends LocalSpan {
  readonly id: ChangeRequestId;
  readonly number: number;
  readonly clientCode: ClientCode;
  readonly title: string;
  readonly changeClass: ChangeClass;
  readonly status: ChangeStatus;
  /** The assignee, else the assessor. */
  readonly technician?: string;
  readonly dependencies: readonly ChangeRequestId[];
  readonly conflicts: readonly CalendarConflict[];
}

/** One local day of the calendar's zone (23 or 25 hours long on the day the clocks change). */
export interface CalendarDay {
  readonly date: string;
  readonly start: string;
  readonly end: string;
}

export interface ChangeCalendar {
  /** The zone every local time here is in: the client's, or the one all shown clients share, else UTC. */
  readonly timeZone: string;
  readonly from: string;
  readonly to: string;
  readonly days: readonly CalendarDay[];
  /** The clients shown. */
  readonly clients: readonly CalendarClient[];
  /** Every client the viewer may pick. */
  readonly choices: readonly CalendarClient[];
  /** Whether the viewer may ask for all their clients at once (MSP staff). */
  readonly mspWide: boolean;
  readonly windows: readonly CalendarRule[];
  readonly blackouts: readonly CalendarRule[];
  /** Sorted by start. */
  readonly changes: readonly CalendarChange[];
}

/** A booked change with what the calendar needs about it. */
interface Booking {
  readonly request: ChangeRequest;
  readonly client: ClientProfile;
  readonly slot: ScheduledChange;
}

/**
 * The change calendar over `[from, to)` for one client or all the actor serves.
 * @remarks Scope comes from the authenticated person only: a client user sees their own client,
 * MSP staff the clients they serve; a technician's bookings at other clients count for conflicts
 * but are described without naming the other client's request.
 */
export async function changeCalendar(
  deps: UseCaseDeps,
  input: ChangeCalendarInput,
): Promise<Result<ChangeCalendar, DomainError>> {
  const identity = await identify(deps, input.actor);
  if (identity.memberships.length === 0) return err(AccessErrors.notRegistered());
  const choices = identity.memberships.map((m) => m.client);
  const shown =
    input.clientTenantId === undefined
      ? choices
      : choices.filter((c) => c.tenantId === input.clientTenantId);
  if (shown.length === 0) return err(CalendarErrors.clientNotFound());
  const zones = new Set(shown.map((c) => rulesFor(c).timeZone));
  const zone = zones.size === 1 ? [...zones][0]! : 'UTC';
  const range = parseRange(input.from, input.to, zone);
  if (!range.ok) return range;
  const { from, to } = range.value;
  const local = (instant: number) => formatPlain(wallAt(instant, zone));
  const span = (start: string, end: string): LocalSpan => ({
    start,
    end,
    localStart: local(parseInstant(start) ?? from),
    localEnd: local(parseInstant(end) ?? to),
  });

  const windows: CalendarRule[] = [];
  const blackouts: CalendarRule[] = [];
  for (const client of shown) {
    const schedule = rulesFor(client).schedule;
    const w = windowsBetween(schedule, from, to);
    if (!w.ok) return w;
    const b = blackoutsBetween(schedule, from, to);
    if (!b.ok) return b;
    const rule = (o: RuleOccurrence): CalendarRule => ({
      clientCode: client.code,
      ruleId: o.ruleId,
      name: o.name,
      ...span(o.start, o.end),
    });
    windows.push(...w.value.map(rule));
    blackouts.push(...b.value.map(rule));
  }

  const book = bookingsLoader(deps);
  const inRange: Booking[] = [];
  for (const client of shown)
    for (const b of await book(client))
      if (parseInstant(b.slot.start)! < to && parseInstant(b.slot.end)! > from) inRange.push(b);

  const visible = new Set(choices.map((c) => c.tenantId as string));
  const changes: CalendarChange[] = [];
  for (const booking of inRange.sort((a, b) => a.slot.start.localeCompare(b.slot.start))) {
    const conflicts = await conflictsOf(deps, book, booking, visible);
    if (!conflicts.ok) return conflicts;
    const { request } = booking;
    const tech = technicianOf(request);
    changes.push({
      id: request.id,
      number: request.number,
      clientCode: request.clientCode,
      title: request.title,
      changeClass: request.changeClass,
      status: request.status,
      ...(tech ? { technician: tech.name } : {}),
      dependencies: request.assessment?.dependencies ?? [],
      conflicts: conflicts.value,
      ...span(booking.slot.start, booking.slot.end),
    });
  }

  const view = (c: ClientProfile): CalendarClient => ({
    tenantId: c.tenantId,
    code: c.code,
    name: c.name,
    timeZone: rulesFor(c).timeZone,
  });
  return ok({
    timeZone: zone,
    from: toIsoUtc(from),
    to: toIsoUtc(to),
    days: daysBetween(from, to, zone),
    clients: shown.map(view),
    choices: choices.map(view),
    mspWide: identity.isMspStaff,
    windows: windows.sort(byStart),
    blackouts: blackouts.sort(byStart),
    changes,
  });
}

/**
 * The conflicts of one request's scheduled slot with its client's other open bookings and its
 * technician's bookings at every client they serve, for approval cards.
 * @remarks Approval cards reach client approvers, so another client's request is never named. A
 * request without a requested window has no conflicts.
 */
export async function conflictsForRequest(
  deps: UseCaseDeps,
  request: ChangeRequest,
): Promise<Result<CalendarConflict[], DomainError>> {
  const stored = await deps.clients.get(request.tenantId);
  if (!stored) return err(CalendarErrors.clientNotFound());
  const slot = slotOf(request);
  if (!slot) return ok([]);
  return conflictsOf(
    deps,
    bookingsLoader(deps),
    { request, client: stored.profile, slot },
    new Set([request.tenantId]),
  );
}

async function conflictsOf(
  deps: UseCaseDeps,
  book: BookingsLoader,
  booking: Booking,
  visibleTenants: ReadonlySet<string>,
): Promise<Result<CalendarConflict[], DomainError>> {
  const pool = new Map<string, Booking>();
  for (const b of await book(booking.client)) pool.set(b.request.id, b);
  const tech = booking.slot.technician;
  if (tech && tech.tid === deps.mspTenantId)
    for (const client of await book.staffClients(tech.oid))
      for (const b of await book(client)) pool.set(b.request.id, b);
  const schedule = rulesFor(booking.client).schedule;
  const found = findConflicts(
    booking.slot,
    [...pool.values()].map((b) => b.slot),
    { settings: schedule },
  );
  if (!found.ok) return found;
  const tenantOf = new Map([...pool.values()].map((b) => [b.request.id, b.client.tenantId]));
  return ok(found.value.map((c) => viewConflict(c, tenantOf, visibleTenants, schedule.timeZone)));
}

function viewConflict(
  conflict: ScheduleConflict,
  tenantOf: ReadonlyMap<string, string>,
  visibleTenants: ReadonlySet<string>,
  zone: string,
): CalendarConflict {
  if (conflict.kind === 'blackout_overlap')
    return { kind: conflict.kind, message: conflict.message };
  const tenant = tenantOf.get(conflict.otherId);
  if (tenant !== undefined && visibleTenants.has(tenant))
    return { kind: conflict.kind, otherId: conflict.otherId, message: conflict.message };
  if (conflict.kind === 'technician_double_booked') {
    const fmt = (iso: string) => formatLocal(parseInstant(iso) ?? 0, zone);
    return {
      kind: conflict.kind,
      message: `The technician is also booked on another client's change from ${fmt(conflict.overlap.start)} to ${fmt(conflict.overlap.end)}.`,
    };
  }
  return { kind: conflict.kind, message: 'This change clashes with another client’s change.' };
}

/** Each client's open bookings, and each technician's clients, read once per call. */
interface BookingsLoader {
  (client: ClientProfile): Promise<readonly Booking[]>;
  staffClients(oid: ObjectId): Promise<ClientProfile[]>;
}

function bookingsLoader(deps: UseCaseDeps): BookingsLoader {
  const bookings = new Map<string, Promise<readonly Booking[]>>();
  const staff = new Map<string, Promise<ClientProfile[]>>();
  const memo = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>) => {
    const found = cache.get(key);
    if (found) return found;
    const loaded = load();
    cache.set(key, loaded);
    return loaded;
  };
  const book = (client: ClientProfile) =>
    memo(bookings, client.tenantId, async () =>
      (
        await deps.requests.list(client.tenantId, {
          statuses: OPEN_STATUSES,
          limit: BOOKINGS_LIMIT,
        })
      ).flatMap((request) => {
        const slot = slotOf(request);
        return slot ? [{ request, client, slot }] : [];
      }),
    );
  return Object.assign(book, {
    staffClients: (oid: ObjectId) =>
      memo(staff, oid, () => deps.clients.forStaff(deps.mspTenantId, oid)),
  });
}

function technicianOf(request: ChangeRequest): Person | undefined {
  return request.assignee ?? request.assessment?.by;
}

/** The request as the schedule policy sees it, or nothing without a usable requested window. */
function slotOf(request: ChangeRequest): ScheduledChange | undefined {
  const window = request.assessment?.requestedWindow;
  if (!window || isTerminal(request.status)) return undefined;
  const start = parseInstant(window.start);
  const end = parseInstant(window.end);
  // A slot the policy cannot read cannot be placed; it is left off rather than failing everyone's view.
  if (start === undefined || end === undefined || end <= start) return undefined;
  const tech = technicianOf(request);
  return {
    id: request.id,
    client: request.tenantId,
    changeClass: request.changeClass,
    start: toIsoUtc(start),
    end: toIsoUtc(end),
    ...(tech ? { technician: { tid: tech.tid, oid: tech.oid } } : {}),
    dependsOn: request.assessment?.dependencies ?? [],
  };
}

function parseRange(
  fromText: string,
  toText: string,
  zone: string,
): Result<{ from: number; to: number }, DomainError> {
  const issues: FieldIssue[] = [];
  const read = (field: string, text: string): number | undefined => {
    const value = LOCAL_DATE.test(text) ? localDateStart(text, zone) : parseInstant(text);
    if (value === undefined)
      issues.push({
        field,
        message:
          'must be a date (YYYY-MM-DD) or a date-time with an offset, like 2026-03-29T00:00:00Z',
      });
    return value;
  };
  const from = read('from', fromText);
  const to = read('to', toText);
  if (from !== undefined && to !== undefined) {
    if (to <= from) issues.push({ field: 'to', message: 'must be after from' });
    else if (to - from > CALENDAR_MAX_DAYS * DAY_MS)
      issues.push({
        field: 'to',
        message: `must be at most ${CALENDAR_MAX_DAYS} days after from; ask for one month at a time`,
      });
  }
  return issues.length > 0 || from === undefined || to === undefined
    ? err(new ValidationError(issues))
    : ok({ from, to });
}

function localDateStart(date: string, zone: string): number | undefined {
  const plain = parseLocalDateTime(`${date}T00:00`);
  return plain === undefined ? undefined : firstInstantOf(plain, zone);
}

function daysBetween(from: number, to: number, zone: string): CalendarDay[] {
  const days: CalendarDay[] = [];
  for (let plain = localMidnight(from, zone); ; plain += DAY_MS) {
    const start = firstInstantOf(plain, zone);
    if (start >= to) break;
    const end = firstInstantOf(plain + DAY_MS, zone);
    days.push({
      date: formatPlain(plain).slice(0, 10),
      start: toIsoUtc(start),
      end: toIsoUtc(end),
    });
  }
  return days;
}

const byStart = (a: LocalSpan, b: LocalSpan) =>
  a.start.localeCompare(b.start) || a.end.localeCompare(b.end);
