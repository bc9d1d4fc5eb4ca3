import assert from 'node:assert/strict';
import { TenantConcurrencyLimit } from '../../../src/adapters/graph/graph-concurrency.policy';
import type { TenantId } from '../../../src/domain/shared/ids';

const A = 'tenant-a' as TenantId;
const B = 'tenant-b' as TenantId;

/** Work that records when it starts and finishes only when the test says. */
function controllable() {
  const started: string[] = [];
  const finish = new Map<string, (fail?: Error) => void>();
  const work = (name: string) => () =>
    new Promise<string>((resolve, reject) => {
      started.push(name);
      finish.set(name, (fail) => (fail ? reject(fail) : resolve(name)));
    });
  return { started, finish: (name: string, fail?: Error) => finish.get(name)!(fail), work };
}

/** Lets every promise callback queued so far run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe(TenantConcurrencyLimit.name, () => {
  it('runs at most the limit per tenant at once and the rest in the order they came', async () => {
    const sut = new TenantConcurrencyLimit(2);
    const c = controllable();
    const results = ['a1', 'a2', 'a3', 'a4', 'a5'].map((name) => sut.run(A, c.work(name)));
    await settle();
    assert.deepEqual(c.started, ['a1', 'a2']);

    c.finish('a2');
    await settle();
    assert.deepEqual(c.started, ['a1', 'a2', 'a3']);
    const late = sut.run(A, c.work('a6'));
    c.finish('a1');
    await settle();
    assert.deepEqual(c.started, ['a1', 'a2', 'a3', 'a4'], 'a newcomer does not overtake');

    for (const name of ['a3', 'a4', 'a5', 'a6']) {
      c.finish(name);
      await settle();
    }
    assert.deepEqual(await Promise.all([...results, late]), ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
  });

  it('does not make another tenant wait', async () => {
    const sut = new TenantConcurrencyLimit(1);
    const c = controllable();
    const a = [sut.run(A, c.work('a1')), sut.run(A, c.work('a2'))];
    const b = sut.run(B, c.work('b1'));
    await settle();
    assert.deepEqual(c.started, ['a1', 'b1']);
    c.finish('b1');
    assert.equal(await b, 'b1');
    c.finish('a1');
    await settle();
    c.finish('a2');
    assert.deepEqual(await Promise.all(a), ['a1', 'a2']);
  });

  it('frees the slot when the work fails', async () => {
    const sut = new TenantConcurrencyLimit(1);
    const c = controllable();
    const failing = sut.run(A, c.work('a1'));
    const next = sut.run(A, c.work('a2'));
    await settle();
    c.finish('a1', new Error('connection reset'));
    await assert.rejects(failing, /connection reset/);
    await settle();
    c.finish('a2');
    assert.equal(await next, 'a2');
  });

  it('refuses a limit that is not a whole number of at least 1', () => {
    for (const limit of [0, -1, 2.5, Number.NaN])
      assert.throws(() => new TenantConcurrencyLimit(limit), /maxConcurrentRequestsPerTenant/);
  });
});
