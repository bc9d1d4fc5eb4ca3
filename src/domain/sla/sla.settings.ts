import { DateTime } from 'luxon';
import { z } from 'zod';
import { CHANGE_TYPES, type ChangeType } from '../change-request/change-request.payloads';
import { WEEKDAYS } from '../schedule/schedule';
import { parseLocalTime } from '../schedule/schedule.time';
import { ValidationError, type FieldIssue } from '../shared/errors';
import { toIssues } from '../shared/form-fields';
import { err, ok, type Result } from '../shared/result';
import type { ClientSlaSettings } from './sla';
import { slaTargetsFor, withSlaDefaults } from './sla.policy';

/** Target bounds: one minute to 90 days (129,600 minutes). */
export const SLA_TARGET_MIN_MINUTES = 1;
export const SLA_TARGET_MAX_MINUTES = 90 * 24 * 60;
export const SLA_HOLIDAYS_MAX = 200;
/** A business-hours target must run out within this many business weeks, or it never practically falls due. */
const BUSINESS_WEEKS_MAX = 52;

const minutes = z
  .number({ message: 'must be a number of minutes' })
  .int('must be whole minutes')
  .min(SLA_TARGET_MIN_MINUTES, 'must be at least 1 minute')
  .max(SLA_TARGET_MAX_MINUTES, `must be at most 90 days (${SLA_TARGET_MAX_MINUTES} minutes)`);

const targets = z
  .object({
    acknowledgeMinutes: minutes.optional(),
    resolveMinutes: minutes.optional(),
    businessHoursOnly: z.boolean({ message: 'must be true or false' }).optional(),
  })
  .strict();

const localTime = z
  .string({ message: 'must be a local time like 09:00' })
  .trim()
  .refine((v) => parseLocalTime(v) !== undefined, 'must be a local time like 09:00');

const businessHours = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS, { message: `must be one of ${WEEKDAYS.join(', ')}` }))
      .min(1, 'must name at least one weekday')
      .refine((d) => new Set(d).size === d.length, 'must not repeat a weekday'),
    start: localTime,
    end: localTime,
  })
  .strict()
  .superRefine((h, ctx) => {
    const start = parseLocalTime(h.start);
    const end = parseLocalTime(h.end);
    if (start !== undefined && end !== undefined && end <= start)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['end'],
        message: 'must be after the start',
      });
  });

const localDate = z
  .string({ message: 'must be a date like 2026-12-25' })
  .trim()
  .refine(
    (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && DateTime.fromISO(v, { zone: 'utc' }).isValid,
    'must be a date like 2026-12-25',
  );

const Settings = z
  .object({
    targets: z
      .object(
        Object.fromEntries(CHANGE_TYPES.map((t) => [t, targets.optional()])) as {
          [T in ChangeType]: z.ZodOptional<typeof targets>;
        },
      )
      .strict()
      .optional(),
    businessHours: businessHours.optional(),
    holidays: z
      .array(localDate)
      .max(SLA_HOLIDAYS_MAX, `must list at most ${SLA_HOLIDAYS_MAX} dates`)
      .refine((d) => new Set(d).size === d.length, 'must not repeat a date')
      .optional(),
  })
  .strict();

/**
 * Parse and check a client's SLA settings; every problem comes back at once, by field path
 * (`targets.incident.resolveMinutes`). Beyond the shape, with Cabinet's defaults filled in for the
 * parts not given: acknowledging may not take longer than resolving, and a business-hours target
 * must run out within a year of the client's business weeks. Holidays are stored sorted.
 */
export function validateSlaSettings(raw: unknown): Result<ClientSlaSettings, ValidationError> {
  const parsed = Settings.safeParse(raw);
  if (!parsed.success) return err(new ValidationError(toIssues(parsed.error, 'settings')));
  const value = parsed.data;
  const settings: ClientSlaSettings = {
    ...(value.targets ? { targets: stripEmpty(value.targets) } : {}),
    ...(value.businessHours ? { businessHours: value.businessHours } : {}),
    ...(value.holidays ? { holidays: [...value.holidays].sort() } : {}),
  };
  const issues = consistency(settings);
  return issues.length > 0 ? err(new ValidationError(issues)) : ok(settings);
}

/** Drops the types given with nothing set, so stored settings compare equal to what they mean. */
function stripEmpty(
  given: NonNullable<ClientSlaSettings['targets']>,
): NonNullable<ClientSlaSettings['targets']> {
  return Object.fromEntries(
    Object.entries(given).filter(([, t]) => t !== undefined && Object.keys(t).length > 0),
  );
}

function consistency(settings: ClientSlaSettings): FieldIssue[] {
  const hours = withSlaDefaults(settings).businessHours;
  const dayMinutes = (parseLocalTime(hours.end) ?? 0) - (parseLocalTime(hours.start) ?? 0);
  const yearMinutes = hours.days.length * dayMinutes * BUSINESS_WEEKS_MAX;
  const issues: FieldIssue[] = [];
  for (const type of CHANGE_TYPES) {
    const t = slaTargetsFor(type, settings);
    const given = settings.targets?.[type] ?? {};
    if (t.acknowledgeMinutes > t.resolveMinutes)
      issues.push({
        field: `targets.${type}.${given.acknowledgeMinutes !== undefined ? 'acknowledgeMinutes' : 'resolveMinutes'}`,
        message: `must leave acknowledging (${t.acknowledgeMinutes} min) no longer than resolving (${t.resolveMinutes} min)`,
      });
    if (t.businessHoursOnly && t.resolveMinutes > yearMinutes)
      issues.push({
        field: `targets.${type}.resolveMinutes`,
        message: `must fit in a year of business hours (${yearMinutes} minutes at ${hours.days.length} days of ${dayMinutes} minutes a week); lengthen the business hours or shorten the target`,
      });
  }
  return issues;
}
