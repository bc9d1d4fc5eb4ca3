import { z } from 'zod';
import { checkRollbackPlan } from '../assessment/rollback-plan.policy';
import { PLAN_MAX } from '../assessment/assessment';
import type { ChangeType } from '../change-request/change-request.payloads';
import type { FieldIssue, DomainError } from '../shared/errors';
import { requiredText, toIssues } from '../shared/form-fields';
import type { TenantId } from '../shared/ids';
import type { Person } from '../shared/person';
import { err, ok, type Result } from '../shared/result';
import { TemplateErrors as E } from './catalogue.errors';

/** A template id: a lower-case slug, safe in a storage key and readable on a card ("e3-licence-add"). */
export type TemplateId = string & { readonly __brand: 'TemplateId' };

const SLUG = /^[a-z][a-z0-9-]{2,47}$/;

export function asTemplateId(value: string): TemplateId | undefined {
  const slug = value.trim().toLowerCase();
  return SLUG.test(slug) ? (slug as TemplateId) : undefined;
}

/** Global templates are offered to every client; a client's own templates only to that client. */
export type TemplateScope = 'global' | TenantId;

/** The types a template can bound; general and incident carry free text nothing could range over. */
export const TEMPLATABLE_TYPES = [
  'new_user',
  'offboard',
  'licence_change',
  'access_change',
] as const satisfies readonly ChangeType[];
export type TemplatableType = (typeof TEMPLATABLE_TYPES)[number];

export const ACCESS_LEVELS = ['member', 'owner', 'read', 'contribute', 'full_access'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/**
 * The payload ranges a template allows, per type. The language is deliberately small: lists of
 * allowed values (SKUs, group and resource names, departments) and a few limits.
 * @remarks Names compare case-insensitively; an empty list allows nothing of that kind.
 */
export type TemplateRanges =
  | {
      readonly type: 'licence_change';
      /** SKU part numbers that may be added. */
      readonly addSkus: readonly string[];
      /** SKU part numbers that may be removed. */
      readonly removeSkus: readonly string[];
    }
  | {
      readonly type: 'access_change';
      readonly actions: readonly ('grant' | 'revoke')[];
      /** Groups, mailboxes or sites that may be granted or revoked. */
      readonly resources: readonly string[];
      readonly accessLevels: readonly AccessLevel[];
      /** A grant must end (`until`) within this many days of today; absent: no limit. */
      readonly maxDays?: number;
    }
  | {
      readonly type: 'new_user';
      readonly licenceSkus: readonly string[];
      readonly groups: readonly string[];
      /** Absent: any department (or none). */
      readonly departments?: readonly string[];
    }
  | {
      readonly type: 'offboard';
      /** Whether mail forwarding may be set up as part of the change. */
      readonly allowForwarding: boolean;
      /** Whether a OneDrive hand-over may be part of the change. */
      readonly allowOneDriveDelegation: boolean;
    };

/** What a lead writes: everything but the id, scope, version and stamps. */
export interface TemplateContent {
  readonly name: string;
  readonly ranges: TemplateRanges;
  readonly implementationPlan: string;
  readonly rollbackPlan: string;
}

/** A standard-change template: one type, bounded payloads, and the plans every use of it follows. */
export interface StandardTemplate extends TemplateContent {
  readonly id: TemplateId;
  readonly scope: TemplateScope;
  /** Bumped on every content change; a client's approval covers one version. */
  readonly version: number;
  readonly updatedBy: Person;
  readonly updatedAt: string;
}

export const TEMPLATE_NAME_MAX = 120;
const SKU = /^[A-Z0-9_]{2,64}$/;

const names = (max: number) =>
  z
    .array(z.string().trim().min(1, 'must not be blank').max(256, 'must be at most 256 characters'))
    .max(max, `must list at most ${max} items`);
const skus = z
  .array(
    z
      .string()
      .trim()
      .toUpperCase()
      .regex(SKU, 'must be licence SKU part numbers like SPB or ENTERPRISEPACK'),
  )
  .max(20, 'must list at most 20 SKUs');

const Ranges = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('licence_change'), addSkus: skus, removeSkus: skus }).strict(),
    z
      .object({
        type: z.literal('access_change'),
        actions: z.array(z.enum(['grant', 'revoke'])).min(1, 'must allow grant, revoke or both'),
        resources: names(50).min(1, 'must name at least one group, mailbox or site'),
        accessLevels: z.array(z.enum(ACCESS_LEVELS)).min(1, 'must allow at least one level'),
        maxDays: z.number().int().min(1).max(366).optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('new_user'),
        licenceSkus: skus,
        groups: names(50),
        departments: names(50)
          .min(1, 'must name at least one department, or be left out')
          .optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('offboard'),
        allowForwarding: z.boolean(),
        allowOneDriveDelegation: z.boolean(),
      })
      .strict(),
  ],
  {
    errorMap: () => ({
      message: 'type must be one of new_user, offboard, licence_change, access_change',
    }),
  },
);

const Content = z.object({
  name: requiredText(TEMPLATE_NAME_MAX),
  ranges: Ranges,
  implementationPlan: requiredText(PLAN_MAX),
  // Judged by checkRollbackPlan below, which says what a good plan names.
  rollbackPlan: z.string({ invalid_type_error: 'must be text' }).optional(),
});

/**
 * Validates a lead's template content: known type, ranges in the small constraint language, an
 * implementation plan, and a rollback plan good enough for a normal change (every use of the
 * template runs under it, so it is held to the bar a per-change plan is).
 */
export function validateTemplateContent(raw: unknown): Result<TemplateContent, DomainError> {
  const type = (raw as { ranges?: { type?: unknown } } | null)?.ranges?.type;
  if (type === 'general' || type === 'incident') return err(E.notTemplatable(type));
  const parsed = Content.safeParse(raw);
  const issues: FieldIssue[] = parsed.success ? [] : toIssues(parsed.error, 'template');
  const rollback = checkRollbackPlan(
    parsed.success ? parsed.data.rollbackPlan : rawPlan(raw),
    'normal',
  );
  if (!rollback.ok && !issues.some((i) => i.field === 'rollbackPlan'))
    issues.push({ field: 'rollbackPlan', message: rollback.error.message });
  if (issues.length > 0 || !parsed.success || !rollback.ok) return err(E.invalid(issues));
  return ok({
    name: parsed.data.name,
    ranges: normaliseRanges(parsed.data.ranges),
    implementationPlan: parsed.data.implementationPlan,
    rollbackPlan: rollback.value.plan,
  });
}

function rawPlan(raw: unknown): string | undefined {
  const plan = (raw as { rollbackPlan?: unknown } | null)?.rollbackPlan;
  return typeof plan === 'string' ? plan : undefined;
}

/** Lists sorted and de-duplicated, so equal content compares equal whatever order a lead typed. */
function normaliseRanges(ranges: TemplateRanges): TemplateRanges {
  const set = <T extends string>(values: readonly T[]) => [...new Set(values)].sort();
  switch (ranges.type) {
    case 'licence_change':
      return { ...ranges, addSkus: set(ranges.addSkus), removeSkus: set(ranges.removeSkus) };
    case 'access_change':
      return {
        ...ranges,
        actions: set(ranges.actions),
        resources: set(ranges.resources),
        accessLevels: set(ranges.accessLevels),
      };
    case 'new_user':
      return {
        ...ranges,
        licenceSkus: set(ranges.licenceSkus),
        groups: set(ranges.groups),
        ...(ranges.departments ? { departments: set(ranges.departments) } : {}),
      };
    case 'offboard':
      return ranges;
  }
}

/** Whether two contents are the same template (what a client approved is unchanged). */
export function sameContent(a: TemplateContent, b: TemplateContent): boolean {
  return (
    a.name === b.name &&
    a.implementationPlan === b.implementationPlan &&
    a.rollbackPlan === b.rollbackPlan &&
    JSON.stringify(a.ranges) === JSON.stringify(b.ranges)
  );
}
