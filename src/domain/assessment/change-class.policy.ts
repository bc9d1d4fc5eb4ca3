import { z } from 'zod';
import type { ChangeClass, ClassDefault, ClassOverrides } from '../change-request/change-class';

export type { ClassDefault, ClassOverrides } from '../change-request/change-class';
import { CHANGE_TYPES, type ChangeType } from '../change-request/change-request.payloads';
import { isMspStaff, type ClientRole } from '../client/client';
import type { DomainError } from '../shared/errors';
import { ValidationError, type FieldIssue } from '../shared/errors';
import type { JsonObject } from '../shared/json';
import { err, ok, type Result } from '../shared/result';
import { AssessmentErrors as E, requiredReason } from './assessment.errors';

/**
 * MSP defaults per type. Everything starts normal (client approval); types that can be urgent for
 * security or service reasons may be made emergency. Onboarding and licence moves can always wait
 * for a normal approval, so they are not emergency-eligible by default.
 * @remarks Small, repeated changes (a single licence swap) become standard through the template
 * catalogue, not through these defaults.
 */
export const CLASS_DEFAULTS: { readonly [T in ChangeType]: ClassDefault } = {
  new_user: { defaultClass: 'normal', emergencyEligible: false },
  offboard: { defaultClass: 'normal', emergencyEligible: true },
  licence_change: { defaultClass: 'normal', emergencyEligible: false },
  access_change: { defaultClass: 'normal', emergencyEligible: true },
  general: { defaultClass: 'normal', emergencyEligible: true },
  incident: { defaultClass: 'normal', emergencyEligible: true },
};

/** The effective default for a type at a client: the MSP default with the client's override on top. */
export function classDefaultFor(type: ChangeType, overrides: ClassOverrides = {}): ClassDefault {
  const base = CLASS_DEFAULTS[type];
  const o = overrides[type] ?? {};
  const emergencyEligible = o.emergencyEligible ?? base.emergencyEligible;
  const wanted = o.defaultClass ?? base.defaultClass;
  // An override that made a type ineligible also stops it defaulting to emergency.
  return {
    defaultClass: wanted === 'emergency' && !emergencyEligible ? 'normal' : wanted,
    emergencyEligible,
  };
}

const Override = z
  .object({
    defaultClass: z
      .enum(['normal', 'emergency'], {
        errorMap: () => ({
          message:
            'must be normal or emergency (standard comes from an approved template, not a default)',
        }),
      })
      .optional(),
    emergencyEligible: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
  })
  .strict('only defaultClass and emergencyEligible can be set')
  .superRefine((v, ctx) => {
    if (v.defaultClass === 'emergency' && v.emergencyEligible === false)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['defaultClass'],
        message: 'cannot be emergency when emergencyEligible is false',
      });
  });

/**
 * Validates a client's class overrides (settings form or API), field by field.
 * @remarks Defaulting a type to emergency also requires it to be eligible after the override.
 */
export function validateClassOverrides(raw: unknown): Result<ClassOverrides, ValidationError> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return err(
      new ValidationError([{ field: 'form', message: 'must be an object keyed by change type' }]),
    );
  const issues: FieldIssue[] = [];
  const out: Record<string, Partial<ClassDefault>> = {};
  for (const [type, value] of Object.entries(raw)) {
    if (!(CHANGE_TYPES as readonly string[]).includes(type)) {
      issues.push({ field: type, message: `is not a change type (${CHANGE_TYPES.join(', ')})` });
      continue;
    }
    const parsed = Override.safeParse(value);
    if (!parsed.success) {
      issues.push(
        ...parsed.error.issues.map((i) => ({
          field: [type, ...i.path].join('.'),
          message: i.message,
        })),
      );
      continue;
    }
    const merged = classDefaultFor(type as ChangeType, { [type]: parsed.data });
    if (parsed.data.defaultClass === 'emergency' && !merged.emergencyEligible)
      issues.push({
        field: `${type}.defaultClass`,
        message: `cannot be emergency: ${type.replace('_', ' ')} changes are not emergency-eligible`,
      });
    out[type] = parsed.data;
  }
  return issues.length > 0 ? err(new ValidationError(issues)) : ok(out as ClassOverrides);
}

export interface ReclassifyOptions {
  /** The client's overrides, for emergency eligibility. */
  readonly overrides?: ClassOverrides;
  /** True when the request matches a standard-change template the client has approved (catalogue). */
  readonly matchesActiveTemplate?: boolean;
}

/** What the next engineer records as `request.reclassified` (payload clear, reason sealed). */
export interface Reclassification {
  readonly from: ChangeClass;
  readonly to: ChangeClass;
  readonly reason: string;
  readonly audit: { readonly payload: JsonObject; readonly personal: JsonObject };
}

/**
 * A technician moves a request to another ITIL class, with a reason that is audited.
 * @remarks Only MSP staff reclassify (clients cannot downgrade their own approval path); `standard`
 * is reachable only through an approved template; `emergency` only for eligible types.
 */
export function reclassify(
  type: ChangeType,
  current: ChangeClass,
  next: ChangeClass,
  reason: string | undefined,
  actorRoles: ReadonlySet<ClientRole>,
  options: ReclassifyOptions = {},
): Result<Reclassification, DomainError> {
  if (!isMspStaff(actorRoles)) return err(E.notStaff('reclassify a request'));
  if (current === next) return err(E.sameClass(current));
  if (next === 'standard' && options.matchesActiveTemplate !== true)
    return err(E.standardNeedsTemplate());
  if (next === 'emergency' && !classDefaultFor(type, options.overrides).emergencyEligible)
    return err(E.emergencyNotEligible(type));
  const text = requiredReason(reason, `reclassify a request as ${next}`);
  if (!text.ok) return text;
  return ok({
    from: current,
    to: next,
    reason: text.value,
    audit: { payload: { type, from: current, to: next }, personal: { reason: text.value } },
  });
}
