import { spawn } from 'node:child_process';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `src/cli/cabinet.ts` as an operator would, with `env` on top of a sandbox-mode environment. */
export function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', require.resolve('../../src/cli/cabinet.ts'), ...args],
    {
      env: { PATH: process.env['PATH'] ?? '', CABINET_MODE: 'sandbox', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
