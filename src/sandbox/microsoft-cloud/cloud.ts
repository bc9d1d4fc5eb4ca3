import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Authority } from './authority';
import { loadOrCreateKeyMaterial } from './certificates';
import { ClientAssertionVerifier, registeredCertificate } from './client-assertion';
import { describeError, GraphServer } from './graph-server';
import { GraphFault } from './graph-wire';
import { SandboxTenantRuntime, type PersistedTenant } from './sandbox-tenant';
import { SANDBOX_APP, seedTenants } from './seed';
import { issuerFor, jwksUrlFor, TokenService } from './tokens';
import type { RunningMicrosoftCloud, StartMicrosoftCloudOptions } from './types';

const STATE_VERSION = 1;

interface StateFile {
  readonly version: number;
  readonly tenants: readonly PersistedTenant[];
}

/**
 * Starts the sandbox Microsoft cloud: one HTTPS server on 127.0.0.1 serving the Entra authority
 * (`/{tenant}/…`) and Microsoft Graph v1.0 (`/v1.0/…`) for the seeded tenants.
 * @remarks The URL says `localhost` because the server certificate names it and the Graph SDK's
 * `customHosts` wants a host name; it resolves to the loopback address the server listens on.
 */
export async function startMicrosoftCloud(
  options: StartMicrosoftCloudOptions,
): Promise<RunningMicrosoftCloud> {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => {});
  // A sandbox bug must never pass silently: without a log it goes to stderr.
  const report = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const keys = await loadOrCreateKeyMaterial(options.certDir, now(), log);
  const persisted = options.stateFile ? readState(options.stateFile, log) : undefined;

  const tenants = new Map<string, SandboxTenantRuntime>();
  // A failed write must not fail the request whose change it records (the change is applied) nor stop().
  const save = () => {
    if (!options.stateFile) return;
    try {
      writeState(options.stateFile, [...tenants.values()]);
    } catch (error) {
      report(
        `sandbox cloud: could not write ${options.stateFile}; the directory in memory is unaffected and is written again with the next change: ${describeError(error)}`,
      );
    }
  };
  for (const seeded of seedTenants(now())) {
    const saved = persisted?.find((tenant) => tenant.record.id === seeded.id);
    tenants.set(seeded.id, new SandboxTenantRuntime(saved?.record ?? seeded, now, save, saved));
  }
  const findTenant = (idOrDomain: string): SandboxTenantRuntime | undefined => {
    const key = idOrDomain.toLowerCase();
    return (
      tenants.get(key) ??
      [...tenants.values()].find((tenant) => tenant.directory.isVerifiedDomain(key))
    );
  };

  const server = createServer({ key: keys.serverKeyPem, cert: keys.serverCertificatePem });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://localhost:${port}`;
  const tokens = new TokenService(keys, url, now);
  const wait = (milliseconds: number) => sleep(milliseconds);
  const graph = new GraphServer({
    cloudUrl: url,
    tokens,
    tenantById: (tenantId) => tenants.get(tenantId.toLowerCase()),
    appId: SANDBOX_APP.clientId,
    now,
    sleep: wait,
    reportFailure: report,
  });
  const appCertificate = registeredCertificate(keys.appCertificatePem);
  const authority = new Authority({
    cloudUrl: url,
    tokens,
    findTenant,
    app: SANDBOX_APP,
    assertions: new ClientAssertionVerifier([appCertificate], now),
    now,
    sleep: wait,
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    serve(request, response, graph, authority, log).catch((error: unknown) => {
      const target = `${request.method ?? 'GET'} ${(request.url ?? '/').split('?')[0]}`;
      report(`sandbox cloud: request failed: ${target} threw ${describeError(error)}`);
      answerFailure(response, graph, target);
    });
  });
  log(`sandbox cloud: Microsoft Graph and Entra on ${url}`);

  let stopped = false;
  return {
    url,
    port,
    caCertificatePem: keys.caCertificatePem,
    caCertificatePath: keys.caCertificatePath,
    app: {
      clientId: SANDBOX_APP.clientId,
      clientSecret: SANDBOX_APP.clientSecret,
      certificate: {
        thumbprint: appCertificate.thumbprintSha1,
        thumbprintSha256: appCertificate.thumbprintSha256,
        privateKeyPem: keys.appKeyPem,
        certificatePem: keys.appCertificatePem,
      },
    },
    authorityFor: (tenantId) => `${url}/${tenantId}`,
    sandboxIssuer: (tenantId, version = '2.0') => issuerFor(url, tenantId, version),
    jwksUrl: (tenantId) => jwksUrlFor(url, tenantId),
    tenant: (tenantId) => {
      const tenant = tenants.get(tenantId.toLowerCase());
      if (!tenant)
        throw new Error(
          `The sandbox cloud has no tenant ${tenantId}; it knows ${[...tenants.keys()].join(', ')}.`,
        );
      return tenant;
    },
    issueUserToken: (tokenOptions) => tokens.issueUserToken(tokenOptions),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      save();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  graph: GraphServer,
  authority: Authority,
  log: (line: string) => void,
): Promise<void> {
  // A held request must notice its caller hang up (a killed process), or it would wait forever.
  const closed = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) closed.abort();
  });
  const body = await readBody(request);
  // Origin-form only: a target starting `//` must stay a path, not become another host (or throw).
  const path = request.url ?? '/';
  const target = new URL(`https://localhost${path.startsWith('/') ? path : `/${path}`}`);
  const method = (request.method ?? 'GET').toUpperCase();
  const versioned = /^\/v1\.0(\/.*)?$/.exec(target.pathname);
  if (versioned) {
    const outcome = await graph.handle(
      method,
      versioned[1] ?? '/',
      target.search,
      request.headers,
      body,
      closed.signal,
    );
    if (closed.signal.aborted) return;
    if (outcome.dropConnection) {
      request.socket.destroy();
      return;
    }
    send(response, outcome.status, outcome.headers, outcome.body);
    log(`sandbox cloud: ${method} graph ${outcome.status}`);
    return;
  }
  const answer = await authority.handle(method, target.pathname, request.headers, body);
  if (answer) {
    send(response, answer.status, answer.headers, answer.body);
    return;
  }
  const fault = new GraphFault(
    400,
    'BadRequest',
    `Invalid version: the sandbox serves Microsoft Graph under /v1.0 and the authority under /{tenant}.`,
  );
  const outcome = graph.render(fault, randomUUID(), undefined);
  send(response, outcome.status, outcome.headers, outcome.body);
}

/**
 * Answers a request the sandbox failed to serve as the service would: Graph's error envelope, or
 * the authority's OAuth error JSON, with a 500, so clients see a code and a message instead of an
 * empty body.
 */
function answerFailure(response: ServerResponse, graph: GraphServer, target: string): void {
  if (response.headersSent || response.destroyed) {
    response.destroy();
    return;
  }
  const message = `The sandbox cloud failed while serving ${target}. Its log has the stack.`;
  try {
    if (/^\S+ \/v1\.0(\/|$)/.test(target)) {
      const outcome = graph.render(
        new GraphFault(500, 'InternalServerError', message),
        randomUUID(),
        undefined,
      );
      send(response, outcome.status, outcome.headers, outcome.body);
    } else {
      send(
        response,
        500,
        { 'Content-Type': 'application/json; charset=utf-8' },
        { error: 'server_error', error_description: message },
      );
    }
  } catch {
    response.destroy();
  }
}

function send(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: unknown,
): void {
  response.writeHead(status, headers);
  response.end(body === undefined ? undefined : JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function readState(path: string, log: (line: string) => void): PersistedTenant[] | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
    if (state.version === STATE_VERSION) return [...state.tenants];
    log(`sandbox cloud: ${path} has state version ${state.version}; starting from the seed`);
  } catch (error) {
    log(`sandbox cloud: could not read ${path} (${String(error)}); starting from the seed`);
  }
  return undefined;
}

/** Written after every change (and on stop), atomically, so a killed process loses nothing it answered. */
function writeState(path: string, tenants: readonly SandboxTenantRuntime[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const state: StateFile = {
    version: STATE_VERSION,
    tenants: tenants.map((tenant) => tenant.persisted()),
  };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(state));
  renameSync(temporary, path);
}
