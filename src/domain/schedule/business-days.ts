import { DateTime } from 'luxon';

/**
 * The instant `days` business days (Monday to Friday on the client's calendar) after `from`, at the
 * same wall-clock time. Public holidays are not known to Cabinet, so they count as business days.
 */
export function addBusinessDays(from: string, days: number, zone: string): string {
  let at = DateTime.fromISO(from, { setZone: true }).setZone(zone);
  if (!at.isValid) throw new Error(`Not an ISO instant in a known zone: ${from} (${zone})`);
  let counted = 0;
  while (counted < days) {
    at = at.plus({ days: 1 });
    if (at.weekday <= 5) counted += 1;
  }
  return at.toUTC().toISO();
}
