/**
 * A business rule said no. `code` is stable (cards, logs and tests key on it); `message` is for people.
 * @remarks Never mentions HTTP, cards or storage.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** One field of submitted data that failed validation, with a path a form can point at. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

/** Submitted data failed validation; `issues` say what to fix, field by field. */
export class ValidationError extends DomainError {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(
      'CR.INVALID_INPUT',
      `Please fix: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      { issues },
    );
    this.name = 'ValidationError';
  }
}
