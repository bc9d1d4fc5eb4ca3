// @ts-check
/** The tab API client: every call carries the signed-in person's token; errors become ApiError. */

/** Resolved against the page (`/tab/`), so Cabinet may sit behind a path prefix. */
const API_ROOT = new URL('../api/tab/', document.baseURI);

/** A refusal or failure Cabinet explained: its code, its message for people, fields to fix. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{ code?: string, message?: string, requestId?: string, issues?: import('./types.js').FieldIssue[] }} error
   */
  constructor(status, error) {
    super(error.message || `Cabinet answered ${status} without saying why.`);
    this.name = 'ApiError';
    this.status = status;
    this.code = error.code ?? 'HTTP.ERROR';
    this.requestId = error.requestId;
    this.issues = error.issues ?? [];
  }
}

/**
 * @typedef {{
 *   get: (path: string) => Promise<unknown>,
 *   post: (path: string, body?: unknown) => Promise<unknown>,
 *   download: (path: string) => Promise<Blob>
 * }} Api
 */

/**
 * @param {(refresh: boolean) => Promise<string>} getToken a token for the signed-in person; `refresh`
 *   after Cabinet refused the last one (expired).
 * @returns {Api}
 */
export function createApi(getToken) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   * @param {boolean} retried
   * @returns {Promise<unknown>}
   */
  async function call(method, path, body, retried) {
    const token = await getToken(retried);
    let response;
    try {
      response = await fetch(new URL(path, API_ROOT), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiError(0, {
        code: 'HTTP.UNREACHABLE',
        message: 'Cabinet could not be reached. Check your connection and try again.',
      });
    }
    if (response.status === 401 && !retried) return call(method, path, body, true);
    const text = await response.text();
    /** @type {unknown} */
    let data;
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      throw new ApiError(response.status, {
        message: `Cabinet answered ${response.status} with something that is not JSON.`,
      });
    }
    if (!response.ok) throw new ApiError(response.status, errorIn(data));
    return data;
  }
  return {
    get: (path) => call('GET', path, undefined, false),
    post: (path, body) => call('POST', path, body ?? {}, false),
    // A file (a report): fetched with the token like any call, its refusals explained the same way.
    download: async (path) => {
      const response = await fetch(new URL(path, API_ROOT), {
        headers: { authorization: `Bearer ${await getToken(false)}` },
      });
      if (!response.ok) throw new ApiError(response.status, errorIn(await response.json()));
      return response.blob();
    },
  };
}

/**
 * The `error` object of a refusal, or nothing when the answer had none.
 * @param {unknown} data
 * @returns {ConstructorParameters<typeof ApiError>[1]}
 */
function errorIn(data) {
  const error = data && typeof data === 'object' && 'error' in data ? data.error : undefined;
  return error && typeof error === 'object'
    ? /** @type {ConstructorParameters<typeof ApiError>[1]} */ (error)
    : {};
}

/** An API path segment, encoded. @param {string} value */
export function segment(value) {
  return encodeURIComponent(value);
}
