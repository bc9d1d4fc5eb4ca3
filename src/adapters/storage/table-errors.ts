import { RestError } from '@azure/data-tables';
import {
  ConcurrencyError,
  ConflictError,
  NotFoundError,
  StorageUnavailableError,
} from '../../application/ports/errors';

/** Socket errors raised before a request reaches the service: nothing can have been written. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT',
]);
/** Socket errors after a request may have reached the service: the outcome is unknown. */
const INTERRUPTED = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'REQUEST_SEND_ERROR',
]);

/** What Cabinet makes of a failed storage call. */
export type StorageFailure =
  | { readonly kind: 'unreachable' }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'status'; readonly status: number; readonly code: string | undefined }
  | { readonly kind: 'other' };

/**
 * Classifies a data-tables error.
 * @remarks `RestError.code` is undefined for single-entity errors, so the service's own code is read
 * from `details.odataError.code` (transactions set `code` directly).
 */
export function classifyStorageError(error: unknown): StorageFailure {
  if (!(error instanceof RestError)) return { kind: 'other' };
  if (error.statusCode === undefined) {
    const code = error.code ?? errnoOf(error.cause);
    if (code !== undefined && UNREACHABLE.has(code)) return { kind: 'unreachable' };
    if (code !== undefined && INTERRUPTED.has(code)) return { kind: 'interrupted' };
    return { kind: 'other' };
  }
  return { kind: 'status', status: error.statusCode, code: serviceCodeOf(error) };
}

function errnoOf(cause: unknown): string | undefined {
  return typeof cause === 'object' &&
    cause !== null &&
    typeof (cause as { code?: unknown }).code === 'string'
    ? (cause as { code: string }).code
    : undefined;
}

function serviceCodeOf(error: RestError): string | undefined {
  if (error.code !== undefined) return error.code;
  const details = error.details as
    | { odataError?: { code?: unknown }; errorCode?: unknown }
    | undefined;
  const code = details?.odataError?.code ?? details?.errorCode;
  return typeof code === 'string' ? code : undefined;
}

/** True for a 404 of a missing entity (not of a missing table, which is a deployment fault). */
export function isEntityNotFound(error: unknown): boolean {
  const failure = classifyStorageError(error);
  return failure.kind === 'status' && failure.status === 404 && failure.code !== 'TableNotFound';
}

/** True when an ETag-guarded write lost to another writer (412), or its row vanished (404). */
export function isPreconditionFailure(error: unknown): boolean {
  const failure = classifyStorageError(error);
  return (
    failure.kind === 'status' &&
    (failure.status === 412 || (failure.status === 404 && failure.code !== 'TableNotFound'))
  );
}

/** True when an insert found the row already there. */
export function isAlreadyExists(error: unknown): boolean {
  const failure = classifyStorageError(error);
  return failure.kind === 'status' && failure.status === 409;
}

/**
 * The port error for a storage failure Cabinet understands (STYLE.md §5), keeping `cause`; anything
 * else comes back unchanged.
 */
export function toPortError(error: unknown, what: string): unknown {
  const failure = classifyStorageError(error);
  switch (failure.kind) {
    case 'unreachable':
    case 'interrupted':
      return new StorageUnavailableError(`Storage is unavailable (${what}).`, { cause: error });
    case 'status':
      if (failure.code === 'TableNotFound') {
        return new StorageUnavailableError(
          `A Cabinet table is missing (${what}); create the tables first.`,
          { cause: error },
        );
      }
      if (failure.status === 404)
        return new NotFoundError(`Not found (${what}).`, { cause: error });
      if (failure.status === 409)
        return new ConflictError(`Already exists (${what}).`, { cause: error });
      if (failure.status === 412) return new ConcurrencyError(undefined, { cause: error });
      if (failure.status >= 500)
        return new StorageUnavailableError(`Storage failed with ${failure.status} (${what}).`, {
          cause: error,
        });
      return error;
    case 'other':
      return error;
  }
}

/** Runs a storage call, translating its failures at the adapter boundary. */
export async function guarded<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toPortError(error, what);
  }
}
