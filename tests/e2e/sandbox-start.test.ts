import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * `npm start` as a person runs it: the real entry point in its own process, then Ctrl-C. Ports are free ones
 * so it can run beside a developer's own sandbox.
 */
describe('npm start (sandbox mode)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let child: ChildProcess | undefined;
  let output = '';

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cabinet-e2e-start-'));
    output = '';
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await exitOf(child);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts Azurite, the bot and three playgrounds, and Ctrl-C stops them all with exit code 0', async () => {
    const playgroundBase = await freePortRun(3);
    child = start({ CABINET_PLAYGROUND_PORT: String(playgroundBase) });

    await waitForOutput(child, 'Ctrl-C stops everything', () => output);
    const pages = [...output.matchAll(/^ {2}(http:\/\/localhost:(\d+)) {2}(.+)$/gm)];
    assert.deepEqual(
      pages.map((m) => m[3]),
      [
        'Carla Admin — client admin, Contoso Ltd',
        'Andy Approver — client approver, Contoso Ltd',
        'Tina Tech — MSP technician, Northwind IT (your MSP)',
      ],
    );
    assert.deepEqual(
      pages.map((m) => Number(m[2])),
      [playgroundBase, playgroundBase + 1, playgroundBase + 2],
    );
    const bot = /bot {6}(http:\/\/127\.0\.0\.1:(\d+))\/api\/messages/.exec(output);
    const azurite =
      /storage {2}Azurite on 127\.0\.0\.1:(\d+) \(tables\) and :(\d+) \(checkpoint anchors\), data in (.+)$/m.exec(
        output,
      );
    const cloud = /cloud {4}https:\/\/localhost:(\d+) /.exec(output);
    assert.ok(bot && azurite && cloud, output);
    assert.equal(azurite[3], join(dataDir, 'azurite'));
    assert.match(output, new RegExp(`tab {6}${bot[1]}/tab/ `));
    assert.equal(await isListening(Number(cloud[1])), true, 'the sandbox Microsoft cloud listens');
    const psaPorts = [
      /halopsa {2}http:\/\/127\.0\.0\.1:(\d+)/,
      /cw {7}http:\/\/127\.0\.0\.1:(\d+)/,
      /autotask http:\/\/127\.0\.0\.1:(\d+)/,
    ].map((pattern) => Number(pattern.exec(output)?.[1]));
    for (const port of psaPorts)
      assert.equal(await isListening(port), true, `sandbox PSA on ${port}`);

    assert.equal((await fetch(`${bot[1]}/healthz`)).status, 200);
    assert.equal((await fetch(`${bot[1]}/readyz`)).status, 200);
    for (const [, url] of pages)
      assert.equal(await (await fetch(`${url}/_debug/ping`)).text(), 'pong');

    child.kill('SIGINT');
    assert.deepEqual(await exitOf(child), { code: 0, signal: null });
    for (const port of [
      ...pages.map((m) => Number(m[2])),
      Number(bot[2]),
      Number(azurite[1]),
      Number(azurite[2]),
      Number(cloud[1]),
      ...psaPorts,
    ]) {
      assert.equal(await isListening(port), false, `port ${port} is still open after Ctrl-C`);
    }
  });

  it('stops everything and exits 1 with the output of a playground that died', async () => {
    const playgroundBase = await freePortRun(3);
    child = start({ CABINET_PLAYGROUND_PORT: String(playgroundBase) });
    await waitForOutput(child, 'Ctrl-C stops everything', () => output);
    const andyPid = childPids(child.pid!).find((p) =>
      p.args.includes(`--port ${playgroundBase + 1} `),
    )?.pid;
    assert.ok(andyPid, 'the playground for Andy is a child of the sandbox');

    process.kill(andyPid, 'SIGKILL');

    assert.deepEqual(await exitOf(child), { code: 1, signal: null });
    assert.match(
      output,
      new RegExp(
        `Agents Playground for Andy Approver \\(port ${playgroundBase + 1}\\) stopped on its own`,
      ),
    );
    assert.match(output, /Listening on/);
    for (const port of [playgroundBase, playgroundBase + 2])
      assert.equal(await isListening(port), false, `port ${port}`);
  });

  it('refuses to start when a playground port is taken, naming CABINET_PLAYGROUND_PORT', async () => {
    const playgroundBase = await freePortRun(3);
    const blocker = createServer();
    await new Promise<void>((resolveListen) => blocker.listen(playgroundBase + 1, resolveListen));
    try {
      child = start({ CABINET_PLAYGROUND_PORT: String(playgroundBase) });

      const exit = await exitOf(child);

      assert.equal(exit.code, 1);
      assert.match(output, new RegExp(`Playground port ${playgroundBase + 1} is in use`));
      assert.match(output, /CABINET_PLAYGROUND_PORT/);
    } finally {
      blocker.close();
    }
  });

  function start(env: Record<string, string>): ChildProcess {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !/^(CABINET_|Microsoft|PORT$|HOST$)/.test(key)),
    );
    const started = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...inherited,
        CABINET_MODE: 'sandbox',
        PORT: '0',
        CABINET_AZURITE_PORT: '0',
        CABINET_AZURITE_BLOB_PORT: '0',
        CABINET_DATA_DIR: dataDir,
        CABINET_TABLE_PREFIX: `start${randomUUID().replace(/-/g, '').slice(0, 10)}`,
        ...env,
      },
    });
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return started;
  }
});

function childPids(parent: number): { pid: number; args: string }[] {
  return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .flatMap((m) => (m ? [{ pid: Number(m[1]), args: `${m[2]} ` }] : []));
}

function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolveExit) =>
    child.once('close', (code, signal) => resolveExit({ code, signal })),
  );
}

function waitForOutput(
  child: ChildProcess,
  text: string,
  read: () => string,
  timeoutMs = 60_000,
): Promise<void> {
  return new Promise((resolveWait, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`no "${text}" within ${timeoutMs} ms:\n${read()}`)),
      timeoutMs,
    );
    const check = (): void => {
      if (read().includes(text)) finish();
    };
    const onExit = (): void => finish(new Error(`exited before printing "${text}":\n${read()}`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolveWait();
    }
    child.stdout?.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/** The first of `count` consecutive ports that are free on every interface, as the playground binds. */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => canBind(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no run of ${count} free ports found`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolveBind) => {
    const server = createServer();
    server.once('error', () => resolveBind(false));
    server.listen({ port, exclusive: true }, () => server.close(() => resolveBind(true)));
  });
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}
