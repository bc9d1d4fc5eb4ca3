import type { PsaKind } from '../../domain/psa/psa';
import type { ChangeRequestId, TenantId } from '../../domain/shared/ids';

/** A ticket to open for a change request, with the client's mapping already applied. */
export interface PsaTicketDraft {
  /** The PSA's company/client reference from the client's mapping. */
  readonly company: string;
  readonly board?: string;
  readonly category?: string;
  /** The PSA's priority (id or name) from the mapping. */
  readonly priority: string;
  /** The PSA's status (id or name) from the mapping, if Cabinet's current status is mapped. */
  readonly status?: string;
  /** One line, e.g. "CONTOSO-12: Onboard Jane Doe" (connectors cut to the PSA's limit). */
  readonly summary: string;
  /** Plain text; connectors convert to the PSA's format (HTML for HaloPSA). */
  readonly details: string;
  /**
   * The request id: stored where the PSA keeps an external reference (ConnectWise `externalXRef`,
   * Autotask `externalID`) or as a marker in the text (HaloPSA), so `findTicket` can reconcile.
   */
  readonly externalRef: string;
}

export interface PsaTicketRef {
  readonly ticketId: string;
  /** Where a person opens the ticket in the PSA, when the connector knows its web address. */
  readonly url?: string;
}

/** A note Cabinet writes on a ticket; `marker` (see `psaMarker`) is appended to the text. */
export interface PsaNoteDraft {
  readonly text: string;
  /** Internal (technicians only) or visible to the client's contacts in the PSA portal. */
  readonly internal: boolean;
  readonly marker: string;
  /** Also move the ticket to this PSA status (id or name), in the same call where the PSA allows it. */
  readonly status?: string;
}

/** A note as read back from the PSA. */
export interface PsaNote {
  readonly id: string;
  readonly ticketId: string;
  readonly text: string;
  /** Who wrote it, as the PSA names them (a member/agent/resource name). */
  readonly author: string;
  readonly createdAt: string;
  readonly internal: boolean;
}

export interface PsaTicketUpdate {
  readonly status?: string;
  readonly priority?: string;
}

/** A ticket that changed in the PSA, from polling. */
export interface PsaTicketChange {
  readonly ticketId: string;
  readonly updatedAt: string;
}

/** Raw inbound HTTP, as received: signatures are checked over exactly these bytes. */
export interface PsaInboundDelivery {
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: Buffer;
}

/**
 * What an inbound PSA webhook said, after its signature or secret was checked: only a hint of
 * which tickets changed. Cabinet re-reads the tickets over the API before acting on them.
 */
export type PsaWebhookResult =
  | { readonly ok: true; readonly ticketIds: readonly string[] }
  | { readonly ok: false; readonly status: 400 | 401; readonly reason: string };

/**
 * How a PSA call failed, so the relay knows what to do with the row:
 * `throttled` → try again after `retryAfterMs`; `transient` → back off and retry;
 * `permanent` (the PSA refused the data, e.g. unknown company) and `auth` (credentials refused) →
 * park at once with the PSA's own message, for an MSP lead to fix the mapping or credentials.
 */
export type PsaFailureKind = 'throttled' | 'transient' | 'permanent' | 'auth';

export class PsaError extends Error {
  constructor(
    readonly psa: PsaKind,
    readonly failure: PsaFailureKind,
    message: string,
    readonly details: { readonly status?: number; readonly retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'PsaError';
  }
}

/**
 * One PSA instance the MSP runs, reached over its real HTTP API. Every method is safe to call again
 * after a lost response: callers reconcile with `findTicket`/`findNote` before writing again.
 * @remarks Methods throw {@link PsaError} for anything the PSA answered with an error, and for
 * network failures (as `transient`).
 */
export interface PsaConnector {
  readonly kind: PsaKind;
  /** The ticket already opened for `externalRef` in this company, if any. */
  findTicket(company: string, externalRef: string): Promise<PsaTicketRef | undefined>;
  createTicket(draft: PsaTicketDraft): Promise<PsaTicketRef>;
  updateTicket(ticketId: string, update: PsaTicketUpdate): Promise<void>;
  /** The id of the note on this ticket whose text carries `marker`, if any. */
  findNote(ticketId: string, marker: string): Promise<string | undefined>;
  addNote(ticketId: string, note: PsaNoteDraft): Promise<{ readonly noteId: string }>;
  /**
   * Notes on the ticket with an id above `afterNoteId` (all when absent), oldest first, every page
   * read. Includes Cabinet's own notes; callers drop those by their marker.
   */
  listNotes(ticketId: string, afterNoteId?: string): Promise<PsaNote[]>;
  /** Tickets updated at or after `since` (callers poll with an overlap), every page read. */
  listChangedTickets(since: Date): Promise<PsaTicketChange[]>;
  /** Checks an inbound webhook's signature (or shared secret) and says which tickets it is about. */
  verifyWebhook(delivery: PsaInboundDelivery): Promise<PsaWebhookResult>;
}

/** The PSA instances this MSP has configured, by kind (at most one of each). */
export type PsaConnectors = ReadonlyMap<PsaKind, PsaConnector>;

/** Where a PSA ticket belongs in Cabinet. */
export interface PsaTicketOwner {
  readonly tenantId: TenantId;
  readonly requestId: ChangeRequestId;
}

/**
 * MSP-wide lookups for PSA sync: which request a ticket belongs to (webhooks and polls name only
 * the ticket), and each PSA's polling watermark.
 */
export interface PsaLinkStore {
  /** Records the owner of a ticket; idempotent. */
  link(psa: PsaKind, ticketId: string, owner: PsaTicketOwner): Promise<void>;
  owner(psa: PsaKind, ticketId: string): Promise<PsaTicketOwner | undefined>;
  /** When this PSA was last polled up to (the poller's watermark), if ever. */
  watermark(psa: PsaKind): Promise<Date | undefined>;
  setWatermark(psa: PsaKind, at: Date): Promise<void>;
}
