import { DomainError } from '../../domain/shared/errors';

/** Refusals decided in use cases (who may see or act), with stable codes like the domain's. */
export const AccessErrors = {
  /** Deliberately the same for "does not exist" and "belongs to someone else": existence is not leaked. */
  requestNotFound: (id: string) =>
    new DomainError(
      'CR.NOT_FOUND',
      `Request ${id} was not found, or you do not have access to it.`,
      { id },
    ),
  notRegistered: () =>
    new DomainError(
      'ACCESS.NOT_REGISTERED',
      'Cabinet does not know you yet. Ask your MSP to add you as a client admin or approver.',
    ),
  clientNotAllowed: () =>
    new DomainError('ACCESS.CLIENT_NOT_ALLOWED', 'You cannot raise requests for that client.'),
  chooseClient: () =>
    new DomainError('ACCESS.CHOOSE_CLIENT', 'Choose which client this request is for.'),
} as const;
