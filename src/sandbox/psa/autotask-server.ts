import { createHmac, randomUUID } from 'node:crypto';
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
 * Autotask picklist ids the sandbox instance uses. Real instances define their own (read
 * `Tickets/entityInformation/fields`); these follow a fresh Autotask database's defaults.
 */
export const AUTOTASK_SANDBOX_PICKLISTS = {
  /** Ticket statuses: 1 New, 5 Complete, 7 Waiting Customer, 8 In Progress. */
  statuses: [1, 5, 7, 8],
  /** Ticket priorities: 1 High, 2 Medium, 3 Low, 4 Critical. */
  priorities: [1, 2, 3, 4],
  /** Note `publish`: 1 All Autotask Users (shown in the client portal), 2 Internal Only. */
  publishAll: 1,
  publishInternal: 2,
} as const;

/** The resource id of the API user (the author of every note Cabinet writes). */
export const AUTOTASK_SANDBOX_API_RESOURCE_ID = 29682885;

export interface AutotaskSandboxCompany {
  readonly id: number;
  readonly name: string;
}

/** Autotask's REST limits, changeable at any time. */
export interface AutotaskSandboxLimits {
  /** Requests per rolling hour for the whole database (Autotask: 10,000, shared by all integrations). */
  hourlyBudget: number;
  /** Concurrent requests per entity endpoint per API tracking identifier (Autotask: 3). */
  threadLimit: number;
  /** Time each API call takes, so tests can make calls overlap and meet the thread limit. */
  latencyMs: number;
}

export interface StartAutotaskSandboxOptions {
  readonly port?: number;
  readonly chaos?: PsaChaosKnobs;
  readonly username?: string;
  readonly secret?: string;
  readonly integrationCode?: string;
  /** The webhook `SecretKey` the sandbox signs with (≤ 64 chars in Autotask). */
  readonly webhookSecret?: string;
  readonly companies?: readonly AutotaskSandboxCompany[];
  /** Queue ids tickets may be opened in. */
  readonly queues?: readonly number[];
  readonly limits?: Partial<AutotaskSandboxLimits>;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
  /**
   * Where tickets, notes, note authors and the webhook's id and sequence are kept across restarts
   * (loaded at start, written after each change); in memory only when absent.
   */
  readonly stateFile?: string;
}

/** What `stateFile` holds; the next ids continue from the largest stored ones. */
interface AutotaskState {
  readonly webhookGuid: string;
  readonly sequenceNumber: number;
  readonly tickets: readonly StoredTicket[];
  readonly notes: readonly StoredNote[];
  readonly resources: readonly (readonly [number, string])[];
}

export interface RunningAutotaskSandbox extends RunningPsaSandbox {
  readonly kind: 'autotask';
  /** Where zone discovery is asked (`{zoneUrl}V1.0/ZoneInformation?user=`); the same server. */
  readonly zoneUrl: string;
  /** The Autotask web UI's address as zone discovery reports it. */
  readonly webUrl: string;
  readonly username: string;
  readonly secret: string;
  readonly integrationCode: string;
  readonly webhookSecret: string;
  readonly limits: AutotaskSandboxLimits;
}

interface StoredTicket {
  id: number;
  companyID: number;
  title: string;
  description: string;
  status: number;
  priority: number;
  queueID: number | null;
  issueType: number | null;
  externalID: string | null;
  createDate: string;
  lastActivityDate: string;
}

interface StoredNote {
  id: number;
  ticketID: number;
  title: string;
  description: string;
  noteType: number;
  publish: number;
  creatorResourceID: number;
  createDateTime: string;
  lastActivityDate: string;
}

interface QueryFilter {
  readonly op: string;
  readonly field: string;
  readonly value: unknown;
}

interface PageState {
  readonly entity: 'Tickets' | 'TicketNotes';
  readonly filter: readonly QueryFilter[];
  readonly max: number;
  readonly afterId: number;
}

const API_ROOT = '/ATServicesRest/';
/** Where the connector's ticket links point (`{webUrl}Mvc/ServiceDesk/TicketDetail.mvc?TicketID=`). */
const TICKET_PAGE = '/Mvc/ServiceDesk/TicketDetail.mvc';
const MAX_RECORDS = 500;
const HOUR_MS = 60 * 60 * 1000;

export const AUTOTASK_SANDBOX_DEFAULTS = {
  username: 'cabinet-api@msp.example',
  secret: 'sandbox-autotask-secret',
  integrationCode: 'CABINETSANDBOXTRACKINGID',
  webhookSecret: 'sandbox-autotask-webhook-key',
  companies: [
    { id: 174, name: 'Contoso Ltd' },
    { id: 175, name: 'Fabrikam Inc' },
  ],
  queues: [29682833, 29682834],
} as const;

/**
 * A sandbox Autotask PSA speaking its REST wire format: zone discovery, header authentication,
 * Tickets and TicketNotes with `query` filters and `pageDetails.nextPageUrl` paging, `{errors:[…]}`
 * bodies, the hourly request budget and the per-endpoint thread limit, and webhooks signed with
 * `X-Hook-Signature` over Autotask's escaped JSON.
 *
 * Validation failures (unknown companyID, bad picklist value, missing field) answer 500 with
 * `{errors:[message]}`, as Autotask does for business-rule errors; the connector treats a 500 that
 * carries such a message as permanent and a bare 5xx as transient.
 */
export async function startAutotaskSandbox(
  options: StartAutotaskSandboxOptions = {},
): Promise<RunningAutotaskSandbox> {
  const chaos = options.chaos ?? calmChaos();
  const now = options.now ?? (() => new Date());
  const username = options.username ?? AUTOTASK_SANDBOX_DEFAULTS.username;
  const secret = options.secret ?? AUTOTASK_SANDBOX_DEFAULTS.secret;
  const integrationCode = options.integrationCode ?? AUTOTASK_SANDBOX_DEFAULTS.integrationCode;
  const webhookSecret = options.webhookSecret ?? AUTOTASK_SANDBOX_DEFAULTS.webhookSecret;
  const companies = new Map(
    (options.companies ?? AUTOTASK_SANDBOX_DEFAULTS.companies).map((c) => [c.id, c.name]),
  );
  const queues = new Set<number>(options.queues ?? AUTOTASK_SANDBOX_DEFAULTS.queues);
  const limits: AutotaskSandboxLimits = {
    hourlyBudget: 10_000,
    threadLimit: 3,
    latencyMs: 0,
    ...options.limits,
  };
  const state: SandboxStateFile<AutotaskState> = openSandboxState(
    options.stateFile,
    'Autotask',
    (): AutotaskState => ({
      webhookGuid,
      sequenceNumber,
      tickets: [...tickets.values()],
      notes: [...notes.values()],
      resources: [...resources.entries()],
    }),
    options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  );
  const loaded = state.loaded;
  const tickets = new Map<number, StoredTicket>((loaded?.tickets ?? []).map((t) => [t.id, t]));
  const notes = new Map<number, StoredNote>((loaded?.notes ?? []).map((n) => [n.id, n]));
  const resources = new Map<number, string>([
    [AUTOTASK_SANDBOX_API_RESOURCE_ID, 'Cabinet API'],
    ...(loaded?.resources ?? []),
  ]);
  const recentCalls: number[] = [];
  /** Opaque `paging` tokens of `nextPageUrl`s handed out (the sandbox never expires them). */
  const pagingTokens = new Map<string, PageState>();
  const inFlight = new Map<string, number>();
  let nextTicketId = Math.max(7001, ...[...tickets.keys()].map((id) => id + 1));
  let nextNoteId = Math.max(30001, ...[...notes.keys()].map((id) => id + 1));
  let nextResourceId = Math.max(29683001, ...[...resources.keys()].map((id) => id + 1));
  let sequenceNumber = loaded?.sequenceNumber ?? 0;
  let webhookTarget: string | undefined;
  const webhookGuid: string = loaded?.webhookGuid ?? randomUUID();
  let baseUrl = '';

  const errors = (status: number, ...messages: string[]): SandboxReply => ({
    status,
    body: { errors: messages },
  });

  const authorised = (request: SandboxRequest): boolean =>
    header(request, 'apiintegrationcode') === integrationCode &&
    header(request, 'username') === username &&
    header(request, 'secret') === secret;

  const overBudget = (): boolean => {
    const at = now().getTime();
    while (recentCalls.length > 0 && (recentCalls[0] ?? 0) <= at - HOUR_MS) recentCalls.shift();
    if (recentCalls.length >= limits.hourlyBudget) return true;
    recentCalls.push(at);
    return false;
  };

  /** The sandbox's stand-in for Autotask's web UI: tickets, notes, and a form to add a note. */
  const uiPage = (url: URL): SandboxReply => {
    const only =
      url.pathname === TICKET_PAGE ? Number(url.searchParams.get('TicketID')) : undefined;
    const shown = [...tickets.values()]
      .filter((t) => only === undefined || t.id === only)
      .map(view)
      .map(
        (t) => `<section><h2>#${t.id} ${escapeHtml(t.summary)}</h2>
<p>company ${escapeHtml(t.company)} · status ${escapeHtml(t.status)} · priority ${escapeHtml(t.priority)}${
          t.externalRef === undefined ? '' : ` · externalID ${escapeHtml(t.externalRef)}`
        }</p>
<ol>${t.notes
          .map(
            (n) =>
              `<li><b>${escapeHtml(n.author)}</b> ${n.internal ? '(internal only)' : '(all Autotask users)'} ${escapeHtml(n.createdAt)}<pre>${escapeHtml(n.text)}</pre></li>`,
          )
          .join('')}</ol>
<form method="post" action="/ui/notes"><input type="hidden" name="ticketId" value="${t.id}">
<textarea name="note" required></textarea><label><input type="checkbox" name="internal" value="true"> internal only</label>
<button>Add technician note</button></form></section>`,
      )
      .join('\n');
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><html><head><meta charset="utf-8"><title>Autotask sandbox</title></head>
<body><h1>Autotask sandbox</h1>${shown === '' ? '<p>No tickets yet.</p>' : shown}</body></html>`,
    };
  };

  const uiNote = async (request: SandboxRequest): Promise<SandboxReply> => {
    const form = new URLSearchParams(request.rawBody.toString('utf8'));
    const ticketId = form.get('ticketId') ?? '';
    const note = form.get('note') ?? '';
    if (!tickets.has(Number(ticketId)) || note.trim() === '') {
      return {
        status: 400,
        headers: { 'content-type': 'text/plain' },
        body: 'Unknown ticket or empty note',
      };
    }
    await addTechnicianNote(ticketId, note, { internal: form.get('internal') === 'true' });
    return { status: 303, headers: { location: '/' } };
  };

  const route = async (request: SandboxRequest): Promise<SandboxReply> => {
    const path = request.url.pathname;
    if (request.method === 'GET' && (path === '/' || path === TICKET_PAGE))
      return uiPage(request.url);
    if (request.method === 'POST' && path === '/ui/notes') return uiNote(request);
    if (!path.startsWith(`${API_ROOT}V1.0/`)) return errors(404, `No route for ${path}`);
    const segments = path.slice(`${API_ROOT}V1.0/`.length).split('/');
    if (segments[0] === 'ZoneInformation' && request.method === 'GET') {
      // Not authenticated and not subject to thread limits, as in Autotask.
      const user = request.url.searchParams.get('user');
      if (user !== username)
        return errors(404, 'Zone information could not be determined for user.');
      return {
        status: 200,
        body: { zoneName: 'Sandbox', url: `${baseUrl}${API_ROOT}`, webUrl: `${baseUrl}/`, ci: 0 },
      };
    }
    if (!authorised(request)) return errors(401, 'User is not authorized to access this resource.');
    if (overBudget()) {
      return errors(
        429,
        `Rejected: this database has exceeded its request threshold of ${limits.hourlyBudget} requests per hour.`,
      );
    }
    const threadKey = `${integrationCode}:${segments[0] ?? ''}`;
    const running = inFlight.get(threadKey) ?? 0;
    if (running >= limits.threadLimit) {
      return errors(
        500,
        `Thread limit of ${limits.threadLimit} concurrent requests for ${segments[0] ?? ''} exceeded for this API tracking identifier; try again shortly.`,
      );
    }
    inFlight.set(threadKey, running + 1);
    try {
      if (limits.latencyMs > 0) await new Promise((r) => setTimeout(r, limits.latencyMs));
      return entityRoute(request, segments);
    } finally {
      inFlight.set(threadKey, (inFlight.get(threadKey) ?? 1) - 1);
    }
  };

  const entityRoute = (request: SandboxRequest, segments: string[]): SandboxReply => {
    const [entity, second, third] = segments;
    const { method } = request;
    if (entity === 'Tickets') {
      if (second === undefined && method === 'POST') return createTicket(jsonBody(request));
      if (second === undefined && method === 'PATCH') return patchTicket(jsonBody(request));
      if (second === 'query' && third === 'next' && method === 'GET')
        return nextPage(request, 'Tickets');
      if (second === 'query' && third === undefined) return startQuery(request, 'Tickets');
      const id = Number(second);
      if (Number.isSafeInteger(id) && third === undefined && method === 'GET') {
        const ticket = tickets.get(id);
        return { status: 200, body: { item: ticket ? { ...ticket } : null } };
      }
      if (Number.isSafeInteger(id) && third === 'Notes' && method === 'POST') {
        return createNote(id, jsonBody(request));
      }
    }
    if (entity === 'TicketNotes' && second === 'query') {
      if (third === 'next' && method === 'GET') return nextPage(request, 'TicketNotes');
      if (third === undefined) return startQuery(request, 'TicketNotes');
    }
    if (entity === 'Resources' && method === 'GET') {
      const id = Number(second);
      const name = resources.get(id);
      if (name === undefined) return { status: 200, body: { item: null } };
      const [firstName, ...rest] = name.split(' ');
      return {
        status: 200,
        body: { item: { id, firstName, lastName: rest.join(' '), isActive: true } },
      };
    }
    return errors(
      404,
      `The requested resource does not exist: ${request.method} ${request.url.pathname}`,
    );
  };

  const createTicket = (body: unknown): SandboxReply => {
    if (!isRecord(body)) return errors(500, 'The request body is not a valid Ticket entity.');
    const invalid = validateTicket(body, true);
    if (invalid !== undefined) return errors(500, invalid);
    const at = now().toISOString();
    const ticket: StoredTicket = {
      id: nextTicketId++,
      companyID: body.companyID as number,
      title: body.title as string,
      description: typeof body.description === 'string' ? body.description : '',
      status: body.status as number,
      priority: body.priority as number,
      queueID: typeof body.queueID === 'number' ? body.queueID : null,
      issueType: typeof body.issueType === 'number' ? body.issueType : null,
      externalID: typeof body.externalID === 'string' ? body.externalID : null,
      createDate: at,
      lastActivityDate: at,
    };
    tickets.set(ticket.id, ticket);
    return { status: 200, body: { itemId: ticket.id } };
  };

  const patchTicket = (body: unknown): SandboxReply => {
    if (!isRecord(body) || typeof body.id !== 'number') {
      return errors(500, 'PATCH requires the id of the Ticket in the body.');
    }
    const ticket = tickets.get(body.id);
    if (ticket === undefined) return errors(404, `Ticket ${body.id} does not exist.`);
    const invalid = validateTicket(body, false);
    if (invalid !== undefined) return errors(500, invalid);
    if (typeof body.status === 'number') ticket.status = body.status;
    if (typeof body.priority === 'number') ticket.priority = body.priority;
    if (typeof body.title === 'string') ticket.title = body.title;
    ticket.lastActivityDate = now().toISOString();
    return { status: 200, body: { itemId: ticket.id } };
  };

  const validateTicket = (body: Record<string, unknown>, creating: boolean): string | undefined => {
    if (creating) {
      for (const field of ['companyID', 'title', 'status', 'priority'] as const) {
        if (body[field] === undefined) return `Missing required field: ${field}.`;
      }
      if (typeof body.companyID !== 'number' || !companies.has(body.companyID)) {
        return `Reference value on field: companyID of type: Company does not exist or is invalid (${String(body.companyID)}).`;
      }
      if (typeof body.title !== 'string' || body.title.length === 0 || body.title.length > 255) {
        return 'Value for field title must be 1 to 255 characters.';
      }
    }
    if (body.status !== undefined && !includes(AUTOTASK_SANDBOX_PICKLISTS.statuses, body.status)) {
      return `Value ${JSON.stringify(body.status)} for field status is not a valid picklist value.`;
    }
    if (
      body.priority !== undefined &&
      !includes(AUTOTASK_SANDBOX_PICKLISTS.priorities, body.priority)
    ) {
      return `Value ${JSON.stringify(body.priority)} for field priority is not a valid picklist value.`;
    }
    if (
      body.queueID !== undefined &&
      !(typeof body.queueID === 'number' && queues.has(body.queueID))
    ) {
      return `Value ${JSON.stringify(body.queueID)} for field queueID is not a valid picklist value.`;
    }
    if (typeof body.description === 'string' && body.description.length > 8000) {
      return 'Value for field description exceeds 8000 characters.';
    }
    if (typeof body.externalID === 'string' && body.externalID.length > 50) {
      return 'Value for field externalID exceeds 50 characters.';
    }
    return undefined;
  };

  const createNote = (ticketId: number, body: unknown): SandboxReply => {
    const ticket = tickets.get(ticketId);
    if (ticket === undefined) return errors(404, `Ticket ${ticketId} does not exist.`);
    if (!isRecord(body) || typeof body.description !== 'string' || body.description.length === 0) {
      return errors(500, 'Missing required field: description.');
    }
    if (body.description.length > 32000)
      return errors(500, 'Value for field description exceeds 32000 characters.');
    const publish = body.publish ?? AUTOTASK_SANDBOX_PICKLISTS.publishAll;
    if (
      publish !== AUTOTASK_SANDBOX_PICKLISTS.publishAll &&
      publish !== AUTOTASK_SANDBOX_PICKLISTS.publishInternal
    ) {
      return errors(
        500,
        `Value ${JSON.stringify(publish)} for field publish is not a valid picklist value.`,
      );
    }
    const note = storeNote(ticket, {
      title: typeof body.title === 'string' ? body.title : '',
      description: body.description,
      publish,
      author: AUTOTASK_SANDBOX_API_RESOURCE_ID,
    });
    return { status: 200, body: { itemId: note.id } };
  };

  const storeNote = (
    ticket: StoredTicket,
    fields: { title: string; description: string; publish: number; author: number },
  ): StoredNote => {
    const at = now().toISOString();
    const note: StoredNote = {
      id: nextNoteId++,
      ticketID: ticket.id,
      title: fields.title,
      description: fields.description,
      noteType: 1,
      publish: fields.publish,
      creatorResourceID: fields.author,
      createDateTime: at,
      lastActivityDate: at,
    };
    notes.set(note.id, note);
    ticket.lastActivityDate = at;
    return note;
  };

  const startQuery = (request: SandboxRequest, entity: PageState['entity']): SandboxReply => {
    let body: unknown;
    if (request.method === 'POST') body = jsonBody(request);
    else if (request.method === 'GET') {
      const search = request.url.searchParams.get('search');
      body = search === null ? undefined : parseJson(search);
    } else return errors(405, 'Method not allowed.');
    if (!isRecord(body) || !Array.isArray(body.filter) || body.filter.length === 0) {
      return errors(500, 'A query requires at least one filter.');
    }
    const filter: QueryFilter[] = [];
    for (const raw of body.filter as unknown[]) {
      if (!isRecord(raw) || typeof raw.op !== 'string' || typeof raw.field !== 'string') {
        return errors(500, 'Each filter needs op, field and value.');
      }
      const problem = checkFilter(entity, raw.op, raw.field);
      if (problem !== undefined) return errors(500, problem);
      filter.push({ op: raw.op, field: raw.field, value: raw.value });
    }
    const max = body.MaxRecords ?? MAX_RECORDS;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_RECORDS) {
      return errors(500, 'MaxRecords must be between 1 and 500.');
    }
    return page({ entity, filter, max, afterId: 0 });
  };

  const nextPage = (request: SandboxRequest, entity: PageState['entity']): SandboxReply => {
    const token = request.url.searchParams.get('paging');
    const state = token === null ? undefined : pagingTokens.get(token);
    if (state?.entity !== entity) return errors(500, 'The paging token is not valid.');
    return page(state);
  };

  const page = (state: PageState): SandboxReply => {
    const rows: readonly (StoredTicket | StoredNote)[] =
      state.entity === 'Tickets' ? [...tickets.values()] : [...notes.values()];
    const source = rows.map((row): Record<string, unknown> => ({ ...row }));
    const matching = source
      .filter(
        (row) => (row.id as number) > state.afterId && state.filter.every((f) => matches(row, f)),
      )
      .sort((a, b) => (a.id as number) - (b.id as number));
    const items = matching.slice(0, state.max);
    const last = items.at(-1);
    const more = matching.length > state.max && last !== undefined;
    let nextToken: string | undefined;
    if (more) {
      nextToken = randomUUID();
      pagingTokens.set(nextToken, { ...state, afterId: last.id as number });
    }
    return {
      status: 200,
      body: {
        items,
        pageDetails: {
          count: items.length,
          requestCount: state.max,
          prevPageUrl: null,
          nextPageUrl:
            nextToken === undefined
              ? null
              : `${baseUrl}${API_ROOT}V1.0/${state.entity}/query/next?paging=${nextToken}`,
        },
      },
    };
  };

  const http = await startSandboxHttp(savingAfterChanges(route, state), {
    ...(options.port === undefined ? {} : { port: options.port }),
    chaos,
    errorBody: (_status, message) => ({ errors: [message] }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  baseUrl = http.url;

  const view = (ticket: StoredTicket): SandboxTicket => ({
    id: String(ticket.id),
    company: String(ticket.companyID),
    summary: ticket.title,
    ...(ticket.externalID === null ? {} : { externalRef: ticket.externalID }),
    status: String(ticket.status),
    priority: String(ticket.priority),
    notes: [...notes.values()]
      .filter((n) => n.ticketID === ticket.id)
      .sort((a, b) => a.id - b.id)
      .map(
        (n): SandboxNote => ({
          id: String(n.id),
          text: n.title === '' ? n.description : `${n.title}\n\n${n.description}`,
          author: resources.get(n.creatorResourceID) ?? String(n.creatorResourceID),
          internal: n.publish !== AUTOTASK_SANDBOX_PICKLISTS.publishAll,
          createdAt: n.createDateTime,
        }),
      ),
  });

  const sendWebhook = async (note: StoredNote): Promise<void> => {
    const target = webhookTarget;
    if (target === undefined) return;
    sequenceNumber += 1;
    // Kept so a restarted sandbox never repeats a sequence number receivers have seen.
    state.save();
    const raw = autotaskJson({
      Action: 'Create',
      Guid: webhookGuid,
      EntityType: 'TicketNote',
      Id: note.id,
      Fields: {
        ticketID: note.ticketID,
        title: note.title,
        description: note.description,
        publish: note.publish,
      },
      EventTime: note.createDateTime,
      SequenceNumber: sequenceNumber,
      PersonID: note.creatorResourceID,
    });
    const bytes = Buffer.from(raw, 'utf8');
    try {
      await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hook-signature': autotaskHookSignature(webhookSecret, bytes),
        },
        body: bytes,
      });
    } catch (error: unknown) {
      // Autotask does not retry a failed delivery either; Cabinet's poller catches up.
      options.log?.(
        `sandbox Autotask webhook: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };

  const addTechnicianNote: RunningPsaSandbox['addTechnicianNote'] = async (
    ticketId,
    text,
    noteOptions = {},
  ) => {
    const ticket = tickets.get(Number(ticketId));
    if (ticket === undefined) throw new Error(`No Autotask ticket ${ticketId}`);
    const author = noteOptions.author ?? 'Alex Technician';
    let resourceId = [...resources.entries()].find(([, name]) => name === author)?.[0];
    if (resourceId === undefined) {
      resourceId = nextResourceId++;
      resources.set(resourceId, author);
    }
    const note = storeNote(ticket, {
      title: '',
      description: text,
      publish:
        noteOptions.internal === true
          ? AUTOTASK_SANDBOX_PICKLISTS.publishInternal
          : AUTOTASK_SANDBOX_PICKLISTS.publishAll,
      author: resourceId,
    });
    state.save();
    if (noteOptions.webhook !== false) await sendWebhook(note);
    return String(note.id);
  };

  return {
    kind: 'autotask',
    url: `${http.url}${API_ROOT}`,
    zoneUrl: `${http.url}${API_ROOT}`,
    webUrl: `${http.url}/`,
    username,
    secret,
    integrationCode,
    webhookSecret,
    limits,
    chaos,
    counts: http.counts,
    tickets: () => [...tickets.values()].sort((a, b) => a.id - b.id).map(view),
    addTechnicianNote,
    setWebhookTarget: (target) => {
      webhookTarget = target;
    },
    close: () => http.close(),
  };
}

/** `sha1=` + base64 HMAC-SHA1 of the exact bytes, as Autotask's `X-Hook-Signature`. */
export function autotaskHookSignature(secret: string, rawBody: Buffer): string {
  return `sha1=${createHmac('sha1', secret).update(rawBody).digest('base64')}`;
}

const AUTOTASK_ESCAPED = new Set(['&', '<', '>', "'", '"', '+', '`']);

/**
 * JSON as Autotask writes webhook bodies: inside strings, `& < > ' " + \`` and every non-ASCII
 * character are `\uXXXX` escapes, so a receiver that re-serialises the parsed body gets different
 * bytes (and a different signature) than the ones Autotask signed.
 */
export function autotaskJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return autotaskString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => autotaskJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${autotaskString(k)}:${autotaskJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`Cannot serialise ${typeof value}`);
}

function autotaskString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charAt(i);
    const code = text.charCodeAt(i);
    if (char === '\\') out += '\\\\';
    else if (AUTOTASK_ESCAPED.has(char) || code < 0x20 || code > 0x7e) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += char;
  }
  return `${out}"`;
}

const TICKET_FILTERS: Readonly<Record<string, readonly string[]>> = {
  id: ['eq', 'gt', 'gte'],
  externalID: ['eq'],
  companyID: ['eq'],
  lastActivityDate: ['eq', 'gt', 'gte'],
};
const NOTE_FILTERS: Readonly<Record<string, readonly string[]>> = {
  id: ['eq', 'gt', 'gte'],
  ticketID: ['eq'],
  createDateTime: ['gt', 'gte'],
  lastActivityDate: ['gt', 'gte'],
  description: ['contains'],
};

function checkFilter(entity: PageState['entity'], op: string, field: string): string | undefined {
  const allowed = (entity === 'Tickets' ? TICKET_FILTERS : NOTE_FILTERS)[field];
  if (allowed === undefined)
    return `Unknown field ${field} for ${entity} query (sandbox supports ${Object.keys(entity === 'Tickets' ? TICKET_FILTERS : NOTE_FILTERS).join(', ')}).`;
  if (!allowed.includes(op))
    return `Operator ${op} is not supported on ${entity}.${field} in the sandbox.`;
  return undefined;
}

function matches(row: Record<string, unknown>, filter: QueryFilter): boolean {
  const actual = row[filter.field];
  if (filter.op === 'contains') {
    return (
      typeof actual === 'string' &&
      typeof filter.value === 'string' &&
      actual.toLowerCase().includes(filter.value.toLowerCase())
    );
  }
  const [a, b] = comparable(actual, filter.value);
  if (a === undefined || b === undefined) return false;
  if (filter.op === 'eq') return a === b;
  if (filter.op === 'gt') return a > b;
  return a >= b;
}

/** Dates compare as instants, numbers as numbers (Autotask accepts ids as numbers or strings). */
function comparable(
  actual: unknown,
  value: unknown,
): [number | string | undefined, number | string | undefined] {
  if (typeof actual === 'number') {
    const v = typeof value === 'number' ? value : Number(value);
    return [actual, Number.isFinite(v) ? v : undefined];
  }
  if (typeof actual === 'string' && typeof value === 'string') {
    const [x, y] = [Date.parse(actual), Date.parse(value)];
    if (/^\d{4}-\d{2}-\d{2}T/.test(actual) && !Number.isNaN(x) && !Number.isNaN(y)) return [x, y];
    return [actual.toLowerCase(), value.toLowerCase()];
  }
  return [undefined, undefined];
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function header(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function includes(list: readonly number[], value: unknown): boolean {
  return typeof value === 'number' && list.includes(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
