import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  exhausted,
  RetryBudget,
  type GraphRetryOptions,
} from '../../../src/adapters/graph/graph-retry.policy';
import type { DirectoryFailure } from '../../../src/domain/execution/directory';

const policy: Required<GraphRetryOptions> = {
  budgetMs: 10_000,
  maxDelayMs: 4_000,
  baseDelayMs: 500,
  maxRetries: 6,
};

function throttled(retryAfterMs?: number): DirectoryFailure {
  return {
    reason: 'throttled',
    code: 'TooManyRequests',
    message: 'Slow down.',
    httpStatus: 429,
    retryable: true,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

const outage: DirectoryFailure = {
  reason: 'unavailable',
  code: 'NoResponse',
  message: 'No answer.',
  retryable: true,
};

describe(RetryBudget.name, () => {
  it('waits exactly what Retry-After asks, the longest of a round', () => {
    const sut = new RetryBudget(policy, () => 0.5);
    assert.deepEqual(sut.next([throttled(1000), throttled(3000)]), { kind: 'wait', delayMs: 3000 });
  });

  it('backs off with full jitter under a doubling ceiling capped per attempt', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), {
          minLength: 6,
          maxLength: 6,
        }),
        (draws) => {
          let i = 0;
          const sut = new RetryBudget({ ...policy, budgetMs: 1e9 }, () => draws[i++] ?? 0);
          for (let retry = 0; retry < 6; retry += 1) {
            const decision = sut.next([outage]);
            assert.equal(decision.kind, 'wait');
            if (decision.kind !== 'wait') return;
            const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
            assert.ok(decision.delayMs >= 0 && decision.delayMs < ceiling);
          }
        },
      ),
    );
  });

  it('stops instead of waiting past the budget, handing back when to come back', () => {
    const sut = new RetryBudget(policy, () => 0.5);
    assert.deepEqual(sut.next([throttled(4000)]), { kind: 'wait', delayMs: 4000 });
    assert.deepEqual(sut.next([throttled(4000)]), { kind: 'wait', delayMs: 4000 });
    assert.deepEqual(sut.next([throttled(4000)]), { kind: 'stop', retryAfterMs: 4000 });
  });

  it('does not wait out a Retry-After longer than the per-attempt cap', () => {
    const sut = new RetryBudget(policy, () => 0.5);
    assert.deepEqual(sut.next([throttled(315_000)]), { kind: 'stop', retryAfterMs: 315_000 });
  });

  it('stops after the most retries even when the waits are tiny', () => {
    const sut = new RetryBudget(policy, () => 0);
    for (let i = 0; i < policy.maxRetries; i += 1) assert.equal(sut.next([outage]).kind, 'wait');
    assert.equal(sut.next([outage]).kind, 'stop');
  });

  it('hands back 429/503/504 as throttled and a dead connection as unavailable, both retryable', () => {
    assert.deepEqual(exhausted({ ...outage, reason: 'unavailable', httpStatus: 503 }, 2000), {
      ...outage,
      httpStatus: 503,
      reason: 'throttled',
      retryable: true,
      retryAfterMs: 2000,
    });
    assert.equal(exhausted(outage, 2000).reason, 'unavailable');
    assert.equal(exhausted(outage, 2000).retryAfterMs, 2000);
  });
});
