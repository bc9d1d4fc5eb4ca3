/**
 * A Cabinet relay process for the outbox chaos scenario (issue 6, reliability reference T24): Table
 * Storage on a given Azurite and the outbox relay with only its PSA deliveries (plus the open-request
 * index, and a notifier that counts every card as sent), connected to the parent's sandbox PSAs
 * over HTTP through the real connectors, with short leases so a killed relay's rows are taken over
 * in seconds. Started with one JSON argument ({@link PsaRelayChildArgs}); prints `ready` on stdout
 * once the relay runs. Relay log lines go to stderr. SIGTERM stops it in order; the test SIGKILLs it.
 */
import { createAutotaskConnector } from '../../src/adapters/psa/autotask-connector';
import { createConnectWiseConnector } from '../../src/adapters/psa/connectwise-connector';
import { createHaloPsaConnector } from '../../src/adapters/psa/halopsa-connector';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import type { Clock } from '../../src/application/ports/clock';
import type { Notifier } from '../../src/application/ports/notifier';
import type { PsaConnector } from '../../src/application/ports/psa';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import type { PsaKind } from '../../src/domain/psa/psa';

export interface PsaRelayChildArgs {
  readonly connectionString: string;
  readonly tablePrefix: string;
  readonly halopsa: {
    readonly apiUrl: string;
    readonly authUrl: string;
    readonly clientId: string;
    readonly clientSecret: string;
    readonly webhookSecret: string;
  };
  readonly connectwise: {
    readonly siteUrl: string;
    readonly companyId: string;
    readonly publicKey: string;
    readonly privateKey: string;
    readonly clientId: string;
  };
  readonly autotask: {
    readonly zoneUrl: string;
    readonly username: string;
    readonly secret: string;
    readonly integrationCode: string;
    readonly webhookSecret: string;
  };
  /** How long the relay holds a claimed outbox row between renewals. */
  readonly rowLeaseMs: number;
  /** How often the relay sweeps every client's outbox. */
  readonly sweepMs: number;
  /**
   * Failed attempts before a row is parked: high, so that under injected failures only rows a PSA
   * refuses for good park, and every other message is delivered.
   */
  readonly maxAttempts: number;
}

/** Cards are not what this scenario is about: every notification counts as delivered. */
const deliveredNotifier: Notifier = {
  deliver: () => Promise.resolve({ status: 'sent', activityId: 'chaos-test' }),
};

function main(): void {
  const args = JSON.parse(process.argv[2] ?? '{}') as PsaRelayChildArgs;
  const log = (line: string) => process.stderr.write(`[child ${process.pid}] ${line}\n`);
  const clock: Clock = { now: () => new Date() };
  const storage = createTableStorage({
    connectionString: args.connectionString,
    tablePrefix: args.tablePrefix,
    clock,
  });
  const connectors = new Map<PsaKind, PsaConnector>([
    ['halopsa', createHaloPsaConnector(args.halopsa)],
    ['connectwise', createConnectWiseConnector(args.connectwise)],
    ['autotask', createAutotaskConnector(args.autotask)],
  ]);
  const relay = new OutboxRelay(
    {
      outbox: storage.outbox,
      notifier: deliveredNotifier,
      clients: storage.clients,
      clock,
      openRequests: { index: storage.openRequests, requests: storage.requests },
      psa: {
        connectors,
        links: storage.psaLinks,
        requests: storage.requests,
        clients: storage.clients,
      },
    },
    {
      leaseMs: args.rowLeaseMs,
      baseDelayMs: 100,
      maxDelayMs: 1_000,
      maxAttempts: args.maxAttempts,
      log,
    },
  );
  relay.start(args.sweepMs);
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    relay.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main();
