import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import { transition, type ChangeEvent } from '../../domain/change-request/change-request.machine';
import { ChangeRequestErrors } from '../../domain/change-request/change-request.errors';
import type { DomainError } from '../../domain/shared/errors';
import { ConcurrencyError } from '../ports/errors';
import type { NotificationTemplate, OutboxMessage } from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { resolveRequest } from './resolve-request';
import { approvalCardKey, notify } from './notifications';

/** Work on a request after approval, and cancellation (approval decisions go through decideApproval). */
export type RequestAction = Extract<
  ChangeEvent,
  {
    readonly type:
      | 'WorkStarted'
      | 'ImplementationCompleted'
      | 'Failed'
      | 'RolledBack'
      | 'Closed'
      | 'Cancelled';
  }
>;

export interface ActOnRequestCommand {
  readonly actor: Person;
  readonly requestId: string;
  /** The version the actor's card showed; a stale card is refused so nobody acts on what they did not see. */
  readonly version?: number;
  readonly action: RequestAction;
}

export type ActionOutcome =
  | { readonly kind: 'done'; readonly request: ChangeRequest }
  | { readonly kind: 'refused'; readonly error: DomainError; readonly request?: ChangeRequest };

const MAX_ATTEMPTS = 4;
/** Refusals that mean "you may not", audited; others (wrong state, bad input) just get the current card. */
const AUTHORISATION_CODES = new Set(['CR.NOT_STAFF', 'CR.NOT_ALLOWED', 'CR.NOT_APPROVED']);

/** Applies a technician's or requester's action to a request, with its audit entry and notifications. */
export async function actOnRequest(
  deps: UseCaseDeps,
  command: ActOnRequestCommand,
): Promise<ActionOutcome> {
  for (let attempt = 1; ; attempt += 1) {
    const visible = await resolveRequest(deps, command.actor, command.requestId);
    if (!visible.ok) return { kind: 'refused', error: visible.error };
    const { client, roles, stored } = visible.value;
    const current = stored.request;
    if (command.version !== undefined && command.version !== current.version) {
      return {
        kind: 'refused',
        error: ChangeRequestErrors.staleVersion(command.version, current.version),
        request: current,
      };
    }
    const now = deps.clock.now().toISOString();
    const result = transition(current, command.action, { actor: command.actor, roles, now });
    if (!result.ok) {
      if (AUTHORISATION_CODES.has(result.error.code)) {
        await deps.audit.append(client.tenantId, [
          {
            type: 'action.refused',
            actor: { tid: command.actor.tid, oid: command.actor.oid },
            requestId: current.id,
            payload: { code: result.error.code, action: command.action.type },
          },
        ]);
      }
      return { kind: 'refused', error: result.error, request: current };
    }
    try {
      const saved = await deps.requests.update(client.tenantId, stored.etag, {
        request: result.value.next,
        audit: [result.value.audit],
        outbox: actionNotifications(result.value.next, current, command.actor, client.techs),
      });
      deps.outboxWritten?.(client.tenantId);
      return { kind: 'done', request: saved.request };
    } catch (error: unknown) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

function actionNotifications(
  next: ChangeRequest,
  before: ChangeRequest,
  actor: Person,
  techs: readonly Person[],
): OutboxMessage[] {
  const requesters = [next.requester, ...(next.onBehalfOf ? [next.onBehalfOf] : [])].filter(
    (p) => p.oid !== actor.oid || p.tid !== actor.tid,
  );
  const template: NotificationTemplate =
    next.status === 'closed' || next.status === 'rolled_back' ? 'request_closed' : 'status_update';
  const messages = requesters.map((p) => notify(p, next, template));
  // A cancelled request must not leave live Approve buttons behind, nor a technician working on it.
  if (next.status === 'cancelled' && before.status === 'awaiting_approval') {
    messages.push(
      ...(next.approval?.approvers ?? []).map((a) =>
        notify(a, next, 'approval_decided', approvalCardKey(next.id)),
      ),
    );
  }
  if (
    next.status === 'cancelled' &&
    ['approved', 'in_progress', 'implemented', 'failed'].includes(before.status)
  ) {
    const workers = before.assignee ? [before.assignee] : techs;
    messages.push(
      ...workers
        .filter((w) => !(w.oid === actor.oid && w.tid === actor.tid))
        .map((w) => notify(w, next, 'status_update')),
    );
  }
  return messages;
}
