import { z } from 'zod';
import { CHANGE_CLASSES, type ChangeClass } from '../change-request/change-class';
import type { Person } from '../shared/person';
import { CHANGE_TYPES, type ChangeType } from '../change-request/change-request.payloads';
import { ValidationError } from '../shared/errors';
import { isGuid, type ObjectId, type TenantId } from '../shared/ids';
import { err, ok, type Result } from '../shared/result';
import { RISK_LEVELS, type RiskLevel } from '../assessment/assessment';

/** One scale for risk across assessment and approval (issue 4 §2), in rising order. */
export { RISK_LEVELS, type RiskLevel };

/** Compares two risk levels: negative, zero or positive like a sort comparator. */
export function compareRisk(a: RiskLevel, b: RiskLevel): number {
  return RISK_LEVELS.indexOf(a) - RISK_LEVELS.indexOf(b);
}

/**
 * How a step's votes settle it.
 * @remarks `any_of`: the first vote settles the step either way. `all_of`: every seat must approve;
 * one deny denies. `quorum`: `required` approvals approve; once approvals can no longer reach
 * `required`, the step (and the request) is denied.
 */
export type StepRule =
  | { readonly kind: 'any_of' }
  | { readonly kind: 'all_of' }
  | { readonly kind: 'quorum'; readonly required: number };

/**
 * Which tenant a step's people must belong to. `client`: the client's tenant (the guarantee the
 * single-round machine had); `msp`: the MSP's tenant; `cab`: either.
 */
export type StepSide = 'client' | 'msp' | 'cab';

/** When a step applies; every given field must match. No condition: always applies. */
export interface StepCondition {
  /** Applies only at or above this (effective) risk. */
  readonly minRisk?: RiskLevel;
  /** Applies only to these classes (standard changes without an active template take this path too). */
  readonly classes?: readonly ChangeClass[];
  readonly types?: readonly ChangeType[];
}

/** One ordered step of a client's approval policy, as an MSP lead configures it. */
export interface PolicyStep {
  /** Stable slug: cards and decisions name the step by it. */
  readonly id: string;
  /** What approvers and cards call the step ("Client approval", "CAB"). */
  readonly name: string;
  readonly side: StepSide;
  readonly approvers: readonly Person[];
  readonly rule: StepRule;
  readonly when?: StepCondition;
}

/** Reminder and escalation timing for approvals that wait (issue 4 §3: no silent stalls). */
export interface ApprovalTimingSettings {
  /** Hours after a step opens before its undecided approvers are reminded. */
  readonly remindAfterHours: number;
  /** Hours after a step opens before the MSP leads are told it is stalled. */
  readonly escalateAfterHours: number;
}

/**
 * A client's approval policy (issue 4 §3).
 * @remarks Normal changes (and standard ones without an active template) go through `steps` whose
 * condition matches, in order. With `mspGate`, an "MSP approval" step (any one MSP lead) comes first,
 * so the client only sees changes the MSP has vetted. A sensitive request adds a step of
 * `sensitiveApprovers` (the client's second approver) or, when none is set, of the MSP leads.
 * Emergency changes ignore `steps`: one MSP lead approves, the client's approvers are notified and
 * approve retrospectively.
 */
export interface ClientApprovalPolicy {
  readonly steps: readonly PolicyStep[];
  readonly mspGate: boolean;
  readonly sensitiveApprovers: readonly Person[];
  readonly timing: ApprovalTimingSettings;
}

/** Step ids the engine adds itself; a client's own steps cannot use them. */
export const RESERVED_STEP_IDS = {
  mspGate: 'msp_gate',
  sensitive: 'sensitive',
  emergencyLead: 'emergency_lead',
  retrospective: 'retrospective',
} as const;

const reserved: readonly string[] = Object.values(RESERVED_STEP_IDS);

const PersonSchema = z.object({
  tid: z
    .string()
    .refine(isGuid, 'must be an Entra tenant id (a GUID)')
    .transform((v) => v.toLowerCase() as TenantId),
  oid: z
    .string()
    .refine(isGuid, 'must be an Entra object id (a GUID)')
    .transform((v) => v.toLowerCase() as ObjectId),
  name: z.string().trim().min(1, 'is required').max(256, 'must be at most 256 characters'),
});

const RuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('any_of') }),
  z.object({ kind: z.literal('all_of') }),
  z.object({
    kind: z.literal('quorum'),
    required: z.number().int('must be a whole number').min(1, 'must be at least 1'),
  }),
]);

const StepSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be a short slug like client or cab')
      .refine((v) => !reserved.includes(v), `must not be one of ${reserved.join(', ')}`),
    name: z.string().trim().min(1, 'is required').max(80, 'must be at most 80 characters'),
    side: z.enum(['client', 'msp', 'cab']),
    approvers: z.array(PersonSchema).min(1, 'needs at least one approver'),
    rule: RuleSchema,
    when: z
      .object({
        minRisk: z.enum(RISK_LEVELS).optional(),
        classes: z.array(z.enum(CHANGE_CLASSES)).min(1).optional(),
        types: z.array(z.enum(CHANGE_TYPES)).min(1).optional(),
      })
      .optional(),
  })
  .superRefine((step, ctx) => {
    if (step.rule.kind === 'quorum' && step.rule.required > step.approvers.length) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['rule', 'required'],
        message: `must be at most the number of approvers (${step.approvers.length})`,
      });
    }
    const seen = new Set<string>();
    step.approvers.forEach((p, i) => {
      const key = `${p.tid}/${p.oid}`;
      if (seen.has(key))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['approvers', i],
          message: 'lists the same person twice',
        });
      seen.add(key);
    });
  });

/** The stored or configured shape of a client's policy; `parseApprovalPolicy` is its only door in. */
export const ClientApprovalPolicySchema = z
  .object({
    steps: z.array(StepSchema).max(10, 'must have at most 10 steps'),
    mspGate: z.boolean(),
    sensitiveApprovers: z.array(PersonSchema).default([]),
    timing: z
      .object({
        remindAfterHours: z
          .number()
          .positive('must be more than 0')
          .max(24 * 30),
        escalateAfterHours: z
          .number()
          .positive('must be more than 0')
          .max(24 * 60),
      })
      .refine((t) => t.escalateAfterHours > t.remindAfterHours, {
        path: ['escalateAfterHours'],
        message: 'must be later than remindAfterHours (remind the approver first, then escalate)',
      }),
  })
  .superRefine((policy, ctx) => {
    const ids = new Set<string>();
    policy.steps.forEach((s, i) => {
      if (ids.has(s.id))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['steps', i, 'id'],
          message: 'is used by another step',
        });
      ids.add(s.id);
    });
  });

/** Validates a policy from configuration or storage, reporting every field to fix at once. */
export function parseApprovalPolicy(raw: unknown): Result<ClientApprovalPolicy, ValidationError> {
  const parsed = ClientApprovalPolicySchema.safeParse(raw);
  if (parsed.success) return ok(parsed.data);
  return err(
    new ValidationError(
      parsed.error.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.join('.') : 'policy',
        message: issue.message,
      })),
    ),
  );
}
