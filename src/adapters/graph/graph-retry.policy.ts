import type { DirectoryFailure } from '../../domain/execution/directory';

/** How long Cabinet keeps retrying throttled or unanswered Graph requests before handing back. */
export interface GraphRetryOptions {
  /** Total waiting allowed across the retries of one call (one read, or one `perform`). Default 60 s. */
  readonly budgetMs?: number;
  /** Longest single wait; a longer `Retry-After` is not waited out but handed back to the engine. Default 30 s. */
  readonly maxDelayMs?: number;
  /** Backoff ceiling of the first retry when Graph gave no `Retry-After`; doubles per retry. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** Most retries per call, so near-zero jittered waits cannot loop for long. Default 8. */
  readonly maxRetries?: number;
}

export const DEFAULT_RETRY: Required<GraphRetryOptions> = {
  budgetMs: 60_000,
  maxDelayMs: 30_000,
  baseDelayMs: 500,
  maxRetries: 8,
};

/** Wait this long and try again, or stop and tell the caller when it may try again. */
export type RetryDecision =
  | { readonly kind: 'wait'; readonly delayMs: number }
  | { readonly kind: 'stop'; readonly retryAfterMs: number };

/**
 * The retry budget of one call (reference reliability §4.3).
 * @remarks Graph's `Retry-After` is honoured exactly; without it the wait is exponential backoff with
 * full jitter (`random × min(maxDelay, base × 2^retry)`). A wait that would exceed the per-attempt cap
 * or what is left of the budget is not started: the call stops with that wait as `retryAfterMs`, so
 * the engine parks the run instead of holding a process.
 */
export class RetryBudget {
  readonly #policy: Required<GraphRetryOptions>;
  readonly #random: () => number;
  #waitedMs = 0;
  #retries = 0;

  constructor(policy: Required<GraphRetryOptions>, random: () => number) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Decides the next wait for the failures of one attempt (a batch round may carry several). */
  next(failures: readonly DirectoryFailure[]): RetryDecision {
    const { maxDelayMs, baseDelayMs, budgetMs, maxRetries } = this.#policy;
    const asked = failures
      .map((f) => f.retryAfterMs)
      .filter((ms): ms is number => ms !== undefined);
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** this.#retries);
    const delayMs = asked.length > 0 ? Math.max(...asked) : Math.floor(this.#random() * ceiling);
    const resumeAfterMs = asked.length > 0 ? delayMs : ceiling;
    if (this.#retries >= maxRetries || delayMs > maxDelayMs || this.#waitedMs + delayMs > budgetMs)
      return { kind: 'stop', retryAfterMs: resumeAfterMs };
    this.#retries += 1;
    this.#waitedMs += delayMs;
    return { kind: 'wait', delayMs };
  }
}

/**
 * The failure handed back when the budget ran out: retryable, with when to come back.
 * @remarks 429, 503 and 504 are Graph's ways of saying "later", so they become `throttled`; a
 * connection that kept failing stays `unavailable`.
 */
export function exhausted(failure: DirectoryFailure, retryAfterMs: number): DirectoryFailure {
  const throttling = [429, 503, 504].includes(failure.httpStatus ?? 0);
  return {
    ...failure,
    reason: throttling ? 'throttled' : failure.reason,
    retryable: true,
    retryAfterMs,
  };
}
