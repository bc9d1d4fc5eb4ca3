import {
  dueFollowUps,
  markFollowUpsSent,
  type FollowUp,
} from '../../domain/change-request/follow-ups';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import type { ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import { ConcurrencyError } from '../ports/errors';
import type { OutboxMessage } from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { approvalCardKey, notify } from './notifications';

/**
 * One pass over every client: sends the reminders and escalations that have fallen due, each once,
 * with an audit entry per follow-up (issue 4: no silent stalls). Returns how many went out.
 * @remarks Safe to run on several instances: a request changed under the pass is left for the next.
 */
export async function sweepFollowUps(deps: UseCaseDeps): Promise<number> {
  let sent = 0;
  for (const client of await deps.clients.list()) sent += await sweepClient(deps, client);
  return sent;
}

async function sweepClient(deps: UseCaseDeps, client: ClientProfile): Promise<number> {
  const now = deps.clock.now().toISOString();
  const waiting = await deps.requests.list(client.tenantId, {
    statuses: ['awaiting_approval', 'review_pending'],
    limit: 500,
  });
  if (waiting.length === 0) return 0;
  const rules = rulesFor(client);
  const delegations = await deps.delegations.inForce(client.tenantId, now);
  let sent = 0;
  for (const listed of waiting) {
    if (dueFollowUps(listed, rules, client.leads, delegations, now).length === 0) continue;
    const stored = await deps.requests.get(client.tenantId, listed.id);
    if (!stored) continue;
    const due = dueFollowUps(stored.request, rules, client.leads, delegations, now);
    if (due.length === 0) continue;
    const { next, audit } = markFollowUpsSent(stored.request, due);
    try {
      await deps.requests.update(client.tenantId, stored.etag, {
        request: next,
        audit,
        outbox: due.flatMap((f) => messagesFor(next, f)),
      });
      sent += due.length;
    } catch (error: unknown) {
      if (!(error instanceof ConcurrencyError)) throw error;
    }
  }
  if (sent > 0) deps.outboxWritten?.(client.tenantId);
  return sent;
}

function messagesFor(request: ChangeRequest, followUp: FollowUp): OutboxMessage[] {
  switch (followUp.kind) {
    case 'approval_reminder':
      // The reminder re-issues the approval card in place, so its buttons are one click away.
      return [notify(followUp.to, request, 'approval_reminder', approvalCardKey(request.id))];
    case 'approval_escalation':
    case 'review_overdue':
      return followUp.to.map((p) => notify(p, request, followUp.kind));
  }
}

/** Runs `sweepFollowUps` on an interval until stopped. */
export class FollowUpSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly deps: UseCaseDeps,
    private readonly log: (message: string) => void,
  ) {}

  start(intervalMs: number): void {
    const tick = () => {
      this.running = sweepFollowUps(this.deps)
        .catch((error: unknown) =>
          this.log(
            `follow-up sweep failed: ${error instanceof Error ? error.message : String(error)}`,
          ),
        )
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, intervalMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
