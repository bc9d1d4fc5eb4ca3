import type { ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import { newThresholds, recordThresholds } from '../../domain/sla/sla-alerts';
import { computeSla, type SlaRules } from '../../domain/sla/sla.policy';
import type { SlaThreshold } from '../../domain/sla/sla';
import type { TenantId } from '../../domain/shared/ids';
import type { ChangeRequestStore } from '../ports/change-request-store';
import type { ClientDirectory } from '../ports/client-directory';
import type { Clock } from '../ports/clock';
import { ConcurrencyError } from '../ports/errors';
import type { Lease } from '../ports/lease';
import type { OpenRequestEntry, OpenRequestIndex } from '../ports/open-request-index';
import type { TeamsChannelMessage } from '../ports/outbox';
import { LeasedJob, type LeasedJobOptions } from './leased-job';

export interface SlaSweepDeps {
  readonly requests: ChangeRequestStore;
  readonly clients: Pick<ClientDirectory, 'get'>;
  readonly openRequests: Pick<OpenRequestIndex, 'list'>;
  readonly clock: Clock;
  readonly outboxWritten?: (tenantId: TenantId) => void;
}

/** What one sweep did: requests looked at, and alerts recorded for the SLA channel. */
export interface SlaSweepResult {
  readonly checked: number;
  readonly alerts: number;
}

const ALL_THRESHOLDS = 4;

/** The SLA channel's card for a request; one key per request, so every later alert edits the same post. */
export function slaCardKey(requestId: string): string {
  return `sla:${requestId}`;
}

/**
 * One pass over the open-request index: recomputes each request's SLA and, for each threshold it
 * has newly crossed, records it on the request with its audit events and an SLA-channel outbox row,
 * in one transaction in the client's partition.
 * @remarks The row is the dedupe key, written before anything is sent: the write is ETag-guarded, so
 * of two instances (or a sweep racing a transition) only one records a threshold; the loser writes
 * nothing and the next sweep sees it posted. Reads the index, never the history of closed requests.
 */
export async function sweepSla(
  deps: SlaSweepDeps,
  options: { readonly stillHeld?: () => boolean } = {},
): Promise<SlaSweepResult> {
  const entries = await deps.openRequests.list();
  const clients = new Map<TenantId, Promise<ClientProfile | undefined>>();
  const profileOf = (tenantId: TenantId) => {
    let found = clients.get(tenantId);
    if (!found) {
      found = deps.clients.get(tenantId).then((stored) => stored?.profile);
      clients.set(tenantId, found);
    }
    return found;
  };
  const written = new Set<TenantId>();
  let alerts = 0;
  let checked = 0;
  for (const entry of entries) {
    // The lease lapsed under a long pass: another instance sweeps now, so stop rather than race it.
    if (options.stillHeld && !options.stillHeld()) break;
    if (entry.slaPosted.length >= ALL_THRESHOLDS) continue;
    checked += 1;
    const client = await profileOf(entry.tenantId);
    if (!client) continue;
    const recorded = await recordFor(deps, entry, client);
    if (recorded > 0) {
      alerts += recorded;
      written.add(entry.tenantId);
    }
  }
  for (const tenantId of written) deps.outboxWritten?.(tenantId);
  return { checked, alerts };
}

async function recordFor(
  deps: SlaSweepDeps,
  entry: OpenRequestEntry,
  client: ClientProfile,
): Promise<number> {
  const rules: SlaRules = { timeZone: rulesFor(client).timeZone, sla: client.settings.sla ?? {} };
  const now = deps.clock.now().toISOString();
  // The entry carries what the clocks need: most requests cross nothing and are never read.
  if (newThresholds(computeSla(entry, rules, now), entry.slaPosted).length === 0) return 0;
  const stored = await deps.requests.get(entry.tenantId, entry.requestId);
  if (!stored) return 0;
  const { request } = stored;
  const snapshot = computeSla(request, rules, now);
  const fresh: SlaThreshold[] = newThresholds(snapshot, request.slaPosted);
  if (fresh.length === 0) return 0;
  const { next, audit } = recordThresholds(request, snapshot, fresh);
  const alert: TeamsChannelMessage = {
    kind: 'teams.channel',
    channel: 'sla',
    notification: {
      template: 'sla_alert',
      requestId: request.id,
      version: request.version,
      cardKey: slaCardKey(request.id),
    },
  };
  try {
    await deps.requests.update(entry.tenantId, stored.etag, {
      request: next,
      audit,
      outbox: [alert],
    });
    return fresh.length;
  } catch (error: unknown) {
    if (error instanceof ConcurrencyError) return 0;
    throw error;
  }
}

export type SlaSweeperOptions = LeasedJobOptions;

/** The lease every instance's sweeper competes for. */
export const SLA_SWEEPER_LEASE = 'sla-sweeper';

/** Runs `sweepSla` on an interval, on one instance at a time (see {@link LeasedJob}); lease 60 s by default. */
export class SlaSweeper {
  private readonly job: LeasedJob<SlaSweepResult>;

  constructor(deps: SlaSweepDeps & { readonly lease: Lease }, options: SlaSweeperOptions = {}) {
    this.job = new LeasedJob(
      {
        lease: SLA_SWEEPER_LEASE,
        title: 'SLA sweep',
        work: (stillHeld) => sweepSla(deps, { stillHeld }),
      },
      deps,
      { leaseTtlMs: 60_000, ...options },
    );
  }

  /** One tick: sweeps if this instance holds (or can take) the lease; undefined if another holds it. */
  sweepOnce(): Promise<SlaSweepResult | undefined> {
    return this.job.runOnce();
  }

  start(intervalMs: number): void {
    this.job.start(intervalMs);
  }

  /** Stops sweeping and gives the lease up, so another instance takes over without waiting for expiry. */
  stop(): Promise<void> {
    return this.job.stop();
  }
}
