import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import { ChangeRequestErrors } from '../../domain/change-request/change-request.errors';
import { NOTE_MAX } from '../../domain/change-request/change-request.payloads';
import { noteSide, type NoteSide } from '../../domain/change-request/notes.policy';
import type { ClientProfile } from '../../domain/client/client';
import type { DomainError } from '../../domain/shared/errors';
import { samePerson } from '../../domain/shared/person';
import { err, ok, type Result } from '../../domain/shared/result';
import { ConcurrencyError } from '../ports/errors';
import type { OutboxMessage } from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';
import { resolveRequest } from './resolve-request';

/** A note as it was added (the text is also in the audit entry's sealed personal part). */
export interface AddedNote {
  readonly request: ChangeRequest;
  readonly text: string;
  /** Whose side wrote it: the MSP's staff, or the client's people (requester, admins, approvers). */
  readonly side: NoteSide;
}

const MAX_ATTEMPTS = 4;
/** Teams cards carry a short preview; the whole note is on the request's timeline. */
const PREVIEW_MAX = 240;

/**
 * Adds a Cabinet note to a request (issue 6 §2: these are the notes pushed to the PSA ticket).
 * MSP staff of the client, the requester and the client's admins and approvers may add one.
 * @remarks The request's version does not change: a note does not alter what was approved, so
 * open approval cards stay valid. The `note.added` audit entry (text and name sealed as personal
 * data) and the messages to the other side are written in the same transaction as the request.
 * @param tenantId The tenant the caller's card or page names, checked against the request's own;
 * `undefined` when the caller names only the request id (its client code decides, as for every
 * request action).
 */
export async function addNote(
  deps: UseCaseDeps,
  actor: Person,
  tenantId: string | undefined,
  requestId: string,
  text: string,
): Promise<Result<AddedNote, DomainError>> {
  const note = text.trim();
  if (!note) return err(ChangeRequestErrors.textRequired('The note', 'add a note'));
  if (note.length > NOTE_MAX) return err(ChangeRequestErrors.textTooLong('The note', NOTE_MAX));
  for (let attempt = 1; ; attempt += 1) {
    const visible = await resolveRequest(deps, actor, requestId);
    if (!visible.ok) return visible;
    const { client, roles, stored } = visible.value;
    // The tenant the caller named must be the request's own: never act on a tenant from input alone.
    if (tenantId !== undefined && client.tenantId !== tenantId)
      return err(AccessErrors.requestNotFound(stored.request.id));
    const request = stored.request;
    const side = noteSide(request, actor, roles);
    if (!side) return err(ChangeRequestErrors.notRequesterOrStaff());
    const event: AuditEvent = {
      type: 'note.added',
      actor: { tid: actor.tid, oid: actor.oid },
      requestId: request.id,
      payload: { side, length: note.length },
      personal: { name: actor.name, text: note },
    };
    try {
      await deps.requests.update(client.tenantId, stored.etag, {
        request,
        audit: [event],
        outbox: otherSide(actor, side, client, request).map((to) =>
          noteMessage(to, request, actor, note),
        ),
      });
      deps.outboxWritten?.(client.tenantId);
      return ok({ request, text: note, side });
    } catch (error: unknown) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/**
 * Who hears of the note: the requester (and whom it was raised for) when the MSP wrote it; the
 * assignee, or else the client's technicians, when the client did. Never the writer (an integration
 * requester's cards are dropped by the request store, see `requestOutbox`).
 */
function otherSide(
  actor: Person,
  side: AddedNote['side'],
  client: ClientProfile,
  request: ChangeRequest,
): Person[] {
  const candidates =
    side === 'msp'
      ? [request.requester, ...(request.onBehalfOf ? [request.onBehalfOf] : [])]
      : request.assignee
        ? [request.assignee]
        : client.techs;
  const people: Person[] = [];
  for (const p of candidates)
    if (!samePerson(p, actor) && !people.some((q) => samePerson(q, p))) people.push(p);
  return people;
}

function noteMessage(to: Person, request: ChangeRequest, by: Person, note: string): OutboxMessage {
  const preview = note.length > PREVIEW_MAX ? `${note.slice(0, PREVIEW_MAX - 1)}…` : note;
  return {
    kind: 'teams.notify',
    recipient: { tid: to.tid, oid: to.oid },
    notification: {
      template: 'status_update',
      requestId: request.id,
      version: request.version,
      note: `Note from ${by.name || 'someone'}: ${preview}`,
    },
  };
}
