import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import * as restify from 'restify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * A route that reads its own body, untouched: signed webhooks must hash the exact bytes received,
 * and cap the body before any parsing or HMAC work. Served before the body parser runs.
 */
export interface RawRoute {
  /** Path prefix, e.g. `/api/webhooks/`; the first matching route takes the request. */
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface HttpServerDeps {
  readonly bot: Application<TurnState>;
  readonly adapter: TeamsAdapter;
  /** Resolves when storage answers; /readyz turns a rejection into 503. */
  readonly readiness: () => Promise<void>;
  /** Which connector hosts the bot may talk back to (serviceUrl), checked before any handler runs. */
  readonly allowServiceUrl: (serviceUrl: string) => boolean;
  readonly log: (message: string) => void;
  /** Mounts the Teams tab's pages and API (src/surfaces/tab); absent means no tab. */
  readonly tab?: (server: restify.Server) => void;
  /** Inbound webhooks (signed intake, PSA callbacks), served on the raw request. */
  readonly rawRoutes?: readonly RawRoute[];
}

export interface RunningHttpServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Bot Framework activities larger than this are refused before parsing (413). */
const MAX_BODY_BYTES = 256 * 1024;

/** The one HTTP server: Bot Framework messages, health and readiness. */
export async function startHttpServer(
  deps: HttpServerDeps,
  listen: { readonly host: string; readonly port: number },
): Promise<RunningHttpServer> {
  const server = restify.createServer({ name: 'cabinet', handleUncaughtExceptions: false });
  server.pre((req, res, next) => {
    const route = deps.rawRoutes?.find((r) => req.url?.startsWith(r.prefix));
    if (!route) return next();
    route.handle(req, res).then(
      () => next(false),
      (error: unknown) => {
        deps.log(
          `${route.prefix} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'Internal error; the delivery was not accepted.' }));
        }
        next(false);
      },
    );
  });
  server.use(restify.plugins.bodyParser({ maxBodySize: MAX_BODY_BYTES, mapParams: false }));

  server.get('/healthz', (_req, res, next) => {
    res.send(200, { status: 'ok' });
    next();
  });
  server.get('/readyz', async (_req, res) => {
    try {
      await deps.readiness();
      res.send(200, { status: 'ready' });
    } catch (error: unknown) {
      res.send(503, {
        status: 'unavailable',
        reason:
          `storage is not reachable: ${error instanceof Error ? error.message : String(error)}`.slice(
            0,
            300,
          ),
      });
    }
  });
  server.post('/api/messages', async (req, res) => {
    const body = req.body as { channelId?: unknown; serviceUrl?: unknown } | undefined;
    if (
      !body ||
      typeof body !== 'object' ||
      typeof body.serviceUrl !== 'string' ||
      !deps.allowServiceUrl(body.serviceUrl)
    ) {
      res.send(400, { error: 'Activity refused: missing or untrusted serviceUrl.' });
      return;
    }
    if (body.channelId !== 'msteams') {
      res.send(400, { error: 'Activity refused: Cabinet only serves the msteams channel.' });
      return;
    }
    await deps.adapter.process(req, res, async (context) => {
      await deps.bot.run(context);
    });
  });

  deps.tab?.(server);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = (server.server as Server).address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  return {
    url: `http://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/**
 * Production: only Microsoft's connector hosts over https, never IP literals or userinfo (a forged
 * serviceUrl would otherwise receive the bot's bearer token). Sandbox: only loopback.
 */
export function serviceUrlPolicy(mode: 'sandbox' | 'production'): (serviceUrl: string) => boolean {
  return (serviceUrl) => {
    let url: URL;
    try {
      url = new URL(serviceUrl);
    } catch {
      return false;
    }
    if (url.username || url.password) return false;
    if (mode === 'sandbox')
      return (
        url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1')
      );
    return (
      url.protocol === 'https:' &&
      (url.hostname === 'smba.trafficmanager.net' || url.hostname.endsWith('.botframework.com'))
    );
  };
}
