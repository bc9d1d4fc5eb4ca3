import type { ChangeStatus } from '../../domain/change-request/change-request';
import type { ChangeType } from '../../domain/change-request/change-request.payloads';
import type { ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import {
  DAY_MS,
  firstInstantOf,
  localMidnight,
  MINUTE_MS,
  plainWeekday,
} from '../../domain/schedule/schedule.time';
import { DomainError } from '../../domain/shared/errors';
import type { ChangeRequestId, ClientCode, TenantId } from '../../domain/shared/ids';
import type { Person } from '../../domain/shared/person';
import { err, ok, type Result } from '../../domain/shared/result';
import type { SlaClock } from '../../domain/sla/sla';
import type {
  OpenRequestEntry,
  OpenRequestIndex,
  SlaOutcome,
  SlaOutcomeClock,
} from '../ports/open-request-index';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';
import { identify } from './identify';

/** Rows in "closest to breach": a screenful on a TV. */
const CLOSEST_SHOWN = 15;

/** Attainment counts requests that ended within this long of now (issue 5: the last 7 days). */
const ATTAINMENT_WINDOW_MS = 7 * DAY_MS;

/**
 * How far back ended requests are read: the attainment window, or the start of the local ISO week in
 * the zone furthest from UTC (at most 6 days and 14 hours back), whichever is earlier.
 */
const OUTCOMES_WINDOW_MS = 8 * DAY_MS;

/**
 * The SLA state of an open request as the wallboard shows it. `none`: no SLA snapshot yet (the
 * index entry predates SLA tracking, or its first computation has not been synced).
 */
export const WALLBOARD_STATES = [
  'breached',
  'at_risk',
  'paused',
  'on_track',
  'met',
  'none',
] as const;
export type WallboardState = (typeof WALLBOARD_STATES)[number];

export type StateCounts = Readonly<Record<WallboardState, number>>;

/**
 * Share of SLA clocks met on time, among the clocks already decided (met, or breached): those of
 * open requests, and those of requests that ended in the last 7 days.
 */
export interface Attainment {
  readonly met: number;
  readonly missed: number;
  /** `met / (met + missed)`; null while no clock has been decided. */
  readonly share: number | null;
}

export interface WallboardClient {
  readonly tenantId: TenantId;
  readonly code: ClientCode;
  readonly name: string;
  readonly timeZone: string;
  readonly open: number;
  readonly byState: StateCounts;
  readonly byType: Readonly<Partial<Record<ChangeType, number>>>;
  readonly byStatus: Readonly<Partial<Record<ChangeStatus, number>>>;
  readonly breachesToday: number;
  readonly breachesThisWeek: number;
  readonly attainment: Attainment;
}

/** One running clock, for "closest to breach". */
export interface WallboardDue {
  readonly requestId: ChangeRequestId;
  readonly clientCode: ClientCode;
  readonly clientName: string;
  readonly title: string;
  readonly type: ChangeType;
  readonly status: ChangeStatus;
  readonly assignee?: string;
  readonly clock: 'acknowledge' | 'resolve';
  readonly dueAt: string;
  /** Whole minutes until `dueAt`; negative once breached (how late). */
  readonly minutesToBreach: number;
  readonly state: 'on_track' | 'at_risk' | 'breached';
}

export interface SlaWallboard {
  readonly generatedAt: string;
  readonly totals: {
    readonly open: number;
    readonly byState: StateCounts;
    readonly breachesToday: number;
    readonly breachesThisWeek: number;
    readonly attainment: Attainment;
  };
  readonly clients: readonly WallboardClient[];
  /** Running clocks, soonest due first (the most overdue at the top). */
  readonly closest: readonly WallboardDue[];
}

export interface SlaWallboardInput {
  readonly actor: Person;
}

export const WallboardErrors = {
  mspOnly: () =>
    new DomainError(
      'ACCESS.MSP_ONLY',
      'The SLA wallboard is for the MSP’s service desk. Your MSP can tell you how your requests are doing.',
    ),
} as const;

export type SlaWallboardDeps = Pick<UseCaseDeps, 'clients' | 'mspTenantId' | 'clock'> & {
  readonly openRequests: Pick<OpenRequestIndex, 'list' | 'outcomes'>;
};

/**
 * The SLA wallboard for MSP staff over the clients they serve (issue 5): open requests by client,
 * type, status and SLA state, the running clocks closest to breach, breaches today and this week,
 * and attainment per client.
 * @remarks Reads the open-request index and its SLA outcomes of ended requests (DESIGN.md §4), never
 * request history. "Breaches today/this week" are breached clocks, of open requests or of requests
 * that have ended since, whose due time fell in the client's local day/ISO week (Monday first);
 * attainment is the share of decided clocks met on time, over open requests and requests that ended
 * in the last 7 days. So a request that breached and was then closed still counts. The index's
 * snapshot may be older than now (the sweeper recomputes it), so a running clock whose due time has
 * passed counts as breached whatever its stored state. Client users are refused: the board shows
 * other clients and the MSP's people.
 */
export async function slaWallboard(
  deps: SlaWallboardDeps,
  input: SlaWallboardInput,
): Promise<Result<SlaWallboard, DomainError>> {
  const identity = await identify(deps, input.actor);
  if (!identity.isMspStaff)
    return err(
      identity.memberships.length > 0 ? WallboardErrors.mspOnly() : AccessErrors.notRegistered(),
    );
  const clients = identity.memberships.map((m) => m.client);
  const tenantIds = clients.map((c) => c.tenantId);
  const now = deps.clock.now().getTime();
  const [entries, outcomes] = await Promise.all([
    deps.openRequests.list({ tenantIds }),
    deps.openRequests.outcomes({
      since: new Date(now - OUTCOMES_WINDOW_MS).toISOString(),
      tenantIds,
    }),
  ]);
  return ok(summarizeWallboard(entries, clients, now, outcomes));
}

/**
 * The wallboard of `entries` and the `outcomes` of ended requests, grouped under `clients` (those
 * of other clients are ignored). A request both open and ended (the index mid-sync) counts as ended.
 */
export function summarizeWallboard(
  entries: readonly OpenRequestEntry[],
  clients: readonly ClientProfile[],
  now: number,
  outcomes: readonly SlaOutcome[] = [],
): SlaWallboard {
  // A request can end twice in different months (rolled back, then closed): the latest outcome counts.
  const latest = new Map<string, SlaOutcome>();
  for (const outcome of outcomes) {
    const key = `${outcome.tenantId}|${outcome.requestId}`;
    const seen = latest.get(key);
    if (!seen || seen.endedAt < outcome.endedAt) latest.set(key, outcome);
  }
  const ended = new Map<string, SlaOutcome[]>();
  const endedIds = new Set(latest.keys());
  for (const outcome of latest.values()) {
    const list = ended.get(outcome.tenantId) ?? [];
    list.push(outcome);
    ended.set(outcome.tenantId, list);
  }
  const byTenant = new Map<string, OpenRequestEntry[]>();
  for (const entry of entries) {
    if (endedIds.has(`${entry.tenantId}|${entry.requestId}`)) continue;
    const list = byTenant.get(entry.tenantId) ?? [];
    list.push(entry);
    byTenant.set(entry.tenantId, list);
  }
  const closest: WallboardDue[] = [];
  const rows = [...clients]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((client): WallboardClient => {
      const timeZone = rulesFor(client).timeZone;
      const today = firstInstantOf(localMidnight(now, timeZone), timeZone);
      const midnight = localMidnight(now, timeZone);
      const week = firstInstantOf(midnight - (plainWeekday(midnight) - 1) * DAY_MS, timeZone);
      const byState = zeroStates();
      const byType: Partial<Record<ChangeType, number>> = {};
      const byStatus: Partial<Record<ChangeStatus, number>> = {};
      let breachesToday = 0;
      let breachesThisWeek = 0;
      let met = 0;
      let missed = 0;
      const own = byTenant.get(client.tenantId) ?? [];
      for (const entry of own) {
        byType[entry.type] = (byType[entry.type] ?? 0) + 1;
        byStatus[entry.status] = (byStatus[entry.status] ?? 0) + 1;
        const sla = entry.sla;
        if (!sla) {
          byState.none += 1;
          continue;
        }
        const clocks = [
          ['acknowledge', sla.acknowledge],
          ['resolve', sla.resolve],
        ] as const;
        const states = clocks.map(([, c]) => clockState(c, now));
        byState[worst(states)] += 1;
        clocks.forEach(([name, c], i) => {
          const state = states[i]!;
          if (state === 'met') met += 1;
          if (state === 'breached') {
            missed += 1;
            const due = Date.parse(c.dueAt);
            if (due >= today && due <= now) breachesToday += 1;
            if (due >= week && due <= now) breachesThisWeek += 1;
          }
          if (c.metAt === undefined && state !== 'paused' && state !== 'met')
            closest.push({
              requestId: entry.requestId,
              clientCode: client.code,
              clientName: client.name,
              title: entry.title,
              type: entry.type,
              status: entry.status,
              ...(entry.assignee ? { assignee: entry.assignee.name } : {}),
              clock: name,
              dueAt: c.dueAt,
              minutesToBreach: Math.floor((Date.parse(c.dueAt) - now) / MINUTE_MS),
              state,
            });
        });
      }
      for (const outcome of ended.get(client.tenantId) ?? []) {
        const recent = Date.parse(outcome.endedAt) > now - ATTAINMENT_WINDOW_MS;
        for (const c of [outcome.acknowledge, outcome.resolve]) {
          const state = outcomeState(c, outcome.endedAt);
          if (recent && state === 'met') met += 1;
          if (state !== 'breached') continue;
          if (recent) missed += 1;
          const due = Date.parse(c.dueAt);
          if (due >= today && due <= now) breachesToday += 1;
          if (due >= week && due <= now) breachesThisWeek += 1;
        }
      }
      return {
        tenantId: client.tenantId,
        code: client.code,
        name: client.name,
        timeZone,
        open: own.length,
        byState,
        byType,
        byStatus,
        breachesToday,
        breachesThisWeek,
        attainment: attainment(met, missed),
      };
    });
  const totalState = zeroStates();
  for (const row of rows) for (const s of WALLBOARD_STATES) totalState[s] += row.byState[s];
  const sum = (pick: (row: WallboardClient) => number) => rows.reduce((n, r) => n + pick(r), 0);
  return {
    generatedAt: new Date(now).toISOString(),
    totals: {
      open: sum((r) => r.open),
      byState: totalState,
      breachesToday: sum((r) => r.breachesToday),
      breachesThisWeek: sum((r) => r.breachesThisWeek),
      attainment: attainment(
        sum((r) => r.attainment.met),
        sum((r) => r.attainment.missed),
      ),
    },
    clients: rows,
    closest: closest
      .sort(
        (a, b) =>
          Date.parse(a.dueAt) - Date.parse(b.dueAt) || a.requestId.localeCompare(b.requestId),
      )
      .slice(0, CLOSEST_SHOWN),
  };
}

type ClockState = 'breached' | 'at_risk' | 'paused' | 'on_track' | 'met';

/**
 * A clock's state now: a stored snapshot says how it stood when computed; a running clock whose due
 * time has since passed is breached.
 */
function clockState(clock: SlaClock, now: number): ClockState {
  if (clock.metAt !== undefined)
    return clock.state === 'breached' || Date.parse(clock.metAt) > Date.parse(clock.dueAt)
      ? 'breached'
      : 'met';
  if (clock.state === 'paused') return 'paused';
  if (clock.state === 'breached' || Date.parse(clock.dueAt) <= now) return 'breached';
  return clock.state === 'at_risk' ? 'at_risk' : 'on_track';
}

/**
 * How a clock of an ended request was decided: met on time, breached (late, or its due time passed
 * before the request ended), or undecided (the request ended first, e.g. cancelled) when undefined.
 */
function outcomeState(clock: SlaOutcomeClock, endedAt: string): 'met' | 'breached' | undefined {
  const due = Date.parse(clock.dueAt);
  if (clock.metAt !== undefined)
    return clock.state === 'breached' || Date.parse(clock.metAt) > due ? 'breached' : 'met';
  if (clock.state === 'breached') return 'breached';
  // A paused clock's due time is where it would fall had it resumed: not passed while it waited.
  return clock.state !== 'paused' && due <= Date.parse(endedAt) ? 'breached' : undefined;
}

/** The worse of a request's two clocks (the order `SlaSnapshot.state` uses). */
function worst(states: readonly ClockState[]): WallboardState {
  for (const s of ['breached', 'at_risk', 'paused', 'on_track'] as const)
    if (states.includes(s)) return s;
  return 'met';
}

function zeroStates(): Record<WallboardState, number> {
  return { breached: 0, at_risk: 0, paused: 0, on_track: 0, met: 0, none: 0 };
}

function attainment(met: number, missed: number): Attainment {
  return { met, missed, share: met + missed > 0 ? met / (met + missed) : null };
}
