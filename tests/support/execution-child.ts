/**
 * A Cabinet worker process for the crash tests: Table Storage on a given Azurite, the real Graph
 * adapter on a given sandbox cloud, the execution worker as the outbox relay's run driver, composed
 * as `src/main.ts` does but with short leases so a killed worker's run is taken over in seconds.
 * Started with one JSON argument ({@link ExecutionChildArgs}); prints `ready` on stdout once the
 * relay runs. Relay and Graph log lines go to stderr. SIGTERM stops it in order; the tests SIGKILL it.
 */
import { createGraphDirectory } from '../../src/adapters/graph/graph-tenant-directory';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import type { Clock } from '../../src/application/ports/clock';
import type { Notifier } from '../../src/application/ports/notifier';
import { ExecutionWorker } from '../../src/application/use-cases/execution';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import { MSP_TENANT } from '../../src/sandbox/sandbox-tenants';

export interface ExecutionChildArgs {
  readonly connectionString: string;
  readonly tablePrefix: string;
  readonly cloud: {
    readonly url: string;
    readonly caCertificatePem: string;
    readonly clientId: string;
    readonly clientSecret: string;
  };
  /** How long the worker holds a run between writes (`execution.leaseMs`). */
  readonly runLeaseMs: number;
  /** How long the relay holds a claimed outbox row between renewals. */
  readonly rowLeaseMs: number;
  /** How often the relay sweeps every client's outbox. */
  readonly sweepMs: number;
}

/** Cards are not what these tests are about: every notification counts as delivered. */
const deliveredNotifier: Notifier = {
  deliver: () => Promise.resolve({ status: 'sent', activityId: 'crash-test' }),
};

function main(): void {
  const args = JSON.parse(process.argv[2] ?? '{}') as ExecutionChildArgs;
  const log = (line: string) => process.stderr.write(`[child ${process.pid}] ${line}\n`);
  const clock: Clock = { now: () => new Date() };
  const storage = createTableStorage({
    connectionString: args.connectionString,
    tablePrefix: args.tablePrefix,
    clock,
  });
  const directory = createGraphDirectory({
    clientId: args.cloud.clientId,
    credential: { kind: 'secret', clientSecret: args.cloud.clientSecret },
    cloud: { kind: 'sandbox', url: args.cloud.url, caCertificatePem: args.cloud.caCertificatePem },
    log,
  });
  const worker = new ExecutionWorker({
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    templates: storage.catalogue(MSP_TENANT),
    clock,
    mspTenantId: MSP_TENANT,
    // `relay` is assigned below; the worker commits only once the relay has started it.
    outboxWritten: (tenantId) => relay.kick(tenantId),
    runs: storage.runs,
    passwords: storage.passwords,
    directory,
    execution: { together: true, leaseMs: args.runLeaseMs },
  });
  const relay: OutboxRelay = new OutboxRelay(
    {
      outbox: storage.outbox,
      notifier: deliveredNotifier,
      clients: storage.clients,
      clock,
      runs: worker,
      openRequests: { index: storage.openRequests, requests: storage.requests },
    },
    { leaseMs: args.rowLeaseMs, baseDelayMs: 200, maxDelayMs: 1_000, log },
  );
  relay.start(args.sweepMs);
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    relay
      .stop()
      .then(() => directory.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
}

main();
