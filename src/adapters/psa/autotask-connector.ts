import { createHmac, timingSafeEqual } from 'node:crypto';
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

export interface CreateAutotaskConnectorOptions {
  /**
   * Where zone discovery is asked (`{zoneUrl}V1.0/ZoneInformation?user=`), default Autotask's
   * `https://webservices.autotask.net/ATServicesRest/`. Ignored when `apiUrl` is given.
   */
  readonly zoneUrl?: string;
  /** The zone's REST base (e.g. `https://webservices5.autotask.net/ATServicesRest/`); skips discovery. */
  readonly apiUrl?: string;
  /** The Autotask web UI (e.g. `https://ww5.autotask.net/`), for ticket links; discovered with the zone. */
  readonly webUrl?: string;
  /** The API user's user name (an e-mail address). */
  readonly username: string;
  readonly secret: string;
  /** The API tracking identifier (`ApiIntegrationCode` header). */
  readonly integrationCode: string;
  /** The `SecretKey` of Cabinet's TicketNote/Ticket webhooks in Autotask. */
  readonly webhookSecret: string;
  /**
   * Calls in flight per entity endpoint (Autotask allows 3 per API tracking identifier); calls
   * beyond it wait here instead of being refused by Autotask.
   */
  readonly threadLimit?: number;
  readonly fetch?: typeof fetch;
}

/** Note `publish` picklist ids: all Autotask users (client portal too) or internal only. */
const PUBLISH_ALL = 1;
const PUBLISH_INTERNAL = 2;
/** Note type "Task Summary"; instance picklists keep id 1 for it. */
const NOTE_TYPE = 1;
/** Autotask's new-ticket status, used when the mapping does not name one. */
const STATUS_NEW = 1;
const MAX_RECORDS = 500;
const TITLE_MAX = 255;
const DESCRIPTION_MAX = 8000;
const NOTE_TITLE_MAX = 250;
const EXTERNAL_ID_MAX = 50;
const DEFAULT_ZONE_URL = 'https://webservices.autotask.net/ATServicesRest/';
const DEFAULT_THROTTLE_MS = 60_000;
const DEFAULT_THREAD_LIMIT = 3;
/** A thread-limit rejection clears as soon as one of our own calls finishes. */
const THREAD_LIMIT_RETRY_MS = 1_000;

interface Zone {
  readonly apiUrl: string;
  readonly webUrl?: string;
}

interface QueryFilter {
  readonly op: 'eq' | 'gt' | 'gte' | 'contains';
  readonly field: string;
  readonly value: string | number;
}

/**
 * `PsaConnector` for Autotask PSA over its REST API (v1.0).
 *
 * - Zone discovery once (cached; retried after a failure) unless `apiUrl` is configured.
 * - The request id goes into the ticket's `externalID` (`findTicket` queries by companyID +
 *   externalID); the note marker goes at the end of the note description (`findNote` queries
 *   `description contains marker`).
 * - Mapping values (company, queue, issue type, status, priority) are Autotask picklist/entity ids.
 * - Status changes with a note are a separate `PATCH Tickets` (a note cannot change the ticket) sent
 *   before the note, so a redelivery that finds the note already written has already set the status.
 * - Errors: 401/403 → auth; 429, thread-limit and request-threshold messages (whatever the status)
 *   → throttled; a 500 carrying Autotask's `errors` messages is a business-rule refusal (unknown
 *   company, bad picklist value) → permanent; other 5xx and network failures → transient; other
 *   4xx → permanent.
 */
export function createAutotaskConnector(options: CreateAutotaskConnectorOptions): PsaConnector {
  const http = options.fetch ?? fetch;
  let zone: Promise<Zone> | undefined =
    options.apiUrl === undefined
      ? undefined
      : Promise.resolve({
          apiUrl: withSlash(options.apiUrl),
          ...(options.webUrl === undefined ? {} : { webUrl: withSlash(options.webUrl) }),
        });
  const resourceNames = new Map<number, string>();
  const threads = threadGate(options.threadLimit ?? DEFAULT_THREAD_LIMIT);

  const discover = async (): Promise<Zone> => {
    const base = withSlash(options.zoneUrl ?? DEFAULT_ZONE_URL);
    const url = `${base}V1.0/ZoneInformation?user=${encodeURIComponent(options.username)}`;
    const body = await send(url, { method: 'GET' }, undefined);
    if (!isRecord(body) || typeof body.url !== 'string') {
      throw new PsaError(
        'autotask',
        'permanent',
        `Autotask zone discovery gave no API address for ${options.username}`,
      );
    }
    if (!sameService(body.url, base)) {
      // The credentials go to whatever address the zone names: only one of Autotask's own hosts.
      throw new PsaError(
        'autotask',
        'permanent',
        `Autotask zone discovery named an API address outside ${new URL(base).hostname}: ${body.url}`,
      );
    }
    return {
      apiUrl: withSlash(body.url),
      ...(typeof body.webUrl === 'string'
        ? { webUrl: withSlash(body.webUrl) }
        : options.webUrl === undefined
          ? {}
          : { webUrl: withSlash(options.webUrl) }),
    };
  };

  const currentZone = (): Promise<Zone> => {
    if (zone === undefined) {
      const pending = discover();
      zone = pending;
      pending.catch(() => {
        if (zone === pending) zone = undefined;
      });
    }
    return zone;
  };

  /** One call; `entity` (the endpoint's entity, for the thread limit) undefined means unauthenticated. */
  const send = async (
    url: string,
    init: RequestInit,
    entity: string | undefined,
  ): Promise<unknown> => {
    const authenticated = entity !== undefined;
    let response: Response;
    const release = authenticated ? await threads(entity) : undefined;
    try {
      response = await http(url, {
        ...init,
        headers: {
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(authenticated
            ? {
                ApiIntegrationCode: options.integrationCode,
                UserName: options.username,
                Secret: options.secret,
              }
            : {}),
        },
      });
    } catch (error: unknown) {
      release?.();
      throw new PsaError('autotask', 'transient', `Autotask unreachable: ${describe(error)}`);
    }
    const text = await response.text().catch(() => '');
    release?.();
    const body = text === '' ? undefined : parseJson(text);
    if (response.ok) return body;
    throw classify(response, body);
  };

  const api = async (path: string, init: RequestInit = { method: 'GET' }): Promise<unknown> =>
    send(`${(await currentZone()).apiUrl}V1.0/${path}`, init, path.split('/')[0] ?? path);

  /** Every item of a query, following `pageDetails.nextPageUrl` on the API's own host only. */
  const query = async (
    entity: 'Tickets' | 'TicketNotes',
    filter: readonly QueryFilter[],
    includeFields?: readonly string[],
  ): Promise<Record<string, unknown>[]> => {
    const { apiUrl } = await currentZone();
    const items: Record<string, unknown>[] = [];
    let body = await api(`${entity}/query`, {
      method: 'POST',
      body: JSON.stringify({
        filter,
        MaxRecords: MAX_RECORDS,
        ...(includeFields === undefined ? {} : { IncludeFields: includeFields }),
      }),
    });
    for (;;) {
      if (!isRecord(body) || !Array.isArray(body.items)) {
        throw new PsaError(
          'autotask',
          'transient',
          `Autotask ${entity} query answered without items`,
        );
      }
      items.push(...body.items.filter(isRecord));
      const next = isRecord(body.pageDetails) ? body.pageDetails.nextPageUrl : undefined;
      if (typeof next !== 'string' || next === '') return items;
      if (new URL(next).origin !== new URL(apiUrl).origin) {
        throw new PsaError(
          'autotask',
          'permanent',
          `Autotask paging pointed away from the API host: ${new URL(next).origin}`,
        );
      }
      body = await send(next, { method: 'GET' }, entity);
    }
  };

  const ticketUrl = (webUrl: string | undefined, ticketId: string): string | undefined =>
    webUrl === undefined
      ? undefined
      : `${webUrl}Mvc/ServiceDesk/TicketDetail.mvc?workspace=False&mode=0&TicketID=${encodeURIComponent(ticketId)}`;

  const ref = async (ticketId: string): Promise<PsaTicketRef> => {
    const url = ticketUrl((await currentZone()).webUrl, ticketId);
    return { ticketId, ...(url === undefined ? {} : { url }) };
  };

  /** The note's author: a resource (technician) by name, or a client contact writing in the portal. */
  const authorName = async (note: Record<string, unknown>): Promise<string> => {
    const resourceId = note.creatorResourceID;
    if (typeof resourceId !== 'number') {
      return typeof note.createdByContactID === 'number'
        ? `Contact ${note.createdByContactID}`
        : 'Autotask';
    }
    const known = resourceNames.get(resourceId);
    if (known !== undefined) return known;
    let body: unknown;
    try {
      body = await api(`Resources/${resourceId}`);
    } catch (error: unknown) {
      // An API user without read access to Resources still gets its notes, with the id as author.
      if (
        error instanceof PsaError &&
        (error.failure === 'auth' || error.failure === 'permanent')
      ) {
        return `Resource ${resourceId}`;
      }
      throw error;
    }
    const item = isRecord(body) && isRecord(body.item) ? body.item : undefined;
    const name = item
      ? [item.firstName, item.lastName].filter((p) => typeof p === 'string' && p !== '').join(' ')
      : '';
    const resolved = name === '' ? `Resource ${resourceId}` : name;
    resourceNames.set(resourceId, resolved);
    return resolved;
  };

  const patchTicket = async (ticketId: string, update: PsaTicketUpdate): Promise<void> => {
    const fields = {
      ...(update.status === undefined ? {} : { status: picklistId('status', update.status) }),
      ...(update.priority === undefined
        ? {}
        : { priority: picklistId('priority', update.priority) }),
    };
    if (Object.keys(fields).length === 0) return;
    await api('Tickets', {
      method: 'PATCH',
      body: JSON.stringify({ id: picklistId('ticket id', ticketId), ...fields }),
    });
  };

  return {
    kind: 'autotask',

    async findTicket(company: string, externalRef: string): Promise<PsaTicketRef | undefined> {
      const items = await query(
        'Tickets',
        [
          { op: 'eq', field: 'companyID', value: picklistId('companyID', company) },
          { op: 'eq', field: 'externalID', value: cut(externalRef, EXTERNAL_ID_MAX) },
        ],
        ['id'],
      );
      const first = items[0];
      return first === undefined ? undefined : ref(String(first.id));
    },

    async createTicket(draft: PsaTicketDraft): Promise<PsaTicketRef> {
      const body = await api('Tickets', {
        method: 'POST',
        body: JSON.stringify({
          companyID: picklistId('companyID', draft.company),
          title: cut(draft.summary, TITLE_MAX),
          description: cut(draft.details, DESCRIPTION_MAX),
          status: draft.status === undefined ? STATUS_NEW : picklistId('status', draft.status),
          priority: picklistId('priority', draft.priority),
          ...(draft.board === undefined ? {} : { queueID: picklistId('queueID', draft.board) }),
          ...(draft.category === undefined
            ? {}
            : { issueType: picklistId('issueType', draft.category) }),
          externalID: cut(draft.externalRef, EXTERNAL_ID_MAX),
        }),
      });
      return ref(itemId(body));
    },

    updateTicket: patchTicket,

    async findNote(ticketId: string, marker: string): Promise<string | undefined> {
      const items = await query(
        'TicketNotes',
        [
          { op: 'eq', field: 'ticketID', value: picklistId('ticket id', ticketId) },
          { op: 'contains', field: 'description', value: marker },
        ],
        ['id', 'description'],
      );
      const found = items.find(
        (n) => typeof n.description === 'string' && n.description.includes(marker),
      );
      return found === undefined ? undefined : String(found.id);
    },

    async addNote(ticketId: string, note: PsaNoteDraft): Promise<{ readonly noteId: string }> {
      if (note.status !== undefined) await patchTicket(ticketId, { status: note.status });
      const suffix = `\n\n${note.marker}`;
      const body = await api(`Tickets/${encodeURIComponent(ticketId)}/Notes`, {
        method: 'POST',
        body: JSON.stringify({
          title: cut(firstLine(note.text), NOTE_TITLE_MAX),
          description: `${cut(note.text, DESCRIPTION_MAX - suffix.length)}${suffix}`,
          noteType: NOTE_TYPE,
          publish: note.internal ? PUBLISH_INTERNAL : PUBLISH_ALL,
        }),
      });
      return { noteId: itemId(body) };
    },

    async listNotes(ticketId: string, afterNoteId?: string): Promise<PsaNote[]> {
      const filter: QueryFilter[] = [
        { op: 'eq', field: 'ticketID', value: picklistId('ticket id', ticketId) },
      ];
      if (afterNoteId !== undefined)
        filter.push({ op: 'gt', field: 'id', value: picklistId('note id', afterNoteId) });
      const items = await query('TicketNotes', filter);
      items.sort((a, b) => Number(a.id) - Number(b.id));
      const result: PsaNote[] = [];
      for (const item of items) {
        result.push({
          id: String(item.id),
          ticketId,
          text: noteText(item),
          author: await authorName(item),
          createdAt: typeof item.createDateTime === 'string' ? item.createDateTime : '',
          internal: item.publish !== PUBLISH_ALL,
        });
      }
      return result;
    },

    async listChangedTickets(since: Date): Promise<PsaTicketChange[]> {
      const items = await query(
        'Tickets',
        [{ op: 'gte', field: 'lastActivityDate', value: since.toISOString() }],
        ['id', 'lastActivityDate'],
      );
      return items.map((t) => ({
        ticketId: String(t.id),
        updatedAt:
          typeof t.lastActivityDate === 'string' ? t.lastActivityDate : since.toISOString(),
      }));
    },

    verifyWebhook(delivery: PsaInboundDelivery): Promise<PsaWebhookResult> {
      return Promise.resolve(verifyAutotaskWebhook(options.webhookSecret, delivery));
    },
  };
}

/**
 * Checks `X-Hook-Signature: sha1=<base64 HMAC-SHA1(secret, raw body)>` over the bytes exactly as
 * received (Autotask escapes characters in a way re-serialised JSON does not reproduce), then the
 * body's shape; answers which ticket it is about. Autotask signs no timestamp, so a replayed
 * delivery verifies again: harmless, because a webhook is only a hint to re-read the ticket's notes
 * and note intake is idempotent by note id.
 */
export function verifyAutotaskWebhook(
  secret: string,
  delivery: PsaInboundDelivery,
): PsaWebhookResult {
  const header = delivery.headers['x-hook-signature'];
  if (header === undefined || !header.startsWith('sha1=')) {
    return { ok: false, status: 401, reason: 'missing or malformed X-Hook-Signature' };
  }
  const given = Buffer.from(header.slice('sha1='.length), 'base64');
  const expected = createHmac('sha1', secret).update(delivery.rawBody).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, status: 401, reason: 'X-Hook-Signature does not match' };
  }
  const body = parseJson(delivery.rawBody.toString('utf8'));
  if (!isRecord(body) || typeof body.Action !== 'string' || typeof body.EntityType !== 'string') {
    return { ok: false, status: 400, reason: 'not an Autotask webhook body' };
  }
  if (body.Action === 'Deactivated') return { ok: true, ticketIds: [] };
  const fields = isRecord(body.Fields) ? body.Fields : {};
  const ticketId =
    body.EntityType === 'Ticket'
      ? body.Id
      : body.EntityType === 'TicketNote'
        ? fields.ticketID
        : undefined;
  if (!isId(ticketId)) {
    return {
      ok: false,
      status: 400,
      reason: `no ticket id in an Autotask ${body.EntityType} webhook`,
    };
  }
  return { ok: true, ticketIds: [String(ticketId)] };
}

function classify(response: Response, body: unknown): PsaError {
  const messages =
    isRecord(body) && Array.isArray(body.errors)
      ? body.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))
      : [];
  const message = messages.join('; ') || `HTTP ${response.status}`;
  const status = response.status;
  const text = `Autotask ${status}: ${message}`;
  if (status === 401 || status === 403) return new PsaError('autotask', 'auth', text, { status });
  if (/thread limit/i.test(message)) {
    return new PsaError('autotask', 'throttled', text, {
      status,
      retryAfterMs: THREAD_LIMIT_RETRY_MS,
    });
  }
  if (status === 429 || /request threshold/i.test(message)) {
    return new PsaError('autotask', 'throttled', text, {
      status,
      retryAfterMs: retryAfterMs(response),
    });
  }
  if (status === 500 && messages.length > 0)
    return new PsaError('autotask', 'permanent', text, { status });
  if (status >= 500) return new PsaError('autotask', 'transient', text, { status });
  return new PsaError('autotask', 'permanent', text, { status });
}

/** Waits for a free slot per key; resolves to the function that frees it. */
function threadGate(limit: number): (key: string) => Promise<() => void> {
  const running = new Map<string, number>();
  const waiting = new Map<string, (() => void)[]>();
  const release = (key: string): void => {
    const next = waiting.get(key)?.shift();
    if (next !== undefined) next();
    else running.set(key, (running.get(key) ?? 1) - 1);
  };
  return async (key) => {
    if ((running.get(key) ?? 0) < limit) running.set(key, (running.get(key) ?? 0) + 1);
    else {
      // The slot passes straight from the releasing call to this one, so the count stays put.
      await new Promise<void>((resolve) => {
        waiting.set(key, [...(waiting.get(key) ?? []), resolve]);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release(key);
    };
  };
}

/** The zone's API address is the zone service's own origin or an HTTPS host of the same domain. */
function sameService(discovered: string, zoneBase: string): boolean {
  let found: URL;
  try {
    found = new URL(discovered);
  } catch {
    return false;
  }
  const zone = new URL(zoneBase);
  if (found.origin === zone.origin) return true;
  const domain = zone.hostname.split('.').slice(-2).join('.');
  return (
    found.protocol === 'https:' &&
    zone.protocol === 'https:' &&
    found.hostname.endsWith(`.${domain}`)
  );
}

function isId(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0;
  return typeof value === 'string' && /^[1-9][0-9]{0,15}$/.test(value);
}

function retryAfterMs(response: Response): number {
  const header = response.headers.get('retry-after');
  const seconds = header === null ? Number.NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_THROTTLE_MS;
}

/** Autotask ids are integers; a mapping value that is not one would be refused anyway. */
function picklistId(field: string, value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id)) {
    throw new PsaError(
      'autotask',
      'permanent',
      `Autotask ${field} must be a numeric id, not "${value}"`,
    );
  }
  return id;
}

function itemId(body: unknown): string {
  if (isRecord(body) && (typeof body.itemId === 'number' || typeof body.itemId === 'string')) {
    return String(body.itemId);
  }
  throw new PsaError('autotask', 'transient', 'Autotask answered without an itemId');
}

function noteText(item: Record<string, unknown>): string {
  const title = typeof item.title === 'string' ? item.title.trim() : '';
  const description = typeof item.description === 'string' ? item.description : '';
  return title === '' || description.startsWith(title) ? description : `${title}\n\n${description}`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? '';
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
