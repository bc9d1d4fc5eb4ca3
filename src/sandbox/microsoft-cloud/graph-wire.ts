/**
 * Microsoft Graph's wire conventions: the error envelope, OData content type, `$select`, `$filter`
 * equality, `$top` and `$skiptoken` paging with absolute `@odata.nextLink`s.
 */

export const ODATA_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** What a Graph handler answers; the server (or `$batch`) turns it into HTTP. */
export interface GraphResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ErrorDetail {
  readonly target?: string;
  readonly code: string;
  readonly message?: string;
}

/** A refusal in Graph's envelope; thrown by handlers, rendered with the request's ids. */
export class GraphFault extends Error {
  override readonly name = 'GraphFault';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: readonly ErrorDetail[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

export const notFound = (id: string): GraphFault =>
  new GraphFault(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export const badRequest = (message: string, details?: readonly ErrorDetail[]): GraphFault =>
  new GraphFault(400, 'Request_BadRequest', message, details);

export const insufficientPrivileges = (): GraphFault =>
  new GraphFault(
    403,
    'Authorization_RequestDenied',
    'Insufficient privileges to complete the operation.',
  );

/** Graph's `innerError.date`: UTC, seconds, no zone designator. */
export function graphDate(at: Date): string {
  return at.toISOString().slice(0, 19);
}

export function errorBody(
  fault: Pick<GraphFault, 'code' | 'message' | 'details'>,
  ids: { readonly requestId: string; readonly clientRequestId: string; readonly at: Date },
): unknown {
  return {
    error: {
      code: fault.code,
      message: fault.message,
      ...(fault.details ? { details: fault.details } : {}),
      innerError: {
        date: graphDate(ids.at),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

export interface Query {
  readonly select?: readonly string[];
  readonly filter?: string;
  readonly top?: number;
  readonly skipToken?: string;
  readonly raw: URLSearchParams;
}

/** OData options the sandbox evaluates; others are refused loudly rather than silently ignored. */
const SUPPORTED_OPTIONS = new Set(['$select', '$filter', '$top', '$skiptoken', '$count']);

export function parseQuery(search: string): Query {
  const raw = new URLSearchParams(search);
  for (const name of raw.keys())
    if (name.startsWith('$') && !SUPPORTED_OPTIONS.has(name.toLowerCase()))
      throw badRequest(
        `The query option '${name}' is not supported by the sandbox cloud (it evaluates ${[...SUPPORTED_OPTIONS].join(', ')}).`,
      );
  const select = raw.get('$select');
  const top = raw.get('$top');
  let topNumber: number | undefined;
  if (top !== null) {
    topNumber = Number(top);
    if (!Number.isInteger(topNumber) || topNumber < 1 || topNumber > 999)
      throw badRequest(
        `Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`,
      );
  }
  return {
    ...(select !== null
      ? {
          select: select
            .split(',')
            .map((name) => name.trim())
            .filter(Boolean),
        }
      : {}),
    ...(raw.get('$filter') !== null ? { filter: raw.get('$filter')! } : {}),
    ...(topNumber !== undefined ? { top: topNumber } : {}),
    ...(raw.get('$skiptoken') !== null ? { skipToken: raw.get('$skiptoken')! } : {}),
    raw,
  };
}

/**
 * Projects an entity on `$select` (or the type's default properties). Unknown names are refused as
 * Graph refuses them.
 */
export function project(
  entity: Readonly<Record<string, unknown>>,
  select: readonly string[] | undefined,
  defaults: readonly string[],
  typeName: string,
): Record<string, unknown> {
  const names = select ?? defaults;
  const result: Record<string, unknown> = {};
  for (const name of names) {
    if (!(name in entity))
      throw badRequest(`Could not find a property named '${name}' on type '${typeName}'.`);
    result[name] = entity[name];
  }
  return result;
}

/** One `property eq 'value'` or `startswith(property,'value')` clause; clauses joined by `and`. */
interface Clause {
  readonly property: string;
  readonly operator: 'eq' | 'startswith';
  readonly value: string | boolean;
}

/**
 * A small `$filter` evaluator for the equality filters adapters send. Anything else is refused
 * the way directory queries refuse what they do not support.
 */
export function compileFilter(
  filter: string | undefined,
  filterable: ReadonlySet<string>,
): (entity: Readonly<Record<string, unknown>>) => boolean {
  if (filter === undefined) return () => true;
  const clauses = filter.split(/\s+and\s+/i).map((text) => parseClause(text.trim(), filterable));
  return (entity) => clauses.every((clause) => matches(entity[clause.property], clause));
}

function parseClause(text: string, filterable: ReadonlySet<string>): Clause {
  const equality = /^(\w+)\s+eq\s+(?:'((?:[^']|'')*)'|(true|false))$/i.exec(text);
  const startsWith = /^startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)$/i.exec(text);
  const clause: Clause | undefined = equality
    ? {
        property: equality[1]!,
        operator: 'eq',
        value: equality[2] !== undefined ? equality[2].replace(/''/g, "'") : equality[3] === 'true',
      }
    : startsWith
      ? {
          property: startsWith[1]!,
          operator: 'startswith',
          value: startsWith[2]!.replace(/''/g, "'"),
        }
      : undefined;
  if (!clause || !filterable.has(clause.property))
    throw new GraphFault(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
  return clause;
}

function matches(actual: unknown, clause: Clause): boolean {
  if (typeof clause.value === 'boolean') return actual === clause.value;
  if (typeof actual !== 'string') return false;
  const left = actual.toLowerCase();
  const right = clause.value.toLowerCase();
  return clause.operator === 'eq' ? left === right : left.startsWith(right);
}

export const DEFAULT_PAGE_SIZE = 100;

/**
 * A page of a collection with an absolute `https` nextLink carrying every original query option
 * plus `$skiptoken`, which the SDK's PageIterator follows as is.
 */
export function page(
  items: readonly Record<string, unknown>[],
  query: Query,
  options: { readonly selfUrl: string; readonly context: string },
): GraphResponse {
  const offset = query.skipToken === undefined ? 0 : decodeSkipToken(query.skipToken);
  const size = query.top ?? DEFAULT_PAGE_SIZE;
  const slice = items.slice(offset, offset + size);
  const body: Record<string, unknown> = { '@odata.context': options.context };
  // As in Graph, the count is on the first page only.
  if (offset === 0 && query.raw.get('$count') === 'true') body['@odata.count'] = items.length;
  if (offset + size < items.length) {
    const next = new URLSearchParams(query.raw);
    next.set('$skiptoken', encodeSkipToken(offset + size));
    body['@odata.nextLink'] = `${options.selfUrl}?${queryString(next)}`;
  }
  body['value'] = slice;
  return { status: 200, body };
}

/** Graph writes OData option names and list separators literally (`$top=2&$select=id,mail`). */
function queryString(parameters: URLSearchParams): string {
  const encode = (text: string) =>
    encodeURIComponent(text).replace(/%24/g, '$').replace(/%2C/gi, ',');
  return [...parameters].map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&');
}

/** Opaque to clients; the prefix only makes it look like Graph's directory skip tokens. */
function encodeSkipToken(offset: number): string {
  return `RFNwdAIAAQAAA${Buffer.from(JSON.stringify({ o: offset })).toString('base64url')}`;
}

function decodeSkipToken(token: string): number {
  try {
    const parsed = JSON.parse(
      Buffer.from(token.replace(/^RFNwdAIAAQAAA/, ''), 'base64url').toString('utf8'),
    ) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0)
      return parsed.o;
  } catch {
    // Falls through to the refusal below.
  }
  throw badRequest(`Invalid skip token '${token}'.`);
}

/** The id at the end of an `@odata.id` reference (`…/directoryObjects/{id}` or `…/users/{id}`). */
export function referencedId(body: unknown): string {
  const reference =
    body && typeof body === 'object' ? (body as Record<string, unknown>)['@odata.id'] : undefined;
  if (typeof reference !== 'string')
    throw badRequest("The required property '@odata.id' is missing or invalid.");
  const match = /\/(?:directoryObjects|users|groups)\/([^/?#]+)\/?$/i.exec(reference);
  const invalid = badRequest(`Invalid object identifier '${reference}'.`);
  if (!match) throw invalid;
  try {
    return decodeURIComponent(match[1]!).toLowerCase();
  } catch {
    // A malformed escape (`%zz`) is the caller's mistake, not a server fault.
    throw invalid;
  }
}
