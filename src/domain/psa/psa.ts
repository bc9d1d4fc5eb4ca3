import type { ChangeType } from '../change-request/change-request.payloads';

/** The PSA tools Cabinet keeps in sync (issue 6). */
export const PSA_KINDS = ['halopsa', 'connectwise', 'autotask'] as const;
export type PsaKind = (typeof PSA_KINDS)[number];

export const PSA_NAMES: Readonly<Record<PsaKind, string>> = {
  halopsa: 'HaloPSA',
  connectwise: 'ConnectWise PSA',
  autotask: 'Autotask',
};

/** Cabinet's own priority scale; each client's mapping says what each level is called in its PSA. */
export const PSA_PRIORITY_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type PsaPriorityLevel = (typeof PSA_PRIORITY_LEVELS)[number];

/**
 * How one client's requests land in the MSP's PSA: which company, where, at which priority and
 * status. Ids and names are the PSA's own (instance-specific), set by MSP leads per client in the
 * client's settings (`psa` part).
 */
export interface PsaMapping {
  readonly psa: PsaKind;
  /** HaloPSA `client_id`, ConnectWise company identifier (or id), Autotask `companyID`. */
  readonly company: string;
  /** HaloPSA `tickettype_id`, ConnectWise board name, Autotask `queueID`. */
  readonly board?: string;
  /** HaloPSA `category_1`, ConnectWise type name, Autotask `issueType`. */
  readonly category?: string;
  /** The PSA's priority (id or name) for each of Cabinet's levels. */
  readonly priorities: Readonly<Record<PsaPriorityLevel, string>>;
  /** The level a change type opens at, before assessment sets its risk (default medium; incident is always high or above). */
  readonly typePriorities?: Readonly<Partial<Record<ChangeType, PsaPriorityLevel>>>;
  /**
   * The PSA's status (id or name) by Cabinet status name (`ChangeStatus`; keyed by name so this
   * module stays below the aggregate); unmapped statuses leave the ticket's status alone.
   */
  readonly statuses?: Readonly<Partial<Record<string, string>>>;
}

/**
 * The PSA ticket a request is synced with. Set when the request is raised for a client with a PSA
 * mapping (`ticketId` arrives once the relay has opened the ticket); `lastNoteId` is the watermark
 * of notes read back from the PSA.
 */
export interface PsaLink {
  readonly psa: PsaKind;
  readonly ticketId?: string;
  readonly ticketUrl?: string;
  /** Highest PSA note id already taken into Cabinet (PSA note ids increase in all three tools). */
  readonly lastNoteId?: string;
}

/**
 * Every note and ticket Cabinet writes carries a marker naming the outbox row that wrote it, so a
 * redelivery after a lost response finds its first write instead of repeating it, and an inbound
 * note carrying a marker is known to be Cabinet's own echo.
 */
export function psaMarker(outboxId: string): string {
  return `[cabinet:${outboxId}]`;
}

const MARKER = /\[cabinet:[A-Za-z0-9_.-]{1,80}\]/;

/** Whether PSA text was written by Cabinet (an echo to drop, never a note to take in). */
export function hasPsaMarker(text: string): boolean {
  return MARKER.test(text);
}

/** Compares PSA ids numerically where they are numbers (all three use increasing integers). */
export function comparePsaIds(a: string, b: string): number {
  const [x, y] = [Number(a), Number(b)];
  if (Number.isSafeInteger(x) && Number.isSafeInteger(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}
