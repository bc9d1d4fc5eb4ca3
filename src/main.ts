import { loadConfig, ConfigError, type Config, type PsaConfig } from './config';
import type { PsaConnector, PsaConnectors } from './application/ports/psa';
import { PsaPoller, type PsaInboundDeps } from './application/use-cases/psa-inbound';
import { createAutotaskConnector } from './adapters/psa/autotask-connector';
import { createConnectWiseConnector } from './adapters/psa/connectwise-connector';
import { createHaloPsaConnector } from './adapters/psa/halopsa-connector';
import type { PsaKind } from './domain/psa/psa';
import { psaWebhookRoute } from './surfaces/http/psa-webhook.route';
import { Checkpointer } from './application/use-cases/checkpoints';
import { MonthlyReporter } from './application/use-cases/monthly-reporter';
import { tabReportUrl } from './surfaces/reports/report-links';
import { evidenceDepsOptions, openEvidenceDeps } from './cli/evidence-deps';
import { webhookRoute } from './surfaces/http/webhook.route';
import type { Clock } from './application/ports/clock';
import type { OpenRequestIndex } from './application/ports/open-request-index';
import type { OutboxStore } from './application/ports/outbox';
import type { WebhookKeyStore } from './application/ports/webhook-keys';
import type { EvidenceExportDeps } from './application/use-cases/evidence-export';
import { FollowUpSweeper } from './application/use-cases/follow-ups';
import { SlaSweeper } from './application/use-cases/sla-sweeper';
import { OutboxRelay } from './application/use-cases/relay-outbox';
import type { UseCaseDeps } from './application/use-cases/context';
import { ExecutionWorker, type ExecutionDeps } from './application/use-cases/execution';
import { createTableStorage } from './adapters/storage/table-storage';
import {
  createGraphDirectory,
  type GraphTenantDirectory,
} from './adapters/graph/graph-tenant-directory';
import { createBotAdapter } from './surfaces/bot/bot-adapter';
import { createBotApplication } from './surfaces/bot/bot-app';
import { TeamsNotifier } from './surfaces/bot/teams-notifier';
import { serviceUrlPolicy, startHttpServer } from './surfaces/http/server';
import { ENTRA_AUTHORITY } from './surfaces/tab/sso-token';
import { tabRequestUrl, teamsRequestDeepLink } from './surfaces/tab/tab-links';
import { createTabSurface, type SandboxSignIn } from './surfaces/tab/tab-surface';
import { TEAMS_CLIENT_IDS, type RunningMicrosoftCloud } from './sandbox/microsoft-cloud';
import { CONTOSO, MSP, SANDBOX_TAB_CLIENT_ID, type SandboxPerson } from './sandbox/sandbox-tenants';
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

const FOLLOW_UP_INTERVAL_MS = 60_000;
const SLA_SWEEP_INTERVAL_MS = 30_000;
/** Checkpoints fall due every N entries or T minutes (default 5); a check a minute keeps within T. */
const CHECKPOINT_CHECK_INTERVAL_MS = 60_000;
/** A month's report is due once the month has ended in the client's zone; an hourly look is enough. */
const MONTHLY_REPORT_CHECK_INTERVAL_MS = 60 * 60_000;
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
  // The server's own address is known only once it listens (port 0 in tests); links read it late.
  let serverUrl = '';
  const wizardLink = wizardLinks(config, () => serverUrl);
  const notifier = new TeamsNotifier({
    adapter,
    appId: config.botAuth?.appId ?? '',
    conversations: storage.conversations,
    requests: storage.requests,
    clients: storage.clients,
    delegations: storage.delegations,
    clock,
    ...(wizardLink ? { wizardLink } : {}),
    templates: storage.catalogue(config.mspTenantId),
    channels: storage.channels,
    // Production cards say where the report is (Change log page) rather than link outside Teams.
    ...(config.mode === 'sandbox'
      ? { reportLink: (month: string) => tabReportUrl(serverUrl, month) }
      : {}),
  });
  const directory = config.graph ? graphDirectory(config, log) : undefined;
  const useCases: UseCaseDeps & { readonly outbox: typeof storage.outbox } = {
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    templates: storage.catalogue(config.mspTenantId),
    outbox: storage.outbox,
    clock,
    mspTenantId: config.mspTenantId,
    // `relay` is assigned below; commits happen only after start-up, so it is there by then.
    outboxWritten: (tenantId) => relay?.kick(tenantId),
  };
  const execution: (ExecutionDeps & { readonly outbox: typeof storage.outbox }) | undefined =
    directory
      ? {
          ...useCases,
          runs: storage.runs,
          passwords: storage.passwords,
          directory,
          execution: { together: config.execution.together },
        }
      : undefined;
  const worker = execution ? new ExecutionWorker(execution) : undefined;
  const connectors = psaConnectors(config.psa);
  const psaInbound: PsaInboundDeps = {
    requests: storage.requests,
    clients: storage.clients,
    connectors,
    links: storage.psaLinks,
    clock,
    outboxWritten: useCases.outboxWritten,
  };
  const relay = config.relay.enabled
    ? new OutboxRelay(
        {
          outbox: storage.outbox,
          notifier,
          clients: storage.clients,
          clock,
          ...(worker ? { runs: worker } : {}),
          openRequests: { index: storage.openRequests, requests: storage.requests },
          // Always given, even with no PSA configured: a client mapped to a PSA this instance cannot
          // reach gets its rows parked with what to configure, not left pending unexplained.
          psa: {
            connectors,
            links: storage.psaLinks,
            requests: storage.requests,
            clients: storage.clients,
          },
        },
        { log },
      )
    : undefined;
  // Reminders and escalations fall due in hours; a minute's granularity is plenty.
  const followUps = config.relay.enabled ? new FollowUpSweeper(useCases, log) : undefined;
  // SLA targets run in minutes (15 min to acknowledge an incident): a 30 s sweep sees an at-risk mark in time.
  const slaSweeper = config.relay.enabled
    ? new SlaSweeper(
        { ...useCases, openRequests: storage.openRequests, lease: storage.leases },
        { log },
      )
    : undefined;
  const evidence = await openEvidenceDeps(
    storage,
    evidenceDepsOptions(config, { clock, outboxWritten: useCases.outboxWritten }),
  );
  // Signed checkpoints every N entries or T minutes, one instance at a time (issue 7).
  const checkpointer = config.relay.enabled
    ? new Checkpointer(
        { ...evidence, clients: storage.clients, lease: storage.leases },
        {
          log,
          everyEntries: config.checkpoints.everyEntries,
          maxAgeMs: config.checkpoints.maxAgeMs,
        },
      )
    : undefined;
  const monthlyReporter = config.relay.enabled
    ? new MonthlyReporter(
        { ...useCases, monthlyReports: storage.monthlyReports, lease: storage.leases },
        { log },
      )
    : undefined;
  // Webhooks bring PSA notes at once; polling catches what a lost webhook missed, one instance at a time.
  const psaPoller =
    config.relay.enabled && connectors.size > 0
      ? new PsaPoller({ ...psaInbound, lease: storage.leases }, { log })
      : undefined;
  if (config.mode === 'sandbox') await seedSandbox(useCases);

  const bot = createBotApplication({
    useCases,
    ...(execution ? { execution } : {}),
    adapter,
    log,
    channels: storage.channels,
  });
  const tab = tabSurface(config, options.sandbox?.cloud, {
    useCases,
    execution,
    openRequests: storage.openRequests,
    outbox: storage.outbox,
    webhookKeys: storage.webhookKeys,
    evidence,
    log,
  });
  const http = await startHttpServer(
    {
      bot,
      adapter,
      readiness: () => storage.ping(),
      allowServiceUrl: serviceUrlPolicy(config.mode),
      ...(tab ? { tab } : {}),
      rawRoutes: [
        webhookRoute({
          intake: { ...useCases, ledger: storage.webhookLedger },
          keys: storage.webhookKeys,
          log,
        }),
        psaWebhookRoute({ ...psaInbound, log }),
      ],
      log,
    },
    config.http,
  );
  serverUrl = http.url;
  relay?.start(config.relay.intervalMs);
  followUps?.start(FOLLOW_UP_INTERVAL_MS);
  slaSweeper?.start(SLA_SWEEP_INTERVAL_MS);
  psaPoller?.start(config.psa.pollIntervalMs);
  checkpointer?.start(CHECKPOINT_CHECK_INTERVAL_MS);
  monthlyReporter?.start(MONTHLY_REPORT_CHECK_INTERVAL_MS);
  options.sandbox?.psas?.deliverWebhooksTo(http.url);
  return {
    url: http.url,
    stop: async () => {
      await http.close();
      await followUps?.stop();
      await slaSweeper?.stop();
      await psaPoller?.stop();
      await checkpointer?.stop();
      await monthlyReporter?.stop();
      await relay?.stop();
      await directory?.close();
    },
  };
}

/** One connector per PSA the MSP configured; clients name theirs in their `psa` settings. */
function psaConnectors(psa: PsaConfig): PsaConnectors {
  const connectors = new Map<PsaKind, PsaConnector>();
  if (psa.halopsa) connectors.set('halopsa', createHaloPsaConnector(psa.halopsa));
  if (psa.connectwise) connectors.set('connectwise', createConnectWiseConnector(psa.connectwise));
  if (psa.autotask) connectors.set('autotask', createAutotaskConnector(psa.autotask));
  return connectors;
}

function graphDirectory(config: Config, log: (message: string) => void): GraphTenantDirectory {
  const graph = config.graph!;
  return createGraphDirectory({
    clientId: graph.clientId,
    credential: graph.clientSecret
      ? { kind: 'secret', clientSecret: graph.clientSecret }
      : {
          kind: 'certificate',
          thumbprint: graph.certificateThumbprint ?? '',
          privateKeyPem: graph.certificatePrivateKey ?? '',
        },
    cloud: graph.sandboxCloud ? { kind: 'sandbox', ...graph.sandboxCloud } : { kind: 'public' },
    log,
  });
}

/**
 * Where a card's Open wizard button leads: the request's page on the local server in the sandbox,
 * a Teams deep link into the Requests tab in production (only Teams can sign the technician in).
 */
function wizardLinks(
  config: Config,
  serverUrl: () => string,
): ((requestId: string) => string) | undefined {
  if (config.mode === 'sandbox') return (requestId) => tabRequestUrl(serverUrl(), requestId);
  const teamsAppId = config.tab?.teamsAppId;
  return teamsAppId ? (requestId) => teamsRequestDeepLink(teamsAppId, requestId) : undefined;
}

/** People the sandbox sign-in picker offers: the MSP's staff and Contoso's admin and approver. */
const SANDBOX_SIGN_IN: readonly { key: string; person: SandboxPerson; description: string }[] = [
  { key: 'tina', person: MSP.tina, description: 'MSP technician — Contoso' },
  { key: 'theo', person: MSP.theo, description: 'MSP technician — Contoso and Fabrikam' },
  { key: 'lena', person: MSP.lena, description: 'MSP lead — all clients' },
  { key: 'carla', person: CONTOSO.carla, description: 'Client admin — Contoso' },
  { key: 'andy', person: CONTOSO.andy, description: 'Client approver — Contoso' },
];

/** The Teams tab, in the sandbox signed in through the sandbox cloud; in production only when configured. */
function tabSurface(
  config: Config,
  cloud: RunningMicrosoftCloud | undefined,
  deps: {
    readonly useCases: UseCaseDeps;
    readonly execution: ExecutionDeps | undefined;
    readonly openRequests: OpenRequestIndex;
    readonly outbox: OutboxStore;
    readonly webhookKeys: WebhookKeyStore;
    readonly evidence: EvidenceExportDeps;
    readonly log: (message: string) => void;
  },
) {
  const common = {
    useCases: deps.useCases,
    ...(deps.execution ? { execution: deps.execution } : {}),
    openRequests: deps.openRequests,
    outbox: deps.outbox,
    webhookKeys: deps.webhookKeys,
    evidence: deps.evidence,
    log: deps.log,
  };
  if (config.mode === 'sandbox') {
    if (!cloud) return undefined;
    const signIn: SandboxSignIn = {
      people: SANDBOX_SIGN_IN.map(({ key, person, description }) => ({
        key,
        name: person.name,
        description,
      })),
      issue: (key) => {
        const person = SANDBOX_SIGN_IN.find((p) => p.key === key)!.person;
        return cloud.issueUserToken({
          tid: person.tid,
          oid: person.oid,
          name: person.name,
          preferredUsername: person.upn,
          audience: `api://127.0.0.1/${SANDBOX_TAB_CLIENT_ID}`,
          scopes: ['access_as_user'],
          clientAppId: TEAMS_CLIENT_IDS.web,
        });
      },
    };
    return createTabSurface({
      ...common,
      auth: {
        clientId: SANDBOX_TAB_CLIENT_ID,
        applicationIdHost: '127.0.0.1',
        authority: {
          jwksUri: (tid) => cloud.jwksUrl(tid),
          issuer: (tid, version) => cloud.sandboxIssuer(tid, version),
          ca: cloud.caCertificatePem,
        },
      },
      sandboxSignIn: signIn,
    });
  }
  if (!config.tab) return undefined;
  return createTabSurface({
    ...common,
    auth: {
      clientId: config.tab.clientId,
      applicationIdHost: new URL(config.tab.publicUrl).host,
      authority: ENTRA_AUTHORITY,
    },
  });
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
