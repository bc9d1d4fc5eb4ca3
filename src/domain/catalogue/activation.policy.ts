import { rolesFor, type ClientProfile } from '../client/client';
import type { DomainError } from '../shared/errors';
import type { TenantId } from '../shared/ids';
import type { Person } from '../shared/person';
import { err, ok, type Result } from '../shared/result';
import { TemplateErrors as E } from './catalogue.errors';
import {
  sameContent,
  type StandardTemplate,
  type TemplateContent,
  type TemplateId,
  type TemplateScope,
} from './template';

export type ActivationStatus = 'proposed' | 'active' | 'suspended' | 'withdrawn';

/**
 * A template's standing with one client. Active only once that client's approver approved the
 * version it names; runs are counted so a failure can suspend it and successes can be reported.
 */
export interface TemplateActivation {
  readonly templateId: TemplateId;
  readonly templateVersion: number;
  readonly clientTenantId: TenantId;
  readonly status: ActivationStatus;
  readonly proposedBy: Person;
  readonly proposedAt: string;
  readonly approvedBy?: Person;
  readonly approvedAt?: string;
  readonly successfulRuns: number;
  readonly failedRuns: number;
  readonly suspendedReason?: string;
  readonly suspendedAt?: string;
  /** Why the client declined it (status `withdrawn`). */
  readonly withdrawnReason?: string;
  readonly withdrawnBy?: Person;
}

/** A template together with the client's activation of it. */
export interface ActiveTemplate {
  readonly template: StandardTemplate;
  readonly activation: TemplateActivation;
}

/**
 * The status a client sees: an activation approved for an older version is waiting for
 * re-approval, whatever its row still says (so a half-finished fan-out after an edit is safe).
 */
export function effectiveStatus(
  template: StandardTemplate,
  activation: TemplateActivation | undefined,
): ActivationStatus | 'not_proposed' {
  if (!activation) return 'not_proposed';
  if (activation.templateVersion !== template.version && activation.status !== 'withdrawn')
    return 'proposed';
  return activation.status;
}

export function isActive(entry: ActiveTemplate): boolean {
  return effectiveStatus(entry.template, entry.activation) === 'active';
}

/** Whether `scope` may be offered to this client: global templates to all, a client's own to it alone. */
export function offeredTo(scope: TemplateScope, clientTenantId: TenantId): boolean {
  return scope === 'global' || scope === clientTenantId;
}

export interface CatalogueContext {
  readonly by: Person;
  readonly at: string;
}

/** A new template at version 1. */
export function newTemplate(
  id: TemplateId,
  scope: TemplateScope,
  content: TemplateContent,
  ctx: CatalogueContext,
): StandardTemplate {
  return { id, scope, ...content, version: 1, updatedBy: ctx.by, updatedAt: ctx.at };
}

/**
 * Edits a template's content: the version moves on and every activation that is not withdrawn goes
 * back to `proposed` at the new version, so each client re-approves what will now run.
 */
export function reviseTemplate(
  template: StandardTemplate,
  content: TemplateContent,
  activations: readonly TemplateActivation[],
  ctx: CatalogueContext,
): Result<
  { readonly template: StandardTemplate; readonly activations: readonly TemplateActivation[] },
  DomainError
> {
  if (sameContent(template, content)) return err(E.unchanged(template.id));
  const next: StandardTemplate = {
    ...template,
    ...content,
    version: template.version + 1,
    updatedBy: ctx.by,
    updatedAt: ctx.at,
  };
  return ok({
    template: next,
    activations: activations
      .filter((a) => a.templateId === template.id && a.status !== 'withdrawn')
      .map((a) => reproposed(a, next.version, ctx)),
  });
}

function reproposed(
  activation: TemplateActivation,
  version: number,
  ctx: CatalogueContext,
): TemplateActivation {
  return {
    templateId: activation.templateId,
    templateVersion: version,
    clientTenantId: activation.clientTenantId,
    status: 'proposed',
    proposedBy: ctx.by,
    proposedAt: ctx.at,
    successfulRuns: activation.successfulRuns,
    failedRuns: activation.failedRuns,
  };
}

/** A lead offers a template to a client (again, after a decline or an edit). */
export function proposeTemplate(
  template: StandardTemplate,
  client: ClientProfile,
  existing: TemplateActivation | undefined,
  ctx: CatalogueContext,
): Result<TemplateActivation, DomainError> {
  if (!rolesFor(client, ctx.by).has('lead')) return err(E.notLead('propose a template'));
  if (!offeredTo(template.scope, client.tenantId)) return err(E.wrongClient(template.id));
  const status = effectiveStatus(template, existing);
  if (status === 'active' || status === 'suspended') return err(E.alreadyActive(template.id));
  return ok(
    existing
      ? reproposed(existing, template.version, ctx)
      : reproposed(
          {
            templateId: template.id,
            templateVersion: template.version,
            clientTenantId: client.tenantId,
            status: 'proposed',
            proposedBy: ctx.by,
            proposedAt: ctx.at,
            successfulRuns: 0,
            failedRuns: 0,
          },
          template.version,
          ctx,
        ),
  );
}

/**
 * Whether `who` may decide on templates for this client: one of the client's own approvers, in the
 * client's tenant. MSP staff never may, even if also listed, so the MSP never pre-approves its own work.
 */
export function isClientApprover(client: ClientProfile, who: Person): boolean {
  return who.tid === client.tenantId && rolesFor(client, who).has('approver');
}

/** The client's approver approves (`approve`) or declines (`decline`, reason required) the version the card showed. */
export function decideTemplate(
  template: StandardTemplate,
  activation: TemplateActivation | undefined,
  client: ClientProfile,
  decision:
    | { readonly kind: 'approve'; readonly version: number }
    | { readonly kind: 'decline'; readonly version: number; readonly reason: string },
  ctx: CatalogueContext,
): Result<TemplateActivation, DomainError> {
  if (!isClientApprover(client, ctx.by)) return err(E.notClientApprover());
  if (!activation || !offeredTo(template.scope, client.tenantId))
    return err(E.notFound(template.id));
  if (decision.version !== template.version)
    return err(E.staleVersion(template.id, decision.version, template.version));
  const status = effectiveStatus(template, activation);
  if (status !== 'proposed') return err(E.notProposed(template.id, status));
  const base = { ...activation, templateVersion: template.version };
  if (decision.kind === 'approve')
    return ok({ ...base, status: 'active', approvedBy: ctx.by, approvedAt: ctx.at });
  const reason = decision.reason.trim();
  if (reason.length < 3) return err(E.reasonRequired('decline a template'));
  return ok({ ...base, status: 'withdrawn', withdrawnBy: ctx.by, withdrawnReason: reason });
}

/** A run under the template ended: successes are counted, a failure suspends it for this client. */
export function recordRun(
  activation: TemplateActivation,
  outcome: 'succeeded' | 'failed',
  at: string,
  reason?: string,
): TemplateActivation {
  if (outcome === 'succeeded')
    return { ...activation, successfulRuns: activation.successfulRuns + 1 };
  return {
    ...activation,
    failedRuns: activation.failedRuns + 1,
    status: activation.status === 'withdrawn' ? 'withdrawn' : 'suspended',
    suspendedAt: at,
    suspendedReason: reason?.trim() || 'A change run under this template failed.',
  };
}

/** A lead of the client re-enables a suspended template (the client's approval still stands). */
export function reenableTemplate(
  template: StandardTemplate,
  activation: TemplateActivation | undefined,
  client: ClientProfile,
  reason: string,
  ctx: CatalogueContext,
): Result<TemplateActivation, DomainError> {
  if (!rolesFor(client, ctx.by).has('lead')) return err(E.notLead('re-enable a template'));
  if (!activation) return err(E.notFound(template.id));
  const status = effectiveStatus(template, activation);
  if (status !== 'suspended') return err(E.notSuspended(template.id, status));
  if (reason.trim().length < 3) return err(E.reasonRequired('re-enable a suspended template'));
  const { suspendedAt: _at, suspendedReason: _reason, ...rest } = activation;
  return ok({ ...rest, status: 'active' });
}
