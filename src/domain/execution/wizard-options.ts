/**
 * What the technician sets in a wizard before planning. Every field starts from the approved
 * request ({@link wizardDefaults}) and may be edited; the plan notes every field that differs.
 * @remarks Field schemas are the request payload's own, so the wizard accepts exactly what the form did.
 */

import { z } from 'zod';
import type { ChangeRequest } from '../change-request/change-request';
import {
  AccessChangePayload,
  LicenceChangePayload,
  NewUserPayload,
  OffboardPayload,
} from '../change-request/change-request.payloads';
import { ValidationError } from '../shared/errors';
import { toIssues } from '../shared/form-fields';
import type { JsonObject } from '../shared/json';
import { err, ok, type Result } from '../shared/result';
import { isExecutableType, type ExecutableType } from './execution-plan';

const AUTO_REPLY_MAX = 4000;
const NU = NewUserPayload.shape;
const OB = OffboardPayload.shape;
const LC = LicenceChangePayload.innerType().shape;
const AC = AccessChangePayload.shape;

const mailNickname = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?$/,
    'must be 1 to 64 letters, digits, dots, dashes or underscores, not starting or ending with a dot',
  );
const flag = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : v),
  z.boolean({ invalid_type_error: 'must be true or false' }),
);
const optionalCountry = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  NU.usageLocation.optional(),
);

/** The new account: names, where it is used, licences, groups and manager. */
export const NewUserOptions = z.object({
  type: z.literal('new_user'),
  givenName: NU.givenName,
  surname: NU.surname,
  displayName: NU.displayName,
  userPrincipalName: NU.userPrincipalName,
  mailNickname,
  usageLocation: NU.usageLocation,
  jobTitle: NU.jobTitle,
  department: NU.department,
  managerUpn: NU.managerUpn,
  /** Licence part numbers (e.g. SPB) to assign. */
  licenceSkus: NU.licenceSkus,
  /** Group display names to add the user to. */
  groups: NU.groups,
});

/** The auto-reply an offboarded mailbox sends (set while the mailbox still exists). */
export const AutoReplyOptions = z.object({
  enabled: flag,
  message: z
    .string()
    .trim()
    .min(1, 'is required when the auto-reply is on')
    .max(AUTO_REPLY_MAX, `must be at most ${AUTO_REPLY_MAX} characters`),
  externalAudience: z.enum(['all', 'contactsOnly', 'none'], {
    errorMap: () => ({ message: 'must be all, contactsOnly or none' }),
  }),
});

/** What offboarding does beyond blocking sign-in and revoking sessions, which it always does. */
export const OffboardOptions = z.object({
  type: z.literal('offboard'),
  userPrincipalName: OB.userPrincipalName,
  autoReply: AutoReplyOptions,
  /** Remove the user from every security and Microsoft 365 group they are a direct member of. */
  removeGroups: flag,
  /** Groups (by id) to leave the user in when `removeGroups` is on. */
  keepGroupIds: z.array(z.string().trim().min(1).max(128)).max(500).default([]),
  removeManager: flag,
  removeLicences: flag,
  convertToSharedMailbox: flag,
  forwardMailTo: OB.forwardMailTo,
  /** Who gets full access to the mailbox (Exchange Online: a checklist task). */
  delegateMailboxTo: OB.delegateOneDriveTo,
  delegateOneDriveTo: OB.delegateOneDriveTo,
});

/** Licences to add and remove, by part number. */
export const LicenceChangeOptions = z
  .object({
    type: z.literal('licence_change'),
    userPrincipalName: LC.userPrincipalName,
    addSkus: LC.addSkus,
    removeSkus: LC.removeSkus,
    /** Set on users who have none, so licences can be assigned. */
    usageLocation: optionalCountry,
  })
  .superRefine((v, ctx) => {
    if (v.addSkus.length === 0 && v.removeSkus.length === 0)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['addSkus'],
        message: 'name at least one licence to add or remove',
      });
  });

/** One group membership or ownership to grant or revoke. */
export const AccessChangeOptions = z.object({
  type: z.literal('access_change'),
  userPrincipalName: AC.userPrincipalName,
  action: AC.action,
  /** The group that gives the access, by display name (the request's "resource"). */
  groupName: AC.resource,
  /** Picks one group when several share the name. */
  groupId: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.string().trim().max(128).optional(),
  ),
  relation: z.enum(['member', 'owner'], {
    errorMap: () => ({ message: 'must be member or owner' }),
  }),
});

export type NewUserOptions = z.infer<typeof NewUserOptions>;
export type OffboardOptions = z.infer<typeof OffboardOptions>;
export type LicenceChangeOptions = z.infer<typeof LicenceChangeOptions>;
export type AccessChangeOptions = z.infer<typeof AccessChangeOptions>;
/** A wizard's validated options, told apart by `type`. */
export type WizardOptions =
  | NewUserOptions
  | OffboardOptions
  | LicenceChangeOptions
  | AccessChangeOptions;

const SCHEMAS: { readonly [T in ExecutableType]: z.ZodType } = {
  new_user: NewUserOptions,
  offboard: OffboardOptions,
  licence_change: LicenceChangeOptions,
  access_change: AccessChangeOptions,
};

/** The auto-reply an offboarded mailbox sends unless the technician writes another. */
export function defaultAutoReply(forwardMailTo?: string): string {
  return `Thank you for your message. I no longer work here and this mailbox is not monitored. ${
    forwardMailTo
      ? `Please write to ${forwardMailTo} instead.`
      : 'Please contact the main office for help.'
  }`;
}

/** A mail nickname from the user principal name's local part (Graph requires one). */
export function nicknameFrom(userPrincipalName: string): string {
  const local = userPrincipalName.split('@')[0] ?? '';
  return local
    .replace(/[^A-Za-z0-9._-]/g, '')
    .replace(/^\.+|\.+$/g, '')
    .slice(0, 64);
}

/** The wizard as it opens: every field pre-filled from the approved request. */
export function wizardDefaults(request: ChangeRequest): JsonObject {
  const payload = request.payload as unknown as Readonly<Record<string, unknown>>;
  const pick = (...keys: string[]): JsonObject => {
    const out: JsonObject = {};
    for (const k of keys) {
      const v = payload[k];
      if (v !== undefined) out[k] = v as JsonObject[string];
    }
    return out;
  };
  switch (request.type) {
    case 'new_user':
      return {
        type: 'new_user',
        ...pick(
          'givenName',
          'surname',
          'displayName',
          'userPrincipalName',
          'usageLocation',
          'jobTitle',
          'department',
          'managerUpn',
          'licenceSkus',
          'groups',
        ),
        mailNickname: nicknameFrom(text(payload['userPrincipalName'])),
      };
    case 'offboard': {
      const forward = text(payload['forwardMailTo']);
      return {
        type: 'offboard',
        ...pick(
          'userPrincipalName',
          'convertToSharedMailbox',
          'forwardMailTo',
          'delegateOneDriveTo',
          'removeLicences',
        ),
        autoReply: {
          enabled: true,
          message: defaultAutoReply(forward || undefined),
          externalAudience: 'all',
        },
        removeGroups: true,
        keepGroupIds: [],
        removeManager: true,
      };
    }
    case 'licence_change':
      return { type: 'licence_change', ...pick('userPrincipalName', 'addSkus', 'removeSkus') };
    case 'access_change': {
      const level = payload['accessLevel'];
      return {
        type: 'access_change',
        ...pick('userPrincipalName', 'action'),
        groupName: text(payload['resource']),
        relation: level === 'owner' || level === 'full_access' ? 'owner' : 'member',
      };
    }
    case 'general':
    case 'incident':
      return {};
  }
}

/**
 * The technician's wizard input over the request's defaults, validated for the request's type.
 * @remarks The subject of an offboarding, licence or access change cannot be swapped for someone
 * else: that would carry out a change nobody approved.
 */
export function parseWizardOptions(
  request: ChangeRequest,
  raw: unknown,
): Result<WizardOptions, ValidationError> {
  if (!isExecutableType(request.type))
    return err(new ValidationError([{ field: 'type', message: 'is not executable' }]));
  const given = isRecord(raw) ? raw : {};
  const defaults = wizardDefaults(request);
  const merged: Record<string, unknown> = { ...defaults, ...given, type: request.type };
  if (request.type === 'offboard') {
    merged['autoReply'] = {
      ...(defaults['autoReply'] as JsonObject),
      ...(isRecord(given['autoReply']) ? given['autoReply'] : {}),
    };
  }
  const parsed = SCHEMAS[request.type].safeParse(merged);
  if (!parsed.success) return err(new ValidationError(toIssues(parsed.error)));
  const options = parsed.data as WizardOptions;
  if (options.type !== 'new_user') {
    const approved = text(defaults['userPrincipalName']);
    if (options.userPrincipalName !== approved)
      return err(
        new ValidationError([
          {
            field: 'userPrincipalName',
            message: `must stay ${approved}, the user this request was approved for; raise a new request for someone else`,
          },
        ]),
      );
  }
  return ok(options);
}

/** The wizard fields that carry what the requester asked for and the approver saw. */
/** The approved fields a technician may still change in the wizard, with how a plan names them. */
const APPROVED_FIELDS: { readonly [T in ExecutableType]: Readonly<Record<string, string>> } = {
  new_user: {
    givenName: 'first name',
    surname: 'last name',
    displayName: 'display name',
    userPrincipalName: 'sign-in name',
    usageLocation: 'usage location',
    jobTitle: 'job title',
    department: 'department',
    managerUpn: 'manager',
    licenceSkus: 'licences',
    groups: 'groups',
  },
  offboard: {
    convertToSharedMailbox: 'convert to shared mailbox',
    forwardMailTo: 'forward mail to',
    delegateOneDriveTo: 'OneDrive hand-over to',
    removeLicences: 'remove licences',
  },
  licence_change: { addSkus: 'licences to add', removeSkus: 'licences to remove' },
  access_change: { action: 'grant or revoke', groupName: 'group', relation: 'member or owner' },
};

/**
 * The approved fields the technician changed in the wizard, each as "label (approved → now)",
 * so the plan tells approvers and auditors exactly what differs from what they approved.
 */
export function deviations(request: ChangeRequest, options: WizardOptions): string[] {
  const defaults = parseWizardOptions(request, {});
  if (!defaults.ok) return [];
  const before = defaults.value as unknown as Readonly<Record<string, unknown>>;
  const after = options as unknown as Readonly<Record<string, unknown>>;
  return Object.entries(APPROVED_FIELDS[options.type])
    .filter(([k]) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null))
    .map(([k, label]) => `${label} (${shown(before[k])} → ${shown(after[k])})`);
}

function shown(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'none';
  if (Array.isArray(value)) return value.length > 0 ? value.join(', ') : 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return typeof value === 'string' || typeof value === 'number'
    ? String(value)
    : JSON.stringify(value);
}

/** Options as stored on a run (plain JSON). */
export function optionsJson(options: WizardOptions): JsonObject {
  return JSON.parse(JSON.stringify(options)) as JsonObject;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
