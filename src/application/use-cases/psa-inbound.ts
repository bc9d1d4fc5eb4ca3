import { SYSTEM_OID, type AuditEvent } from '../../domain/audit/audit-event';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { comparePsaIds, hasPsaMarker, PSA_NAMES, type PsaKind } from '../../domain/psa/psa';
import { samePerson, type Person } from '../../domain/shared/person';
import type { ChangeRequestStore } from '../ports/change-request-store';
import type { ClientDirectory } from '../ports/client-directory';
import type { Clock } from '../ports/clock';
import { ConcurrencyError } from '../ports/errors';
import type { Lease } from '../ports/lease';
import type { OutboxMessage } from '../ports/outbox';
import type {
  PsaConnectors,
  PsaInboundDelivery,
  PsaLinkStore,
  PsaNote,
  PsaWebhookResult,
} from '../ports/psa';
import type { TenantId } from '../../domain/shared/ids';
import { LeasedJob, type LeasedJobOptions } from './leased-job';
import { notify } from './notifications';

export interface PsaInboundDeps {
  readonly requests: ChangeRequestStore;
  readonly clients: Pick<ClientDirectory, 'get'>;
  readonly connectors: PsaConnectors;
  readonly links: PsaLinkStore;
  readonly clock: Clock;
  readonly outboxWritten?: (tenantId: TenantId) => void;
}

/** What taking in one ticket's notes came to: notes recorded on its request (0 for a ticket not Cabinet's). */
export interface PsaIntake {
  readonly taken: number;
}

/** Tries before giving up on a request that keeps changing under the intake (each retry re-reads it). */
const MAX_ATTEMPTS = 5;
/** The banner of a `psa_note` card is a preview; the whole note is in the audit entry and the PSA. */
const BANNER_CHARS = 500;

/**
 * Takes the PSA notes of one ticket into its Cabinet request: reads the notes after the request's
 * watermark (`psa.lastNoteId`), drops Cabinet's own (they carry a marker), and records the rest in
 * one ETag-guarded update with no version bump: a `psa.note_received` audit entry and `psa_note`
 * cards per note, and the watermark advanced past every note read.
 * @remarks Exactly once under races (a webhook and a poll, two instances): the loser of the ETag
 * race re-reads the request, whose watermark now excludes the notes the winner recorded.
 */
export async function takeInPsaNotes(
  deps: PsaInboundDeps,
  psa: PsaKind,
  ticketId: string,
): Promise<PsaIntake> {
  const connector = deps.connectors.get(psa);
  if (!connector) return { taken: 0 };
  const owner = await deps.links.owner(psa, ticketId);
  if (!owner) return { taken: 0 };
  for (let attempt = 1; ; attempt += 1) {
    const stored = await deps.requests.get(owner.tenantId, owner.requestId);
    const link = stored?.request.psa;
    // The request no longer syncs with this ticket (or never did): nothing of this ticket belongs on it.
    if (!stored || !link || link.psa !== psa || (link.ticketId && link.ticketId !== ticketId))
      return { taken: 0 };
    const after = link.lastNoteId;
    const read = (await connector.listNotes(ticketId, after))
      .filter((n) => after === undefined || comparePsaIds(n.id, after) > 0)
      .sort((a, b) => comparePsaIds(a.id, b.id));
    if (read.length === 0) return { taken: 0 };
    const notes = read.filter((n) => !hasPsaMarker(n.text));
    const request: ChangeRequest = {
      ...stored.request,
      psa: { ...link, lastNoteId: read.at(-1)!.id },
    };
    const client = notes.length > 0 ? (await deps.clients.get(owner.tenantId))?.profile : undefined;
    try {
      await deps.requests.update(owner.tenantId, stored.etag, {
        request,
        audit: notes.map((n) => noteReceived(request, psa, n)),
        outbox: notes.flatMap((n) =>
          recipientsOf(request, n, client?.techs ?? []).map((to) => noteCard(to, request, psa, n)),
        ),
      });
    } catch (error: unknown) {
      if (error instanceof ConcurrencyError && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    if (notes.length > 0) deps.outboxWritten?.(owner.tenantId);
    return { taken: notes.length };
  }
}

function noteReceived(request: ChangeRequest, psa: PsaKind, note: PsaNote): AuditEvent {
  return {
    type: 'psa.note_received',
    actor: { tid: request.tenantId, oid: SYSTEM_OID },
    requestId: request.id,
    payload: { psa, ticketId: note.ticketId, noteId: note.id, internal: note.internal },
    personal: { author: note.author, text: note.text },
  };
}

/**
 * Who hears of a PSA note: whoever works on the request (its assignee, else the client's
 * technicians), and the requester when the note is visible to the client (an integration
 * requester's card is dropped by the request store, see `requestOutbox`).
 */
function recipientsOf(request: ChangeRequest, note: PsaNote, techs: readonly Person[]): Person[] {
  const people: Person[] = request.assignee ? [request.assignee] : [...techs];
  if (!note.internal) people.push(request.requester);
  return people.filter((p, i) => people.findIndex((q) => samePerson(p, q)) === i);
}

function noteCard(to: Person, request: ChangeRequest, psa: PsaKind, note: PsaNote): OutboxMessage {
  const message = notify(to, request, 'psa_note');
  if (message.kind !== 'teams.notify') return message;
  const text = `${note.author} in ${PSA_NAMES[psa]}: ${note.text}`;
  return {
    ...message,
    notification: {
      ...message.notification,
      note: text.length > BANNER_CHARS ? `${text.slice(0, BANNER_CHARS - 1)}…` : text,
    },
  };
}

/** What an inbound PSA webhook came to, for the HTTP answer. */
export type PsaWebhookOutcome =
  | { readonly status: 'taken'; readonly taken: number }
  | { readonly status: 'not_configured' }
  | { readonly status: 'rejected'; readonly code: 400 | 401; readonly reason: string };

/**
 * An inbound PSA webhook: checks it with the PSA's connector (signature or shared secret), then
 * takes in the notes of each ticket it names. The delivery is only a hint; the notes are read back
 * over the PSA's API, so a forged or stale body can never put text on a request.
 */
export async function receivePsaWebhook(
  deps: PsaInboundDeps,
  psa: PsaKind,
  delivery: PsaInboundDelivery,
): Promise<PsaWebhookOutcome> {
  const connector = deps.connectors.get(psa);
  if (!connector) return { status: 'not_configured' };
  const verified: PsaWebhookResult = await connector.verifyWebhook(delivery);
  if (!verified.ok) return { status: 'rejected', code: verified.status, reason: verified.reason };
  let taken = 0;
  for (const ticketId of new Set(verified.ticketIds))
    taken += (await takeInPsaNotes(deps, psa, ticketId)).taken;
  return { status: 'taken', taken };
}

/** What one poll of every configured PSA did. */
export interface PsaPollResult {
  /** Tickets changed since each PSA's watermark (owned by Cabinet or not). */
  readonly tickets: number;
  readonly taken: number;
  /** PSAs whose poll failed (their watermark stays, so the next poll reads the same range again). */
  readonly failed: readonly PsaKind[];
}

export interface PsaPollOptions {
  readonly stillHeld?: () => boolean;
  readonly log?: (message: string) => void;
}

/**
 * Re-reads changed tickets from this long before the watermark: PSAs stamp `lastUpdated` when the
 * change commits, so a change made just before the last poll's start may carry an earlier time.
 */
export const PSA_POLL_OVERLAP_MS = 5 * 60_000;
/** How far back the very first poll of a PSA looks (there is no watermark yet). */
export const PSA_FIRST_POLL_LOOKBACK_MS = 24 * 60 * 60_000;

/**
 * One poll of every configured PSA: lists tickets changed since its watermark (less an overlap),
 * takes in the notes of those Cabinet owns, and moves the watermark to the poll's start — only when
 * every ticket was read, so a failure is read again next time rather than skipped (intake is
 * idempotent through the requests' own note watermarks).
 */
export async function pollPsas(
  deps: PsaInboundDeps,
  options: PsaPollOptions = {},
): Promise<PsaPollResult> {
  const log = options.log ?? (() => undefined);
  let tickets = 0;
  let taken = 0;
  const failed: PsaKind[] = [];
  for (const [psa, connector] of deps.connectors) {
    if (options.stillHeld && !options.stillHeld()) break;
    const start = deps.clock.now();
    const watermark = await deps.links.watermark(psa);
    const since = new Date(
      watermark
        ? watermark.getTime() - PSA_POLL_OVERLAP_MS
        : start.getTime() - PSA_FIRST_POLL_LOOKBACK_MS,
    );
    let complete = true;
    try {
      const changed = new Set((await connector.listChangedTickets(since)).map((c) => c.ticketId));
      tickets += changed.size;
      for (const ticketId of changed) {
        // The lease lapsed: another instance polls now; leave the watermark for it.
        if (options.stillHeld && !options.stillHeld()) {
          complete = false;
          break;
        }
        try {
          taken += (await takeInPsaNotes(deps, psa, ticketId)).taken;
        } catch (error: unknown) {
          complete = false;
          log(`${PSA_NAMES[psa]} ticket ${ticketId}: notes not taken in: ${describe(error)}`);
        }
      }
    } catch (error: unknown) {
      complete = false;
      log(`${PSA_NAMES[psa]} poll failed: ${describe(error)}`);
    }
    if (complete) await deps.links.setWatermark(psa, start);
    else failed.push(psa);
  }
  return { tickets, taken, failed };
}

export type PsaPollerOptions = LeasedJobOptions;

/** The lease every instance's PSA poller competes for. */
export const PSA_POLLER_LEASE = 'psa-poller';
/** How often the poller runs by default: PSA webhooks carry the news at once, polling catches what they miss. */
export const PSA_POLL_INTERVAL_MS = 60_000;

/** Runs `pollPsas` on an interval, on one instance at a time (see {@link LeasedJob}); lease 120 s by default. */
export class PsaPoller {
  private readonly job: LeasedJob<PsaPollResult>;

  constructor(deps: PsaInboundDeps & { readonly lease: Lease }, options: PsaPollerOptions = {}) {
    const log = options.log ?? (() => undefined);
    this.job = new LeasedJob(
      {
        lease: PSA_POLLER_LEASE,
        title: 'PSA poll',
        work: (stillHeld) => pollPsas(deps, { stillHeld, log }),
      },
      deps,
      { leaseTtlMs: 120_000, ...options },
    );
  }

  /** One tick: polls if this instance holds (or can take) the lease; undefined if another holds it. */
  pollOnce(): Promise<PsaPollResult | undefined> {
    return this.job.runOnce();
  }

  start(intervalMs: number = PSA_POLL_INTERVAL_MS): void {
    this.job.start(intervalMs);
  }

  /** Stops polling and gives the lease up, so another instance takes over without waiting for expiry. */
  stop(): Promise<void> {
    return this.job.stop();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
