import { asTenantId, type TenantId } from './domain/shared/ids';
import { MSP_TENANT } from './sandbox/sandbox-tenants';

/** Sandbox runs everything locally on loopback; production needs real bot credentials and storage. */
export type CabinetMode = 'sandbox' | 'production';

export interface BotAuthConfig {
  readonly appId: string;
  readonly appType: 'SingleTenant';
  readonly tenantId: string;
  readonly password?: string;
  readonly certificateThumbprint?: string;
  readonly certificatePrivateKey?: string;
}

/**
 * Cabinet's Graph application: one multi-tenant Entra app, admin-consented in each client tenant,
 * separate from the bot identity.
 */
export interface GraphConfig {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly certificateThumbprint?: string;
  readonly certificatePrivateKey?: string;
  /** Sandbox only: the local Microsoft cloud and the CA that signed its certificate. */
  readonly sandboxCloud?: { readonly url: string; readonly caCertificatePem: string };
}

/** Teams SSO for the tab: the Entra app whose `access_as_user` scope Teams requests tokens for. */
export interface TabConfig {
  readonly clientId: string;
  /** The HTTPS origin Teams loads the tab from (the manifest's domain). */
  readonly publicUrl: string;
  /** The Teams app id (the manifest's `id`), for deep links from cards into the tab. */
  readonly teamsAppId?: string;
}

/** The MSP's HaloPSA instance: an API application with client credentials (Configuration → Integrations → HaloPSA API). */
export interface HaloPsaConfig {
  /** The resource server, e.g. `https://msp.halopsa.com/api`. */
  readonly apiUrl: string;
  /** The authorisation server, e.g. `https://msp.halopsa.com/auth`. */
  readonly authUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Halo-hosted instances only: the tenant name passed to the token endpoint. */
  readonly tenant?: string;
  /** What Halo's webhook sends as its Bearer secret to `/api/psa/halopsa`. */
  readonly webhookSecret: string;
  /** The agent web app, for ticket links (`{webUrl}/ticket?id=`); the sandbox sets it. */
  readonly webUrl?: string;
}

/** The MSP's ConnectWise PSA: an API member's keys and the developer client id. */
export interface ConnectWiseConfig {
  /** The API site, e.g. `https://api-na.myconnectwise.net`. */
  readonly siteUrl: string;
  readonly companyId: string;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly clientId: string;
  /** Where people open tickets, e.g. `https://na.myconnectwise.net` (the API and web hosts differ). */
  readonly webUrl?: string;
}

/** The MSP's Autotask: an API-only user and its tracking identifier. */
export interface AutotaskConfig {
  /** The zone's REST base, e.g. `https://webservices5.autotask.net/ATServicesRest/`; found by zone lookup when absent. */
  readonly apiUrl?: string;
  readonly username: string;
  readonly secret: string;
  readonly integrationCode: string;
  /** The secret key of the ticket/ticket-note webhooks that post to `/api/psa/autotask`. */
  readonly webhookSecret: string;
  /** The Autotask web UI, for ticket links; found by zone lookup when absent. */
  readonly webUrl?: string;
}

/** The PSA instances Cabinet syncs with (issue 6); each client's settings say which one it maps to. */
export interface PsaConfig {
  readonly halopsa?: HaloPsaConfig;
  readonly connectwise?: ConnectWiseConfig;
  readonly autotask?: AutotaskConfig;
  /** How often PSA tickets are polled for notes a webhook may have missed. */
  readonly pollIntervalMs: number;
}

/** Signed audit checkpoints (issue 7): how often, where they are anchored, and the production signing key. */
export interface CheckpointConfig {
  /** A checkpoint once this many entries accumulated past the last one… */
  readonly everyEntries: number;
  /** …or once the oldest of them is this old. */
  readonly maxAgeMs: number;
  /** The blob container the append-only anchors go to (lower case). */
  readonly container: string;
  /** Where that container lives; the storage account's own when absent (production: use a separate account). */
  readonly anchorConnectionString?: string;
  /** Production: the P-256 signing key (PKCS #8 PEM) and its key manifest; the sandbox generates and keeps its own. */
  readonly keyPem?: string;
  readonly manifestJson?: string;
}

/** Everything Cabinet reads from the environment, validated once and frozen. */
export interface Config {
  readonly mode: CabinetMode;
  readonly http: { readonly host: string; readonly port: number };
  /** Absent only in sandbox mode: the bot then accepts unauthenticated local traffic from the playground. */
  readonly botAuth?: BotAuthConfig;
  /** Absent in sandbox mode until the sandbox has started Azurite. */
  readonly storage: { readonly connectionString?: string; readonly tablePrefix: string };
  readonly mspTenantId: TenantId;
  readonly relay: { readonly enabled: boolean; readonly intervalMs: number };
  /** Absent in production until configured (execution is then unavailable); the sandbox fills it in. */
  readonly graph?: GraphConfig;
  /** Send independent Graph writes together (`$batch`, in parallel); off only to compare in benches. */
  readonly execution: { readonly together: boolean };
  /** Production only, when CABINET_PUBLIC_URL is set; without it the tab is not served. */
  readonly tab?: TabConfig;
  /** PSA connections: from the environment in production, the sandbox PSA servers in the sandbox. */
  readonly psa: PsaConfig;
  readonly checkpoints: CheckpointConfig;
  readonly sandbox: {
    readonly dataDir: string;
    readonly playgrounds: boolean;
    readonly playgroundBasePort: number;
    readonly azuritePort: number;
    /** Azurite's Blob service (checkpoint anchors); 0 picks a free port. */
    readonly azuriteBlobPort: number;
    /** The sandbox Microsoft cloud's HTTPS port; 0 picks a free one (nothing outside Cabinet needs it). */
    readonly cloudPort: number;
  };
}

/** Start-up refused: the message names the variable and the fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses and validates the environment. The only reader of `process.env` in Cabinet.
 * @remarks Production refuses to start without bot authentication: botbuilder treats an empty app id
 * as "accept anonymous traffic", which must never happen outside the sandbox.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const mode = (get('CABINET_MODE') ?? 'sandbox').toLowerCase();
  if (mode !== 'sandbox' && mode !== 'production') {
    throw new ConfigError(
      `CABINET_MODE is "${mode}"; set it to "sandbox" (the default) or "production".`,
    );
  }
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} is "${raw}"; set it to a whole number between ${min} and ${max}.`);
      return fallback;
    }
    return value;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
    if (['0', 'false', 'off', 'no'].includes(raw)) return false;
    problems.push(`${name} is "${raw}"; set it to on or off.`);
    return fallback;
  };

  const port = integer('PORT', 3978, 0, 65535);
  const tablePrefix = get('CABINET_TABLE_PREFIX') ?? 'cabinet';
  if (!/^[A-Za-z][A-Za-z0-9]{2,40}$/.test(tablePrefix)) {
    problems.push(
      `CABINET_TABLE_PREFIX is "${tablePrefix}"; use 3–41 letters and digits, starting with a letter.`,
    );
  }
  const relay = {
    enabled: flag('CABINET_RELAY', true),
    intervalMs: integer('CABINET_RELAY_INTERVAL_MS', 2000, 50, 600_000),
  };
  const sandbox = {
    dataDir: get('CABINET_DATA_DIR') ?? '.cabinet',
    playgrounds: flag('CABINET_PLAYGROUNDS', true),
    playgroundBasePort: integer('CABINET_PLAYGROUND_PORT', 56150, 1024, 65000),
    azuritePort: integer('CABINET_AZURITE_PORT', 10002, 0, 65535),
    azuriteBlobPort: integer('CABINET_AZURITE_BLOB_PORT', 10000, 0, 65535),
    cloudPort: integer('CABINET_CLOUD_PORT', 0, 0, 65535),
  };
  const execution = { together: flag('CABINET_GRAPH_BATCHING', true) };
  const pollIntervalMs = integer('CABINET_PSA_POLL_INTERVAL_MS', 60_000, 5_000, 3_600_000);
  const container = (get('CABINET_CHECKPOINT_CONTAINER') ?? `${tablePrefix}anchors`).toLowerCase();
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(container))
    problems.push(
      `CABINET_CHECKPOINT_CONTAINER is "${container}"; use 3–63 lower-case letters, digits and single dashes (a blob container name).`,
    );
  const anchorConnectionString = get('CABINET_ANCHOR_CONNECTION_STRING');
  const checkpoints: CheckpointConfig = {
    everyEntries: integer('CABINET_CHECKPOINT_EVERY_ENTRIES', 100, 1, 100_000),
    maxAgeMs: integer('CABINET_CHECKPOINT_EVERY_MINUTES', 5, 1, 1440) * 60_000,
    container,
    ...(anchorConnectionString ? { anchorConnectionString } : {}),
  };
  const graphClientId = get('CABINET_GRAPH_CLIENT_ID');
  const graphSecret = get('CABINET_GRAPH_CLIENT_SECRET');
  const graphThumbprint = get('CABINET_GRAPH_CERTIFICATE_THUMBPRINT');
  const graphPrivateKey = pem(get('CABINET_GRAPH_CERTIFICATE_PRIVATE_KEY'));
  const connectionString = get('CABINET_STORAGE_CONNECTION_STRING');

  if (mode === 'sandbox') {
    if (get('MicrosoftAppPassword') || get('MicrosoftAppCertificateThumbprint')) {
      problems.push(
        'Bot credentials are set but CABINET_MODE is sandbox; sandbox never runs with production credentials. Unset MicrosoftAppPassword/MicrosoftAppCertificateThumbprint or set CABINET_MODE=production.',
      );
    }
    if (graphClientId || graphSecret || graphThumbprint) {
      problems.push(
        'Graph credentials (CABINET_GRAPH_*) are set but CABINET_MODE is sandbox; the sandbox uses its own local Microsoft cloud. Unset them or set CABINET_MODE=production.',
      );
    }
    const psaVariables = Object.keys(env).filter(
      (name) => /^CABINET_(HALOPSA|CONNECTWISE|AUTOTASK)_/.test(name) && get(name),
    );
    if (psaVariables.length > 0) {
      problems.push(
        `PSA settings (${psaVariables.join(', ')}) are set but CABINET_MODE is sandbox; the sandbox runs its own HaloPSA, ConnectWise and Autotask servers. Unset them or set CABINET_MODE=production.`,
      );
    }
    if (get('CABINET_CHECKPOINT_KEY_PEM') || get('CABINET_ANCHOR_CONNECTION_STRING')) {
      problems.push(
        'Checkpoint key or anchor settings (CABINET_CHECKPOINT_KEY_PEM, CABINET_ANCHOR_CONNECTION_STRING) are set but CABINET_MODE is sandbox; the sandbox signs with its own key and anchors in Azurite. Unset them or set CABINET_MODE=production.',
      );
    }
    if (get('HOST') && get('HOST') !== '127.0.0.1') {
      problems.push(
        `HOST is "${get('HOST')}"; the sandbox binds to 127.0.0.1 only. Unset HOST or set CABINET_MODE=production.`,
      );
    }
    fail(problems);
    return Object.freeze({
      mode,
      http: { host: '127.0.0.1', port },
      storage: { ...(connectionString ? { connectionString } : {}), tablePrefix },
      mspTenantId: MSP_TENANT,
      relay,
      execution,
      psa: { pollIntervalMs },
      checkpoints,
      sandbox,
    });
  }

  const appId = get('MicrosoftAppId');
  const appType = get('MicrosoftAppType');
  const appTenantId = get('MicrosoftAppTenantId');
  const password = get('MicrosoftAppPassword');
  const certificateThumbprint = get('MicrosoftAppCertificateThumbprint');
  const certificatePrivateKey = pem(get('MicrosoftAppCertificatePrivateKey'));
  if (!appId)
    problems.push(
      "Bot authentication is unavailable because MicrosoftAppId was not configured; set it to the Azure Bot's Microsoft App ID.",
    );
  if (appType !== 'SingleTenant') {
    problems.push(
      `MicrosoftAppType is "${appType ?? ''}"; set it to SingleTenant (new Azure Bot registrations are single-tenant).`,
    );
  }
  if (!appTenantId || !asTenantId(appTenantId)) {
    problems.push(
      "MicrosoftAppTenantId was not configured; set it to the MSP's Entra tenant id (a GUID).",
    );
  }
  if (!password && !(certificateThumbprint && certificatePrivateKey)) {
    problems.push(
      'Bot authentication is unavailable because neither MicrosoftAppPassword nor MicrosoftAppCertificateThumbprint with MicrosoftAppCertificatePrivateKey was configured; set the client secret or the certificate.',
    );
  }
  if (!connectionString) {
    problems.push(
      'Storage is unavailable because CABINET_STORAGE_CONNECTION_STRING was not configured; set it to the Azure Storage account connection string.',
    );
  } else if (/UseDevelopmentStorage=true|devstoreaccount1/i.test(connectionString)) {
    problems.push(
      'CABINET_STORAGE_CONNECTION_STRING points at the local emulator; production needs a real Azure Storage account.',
    );
  }
  const mspTenantRaw = get('CABINET_MSP_TENANT_ID') ?? appTenantId ?? '';
  const mspTenantId = asTenantId(mspTenantRaw);
  if (!mspTenantId)
    problems.push(
      "CABINET_MSP_TENANT_ID is not a tenant GUID; set it to the MSP's Entra tenant id (defaults to MicrosoftAppTenantId).",
    );
  if (graphClientId && !asTenantId(graphClientId)) {
    problems.push(
      `CABINET_GRAPH_CLIENT_ID is "${graphClientId}"; set it to the application (client) id of Cabinet's Graph app (a GUID).`,
    );
  }
  if (graphClientId && !graphSecret && !(graphThumbprint && graphPrivateKey)) {
    problems.push(
      'Graph execution is unavailable because neither CABINET_GRAPH_CLIENT_SECRET nor CABINET_GRAPH_CERTIFICATE_THUMBPRINT with CABINET_GRAPH_CERTIFICATE_PRIVATE_KEY was configured; set the client secret or the certificate, or unset CABINET_GRAPH_CLIENT_ID.',
    );
  }
  if (!graphClientId && (graphSecret || graphThumbprint)) {
    problems.push(
      "Graph credentials are set but CABINET_GRAPH_CLIENT_ID was not configured; set it to the Graph app's client id.",
    );
  }
  const publicUrl = get('CABINET_PUBLIC_URL');
  if (publicUrl && !/^https:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(publicUrl)) {
    problems.push(
      `CABINET_PUBLIC_URL is "${publicUrl}"; set it to the HTTPS origin Teams reaches Cabinet at, like https://cabinet.example.com (no path).`,
    );
  }
  const tabClientId = get('CABINET_TAB_CLIENT_ID') ?? appId;
  const teamsAppId = get('CABINET_TEAMS_APP_ID');
  if (teamsAppId && !asTenantId(teamsAppId)) {
    problems.push(
      `CABINET_TEAMS_APP_ID is "${teamsAppId}"; set it to the Teams app id you packaged Cabinet with (npm run package -- --app-id, a GUID).`,
    );
  }
  const psa = psaConnections(get, problems);
  const keyPem = pem(get('CABINET_CHECKPOINT_KEY_PEM'));
  const manifestJson = get('CABINET_CHECKPOINT_KEY_MANIFEST');
  if (!keyPem || !manifestJson)
    problems.push(
      'Audit checkpoints are unavailable because CABINET_CHECKPOINT_KEY_PEM and CABINET_CHECKPOINT_KEY_MANIFEST were not both configured; set the P-256 signing key (PKCS #8 PEM) and its key manifest (README, Audit checkpoints).',
    );
  fail(problems);
  return Object.freeze({
    mode,
    http: { host: get('HOST') ?? '0.0.0.0', port },
    botAuth: {
      appId: appId!,
      appType: 'SingleTenant' as const,
      tenantId: appTenantId!,
      ...(password ? { password } : {}),
      ...(certificateThumbprint ? { certificateThumbprint } : {}),
      ...(certificatePrivateKey ? { certificatePrivateKey } : {}),
    },
    storage: { connectionString: connectionString!, tablePrefix },
    mspTenantId: mspTenantId!,
    relay,
    execution,
    ...(graphClientId
      ? {
          graph: {
            clientId: graphClientId.toLowerCase(),
            ...(graphSecret ? { clientSecret: graphSecret } : {}),
            ...(graphThumbprint ? { certificateThumbprint: graphThumbprint } : {}),
            ...(graphPrivateKey ? { certificatePrivateKey: graphPrivateKey } : {}),
          },
        }
      : {}),
    ...(tabClientId && publicUrl
      ? { tab: { clientId: tabClientId, publicUrl, ...(teamsAppId ? { teamsAppId } : {}) } }
      : {}),
    psa: { ...psa, pollIntervalMs },
    checkpoints: { ...checkpoints, keyPem: keyPem!, manifestJson: manifestJson! },
    sandbox,
  });
}

/**
 * The PSA connections configured in production: a PSA is on when any of its variables is set, and
 * then every required one must be. URLs must be HTTPS (credentials and notes travel over them).
 */
function psaConnections(
  get: (name: string) => string | undefined,
  problems: string[],
): Omit<PsaConfig, 'pollIntervalMs'> {
  const section = <K extends string>(
    prefix: string,
    label: string,
    required: readonly K[],
    optional: readonly string[],
  ): Record<K, string> | undefined => {
    const names = [...required, ...optional].map((key) => `${prefix}${key}`);
    if (!names.some((name) => get(name))) return undefined;
    const missing = required.filter((key) => !get(`${prefix}${key}`));
    if (missing.length > 0) {
      problems.push(
        `${label} is partly configured; also set ${missing.map((key) => `${prefix}${key}`).join(', ')} (or unset all ${prefix}* variables).`,
      );
      return undefined;
    }
    return Object.fromEntries(required.map((key) => [key, get(`${prefix}${key}`)!])) as Record<
      K,
      string
    >;
  };
  const https = (name: string, value: string | undefined): void => {
    if (value !== undefined && !/^https:\/\/[^\s/]+/.test(value))
      problems.push(`${name} is "${value}"; set it to the PSA's https:// address.`);
  };
  const halo = section(
    'CABINET_HALOPSA_',
    'HaloPSA',
    ['API_URL', 'CLIENT_ID', 'CLIENT_SECRET', 'WEBHOOK_SECRET'],
    ['AUTH_URL', 'TENANT'],
  );
  const connectwise = section(
    'CABINET_CONNECTWISE_',
    'ConnectWise PSA',
    ['SITE_URL', 'COMPANY_ID', 'PUBLIC_KEY', 'PRIVATE_KEY', 'CLIENT_ID'],
    ['WEB_URL'],
  );
  const autotask = section(
    'CABINET_AUTOTASK_',
    'Autotask',
    ['USERNAME', 'SECRET', 'INTEGRATION_CODE', 'WEBHOOK_SECRET'],
    ['API_URL'],
  );
  const haloAuthUrl = get('CABINET_HALOPSA_AUTH_URL');
  const autotaskApiUrl = get('CABINET_AUTOTASK_API_URL');
  const connectwiseWebUrl = get('CABINET_CONNECTWISE_WEB_URL');
  https('CABINET_HALOPSA_API_URL', halo?.API_URL);
  https('CABINET_HALOPSA_AUTH_URL', haloAuthUrl);
  https('CABINET_CONNECTWISE_SITE_URL', connectwise?.SITE_URL);
  https('CABINET_AUTOTASK_API_URL', autotaskApiUrl);
  https('CABINET_CONNECTWISE_WEB_URL', connectwiseWebUrl);
  const tenant = get('CABINET_HALOPSA_TENANT');
  return {
    ...(halo
      ? {
          halopsa: {
            apiUrl: halo.API_URL,
            // Halo serves its token endpoint beside the API: …/api → …/auth.
            authUrl: haloAuthUrl ?? halo.API_URL.replace(/\/api\/?$/, '/auth'),
            clientId: halo.CLIENT_ID,
            clientSecret: halo.CLIENT_SECRET,
            ...(tenant ? { tenant } : {}),
            webhookSecret: halo.WEBHOOK_SECRET,
          },
        }
      : {}),
    ...(connectwise
      ? {
          connectwise: {
            siteUrl: connectwise.SITE_URL,
            companyId: connectwise.COMPANY_ID,
            publicKey: connectwise.PUBLIC_KEY,
            privateKey: connectwise.PRIVATE_KEY,
            clientId: connectwise.CLIENT_ID,
            ...(connectwiseWebUrl ? { webUrl: connectwiseWebUrl } : {}),
          },
        }
      : {}),
    ...(autotask
      ? {
          autotask: {
            ...(autotaskApiUrl ? { apiUrl: autotaskApiUrl } : {}),
            username: autotask.USERNAME,
            secret: autotask.SECRET,
            integrationCode: autotask.INTEGRATION_CODE,
            webhookSecret: autotask.WEBHOOK_SECRET,
          },
        }
      : {}),
  };
}

/** Hosts such as App Service keep a PEM on one line with `\n` escapes; PEM parsers need real line breaks. */
function pem(value: string | undefined): string | undefined {
  return value?.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : value;
}

function fail(problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new ConfigError(`Cabinet cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
