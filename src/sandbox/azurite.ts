import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  readonly port: number;
  /** The Blob service's port (checkpoint anchors); undefined when started with `blob: false`. */
  readonly blobPort: number | undefined;
  /** Table endpoint, and Blob endpoint when the Blob service runs. */
  readonly connectionString: string;
  readonly pid: number;
  /** Stops both services: SIGINT (Azurite's only graceful stop: it flushes its database), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** Keep data under this folder (survives restarts); omit for in-memory. */
  readonly location?: string;
  /** 0 or omitted: pick a free loopback port. */
  readonly port?: number;
  /** Also start the Blob service, where checkpoints are anchored (default true). */
  readonly blob?: boolean;
  /** 0 or omitted: pick a free loopback port for the Blob service. */
  readonly blobPort?: number;
  readonly timeoutMs?: number;
}

export function azuriteConnectionString(port: number, blobPort?: number): string {
  const blob =
    blobPort === undefined ? '' : `BlobEndpoint=http://127.0.0.1:${blobPort}/${DEV_ACCOUNT};`;
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};TableEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};${blob}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts Azurite's Table service (and its Blob service, a second process with the same lifecycle)
 * from the project's own node_modules, on loopback, without telemetry.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<RunningAzurite> {
  const port = options.port && options.port > 0 ? options.port : await freePort();
  const withBlob = options.blob ?? true;
  const blobPort = !withBlob
    ? undefined
    : options.blobPort && options.blobPort > 0
      ? options.blobPort
      : await freePort();
  // Absolute, because Azurite runs with the data folder as its working directory.
  const location = options.location ? resolvePath(options.location) : undefined;
  if (location) mkdirSync(location, { recursive: true });
  const service = (kind: 'table' | 'blob', servicePort: number) =>
    spawnService(kind, servicePort, location, options.timeoutMs ?? 20_000);
  const started = await Promise.allSettled([
    service('table', port),
    ...(blobPort === undefined ? [] : [service('blob', blobPort)]),
  ]);
  const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(children.map(stopChild));
    throw failed.reason;
  }
  return {
    port,
    blobPort,
    connectionString: azuriteConnectionString(port, blobPort),
    pid: children[0]?.pid ?? -1,
    stop: async () => {
      await Promise.all(children.map(stopChild));
    },
  };
}

async function spawnService(
  kind: 'table' | 'blob',
  port: number,
  location: string | undefined,
  timeoutMs: number,
): Promise<ChildProcess> {
  // Both services may share one data folder: each keeps its own database files there.
  const storageArgs = location ? ['--location', location] : ['--inMemoryPersistence'];
  const child = spawn(
    process.execPath,
    [
      require.resolve(`azurite/dist/src/${kind}/main.js`),
      ...storageArgs,
      `--${kind}Host`,
      '127.0.0.1',
      `--${kind}Port`,
      String(port),
      '--skipApiVersionCheck',
      '--disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: location ?? process.cwd() },
  );
  await waitForStart(child, timeoutMs);
  return child;
}

function waitForStart(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start within ${timeoutMs} ms: ${output.slice(-500)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // Table says "successfully listening", Blob "successfully listens".
      if (/successfully (listening|listens|started)/.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code}: ${output.slice(-500)}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGINT');
  });
}
