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
  readonly connectionString: string;
  readonly pid: number;
  /** SIGINT (Azurite's only graceful stop: it flushes its database), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** Keep data under this folder (survives restarts); omit for in-memory. */
  readonly location?: string;
  /** 0 or omitted: pick a free loopback port. */
  readonly port?: number;
  readonly timeoutMs?: number;
}

export function azuriteConnectionString(port: number): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};TableEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};`;
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

/** Starts Azurite's Table service from the project's own node_modules, on loopback, without telemetry. */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<RunningAzurite> {
  const port = options.port && options.port > 0 ? options.port : await freePort();
  // Absolute, because Azurite runs with the data folder as its working directory.
  const location = options.location ? resolvePath(options.location) : undefined;
  const storageArgs = location ? ['--location', location] : ['--inMemoryPersistence'];
  if (location) mkdirSync(location, { recursive: true });
  const child = spawn(
    process.execPath,
    [
      require.resolve('azurite/dist/src/table/main.js'),
      ...storageArgs,
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(port),
      '--skipApiVersionCheck',
      '--disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: location ?? process.cwd() },
  );
  await waitForStart(child, options.timeoutMs ?? 20_000);
  return {
    port,
    connectionString: azuriteConnectionString(port),
    pid: child.pid ?? -1,
    stop: () => stopChild(child),
  };
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
      if (output.includes('successfully listening') || output.includes('successfully started')) {
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
