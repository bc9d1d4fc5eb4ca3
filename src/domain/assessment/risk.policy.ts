import { DateTime } from 'luxon';
import type { ChangeType } from '../change-request/change-request.payloads';
import { isMspStaff, type ClientRole } from '../client/client';
import type { DomainError } from '../shared/errors';
import type { JsonObject } from '../shared/json';
import { err, ok, type Result } from '../shared/result';
import { AssessmentErrors as E, requiredReason } from './assessment.errors';
import { maxRisk, riskRank, type Impact, type RiskLevel } from './assessment';

/**
 * What Cabinet knows about a change when it suggests a risk. Plain values: the schedule policy
 * computes the window, blackout and conflict facts and passes them in.
 */
export interface RiskSignals {
  readonly type: ChangeType;
  readonly affectedUsers: number;
  readonly affectedServices: number;
  /** The technician's impact estimate, when assessed. */
  readonly impact?: Impact;
  /** Any sensitivity flag set (see `isSensitive`). */
  readonly sensitive: boolean;
  /** Hours from now until the window starts (negative: already started); undefined if not scheduled. */
  readonly leadTimeHours?: number;
  readonly outsideMaintenanceWindow: boolean;
  readonly overlapsBlackout: boolean;
  /** Conflicting changes (same client overlap, double-booked technician, dependency order). */
  readonly conflicts: number;
}

export type RiskSignalCode =
  | 'type'
  | 'users'
  | 'services'
  | 'impact'
  | 'sensitive'
  | 'lead_time'
  | 'unscheduled'
  | 'outside_window'
  | 'blackout'
  | 'conflicts';

/** One reason the suggestion is what it is, worded for the approval card. */
export interface DrivingSignal {
  readonly code: RiskSignalCode;
  readonly points: number;
  /** True when the signal sets a minimum level regardless of points. */
  readonly raisesFloor: boolean;
  readonly detail: string;
}

export interface RiskSuggestion {
  readonly level: RiskLevel;
  readonly score: number;
  /** The lowest level an override may choose. */
  readonly floor: RiskLevel;
  /** What set the floor above low. */
  readonly floorBy: readonly ('sensitive' | 'blackout')[];
  readonly signals: readonly DrivingSignal[];
}

/** Points per type: incident fixes and access/offboarding touch live access; onboarding adds only. */
const TYPE_POINTS: { readonly [T in ChangeType]: number } = {
  new_user: 0,
  licence_change: 0,
  general: 1,
  access_change: 1,
  offboard: 1,
  incident: 2,
};
const IMPACT_POINTS: { readonly [I in Impact]: number } = {
  none: 0,
  minor: 1,
  service_affecting: 2,
};

/** Score → level: 0–2 low, 3–4 medium, 5–6 high, 7+ critical. */
export const RISK_THRESHOLDS: readonly { readonly min: number; readonly level: RiskLevel }[] = [
  { min: 7, level: 'critical' },
  { min: 5, level: 'high' },
  { min: 3, level: 'medium' },
  { min: 0, level: 'low' },
];

function usersPoints(n: number): number {
  return n >= 1000 ? 3 : n >= 250 ? 2 : n >= 25 ? 1 : 0;
}
function servicesPoints(n: number): number {
  return n >= 4 ? 2 : n >= 2 ? 1 : 0;
}
function leadPoints(hours: number): number {
  return hours < 4 ? 3 : hours < 24 ? 2 : hours < 48 ? 1 : 0;
}

/**
 * A suggested risk level and the signals that drove it, for the technician and the approval card.
 * @remarks Additive and explainable: each signal adds points, the total maps to a level, and
 * sensitivity or a blackout overlap set the floor to high. Monotone by construction: more users,
 * services, impact, conflicts, less lead time or any flag never lower the suggestion.
 */
export function suggestRisk(s: RiskSignals): RiskSuggestion {
  const signals: DrivingSignal[] = [];
  const add = (code: RiskSignalCode, points: number, detail: string, raisesFloor = false) => {
    if (points > 0 || raisesFloor) signals.push({ code, points, raisesFloor, detail });
  };
  add('type', TYPE_POINTS[s.type], `${s.type.replace('_', ' ')} change`);
  const users = Math.max(0, Math.floor(s.affectedUsers));
  add('users', usersPoints(users), `affects ${users} user${users === 1 ? '' : 's'}`);
  const services = Math.max(0, Math.floor(s.affectedServices));
  add('services', servicesPoints(services), `touches ${services} services`);
  if (s.impact) add('impact', IMPACT_POINTS[s.impact], `impact ${s.impact.replace('_', ' ')}`);
  if (s.sensitive) add('sensitive', 1, 'marked sensitive: risk is at least high', true);
  if (s.leadTimeHours === undefined) add('unscheduled', 1, 'no window requested yet');
  else
    add(
      'lead_time',
      leadPoints(s.leadTimeHours),
      s.leadTimeHours < 0
        ? 'the window has already started'
        : `${Math.floor(s.leadTimeHours)} h until the window`,
    );
  if (s.outsideMaintenanceWindow) add('outside_window', 2, 'outside the maintenance window');
  if (s.overlapsBlackout)
    add('blackout', 2, 'overlaps a blackout window: risk is at least high', true);
  const conflicts = Math.max(0, Math.floor(s.conflicts));
  add(
    'conflicts',
    Math.min(conflicts, 2),
    `${conflicts} conflicting change${conflicts === 1 ? '' : 's'}`,
  );
  const score = signals.reduce((sum, x) => sum + x.points, 0);
  const byScore = RISK_THRESHOLDS.find((t) => score >= t.min)?.level ?? 'low';
  const floorBy = [
    ...(s.sensitive ? (['sensitive'] as const) : []),
    ...(s.overlapsBlackout ? (['blackout'] as const) : []),
  ];
  const floor: RiskLevel = floorBy.length > 0 ? 'high' : 'low';
  return { level: maxRisk(byScore, floor), score, floor, floorBy, signals };
}

/** Hours from `now` until `windowStart` (both ISO instants with offsets); negative once started. */
export function leadTimeHours(windowStart: string, now: string): number {
  return DateTime.fromISO(windowStart, { setZone: true })
    .diff(DateTime.fromISO(now, { setZone: true }), 'hours')
    .as('hours');
}

/** The risk the technician settled on, and what to record when it differs from the suggestion. */
export interface RiskDecision {
  readonly level: RiskLevel;
  readonly overridden: boolean;
  /** `risk.overridden` payload (clear) and reason (sealed); absent when the suggestion was kept. */
  readonly audit?: { readonly payload: JsonObject; readonly personal: JsonObject };
}

/**
 * The technician keeps or overrides the suggested risk.
 * @remarks Only MSP staff decide; an override needs a reason (audited); nobody may go below the
 * floor (sensitivity or blackout), in either direction of the override.
 */
export function overrideRisk(
  suggested: RiskSuggestion,
  chosen: RiskLevel,
  reason: string | undefined,
  actorRoles: ReadonlySet<ClientRole>,
): Result<RiskDecision, DomainError> {
  if (!isMspStaff(actorRoles)) return err(E.notStaff('set the risk of a change'));
  if (riskRank(chosen) < riskRank(suggested.floor))
    return err(E.belowRiskFloor(chosen, suggested.floor, suggested.floorBy));
  if (chosen === suggested.level) return ok({ level: chosen, overridden: false });
  const text = requiredReason(reason, `override the suggested risk (${suggested.level})`);
  if (!text.ok) return text;
  return ok({
    level: chosen,
    overridden: true,
    audit: {
      payload: {
        suggested: suggested.level,
        chosen,
        score: suggested.score,
        signals: suggested.signals.map((x) => x.code),
      },
      personal: { reason: text.value },
    },
  });
}
