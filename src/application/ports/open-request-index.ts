import {
  isTerminal,
  type ChangeClass,
  type ChangeRequest,
  type ChangeStatus,
} from '../../domain/change-request/change-request';
import type { ChangeType } from '../../domain/change-request/change-request.payloads';
import type { SlaSnapshot, SlaThreshold } from '../../domain/sla/sla';
import type { ChangeRequestId, ClientCode, ObjectId, TenantId } from '../../domain/shared/ids';
import type { OutboxMessage } from './outbox';

/**
 * What the MSP-wide views (SLA sweeper, wallboard) need of one open request, without reading the
 * request itself (issue 5; DESIGN.md §4: cross-client views read small index entities).
 */
export interface OpenRequestEntry {
  readonly tenantId: TenantId;
  readonly clientCode: ClientCode;
  readonly requestId: ChangeRequestId;
  readonly number: number;
  readonly type: ChangeType;
  readonly changeClass: ChangeClass;
  readonly title: string;
  readonly status: ChangeStatus;
  readonly version: number;
  readonly assignee?: { readonly tid: TenantId; readonly oid: ObjectId; readonly name: string };
  readonly acknowledgedAt?: string;
  readonly sla?: SlaSnapshot;
  readonly slaPosted: readonly SlaThreshold[];
  /** The times it waited on the client, so its SLA can be computed from the entry alone. */
  readonly clarification?: { readonly askedAt: string };
  readonly clarifications?: readonly { readonly askedAt: string; readonly answeredAt: string }[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ListOpenRequestsOptions {
  /** Only these clients' requests; every client's when absent. */
  readonly tenantIds?: readonly TenantId[];
}

/**
 * The index of open (non-terminal) requests across every client. Kept up to date through the
 * outbox (`index.sync` rows written with every request change), so it may briefly lag the requests.
 */
export interface OpenRequestIndex {
  /**
   * Brings the request's entry up to date: written while the request is open, removed once it is
   * terminal. An entry newer than `request` (see {@link isOlderThan}) is left as it is.
   */
  sync(request: ChangeRequest): Promise<void>;
  /** Every open request (of `tenantIds` when given), in no particular order. */
  list(options?: ListOpenRequestsOptions): Promise<OpenRequestEntry[]>;
  get(tenantId: TenantId, requestId: ChangeRequestId): Promise<OpenRequestEntry | undefined>;
}

/** The entry a request has in the index, or undefined when it is terminal (it has none). */
export function openRequestEntry(request: ChangeRequest): OpenRequestEntry | undefined {
  if (isTerminal(request.status)) return undefined;
  return {
    tenantId: request.tenantId,
    clientCode: request.clientCode,
    requestId: request.id,
    number: request.number,
    type: request.type,
    changeClass: request.changeClass,
    title: request.title,
    status: request.status,
    version: request.version,
    ...(request.assignee
      ? {
          assignee: {
            tid: request.assignee.tid,
            oid: request.assignee.oid,
            name: request.assignee.name,
          },
        }
      : {}),
    ...(request.acknowledgedAt ? { acknowledgedAt: request.acknowledgedAt } : {}),
    ...(request.sla ? { sla: request.sla } : {}),
    slaPosted: [...(request.slaPosted ?? [])],
    ...(request.clarification ? { clarification: { askedAt: request.clarification.askedAt } } : {}),
    ...(request.clarifications && request.clarifications.length > 0
      ? {
          clarifications: request.clarifications.map((q) => ({
            askedAt: q.askedAt,
            answeredAt: q.answeredAt,
          })),
        }
      : {}),
    createdAt: request.createdAt,
    updatedAt: request.updatedAt,
  };
}

/**
 * True when `candidate` is an older state of the request than `current`: a lower version, or the
 * same version last updated earlier. Equal states are not older, so re-syncing one is harmless.
 */
export function isOlderThan(
  candidate: { readonly version: number; readonly updatedAt: string },
  current: { readonly version: number; readonly updatedAt: string },
): boolean {
  if (candidate.version !== current.version) return candidate.version < current.version;
  return candidate.updatedAt < current.updatedAt;
}

/**
 * A request write's outbox rows plus one `index.sync`: request stores add it to every create and
 * update, so every change reaches the index without any use case having to remember it.
 */
export function withIndexSync(
  request: ChangeRequest,
  outbox: readonly OutboxMessage[],
): readonly OutboxMessage[] {
  return [...outbox, { kind: 'index.sync', requestId: request.id }];
}
