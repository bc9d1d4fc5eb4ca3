import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ApprovalState } from '../../domain/approval/approval.policy';
import type { Delegation } from '../../domain/approval/delegation.policy';
import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import { samePerson, transition } from '../../domain/change-request/change-request.machine';
import { rolesFor, type ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import type { DomainError } from '../../domain/shared/errors';
import { parseRequestId } from '../../domain/shared/ids';
import { ConcurrencyError } from '../ports/errors';
import type { OutboxMessage } from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';
import {
  approvalCardKey,
  approversOf,
  awaitedApprovers,
  clientContacts,
  currentRound,
  notify,
} from './notifications';

export interface DecideApprovalCommand {
  /** From the authenticated activity: `from.aadObjectId` and the channel's tenant. */
  readonly actor: Person;
  /** From card data, untrusted: only used to look the request up. */
  readonly requestId: string;
  readonly version: number;
  /** The step the card was for; absent: the step open now. */
  readonly step?: string;
  readonly decision: 'approve' | 'deny';
  readonly reason?: string;
  /** Hash of the card the approver saw for this request and version, recorded with the decision. */
  readonly cardHash?: (
    request: ChangeRequest,
    client: ClientProfile,
    delegations: readonly Delegation[],
  ) => string;
}

export type DecisionOutcome =
  /** This click recorded the vote (and maybe settled its step or the request). */
  | { readonly kind: 'decided'; readonly request: ChangeRequest; readonly client: ClientProfile }
  /** This vote was already recorded, or the request already settled (a double click, a Teams retry). */
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
/** The vote is already in, or the request settled: show where things stand rather than an error. */
const ALREADY = new Set([
  'APPROVAL.DUPLICATE_VOTE',
  'APPROVAL.ALREADY_VOTED',
  'APPROVAL.STEP_SETTLED',
  'CR.ALREADY_DECIDED',
]);

/**
 * Records an approver's vote on a step (or a delegate's, in the seat a delegation in force lets
 * them fill). Authorised from the authenticated identity against the stored seats of the request's
 * current version; idempotent under double clicks and redelivery.
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
    if (!sameTenant && roles.size === 0 && !seatedAnywhere(stored.request, command.actor)) {
      await deps.audit.append(client.tenantId, [refusal(command, 'ACCESS.WRONG_TENANT')]);
      return { kind: 'refused', error: AccessErrors.requestNotFound(parsed.id) };
    }
    const current = stored.request;
    const now = deps.clock.now().toISOString();
    const round = currentRound(current);
    const step = command.step ?? stepFor(round, command.actor);
    const delegations = await deps.delegations.inForce(client.tenantId, now);
    const cardHash = command.cardHash?.(current, client, delegations);
    const result = transition(
      current,
      {
        type: 'VoteCast',
        decision: {
          by: command.actor,
          step,
          version: command.version,
          outcome: command.decision === 'approve' ? 'approved' : 'denied',
          ...(command.reason !== undefined ? { reason: command.reason } : {}),
          at: now,
          ...(cardHash ? { cardHash } : {}),
        },
        delegations,
      },
      { actor: command.actor, roles, now, rules: rulesFor(client) },
    );
    if (!result.ok) {
      if (ALREADY.has(result.error.code))
        return { kind: 'already_decided', request: current, client };
      if (!CORRECTABLE.has(result.error.code))
        await deps.audit.append(client.tenantId, [refusal(command, result.error.code)]);
      return {
        kind: 'refused',
        error: result.error,
        ...(roles.size > 0 || seatedAnywhere(current, command.actor)
          ? { visible: { request: current, client } }
          : {}),
      };
    }
    try {
      const saved = await deps.requests.update(client.tenantId, stored.etag, {
        request: result.value.next,
        audit: [result.value.audit],
        outbox: decisionNotifications(result.value.next, current, client, command.actor),
      });
      deps.outboxWritten?.(client.tenantId);
      return { kind: 'decided', request: saved.request, client };
    } catch (error: unknown) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/**
 * The step a vote without one is for: the open step, else (the round has moved on) the step where
 * the actor sits or voted, so a late click is answered as already decided, not as an unknown step.
 */
function stepFor(round: ApprovalState | undefined, actor: Person): string {
  const steps = round?.steps ?? [];
  const open = steps.find((s) => s.status === 'open');
  const mine = steps.find(
    (s) =>
      s.approvers.some((p) => samePerson(p, actor)) || s.votes.some((v) => samePerson(v.by, actor)),
  );
  return (open ?? mine ?? steps.at(-1))?.id ?? '';
}

/** CAB members may sit on the MSP side of a client they have no other part in. */
function seatedAnywhere(request: ChangeRequest, who: Person): boolean {
  return approversOf(request).some((p) => samePerson(p, who));
}

/**
 * Everyone's approval card is updated in place with the votes so far; a step that just opened sends
 * its approvers a card; a settled request tells the requester, and an approved one the technicians
 * (and, for a scheduled normal change, the client's contacts get their advance notice).
 */
function decisionNotifications(
  request: ChangeRequest,
  before: ChangeRequest,
  client: ClientProfile,
  decider: Person,
): OutboxMessage[] {
  const messages: OutboxMessage[] = [];
  const carded = approversOf(before).filter((p) => !samePerson(p, decider));
  const fresh = awaitedApprovers(request).filter(
    (p) => !awaitedApprovers(before).some((q) => samePerson(q, p)),
  );
  for (const p of carded)
    if (!fresh.some((q) => samePerson(q, p)))
      messages.push(notify(p, request, 'approval_decided', approvalCardKey(request.id)));
  messages.push(
    ...fresh.map((p) => notify(p, request, 'approval_request', approvalCardKey(request.id))),
  );
  if (request.status === before.status) return messages;
  messages.push(
    ...[request.requester, ...(request.onBehalfOf ? [request.onBehalfOf] : [])].map((p) =>
      notify(p, request, request.status === 'closed' ? 'request_closed' : 'approval_decided'),
    ),
  );
  if (request.status === 'approved') {
    messages.push(...client.techs.map((tech) => notify(tech, request, 'ready_to_execute')));
    if (request.changeClass === 'normal' && request.assessment?.requestedWindow)
      messages.push(...clientContacts(client).map((p) => notify(p, request, 'change_notice')));
  }
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
