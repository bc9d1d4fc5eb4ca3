import {
  isTerminal,
  type ChangeClass,
  type ChangeRequest,
  type ChangeStatus,
} from '../../domain/change-request/change-request';
import type { ChangeType } from '../../domain/change-request/change-request.payloads';
import type { SlaSnapshot, SlaState, SlaThreshold } from '../../domain/sla/sla';
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

/** How one SLA clock stood when its request ended. */
export interface SlaOutcomeClock {
  readonly state: SlaState;
  readonly dueAt: string;
  readonly metAt?: string;
}

/**
 * The final SLA of a request that ended (closed, denied, cancelled, rolled back): what the wallboard
 * needs to keep counting its breaches and attainment after it has left the open index, without
 * reading request history. One per request; a later terminal state of it replaces the earlier one.
 */
export interface SlaOutcome {
  readonly tenantId: TenantId;
  readonly clientCode: ClientCode;
  readonly requestId: ChangeRequestId;
  readonly number: number;
  readonly type: ChangeType;
  readonly status: ChangeStatus;
  readonly version: number;
  /**
   * The instant it ended (the terminal state's `updatedAt`), UTC: the index does not know client
   * zones, so readers bucket it into the client's local days.
   */
  readonly endedAt: string;
  readonly acknowledge: SlaOutcomeClock;
  readonly resolve: SlaOutcomeClock;
}

export interface ListSlaOutcomesOptions {
  /** Outcomes that ended at or after this ISO instant. */
  readonly since: string;
  /** Only these clients' outcomes; every client's when absent. */
  readonly tenantIds?: readonly TenantId[];
}

/**
 * The index of open (non-terminal) requests across every client. Kept up to date through the
 * outbox (`index.sync` rows written with every request change), so it may briefly lag the requests.
 */
export interface OpenRequestIndex {
  /**
   * Brings the request's entry up to date: written while the request is open, removed once it is
   * terminal, when its {@link SlaOutcome} (if it has an SLA) is written instead. An entry or outcome
   * newer than `request` (see {@link isOlderThan}) is left as it is.
   */
  sync(request: ChangeRequest): Promise<void>;
  /** The SLA outcomes of requests that ended since `since` (of `tenantIds` when given), in no particular order. */
  outcomes(options: ListSlaOutcomesOptions): Promise<SlaOutcome[]>;
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

/** The SLA outcome of a request, or undefined while it is open or when it never had an SLA. */
export function slaOutcome(request: ChangeRequest): SlaOutcome | undefined {
  if (!isTerminal(request.status) || !request.sla) return undefined;
  const clock = (c: SlaSnapshot['acknowledge']): SlaOutcomeClock => ({
    state: c.state,
    dueAt: c.dueAt,
    ...(c.metAt !== undefined ? { metAt: c.metAt } : {}),
  });
  return {
    tenantId: request.tenantId,
    clientCode: request.clientCode,
    requestId: request.id,
    number: request.number,
    type: request.type,
    status: request.status,
    version: request.version,
    endedAt: request.updatedAt,
    acknowledge: clock(request.sla.acknowledge),
    resolve: clock(request.sla.resolve),
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

/** A request write's outbox rows plus one `index.sync` (see `requestOutbox`, which stores call). */
export function withIndexSync(
  request: ChangeRequest,
  outbox: readonly OutboxMessage[],
): readonly OutboxMessage[] {
  return [...outbox, { kind: 'index.sync', requestId: request.id }];
}
