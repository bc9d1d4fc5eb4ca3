import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CONTOSO, FABRIKAM, MSP, type SandboxPerson } from './sandbox-tenants';

/** The people a sandbox user can be in the browser: one Agents Playground instance each. */
export type PersonaKey = 'carla' | 'andy' | 'tina';

/**
 * A sandbox person as they appear in an Agents Playground instance.
 * @remarks The identity comes straight from the sandbox tenants, so whoever clicks in the browser is a
 * person Cabinet's seed data already knows (same tenant id and object id).
 */
export interface PlaygroundPersona {
  readonly key: PersonaKey;
  readonly person: SandboxPerson;
  /** What this person does, shown in the start-up banner. */
  readonly role: string;
  readonly organisation: string;
  readonly team: { readonly name: string; readonly channel: string };
}

/** The bot as every playground presents it; the playground fills it into `recipient` of each activity. */
export const SANDBOX_BOT = { id: '28:cabinet-sandbox-bot', name: 'Cabinet' } as const;

/** The three people `npm start` opens a playground for; the order is the port order. */
export const PLAYGROUND_PERSONAS: Readonly<Record<PersonaKey, PlaygroundPersona>> = {
  carla: {
    key: 'carla',
    person: CONTOSO.carla,
    role: 'client admin',
    organisation: CONTOSO.name,
    team: { name: 'Contoso IT', channel: 'Changes' },
  },
  andy: {
    key: 'andy',
    person: CONTOSO.andy,
    role: 'client approver',
    organisation: CONTOSO.name,
    team: { name: 'Contoso IT', channel: 'Changes' },
  },
  tina: {
    key: 'tina',
    person: MSP.tina,
    role: 'MSP technician',
    organisation: MSP.name,
    team: { name: 'Service Desk', channel: 'SLA' },
  },
};

const SANDBOX_PEOPLE: readonly SandboxPerson[] = [MSP, CONTOSO, FABRIKAM].flatMap((org) =>
  Object.values(org).filter(
    (value): value is SandboxPerson => typeof value === 'object' && 'oid' in value,
  ),
);

/** The playground's own config-file format (version 0.1.1), which it validates strictly at start-up. */
export interface PlaygroundConfigFile {
  readonly version: '0.1.1';
  readonly tenantId: string;
  readonly bot: { readonly id: string; readonly name: string };
  readonly currentUser: PlaygroundUser;
  readonly users: readonly PlaygroundUser[];
  readonly personalChat: { readonly id: string };
  readonly groupChat: { readonly id: string; readonly name: string };
  readonly team: {
    readonly id: string;
    readonly name: string;
    readonly aadGroupId: string;
    readonly channels: readonly { readonly id: string; readonly name: string }[];
  };
}

/** A user entry; `userPrincipleName` is the playground's own spelling. */
export interface PlaygroundUser {
  readonly id: string;
  readonly name: string;
  readonly userPrincipleName: string;
  readonly aadObjectId: string;
  readonly givenName: string;
  readonly surname: string;
  readonly email: string;
}

const PLAYGROUND_USER_COUNT = 5;

/**
 * Builds the persona's playground config.
 * @remarks The playground demands exactly five other users; colleagues from the persona's own tenant come
 * first, the rest are filled from the other sandbox tenants. Conversation ids carry the persona key so that
 * two playgrounds never hand the bot the same conversation id with different service URLs.
 */
export function playgroundConfig(persona: PlaygroundPersona): PlaygroundConfigFile {
  const { person } = persona;
  const others = SANDBOX_PEOPLE.filter((p) => p.oid !== person.oid);
  const users = [
    ...others.filter((p) => p.tid === person.tid),
    ...others.filter((p) => p.tid !== person.tid),
  ];
  return {
    version: '0.1.1',
    tenantId: person.tid,
    bot: { ...SANDBOX_BOT },
    currentUser: toPlaygroundUser(person),
    users: users.slice(0, PLAYGROUND_USER_COUNT).map(toPlaygroundUser),
    personalChat: { id: `personal-chat-${persona.key}` },
    groupChat: { id: `group-chat-${persona.key}`, name: `${persona.team.name} chat` },
    team: {
      id: `team-${persona.key}`,
      name: persona.team.name,
      aadGroupId: deterministicGuid(`team:${persona.key}`),
      channels: [{ id: `channel-${persona.key}`, name: persona.team.channel }],
    },
  };
}

function toPlaygroundUser(person: SandboxPerson): PlaygroundUser {
  return {
    id: `29:${person.oid}`,
    name: person.name,
    userPrincipleName: person.upn,
    aadObjectId: person.oid,
    givenName: person.givenName,
    surname: person.surname,
    email: person.upn,
  };
}

function deterministicGuid(seed: string): string {
  const hex = createHash('sha256').update(`cabinet-sandbox:${seed}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** How a child process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartPlaygroundOptions {
  readonly persona: PlaygroundPersona;
  readonly port: number;
  /** The bot's messaging endpoint, e.g. `http://127.0.0.1:3978/api/messages`. */
  readonly botEndpoint: string;
  /** The playground's config and log go to `<dataDir>/playground/<persona>/`. */
  readonly dataDir: string;
  readonly timeoutMs?: number;
}

/** One Agents Playground process, ready (it answered `/_debug/ping`). */
export interface RunningPlayground {
  readonly persona: PlaygroundPersona;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process ends, for whatever reason. */
  readonly exited: Promise<ChildExit>;
  /** The last few kilobytes the process printed, for error messages. */
  output(): string;
  /** SIGINT (the playground exits cleanly on it), SIGKILL after 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

const OUTPUT_TAIL_CHARS = 4000;
const live = new Set<ChildProcess>();

/**
 * Starts an Agents Playground for one persona from the project's own devDependency, chatting with the bot
 * over the msteams channel.
 * @remarks The process runs in its own process group so a Ctrl-C in the terminal does not kill it before
 * the launcher stops things in order; a process-exit hook still kills it if the parent ends abruptly. It gets
 * an explicit environment, so nothing in the caller's shell (a stray `BOT_ENDPOINT` or
 * `TEAMSAPPTESTER_PORT`) can redirect it. Telemetry is always off: the package bundles Application Insights.
 */
export async function startPlayground(options: StartPlaygroundOptions): Promise<RunningPlayground> {
  const { persona, port } = options;
  const dir = resolve(options.dataDir, 'playground', persona.key);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, '.m365agentsplayground.yml');
  const logFile = join(dir, 'playground.log');
  writeFileSync(configPath, renderPlaygroundConfig(playgroundConfig(persona)));

  const child = spawn(
    process.execPath,
    [
      require.resolve('@microsoft/m365agentsplayground/cli.js'),
      '--port',
      String(port),
      '--app-endpoint',
      options.botEndpoint,
      '--channel-id',
      'msteams',
      '--disable-telemetry',
    ],
    {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        TEAMSAPPTESTER_BROWSER: 'none',
        M365_AGENTS_PLAYGROUND_CONFIG_PATH: configPath,
        M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
      },
    },
  );
  track(child);
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<ChildExit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  const url = `http://localhost:${port}`;
  const running: RunningPlayground = {
    persona,
    port,
    url,
    pid: child.pid ?? -1,
    logFile,
    exited,
    output: () => tail,
    stop: () => stopGroup(child, exited),
  };

  const timeoutMs = options.timeoutMs ?? 30_000;
  const ready = await Promise.race([
    waitForPong(port, timeoutMs).then((ok) => (ok ? 'ready' : 'timeout')),
    exited.then(() => 'exited' as const),
  ]);
  if (ready !== 'ready') {
    await running.stop();
    const why =
      ready === 'exited'
        ? 'exited during start-up'
        : `did not answer /_debug/ping within ${timeoutMs} ms`;
    throw new Error(
      `The Agents Playground for ${persona.person.name} on port ${port} ${why}:\n${tail.trim()}`,
    );
  }
  return running;
}

/**
 * Serialises a config for the playground's `.yml` file.
 * @remarks JSON is a subset of YAML 1.2, so no YAML library is needed at run time.
 */
export function renderPlaygroundConfig(config: PlaygroundConfigFile): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

async function waitForPong(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/_debug/ping`, {
        signal: AbortSignal.timeout(1_000),
      });
      if ((await response.text()).trim() === 'pong') return true;
    } catch {
      /* not listening yet */
    }
    await delay(150);
  }
  return false;
}

function stopGroup(child: ChildProcess, exited: Promise<ChildExit>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return exited.then(() => undefined);
  signalGroup(child, 'SIGINT');
  const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5_000);
  return exited.then(() => clearTimeout(killer));
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function track(child: ChildProcess): void {
  if (live.size === 0) process.on('exit', killLive);
  live.add(child);
  child.once('exit', () => {
    live.delete(child);
    if (live.size === 0) process.off('exit', killLive);
  });
}

function killLive(): void {
  for (const child of live) signalGroup(child, 'SIGKILL');
}
