import { loadConfig, ConfigError, type Config } from './config';
import type { Clock } from './application/ports/clock';
import { OutboxRelay } from './application/use-cases/relay-outbox';
import type { UseCaseDeps } from './application/use-cases/context';
import { createTableStorage } from './adapters/storage/table-storage';
import { createBotAdapter } from './surfaces/bot/bot-adapter';
import { createBotApplication } from './surfaces/bot/bot-app';
import { TeamsNotifier } from './surfaces/bot/teams-notifier';
import { serviceUrlPolicy, startHttpServer } from './surfaces/http/server';
import { runSandbox, type RunningCabinet, type SandboxServices } from './sandbox/launcher';
import { seedSandbox } from './sandbox/seed';

const systemClock: Clock = { now: () => new Date() };
const INTERACTIVE_COMMIT_BUDGET_MS = 5_000;

export interface StartCabinetOptions {
  readonly log?: (message: string) => void;
  readonly clock?: Clock;
  /** Sandbox only: services the launcher started beside Cabinet. */
  readonly sandbox?: SandboxServices;
}

/**
 * The composition root: builds the storage adapters, use cases, bot, HTTP server and background
 * relay from a validated config, and starts them.
 */
export async function startCabinet(
  config: Config,
  options: StartCabinetOptions = {},
): Promise<RunningCabinet> {
  const log = options.log ?? ((message: string) => console.error(`[cabinet] ${message}`));
  const clock = options.clock ?? systemClock;
  if (!config.storage.connectionString) {
    throw new ConfigError(
      'Storage is unavailable because CABINET_STORAGE_CONNECTION_STRING was not configured.',
    );
  }
  const storage = createTableStorage({
    connectionString: config.storage.connectionString,
    tablePrefix: config.storage.tablePrefix,
    clock,
    // Teams gives an invoke about 15 s before it retries; give up well before, with a clear card.
    commit: { budgetMs: INTERACTIVE_COMMIT_BUDGET_MS },
  });
  await storage.ensureTables();

  const adapter = createBotAdapter(config.botAuth);
  const notifier = new TeamsNotifier({
    adapter,
    appId: config.botAuth?.appId ?? '',
    conversations: storage.conversations,
    requests: storage.requests,
    clients: storage.clients,
  });
  const relay = config.relay.enabled
    ? new OutboxRelay(
        { outbox: storage.outbox, notifier, clients: storage.clients, clock },
        { log },
      )
    : undefined;
  const useCases: UseCaseDeps & { readonly outbox: typeof storage.outbox } = {
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    outbox: storage.outbox,
    clock,
    mspTenantId: config.mspTenantId,
    outboxWritten: (tenantId) => relay?.kick(tenantId),
  };
  if (config.mode === 'sandbox') await seedSandbox(useCases);

  const bot = createBotApplication({ useCases, adapter, log });
  const http = await startHttpServer(
    {
      bot,
      adapter,
      readiness: () => storage.ping(),
      allowServiceUrl: serviceUrlPolicy(config.mode),
      log,
    },
    config.http,
  );
  relay?.start(config.relay.intervalMs);
  return {
    url: http.url,
    stop: async () => {
      await http.close();
      await relay?.stop();
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error: unknown) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  if (config.mode === 'sandbox') {
    await runSandbox(config, (c, sandbox) => startCabinet(c, sandbox ? { sandbox } : {}));
    return;
  }
  const running = await startCabinet(config);
  console.log(`Cabinet (production) listening on ${running.url}`);
  const stop = () => {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
