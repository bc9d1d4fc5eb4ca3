import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import { samePerson, transition } from '../../domain/change-request/change-request.machine';
import { rolesFor, type ClientProfile } from '../../domain/client/client';
import type { DomainError } from '../../domain/shared/errors';
import { parseRequestId } from '../../domain/shared/ids';
import { ConcurrencyError } from '../ports/errors';
import type { OutboxMessage } from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';
import { approvalCardKey, notify } from './notifications';

export interface DecideApprovalCommand {
  /** From the authenticated activity: `from.aadObjectId` and the channel's tenant. */
  readonly actor: Person;
  /** From card data, untrusted: only used to look the request up. */
  readonly requestId: string;
  readonly version: number;
  readonly decision: 'approve' | 'deny';
  readonly reason?: string;
  /** Hash of the card the approver saw for this request and version, recorded with the decision. */
  readonly cardHash?: (request: ChangeRequest, client: ClientProfile) => string;
}

export type DecisionOutcome =
  /** This click recorded the decision. */
  | { readonly kind: 'decided'; readonly request: ChangeRequest; readonly client: ClientProfile }
  /** The request was already decided (a double click, a Teams retry, or another approver first). */
  | {
      readonly kind: 'already_decided';
      readonly request: ChangeRequest;
      readonly client: ClientProfile;
    }
  /** Refused; `request` is present only when the actor may see it (same tenant). */
  | {
      readonly kind: 'refused';
      readonly error: DomainError;
      /** Present only when the actor may see the request (they have a part in its client). */
      readonly visible?: { readonly request: ChangeRequest; readonly client: ClientProfile };
    };

const MAX_ATTEMPTS = 4;
/** Input mistakes the approver can fix on the card; not refusals worth an audit entry. */
const CORRECTABLE = new Set(['CR.REASON_REQUIRED', 'CR.TEXT_TOO_LONG']);

/**
 * Records an approver's decision. Authorised from the authenticated identity against the stored
 * approvers of the request's current version; idempotent under double clicks and redelivery.
 * @remarks Every refused click is audited in the client's chain (wrong tenant, not an approver,
 * self-approval, stale card), and nothing else changes.
 */
export async function decideApproval(
  deps: UseCaseDeps,
  command: DecideApprovalCommand,
): Promise<DecisionOutcome> {
  const parsed = parseRequestId(command.requestId);
  if (!parsed) return { kind: 'refused', error: AccessErrors.requestNotFound(command.requestId) };
  const client = (await deps.clients.getByCode(parsed.code))?.profile;
  if (!client) return { kind: 'refused', error: AccessErrors.requestNotFound(parsed.id) };
  const roles = rolesFor(client, command.actor);
  const sameTenant = command.actor.tid === client.tenantId;

  for (let attempt = 1; ; attempt += 1) {
    const stored = await deps.requests.get(client.tenantId, parsed.id);
    if (!stored) return { kind: 'refused', error: AccessErrors.requestNotFound(parsed.id) };
    if (!sameTenant && roles.size === 0) {
      await deps.audit.append(client.tenantId, [refusal(command, 'ACCESS.WRONG_TENANT')]);
      return { kind: 'refused', error: AccessErrors.requestNotFound(parsed.id) };
    }
    const current = stored.request;
    // A designated approver clicking again (double click, Teams retry, or after another approver) sees the outcome.
    const designated =
      current.approval?.approvers.some((a) => samePerson(a, command.actor)) ?? false;
    if (current.approval?.decision && designated)
      return { kind: 'already_decided', request: current, client };

    const now = deps.clock.now().toISOString();
    const cardHash = command.cardHash?.(current, client);
    const event =
      command.decision === 'approve'
        ? {
            type: 'ApprovalGranted' as const,
            version: command.version,
            ...(cardHash ? { cardHash } : {}),
          }
        : {
            type: 'ApprovalDenied' as const,
            version: command.version,
            reason: command.reason ?? '',
            ...(cardHash ? { cardHash } : {}),
          };
    const result = transition(current, event, { actor: command.actor, roles, now });
    if (!result.ok) {
      if (!CORRECTABLE.has(result.error.code))
        await deps.audit.append(client.tenantId, [refusal(command, result.error.code)]);
      return {
        kind: 'refused',
        error: result.error,
        ...(roles.size > 0 ? { visible: { request: current, client } } : {}),
      };
    }
    try {
      const saved = await deps.requests.update(client.tenantId, stored.etag, {
        request: result.value.next,
        audit: [result.value.audit],
        outbox: decisionNotifications(result.value.next, client, command.actor),
      });
      deps.outboxWritten?.(client.tenantId);
      return { kind: 'decided', request: saved.request, client };
    } catch (error: unknown) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** Requester told; the other approvers' cards updated in place; on approval, the client's technicians get a ready card. */
function decisionNotifications(
  request: ChangeRequest,
  client: ClientProfile,
  decider: Person,
): OutboxMessage[] {
  const messages = [request.requester, ...(request.onBehalfOf ? [request.onBehalfOf] : [])].map(
    (p) => notify(p, request, 'approval_decided'),
  );
  for (const approver of request.approval?.approvers ?? []) {
    if (!samePerson(approver, decider))
      messages.push(notify(approver, request, 'approval_decided', approvalCardKey(request.id)));
  }
  if (request.status === 'approved')
    messages.push(...client.techs.map((tech) => notify(tech, request, 'ready_to_execute')));
  return messages;
}

function refusal(command: DecideApprovalCommand, code: string): AuditEvent {
  return {
    type: 'approval.refused',
    actor: { tid: command.actor.tid, oid: command.actor.oid },
    requestId: parseRequestId(command.requestId)?.id ?? null,
    payload: {
      code,
      decision: command.decision,
      cardVersion: Number.isSafeInteger(command.version) ? command.version : null,
    },
  };
}
