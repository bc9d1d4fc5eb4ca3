import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import { transition, type ChangeEvent } from '../../domain/change-request/change-request.machine';
import { ChangeRequestErrors } from '../../domain/change-request/change-request.errors';
import { rulesFor } from '../../domain/client/client-rules';
import type { DomainError } from '../../domain/shared/errors';
import type { Result } from '../../domain/shared/result';
import { ConcurrencyError } from '../ports/errors';
import type { OutboxMessage } from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { resolveRequest, type VisibleRequest } from './resolve-request';
import { recordTemplateRun } from './template-outcomes';

export interface ChangeCommand {
  /** From the authenticated activity or token, never from form data. */
  readonly actor: Person;
  readonly requestId: string;
  /** The version the actor's card or page showed; a stale one is refused so nobody acts on what they did not see. */
  readonly version?: number;
}

export type ActionOutcome =
  | { readonly kind: 'done'; readonly request: ChangeRequest }
  | { readonly kind: 'refused'; readonly error: DomainError; readonly request?: ChangeRequest };

/** How one kind of change is made: the event to apply, and who hears about it. */
export interface ChangeRecipe {
  /** The event for the request as it is now; may read other ports (the client's templates, calendar). */
  event(visible: VisibleRequest, now: string): Promise<Result<ChangeEvent, DomainError>>;
  /** Messages written with the change, in the same transaction. */
  notifications(
    next: ChangeRequest,
    before: ChangeRequest,
    visible: VisibleRequest,
  ): OutboxMessage[];
}

const MAX_ATTEMPTS = 4;
/** Refusals that mean "you may not": audited. Others (wrong state, bad input) just get the current card. */
const AUTHORISATION_CODES = new Set(['CR.NOT_STAFF', 'CR.NOT_ALLOWED', 'CR.NOT_APPROVED']);

/**
 * Applies one event to a request the actor may see, with its audit entry and notifications in one
 * transaction; retries from a fresh read when another writer got there first.
 */
export async function applyChange(
  deps: UseCaseDeps,
  command: ChangeCommand,
  recipe: ChangeRecipe,
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
    const event = await recipe.event(visible.value, now);
    const result = event.ok
      ? transition(current, event.value, {
          actor: command.actor,
          roles,
          now,
          rules: rulesFor(client),
        })
      : event;
    if (!result.ok) {
      if (AUTHORISATION_CODES.has(result.error.code)) {
        await deps.audit.append(client.tenantId, [
          {
            type: 'action.refused',
            actor: { tid: command.actor.tid, oid: command.actor.oid },
            requestId: current.id,
            payload: { code: result.error.code, action: event.ok ? event.value.type : 'unknown' },
          },
        ]);
      }
      return { kind: 'refused', error: result.error, request: current };
    }
    try {
      const saved = await deps.requests.update(client.tenantId, stored.etag, {
        request: result.value.next,
        audit: [result.value.audit],
        outbox: recipe.notifications(result.value.next, current, visible.value),
      });
      deps.outboxWritten?.(client.tenantId);
      await recordTemplateRun(deps, current, saved.request);
      return { kind: 'done', request: saved.request };
    } catch (error: unknown) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
