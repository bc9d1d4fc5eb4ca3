import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { Lease } from '../ports/lease';

export interface LeasedJobOptions {
  /** How long the lease lasts without renewal; another instance takes over after it. */
  readonly leaseTtlMs?: number;
  /** This instance's name on the lease (default a random id). */
  readonly holder?: string;
  readonly log?: (message: string) => void;
}

/**
 * Runs `work` on an interval on one instance at a time (the SLA sweeper, the PSA poller): each tick
 * takes or renews the named lease and works only while holding it, renewing it every third of its
 * TTL during a long pass; `work` is told when the lease was lost so it can stop early.
 */
export class LeasedJob<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly leaseTtlMs: number;
  private readonly holder: string;
  private readonly log: (message: string) => void;

  constructor(
    private readonly job: {
      /** The lease every instance's job competes for. */
      readonly lease: string;
      /** What the job is called in log lines, e.g. "SLA sweep". */
      readonly title: string;
      readonly work: (stillHeld: () => boolean) => Promise<T>;
    },
    private readonly deps: { readonly lease: Lease; readonly clock: Clock },
    options: LeasedJobOptions & { readonly leaseTtlMs: number },
  ) {
    this.leaseTtlMs = options.leaseTtlMs;
    this.holder = options.holder ?? randomUUID();
    this.log = options.log ?? (() => undefined);
  }

  /** One tick: works if this instance holds (or can take) the lease; undefined if another holds it. */
  async runOnce(): Promise<T | undefined> {
    const { lease, clock } = this.deps;
    if (!(await lease.tryAcquire(this.job.lease, this.holder, this.leaseTtlMs, clock.now())))
      return undefined;
    let held = true;
    const renewing = setInterval(() => {
      lease
        .renew(this.job.lease, this.holder, this.leaseTtlMs, clock.now())
        .then((renewed) => {
          if (!renewed) held = false;
        })
        .catch((error: unknown) =>
          this.log(`${this.job.title}: lease renewal failed: ${describe(error)}`),
        );
    }, this.leaseTtlMs / 3);
    try {
      return await this.job.work(() => held);
    } finally {
      clearInterval(renewing);
    }
  }

  start(intervalMs: number): void {
    const tick = () => {
      this.running = this.runOnce()
        .catch((error: unknown) => this.log(`${this.job.title} failed: ${describe(error)}`))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops and gives the lease up, so another instance takes over without waiting for expiry. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.deps.lease
      .release(this.job.lease, this.holder)
      .catch((error: unknown) =>
        this.log(`${this.job.title}: lease release failed: ${describe(error)}`),
      );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
