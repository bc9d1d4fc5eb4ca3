import type { ChangeRequest, Person } from '../../../domain/change-request/change-request';
import type { ExecutionRun } from '../../../domain/execution/execution-run';
import type { OutboxMessage } from '../../ports/outbox';

const NOTE_MAX = 300;

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
      note: note.length <= NOTE_MAX ? note : `${note.slice(0, NOTE_MAX - 1)}…`,
    },
  };
}

/** Requester(s), the approvers of the round and the technician: everyone who follows the change. */
export function followers(request: ChangeRequest, technician: Person): Person[] {
  const people = [
    request.requester,
    ...(request.onBehalfOf ? [request.onBehalfOf] : []),
    ...(request.approval?.approvers ?? []),
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

/** What a finished run's card says. */
export function finishedNote(run: ExecutionRun): string {
  const what = run.kind === 'rollback' ? 'Rollback' : 'Execution';
  switch (run.status) {
    case 'completed':
      return `${what} ${run.id} completed.`;
    case 'compensated':
      return `${what} ${run.id} failed and was undone: ${run.reason ?? ''}`;
    case 'needs_manual':
      return `${what} ${run.id} needs a technician: ${run.reason ?? ''}`;
    case 'queued':
    case 'running':
    case 'waiting':
    case 'compensating':
      return `${what} ${run.id} is ${run.status}.`;
  }
}
