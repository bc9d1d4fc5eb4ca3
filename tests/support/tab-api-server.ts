import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import { createLocalJWKSet } from 'jose';
import type { Person } from '../../src/domain/shared/person';
import { startHttpServer } from '../../src/surfaces/http/server';
import { createTabSurface, type TabSurfaceDeps } from '../../src/surfaces/tab/tab-surface';
import { TAB_CLIENT_ID, TAB_HOST, mintTabToken, type SigningKey } from './tab-tokens';

/** An answer from the tab API: its status and parsed JSON body. */
export interface TabJson {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface TabApiServer {
  readonly url: string;
  /**
   * Calls `/api/tab/<path>` as `who` with a freshly minted SSO token (none when `who` is
   * undefined): GET without a body, POST with one, unless `method` says otherwise.
   */
  call(
    who: Person | undefined,
    path: string,
    options?: { readonly method?: string; readonly body?: unknown },
  ): Promise<TabJson>;
  close(): Promise<void>;
}

/**
 * The tab surface alone on a loopback HTTP server, trusting tokens signed by `key`, for API and
 * browser tests over real HTTP. The bot is never reached; its stand-ins would fail loudly if it were.
 */
export async function startTabApi(options: {
  readonly surface: Omit<TabSurfaceDeps, 'auth' | 'log'>;
  readonly key: SigningKey;
  /** The clock tokens are minted by (the use cases' clock, so they are valid at its time). */
  readonly now: () => Date;
}): Promise<TabApiServer> {
  const log = () => undefined;
  const http = await startHttpServer(
    {
      bot: {} as Application<TurnState>,
      adapter: {} as TeamsAdapter,
      readiness: () => Promise.resolve(),
      allowServiceUrl: () => false,
      log,
      tab: createTabSurface({
        ...options.surface,
        auth: {
          clientId: TAB_CLIENT_ID,
          applicationIdHost: TAB_HOST,
          keySetFor: () => createLocalJWKSet({ keys: [options.key.jwk] }),
        },
        log,
      }),
    },
    { host: '127.0.0.1', port: 0 },
  );
  return {
    url: http.url,
    close: () => http.close(),
    async call(who, path, { method, body } = {}) {
      const token = who
        ? await mintTabToken(who, {
            key: options.key,
            now: Math.floor(options.now().getTime() / 1000),
          })
        : undefined;
      const response = await fetch(`${http.url}/api/tab/${path}`, {
        method: method ?? (body === undefined ? 'GET' : 'POST'),
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
}
