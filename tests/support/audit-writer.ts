/**
 * A separate writer process for the audit concurrency test and the benchmark: appends one-event
 * commits to one tenant, keeping `inFlight` appends outstanding, and prints one JSON line.
 *   count mode:    {"acked": ["w1-0", …], "failed": n}
 *   duration mode: {"acked": n, "failed": n}   (appends completed within durationMs of the start)
 * Started with fork() and `sync`, it reports "ready" over IPC and starts on the parent's "go", so
 * several writers start together whatever their start-up time.
 */
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import type { AuditEvent } from '../../src/domain/audit/audit-event';
import type { TenantId } from '../../src/domain/shared/ids';

export interface AuditWriterArgs {
  readonly connectionString: string;
  readonly tablePrefix: string;
  readonly tenantId: TenantId;
  readonly writer: string;
  readonly inFlight: number;
  readonly count?: number;
  readonly durationMs?: number;
  readonly sync?: boolean;
}

export interface AuditWriterReport {
  readonly acked: string[] | number;
  readonly failed: number;
  readonly errors: string[];
  readonly transactions: number;
  readonly headConflicts: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as AuditWriterArgs;
  const storage = createTableStorage({
    connectionString: args.connectionString,
    tablePrefix: args.tablePrefix,
  });
  const event = (id: string): AuditEvent => ({
    type: 'request.submitted',
    actor: { tid: args.tenantId, oid: '7ec40000-0000-4000-8000-000000000011' },
    requestId: null,
    payload: { id, writer: args.writer },
  });
  await storage.ping();
  if (args.sync) await ready();
  const endAt =
    args.durationMs !== undefined ? Date.now() + args.durationMs : Number.POSITIVE_INFINITY;
  const acked: string[] = [];
  const errors: string[] = [];
  let next = 0;
  let failed = 0;
  const more = () => (args.count === undefined ? Date.now() < endAt : next < args.count);
  const loop = async (): Promise<void> => {
    while (more()) {
      const id = `${args.writer}-${next++}`;
      try {
        await storage.audit.append(args.tenantId, [event(id)]);
        if (Date.now() <= endAt) acked.push(id);
      } catch (error) {
        failed += 1;
        if (errors.length < 5) errors.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: args.inFlight }, loop));
  const report: AuditWriterReport = {
    acked: args.count === undefined ? acked.length : acked,
    failed,
    errors,
    transactions: storage.commitStats.transactions,
    headConflicts: storage.commitStats.headConflicts,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function ready(): Promise<void> {
  return new Promise((resolve) => {
    process.once('message', () => resolve());
    process.send!('ready');
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
