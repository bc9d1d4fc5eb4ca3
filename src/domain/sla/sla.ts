import type { ChangeType } from '../change-request/change-request.payloads';
import type { Weekday } from '../schedule/schedule';

/** How fast the MSP answers a type of request: first technician action, and resolution (issue 5). */
export interface SlaTargets {
  readonly acknowledgeMinutes: number;
  readonly resolveMinutes: number;
  /** True: the clock runs only in the client's business hours (and not on its holidays). */
  readonly businessHoursOnly: boolean;
}

/** The client's working week, in its time zone: e.g. Mon–Fri 09:00–17:30. */
export interface BusinessHours {
  readonly days: readonly Weekday[];
  /** Local `HH:mm`. */
  readonly start: string;
  /** Local `HH:mm`, after `start`. */
  readonly end: string;
}

/** A client's SLA settings (validated by the SLA policy); absent parts take Cabinet's defaults. */
export interface ClientSlaSettings {
  readonly targets?: { readonly [T in ChangeType]?: Partial<SlaTargets> };
  readonly businessHours?: BusinessHours;
  /** Local dates `YYYY-MM-DD` the clock does not run on (business-hours targets only). */
  readonly holidays?: readonly string[];
}

/** At risk once this share of the target has been used (issue 5: ≥ 80 %). */
export const AT_RISK_SHARE = 0.8;

export const SLA_STATES = ['on_track', 'at_risk', 'breached', 'met', 'paused'] as const;
/** `met`: done within the target; `paused`: waiting on the client (needs_info). */
export type SlaState = (typeof SLA_STATES)[number];

/** One clock (acknowledge or resolve) as the request carries it. */
export interface SlaClock {
  readonly targetMinutes: number;
  /** When the target falls due if nothing pauses it any more (ISO instant, UTC). */
  readonly dueAt: string;
  /** When it was met (first technician action; resolution). */
  readonly metAt?: string;
  /** Working minutes used so far (pauses and out-of-hours time excluded). */
  readonly usedMinutes: number;
  readonly state: SlaState;
}

/** The SLA as stored on a request, recomputed on every transition and by the sweeper. */
export interface SlaSnapshot {
  readonly acknowledge: SlaClock;
  readonly resolve: SlaClock;
  /** The worse of the two open clocks (breached > at_risk > paused > on_track > met). */
  readonly state: SlaState;
  readonly computedAt: string;
}

/** A threshold the SLA channel hears about once per request and clock. */
export type SlaThreshold =
  | 'acknowledge.at_risk'
  | 'acknowledge.breached'
  | 'resolve.at_risk'
  | 'resolve.breached';
