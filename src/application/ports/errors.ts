/** Infrastructure outcomes that use cases react to. Adapters translate SDK errors into these, keeping `cause`. */
export class ConcurrencyError extends Error {
  constructor(
    message = 'The record changed while you were working on it.',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ConcurrencyError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/**
 * Storage could not be reached or kept failing within its retry budget. Nothing was written, except
 * when a connection broke mid-transaction and its outcome could not be confirmed (the message says so).
 */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}
