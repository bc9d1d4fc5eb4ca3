import { ok } from '../../domain/shared/result';
import { applyChange, type ActionOutcome, type ChangeCommand } from './apply-change';
import type { UseCaseDeps } from './context';
import { approvalCardKey, approversOf, notify } from './notifications';

export interface AskCommand extends ChangeCommand {
  readonly question: string;
}

/**
 * An approver of the open step or a technician asks the requester a question: the request waits
 * in `needs_info` (time on the client's side, which SLA pauses use) until they answer.
 */
export function askQuestion(deps: UseCaseDeps, command: AskCommand): Promise<ActionOutcome> {
  return applyChange(deps, command, {
    event: () => Promise.resolve(ok({ type: 'InfoRequested', question: command.question })),
    notifications: (next) => [
      ...[next.requester, ...(next.onBehalfOf ? [next.onBehalfOf] : [])].map((p) =>
        notify(p, next, 'info_requested'),
      ),
      // Approvers' cards lose their buttons while the question is open.
      ...approversOf(next).map((p) =>
        notify(p, next, 'approval_decided', approvalCardKey(next.id)),
      ),
    ],
  });
}

export interface AnswerCommand extends ChangeCommand {
  readonly answer: string;
}

/** The requester answers; the request returns to where it was and whoever asked hears the answer. */
export function answerQuestion(deps: UseCaseDeps, command: AnswerCommand): Promise<ActionOutcome> {
  return applyChange(deps, command, {
    event: () => Promise.resolve(ok({ type: 'InfoProvided', answer: command.answer })),
    notifications: (next, before) => {
      const asker = before.clarification?.askedBy;
      const seated = approversOf(next).filter(
        (p) => !asker || p.tid !== asker.tid || p.oid !== asker.oid,
      );
      return [
        ...(asker ? [notify(asker, next, 'info_provided')] : []),
        ...seated.map((p) => notify(p, next, 'approval_request', approvalCardKey(next.id))),
      ];
    },
  });
}
