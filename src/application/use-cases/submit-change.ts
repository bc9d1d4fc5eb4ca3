import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import {
  createChangeRequest,
  samePerson,
  transition,
  type Transition,
  type TransitionContext,
} from '../../domain/change-request/change-request.machine';
import { validateChangeInput } from '../../domain/change-request/change-request.payloads';
import { ChangeRequestErrors } from '../../domain/change-request/change-request.errors';
import { mayRaise } from '../../domain/client/client';
import type { DomainError } from '../../domain/shared/errors';
import { formatRequestId } from '../../domain/shared/ids';
import { err, ok, type Result } from '../../domain/shared/result';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';
import { identify, membershipFor } from './identify';
import { approvalCards } from './notifications';

export interface SubmitChangeCommand {
  /** From the authenticated activity or token, never from form data. */
  readonly actor: Person;
  /** Which client an MSP technician raises this for; ignored for client users (always their own tenant). */
  readonly clientTenantId?: string;
  readonly type: unknown;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface SubmittedChange {
  readonly request: ChangeRequest;
  /** Approvers with no conversation with Cabinet yet: their cards wait until they open it. */
  readonly unreachedApprovers: readonly Person[];
}

/**
 * Raises a change request: validates the form, creates the request with the client's next number,
 * triages it and sends it for approval — one transaction with its audit entries and approval cards.
 */
export async function submitChange(
  deps: UseCaseDeps,
  command: SubmitChangeCommand,
): Promise<Result<SubmittedChange, DomainError>> {
  const identity = await identify(deps, command.actor);
  const isMsp = command.actor.tid === deps.mspTenantId;
  const membership = isMsp
    ? command.clientTenantId
      ? membershipFor(identity, command.clientTenantId)
      : undefined
    : membershipFor(identity, command.actor.tid);
  if (!membership || !mayRaise(membership.roles)) {
    if (isMsp && identity.isMspStaff)
      return err(
        command.clientTenantId ? AccessErrors.clientNotAllowed() : AccessErrors.chooseClient(),
      );
    return err(AccessErrors.notRegistered());
  }
  const client = membership.client;
  const now = deps.clock.now();
  const input = validateChangeInput(command.type, command.fields, {
    today: now.toISOString().slice(0, 10),
  });
  if (!input.ok) return input;

  const draftApprovers = client.approvers.filter((a) => a.tid === client.tenantId);
  if (draftApprovers.every((a) => samePerson(a, command.actor)))
    return err(ChangeRequestErrors.noApprovers());

  const at = now.toISOString();
  const stored = await deps.requests.create(client.tenantId, (number) => {
    const created = createChangeRequest(input.value, {
      id: formatRequestId(client.code, number),
      number,
      tenantId: client.tenantId,
      clientCode: client.code,
      requester: command.actor,
      source: isMsp ? 'msp' : 'teams',
      now: at,
    });
    const system: TransitionContext = {
      actor: command.actor,
      roles: new Set(),
      system: true,
      now: at,
    };
    const triaged = mustTransition(transition(created.next, { type: 'Triaged' }, system));
    const sent = mustTransition(
      transition(triaged.next, { type: 'ApprovalRequested', approvers: draftApprovers }, system),
    );
    const request = sent.next;
    return {
      request,
      audit: [created.audit, triaged.audit, sent.audit],
      outbox: approvalCards(request),
    };
  });
  deps.outboxWritten?.(client.tenantId);

  const approvers = stored.request.approval?.approvers ?? [];
  const reachable = await deps.conversations.reachable(approvers);
  return ok({
    request: stored.request,
    unreachedApprovers: approvers.filter((a) => !reachable.has(`${a.tid}|${a.oid}`)),
  });
}

/** Transitions inside a create are pre-checked; a refusal there is a broken invariant, not a user error. */
function mustTransition(result: Result<Transition, DomainError>): Transition {
  if (!result.ok)
    throw new Error(`Invariant broken while submitting: ${result.error.code}`, {
      cause: result.error,
    });
  return result.value;
}
