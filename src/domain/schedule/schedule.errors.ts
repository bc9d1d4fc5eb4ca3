import { DomainError } from '../shared/errors';
import type { RuleOccurrence, Slot, UtcInterval } from './schedule';

/** Stable codes for every way the schedule policy can refuse a slot or its input. */
export const ScheduleErrorCodes = {
  invalidSlot: 'SCHED.INVALID_SLOT',
  invalidInstant: 'SCHED.INVALID_INSTANT',
  inPast: 'SCHED.IN_PAST',
  outsideWindow: 'SCHED.OUTSIDE_WINDOW',
  inBlackout: 'SCHED.IN_BLACKOUT',
  shortNotice: 'SCHED.SHORT_NOTICE',
  slotRefused: 'SCHED.SLOT_REFUSED',
} as const;

const listSlots = (slots: readonly UtcInterval[], fmt: (iso: string) => string) =>
  slots.length === 0
    ? 'no window in the next three months fits; ask the client to add or lengthen one'
    : `the next that fit are ${slots.map((s) => fmt(s.start)).join(', ')}`;

export const ScheduleErrors = {
  invalidSlot: (reason: string) =>
    new DomainError(ScheduleErrorCodes.invalidSlot, `The requested slot is not valid: ${reason}.`, {
      reason,
    }),
  invalidInstant: (field: string) =>
    new DomainError(
      ScheduleErrorCodes.invalidInstant,
      `${field} must be an ISO date-time with an offset, like 2026-03-31T21:00:00Z.`,
      { field },
    ),
  inPast: (slot: Slot, now: string) =>
    new DomainError(
      ScheduleErrorCodes.inPast,
      'The slot starts in the past; pick a start time from now on.',
      { start: slot.start, now },
    ),
  outsideWindow: (next: readonly UtcInterval[], fmt: (iso: string) => string) =>
    new DomainError(
      ScheduleErrorCodes.outsideWindow,
      `The slot is not inside one of the client's maintenance windows; ${listSlots(next, fmt)}.`,
      { nextFitting: next },
    ),
  inBlackout: (blackout: RuleOccurrence, fmt: (iso: string) => string) =>
    new DomainError(
      ScheduleErrorCodes.inBlackout,
      `The slot overlaps the client's blackout "${blackout.name}" (${fmt(blackout.start)} to ${fmt(blackout.end)}); move it outside.`,
      { blackout },
    ),
  shortNotice: (
    noticeHours: number,
    earliestStart: string,
    earliestFitting: UtcInterval | undefined,
    fmt: (iso: string) => string,
  ) =>
    new DomainError(
      ScheduleErrorCodes.shortNotice,
      `The client needs ${noticeHours} h notice of a normal change: the earliest allowed start is ${fmt(earliestStart)}` +
        (earliestFitting
          ? `, and the first window slot from then is ${fmt(earliestFitting.start)}.`
          : '.'),
      { noticeHours, earliestStart, earliestFitting },
    ),
} as const;

/**
 * A slot the policy refuses, with every reason at once (a form shows all of them, not the first).
 * @remarks `problems` each carry their own stable code; `suggestions` are slots that would pass.
 */
export class SlotRefusedError extends DomainError {
  constructor(
    readonly problems: readonly DomainError[],
    readonly suggestions: readonly UtcInterval[],
  ) {
    super(ScheduleErrorCodes.slotRefused, problems.map((p) => p.message).join(' '), {
      codes: problems.map((p) => p.code),
      suggestions,
    });
    this.name = 'SlotRefusedError';
  }
}
