/** Per-call timing of the ports a benchmark hands to the code it measures. */
import { performance } from 'node:perf_hooks';

/** Time spent per `label.method`: summed milliseconds and calls. */
export type Spent = Map<string, { ms: number; calls: number }>;

/**
 * `target` with every method that answers with a promise timed into `spent` under `label.method`.
 * Only what the code under test is handed is wrapped, so the figures are its own calls.
 */
export function timed<T extends object>(target: T, label: string, spent: Spent): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const started = performance.now();
        const result = method.apply(object, args);
        // Only round trips are timed; a synchronous method is handed back as it answered.
        if (!(result instanceof Promise)) return result;
        const record = () => {
          const name = `${label}.${property}`;
          const entry = spent.get(name) ?? { ms: 0, calls: 0 };
          spent.set(name, { ms: entry.ms + performance.now() - started, calls: entry.calls + 1 });
        };
        return result.finally(record);
      };
    },
  });
}

/** `name count × mean ms, …` (concurrent calls overlap, so the means do not add up to the wall time). */
export function spentLine(spent: Spent): string {
  return `(count × mean ms, concurrent calls overlap) ${[...spent]
    .map(([name, { ms, calls }]) => `${name} ${calls} × ${(ms / calls).toFixed(1)}`)
    .join(', ')}`;
}
