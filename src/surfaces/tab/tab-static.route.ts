import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import type { Next, Request, Response, Server } from 'restify';

/** The tab's pages, styles and scripts: plain files, served as they are in the repository. */
export const TAB_PUBLIC_DIR = join(__dirname, 'public');

const TEAMS_JS_BUNDLE = '@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js';
/** chart.js exports only its module builds; the UMD bundle sits beside the CommonJS entry. */
const CHART_JS_BUNDLE = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Teams loads a static tab in an iframe on these hosts (Teams on the web, the new Teams, and the
 * Microsoft 365 shells); nothing else may frame Cabinet. teams-js reads its list of valid origins
 * from the Office CDN.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' https://res.cdn.office.net",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self' https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft https://*.office.com https://*.skype.com",
].join('; ');

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

function asset(body: Buffer, type: string): Asset {
  return {
    body,
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

/** Every file under `public/` by its URL path below `/tab/`, plus the teams-js and chart.js bundles from node_modules. */
function loadAssets(publicDir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const type = CONTENT_TYPES[extname(entry.name)];
        if (type)
          assets.set(
            relative(publicDir, path).split(sep).join('/'),
            asset(readFileSync(path), type),
          );
      }
    }
  };
  walk(publicDir);
  assets.set(
    'vendor/teams-js.min.js',
    asset(readFileSync(require.resolve(TEAMS_JS_BUNDLE)), CONTENT_TYPES['.js']!),
  );
  assets.set(
    'vendor/chart.umd.min.js',
    asset(readFileSync(CHART_JS_BUNDLE), CONTENT_TYPES['.js']!),
  );
  return assets;
}

/**
 * Serves the static tab under `/tab/`: `index.html` for `/tab/` (deep links such as
 * `/tab/?request=CONTOSO-12` keep their query), and each known file by its exact path.
 * @remarks Files are read once at start and looked up by exact name, so no URL can reach anything else.
 */
export function mountTabStatic(server: Server, publicDir = TAB_PUBLIC_DIR): void {
  const assets = loadAssets(publicDir);
  const send = (name: string) => (req: Request, res: Response, next: Next) => {
    const found = assets.get(name)!;
    res.header('content-type', found.type);
    res.header('cache-control', 'no-cache');
    res.header('etag', found.etag);
    res.header('x-content-type-options', 'nosniff');
    res.header('referrer-policy', 'no-referrer');
    if (found.type.startsWith('text/html'))
      res.header('content-security-policy', CONTENT_SECURITY_POLICY);
    if (req.header('if-none-match', '') === found.etag) {
      res.writeHead(304);
      res.end();
    } else {
      res.writeHead(200);
      res.end(found.body);
    }
    next();
  };

  server.get('/tab', (req: Request, res: Response, next: Next) => {
    const query = new URL(req.url ?? '/', 'http://tab.invalid').search;
    res.writeHead(302, { location: `/tab/${query}` });
    res.end();
    next();
  });
  server.get('/tab/', send('index.html'));
  for (const name of assets.keys()) {
    if (name !== 'index.html') server.get(`/tab/${name}`, send(name));
  }
}
