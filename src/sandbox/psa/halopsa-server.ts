import { randomBytes } from 'node:crypto';
import {
  calmChaos,
  jsonBody,
  startSandboxHttp,
  type PsaChaosKnobs,
  type SandboxReply,
  type SandboxRequest,
} from './psa-sandbox-http';
import { openSandboxState, savingAfterChanges, type SandboxStateFile } from './sandbox-state';
import type { RunningPsaSandbox, SandboxNote, SandboxTicket } from './types';

/**
 * A sandbox HaloPSA speaking Halo's wire format (reference §3.1): OAuth client-credentials tokens at
 * `{authUrl}/token`, `/api/Tickets` and `/api/Actions` with JSON-array upserts and paged lists, Halo's
 * rolling rate limit, and webhooks carrying `{ ticket, action }` with a shared secret.
 * @remarks Halo documents no error body for validation failures; the sandbox answers them with a
 * JSON string holding the message (what Halo's API returns in practice [Unverified]). Action ids
 * count per ticket (1, 2, …), as Halo numbers a ticket's actions.
 */
export interface StartHaloPsaSandboxOptions {
  readonly port?: number;
  /** Halo clients (`client_id`s) tickets may be logged against. */
  readonly clients?: readonly { readonly id: number; readonly name: string }[];
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The shared secret webhooks carry (Halo's webhook "Bearer"/"Basic" authentication). */
  readonly webhookSecret?: string;
  readonly webhookAuth?: 'bearer' | 'basic';
  /**
   * Also send the webhook for actions added over the API (Cabinet's own notes), as a Halo webhook
   * without conditions does; they carry Cabinet's marker, so receivers can prove they drop echoes.
   */
  readonly webhookOnApiActions?: boolean;
  /** Halo-hosted instances take `?tenant=` on the token call; when set, the token call must name it. */
  readonly tenant?: string;
  readonly tokenLifetimeSeconds?: number;
  /** Halo's limit: 500 API requests per rolling 300 s. */
  readonly rateLimit?: { readonly max: number; readonly windowSeconds: number };
  /** Largest `page_size` honoured (larger requests are cut to it). */
  readonly maxPageSize?: number;
  readonly chaos?: Partial<PsaChaosKnobs>;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
  /**
   * Where tickets, actions and the generated secrets are kept across restarts
   * (loaded at start, written after each change); in memory only when absent.
   */
  readonly stateFile?: string;
}

/** What `stateFile` holds; the next ticket id continues from the largest stored one. */
interface HaloState {
  readonly clientSecret: string;
  readonly webhookSecret: string;
  readonly tickets: readonly HaloTicket[];
}

export interface RunningHaloPsaSandbox extends RunningPsaSandbox {
  readonly kind: 'halopsa';
  /** The authorisation server (`POST {authUrl}/token`). */
  readonly authUrl: string;
  /** The agent web app (`{webUrl}/ticket?id=`), also the demo page at `/`. */
  readonly webUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookSecret: string;
  /** Makes every issued token expire now, so a connector's refresh-on-401 path runs. */
  expireTokens(): void;
}

export const HALO_SANDBOX_CLIENTS = [
  { id: 12, name: 'Contoso Ltd' },
  { id: 14, name: 'Fabrikam Inc' },
] as const;

interface HaloAction {
  id: number;
  ticket_id: number;
  outcome: string;
  who: string;
  note: string;
  note_html: string;
  hiddenfromuser: boolean;
  datetime: string;
  new_status?: number;
}

interface HaloTicket {
  id: number;
  summary: string;
  details: string;
  details_html: string;
  client_id: number;
  client_name: string;
  tickettype_id: number;
  status_id: number;
  priority_id: number;
  category_1: string;
  dateoccurred: string;
  last_update: string;
  actions: HaloAction[];
}

const REFERENCE = /\[cabinet-ref:([^\]\s]{1,100})\]/;
const DEFAULT_TICKET_TYPE = 1;
const DEFAULT_STATUS = 1;
const DEFAULT_PRIORITY = 3;

export async function startHaloPsaSandbox(
  options: StartHaloPsaSandboxOptions = {},
): Promise<RunningHaloPsaSandbox> {
  const now = options.now ?? (() => new Date());
  const chaos: PsaChaosKnobs = { ...calmChaos(), ...options.chaos };
  const clients = new Map<number, string>(
    (options.clients ?? HALO_SANDBOX_CLIENTS).map((c) => [c.id, c.name]),
  );
  const state: SandboxStateFile<HaloState> = openSandboxState(
    options.stateFile,
    'HaloPSA',
    (): HaloState => ({
      clientSecret,
      webhookSecret,
      tickets: [...tickets.values()],
    }),
    options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  );
  const clientId = options.clientId ?? 'cabinet-sandbox';
  const clientSecret: string =
    options.clientSecret ?? state.loaded?.clientSecret ?? randomBytes(18).toString('base64url');
  const webhookSecret: string =
    options.webhookSecret ?? state.loaded?.webhookSecret ?? randomBytes(18).toString('base64url');
  const lifetimeMs = (options.tokenLifetimeSeconds ?? 3600) * 1000;
  const limit = options.rateLimit ?? { max: 500, windowSeconds: 300 };
  const maxPageSize = options.maxPageSize ?? 100;
  const tokens = new Map<string, number>();
  const recent: number[] = [];
  const tickets = new Map<number, HaloTicket>((state.loaded?.tickets ?? []).map((t) => [t.id, t]));
  let nextTicketId = Math.max(1001, ...[...tickets.keys()].map((id) => id + 1));
  let webhookTarget: string | undefined;

  const text = (status: number, message: string): SandboxReply => ({ status, body: message });

  const token = (request: SandboxRequest): SandboxReply => {
    if (request.method !== 'POST') return text(405, 'Method not allowed');
    if (options.tenant !== undefined && request.url.searchParams.get('tenant') !== options.tenant) {
      return { status: 401, body: { error: 'invalid_client' } };
    }
    const form = new URLSearchParams(request.rawBody.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    }
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return { status: 401, body: { error: 'invalid_client' } };
    }
    const accessToken = randomBytes(24).toString('base64url');
    tokens.set(accessToken, now().getTime() + lifetimeMs);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: lifetimeMs / 1000,
        scope: form.get('scope') ?? 'all',
      },
    };
  };

  /** Halo's rolling window; undefined when the call may proceed, else seconds until it may. */
  const rateLimited = (): number | undefined => {
    const at = now().getTime();
    const windowMs = limit.windowSeconds * 1000;
    while (recent.length > 0 && (recent[0] ?? 0) <= at - windowMs) recent.shift();
    if (recent.length >= limit.max) {
      return Math.max(1, Math.ceil(((recent[0] ?? at) + windowMs - at) / 1000));
    }
    recent.push(at);
    return undefined;
  };

  const authorised = (request: SandboxRequest): boolean => {
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    const expiresAt = match?.[1] === undefined ? undefined : tokens.get(match[1]);
    return expiresAt !== undefined && expiresAt > now().getTime();
  };

  const api = (request: SandboxRequest, path: string): SandboxReply => {
    if (!authorised(request)) return text(401, 'Unauthorized');
    const wait = rateLimited();
    if (wait !== undefined) {
      return {
        status: 429,
        headers: { 'retry-after': String(wait) },
        body: `API rate limit exceeded: ${limit.max} requests per ${limit.windowSeconds} seconds`,
      };
    }
    const single = /^\/(Tickets|Actions)\/(\d+)$/i.exec(path);
    if (single !== null && request.method === 'GET') {
      return /^tickets$/i.test(single[1] ?? '')
        ? getTicket(Number(single[2]))
        : getAction(Number(single[2]), request.url);
    }
    if (/^\/Tickets$/i.test(path)) {
      if (request.method === 'POST') return postArray(request, upsertTicket);
      if (request.method === 'GET') return listTickets(request.url);
    }
    if (/^\/Actions$/i.test(path)) {
      if (request.method === 'POST') return postArray(request, addAction);
      if (request.method === 'GET') return listActions(request.url);
    }
    return text(404, 'Not found');
  };

  /** Halo takes an array even for one record, and answers one object for one record. */
  const postArray = (
    request: SandboxRequest,
    apply: (record: Record<string, unknown>) => SandboxReply,
  ): SandboxReply => {
    const body = jsonBody(request);
    if (!Array.isArray(body) || body.length === 0 || !body.every(isRecord)) {
      return text(400, 'Request body must be a JSON array of objects');
    }
    const results: unknown[] = [];
    for (const record of body) {
      const reply = apply(record);
      if (reply.status >= 400) return reply;
      results.push(reply.body);
    }
    return { status: 201, body: results.length === 1 ? results[0] : results };
  };

  const upsertTicket = (record: Record<string, unknown>): SandboxReply => {
    const at = now().toISOString();
    if (record.id !== undefined && record.id !== 0) {
      const existing = tickets.get(Number(record.id));
      if (existing === undefined) return text(404, `Ticket ${JSON.stringify(record.id)} not found`);
      for (const field of ['status_id', 'priority_id', 'tickettype_id'] as const) {
        if (record[field] === undefined) continue;
        const value = intField(record[field]);
        if (value === undefined)
          return text(400, `Invalid ${field}: ${JSON.stringify(record[field])}`);
        existing[field] = value;
      }
      if (typeof record.summary === 'string') existing.summary = record.summary;
      existing.last_update = at;
      return { status: 201, body: ticketJson(existing) };
    }
    const client = intField(record.client_id);
    const clientName = client === undefined ? undefined : clients.get(client);
    if (client === undefined || clientName === undefined) {
      return text(400, `The Client (client_id ${JSON.stringify(record.client_id)}) does not exist`);
    }
    if (typeof record.summary !== 'string' || record.summary.trim() === '') {
      return text(400, 'Summary is required');
    }
    const numbers: Record<'tickettype_id' | 'status_id' | 'priority_id', number> = {
      tickettype_id: DEFAULT_TICKET_TYPE,
      status_id: DEFAULT_STATUS,
      priority_id: DEFAULT_PRIORITY,
    };
    for (const field of ['tickettype_id', 'status_id', 'priority_id'] as const) {
      if (record[field] === undefined) continue;
      const value = intField(record[field]);
      if (value === undefined)
        return text(400, `Invalid ${field}: ${JSON.stringify(record[field])}`);
      numbers[field] = value;
    }
    const html = typeof record.details_html === 'string' ? record.details_html : undefined;
    const plain = typeof record.details === 'string' ? record.details : '';
    const ticket: HaloTicket = {
      id: nextTicketId++,
      summary: record.summary,
      details: html === undefined ? plain : htmlToText(html),
      details_html: html ?? escapeHtml(plain),
      client_id: client,
      client_name: clientName,
      ...numbers,
      category_1: typeof record.category_1 === 'string' ? record.category_1 : '',
      dateoccurred: at,
      last_update: at,
      actions: [],
    };
    tickets.set(ticket.id, ticket);
    return { status: 201, body: ticketJson(ticket) };
  };

  const getTicket = (id: number): SandboxReply => {
    const ticket = tickets.get(id);
    return ticket === undefined
      ? text(404, `Ticket ${id} not found`)
      : { status: 200, body: ticketJson(ticket) };
  };

  const listTickets = (url: URL): SandboxReply => {
    const q = url.searchParams;
    let found = [...tickets.values()];
    const client = q.get('client_id');
    if (client !== null) found = found.filter((t) => String(t.client_id) === client);
    const search = q.get('search')?.toLowerCase();
    if (search !== undefined && search !== '') {
      found = found.filter((t) =>
        `${t.summary}\n${t.details}\n${t.details_html}`.toLowerCase().includes(search),
      );
    }
    const field = q.get('datesearch');
    if (field !== null) {
      const key = field === 'dateoccurred' ? 'dateoccurred' : 'last_update';
      const start = dateParam(q.get('startdate'));
      const end = dateParam(q.get('enddate'));
      found = found.filter(
        (t) => (start === undefined || t[key] >= start) && (end === undefined || t[key] <= end),
      );
    }
    found.sort((a, b) => a.id - b.id);
    if (q.get('orderdesc') === 'true') found.reverse();
    const { page, total } = paginate(found, q);
    return { status: 200, body: { record_count: total, tickets: page.map(ticketJson) } };
  };

  const addAction = (record: Record<string, unknown>): SandboxReply => {
    const ticket = tickets.get(Number(record.ticket_id));
    if (ticket === undefined)
      return text(400, `Ticket ${JSON.stringify(record.ticket_id)} not found`);
    let newStatus: number | undefined;
    if (record.new_status !== undefined) {
      newStatus = intField(record.new_status);
      if (newStatus === undefined)
        return text(400, `Invalid new_status: ${JSON.stringify(record.new_status)}`);
    }
    const html = typeof record.note_html === 'string' ? record.note_html : undefined;
    const plain = typeof record.note === 'string' ? record.note : '';
    const action = storeAction(ticket, {
      outcome: typeof record.outcome === 'string' ? record.outcome : 'Private Note',
      who: 'API User',
      note: html === undefined ? plain : htmlToText(html),
      note_html: html ?? escapeHtml(plain),
      hiddenfromuser: record.hiddenfromuser === true,
      new_status: newStatus,
    });
    if (webhookTarget !== undefined && options.webhookOnApiActions === true) {
      // Sent after the reply, as Halo queues webhook deliveries rather than holding the API call.
      const target = webhookTarget;
      const payload = { ticket: ticketJson(ticket), action };
      setImmediate(() => void sendWebhook(target, payload));
    }
    return { status: 201, body: action };
  };

  const storeAction = (
    ticket: HaloTicket,
    fields: Omit<HaloAction, 'id' | 'ticket_id' | 'datetime'>,
  ): HaloAction => {
    const at = now().toISOString();
    const action: HaloAction = {
      id: ticket.actions.length + 1,
      ticket_id: ticket.id,
      datetime: at,
      ...fields,
    };
    if (action.new_status === undefined) delete action.new_status;
    else ticket.status_id = action.new_status;
    ticket.actions.push(action);
    ticket.last_update = at;
    return { ...action };
  };

  const getAction = (id: number, url: URL): SandboxReply => {
    const action = tickets
      .get(Number(url.searchParams.get('ticket_id')))
      ?.actions.find((a) => a.id === id);
    return action === undefined
      ? text(404, `Action ${id} not found`)
      : { status: 200, body: { ...action } };
  };

  const listActions = (url: URL): SandboxReply => {
    const q = url.searchParams;
    const ticket = tickets.get(Number(q.get('ticket_id')));
    if (ticket === undefined) return text(400, `Ticket ${q.get('ticket_id') ?? ''} not found`);
    let found = [...ticket.actions];
    if (q.get('excludeprivate') === 'true') found = found.filter((a) => !a.hiddenfromuser);
    const start = dateParam(q.get('startdate'));
    if (start !== undefined) found = found.filter((a) => a.datetime >= start);
    const { page, total } = paginate(found, q);
    return {
      status: 200,
      body: {
        record_count: total,
        actions: page.map((a) =>
          q.get('includehtmlnote') === 'true' ? { ...a } : { ...a, note_html: undefined },
        ),
      },
    };
  };

  const paginate = <T>(all: readonly T[], q: URLSearchParams): { page: T[]; total: number } => {
    const count = Number(q.get('count'));
    const capped = Number.isInteger(count) && count > 0 ? all.slice(0, count) : all;
    if (q.get('pageinate') !== 'true') return { page: [...capped], total: capped.length };
    const size = Math.min(maxPageSize, Math.max(1, Number(q.get('page_size')) || 50));
    const pageNo = Math.max(1, Number(q.get('page_no')) || 1);
    return { page: capped.slice((pageNo - 1) * size, pageNo * size), total: capped.length };
  };

  const addTechnicianNote = async (
    ticketId: string,
    noteText: string,
    noteOptions: {
      readonly author?: string;
      readonly internal?: boolean;
      readonly webhook?: boolean;
    } = {},
  ): Promise<string> => {
    const ticket = tickets.get(Number(ticketId));
    if (ticket === undefined) throw new Error(`HaloPSA sandbox: no ticket ${ticketId}`);
    const internal = noteOptions.internal ?? false;
    const action = storeAction(ticket, {
      outcome: internal ? 'Private Note' : 'Public Note',
      who: noteOptions.author ?? 'Sam Technician',
      note: noteText,
      note_html: escapeHtml(noteText).replace(/\n/g, '<br>'),
      hiddenfromuser: internal,
    });
    state.save();
    if (webhookTarget !== undefined && noteOptions.webhook !== false) {
      await sendWebhook(webhookTarget, { ticket: ticketJson(ticket), action });
    }
    return String(action.id);
  };

  const sendWebhook = async (target: string, payload: unknown): Promise<void> => {
    const authorization =
      options.webhookAuth === 'basic'
        ? `Basic ${Buffer.from(`halo:${webhookSecret}`).toString('base64')}`
        : `Bearer ${webhookSecret}`;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(payload),
      });
      await response.arrayBuffer();
      options.log?.(`HaloPSA sandbox: webhook to ${target} → ${response.status}`);
    } catch (error) {
      // Halo records failed deliveries on the webhook's Deliveries tab and carries on; so do we.
      options.log?.(
        `HaloPSA sandbox: webhook to ${target} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };

  const page = (url: URL): SandboxReply => {
    const only = url.pathname === '/ticket' ? Number(url.searchParams.get('id')) : undefined;
    const shown = [...tickets.values()].filter((t) => only === undefined || t.id === only);
    const rows = shown
      .map(
        (t) => `<section><h2>#${t.id} ${escapeHtml(t.summary)}</h2>
<p>${escapeHtml(t.client_name)} · status ${t.status_id} · priority ${t.priority_id}</p>
<div class="details">${sanitiseForDisplay(t.details)}</div>
<ol>${t.actions
          .map(
            (a) =>
              `<li><b>${escapeHtml(a.who)}</b> ${a.hiddenfromuser ? '(private)' : '(public)'} ${escapeHtml(a.datetime)}<br>${sanitiseForDisplay(a.note)}</li>`,
          )
          .join('')}</ol>
<form method="post" action="/ui/notes"><input type="hidden" name="ticket_id" value="${t.id}">
<textarea name="note" required></textarea><label><input type="checkbox" name="internal" value="true"> private</label>
<button>Add technician note</button></form></section>`,
      )
      .join('\n');
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><html><head><meta charset="utf-8"><title>HaloPSA sandbox</title></head>
<body><h1>HaloPSA sandbox</h1>${rows === '' ? '<p>No tickets yet.</p>' : rows}</body></html>`,
    };
  };

  const route = async (request: SandboxRequest): Promise<SandboxReply> => {
    const path = request.url.pathname;
    if (path === '/auth/token') return token(request);
    if (path.startsWith('/api/')) return api(request, path.slice('/api'.length));
    if (request.method === 'GET' && (path === '/' || path === '/ticket')) return page(request.url);
    if (request.method === 'POST' && path === '/ui/notes') {
      const form = new URLSearchParams(request.rawBody.toString('utf8'));
      const ticketId = form.get('ticket_id') ?? '';
      const note = form.get('note') ?? '';
      if (!tickets.has(Number(ticketId)) || note.trim() === '')
        return text(400, 'Unknown ticket or empty note');
      await addTechnicianNote(ticketId, note, { internal: form.get('internal') === 'true' });
      return { status: 303, headers: { location: '/' } };
    }
    return text(404, 'Not found');
  };

  const http = await startSandboxHttp(savingAfterChanges(route, state), {
    port: options.port,
    chaos,
    errorBody: (_status, message) => message,
    log: options.log,
  });

  return {
    kind: 'halopsa',
    url: `${http.url}/api`,
    authUrl: `${http.url}/auth`,
    webUrl: http.url,
    clientId,
    clientSecret,
    webhookSecret,
    chaos,
    counts: http.counts,
    tickets: () => [...tickets.values()].map(sandboxTicket),
    addTechnicianNote,
    setWebhookTarget: (url) => {
      webhookTarget = url;
    },
    expireTokens: () => {
      for (const key of tokens.keys()) tokens.set(key, 0);
    },
    close: () => http.close(),
  };
}

function ticketJson(ticket: HaloTicket): Record<string, unknown> {
  const { actions: _actions, ...rest } = ticket;
  return { ...rest };
}

function sandboxTicket(ticket: HaloTicket): SandboxTicket {
  const notes: SandboxNote[] = ticket.actions.map((a) => ({
    id: String(a.id),
    text: a.note,
    author: a.who,
    internal: a.hiddenfromuser,
    createdAt: a.datetime,
  }));
  return {
    id: String(ticket.id),
    company: String(ticket.client_id),
    summary: ticket.summary,
    externalRef: REFERENCE.exec(ticket.details)?.[1],
    status: String(ticket.status_id),
    priority: String(ticket.priority_id),
    notes,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intField(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

/** Halo takes `2026-01-01T00:00:00` (UTC) or a full ISO string; normalised for string comparison. */
function dateParam(value: string | null): string | undefined {
  if (value === null || value === '') return undefined;
  const at = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Plain text shown on the demo page, line breaks kept. */
function sanitiseForDisplay(text: string): string {
  return escapeHtml(text).replace(/\n/g, '<br>');
}

/** What Halo stores as a note's or details' plain text beside the HTML. */
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
