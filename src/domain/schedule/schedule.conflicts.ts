import type { DomainError } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';
import type { ScheduleConflict, ScheduleSettings, ScheduledChange } from './schedule';
import { ScheduleErrors } from './schedule.errors';
import { blackoutsBetween } from './schedule.policy';
import { formatLocal, parseInstant, toIsoUtc } from './schedule.time';

/** Options for `findConflicts`. */
export interface FindConflictsOptions {
  /** The candidate's client settings: when given, blackout overlaps are reported too. */
  readonly settings?: ScheduleSettings;
}

interface Timed {
  readonly change: ScheduledChange;
  readonly start: number;
  readonly end: number;
}

function timed(change: ScheduledChange): Result<Timed, DomainError> {
  const start = parseInstant(change.start);
  const end = parseInstant(change.end);
  if (start === undefined) return err(ScheduleErrors.invalidInstant(`${change.id} start`));
  if (end === undefined) return err(ScheduleErrors.invalidInstant(`${change.id} end`));
  if (end <= start) return err(ScheduleErrors.invalidSlot(`${change.id} must end after it starts`));
  return ok({ change, start, end });
}

const sameTech = (a: ScheduledChange, b: ScheduledChange) =>
  a.technician !== undefined &&
  b.technician !== undefined &&
  a.technician.tid === b.technician.tid &&
  a.technician.oid === b.technician.oid;

/**
 * Everything on the calendar that clashes with `candidate`, for the calendar and approval cards:
 * - `client_overlap`: another change for the same client overlaps it in time;
 * - `technician_double_booked`: the same technician (tenant + object id) is on another change,
 *   any client, at an overlapping time;
 * - `dependency_order`: the candidate depends on a change that does not finish by the time the
 *   candidate starts, or another change depends on the candidate and starts before it finishes;
 * - `blackout_overlap`: the candidate overlaps one of its client's blackouts (with `settings`).
 * @remarks Times are half-open: a change ending at 02:00 and one starting at 02:00 do not clash.
 * Overlap and dependency conflicts are symmetric: A clashes with B exactly when B clashes with A.
 * A change with the candidate's id among `others` is ignored (it is the candidate's old booking).
 */
export function findConflicts(
  candidate: ScheduledChange,
  others: readonly ScheduledChange[],
  options: FindConflictsOptions = {},
): Result<ScheduleConflict[], DomainError> {
  const c = timed(candidate);
  if (!c.ok) return c;
  const conflicts: ScheduleConflict[] = [];
  const zone = options.settings?.timeZone ?? 'UTC';
  const fmt = (t: number) => formatLocal(t, zone);
  for (const other of others) {
    if (other.id === candidate.id) continue;
    const o = timed(other);
    if (!o.ok) return o;
    const start = Math.max(c.value.start, o.value.start);
    const end = Math.min(c.value.end, o.value.end);
    if (start < end) {
      const overlap = { start: toIsoUtc(start), end: toIsoUtc(end) };
      if (other.client === candidate.client)
        conflicts.push({
          kind: 'client_overlap',
          otherId: other.id,
          overlap,
          message: `${other.id} for the same client overlaps from ${fmt(start)} to ${fmt(end)}.`,
        });
      if (sameTech(candidate, other))
        conflicts.push({
          kind: 'technician_double_booked',
          otherId: other.id,
          overlap,
          message: `The technician is also booked on ${other.id} from ${fmt(start)} to ${fmt(end)}.`,
        });
    }
    if (candidate.dependsOn?.includes(other.id) && o.value.end > c.value.start)
      conflicts.push({
        kind: 'dependency_order',
        otherId: other.id,
        direction: 'depends_on_other',
        message: `This change depends on ${other.id}, which ends ${fmt(o.value.end)}, after this one starts; schedule it later.`,
      });
    if (other.dependsOn?.includes(candidate.id) && c.value.end > o.value.start)
      conflicts.push({
        kind: 'dependency_order',
        otherId: other.id,
        direction: 'other_depends_on_this',
        message: `${other.id} depends on this change but starts ${fmt(o.value.start)}, before this one ends; schedule this one earlier.`,
      });
  }
  if (options.settings) {
    const blackouts = blackoutsBetween(options.settings, c.value.start, c.value.end);
    if (!blackouts.ok) return blackouts;
    for (const b of blackouts.value) {
      const start = Math.max(c.value.start, parseInstant(b.start) ?? c.value.start);
      const end = Math.min(c.value.end, parseInstant(b.end) ?? c.value.end);
      conflicts.push({
        kind: 'blackout_overlap',
        blackoutId: b.ruleId,
        blackoutName: b.name,
        overlap: { start: toIsoUtc(start), end: toIsoUtc(end) },
        message: `Overlaps the client's blackout "${b.name}" from ${fmt(start)} to ${fmt(end)}.`,
      });
    }
  }
  return ok(conflicts);
}
