import type { ChangeRequest, Person } from '../../../domain/change-request/change-request';
import { finishedHeadline } from '../../../domain/execution/execution.saga';
import type { ExecutionRun } from '../../../domain/execution/execution-run';
import type { OutboxMessage } from '../../ports/outbox';
import { approversOf } from '../notifications';

/** A card banner is a line or two in Teams; the full story is the run's reason, in the tab. */
const NOTE_MAX = 300;
const SEE_TAB = 'Details are in the Cabinet tab.';

/** An `execution_update` card about `run` for `to`, with a short, non-secret note. */
export function executionUpdate(
  to: Person,
  request: ChangeRequest,
  run: ExecutionRun,
  note: string,
): OutboxMessage {
  return {
    kind: 'teams.notify',
    recipient: { tid: to.tid, oid: to.oid },
    notification: {
      template: 'execution_update',
      requestId: request.id,
      version: request.version,
      runId: run.id,
      note: shortened(note, NOTE_MAX),
    },
  };
}

/** Requester(s), the approvers of the round and the technician: everyone who follows the change. */
export function followers(request: ChangeRequest, technician: Person): Person[] {
  const people = [
    request.requester,
    ...(request.onBehalfOf ? [request.onBehalfOf] : []),
    ...approversOf(request),
    technician,
  ];
  const seen = new Set<string>();
  return people.filter((p) => {
    const key = `${p.tid}|${p.oid}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What a finished run's card says: how it ended in one line, and where to read the rest. */
export function finishedNote(run: ExecutionRun): string {
  const what = run.kind === 'rollback' ? 'Rollback' : 'Execution';
  const summary = (lead: string) =>
    `${lead} ${shortened(finishedHeadline(run), NOTE_MAX - lead.length - SEE_TAB.length - 2)} ${SEE_TAB}`;
  switch (run.status) {
    case 'completed':
      return `${what} ${run.id} completed.`;
    case 'compensated':
      return summary(`${what} ${run.id} failed and was undone:`);
    case 'needs_manual':
      return summary(`${what} ${run.id} needs a technician:`);
    case 'queued':
    case 'running':
    case 'waiting':
    case 'compensating':
      return `${what} ${run.id} is ${run.status}.`;
  }
}

/** Cut at a word, so a long title or message never ends a banner mid-word. */
function shortened(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}
