import { createHash, timingSafeEqual } from 'node:crypto';
import {
  PsaError,
  type PsaConnector,
  type PsaFailureKind,
  type PsaInboundDelivery,
  type PsaNote,
  type PsaNoteDraft,
  type PsaTicketChange,
  type PsaTicketDraft,
  type PsaTicketRef,
  type PsaTicketUpdate,
  type PsaWebhookResult,
} from '../../application/ports/psa';
import { comparePsaIds } from '../../domain/psa/psa';

/**
 * Connection to one HaloPSA instance (reference §3.1).
 * @remarks Halo has no external-reference field on tickets, so Cabinet writes
 * `[cabinet-ref:<requestId>]` (see {@link haloTicketReference}) as the last paragraph of the ticket's
 * details and `findTicket` finds it with Halo's `search` filter, then checks the exact token.
 */
export interface CreateHaloPsaConnectorOptions {
  /** The resource server, e.g. `https://acme.halopsa.com/api`. */
  readonly apiUrl: string;
  /** The authorisation server, e.g. `https://acme.halopsa.com/auth` (`POST {authUrl}/token`). */
  readonly authUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Halo-hosted instances only: sent as `?tenant=` on the token call. */
  readonly tenant?: string;
  /** The secret Halo's webhook sends as `Authorization: Bearer <secret>` (or as the Basic password). */
  readonly webhookSecret: string;
  /** The agent web app, for ticket links (`{webUrl}/ticket?id=<id>`). */
  readonly webUrl?: string;
  /** Records per page when listing (Halo's `page_size`). */
  readonly pageSize?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

/** The token Cabinet writes into a ticket's details so a lost create can be found again. */
export function haloTicketReference(externalRef: string): string {
  return `[cabinet-ref:${externalRef}]`;
}

/** Halo's ticket summary column length [Unverified]; longer summaries are cut. */
const SUMMARY_MAX = 255;
/** When Halo answers 429 without `Retry-After` (its limit is a rolling 300 s window). */
const DEFAULT_RETRY_AFTER_MS = 60_000;
/** Tokens are renewed this long (at most half their lifetime) before Halo says they expire. */
const TOKEN_SLACK_MS = 60_000;

interface HaloTicketJson {
  readonly id?: unknown;
  readonly details?: unknown;
  readonly details_html?: unknown;
  readonly last_update?: unknown;
}

interface HaloActionJson {
  readonly id?: unknown;
  readonly ticket_id?: unknown;
  readonly note?: unknown;
  readonly note_html?: unknown;
  readonly who?: unknown;
  readonly datetime?: unknown;
  readonly hiddenfromuser?: unknown;
}

export function createHaloPsaConnector(options: CreateHaloPsaConnectorOptions): PsaConnector {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const authUrl = options.authUrl.replace(/\/+$/, '');
  const pageSize = options.pageSize ?? 100;
  let token: { value: string; expiresAt: number } | undefined;
  let pendingToken: Promise<string> | undefined;

  const fail = (failure: PsaFailureKind, message: string, status?: number, retryAfterMs?: number) =>
    new PsaError('halopsa', failure, message, { status, retryAfterMs });

  const send = async (url: string, init: RequestInit): Promise<Response> => {
    try {
      return await doFetch(url, init);
    } catch (error) {
      throw fail(
        'transient',
        `HaloPSA unreachable: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };

  const fetchToken = async (): Promise<string> => {
    const query =
      options.tenant === undefined ? '' : `?tenant=${encodeURIComponent(options.tenant)}`;
    const response = await send(`${authUrl}/token${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
        scope: 'all',
      }).toString(),
    });
    if (!response.ok) {
      const message = await errorMessage(response);
      if (response.status === 400 || response.status === 401 || response.status === 403) {
        throw fail('auth', `HaloPSA refused the API credentials: ${message}`, response.status);
      }
      throw classify(response, message);
    }
    const body = await jsonOf<{ access_token?: unknown; expires_in?: unknown }>(response);
    if (typeof body.access_token !== 'string') {
      throw fail('transient', 'HaloPSA token response had no access_token', response.status);
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000;
    const slackMs = Math.min(TOKEN_SLACK_MS, lifetimeMs / 2);
    token = { value: body.access_token, expiresAt: now().getTime() + lifetimeMs - slackMs };
    return body.access_token;
  };

  const accessToken = (): Promise<string> => {
    if (token !== undefined && token.expiresAt > now().getTime())
      return Promise.resolve(token.value);
    // One token call however many requests are waiting for it.
    pendingToken ??= fetchToken().finally(() => {
      pendingToken = undefined;
    });
    return pendingToken;
  };

  const classify = (response: Response, message: string): PsaError => {
    const { status } = response;
    if (status === 429) {
      return fail(
        'throttled',
        `HaloPSA rate limit: ${message}`,
        status,
        retryAfterMs(response, now()),
      );
    }
    if (status >= 500 || status === 408)
      return fail('transient', `HaloPSA ${status}: ${message}`, status);
    if (status === 401 || status === 403)
      return fail('auth', `HaloPSA refused access: ${message}`, status);
    return fail('permanent', `HaloPSA refused the request: ${message}`, status);
  };

  /** An API call; a 401/403 renews the token once (it may have been revoked early) before giving up. */
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    for (let attempt = 0; ; attempt += 1) {
      const bearer = await accessToken();
      const response = await send(`${apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${bearer}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.ok) return jsonOf<T>(response);
      const message = await errorMessage(response);
      if ((response.status === 401 || response.status === 403) && attempt === 0) {
        if (token?.value === bearer) token = undefined;
        continue;
      }
      throw classify(response, message);
    }
  };

  /** Reads every page of a Halo list (`pageinate`, `page_size`, `page_no`). */
  const listAll = async <T>(
    path: string,
    params: Record<string, string>,
    key: 'tickets' | 'actions',
  ): Promise<T[]> => {
    const all: T[] = [];
    for (let pageNo = 1; ; pageNo += 1) {
      const query = new URLSearchParams({
        ...params,
        pageinate: 'true',
        page_size: String(pageSize),
        page_no: String(pageNo),
      });
      const body = await call<{ record_count?: unknown; [k: string]: unknown }>(
        'GET',
        `${path}?${query.toString()}`,
      );
      const page = Array.isArray(body[key]) ? (body[key] as T[]) : [];
      all.push(...page);
      const total = typeof body.record_count === 'number' ? body.record_count : undefined;
      if (
        page.length === 0 ||
        page.length < pageSize ||
        (total !== undefined && all.length >= total)
      ) {
        return all;
      }
    }
  };

  const ticketRef = (id: unknown): PsaTicketRef => {
    const ticketId = String(id);
    return options.webUrl === undefined
      ? { ticketId }
      : {
          ticketId,
          url: `${options.webUrl.replace(/\/+$/, '')}/ticket?id=${encodeURIComponent(ticketId)}`,
        };
  };

  const readNotes = (ticketId: string): Promise<HaloActionJson[]> =>
    listAll<HaloActionJson>(
      '/Actions',
      { ticket_id: ticketId, excludesys: 'true', includehtmlnote: 'true' },
      'actions',
    );

  return {
    kind: 'halopsa',

    async findTicket(company, externalRef) {
      const reference = haloTicketReference(externalRef);
      const found = await listAll<HaloTicketJson>(
        '/Tickets',
        { client_id: company, search: reference },
        'tickets',
      );
      // Halo's search matches loosely; only the exact token counts.
      const match = found.find((t) => textOf(t.details, t.details_html).includes(reference));
      return match === undefined ? undefined : ticketRef(match.id);
    },

    async createTicket(draft: PsaTicketDraft) {
      const record: Record<string, unknown> = {
        summary:
          draft.summary.length > SUMMARY_MAX
            ? `${draft.summary.slice(0, SUMMARY_MAX - 1)}…`
            : draft.summary,
        details_html: `${toHtml(draft.details)}<p>${escapeHtml(haloTicketReference(draft.externalRef))}</p>`,
        client_id: haloId(draft.company, 'client_id'),
        priority_id: haloId(draft.priority, 'priority_id'),
        donotapplytemplateintheapi: true,
        ...(draft.board === undefined
          ? {}
          : { tickettype_id: haloId(draft.board, 'tickettype_id') }),
        ...(draft.status === undefined ? {} : { status_id: haloId(draft.status, 'status_id') }),
        ...(draft.category === undefined ? {} : { category_1: draft.category }),
      };
      const created = await call<HaloTicketJson>('POST', '/Tickets', [record]);
      return ticketRef(created.id);
    },

    async updateTicket(ticketId: string, update: PsaTicketUpdate) {
      if (update.status === undefined && update.priority === undefined) return;
      await call('POST', '/Tickets', [
        {
          id: haloId(ticketId, 'id'),
          ...(update.status === undefined ? {} : { status_id: haloId(update.status, 'status_id') }),
          ...(update.priority === undefined
            ? {}
            : { priority_id: haloId(update.priority, 'priority_id') }),
        },
      ]);
    },

    async findNote(ticketId: string, marker: string) {
      const notes = await readNotes(ticketId);
      const match = notes.find((a) => textOf(a.note, a.note_html).includes(marker));
      return match === undefined ? undefined : String(match.id);
    },

    async addNote(ticketId: string, note: PsaNoteDraft) {
      const action = await call<HaloActionJson>('POST', '/Actions', [
        {
          ticket_id: haloId(ticketId, 'ticket_id'),
          outcome: note.internal ? 'Private Note' : 'Public Note',
          note_html: `${toHtml(note.text)}<p>${escapeHtml(note.marker)}</p>`,
          hiddenfromuser: note.internal,
          sendemail: false,
          ...(note.status === undefined ? {} : { new_status: haloId(note.status, 'new_status') }),
        },
      ]);
      return { noteId: String(action.id) };
    },

    async listNotes(ticketId: string, afterNoteId?: string) {
      const notes = await readNotes(ticketId);
      // Halo has no id filter on actions: read them all and keep those past the watermark.
      return notes
        .map(
          (a): PsaNote => ({
            id: String(a.id),
            ticketId,
            text:
              typeof a.note === 'string'
                ? a.note
                : htmlToText(typeof a.note_html === 'string' ? a.note_html : ''),
            author: typeof a.who === 'string' ? a.who : 'HaloPSA',
            createdAt: typeof a.datetime === 'string' ? a.datetime : '',
            internal: a.hiddenfromuser === true,
          }),
        )
        .filter((n) => afterNoteId === undefined || comparePsaIds(n.id, afterNoteId) > 0)
        .sort((a, b) => comparePsaIds(a.id, b.id));
    },

    async listChangedTickets(since: Date) {
      const found = await listAll<HaloTicketJson>(
        '/Tickets',
        { datesearch: 'lastupdatedate', startdate: since.toISOString() },
        'tickets',
      );
      return found.map(
        (t): PsaTicketChange => ({
          ticketId: String(t.id),
          updatedAt: typeof t.last_update === 'string' ? t.last_update : since.toISOString(),
        }),
      );
    },

    verifyWebhook(delivery: PsaInboundDelivery): Promise<PsaWebhookResult> {
      return Promise.resolve(verifyHaloWebhook(options.webhookSecret, delivery));
    },
  };
}

/**
 * Halo signs nothing: its webhook carries a shared secret as Bearer (or as the Basic password), so the
 * check is a constant-time comparison; the body only says which tickets to re-read over the API.
 */
export function verifyHaloWebhook(secret: string, delivery: PsaInboundDelivery): PsaWebhookResult {
  const presented = presentedSecret(delivery.headers.authorization);
  if (presented === undefined || !sameSecret(presented, secret)) {
    return { ok: false, status: 401, reason: 'The webhook secret is missing or wrong.' };
  }
  let body: unknown;
  try {
    body = JSON.parse(delivery.rawBody.toString('utf8'));
  } catch {
    return { ok: false, status: 400, reason: 'The body is not JSON.' };
  }
  // Batched webhooks (Halo 2.164+) send an array of the same objects.
  const items = Array.isArray(body) ? (body as unknown[]) : [body];
  const ids = new Set<string>();
  for (const item of items) {
    const id = webhookTicketId(item);
    if (id === undefined) {
      return {
        ok: false,
        status: 400,
        reason: 'The body names no ticket (ticket.id or action.ticket_id).',
      };
    }
    ids.add(id);
  }
  return ids.size === 0
    ? { ok: false, status: 400, reason: 'The body names no ticket.' }
    : { ok: true, ticketIds: [...ids] };
}

function webhookTicketId(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const { ticket, action } = item as {
    ticket?: { id?: unknown };
    action?: { ticket_id?: unknown };
  };
  const id = ticket?.id ?? action?.ticket_id;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === 'string' && /^\d{1,15}$/.test(id)) return id;
  return undefined;
}

function presentedSecret(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bearer = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (bearer?.[1] !== undefined) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (basic?.[1] === undefined) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Compares digests so neither the length nor the content of the secret leaks through timing. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Halo's ids are integers; a mapping value that is not one is refused before any call. */
function haloId(value: string, field: string): number {
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new PsaError('halopsa', 'permanent', `HaloPSA ${field} must be a number, got "${value}"`);
  }
  return Number(value.trim());
}

function retryAfterMs(response: Response, at: Date): number {
  const header = response.headers.get('retry-after');
  if (header === null) return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, date - at.getTime());
}

/** A 2xx body that is not JSON (a proxy's page, a cut-off stream) is worth retrying, not trusting. */
async function jsonOf<T>(response: Response): Promise<T> {
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw new PsaError(
      'halopsa',
      'transient',
      `HaloPSA answered ${response.status} without JSON: ${error instanceof Error ? error.message : String(error)}`,
      { status: response.status },
    );
  }
}

/** Halo's error bodies vary: a JSON string, `{ message }`, OAuth's `{ error, error_description }`. */
async function errorMessage(response: Response): Promise<string> {
  const raw = await response.text().catch(() => '');
  try {
    const body = JSON.parse(raw) as unknown;
    if (typeof body === 'string') return body.slice(0, 500);
    if (typeof body === 'object' && body !== null) {
      const o = body as Record<string, unknown>;
      for (const key of ['message', 'Message', 'error_description', 'error']) {
        if (typeof o[key] === 'string') return o[key].slice(0, 500);
      }
    }
  } catch {
    // Not JSON: the text itself is the message.
  }
  return raw.trim().slice(0, 500) || `HTTP ${response.status}`;
}

function textOf(plain: unknown, html: unknown): string {
  return `${typeof plain === 'string' ? plain : ''}\n${typeof html === 'string' ? html : ''}`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Plain text as Halo HTML: paragraphs at blank lines, line breaks kept, everything escaped. */
export function toHtml(text: string): string {
  return text
    .trim()
    .split(/\n{2,}/)
    .filter((p) => p.trim() !== '')
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}
