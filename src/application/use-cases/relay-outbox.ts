import type { TenantId } from '../../domain/shared/ids';
import type { ClientDirectory } from '../ports/client-directory';
import type { Clock } from '../ports/clock';
import type { Notifier } from '../ports/notifier';
import { isNotificationRow, type OutboxRow, type OutboxStore } from '../ports/outbox';

export interface OutboxRelayOptions {
  /** Attempts before a row is parked with its last error for an operator (`cabinet outbox retry`). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly leaseMs?: number;
  /** Uniform [0,1); injected so tests can pin the jitter. */
  readonly random?: () => number;
  readonly log?: (message: string) => void;
}

export interface OutboxRelayDeps {
  readonly outbox: OutboxStore;
  readonly notifier: Notifier;
  readonly clients: Pick<ClientDirectory, 'list'>;
  readonly clock: Clock;
}

/**
 * Delivers outbox rows (proactive Teams messages) at least once. Any number of instances may run:
 * rows are claimed by lease. Failures back off exponentially with full jitter and park after a budget.
 */
export class OutboxRelay {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly log: (message: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, Promise<number>>();
  private readonly rerun = new Set<string>();
  private running = false;

  constructor(
    private readonly deps: OutboxRelayDeps,
    options: OutboxRelayOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? (() => undefined);
  }

  /** Delivers what is due for one tenant now; concurrent calls for a tenant coalesce into one more pass. */
  deliverDue(tenantId: TenantId): Promise<number> {
    const current = this.inFlight.get(tenantId);
    if (current) {
      this.rerun.add(tenantId);
      return current;
    }
    const run = this.drain(tenantId).finally(() => {
      this.inFlight.delete(tenantId);
      if (this.rerun.delete(tenantId)) void this.deliverDue(tenantId);
    });
    this.inFlight.set(tenantId, run);
    return run;
  }

  /** Starts delivery right away after a commit, without waiting for the next sweep. */
  kick(tenantId: TenantId): void {
    this.deliverDue(tenantId).catch((error: unknown) =>
      this.log(`outbox delivery for ${tenantId} failed: ${describe(error)}`),
    );
  }

  /** One pass over every client's partition. */
  async sweep(): Promise<number> {
    const clients = await this.deps.clients.list();
    const counts = await Promise.all(clients.map((c) => this.deliverDue(c.tenantId)));
    return counts.reduce((a, b) => a + b, 0);
  }

  start(intervalMs: number): void {
    this.running = true;
    const tick = () => {
      this.sweep()
        .catch((error: unknown) => this.log(`outbox sweep failed: ${describe(error)}`))
        .finally(() => {
          if (this.running) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Resolves when nothing is being delivered (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private async drain(tenantId: TenantId): Promise<number> {
    let delivered = 0;
    for (;;) {
      const rows = await this.deps.outbox.claimDue(tenantId, this.deps.clock.now(), {
        leaseMs: this.leaseMs,
        limit: 20,
      });
      if (rows.length === 0) return delivered;
      // One person's messages go in order (a re-issued card must update the first, not race it); people in parallel.
      const byRecipient = new Map<string, OutboxRow[]>();
      for (const row of rows) {
        const { message } = row;
        const key =
          message.kind === 'teams.notify'
            ? `${message.recipient.tid}|${message.recipient.oid}`
            : `run|${message.runId}`;
        byRecipient.set(key, [...(byRecipient.get(key) ?? []), row]);
      }
      const results = await Promise.all(
        [...byRecipient.values()].map(async (queue) => {
          let sent = 0;
          for (const row of queue) if (await this.deliverOne(row)) sent += 1;
          return sent;
        }),
      );
      delivered += results.reduce((a, b) => a + b, 0);
    }
  }

  private async deliverOne(row: OutboxRow): Promise<boolean> {
    if (!isNotificationRow(row)) {
      this.log(`outbox ${row.id} (${row.message.kind}) stays pending: no run driver is configured`);
      return false;
    }
    const { recipient, notification } = row.message;
    try {
      const result = await this.deps.notifier.deliver(row.tenantId, recipient, notification);
      if (result.status === 'sent') {
        await this.deps.outbox.complete(row, this.deps.clock.now());
        return true;
      }
      await this.deps.outbox.waitForRecipient(row, this.deps.clock.now());
      return false;
    } catch (error: unknown) {
      const attempts = row.attempts + 1;
      const park = attempts >= this.maxAttempts;
      const delay =
        Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempts - 1)) * this.random();
      const now = this.deps.clock.now();
      this.log(
        `outbox ${row.id} attempt ${attempts} failed${park ? ', parked' : ''}: ${describe(error)}`,
      );
      await this.deps.outbox
        .fail(
          row,
          {
            error: describe(error).slice(0, 1000),
            nextAttemptAt: new Date(now.getTime() + delay),
            park,
          },
          now,
        )
        .catch((failError: unknown) =>
          this.log(`outbox ${row.id} could not record failure: ${describe(failError)}`),
        );
      return false;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
