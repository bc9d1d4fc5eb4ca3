import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { DiagnosticsChannel } from 'undici';

/** One HTTP request to Graph as seen on the wire: when it was sent and when its answer ended. */
interface Exchange {
  readonly start: number;
  end?: number;
}

/**
 * Watches the HTTP requests the Graph adapter sends to one origin, through undici's diagnostics
 * channels (the adapter's fetch goes through an undici Agent), without touching the adapter.
 * @remarks Used to find the round trips that had to wait for one another: with the same latency on
 * every round trip, that chain is what no amount of batching or parallelism can shorten.
 */
export class GraphWire {
  readonly #origin: string;
  readonly #exchanges = new Map<object, Exchange>();

  readonly #onCreate = (message: unknown): void => {
    const { request } = message as DiagnosticsChannel.RequestCreateMessage;
    if (String(request.origin ?? '').replace(/\/+$/, '') !== this.#origin) return;
    this.#exchanges.set(request, { start: performance.now() });
  };

  readonly #onEnd = (message: unknown): void => {
    const { request } = message as DiagnosticsChannel.RequestTrailersMessage;
    const exchange = this.#exchanges.get(request);
    if (exchange && exchange.end === undefined) exchange.end = performance.now();
  };

  private constructor(origin: string) {
    this.#origin = origin.replace(/\/+$/, '');
    subscribe('undici:request:create', this.#onCreate);
    subscribe('undici:request:trailers', this.#onEnd);
    subscribe('undici:request:error', this.#onEnd);
  }

  /** Starts watching requests to `origin` (e.g. the sandbox cloud's URL). */
  static watch(origin: string): GraphWire {
    return new GraphWire(origin);
  }

  stop(): void {
    unsubscribe('undici:request:create', this.#onCreate);
    unsubscribe('undici:request:trailers', this.#onEnd);
    unsubscribe('undici:request:error', this.#onEnd);
  }

  /** Requests seen since watching began. */
  get requests(): number {
    return this.#exchanges.size;
  }

  /**
   * The longest chain of round trips each sent only after the one before it was answered: the
   * most exchanges that never overlapped in time (earliest-ending first finds it).
   */
  get inSequence(): number {
    const finished = [...this.#exchanges.values()]
      .filter((e): e is Required<Exchange> => e.end !== undefined)
      .sort((a, b) => a.end - b.end);
    let chain = 0;
    let freeFrom = -Infinity;
    for (const exchange of finished) {
      if (exchange.start < freeFrom) continue;
      chain += 1;
      freeFrom = exchange.end;
    }
    return chain;
  }
}
