import { planApprovals } from '../../domain/approval/approval.policy';
import { validateAssessment, type Assessment } from '../../domain/assessment/assessment';
import { suggestRisk, type RiskSuggestion } from '../../domain/assessment/risk.policy';
import { approvalFacts, riskSignals } from '../../domain/change-request/approval-facts';
import type { ChangeClass } from '../../domain/change-request/change-class';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { rulesFor } from '../../domain/client/client-rules';
import { matchActiveTemplate } from '../../domain/catalogue/template-match.policy';
import type { DomainError } from '../../domain/shared/errors';
import { err, ok, type Result } from '../../domain/shared/result';
import { applyChange, type ActionOutcome, type ChangeCommand } from './apply-change';
import { conflictsForRequest, type CalendarConflict } from './calendar';
import type { UseCaseDeps } from './context';
import { approvalCardKey, approvalCards, clientContacts, notify } from './notifications';
import { resolveRequest, type VisibleRequest } from './resolve-request';
import { AssessmentErrors } from '../../domain/assessment/assessment.errors';
import { isMspStaff } from '../../domain/client/client';

export interface AssessCommand extends ChangeCommand {
  /** Untrusted form data from the tab or a card: validated by the domain. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Required when the chosen risk differs from Cabinet's suggestion. */
  readonly overrideReason?: string;
}

export interface RiskPreview {
  readonly assessment: Assessment;
  readonly suggestion: RiskSuggestion;
  readonly conflicts: readonly CalendarConflict[];
}

/**
 * What Cabinet would suggest for an assessment, without saving it: the tab shows it while the
 * technician fills the form, so an override is a conscious choice.
 */
export async function previewAssessment(
  deps: UseCaseDeps,
  command: AssessCommand,
): Promise<Result<RiskPreview, DomainError>> {
  const visible = await resolveRequest(deps, command.actor, command.requestId);
  if (!visible.ok) return visible;
  if (!isMspStaff(visible.value.roles)) return err(AssessmentErrors.notStaff('assess a change'));
  return suggestionFor(deps, visible.value, command.fields, deps.clock.now().toISOString());
}

async function suggestionFor(
  deps: UseCaseDeps,
  visible: VisibleRequest,
  fields: Readonly<Record<string, unknown>>,
  now: string,
): Promise<Result<RiskPreview, DomainError>> {
  const request = visible.stored.request;
  const assessment = validateAssessment(fields, { selfId: request.id });
  if (!assessment.ok) return assessment;
  const window = assessment.value.requestedWindow;
  const conflicts = window
    ? await conflictsForRequest(deps, withWindow(request, assessment.value))
    : ok([]);
  if (!conflicts.ok) return conflicts;
  const signals = riskSignals(
    request,
    assessment.value,
    rulesFor(visible.client),
    now,
    conflicts.value.length,
  );
  return ok({
    assessment: assessment.value,
    suggestion: suggestRisk(signals),
    conflicts: conflicts.value,
  });
}

/** The request as it would be booked with this assessment, for conflict detection. */
function withWindow(request: ChangeRequest, assessment: Assessment): ChangeRequest {
  return {
    ...request,
    assessment: {
      ...assessment,
      suggestedRisk: assessment.risk,
      signals: [],
      riskOverridden: false,
      by: request.assignee ?? request.requester,
      at: request.updatedAt,
    },
  };
}

/** A technician records the assessment (issue 4 §2); overriding the suggested risk needs a reason. */
export function assessChange(deps: UseCaseDeps, command: AssessCommand): Promise<ActionOutcome> {
  return applyChange(deps, command, {
    event: async (visible, now) => {
      if (!isMspStaff(visible.roles)) return err(AssessmentErrors.notStaff('assess a change'));
      const preview = await suggestionFor(deps, visible, command.fields, now);
      if (!preview.ok) return preview;
      return ok({
        type: 'Assessed',
        assessment: preview.value.assessment,
        suggestion: preview.value.suggestion,
        conflicts: preview.value.conflicts,
        ...(command.overrideReason !== undefined ? { overrideReason: command.overrideReason } : {}),
      });
    },
    notifications: (next, before) => withdrawnCards(next, before),
  });
}

export interface ReclassifyCommand extends ChangeCommand {
  readonly to: ChangeClass;
  readonly reason: string;
}

/** A technician moves a request to another class with a reason; standard only under an active template. */
export function reclassifyChange(
  deps: UseCaseDeps,
  command: ReclassifyCommand,
): Promise<ActionOutcome> {
  return applyChange(deps, command, {
    event: async ({ client, stored }) => {
      const request = stored.request;
      let templateId: string | undefined;
      if (command.to === 'standard') {
        const active = await deps.templates.activeFor(client.tenantId);
        templateId = matchActiveTemplate(active, { type: request.type, payload: request.payload })
          .template?.template.id;
      }
      return ok({
        type: 'Reclassified',
        to: command.to,
        reason: command.reason,
        ...(templateId ? { templateId } : {}),
      });
    },
    notifications: (next, before) => withdrawnCards(next, before),
  });
}

/**
 * Sends the current version for approval under the client's policy: the steps that apply to its
 * class and risk, an MSP lead for an emergency (whose client contacts hear of it at once), or
 * straight to approved for a standard change under an active template.
 */
export function sendForApproval(deps: UseCaseDeps, command: ChangeCommand): Promise<ActionOutcome> {
  return applyChange(deps, command, {
    event: async ({ client, stored }, now) => {
      const request = stored.request;
      const rules = rulesFor(client);
      const plan = planApprovals(
        rules.approvalPolicy,
        approvalFacts(request, deps.mspTenantId),
        client.leads,
      );
      if (!plan.ok) return plan;
      const overEmergencyQuota =
        request.changeClass === 'emergency' &&
        (await emergenciesThisMonth(deps, request, rules.timeZone, now)) >=
          rules.emergencyQuotaPerMonth;
      return ok({ type: 'ApprovalRequested', plan: plan.value, overEmergencyQuota });
    },
    notifications: (next, _before, { client }) => {
      const requesters = [next.requester, ...(next.onBehalfOf ? [next.onBehalfOf] : [])];
      if (next.status === 'approved')
        return [
          ...requesters.map((p) => notify(p, next, 'status_update')),
          ...client.techs.map((t) => notify(t, next, 'ready_to_execute')),
        ];
      const messages = [
        ...approvalCards(next),
        ...requesters.map((p) => notify(p, next, 'status_update')),
      ];
      if (next.changeClass === 'emergency')
        messages.push(...clientContacts(client).map((p) => notify(p, next, 'emergency_notice')));
      return messages;
    },
  });
}

/** Emergency changes of this client already sent for approval in the current month of its calendar. */
async function emergenciesThisMonth(
  deps: UseCaseDeps,
  request: ChangeRequest,
  zone: string,
  now: string,
): Promise<number> {
  const month = (iso: string) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit' }).format(
      new Date(iso),
    );
  const current = month(now);
  const all = await deps.requests.list(request.tenantId, { limit: 500 });
  return all.filter(
    (r) =>
      r.id !== request.id &&
      r.changeClass === 'emergency' &&
      r.approvalPlan?.mode === 'emergency' &&
      r.approval?.steps[0]?.openedAt !== undefined &&
      month(r.approval.steps[0].openedAt) === current,
  ).length;
}

/** A round withdrawn by a new assessment or class: approvers' cards say so instead of offering buttons. */
function withdrawnCards(next: ChangeRequest, before: ChangeRequest) {
  if (before.status !== 'awaiting_approval' || next.status === 'awaiting_approval') return [];
  const seated = before.approval?.steps.flatMap((s) => s.approvers) ?? [];
  return seated.map((p) => notify(p, next, 'approval_decided', approvalCardKey(next.id)));
}
