import type { ChangeClass } from '../change-request/change-class';
import type { DomainError } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';
import { AssessmentErrors as E } from './assessment.errors';
import {
  isSensitive,
  riskRank,
  type Assessment,
  type RiskLevel,
  type SensitivityFlag,
} from './assessment';
import { checkRollbackPlan, type RollbackPlanCheck } from './rollback-plan.policy';

/** The risk floor a sensitive change can never go below. */
export const SENSITIVE_RISK_FLOOR: RiskLevel = 'high';

/**
 * One more approval a sensitive change needs, on top of the client's usual approvers.
 * @remarks A description, not a decision: the approval policy turns it into a step. Either
 * candidate satisfies it; the client's second approver is preferred when the client has one.
 */
export interface ExtraApproverRequirement {
  readonly reason: 'sensitivity';
  readonly flags: readonly SensitivityFlag[];
  readonly other?: string;
  readonly rule: 'any_of';
  readonly candidates: readonly ['client_second_approver', 'msp_lead'];
  readonly description: string;
}

const FLAG_WORDS: { readonly [F in SensitivityFlag]: string } = {
  executive_mailbox: 'an executive mailbox',
  admin_roles: 'admin roles',
  finance_data: 'finance data',
  hr_data: 'HR data',
  legal_hold: 'data under legal hold',
  security_controls: 'security controls',
  external_sharing: 'external sharing',
};

/** The extra approver a sensitive change needs (issue 4 §2), or undefined when it is not sensitive. */
export function extraApproverFor(
  assessment: Pick<Assessment, 'sensitivity' | 'sensitivityOther'>,
): ExtraApproverRequirement | undefined {
  if (!isSensitive(assessment)) return undefined;
  const other = assessment.sensitivityOther?.trim();
  const what = [
    ...assessment.sensitivity.map((f) => FLAG_WORDS[f]),
    ...(other ? [`"${other}"`] : []),
  ].join(', ');
  return {
    reason: 'sensitivity',
    flags: assessment.sensitivity,
    ...(other ? { other } : {}),
    rule: 'any_of',
    candidates: ['client_second_approver', 'msp_lead'],
    description:
      `This change touches ${what}, so besides the usual approval it needs one more: ` +
      "the client's second approver, or an MSP lead.",
  };
}

export interface ReadyForApprovalOptions {
  /** A standard change's template rollback plan. */
  readonly templatePlan?: string;
}

/** What an assessment contributes to the approval card once it is ready. */
export interface ApprovalReadiness {
  readonly rollback: RollbackPlanCheck;
  readonly extraApprover?: ExtraApproverRequirement;
}

/**
 * Whether an assessed change may be sent for approval: the gate the triage → awaiting_approval
 * step calls. Refuses the first problem with a message saying what to fix.
 * @remarks Normal changes need a requested window (where it may sit is the schedule policy's
 * business); every class needs a rollback plan that passes `checkRollbackPlan`; a sensitive change
 * cannot be assessed below `SENSITIVE_RISK_FLOOR`.
 */
export function checkReadyForApproval(
  assessment: Assessment,
  changeClass: ChangeClass,
  options: ReadyForApprovalOptions = {},
): Result<ApprovalReadiness, DomainError> {
  if (isSensitive(assessment) && riskRank(assessment.risk) < riskRank(SENSITIVE_RISK_FLOOR))
    return err(E.belowRiskFloor(assessment.risk, SENSITIVE_RISK_FLOOR, ['sensitive']));
  if (changeClass === 'normal' && assessment.requestedWindow === undefined)
    return err(E.windowRequired());
  const rollback = checkRollbackPlan(assessment.rollbackPlan, changeClass, options);
  if (!rollback.ok) return rollback;
  const extraApprover = extraApproverFor(assessment);
  return ok({ rollback: rollback.value, ...(extraApprover ? { extraApprover } : {}) });
}
