import { DomainError } from '../../../domain/shared/errors';
import type { DirectoryFailure } from '../../../domain/execution/directory';
import { RollbackErrors } from '../../../domain/execution/rollback-plan';

/** Refusals the execution use cases decide (runs, checklist, passwords), with stable codes. */
export const ExecutionAccessErrors = {
  runActive: RollbackErrors.runActive,
  runNotFound: (runId: string) =>
    new DomainError('EXEC.RUN_NOT_FOUND', `Run ${runId} was not found for this request.`, {
      runId,
    }),
  runFinished: (runId: string, status: string) =>
    new DomainError(
      'EXEC.RUN_FINISHED',
      `Run ${runId} has already ended (${status.replace('_', ' ')}); its checklist can no longer change.`,
      { runId, status },
    ),
  itemNotFound: (itemId: string) =>
    new DomainError('EXEC.CHECKLIST_ITEM_NOT_FOUND', `The run has no checklist item ${itemId}.`, {
      itemId,
    }),
  notRequester: () =>
    new DomainError(
      'EXEC.NOT_REQUESTER',
      'Only the person who asked for this account can reveal its temporary password.',
    ),
  passwordNotReady: (runId: string) =>
    new DomainError(
      'EXEC.PASSWORD_NOT_READY',
      `The account of run ${runId} is not finished, so its password cannot be revealed yet.`,
      { runId },
    ),
  passwordGone: () =>
    new DomainError(
      'EXEC.PASSWORD_GONE',
      'This temporary password has already been revealed, or the account was undone. Ask your technician to reset the password.',
    ),
  passwordExpired: () =>
    new DomainError(
      'EXEC.PASSWORD_EXPIRED',
      'This temporary password expired (they are kept 72 hours). Ask your technician to reset the password.',
    ),
  directoryUnavailable: (failure: DirectoryFailure) =>
    failure.reason === 'forbidden'
      ? new DomainError(
          'EXEC.DIRECTORY_FORBIDDEN',
          `Cabinet may not read this client's directory: ${failure.message} (${failure.code}). Once the client's admin has granted Cabinet's Graph app admin consent (or the missing permission), preview again.`,
          { code: failure.code },
        )
      : new DomainError(
          'EXEC.DIRECTORY_UNAVAILABLE',
          `Microsoft Graph did not answer (${failure.code}): preview again in a minute.`,
          { code: failure.code, retryAfterMs: failure.retryAfterMs ?? null },
        ),
} as const;
