import {
  SYSTEM_OID,
  type AuditActor,
  type AuditEvent,
  type AuditEventType,
} from '../audit/audit-event';
import type { JsonObject } from '../shared/json';
import { recordRun, type TemplateActivation } from './activation.policy';
import type { StandardTemplate } from './template';

/** A catalogue audit event: ids, versions and codes in clear; names and free text sealed. */
export function templateEvent(
  type: AuditEventType,
  actor: AuditActor,
  template: Pick<StandardTemplate, 'id' | 'scope' | 'version'>,
  payload: JsonObject = {},
  personal?: JsonObject,
  requestId: string | null = null,
): AuditEvent {
  return {
    type,
    actor: { tid: actor.tid, oid: actor.oid },
    requestId,
    payload: {
      templateId: template.id,
      scope: template.scope,
      templateVersion: template.version,
      ...payload,
    },
    ...(personal ? { personal } : {}),
  };
}

/**
 * A run under a template ended: the next activation, and `template.suspended` when a failure
 * suspends it (recorded by Cabinet itself, in the client's chain).
 */
export function runOutcome(
  activation: TemplateActivation,
  outcome: 'succeeded' | 'failed',
  at: string,
  options: { readonly reason?: string; readonly requestId?: string } = {},
): { readonly activation: TemplateActivation; readonly audit: readonly AuditEvent[] } {
  const next = recordRun(activation, outcome, at, options.reason);
  const suspended = next.status === 'suspended' && activation.status !== 'suspended';
  return {
    activation: next,
    audit: suspended
      ? [
          {
            type: 'template.suspended',
            actor: { tid: activation.clientTenantId, oid: SYSTEM_OID },
            requestId: options.requestId ?? null,
            payload: {
              templateId: activation.templateId,
              templateVersion: activation.templateVersion,
              clientTenantId: activation.clientTenantId,
              failedRuns: next.failedRuns,
            },
            personal: { reason: next.suspendedReason ?? null },
          },
        ]
      : [],
  };
}
