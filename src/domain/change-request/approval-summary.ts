import type { ApprovalState, Vote } from '../approval/approval.policy';
import type { Person } from '../shared/person';

/** How a settled round ended, as cards and pages say it: the vote that settled it, and who it was for. */
export interface SettledDecision {
  readonly outcome: 'approved' | 'denied';
  readonly by: Person;
  /** The designated approver a delegate voted for. */
  readonly for?: Person;
  readonly reason?: string;
  readonly at: string;
  readonly step: string;
  /** True when no vote was needed (a standard change under an active template). */
  readonly preApproved: boolean;
}

/** The decision of a settled round, or undefined while it is pending. */
export function settledDecision(round: ApprovalState | undefined): SettledDecision | undefined {
  if (!round || round.status === 'pending') return undefined;
  let last: { vote: Vote; step: string } | undefined;
  for (const step of round.steps)
    for (const vote of step.votes)
      if (!last || vote.at >= last.vote.at) last = { vote, step: step.name };
  if (!last)
    return {
      outcome: 'approved',
      by: round.requester,
      at: round.settledAt ?? '',
      step: '',
      preApproved: true,
    };
  const denied = round.steps
    .flatMap((s) => s.votes.map((vote) => ({ vote, step: s.name })))
    .find((v) => v.vote.outcome === 'denied');
  const settling = round.status === 'denied' && denied ? denied : last;
  const { vote } = settling;
  return {
    outcome: round.status,
    by: vote.by,
    ...(vote.by.oid !== vote.seat.oid || vote.by.tid !== vote.seat.tid ? { for: vote.seat } : {}),
    ...(vote.reason ? { reason: vote.reason } : {}),
    at: vote.at,
    step: settling.step,
    preApproved: false,
  };
}

/** "Ann" or "Bob (for Ann)": both names on a delegated decision (issue 4 §3). */
export function decidedBy(decision: Pick<SettledDecision, 'by' | 'for'>): string {
  return decision.for ? `${decision.by.name} (for ${decision.for.name})` : decision.by.name;
}
