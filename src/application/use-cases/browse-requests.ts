import { SYSTEM_OID } from '../../domain/audit/audit-event';
import type {
  ChangeRequest,
  ChangeStatus,
  Person,
} from '../../domain/change-request/change-request';
import type { ClientProfile } from '../../domain/client/client';
import { PSA_KINDS, PSA_NAMES } from '../../domain/psa/psa';
import type { DomainError } from '../../domain/shared/errors';
import type { ClientCode } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';
import { ok, type Result } from '../../domain/shared/result';
import type { UseCaseDeps } from './context';
import { identify, type Identity } from './identify';
import { resolveRequest, type VisibleRequest } from './resolve-request';

/** Enough audit entries per read to page through a busy client's chain in few round trips. */
const AUDIT_PAGE = 500;
const QUEUE_LIMIT_MAX = 200;

export interface ListQueueInput {
  readonly actor: Person;
  /** Only requests in these states; all states when absent. */
  readonly statuses?: readonly ChangeStatus[];
  /** Narrows to one of the actor's clients; never widens beyond them. */
  readonly clientCode?: ClientCode;
  readonly limit?: number;
}

export interface QueuedRequest {
  readonly client: ClientProfile;
  readonly request: ChangeRequest;
}

export interface Queue {
  readonly identity: Identity;
  /** Newest activity first. */
  readonly requests: readonly QueuedRequest[];
}

/**
 * The requests someone may follow: a technician's across the clients they serve, a client user's
 * in their own tenant only.
 * @remarks Scope comes from the authenticated person and Cabinet's own client directory; a client
 * code only filters within that scope.
 */
export async function listQueue(deps: UseCaseDeps, input: ListQueueInput): Promise<Queue> {
  const identity = await identify(deps, input.actor);
  const limit = Math.min(Math.max(1, input.limit ?? 50), QUEUE_LIMIT_MAX);
  const memberships = identity.memberships.filter(
    (m) => input.clientCode === undefined || m.client.code === input.clientCode,
  );
  const lists = await Promise.all(
    memberships.map(async (m) =>
      (
        await deps.requests.list(m.client.tenantId, {
          ...(input.statuses ? { statuses: input.statuses } : {}),
          limit,
        })
      ).map((request) => ({ client: m.client, request })),
    ),
  );
  const requests = lists
    .flat()
    .sort((a, b) => b.request.updatedAt.localeCompare(a.request.updatedAt))
    .slice(0, limit);
  return { identity, requests };
}

/** One audit entry about a request, with its personal data opened for someone allowed to see it. */
export interface TimelineEntry {
  readonly seq: number;
  readonly at: string;
  readonly type: string;
  /** The person as the client profile knows them, "Cabinet" for Cabinet's own steps. */
  readonly actorName: string;
  /** Ids, codes and states: stored in clear. */
  readonly payload: JsonObject;
  /** Names, UPNs and free text; absent when there were none or the client's key was destroyed. */
  readonly personal?: JsonObject;
}

export interface RequestHistory extends VisibleRequest {
  /** Oldest first. */
  readonly timeline: readonly TimelineEntry[];
}

/**
 * A request the actor may see with its audit trail, read from the client's own chain only.
 * @remarks The chain is per client and has no index by request, so this reads it in pages and keeps
 * this request's entries; fine at the sizes a client's chain reaches between checkpoints.
 */
export async function requestHistory(
  deps: UseCaseDeps,
  input: { readonly actor: Person; readonly requestId: string },
): Promise<Result<RequestHistory, DomainError>> {
  const visible = await resolveRequest(deps, input.actor, input.requestId);
  if (!visible.ok) return visible;
  const { client, stored } = visible.value;
  const timeline: TimelineEntry[] = [];
  for (let fromSeq = 1; ; fromSeq += AUDIT_PAGE) {
    const page = await deps.audit.read(client.tenantId, { fromSeq, limit: AUDIT_PAGE });
    for (const entry of page) {
      const parsed = JSON.parse(entry.canonical) as {
        readonly ts: string;
        readonly type: string;
        readonly actor: { readonly tid: string; readonly oid: string };
        readonly requestId: string | null;
        readonly payload: JsonObject;
      };
      if (parsed.requestId !== stored.request.id) continue;
      const { personal: _sealed, ...payload } = parsed.payload;
      const personal = await deps.audit.openPersonal(client.tenantId, entry);
      timeline.push({
        seq: entry.seq,
        at: parsed.ts,
        type: parsed.type,
        actorName:
          psaAuthor(parsed.type, payload, personal) ??
          actorName(client, stored.request, parsed.actor),
        payload,
        ...(personal ? { personal } : {}),
      });
    }
    if (page.length < AUDIT_PAGE) break;
  }
  return ok({ ...visible.value, timeline });
}

/** A note taken in from a PSA was written by a technician there, not by Cabinet: "Hal Tech (HaloPSA)". */
function psaAuthor(
  type: string,
  payload: JsonObject,
  personal: JsonObject | undefined,
): string | undefined {
  if (type !== 'psa.note_received' || typeof personal?.['author'] !== 'string') return undefined;
  const psa = PSA_KINDS.find((k) => k === payload['psa']);
  return psa ? `${personal['author']} (${PSA_NAMES[psa]})` : personal['author'];
}

function actorName(
  client: ClientProfile,
  request: ChangeRequest,
  actor: { readonly tid: string; readonly oid: string },
): string {
  if (actor.oid === SYSTEM_OID) return 'Cabinet';
  const known = [
    request.requester,
    ...(request.onBehalfOf ? [request.onBehalfOf] : []),
    ...client.admins,
    ...client.approvers,
    ...client.techs,
    ...client.leads,
  ].find((p) => p.tid === actor.tid && p.oid === actor.oid);
  return known?.name || 'Someone no longer listed for this client';
}
