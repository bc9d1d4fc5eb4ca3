import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  PsaError,
  type PsaConnector,
  type PsaInboundDelivery,
  type PsaNote,
  type PsaNoteDraft,
  type PsaTicketChange,
  type PsaTicketDraft,
  type PsaTicketRef,
  type PsaTicketUpdate,
  type PsaWebhookResult,
} from '../../application/ports/psa';

export interface CreateConnectWiseConnectorOptions {
  /** The ConnectWise site, e.g. `https://api-na.myconnectwise.net` (no path). */
  readonly siteUrl: string;
  /** The company id people log in with (also the first half of the API user name). */
  readonly companyId: string;
  readonly publicKey: string;
  readonly privateKey: string;
  /** The integration's `clientId` from the ConnectWise developer portal. */
  readonly clientId: string;
  /** e.g. `v4_6_release/`; read once from `/login/companyinfo/{companyId}` when absent. */
  readonly codebase?: string;
  /**
   * Where people open tickets, e.g. `https://na.myconnectwise.net` (cloud API and web hosts
   * differ); without it tickets are linked without an address.
   */
  readonly webUrl?: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

/** Reads all pages at this size (ConnectWise's maximum), so polls cost few calls. */
const PAGE_SIZE = 1000;
/** ConnectWise publishes no rate limit; when a 429 names no wait, wait a minute. */
const DEFAULT_RETRY_AFTER_MS = 60_000;
const SUMMARY_MAX = 100;
const EXTERNAL_REF_MAX = 100;
/** Callback keys rarely change; bound the cache so a flood of distinct key URLs cannot grow it. */
const KEY_CACHE_MAX = 32;
const KEY_MAX_BYTES = 4096;

interface CwNote {
  readonly id: number;
  readonly ticketId?: number;
  readonly text?: string;
  readonly member?: { readonly name?: string; readonly identifier?: string };
  readonly createdBy?: string;
  readonly dateCreated?: string;
  readonly internalAnalysisFlag?: boolean;
  readonly _info?: { readonly dateEntered?: string };
}

interface CwTicket {
  readonly id: number;
  readonly _info?: { readonly lastUpdated?: string };
}

/**
 * `PsaConnector` for ConnectWise PSA (Manage) REST API 3.0 (reference §3.2). The request id goes in
 * `externalXRef` (how `findTicket` reconciles); Cabinet's marker ends every note's text (how
 * `findNote` reconciles and inbound echoes are dropped). Callbacks are verified with the key at
 * `Metadata.key_url`, fetched only from the configured site.
 */
export function createConnectWiseConnector(
  options: CreateConnectWiseConnectorOptions,
): PsaConnector {
  const http = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const site = new URL(options.siteUrl);
  const siteOrigin = site.origin;
  const auth = `Basic ${Buffer.from(
    `${options.companyId}+${options.publicKey}:${options.privateKey}`,
  ).toString('base64')}`;
  let codebase: Promise<string> | undefined =
    options.codebase === undefined ? undefined : Promise.resolve(options.codebase);
  const keys = new Map<string, Buffer>();

  const fail = (
    failure: 'throttled' | 'transient' | 'permanent' | 'auth',
    message: string,
    details: { status?: number; retryAfterMs?: number } = {},
  ): PsaError => new PsaError('connectwise', failure, message, details);

  const send = async (url: string, init: RequestInit): Promise<Response> => {
    try {
      return await http(url, { ...init, redirect: 'manual' });
    } catch (cause: unknown) {
      throw fail(
        'transient',
        `ConnectWise could not be reached: ${cause instanceof Error ? cause.message : String(cause)}`,
      );
    }
  };

  const resolveCodebase = (): Promise<string> => {
    codebase ??= (async () => {
      const response = await send(
        `${siteOrigin}/login/companyinfo/${encodeURIComponent(options.companyId)}`,
        { headers: { accept: 'application/json' } },
      );
      if (!response.ok) throw await errorFrom(response);
      const info = (await response.json()) as { Codebase?: unknown };
      if (typeof info.Codebase !== 'string' || !/^[A-Za-z0-9_.]+\/$/.test(info.Codebase)) {
        throw fail('permanent', 'ConnectWise company info named no codebase');
      }
      return info.Codebase;
    })().catch((error: unknown) => {
      codebase = undefined;
      throw error;
    });
    return codebase;
  };
  const apiBase = async (): Promise<string> => `${siteOrigin}/${await resolveCodebase()}apis/3.0`;

  const errorFrom = async (response: Response): Promise<PsaError> => {
    const text = await response.text().catch(() => '');
    const message = `ConnectWise answered ${response.status}: ${describe(text)}`;
    const status = response.status;
    if (status === 429) {
      return fail('throttled', message, {
        status,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after'), now()),
      });
    }
    if (status === 401 || status === 403) return fail('auth', message, { status });
    if (status >= 500 || status === 408) return fail('transient', message, { status });
    return fail('permanent', message, { status });
  };

  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const base = await apiBase();
    const url = path.startsWith(siteOrigin) ? path : `${base}${path}`;
    const response = await send(url, {
      method,
      headers: {
        authorization: auth,
        clientid: options.clientId,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw await errorFrom(response);
    return response;
  };

  /** Every page of a list, following `Link: <…>; rel="next"` on the same site only. */
  const all = async <T>(path: string, params: Record<string, string>): Promise<T[]> => {
    const query = new URLSearchParams({ ...params, page: '1', pageSize: String(PAGE_SIZE) });
    let next: string | undefined = `${path}?${query.toString()}`;
    const rows: T[] = [];
    while (next !== undefined) {
      const response = await call('GET', next);
      const page: unknown = await response.json();
      if (!Array.isArray(page))
        throw fail('transient', 'ConnectWise answered a list that is not an array');
      rows.push(...(page as T[]));
      next = nextLink(response.headers.get('link'), siteOrigin);
    }
    return rows;
  };

  const ticketUrl = async (id: number): Promise<string | undefined> =>
    options.webUrl === undefined
      ? undefined
      : `${new URL(options.webUrl).origin}/${await resolveCodebase()}ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid=${id}`;

  const ticketRef = async (id: number): Promise<PsaTicketRef> => {
    const url = await ticketUrl(id);
    return { ticketId: String(id), ...(url === undefined ? {} : { url }) };
  };

  const updateTicket = async (ticketId: string, update: PsaTicketUpdate): Promise<void> => {
    const operations = [
      ...(update.status === undefined
        ? []
        : [{ op: 'replace', path: 'status', value: ref(update.status) }]),
      ...(update.priority === undefined
        ? []
        : [{ op: 'replace', path: 'priority', value: ref(update.priority) }]),
    ];
    if (operations.length === 0) return;
    await call('PATCH', `/service/tickets/${ticketPath(ticketId)}`, operations);
  };

  const listNotes = async (ticketId: string, afterNoteId?: string): Promise<PsaNote[]> => {
    const params: Record<string, string> = { orderBy: 'id asc' };
    if (afterNoteId !== undefined) params.conditions = `id>${numericId(afterNoteId)}`;
    const notes = await all<CwNote>(`/service/tickets/${ticketPath(ticketId)}/notes`, params);
    return notes.map((note) => ({
      id: String(note.id),
      ticketId,
      text: note.text ?? '',
      author: note.member?.name ?? note.createdBy ?? 'ConnectWise',
      createdAt: note.dateCreated ?? note._info?.dateEntered ?? '',
      internal: note.internalAnalysisFlag === true,
    }));
  };

  const signingKey = async (keyUrl: string): Promise<Buffer> => {
    const cached = keys.get(keyUrl);
    if (cached !== undefined) return cached;
    const response = await send(keyUrl, { headers: { accept: 'application/json' } });
    if (!response.ok) throw await errorFrom(response);
    const text = await response.text();
    if (text.length > KEY_MAX_BYTES)
      throw fail('permanent', 'ConnectWise callback key is too large');
    const parsed = parseJson(text) as { signing_key?: unknown } | undefined;
    if (typeof parsed?.signing_key !== 'string' || parsed.signing_key === '') {
      throw fail('permanent', 'ConnectWise callback key answer has no signing_key');
    }
    const key = createHash('sha256').update(parsed.signing_key, 'utf8').digest();
    if (keys.size >= KEY_CACHE_MAX) keys.delete(keys.keys().next().value as string);
    keys.set(keyUrl, key);
    return key;
  };

  return {
    kind: 'connectwise',

    async findTicket(company, externalRef) {
      const conditions = `externalXRef=${quote(externalRef.slice(0, EXTERNAL_REF_MAX))} and ${companyCondition(company)}`;
      const tickets = await all<CwTicket>('/service/tickets', { conditions, orderBy: 'id asc' });
      const first = tickets[0];
      return first === undefined ? undefined : ticketRef(first.id);
    },

    async createTicket(draft: PsaTicketDraft) {
      const response = await call('POST', '/service/tickets', {
        summary: cut(draft.summary, SUMMARY_MAX),
        company: /^\d+$/.test(draft.company)
          ? { id: Number(draft.company) }
          : { identifier: draft.company },
        ...(draft.board === undefined ? {} : { board: { name: draft.board } }),
        ...(draft.category === undefined ? {} : { type: { name: draft.category } }),
        priority: ref(draft.priority),
        ...(draft.status === undefined ? {} : { status: ref(draft.status) }),
        initialDescription: draft.details,
        externalXRef: draft.externalRef.slice(0, EXTERNAL_REF_MAX),
      });
      const ticket = (await response.json()) as CwTicket;
      return ticketRef(ticket.id);
    },

    updateTicket,

    async findNote(ticketId, marker) {
      const notes = await listNotes(ticketId);
      return notes.find((note) => note.text.includes(marker))?.id;
    },

    async addNote(ticketId, note: PsaNoteDraft) {
      // Status first: a note cannot move a ConnectWise ticket, and if the note call is lost the
      // redelivery repeats this idempotent PATCH and then finds or writes the note once.
      if (note.status !== undefined) await updateTicket(ticketId, { status: note.status });
      const response = await call('POST', `/service/tickets/${ticketPath(ticketId)}/notes`, {
        text: `${note.text}\n\n${note.marker}`,
        detailDescriptionFlag: !note.internal,
        internalAnalysisFlag: note.internal,
        resolutionFlag: false,
      });
      const created = (await response.json()) as CwNote;
      return { noteId: String(created.id) };
    },

    listNotes,

    async listChangedTickets(since) {
      const at = since.toISOString().replace(/\.\d{3}Z$/, 'Z');
      const tickets = await all<CwTicket>('/service/tickets', {
        conditions: `lastUpdated>=[${at}]`,
        orderBy: 'id asc',
        fields: 'id,_info/lastUpdated',
      });
      return tickets.map(
        (ticket): PsaTicketChange => ({
          ticketId: String(ticket.id),
          updatedAt: ticket._info?.lastUpdated ?? at,
        }),
      );
    },

    async verifyWebhook(delivery: PsaInboundDelivery): Promise<PsaWebhookResult> {
      const body = parseJson(delivery.rawBody.toString('utf8'));
      const callback = callbackShape(body);
      if (callback === undefined) {
        return { ok: false, status: 400, reason: 'Not a ConnectWise callback' };
      }
      const signature = delivery.headers['x-content-signature'];
      if (signature === undefined || signature === '') {
        return { ok: false, status: 401, reason: 'Missing x-content-signature' };
      }
      let keyUrl: URL;
      try {
        keyUrl = new URL(callback.keyUrl);
      } catch {
        return {
          ok: false,
          status: 401,
          reason: 'Callback key URL is not on the ConnectWise site',
        };
      }
      // Fetching a key from wherever the body says would let anyone sign their own callbacks (and
      // make Cabinet call arbitrary addresses): only the configured site's keys count.
      if (keyUrl.origin !== siteOrigin || keyUrl.username !== '' || keyUrl.password !== '') {
        return {
          ok: false,
          status: 401,
          reason: 'Callback key URL is not on the ConnectWise site',
        };
      }
      const key = await signingKey(keyUrl.toString()).catch((error: unknown) => {
        // The site refused to give a key at that address (no such key, or not a key endpoint):
        // the callback cannot be verified. Throttling and outages stay errors, so it is retried.
        if (
          error instanceof PsaError &&
          (error.failure === 'permanent' || error.failure === 'auth')
        ) {
          return undefined;
        }
        throw error;
      });
      if (key === undefined) return { ok: false, status: 401, reason: 'Callback key not found' };
      const expected = createHmac('sha256', key).update(delivery.rawBody).digest();
      const given = Buffer.from(signature.trim(), 'base64');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return { ok: false, status: 401, reason: 'Signature does not match' };
      }
      return {
        ok: true,
        ticketIds: callback.type.toLowerCase() === 'ticket' ? [callback.id] : [],
      };
    },
  };
}

interface CallbackShape {
  readonly type: string;
  readonly id: string;
  readonly keyUrl: string;
}

function callbackShape(body: unknown): CallbackShape | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { Type, ID, Action, Metadata } = body as Record<string, unknown>;
  const id = typeof ID === 'number' ? String(ID) : typeof ID === 'string' ? ID : undefined;
  const keyUrl =
    typeof Metadata === 'object' && Metadata !== null
      ? (Metadata as Record<string, unknown>).key_url
      : undefined;
  if (
    typeof Type !== 'string' ||
    typeof Action !== 'string' ||
    id === undefined ||
    !/^\d{1,18}$/.test(id) ||
    typeof keyUrl !== 'string'
  ) {
    return undefined;
  }
  return { type: Type, id, keyUrl };
}

/** A mapping value as a ConnectWise reference: numbers are record ids, anything else a name. */
function ref(value: string): { id: number } | { name: string } {
  return /^\d+$/.test(value) ? { id: Number(value) } : { name: value };
}

function companyCondition(company: string): string {
  return /^\d+$/.test(company) ? `company/id=${company}` : `company/identifier=${quote(company)}`;
}

/** A string literal in the `conditions` language. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function numericId(id: string): string {
  if (!/^\d{1,18}$/.test(id)) {
    throw new PsaError('connectwise', 'permanent', `Not a ConnectWise id: ${id.slice(0, 40)}`);
  }
  return id;
}

const ticketPath = numericId;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The error envelope's message and field messages, short, for the parked row's reason. */
function describe(text: string): string {
  const body = parseJson(text) as { message?: unknown; errors?: unknown } | undefined;
  if (typeof body?.message !== 'string') return text.slice(0, 200) || 'no details';
  const errors: readonly unknown[] = Array.isArray(body.errors) ? (body.errors as unknown[]) : [];
  const details = errors
    .map((entry) => {
      const message = (entry as { message?: unknown } | null)?.message;
      return typeof message === 'string' ? message : '';
    })
    .filter((message) => message !== '');
  return [body.message, ...details].join('; ').slice(0, 500);
}

function retryAfterMs(header: string | null, now: Date): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, at - now.getTime());
}

/** The `rel="next"` target of a `Link` header, when it stays on the ConnectWise site. */
function nextLink(header: string | null, origin: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (match?.[1] === undefined) continue;
    try {
      const url = new URL(match[1]);
      return url.origin === origin ? url.toString() : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
