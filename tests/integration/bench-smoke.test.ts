import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';

interface BenchRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run bench` as a person would (its own Azurite, sandbox servers), with tiny sizes. */
function bench(args: readonly string[]): Promise<BenchRun> {
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', require.resolve('../../bench/run.ts'), ...args],
    { env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
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

/** A figure divided by the limit measured beside it: `… ÷ … = 0.42`. */
const RATIO_LINE = /÷.*= \d+\.\d{2}/;

/**
 * Each bench runs end to end and prints its ratio against the limit it measured. The figures are
 * not checked (they depend on the machine, and these sizes are far too small to mean anything);
 * the SLA bench is left out, as it seeds 100k rows whatever it is asked.
 */
describe('npm run bench, once each with tiny sizes', function () {
  this.timeout(120_000);

  const cases: readonly (readonly [string, readonly string[], RegExp])[] = [
    ['audit', ['--only', 'audit', '--seconds', '2'], /^audit append, 4 writers: .*÷/m],
    ['offboard', ['--only', 'offboard', '--runs', '1'], /batched ÷ one at a time = /],
    ['psa', ['--only', 'psa', '--requests', '2', '--notes', '2'], /^psa sync \(4 notes .*÷/m],
    ['webhook', ['--only', 'webhook', '--deliveries', '4'], /^webhook intake \(4 signed .*÷/m],
    ['verify', ['--only', 'verify', '--entries', '50'], /^verify\.mjs verifyBundle: .*÷/m],
  ];
  for (const [name, args, line] of cases)
    it(`${name} completes and prints its ratio`, async () => {
      const run = await bench(args);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, line);
      assert.match(run.stdout, RATIO_LINE);
    });
});
