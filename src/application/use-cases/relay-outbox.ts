import { performance } from 'node:perf_hooks';
import type { ChangeRequestId, TenantId } from '../../domain/shared/ids';
import type { ChangeRequestStore } from '../ports/change-request-store';
import type { ClientDirectory } from '../ports/client-directory';
import type { Clock } from '../ports/clock';
import type { Notifier } from '../ports/notifier';
import { openRequestEntry, type OpenRequestIndex } from '../ports/open-request-index';
import {
  isGraphExecuteRow,
  isNotificationRow,
  isPsaSyncRow,
  type DriveOutcome,
  type GraphExecuteMessage,
  type IndexSyncMessage,
  type OutboxRow,
  type OutboxStore,
  type PsaSyncMessage,
  type RunDriver,
  type TeamsChannelMessage,
  type TeamsNotifyMessage,
} from '../ports/outbox';
import { PsaError } from '../ports/psa';
import { deliverPsaSync, PsaSyncNotConfigured, type PsaSyncDeps } from './psa-sync';

export interface OutboxRelayOptions {
  /** Attempts before a row is parked with its last error for an operator (`cabinet outbox retry`). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly leaseMs?: number;
  /** How often a row whose run is being driven has its lease renewed; a third of `leaseMs` by default. */
  readonly leaseRenewMs?: number;
  /**
   * Times one `graph.execute` row may be put off (`later`) before it is parked as stuck; a run that
   * waits on throttling a few hundred times over is not going to finish by itself.
   */
  readonly maxReschedules?: number;
  /**
   * Longest this instance keeps a run's row leased (waiting behind a drive of the same run, then
   * driving); past it the lease lapses so a hung drive cannot hold the run forever.
   */
  readonly maxDriveMs?: number;
  /**
   * Most runs this instance drives at once (default 4), so a burst of executions cannot swamp one
   * process; a row of a run beyond them is handed back within seconds for any instance to take,
   * and driven here as soon as a slot frees if no other instance took it first.
   */
  readonly maxConcurrentRuns?: number;
  /** Uniform [0,1); injected so tests can pin the jitter. */
  readonly random?: () => number;
  readonly log?: (message: string) => void;
}

export interface OutboxRelayDeps {
  readonly outbox: OutboxStore;
  readonly notifier: Notifier;
  readonly clients: Pick<ClientDirectory, 'list'>;
  readonly clock: Clock;
  /** Drives `graph.execute` rows; without one they stay pending for an instance that has it. */
  readonly runs?: RunDriver;
  /**
   * Brings the open-request index up to date for `index.sync` rows (issue 5); without it they stay
   * pending for an instance that has it.
   */
  readonly openRequests?: {
    readonly index: OpenRequestIndex;
    readonly requests: Pick<ChangeRequestStore, 'get'>;
  };
  /**
   * Keeps PSA tickets up to date for `psa.sync` rows (issue 6); without it they stay pending for an
   * instance that has it.
   */
  readonly psa?: PsaSyncDeps;
}

/** A run that asks to be driven again sooner than this is put off this long, so it cannot spin. */
const MIN_RESCHEDULE_MS = 1_000;

/**
 * A run's row held back for want of a slot is left leased this long rather than released outright,
 * so this instance's own pass does not claim it straight back; then any instance may claim it.
 */
const HOLD_BACK_MS = 5_000;

/**
 * A `psa.sync` row behind a parked row of the same request looks again this often: the ticket's
 * notes go in the order things happened, so it waits until a lead has fixed and retried the first.
 */
const PSA_BLOCKED_RECHECK_MS = 5 * 60_000;

/** Times one `index.sync` row re-reads a request that keeps changing before it fails and backs off. */
const MAX_INDEX_SYNCS = 5;

/**
 * Delivers outbox rows at least once: proactive Teams messages to the notifier, `graph.execute`
 * rows to the run driver. Any number of instances may run: rows are claimed by lease. Failures back
 * off exponentially with full jitter and park after a budget.
 * @remarks Runs are driven in the background, so a long Graph run never holds up a tenant's
 * notifications. In one instance a run is never driven twice at once (its rows queue behind each
 * other), and at most `maxConcurrentRuns` runs are driven at once: a row claimed while every slot
 * is taken has its lease cut to {@link HOLD_BACK_MS} and waits here, oldest first, for a slot; it
 * is taken again by its ETag, so if another instance claimed it meanwhile it is left to that one.
 * A drive may outlast the lease, so the lease is renewed while the row is held; if renewal
 * fails (the instance stalled past its lease and another claimed the row), the second drive is
 * fenced by the run's ETag: the engine's `ExecutionStore.save` refuses the stale writer with a
 * ConcurrencyError and it stops, so no step is recorded twice. This instance then leaves the row to
 * its new holder.
 */
export class OutboxRelay {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly leaseMs: number;
  private readonly leaseRenewMs: number;
  private readonly maxReschedules: number;
  private readonly maxDriveMs: number;
  private readonly maxConcurrentRuns: number;
  private readonly random: () => number;
  private readonly log: (message: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, Promise<number>>();
  private readonly rerun = new Set<string>();
  /** The latest drive queued per run (`tenant|run`); later rows of a run chain behind it. */
  private readonly drives = new Map<string, Promise<void>>();
  /** Rows claimed while every slot was taken, oldest first by row id, each as its hold-back write left it. */
  private readonly heldBack = new Map<string, HeldBackRow>();
  private running = false;
  /** Set by `stop`: drives under way finish, held-back rows are left for the next claim. */
  private stopping = false;

  constructor(
    private readonly deps: OutboxRelayDeps,
    options: OutboxRelayOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.leaseRenewMs = options.leaseRenewMs ?? Math.floor(this.leaseMs / 3);
    this.maxReschedules = options.maxReschedules ?? 500;
    this.maxDriveMs = options.maxDriveMs ?? 30 * 60_000;
    this.maxConcurrentRuns = options.maxConcurrentRuns ?? 4;
    if (!Number.isInteger(this.maxConcurrentRuns) || this.maxConcurrentRuns < 1)
      throw new RangeError(
        `maxConcurrentRuns must be a whole number of at least 1 (was ${this.maxConcurrentRuns}).`,
      );
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
    this.stopping = false;
    const tick = () => {
      this.sweep()
        .catch((error: unknown) => this.log(`outbox sweep failed: ${describe(error)}`))
        .finally(() => {
          if (this.running) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops sweeping and waits for deliveries and drives under way (a drive ends at its next wait or step). */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle();
  }

  /** Resolves when nothing is being delivered or driven (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.drives.size > 0)
      await Promise.allSettled([...this.inFlight.values(), ...this.drives.values()]);
  }

  /** Returns how many notifications went out; runs are driven in the background (see `idle`). */
  private async drain(tenantId: TenantId): Promise<number> {
    let delivered = 0;
    for (;;) {
      const rows = await this.deps.outbox.claimDue(tenantId, this.deps.clock.now(), {
        leaseMs: this.leaseMs,
        limit: 20,
      });
      if (rows.length === 0) return delivered;
      // One person's messages go in order (a re-issued card must update the first, not race it); people in parallel.
      const byRecipient = new Map<string, OutboxRow<TeamsNotifyMessage>[]>();
      const holdingBack: Promise<unknown>[] = [];
      const indexing: Promise<void>[] = [];
      // Channel posts go one at a time, so a later alert for a request edits the post the earlier one made.
      const forChannels: OutboxRow<TeamsChannelMessage>[] = [];
      const forPsa: OutboxRow<PsaSyncMessage>[] = [];
      for (const row of rows) {
        if (isNotificationRow(row)) {
          const key = `${row.message.recipient.tid}|${row.message.recipient.oid}`;
          byRecipient.set(key, [...(byRecipient.get(key) ?? []), row]);
        } else if (isGraphExecuteRow(row)) {
          const held = this.queueDrive(row);
          if (held) holdingBack.push(held);
        } else if (isIndexSyncRow(row)) {
          const synced = this.syncIndex(row);
          if (synced) indexing.push(synced);
        } else if (isChannelRow(row)) {
          forChannels.push(row);
        } else if (isPsaSyncRow(row)) {
          forPsa.push(row);
        }
      }
      const [results, posted] = await Promise.all([
        Promise.all(
          [...byRecipient.values()].map(async (queue) => {
            let sent = 0;
            for (const row of queue) if (await this.deliverOne(row)) sent += 1;
            return sent;
          }),
        ),
        this.deliverToChannels(forChannels),
        ...holdingBack,
        ...indexing,
        this.deliverToPsa(tenantId, forPsa),
      ]);
      delivered += results.reduce((a, b) => a + b, 0) + posted;
    }
  }

  private async deliverOne(row: OutboxRow<TeamsNotifyMessage>): Promise<boolean> {
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
      await this.recordFailure(row, error);
      return false;
    }
  }

  /**
   * Posts (or edits in place) the MSP channel cards, in order; returns how many went out.
   * @remarks While no channel is bound a row waits, like a message for someone who never opened
   * Cabinet, and binding one releases it. A crash after the post but before the activity id is
   * recorded repeats that one post when the row is delivered again; once recorded, it is an edit.
   */
  private async deliverToChannels(
    rows: readonly OutboxRow<TeamsChannelMessage>[],
  ): Promise<number> {
    let sent = 0;
    for (const row of rows) {
      const { channel, notification } = row.message;
      try {
        const result = (await this.deps.notifier.deliverToChannel?.(
          channel,
          row.tenantId,
          notification,
        )) ?? { status: 'no_conversation' as const };
        if (result.status === 'sent') {
          await this.deps.outbox.complete(row, this.deps.clock.now());
          sent += 1;
          continue;
        }
        this.log(
          `outbox ${row.id} (${notification.template} for ${notification.requestId}) waits: no ${channel.toUpperCase()} channel is bound; an MSP lead types "bind ${channel} channel" in the Teams channel to use`,
        );
        await this.deps.outbox.waitForRecipient(row, this.deps.clock.now());
      } catch (error: unknown) {
        await this.recordFailure(row, error);
      }
    }
    return sent;
  }

  /**
   * Brings PSA tickets up to date: each request's rows one at a time in row order (so notes land in
   * the order things happened), requests in parallel.
   * @remarks A row is held while an earlier row of its request is not done: until that one's next
   * attempt, or while it is parked, until a lead retries it. The rest of a request's rows in this
   * claim are handed back when one of them does not go through.
   */
  private async deliverToPsa(
    tenantId: TenantId,
    rows: readonly OutboxRow<PsaSyncMessage>[],
  ): Promise<void> {
    if (rows.length === 0) return;
    const deps = this.deps.psa;
    if (!deps) {
      this.log(
        `outbox: ${rows.length} psa.sync row(s) of ${tenantId} stay pending: this instance has no PSA connections`,
      );
      return;
    }
    // Every row of this claim is for one client: read its mapping once, not once per note.
    let profile: ReturnType<PsaSyncDeps['clients']['get']> | undefined;
    const pass: PsaSyncDeps = {
      ...deps,
      clients: {
        get: (tenant) =>
          tenant === tenantId ? (profile ??= deps.clients.get(tenant)) : deps.clients.get(tenant),
      },
    };
    const claimed = new Set(rows.map((r) => r.id));
    const waiting = await this.deps.outbox.list(tenantId, {
      statuses: ['pending', 'parked', 'waiting_for_recipient'],
    });
    // The store lists a partition's rows in the order they were written; that is the order to keep.
    const place = new Map(waiting.map((row, i) => [row.id, i]));
    const before = (a: OutboxRow, b: OutboxRow) =>
      (place.get(a.id) ?? Infinity) - (place.get(b.id) ?? Infinity) || (a.id < b.id ? -1 : 1);
    /** The earliest unfinished row of each request that this pass did not claim. */
    const blockers = new Map<string, OutboxRow>();
    for (const row of waiting)
      if (isPsaSyncRow(row) && !claimed.has(row.id) && !blockers.has(row.message.requestId))
        blockers.set(row.message.requestId, row);
    const byRequest = new Map<string, OutboxRow<PsaSyncMessage>[]>();
    for (const row of [...rows].sort(before))
      byRequest.set(row.message.requestId, [...(byRequest.get(row.message.requestId) ?? []), row]);
    await Promise.all(
      [...byRequest].map(async ([requestId, queue]) => {
        const blocker = blockers.get(requestId);
        for (const [i, row] of queue.entries()) {
          const now = this.deps.clock.now();
          if (blocker && before(blocker, row) < 0) {
            const at =
              blocker.status === 'parked'
                ? now.getTime() + PSA_BLOCKED_RECHECK_MS
                : Math.max(Date.parse(blocker.nextAttemptAt), now.getTime() + MIN_RESCHEDULE_MS);
            await this.putOff(row, new Date(at), { untouched: true });
            continue;
          }
          if (!(await this.deliverPsaOne(pass, row))) {
            const later = new Date(this.deps.clock.now().getTime() + MIN_RESCHEDULE_MS);
            for (const rest of queue.slice(i + 1))
              await this.putOff(rest, later, { untouched: true });
            return;
          }
        }
      }),
    );
  }

  /** True when the row went through; otherwise it is rescheduled, backed off or parked. */
  private async deliverPsaOne(deps: PsaSyncDeps, row: OutboxRow<PsaSyncMessage>): Promise<boolean> {
    try {
      await deliverPsaSync(deps, row);
      await this.deps.outbox.complete(row, this.deps.clock.now());
      return true;
    } catch (error: unknown) {
      if (error instanceof PsaError && error.failure === 'throttled') {
        // The PSA asked for a pause: not a failed attempt, and never sooner than it said.
        const now = this.deps.clock.now();
        const wait = Math.max(error.details.retryAfterMs ?? 60_000, MIN_RESCHEDULE_MS);
        this.log(`outbox ${row.id} (psa.sync): ${error.psa} throttled; again in ${wait} ms`);
        await this.putOff(row, new Date(now.getTime() + wait));
      } else if (error instanceof PsaSyncNotConfigured) {
        await this.recordFailure(row, error, true);
      } else if (
        error instanceof PsaError &&
        (error.failure === 'permanent' || error.failure === 'auth')
      ) {
        await this.recordFailure(row, error, true);
      } else {
        await this.recordFailure(row, error);
      }
      return false;
    }
  }

  /**
   * Reschedules a row without counting a failed attempt; a storage error leaves its lease to lapse.
   * `untouched`: nothing was sent for this claim, so it does not count as one that may have reached
   * the PSA (and the row's next delivery skips the marker lookup).
   */
  private async putOff(
    row: OutboxRow,
    at: Date,
    options: { readonly untouched?: boolean } = {},
  ): Promise<void> {
    await this.deps.outbox
      .reschedule(row, at, this.deps.clock.now(), options)
      .catch((error: unknown) =>
        this.log(`outbox ${row.id} could not be put off: ${describe(error)}`),
      );
  }

  /**
   * Syncs the row's request into the open-request index from its stored state (not from the row,
   * so rows delivered late or twice never bring back an old state).
   * @remarks After each sync the request is read again and synced again if it moved meanwhile: an
   * instance holding an older read could otherwise re-create the entry of a request that another
   * instance had just removed as terminal. A request that no longer exists has nothing to index.
   */
  private syncIndex(row: OutboxRow<IndexSyncMessage>): Promise<void> | undefined {
    const deps = this.deps.openRequests;
    if (!deps) {
      this.log(
        `outbox ${row.id} (index.sync of ${row.message.requestId}) stays pending: this instance has no open-request index`,
      );
      return undefined;
    }
    const id = row.message.requestId as ChangeRequestId;
    return (async () => {
      try {
        let synced: string | undefined;
        for (let attempt = 0; ; attempt += 1) {
          const stored = await deps.requests.get(row.tenantId, id);
          // The entry itself, not just version and time: SLA thresholds are recorded without a version bump.
          const state = stored && JSON.stringify(openRequestEntry(stored.request) ?? null);
          if (!stored || state === synced) break;
          if (attempt === MAX_INDEX_SYNCS)
            throw new Error(`Request ${id} kept changing while its index entry was synced.`);
          await deps.index.sync(stored.request);
          synced = state;
        }
        await this.deps.outbox.complete(row, this.deps.clock.now());
      } catch (error: unknown) {
        await this.recordFailure(row, error);
      }
    })();
  }

  /**
   * Drives the row's run after any drive of the same run this instance already holds, or in a free
   * slot; with none free, holds the row back and returns the write that hands its lease back.
   */
  private queueDrive(row: OutboxRow<GraphExecuteMessage>): Promise<unknown> | undefined {
    const driver = this.deps.runs;
    if (!driver) {
      // Left claimed, not parked: the lease runs out and an instance with a driver takes the row.
      this.log(
        `outbox ${row.id} (graph.execute of run ${row.message.runId}) stays pending: this instance has no run driver`,
      );
      return undefined;
    }
    const key = runKey(row);
    if (this.drives.has(key) || this.drives.size < this.maxConcurrentRuns) {
      this.heldBack.delete(row.id);
      this.chainDrive(driver, row, Promise.resolve(row));
      return undefined;
    }
    // Map.set keeps the place of a row held back before and claimed again since.
    const current = this.handBack(row);
    this.heldBack.set(row.id, { claimed: row, current });
    return current;
  }

  /**
   * Drives the row (once it is in hand) after any drive of the same run, renewing its lease from
   * then until it is settled; the run's slot is taken now and freed when the last of its drives ends.
   */
  private chainDrive(
    driver: RunDriver,
    claimed: OutboxRow<GraphExecuteMessage>,
    current: Promise<OutboxRow<GraphExecuteMessage> | undefined>,
  ): void {
    const key = runKey(claimed);
    const lease = current.then(
      (held) =>
        held &&
        new LeaseKeeper(held, this.deps, {
          leaseMs: this.leaseMs,
          renewMs: this.leaseRenewMs,
          maxHoldMs: this.maxDriveMs,
          log: this.log,
        }),
    );
    const drive = Promise.all([this.drives.get(key), lease])
      .then(([, keeper]) => keeper && this.driveOne(driver, keeper))
      .catch((error: unknown) =>
        this.log(`outbox ${claimed.id} of run ${claimed.message.runId}: ${describe(error)}`),
      )
      .finally(() => {
        if (this.drives.get(key) === drive) this.drives.delete(key);
        this.takeHeldBack(driver);
      });
    this.drives.set(key, drive);
  }

  /** Gives free slots to held-back rows, oldest first (a row of a run already driven here needs none). */
  private takeHeldBack(driver: RunDriver): void {
    if (this.stopping) {
      this.heldBack.clear();
      return;
    }
    for (const [id, { claimed, current }] of this.heldBack) {
      if (!this.drives.has(runKey(claimed)) && this.drives.size >= this.maxConcurrentRuns) continue;
      this.heldBack.delete(id);
      this.chainDrive(
        driver,
        claimed,
        current.then((row) => row && this.retake(row)),
      );
    }
  }

  /**
   * Cuts a claimed row's lease to {@link HOLD_BACK_MS}; the row as written, or undefined if it
   * changed since the claim. If the write fails the claim lease stands and the row is kept.
   */
  private async handBack(
    row: OutboxRow<GraphExecuteMessage>,
  ): Promise<OutboxRow<GraphExecuteMessage> | undefined> {
    try {
      const released = await this.deps.outbox.renewLease(row, this.deps.clock.now(), HOLD_BACK_MS);
      return released && isGraphExecuteRow(released) ? released : undefined;
    } catch (error: unknown) {
      this.log(
        `outbox ${row.id} of run ${row.message.runId} waits for a free slot under its claim lease: ${describe(error)}`,
      );
      return row;
    }
  }

  /** Leases a held-back row again for driving; undefined if that fails or someone claimed it since (they drive it). */
  private async retake(
    row: OutboxRow<GraphExecuteMessage>,
  ): Promise<OutboxRow<GraphExecuteMessage> | undefined> {
    let taken: OutboxRow | undefined;
    try {
      taken = await this.deps.outbox.renewLease(row, this.deps.clock.now(), this.leaseMs);
    } catch (error: unknown) {
      this.log(
        `outbox ${row.id} of run ${row.message.runId} could not be taken back for driving; the next pass claims it: ${describe(error)}`,
      );
      return undefined;
    }
    if (taken && isGraphExecuteRow(taken)) return taken;
    this.log(
      `outbox ${row.id} of run ${row.message.runId} was claimed again while it waited for a slot; its new holder drives it`,
    );
    return undefined;
  }

  private async driveOne(driver: RunDriver, lease: LeaseKeeper): Promise<void> {
    const { tenantId, message } = lease.row;
    let outcome: DriveOutcome | undefined;
    let failure: unknown;
    try {
      outcome = await driver.drive(tenantId, message.runId);
    } catch (error: unknown) {
      failure = error;
    }
    const row = await lease.release();
    if (!row) {
      this.log(
        `outbox ${lease.row.id} of run ${message.runId}: the lease was lost while driving; the instance that took the row drives the run (writes are fenced by the run's ETag)`,
      );
      return;
    }
    const now = this.deps.clock.now();
    if (outcome === undefined) {
      await this.recordFailure(row, failure);
    } else if (outcome.status === 'later' && (row.reschedules ?? 0) >= this.maxReschedules) {
      await this.recordFailure(
        row,
        new Error(
          `Run ${message.runId} asked to be driven later ${this.maxReschedules} times without finishing; parked so a person can look at it.`,
        ),
        true,
      );
    } else {
      try {
        if (outcome.status === 'settled') await this.deps.outbox.complete(row, now);
        else
          await this.deps.outbox.reschedule(
            row,
            new Date(Math.max(outcome.at.getTime(), now.getTime() + MIN_RESCHEDULE_MS)),
            now,
          );
      } catch (error: unknown) {
        this.log(
          `outbox ${row.id} of run ${message.runId} could not be settled: ${describe(error)}`,
        );
      }
    }
  }

  /** Schedules another attempt with backoff, or parks the row when the budget is spent (or `park`). */
  private async recordFailure(row: OutboxRow, error: unknown, park = false): Promise<void> {
    const attempts = row.attempts + 1;
    const parked = park || attempts >= this.maxAttempts;
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempts - 1)) * this.random();
    const now = this.deps.clock.now();
    this.log(
      `outbox ${row.id} attempt ${attempts} failed${parked ? ', parked' : ''}: ${describe(error)}`,
    );
    await this.deps.outbox
      .fail(
        row,
        {
          error: describe(error).slice(0, 1000),
          nextAttemptAt: new Date(now.getTime() + delay),
          park: parked,
        },
        now,
      )
      .catch((failError: unknown) =>
        this.log(`outbox ${row.id} could not record failure: ${describe(failError)}`),
      );
  }
}

interface HeldBackRow {
  readonly claimed: OutboxRow<GraphExecuteMessage>;
  /** The row as its hold-back write left it; undefined if that write found it changed. */
  readonly current: Promise<OutboxRow<GraphExecuteMessage> | undefined>;
}

function isChannelRow(row: OutboxRow): row is OutboxRow<TeamsChannelMessage> {
  return row.message.kind === 'teams.channel';
}

function isIndexSyncRow(row: OutboxRow): row is OutboxRow<IndexSyncMessage> {
  return row.message.kind === 'index.sync';
}

function runKey(row: OutboxRow<GraphExecuteMessage>): string {
  return `${row.tenantId}|${row.message.runId}`;
}

/**
 * Keeps a claimed row's lease alive while its run waits and is driven: renewals run one at a time,
 * each on the row the previous one returned, and `release` waits for the last before handing the
 * row back for settling. A renewal that finds the row changed means another instance holds it now.
 */
class LeaseKeeper {
  private current: OutboxRow | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly row: OutboxRow<GraphExecuteMessage>,
    private readonly deps: Pick<OutboxRelayDeps, 'outbox' | 'clock'>,
    private readonly options: {
      readonly leaseMs: number;
      readonly renewMs: number;
      readonly maxHoldMs: number;
      readonly log: (message: string) => void;
    },
  ) {
    this.current = row;
    const giveUpAt = performance.now() + options.maxHoldMs;
    this.timer = setInterval(() => {
      if (performance.now() >= giveUpAt) {
        clearInterval(this.timer);
        options.log(
          `outbox ${row.id}: run ${row.message.runId} has been held for ${options.maxHoldMs} ms; no longer renewing its lease so another pass can take it over`,
        );
        return;
      }
      this.renewing = this.renewing.then(() => this.renew());
    }, options.renewMs);
  }

  /** Stops renewing; the row to settle, or undefined if the lease was lost. */
  async release(): Promise<OutboxRow | undefined> {
    clearInterval(this.timer);
    await this.renewing;
    return this.current;
  }

  private async renew(): Promise<void> {
    if (!this.current) return;
    try {
      const renewed = await this.deps.outbox.renewLease(
        this.current,
        this.deps.clock.now(),
        this.options.leaseMs,
      );
      this.current = renewed;
    } catch {
      // Storage hiccup: keep the row and try again at the next tick; the lease still has two thirds left.
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
