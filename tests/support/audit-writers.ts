import { fork, type ChildProcess } from 'node:child_process';
import type { AuditWriterArgs, AuditWriterReport } from './audit-writer';

const SCRIPT = require.resolve('./audit-writer.ts');

/**
 * Runs audit writer processes (tests/support/audit-writer.ts) that start together once all are
 * ready, and collects their reports.
 */
export async function runAuditWriters(
  args: readonly Omit<AuditWriterArgs, 'sync'>[],
): Promise<AuditWriterReport[]> {
  const children = args.map((a) =>
    fork(SCRIPT, [JSON.stringify({ ...a, sync: true })], {
      execArgv: ['--require', 'tsx/cjs'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    }),
  );
  try {
    const reports = children.map(report);
    for (const pending of reports) pending.catch(() => undefined);
    await Promise.all(children.map(ready));
    for (const child of children) child.send('go');
    return await Promise.all(reports);
  } finally {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) =>
      reject(new Error(`audit writer exited with ${code} before it was ready`)),
    );
  });
}

function report(child: ChildProcess): Promise<AuditWriterReport> {
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`audit writer exited with ${code}`));
      resolve(JSON.parse(out) as AuditWriterReport);
    });
  });
}
