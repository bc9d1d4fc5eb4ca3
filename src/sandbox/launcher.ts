import { createServer } from 'node:net';
import { relative, resolve } from 'node:path';
import type { Config, GraphConfig } from '../config';
import { startAzurite, type RunningAzurite } from './azurite';
import { startMicrosoftCloud, type RunningMicrosoftCloud } from './microsoft-cloud';
import { PLAYGROUND_PERSONAS, startPlayground, type RunningPlayground } from './playground';
import { startSandboxPsas, type RunningSandboxPsas } from './psa/sandbox-psas';

/** What `startCabinet` hands back: where the bot listens and how to stop it (server, loops, clients). */
export interface RunningCabinet {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:3978`. */
  readonly url: string;
  stop(): Promise<void>;
}

/** What the sandbox runs beside Cabinet that Cabinet uses in-process (tab sign-in tokens, PSA webhooks). */
export interface SandboxServices {
  readonly cloud: RunningMicrosoftCloud;
  readonly psas?: RunningSandboxPsas;
}

/** The composition root's start function, injected so the launcher never imports `main.ts`. */
export type StartCabinet = (config: Config, sandbox?: SandboxServices) => Promise<RunningCabinet>;

export interface RunSandboxOptions {
  /** Aborting stops the sandbox exactly like Ctrl-C does. */
  readonly signal?: AbortSignal;
  /** Listen for SIGINT, SIGTERM and SIGHUP (default true); tests turn it off and abort instead. */
  readonly handleSignals?: boolean;
  /** Where the banner and shutdown notes go (default `console.log`). */
  readonly print?: (line: string) => void;
}

/** A sandbox process stopped on its own; the sandbox was shut down and the message carries its last output. */
export class SandboxChildExitedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxChildExitedError';
  }
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const AZURITE_POLL_MS = 1_000;

/**
 * Runs the whole sandbox for `npm start`: Azurite with data kept under the data folder, Cabinet itself, and
 * one Agents Playground per persona, then waits until Ctrl-C (or SIGTERM) and stops everything in order.
 * @remarks Resolves after a requested stop; rejects with {@link SandboxChildExitedError} (after stopping
 * everything else) if a child dies on its own, and with a plain error naming the variable to change if a
 * port is taken. Stop order is playgrounds, Cabinet, then Azurite with SIGINT, its only signal that flushes
 * the database to disk.
 */
export async function runSandbox(
  config: Config,
  startCabinet: StartCabinet,
  options: RunSandboxOptions = {},
): Promise<void> {
  if (config.mode !== 'sandbox') {
    throw new Error('runSandbox needs CABINET_MODE=sandbox; production starts Cabinet directly.');
  }
  const print = options.print ?? ((line: string) => console.log(line));
  const { sandbox } = config;
  const playgroundPorts = sandbox.playgrounds
    ? Object.values(PLAYGROUND_PERSONAS).map((_, i) => sandbox.playgroundBasePort + i)
    : [];
  await assertPortsFree(config, playgroundPorts);

  const stack: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (let stop = stack.pop(); stop; stop = stack.pop()) {
      await stop().catch((error: unknown) => print(`  (while stopping: ${String(error)})`));
    }
  };
  const stopRequested = stopRequest(options);
  const azuriteDir = resolve(sandbox.dataDir, 'azurite');
  try {
    const azurite = await startAzurite({
      location: azuriteDir,
      port: sandbox.azuritePort,
      blobPort: sandbox.azuriteBlobPort,
    });
    stack.push(() => azurite.stop());
    const cloudDir = resolve(sandbox.dataDir, 'microsoft-cloud');
    const cloud = await startMicrosoftCloud({
      port: sandbox.cloudPort,
      certDir: cloudDir,
      stateFile: resolve(cloudDir, 'state.json'),
    });
    stack.push(() => cloud.stop());
    const psas = await startSandboxPsas(resolve(sandbox.dataDir, 'psa'));
    stack.push(() => psas.stop());
    const cabinet = await startCabinet(
      {
        ...config,
        storage: { ...config.storage, connectionString: azurite.connectionString },
        graph: sandboxGraphConfig(cloud),
        psa: psas.connections(config.psa.pollIntervalMs),
      },
      { cloud, psas },
    );
    stack.push(() => cabinet.stop());
    const botEndpoint = `${cabinet.url.replace(/\/$/, '')}/api/messages`;
    const playgrounds = await startPlaygrounds(playgroundPorts, botEndpoint, sandbox.dataDir);
    stack.push(() => Promise.all(playgrounds.map((p) => p.stop())).then(() => undefined));

    printBanner(print, {
      playgrounds,
      botEndpoint,
      tabUrl: `${cabinet.url.replace(/\/$/, '')}/tab/`,
      cloud,
      psas,
      azurite,
      azuriteDir,
    });
    const outcome = await Promise.race([
      stopRequested.promise.then(() => undefined),
      ...playgrounds.map((p) =>
        p.exited.then(
          (exit) =>
            new SandboxChildExitedError(
              `The Agents Playground for ${p.persona.person.name} (port ${p.port}) stopped on its own ` +
                `(${exit.signal ?? `exit code ${exit.code}`}); see ${p.logFile}. Its last output:\n${p.output().trim()}`,
            ),
        ),
      ),
      azuriteDeath(azurite).then(
        () =>
          new SandboxChildExitedError(
            `Azurite (pid ${azurite.pid}, port ${azurite.port}) stopped on its own; its data is in ${azuriteDir}.`,
          ),
      ),
    ]);
    print(
      outcome
        ? 'A sandbox process stopped on its own; stopping everything else…'
        : 'Stopping the sandbox…',
    );
    await unwind();
    if (outcome) throw outcome;
    print('Sandbox stopped.');
  } catch (error) {
    await unwind();
    throw error;
  } finally {
    stopRequested.dispose();
  }
}

/**
 * Cabinet's Graph app in the sandbox cloud, signing in with its certificate as production should
 * (the sandbox checks the signed client assertion like Entra does).
 */
export function sandboxGraphConfig(cloud: RunningMicrosoftCloud): GraphConfig {
  return {
    clientId: cloud.app.clientId,
    certificateThumbprint: cloud.app.certificate.thumbprint,
    certificatePrivateKey: cloud.app.certificate.privateKeyPem,
    sandboxCloud: { url: cloud.url, caCertificatePem: cloud.caCertificatePem },
  };
}

async function startPlaygrounds(
  ports: readonly number[],
  botEndpoint: string,
  dataDir: string,
): Promise<RunningPlayground[]> {
  const personas = Object.values(PLAYGROUND_PERSONAS);
  const started = await Promise.allSettled(
    ports.map((port, i) => startPlayground({ persona: personas[i]!, port, botEndpoint, dataDir })),
  );
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await Promise.all(running.map((p) => p.stop()));
    throw failure.reason;
  }
  return running;
}

function printBanner(
  print: (line: string) => void,
  state: {
    readonly playgrounds: readonly RunningPlayground[];
    readonly botEndpoint: string;
    readonly tabUrl: string;
    readonly cloud: RunningMicrosoftCloud;
    readonly psas: RunningSandboxPsas;
    readonly azurite: RunningAzurite;
    readonly azuriteDir: string;
  },
): void {
  print('');
  if (state.playgrounds.length > 0) {
    print('Cabinet sandbox is running. Open a page to chat with the bot as that person:');
    for (const { url, persona } of state.playgrounds) {
      print(`  ${url}  ${persona.person.name} — ${persona.role}, ${persona.organisation}`);
    }
  } else {
    print('Cabinet sandbox is running (playgrounds off: CABINET_PLAYGROUNDS=off).');
  }
  print(`  tab      ${state.tabUrl}  technician queue and wizards (pick who you are)`);
  print(`  bot      ${state.botEndpoint}`);
  print(
    `  cloud    ${state.cloud.url}  sandbox Microsoft Graph and sign-in for Contoso and Fabrikam`,
  );
  print(
    `  halopsa  ${state.psas.halopsa.webUrl}  sandbox HaloPSA (Contoso's tickets; add a technician note there)`,
  );
  print(`  cw       ${state.psas.connectwise.url}  sandbox ConnectWise PSA (Fabrikam's tickets)`);
  print(`  autotask ${state.psas.autotask.webUrl}  sandbox Autotask (no client mapped to it yet)`);
  const shownDir = relative(process.cwd(), state.azuriteDir);
  print(
    `  storage  Azurite on 127.0.0.1:${state.azurite.port} (tables) and :${state.azurite.blobPort} (checkpoint anchors), data in ${shownDir.startsWith('..') ? state.azuriteDir : shownDir}`,
  );
  print(
    'In another terminal, `npm run cabinet -- help` lists what the CLI can do. Ctrl-C stops everything.',
  );
  print('');
}

interface StopRequest {
  readonly promise: Promise<void>;
  dispose(): void;
}

function stopRequest(options: RunSandboxOptions): StopRequest {
  let request: () => void = () => undefined;
  const promise = new Promise<void>((resolveRequest) => (request = resolveRequest));
  const onSignal = (): void => request();
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  options.signal?.addEventListener('abort', onSignal, { once: true });
  if (options.signal?.aborted) request();
  return {
    promise,
    dispose: () => {
      if (handleSignals) for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      options.signal?.removeEventListener('abort', onSignal);
    },
  };
}

function azuriteDeath(azurite: RunningAzurite): Promise<void> {
  return new Promise((resolveDeath) => {
    const timer = setInterval(() => {
      if (!isAlive(azurite.pid)) {
        clearInterval(timer);
        resolveDeath();
      }
    }, AZURITE_POLL_MS);
    timer.unref();
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function assertPortsFree(config: Config, playgroundPorts: readonly number[]): Promise<void> {
  const problems: string[] = [];
  if (
    config.sandbox.azuritePort > 0 &&
    !(await isPortFree(config.sandbox.azuritePort, '127.0.0.1'))
  ) {
    problems.push(
      `Port ${config.sandbox.azuritePort} for Azurite is in use (another Azurite or sandbox still running?); ` +
        'stop it or set CABINET_AZURITE_PORT to a free port.',
    );
  }
  if (
    config.sandbox.azuriteBlobPort > 0 &&
    !(await isPortFree(config.sandbox.azuriteBlobPort, '127.0.0.1'))
  ) {
    problems.push(
      `Port ${config.sandbox.azuriteBlobPort} for Azurite's Blob service is in use (another Azurite?); ` +
        'stop it or set CABINET_AZURITE_BLOB_PORT to a free port.',
    );
  }
  if (config.http.port > 0 && !(await isPortFree(config.http.port, config.http.host))) {
    problems.push(
      `Port ${config.http.port} for the bot is in use; stop whatever holds it or set PORT to a free port.`,
    );
  }
  const busy: number[] = [];
  for (const port of playgroundPorts) if (!(await isPortFree(port))) busy.push(port);
  if (busy.length > 0) {
    problems.push(
      `Playground port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} in use ` +
        `(the playgrounds need ${playgroundPorts[0]}–${playgroundPorts[playgroundPorts.length - 1]}); ` +
        'stop whatever holds them, set CABINET_PLAYGROUND_PORT to another first port, or CABINET_PLAYGROUNDS=off.',
    );
  }
  if (problems.length > 0) {
    throw new Error(`The sandbox cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Without a host the probe binds every interface, as the playground itself does. */
function isPortFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}
