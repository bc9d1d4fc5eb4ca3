import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import type { ClientProfile } from '../../domain/client/client';
import { bulkApprovable, owedVote } from '../../domain/change-request/approval-inbox.policy';
import type { UseCaseDeps } from './context';
import { decideApproval, type DecisionOutcome } from './decide-approval';
import { identify } from './identify';

/** One request waiting for the caller's vote. */
export interface InboxItem {
  readonly request: ChangeRequest;
  readonly client: ClientProfile;
  readonly stepName: string;
  /** When the step opened: the inbox lists oldest first. */
  readonly waitingSince: string;
  /** The designated approver the caller would vote for, when through a delegation. */
  readonly onBehalfOf?: Person;
  readonly bulkApprovable: boolean;
  readonly retrospective: boolean;
}

const MAX_SCANNED_PER_CLIENT = 500;

/**
 * Everything waiting for the caller's vote across every client they have a part in, oldest first
 * (issue 4 §3): their own seats and the seats delegated to them that are in force now.
 */
export async function approvalInbox(deps: UseCaseDeps, actor: Person): Promise<InboxItem[]> {
  const identity = await identify(deps, actor);
  const now = deps.clock.now().toISOString();
  const items: InboxItem[] = [];
  for (const { client } of identity.memberships) {
    const [waiting, delegations] = await Promise.all([
      deps.requests.list(client.tenantId, {
        statuses: ['awaiting_approval', 'review_pending'],
        limit: MAX_SCANNED_PER_CLIENT,
      }),
      deps.delegations.inForce(client.tenantId, now),
    ]);
    for (const request of waiting) {
      const owed = owedVote(request, actor, delegations, now);
      if (!owed) continue;
      items.push({
        request,
        client,
        stepName: owed.step.name,
        waitingSince: owed.step.openedAt ?? request.updatedAt,
        ...(owed.delegation ? { onBehalfOf: owed.seat } : {}),
        bulkApprovable: bulkApprovable(request),
        retrospective: request.status === 'review_pending',
      });
    }
  }
  return items.sort((a, b) => a.waitingSince.localeCompare(b.waitingSince));
}

export interface BulkItem {
  readonly requestId: string;
  /** The version the inbox showed: a request changed since is refused, like a stale card. */
  readonly version: number;
}

export interface BulkOutcome {
  readonly requestId: string;
  readonly outcome: DecisionOutcome | { readonly kind: 'not_bulk_approvable' };
}

/**
 * Approves several routine requests at once. Each is checked again server-side (still bulk
 * approvable, still at the version shown) and decided exactly like a card click, one by one.
 */
export async function bulkApprove(
  deps: UseCaseDeps,
  actor: Person,
  items: readonly BulkItem[],
): Promise<BulkOutcome[]> {
  const eligible = new Map(
    (await approvalInbox(deps, actor))
      .filter((i) => i.bulkApprovable)
      .map((i) => [i.request.id as string, i.request]),
  );
  const out: BulkOutcome[] = [];
  for (const item of dedupe(items)) {
    if (!eligible.has(item.requestId)) {
      out.push({ requestId: item.requestId, outcome: { kind: 'not_bulk_approvable' } });
      continue;
    }
    const outcome = await decideApproval(deps, {
      actor,
      requestId: item.requestId,
      version: item.version,
      decision: 'approve',
    });
    out.push({ requestId: item.requestId, outcome });
  }
  return out;
}

function dedupe(items: readonly BulkItem[]): BulkItem[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.requestId) && (seen.add(i.requestId), true));
}
