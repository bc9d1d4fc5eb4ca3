import { SYSTEM_OID } from '../../domain/audit/audit-event';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { PSA_NAMES, psaMarker, type PsaLink, type PsaMapping } from '../../domain/psa/psa';
import { psaPriorityLevel } from '../../domain/psa/psa-sync.policy';
import type { ChangeRequestId } from '../../domain/shared/ids';
import type { ChangeRequestStore, StoredChangeRequest } from '../ports/change-request-store';
import type { ClientDirectory } from '../ports/client-directory';
import { ConcurrencyError } from '../ports/errors';
import type { OutboxRow, PsaSyncMessage } from '../ports/outbox';
import type {
  PsaConnector,
  PsaConnectors,
  PsaLinkStore,
  PsaTicketDraft,
  PsaTicketRef,
} from '../ports/psa';

/** What delivering `psa.sync` rows needs (issue 6); the relay has it when this instance talks to PSAs. */
export interface PsaSyncDeps {
  readonly connectors: PsaConnectors;
  readonly links: PsaLinkStore;
  readonly requests: Pick<ChangeRequestStore, 'get' | 'update'>;
  readonly clients: Pick<ClientDirectory, 'get'>;
}

/**
 * The row cannot be delivered until a person configures something (the client's PSA mapping, or
 * this MSP's connection to that PSA): parked at once with a message saying what to set.
 */
export class PsaSyncNotConfigured extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PsaSyncNotConfigured';
  }
}

/** Longest ticket summary Cabinet sends; connectors cut further to their PSA's limit. */
const SUMMARY_MAX = 150;

/** Times the link is recorded again over a request that keeps changing meanwhile. */
const LINK_ATTEMPTS = 5;

/**
 * Delivers one `psa.sync` row: makes sure the request's ticket exists (found again by its external
 * reference, or opened with the client's mapping) and is linked, then adds the row's note (moving
 * the ticket's status where the mapping names one) and sets the new priority.
 * @remarks Every PSA write is safe to repeat: without a recorded ticket id the ticket is looked up
 * before one is opened, and a row claimed more than once looks for its own marker before writing
 * the note again. Throws {@link PsaSyncNotConfigured} when a person must configure something, and
 * `PsaError` as the PSA answered; the relay decides from those what to do with the row.
 */
export async function deliverPsaSync(
  deps: PsaSyncDeps,
  row: OutboxRow<PsaSyncMessage>,
): Promise<void> {
  const { message } = row;
  const stored = await deps.requests.get(row.tenantId, message.requestId as ChangeRequestId);
  // A request that was never linked (or is gone) has no ticket to keep up to date.
  if (!stored?.request.psa) return;
  const link = stored.request.psa;
  const mapping = await mappingFor(deps, stored.request, link);
  const connector = deps.connectors.get(link.psa);
  if (!connector)
    throw new PsaSyncNotConfigured(
      `This Cabinet has no ${PSA_NAMES[link.psa]} connection configured; set its ${PSA_NAMES[link.psa]} API settings (see README, PSA sync) and retry the delivery.`,
    );
  const ticketId = await ensureTicket(deps, connector, mapping, stored);
  if (message.op === 'ticket') return;
  const marker = psaMarker(row.id);
  const already = (row.claims ?? 1) > 1 ? await connector.findNote(ticketId, marker) : undefined;
  if (!already) {
    const status = message.status ? mapping.statuses?.[message.status] : undefined;
    await connector.addNote(ticketId, {
      text: message.text ?? '',
      internal: message.internal ?? false,
      marker,
      ...(status ? { status } : {}),
    });
  }
  if (message.priority)
    await connector.updateTicket(ticketId, { priority: mapping.priorities[message.priority] });
}

async function mappingFor(
  deps: PsaSyncDeps,
  request: ChangeRequest,
  link: PsaLink,
): Promise<PsaMapping> {
  const client = await deps.clients.get(request.tenantId);
  const mapping = client?.profile.settings.psa;
  if (!mapping)
    throw new PsaSyncNotConfigured(
      `Client ${request.clientCode} has no PSA mapping; an MSP lead sets the "psa" part of its settings (company, priorities) and retries the delivery.`,
    );
  if (mapping.psa !== link.psa)
    throw new PsaSyncNotConfigured(
      `${request.id} is linked to ${PSA_NAMES[link.psa]} but client ${request.clientCode} is now mapped to ${PSA_NAMES[mapping.psa]}; map it back and retry the delivery.`,
    );
  return mapping;
}

/** The request's ticket id: as recorded, found again in the PSA, or newly opened, then recorded. */
async function ensureTicket(
  deps: PsaSyncDeps,
  connector: PsaConnector,
  mapping: PsaMapping,
  stored: StoredChangeRequest,
): Promise<string> {
  const request = stored.request;
  const recorded = request.psa?.ticketId;
  if (recorded) return recorded;
  // No id recorded: an earlier delivery may have opened the ticket and lost the answer.
  const ticket =
    (await connector.findTicket(mapping.company, request.id)) ??
    (await connector.createTicket(ticketDraft(request, mapping)));
  await recordLink(deps, connector, stored, ticket);
  return ticket.ticketId;
}

export function ticketDraft(request: ChangeRequest, mapping: PsaMapping): PsaTicketDraft {
  const level = psaPriorityLevel(request.type, request.assessment?.risk, mapping);
  const status = mapping.statuses?.[request.status];
  const summary = `${request.id}: ${request.title}`;
  return {
    company: mapping.company,
    ...(mapping.board ? { board: mapping.board } : {}),
    ...(mapping.category ? { category: mapping.category } : {}),
    priority: mapping.priorities[level],
    ...(status ? { status } : {}),
    summary: summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 1)}…` : summary,
    details: [
      request.description,
      '',
      `Change ${request.id} (${request.type}, ${request.changeClass}) raised in Cabinet by ${request.requester.name}${
        request.onBehalfOf ? ` for ${request.onBehalfOf.name}` : ''
      }. Cabinet keeps this ticket up to date; approvals and execution happen in Cabinet.`,
    ].join('\n'),
    externalRef: request.id,
  };
}

/**
 * Records the ticket on the request (no version bump: cards of the current version stay valid)
 * with its `psa.ticket_linked` entry, and in the MSP-wide link store so inbound notes find it.
 */
async function recordLink(
  deps: PsaSyncDeps,
  connector: PsaConnector,
  first: StoredChangeRequest,
  ticket: PsaTicketRef,
): Promise<void> {
  await deps.links.link(connector.kind, ticket.ticketId, {
    tenantId: first.request.tenantId,
    requestId: first.request.id,
  });
  let stored: StoredChangeRequest | undefined = first;
  for (let attempt = 1; stored; attempt += 1) {
    const request = stored.request;
    if (request.psa?.ticketId) return;
    const psa: PsaLink = {
      ...request.psa,
      psa: connector.kind,
      ticketId: ticket.ticketId,
      ...(ticket.url ? { ticketUrl: ticket.url } : {}),
    };
    try {
      await deps.requests.update(request.tenantId, stored.etag, {
        request: { ...request, psa },
        audit: [
          {
            type: 'psa.ticket_linked',
            actor: { tid: request.tenantId, oid: SYSTEM_OID },
            requestId: request.id,
            payload: {
              psa: connector.kind,
              ticketId: ticket.ticketId,
              ticketUrl: ticket.url ?? null,
              version: request.version,
            },
          },
        ],
        outbox: [],
      });
      return;
    } catch (error: unknown) {
      if (!(error instanceof ConcurrencyError) || attempt >= LINK_ATTEMPTS) throw error;
    }
    stored = await deps.requests.get(request.tenantId, request.id);
  }
}
