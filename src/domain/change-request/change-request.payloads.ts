import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';
import {
  blankToUndefined,
  list,
  optionalText,
  requiredText,
  toIssues,
} from '../shared/form-fields';

/** The six change types (DESIGN.md §2), each with its own form and payload schema. */
export const CHANGE_TYPES = [
  'new_user',
  'offboard',
  'licence_change',
  'access_change',
  'general',
  'incident',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export const TITLE_MAX = 120;
export const DESCRIPTION_MAX = 4000;
export const NOTE_MAX = 2000;

// UPN: a mail-style local part (Entra allows up to 64 chars before the @) and a DNS domain.
const UPN =
  /^[A-Za-z0-9](?:[A-Za-z0-9._'+-]{0,62}[A-Za-z0-9_'+-])?@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$/;
const SKU = /^[A-Z0-9_]{2,64}$/;

const upn = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(113, 'must be at most 113 characters')
  .regex(UPN, 'must be a user principal name like jane.doe@contoso.com')
  .transform((v) => v.toLowerCase());
const optionalUpn = z.preprocess(blankToUndefined, upn.optional());
const email = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .email('must be an e-mail address like jane@example.com')
  .transform((v) => v.toLowerCase());
const optionalEmail = z.preprocess(blankToUndefined, email.optional());
const isCalendarDate = (v: string) => {
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
};
const isoDate = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-01-31')
  .refine(isCalendarDate, 'is not a real calendar date');
const optionalDate = z.preprocess(blankToUndefined, isoDate.optional());
const skuList = list(
  z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.string().regex(SKU, 'must be licence SKU part numbers like SPB or ENTERPRISEPACK')),
  20,
);
const nameList = list(requiredText(256), 50);
const boolish = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : v),
  z.boolean().default(false),
);

export const NewUserPayload = z.object({
  givenName: requiredText(64),
  surname: requiredText(64),
  displayName: requiredText(256),
  userPrincipalName: upn,
  jobTitle: optionalText(128),
  department: optionalText(64),
  managerUpn: optionalUpn,
  usageLocation: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter country code like GB or US'),
  startDate: isoDate,
  licenceSkus: skuList,
  groups: nameList,
  personalEmail: optionalEmail,
});

export const OffboardPayload = z.object({
  userPrincipalName: upn,
  lastWorkingDay: isoDate,
  convertToSharedMailbox: boolish,
  forwardMailTo: optionalEmail,
  delegateOneDriveTo: optionalUpn,
  removeLicences: boolish,
});

export const LicenceChangePayload = z
  .object({
    userPrincipalName: upn,
    addSkus: skuList,
    removeSkus: skuList,
    effectiveDate: optionalDate,
  })
  .superRefine((v, ctx) => {
    if (v.addSkus.length === 0 && v.removeSkus.length === 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['addSkus'],
        message: 'name at least one licence to add or remove',
      });
    }
  });

export const AccessChangePayload = z.object({
  userPrincipalName: upn,
  action: z.enum(['grant', 'revoke'], { errorMap: () => ({ message: 'must be grant or revoke' }) }),
  resource: requiredText(256),
  accessLevel: z.enum(['member', 'owner', 'read', 'contribute', 'full_access'], {
    errorMap: () => ({ message: 'must be member, owner, read, contribute or full_access' }),
  }),
  until: optionalDate,
});

export const GeneralPayload = z.object({
  affectedSystems: optionalText(500),
  preferredWindow: optionalText(200),
});

export const IncidentPayload = z.object({
  severity: z.enum(['sev1', 'sev2', 'sev3', 'sev4'], {
    errorMap: () => ({ message: 'must be sev1, sev2, sev3 or sev4' }),
  }),
  affectedService: requiredText(200),
  // Blank card text is a missing answer, not zero (Number('') === 0).
  affectedUsers: z.preprocess(
    (v) =>
      v === null || (typeof v === 'string' && v.trim() === '')
        ? undefined
        : typeof v === 'string'
          ? Number(v)
          : v,
    z
      .number({ invalid_type_error: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'cannot be negative')
      .max(1_000_000, 'is implausibly large'),
  ),
  // Date.parse rolls impossible dates over (2026-02-30 becomes 2 March), so the date part is checked too.
  startedAt: z
    .string()
    .trim()
    .refine((v) => {
      const day = /^(\d{4}-\d{2}-\d{2})(?:[T ]|$)/.exec(v)?.[1];
      return day !== undefined && isCalendarDate(day) && !Number.isNaN(Date.parse(v));
    }, 'must be a date and time like 2026-01-31T09:30'),
});

export type NewUserPayload = z.infer<typeof NewUserPayload>;
export type OffboardPayload = z.infer<typeof OffboardPayload>;
export type LicenceChangePayload = z.infer<typeof LicenceChangePayload>;
export type AccessChangePayload = z.infer<typeof AccessChangePayload>;
export type GeneralPayload = z.infer<typeof GeneralPayload>;
export type IncidentPayload = z.infer<typeof IncidentPayload>;

/** The typed payload, discriminated by the request's `type`. */
export type ChangePayload =
  | NewUserPayload
  | OffboardPayload
  | LicenceChangePayload
  | AccessChangePayload
  | GeneralPayload
  | IncidentPayload;

export const PAYLOAD_SCHEMAS: { readonly [T in ChangeType]: z.ZodType } = {
  new_user: NewUserPayload,
  offboard: OffboardPayload,
  licence_change: LicenceChangePayload,
  access_change: AccessChangePayload,
  general: GeneralPayload,
  incident: IncidentPayload,
};

/** The payload's field names per type, in form order (cards pre-fill and label them). */
export const PAYLOAD_FIELDS: { readonly [T in ChangeType]: readonly string[] } = {
  new_user: Object.keys(NewUserPayload.shape),
  offboard: Object.keys(OffboardPayload.shape),
  licence_change: Object.keys(LicenceChangePayload.innerType().shape),
  access_change: Object.keys(AccessChangePayload.shape),
  general: Object.keys(GeneralPayload.shape),
  incident: Object.keys(IncidentPayload.shape),
};

const Common = z.object({
  title: requiredText(TITLE_MAX).pipe(z.string().min(3, 'must be at least 3 characters')),
  description: requiredText(DESCRIPTION_MAX),
});

/** What a requester submits: the common fields and the type's payload, already validated. */
export interface ChangeInput {
  readonly type: ChangeType;
  readonly title: string;
  readonly description: string;
  readonly payload: ChangePayload;
}

export interface ValidateChangeInputOptions {
  /** Today's date (YYYY-MM-DD) in the client's view, for "not in the past" checks. */
  readonly today?: string;
}

export function isChangeType(value: unknown): value is ChangeType {
  return typeof value === 'string' && (CHANGE_TYPES as readonly string[]).includes(value);
}

/**
 * Validates raw form or API data for a change type and returns the typed input, or every field
 * that needs fixing at once (a form should show all problems, not the first).
 */
export function validateChangeInput(
  type: unknown,
  raw: Readonly<Record<string, unknown>>,
  options: ValidateChangeInputOptions = {},
): Result<ChangeInput, ValidationError> {
  if (!isChangeType(type)) {
    return err(
      new ValidationError([
        { field: 'type', message: `must be one of ${CHANGE_TYPES.join(', ')}` },
      ]),
    );
  }
  const issues: FieldIssue[] = [];
  const common = Common.safeParse(raw);
  if (!common.success) issues.push(...toIssues(common.error));
  const payload = PAYLOAD_SCHEMAS[type].safeParse(raw);
  if (!payload.success) issues.push(...toIssues(payload.error));
  if (options.today) {
    // Checked on the raw form too when other fields failed, so a past date is reported in the same round.
    const values = payload.success ? (payload.data as Record<string, unknown>) : raw;
    issues.push(
      ...datesNotInPast(type, values, options.today).filter(
        (i) => !issues.some((x) => x.field === i.field),
      ),
    );
  }
  if (issues.length > 0 || !common.success || !payload.success)
    return err(new ValidationError(issues));
  return ok({
    type,
    title: common.data.title,
    description: common.data.description,
    payload: payload.data as ChangePayload,
  });
}

function datesNotInPast(
  type: ChangeType,
  values: Readonly<Record<string, unknown>>,
  today: string,
): FieldIssue[] {
  const field =
    type === 'new_user'
      ? 'startDate'
      : type === 'licence_change'
        ? 'effectiveDate'
        : type === 'access_change'
          ? 'until'
          : undefined;
  if (!field) return [];
  const value = values[field];
  const day = typeof value === 'string' ? value.trim() : '';
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && day < today
    ? [{ field, message: `must not be in the past (today is ${today})` }]
    : [];
}
