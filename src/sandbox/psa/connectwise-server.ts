import { createHash, createHmac, randomUUID } from 'node:crypto';
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

/** A company the sandbox ConnectWise knows (tickets for any other are refused like the real one). */
export interface ConnectWiseSandboxCompany {
  readonly id: number;
  readonly identifier: string;
  readonly name: string;
}

export interface ConnectWiseSandboxOptions {
  readonly port?: number;
  readonly companyId?: string;
  readonly publicKey?: string;
  readonly privateKey?: string;
  readonly clientId?: string;
  /** What `/login/companyinfo` answers, e.g. `v4_6_release/`. */
  readonly codebase?: string;
  readonly companies?: readonly ConnectWiseSandboxCompany[];
  /** The callback signing key served at the key URL (random when absent). */
  readonly signingKey?: string;
  readonly chaos?: Partial<PsaChaosKnobs>;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
  /**
   * Where tickets, notes and the generated signing key are kept across restarts (loaded at start,
   * written after each change); in memory only when absent.
   */
  readonly stateFile?: string;
}

/** What `stateFile` holds; the next ids continue from the largest stored ones. */
interface ConnectWiseState {
  readonly signingKey: string;
  readonly tickets: readonly StoredTicket[];
}

export interface RunningConnectWiseSandbox extends RunningPsaSandbox {
  readonly kind: 'connectwise';
  /** The site URL (what `createConnectWiseConnector` takes as `siteUrl`); equals `url`. */
  readonly siteUrl: string;
  readonly companyId: string;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly clientId: string;
  readonly codebase: string;
  /** Where the callback signing key is served (sent as `Metadata.key_url` in every callback). */
  readonly keyUrl: string;
}

export const CONNECTWISE_SANDBOX_COMPANIES: readonly ConnectWiseSandboxCompany[] = [
  { id: 250, identifier: 'CONTOSO', name: 'Contoso Ltd' },
  { id: 251, identifier: 'FABRIKAM', name: 'Fabrikam Inc' },
];

/** The member the API keys belong to; notes written over the API carry it as their author. */
const API_MEMBER = { id: 170, identifier: 'cabinet', name: 'Cabinet API' };
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 25;
/** A receiver that never answers must not hold up the technician's note. */
const CALLBACK_TIMEOUT_MS = 10_000;

interface StoredNote {
  readonly id: number;
  readonly ticketId: number;
  readonly text: string;
  readonly internal: boolean;
  readonly member: { readonly id: number; readonly identifier: string; readonly name: string };
  readonly dateCreated: string;
}

interface StoredTicket {
  readonly id: number;
  summary: string;
  readonly company: ConnectWiseSandboxCompany;
  readonly board?: string;
  readonly type?: string;
  status: string;
  priority: string;
  readonly externalXRef?: string;
  readonly initialDescription?: string;
  readonly dateEntered: string;
  lastUpdated: string;
  readonly notes: StoredNote[];
}

type Value = string | number;
interface Condition {
  readonly field: string;
  readonly op: '=' | '!=' | '>' | '>=' | '<' | '<=';
  readonly value: Value;
}

/**
 * A ConnectWise PSA (Manage) sandbox over its REST API 3.0 wire format (reference §3.2): Basic
 * `companyId+publicKey:privateKey` plus the `clientId` header, bare JSON arrays paged with `page` /
 * `pageSize` and a `Link` header, the `conditions` query language (the subset Cabinet uses),
 * JSON-Patch updates, the `InvalidObject` error envelope, and callbacks signed with
 * base64(HMAC-SHA256(SHA256(signing_key), body)) in `x-content-signature`.
 */
export async function startConnectWiseSandbox(
  options: ConnectWiseSandboxOptions = {},
): Promise<RunningConnectWiseSandbox> {
  const companyId = options.companyId ?? 'cabinetmsp';
  const publicKey = options.publicKey ?? 'sandboxPublicKey';
  const privateKey = options.privateKey ?? 'sandboxPrivateKey';
  const clientId = options.clientId ?? '8c3f2a7e-5d1b-4e0f-9a6c-2b7d1e4f3a90';
  const codebase = options.codebase ?? 'v4_6_release/';
  const companies = options.companies ?? CONNECTWISE_SANDBOX_COMPANIES;
  const state: SandboxStateFile<ConnectWiseState> = openSandboxState(
    options.stateFile,
    'ConnectWise',
    (): ConnectWiseState => ({ signingKey, tickets: [...tickets.values()] }),
    options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  );
  const signingKey: string = options.signingKey ?? state.loaded?.signingKey ?? randomUUID();
  const keyId = 1;
  const now = options.now ?? (() => new Date());
  const chaos: PsaChaosKnobs = { ...calmChaos(), ...options.chaos };
  const expectedAuth = `Basic ${Buffer.from(`${companyId}+${publicKey}:${privateKey}`).toString('base64')}`;
  const tickets = new Map<number, StoredTicket>(
    (state.loaded?.tickets ?? []).map((t) => [t.id, t]),
  );
  let nextTicketId = Math.max(1000, ...[...tickets.keys()].map((id) => id + 1));
  let nextNoteId = Math.max(
    5000,
    ...[...tickets.values()].flatMap((t) => t.notes.map((n) => n.id + 1)),
  );
  let webhookTarget: string | undefined;
  const apiPrefix = `/${codebase}apis/3.0`;
  let siteUrl = '';

  const stamp = (): string => now().toISOString();

  const ticketView = (ticket: StoredTicket): Record<string, unknown> => ({
    id: ticket.id,
    summary: ticket.summary,
    company: {
      id: ticket.company.id,
      identifier: ticket.company.identifier,
      name: ticket.company.name,
    },
    ...(ticket.board === undefined ? {} : { board: { name: ticket.board } }),
    ...(ticket.type === undefined ? {} : { type: { name: ticket.type } }),
    status: { name: ticket.status },
    priority: { name: ticket.priority },
    ...(ticket.externalXRef === undefined ? {} : { externalXRef: ticket.externalXRef }),
    _info: {
      lastUpdated: ticket.lastUpdated,
      dateEntered: ticket.dateEntered,
      notes_href: `${siteUrl}${apiPrefix}/service/tickets/${ticket.id}/notes`,
    },
  });

  const noteView = (note: StoredNote): Record<string, unknown> => ({
    id: note.id,
    ticketId: note.ticketId,
    text: note.text,
    detailDescriptionFlag: !note.internal,
    internalAnalysisFlag: note.internal,
    resolutionFlag: false,
    member: note.member,
    createdBy: note.member.identifier,
    dateCreated: note.dateCreated,
    internalFlag: note.internal,
    externalFlag: !note.internal,
    _info: { lastUpdated: note.dateCreated },
  });

  const route = (request: SandboxRequest): SandboxReply => {
    const path = request.url.pathname;
    if (request.method === 'GET' && path === '/') return page();
    if (request.method === 'POST' && path === '/sandbox/notes') return formNote(request);
    const info = /^\/login\/companyinfo\/([^/]+)$/.exec(path);
    if (info !== null && request.method === 'GET') {
      if (decodeURIComponent(info[1] ?? '').toLowerCase() !== companyId.toLowerCase()) {
        return { status: 404, body: error('NotFound', 'Company not found') };
      }
      return {
        status: 200,
        body: {
          CompanyName: 'Cabinet MSP (sandbox)',
          Codebase: codebase,
          VersionCode: 'v2024.1',
          VersionNumber: 'v4.6.90000',
          CompanyID: companyId,
          IsCloud: 'True',
          SiteURL: new URL(siteUrl).host,
        },
      };
    }
    if (request.method === 'GET' && path === `${apiPrefix}/system/callbackkeys/${keyId}`) {
      return { status: 200, body: { signing_key: signingKey } };
    }
    if (!path.startsWith(`${apiPrefix}/`)) {
      return { status: 404, body: error('NotFound', `No route for ${path}`) };
    }
    if (request.headers.authorization !== expectedAuth || request.headers.clientid !== clientId) {
      return { status: 401, body: error('Unauthorized', 'Authentication failed') };
    }
    const rest = path.slice(apiPrefix.length);
    if (rest === '/service/tickets') {
      if (request.method === 'POST') return createTicket(request);
      if (request.method === 'GET') return listTickets(request);
    }
    const one = /^\/service\/tickets\/(\d+)$/.exec(rest);
    if (one !== null) {
      const ticket = tickets.get(Number(one[1]));
      if (ticket === undefined) return notFound(one[1] ?? '');
      if (request.method === 'GET') return { status: 200, body: ticketView(ticket) };
      if (request.method === 'PATCH') return patchTicket(ticket, request);
    }
    const notes = /^\/service\/tickets\/(\d+)\/notes$/.exec(rest);
    if (notes !== null) {
      const ticket = tickets.get(Number(notes[1]));
      if (ticket === undefined) return notFound(notes[1] ?? '');
      if (request.method === 'POST') return createNote(ticket, request);
      if (request.method === 'GET') return listNotes(ticket, request);
    }
    return { status: 404, body: error('NotFound', `No route for ${request.method} ${rest}`) };
  };

  const createTicket = (request: SandboxRequest): SandboxReply => {
    const body = record(jsonBody(request));
    if (body === undefined)
      return invalid('ticket', [{ field: 'ticket', message: 'Body is not a JSON object' }]);
    const issues: FieldIssue[] = [];
    const summary = typeof body.summary === 'string' ? body.summary : '';
    if (summary === '') issues.push({ field: 'summary', message: 'summary may not be empty' });
    if (summary.length > 100)
      issues.push({ field: 'summary', message: 'summary is longer than 100' });
    const companyRef = record(body.company);
    const company = companies.find((candidate) =>
      companyRef === undefined
        ? false
        : companyRef.id !== undefined
          ? candidate.id === companyRef.id
          : typeof companyRef.identifier === 'string' &&
            candidate.identifier.toLowerCase() === companyRef.identifier.toLowerCase(),
    );
    if (company === undefined) issues.push({ field: 'company', message: 'Company not found' });
    const externalXRef = typeof body.externalXRef === 'string' ? body.externalXRef : undefined;
    if (externalXRef !== undefined && externalXRef.length > 100) {
      issues.push({ field: 'externalXRef', message: 'externalXRef is longer than 100' });
    }
    if (issues.length > 0 || company === undefined) return invalid('ticket', issues);
    const at = stamp();
    const board = refName(body.board);
    const type = refName(body.type);
    const ticket: StoredTicket = {
      id: nextTicketId++,
      summary,
      company,
      ...(board === undefined ? {} : { board }),
      ...(type === undefined ? {} : { type }),
      status: refName(body.status) ?? 'New',
      priority: refName(body.priority) ?? 'Priority 3 - Normal Response',
      ...(externalXRef === undefined ? {} : { externalXRef }),
      ...(typeof body.initialDescription === 'string'
        ? { initialDescription: body.initialDescription }
        : {}),
      dateEntered: at,
      lastUpdated: at,
      notes: [],
    };
    tickets.set(ticket.id, ticket);
    return { status: 201, body: ticketView(ticket) };
  };

  const listTickets = (request: SandboxRequest): SandboxReply => {
    const conditions = parseConditions(request.url.searchParams.get('conditions'));
    if (conditions === undefined) return invalidConditions();
    const fields: Record<string, (ticket: StoredTicket) => Value | undefined> = {
      id: (ticket) => ticket.id,
      externalxref: (ticket) => ticket.externalXRef,
      lastupdated: (ticket) => ticket.lastUpdated,
      'company/identifier': (ticket) => ticket.company.identifier,
      'company/id': (ticket) => ticket.company.id,
      summary: (ticket) => ticket.summary,
    };
    if (conditions.some((condition) => fields[condition.field.toLowerCase()] === undefined)) {
      return invalidConditions();
    }
    const matching = [...tickets.values()].filter((ticket) =>
      conditions.every((condition) =>
        matches(fields[condition.field.toLowerCase()]?.(ticket), condition),
      ),
    );
    return paged(request, matching.sort((a, b) => a.id - b.id).map(ticketView));
  };

  const patchTicket = (ticket: StoredTicket, request: SandboxRequest): SandboxReply => {
    const body = jsonBody(request);
    if (!Array.isArray(body)) {
      return invalid('ticket', [{ field: 'patch', message: 'Body must be a JSON-Patch array' }]);
    }
    const changes: Array<() => void> = [];
    for (const operation of body) {
      const op = record(operation);
      const target = typeof op?.path === 'string' ? op.path.replace(/^\//, '') : '';
      if (op?.op !== 'replace') {
        return invalid('ticket', [{ field: target, message: 'Only replace is supported' }]);
      }
      const name = refName(op.value) ?? (typeof op.value === 'string' ? op.value : undefined);
      if (name === undefined || name === '') {
        return invalid('ticket', [{ field: target, message: `${target} value is invalid` }]);
      }
      if (target === 'status') changes.push(() => (ticket.status = name));
      else if (target === 'priority') changes.push(() => (ticket.priority = name));
      else if (target === 'summary' && name.length <= 100)
        changes.push(() => (ticket.summary = name));
      else return invalid('ticket', [{ field: target, message: `${target} cannot be patched` }]);
    }
    for (const change of changes) change();
    ticket.lastUpdated = stamp();
    return { status: 200, body: ticketView(ticket) };
  };

  const addNote = (
    ticket: StoredTicket,
    text: string,
    internal: boolean,
    member: StoredNote['member'],
  ): StoredNote => {
    const note: StoredNote = {
      id: nextNoteId++,
      ticketId: ticket.id,
      text,
      internal,
      member,
      dateCreated: stamp(),
    };
    ticket.notes.push(note);
    ticket.lastUpdated = note.dateCreated;
    return note;
  };

  const createNote = (ticket: StoredTicket, request: SandboxRequest): SandboxReply => {
    const body = record(jsonBody(request));
    const text = typeof body?.text === 'string' ? body.text : '';
    if (text === '') return invalid('note', [{ field: 'text', message: 'text may not be empty' }]);
    const flags = ['detailDescriptionFlag', 'internalAnalysisFlag', 'resolutionFlag'];
    if (!flags.some((flag) => body?.[flag] === true)) {
      return invalid('note', [
        {
          field: 'detailDescriptionFlag',
          message:
            'One of detailDescriptionFlag, internalAnalysisFlag or resolutionFlag must be true',
        },
      ]);
    }
    const note = addNote(ticket, text, body?.internalAnalysisFlag === true, API_MEMBER);
    return { status: 201, body: noteView(note) };
  };

  const listNotes = (ticket: StoredTicket, request: SandboxRequest): SandboxReply => {
    const conditions = parseConditions(request.url.searchParams.get('conditions'));
    if (conditions === undefined) return invalidConditions();
    const fields: Record<string, (note: StoredNote) => Value> = {
      id: (note) => note.id,
      datecreated: (note) => note.dateCreated,
    };
    if (conditions.some((condition) => fields[condition.field.toLowerCase()] === undefined)) {
      return invalidConditions();
    }
    const descending = /^id\s+desc$/i.test(request.url.searchParams.get('orderBy') ?? '');
    const matching = ticket.notes
      .filter((note) =>
        conditions.every((condition) =>
          matches(fields[condition.field.toLowerCase()]?.(note), condition),
        ),
      )
      .sort((a, b) => (descending ? b.id - a.id : a.id - b.id));
    return paged(request, matching.map(noteView));
  };

  const paged = (request: SandboxRequest, rows: readonly unknown[]): SandboxReply => {
    const params = request.url.searchParams;
    const pageNo = Number(params.get('page') ?? '1');
    const pageSize = Number(params.get('pageSize') ?? String(DEFAULT_PAGE_SIZE));
    if (
      !Number.isInteger(pageNo) ||
      pageNo < 1 ||
      !Number.isInteger(pageSize) ||
      pageSize < 1 ||
      pageSize > MAX_PAGE_SIZE
    ) {
      return invalid('request', [{ field: 'page', message: 'page or pageSize is out of range' }]);
    }
    const slice = rows.slice((pageNo - 1) * pageSize, pageNo * pageSize);
    const headers: Record<string, string> = {};
    if (pageNo * pageSize < rows.length) {
      const next = new URL(`${siteUrl}${request.url.pathname}${request.url.search}`);
      next.searchParams.set('page', String(pageNo + 1));
      next.searchParams.set('pageSize', String(pageSize));
      headers.link = `<${next.toString()}>; rel="next"`;
    }
    return { status: 200, body: slice, headers };
  };

  const sendCallback = async (ticket: StoredTicket, note: StoredNote): Promise<void> => {
    if (webhookTarget === undefined) return;
    const body = JSON.stringify({
      MessageId: randomUUID(),
      FromUrl: new URL(siteUrl).host,
      CompanyId: companyId,
      MemberId: note.member.identifier,
      Action: 'updated',
      Type: 'ticket',
      ID: ticket.id,
      ProductInstanceId: null,
      PartnerId: null,
      Entity: JSON.stringify(ticketView(ticket)),
      Metadata: { key_url: keyUrl },
      CallbackObjectRecId: 1,
    });
    const key = createHash('sha256').update(signingKey, 'utf8').digest();
    const signature = createHmac('sha256', key).update(body, 'utf8').digest('base64');
    try {
      await fetch(webhookTarget, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-content-signature': signature },
        body,
        signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
      });
    } catch (failure: unknown) {
      // ConnectWise does not retry a failed callback; Cabinet's poller picks the note up instead.
      options.log?.(
        `sandbox ConnectWise: callback failed: ${failure instanceof Error ? failure.message : String(failure)}`,
      );
    }
  };

  const page = (): SandboxReply => {
    const rows = [...tickets.values()]
      .map(
        (ticket) =>
          `<section><h2>#${ticket.id} ${escapeHtml(ticket.summary)}</h2>` +
          `<p>${escapeHtml(ticket.company.identifier)} · ${escapeHtml(ticket.status)} · ${escapeHtml(ticket.priority)}` +
          `${ticket.externalXRef === undefined ? '' : ` · ${escapeHtml(ticket.externalXRef)}`}</p><ul>` +
          ticket.notes
            .map(
              (note) =>
                `<li>#${note.id} ${escapeHtml(note.member.name)}${note.internal ? ' (internal)' : ''}: ${escapeHtml(note.text)}</li>`,
            )
            .join('') +
          `</ul><form method="post" action="/sandbox/notes"><input type="hidden" name="ticketId" value="${ticket.id}">` +
          `<input name="text" required maxlength="2000"><label><input type="checkbox" name="internal" value="1"> internal</label>` +
          `<button>Add technician note</button></form></section>`,
      )
      .join('');
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><html><head><meta charset="utf-8"><title>ConnectWise PSA (sandbox)</title></head><body><h1>ConnectWise PSA (sandbox)</h1>${rows || '<p>No tickets yet.</p>'}</body></html>`,
    };
  };

  const formNote = (request: SandboxRequest): SandboxReply => {
    const form = new URLSearchParams(request.rawBody.toString('utf8'));
    const ticket = tickets.get(Number(form.get('ticketId')));
    const text = form.get('text') ?? '';
    if (ticket === undefined || text === '') {
      return {
        status: 400,
        headers: { 'content-type': 'text/plain' },
        body: 'Ticket and text are required',
      };
    }
    void technicianNote(ticket, text, { internal: form.get('internal') === '1' });
    return { status: 303, headers: { location: '/', 'content-type': 'text/plain' }, body: '' };
  };

  const technicianNote = async (
    ticket: StoredTicket,
    text: string,
    noteOptions: {
      readonly author?: string;
      readonly internal?: boolean;
      readonly webhook?: boolean;
    },
  ): Promise<string> => {
    const name = noteOptions.author ?? 'Tess Technician';
    const note = addNote(ticket, text, noteOptions.internal ?? false, {
      id: 171,
      identifier: name.toLowerCase().replace(/[^a-z0-9]+/g, ''),
      name,
    });
    state.save();
    if (noteOptions.webhook !== false) await sendCallback(ticket, note);
    return String(note.id);
  };

  const server = await startSandboxHttp(savingAfterChanges(route, state), {
    ...(options.port === undefined ? {} : { port: options.port }),
    chaos,
    errorBody: (status, message) =>
      error(status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  siteUrl = server.url;
  const keyUrl = `${siteUrl}${apiPrefix}/system/callbackkeys/${keyId}`;

  return {
    kind: 'connectwise',
    url: siteUrl,
    siteUrl,
    companyId,
    publicKey,
    privateKey,
    clientId,
    codebase,
    keyUrl,
    chaos,
    counts: server.counts,
    tickets: () => [...tickets.values()].map(toSandboxTicket),
    addTechnicianNote: async (ticketId, text, noteOptions = {}) => {
      const ticket = tickets.get(Number(ticketId));
      if (ticket === undefined) throw new Error(`No sandbox ConnectWise ticket ${ticketId}`);
      return technicianNote(ticket, text, noteOptions);
    },
    setWebhookTarget: (url) => {
      webhookTarget = url;
    },
    close: () => server.close(),
  };
}

function toSandboxTicket(ticket: StoredTicket): SandboxTicket {
  return {
    id: String(ticket.id),
    company: ticket.company.identifier,
    summary: ticket.summary,
    ...(ticket.externalXRef === undefined ? {} : { externalRef: ticket.externalXRef }),
    status: ticket.status,
    priority: ticket.priority,
    notes: ticket.notes.map(
      (note): SandboxNote => ({
        id: String(note.id),
        text: note.text,
        author: note.member.name,
        internal: note.internal,
        createdAt: note.dateCreated,
      }),
    ),
  };
}

interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

function error(code: string, message: string, errors: readonly unknown[] = []): unknown {
  return { code, message, errors };
}

function invalid(resource: string, issues: readonly FieldIssue[]): SandboxReply {
  return {
    status: 400,
    body: error(
      'InvalidObject',
      `${resource} object is invalid`,
      issues.map((issue) => ({
        code: 'InvalidValue',
        message: issue.message,
        resource,
        field: issue.field,
      })),
    ),
  };
}

function invalidConditions(): SandboxReply {
  return { status: 400, body: error('InvalidObject', 'conditions is invalid') };
}

function notFound(id: string): SandboxReply {
  return { status: 404, body: error('NotFound', `Ticket with id ${id} was not found.`) };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A reference object (`{ id }` or `{ name }`) as the sandbox stores it: by name, or the id as text. */
function refName(value: unknown): string | undefined {
  const ref = record(value);
  if (ref === undefined) return undefined;
  if (typeof ref.name === 'string' && ref.name !== '') return ref.name;
  if (typeof ref.id === 'number') return String(ref.id);
  return undefined;
}

const CLAUSE =
  /^\s*([A-Za-z_][A-Za-z0-9_/]*)\s*(>=|<=|!=|=|>|<)\s*("(?:[^"\\]|\\.)*"|\[[^\]]+\]|-?\d+)\s*/;

/** The `conditions` subset Cabinet uses: clauses joined by `and`; strings, [dates] and numbers. */
function parseConditions(text: string | null): Condition[] | undefined {
  if (text === null || text.trim() === '') return [];
  const conditions: Condition[] = [];
  let rest = text;
  for (;;) {
    const clause = CLAUSE.exec(rest);
    if (clause === null) return undefined;
    const [whole, field, op, raw] = clause as unknown as [string, string, Condition['op'], string];
    const value: Value = raw.startsWith('"')
      ? raw.slice(1, -1).replace(/\\(.)/g, '$1')
      : raw.startsWith('[')
        ? raw.slice(1, -1)
        : Number(raw);
    if (typeof value === 'string' && raw.startsWith('[') && Number.isNaN(Date.parse(value))) {
      return undefined;
    }
    conditions.push({ field, op, value });
    rest = rest.slice(whole.length);
    if (rest === '') return conditions;
    const and = /^and\s+/i.exec(rest);
    if (and === null) return undefined;
    rest = rest.slice(and[0].length);
  }
}

function matches(actual: Value | undefined, condition: Condition): boolean {
  if (actual === undefined) return false;
  const dated =
    typeof actual === 'string' && typeof condition.value === 'string' && isIsoDate(actual);
  const [a, b] = dated
    ? [Date.parse(actual), Date.parse(condition.value)]
    : typeof actual === 'string' && typeof condition.value === 'string'
      ? [actual.toLowerCase(), condition.value.toLowerCase()]
      : [actual, condition.value];
  switch (condition.op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

function isIsoDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T/.test(text);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
