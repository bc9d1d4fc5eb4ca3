import type { ChangeClass } from '../change-request/change-class';
import type { ChangeRequestId, ObjectId, TenantId } from '../shared/ids';

/**
 * A client's schedule settings and the shapes the schedule policy returns.
 *
 * @remarks Local times are plain wall-clock strings read in `timeZone` (`HH:mm`, `YYYY-MM-DDTHH:mm`);
 * instants are ISO 8601 strings with an explicit offset (`…Z` on output). The policy never reads the clock.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Notice period bounds in hours (issue 4 §5: 48–72 h, configurable per client). */
export const NOTICE_HOURS_MIN = 48;
export const NOTICE_HOURS_MAX = 72;
export const NOTICE_HOURS_DEFAULT = 48;

/** Longest weekly window or blackout: one week (longer would overlap itself). */
export const WEEKLY_DURATION_MAX_MINUTES = 7 * 24 * 60;
/** Longest one-off maintenance window (7 days) and one-off blackout (366 days). */
export const ONE_OFF_WINDOW_MAX_MINUTES = 7 * 24 * 60;
export const ONE_OFF_BLACKOUT_MAX_DAYS = 366;
/** Longest slot a change may book (7 days). */
export const SLOT_MAX_MINUTES = 7 * 24 * 60;

/** "Tue and Thu 22:00 for 4 h": starts on each listed local weekday at `start` local time. */
export interface WeeklyRule {
  readonly kind: 'weekly';
  readonly id: string;
  readonly name: string;
  readonly days: readonly Weekday[];
  /** Local start time, `HH:mm`. */
  readonly start: string;
  /** Wall-clock length: the rule spans `start` to `start + durationMinutes` on the client's clocks. */
  readonly durationMinutes: number;
}

/** A one-off local range, e.g. `2026-12-24T00:00` to `2026-12-28T00:00` (end exclusive). */
export interface OneOffRange {
  readonly kind: 'once';
  readonly id: string;
  readonly name: string;
  /** Local date-time, `YYYY-MM-DDTHH:mm`. */
  readonly start: string;
  /** Local date-time, `YYYY-MM-DDTHH:mm`, after `start`. */
  readonly end: string;
}

/**
 * "The last N business days of each month": from local midnight at the start of the N-th last
 * weekday (Mon–Fri) of the month until local midnight at the start of the next month.
 * @remarks Public holidays are not known to the policy; a weekend after the last business day stays
 * inside the blackout (the freeze ends when the month does).
 */
export interface MonthEndRule {
  readonly kind: 'month_end';
  readonly id: string;
  readonly name: string;
  readonly businessDays: number;
}

export type MaintenanceWindow = WeeklyRule | OneOffRange;
export type Blackout = WeeklyRule | OneOffRange | MonthEndRule;

/** Per-client scheduling policy (validated by `validateScheduleSettings`). */
export interface ScheduleSettings {
  /** IANA zone every local time above is read in, e.g. `Europe/London`. */
  readonly timeZone: string;
  readonly maintenanceWindows: readonly MaintenanceWindow[];
  readonly blackouts: readonly Blackout[];
  /** Hours between the client's notice card and the start of a normal change (48–72). */
  readonly noticeHours: number;
  /**
   * Emergency changes may run inside a blackout (default true). When false the client's blackouts
   * are a hard freeze even for emergencies; windows and notice are still waived for emergencies.
   */
  readonly emergencyExempt: boolean;
}

/** A span of time between two instants, end exclusive, as ISO strings in UTC (`…Z`). */
export interface UtcInterval {
  readonly start: string;
  readonly end: string;
}

/** One concrete occurrence of a window or blackout rule. */
export interface RuleOccurrence extends UtcInterval {
  readonly ruleId: string;
  readonly name: string;
  /** The local wall-clock span the rule names for this occurrence, `YYYY-MM-DDTHH:mm` (end exclusive). */
  readonly localStart: string;
  readonly localEnd: string;
}

/**
 * A maintenance window occurrence as a calendar shows it: `start`/`end` are clipped to the range
 * asked for, `occurrence` is the whole window.
 */
export interface WindowOccurrence extends RuleOccurrence {
  readonly occurrence: UtcInterval;
}

/** A requested implementation slot (instants with an explicit offset). */
export interface Slot {
  readonly start: string;
  readonly end: string;
}

/** How the client hears about a change of this class ahead of time (issue 4 §5, advance notice). */
export type NoticePlan =
  | { readonly kind: 'notice_card'; readonly dueAt: string; readonly noticeHours: number }
  | { readonly kind: 'immediate' }
  | { readonly kind: 'monthly_summary' };

/** A scheduled change as the calendar and conflict detection see it. */
export interface ScheduledChange {
  readonly id: ChangeRequestId;
  /** The client the change belongs to (tenant id or client code: any stable client key). */
  readonly client: string;
  readonly changeClass?: ChangeClass;
  readonly start: string;
  readonly end: string;
  readonly technician?: { readonly tid: TenantId; readonly oid: ObjectId };
  /** Requests this one depends on: they must be finished before it starts. */
  readonly dependsOn?: readonly ChangeRequestId[];
}

export type ScheduleConflict =
  | {
      readonly kind: 'client_overlap' | 'technician_double_booked';
      readonly otherId: ChangeRequestId;
      readonly overlap: UtcInterval;
      readonly message: string;
    }
  | {
      readonly kind: 'dependency_order';
      readonly otherId: ChangeRequestId;
      /** `depends_on_other`: this change needs the other one finished first, but it is not. */
      readonly direction: 'depends_on_other' | 'other_depends_on_this';
      readonly message: string;
    }
  | {
      readonly kind: 'blackout_overlap';
      readonly blackoutId: string;
      readonly blackoutName: string;
      readonly overlap: UtcInterval;
      readonly message: string;
    };

export type ScheduleConflictKind = ScheduleConflict['kind'];
