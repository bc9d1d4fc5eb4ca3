import { parseArgs } from 'node:util';
import type { ClientDirectory } from '../application/ports/client-directory';
import { ConflictError } from '../application/ports/errors';
import type {
  IssuedWebhookSecret,
  WebhookKey,
  WebhookKeyStore,
} from '../application/ports/webhook-keys';
import { asClientCode } from '../domain/shared/ids';

/** The ports `webhooks` commands use, so tests can run them on any storage. */
export interface WebhooksCommandDeps {
  readonly keys: WebhookKeyStore;
  readonly clients: ClientDirectory;
  readonly now: () => Date;
  readonly out: (line: string) => void;
}

/** Help text for the webhooks group. */
export const WEBHOOKS_USAGE = `cabinet webhooks <command> --client <code>
  create --client <code>                          a webhook URL and its first secret (shown once)
  rotate --client <code> [--grace-hours <n>]      a new secret (shown once); older ones stop after n hours (default 24)
  retire --client <code> [--kid <id>]             stop a secret now (default: every one but the newest)
  show   --client <code>                          the URL path and each key id with its state (never the secrets)`;

const VERBS = ['create', 'rotate', 'retire', 'show'] as const;

/** `cabinet webhooks …`: issue, rotate and retire a client's signed-webhook secrets. Returns the exit code. */
export async function runWebhooksCommand(
  args: readonly string[],
  deps: WebhooksCommandDeps,
): Promise<number> {
  const [command, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      client: { type: 'string' },
      kid: { type: 'string' },
      'grace-hours': { type: 'string' },
    },
    allowPositionals: false,
  });
  const verb = VERBS.find((v) => v === command);
  if (!verb) return usage(deps, WEBHOOKS_USAGE);
  const code = asClientCode((values.client ?? '').toUpperCase());
  if (!code) return usage(deps, `webhooks ${verb} needs --client <code> (see clients list).`);
  const client = await deps.clients.getByCode(code);
  if (!client) return usage(deps, `No client with code ${code}.`);
  const tenantId = client.profile.tenantId;
  const now = deps.now();
  switch (verb) {
    case 'create':
      try {
        issued(deps, await deps.keys.create(tenantId, now));
        return 0;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        deps.out(`${code} already has a webhook key; use webhooks rotate for a new secret.`);
        return 1;
      }
    case 'rotate': {
      const hours = values['grace-hours'] === undefined ? 24 : Number(values['grace-hours']);
      if (!Number.isFinite(hours) || hours < 0 || hours > 24 * 30)
        return usage(deps, '--grace-hours takes a number of hours from 0 to 720.');
      const rotated = await deps.keys.rotate(tenantId, now, hours * 60 * 60 * 1000);
      if (!rotated) return none(deps, code);
      issued(deps, rotated);
      return 0;
    }
    case 'retire': {
      const key = await deps.keys.retire(tenantId, now, values.kid);
      if (!key) {
        deps.out(
          `Nothing retired: ${code} has no webhook key${values.kid ? `, no key id ${values.kid}, or it is the newest (rotate first)` : ''}.`,
        );
        return 1;
      }
      describe(deps, key, now);
      return 0;
    }
    case 'show': {
      const key = await deps.keys.get(tenantId);
      if (!key) return none(deps, code);
      describe(deps, key, now);
      return 0;
    }
  }
}

function issued(deps: WebhooksCommandDeps, { key, issued: secret }: IssuedWebhookSecret): void {
  deps.out(`URL path: /api/webhooks/${key.clientKey}`);
  deps.out(`Key id:   ${secret.kid}`);
  deps.out(`Secret:   ${secret.secret.reveal()}`);
  deps.out('The secret is shown only now: keep it on the server that signs (never in a browser).');
  const retiring = key.secrets.filter((s) => s.kid !== secret.kid && s.retiresAt);
  for (const s of retiring) deps.out(`Key id ${s.kid} keeps working until ${s.retiresAt}.`);
}

function describe(deps: WebhooksCommandDeps, key: WebhookKey, now: Date): void {
  deps.out(`URL path: /api/webhooks/${key.clientKey}`);
  const at = now.toISOString();
  for (const s of key.secrets) {
    const state =
      s.retiresAt === undefined
        ? 'active'
        : s.retiresAt > at
          ? `active until ${s.retiresAt}`
          : `retired ${s.retiresAt}`;
    deps.out(`  ${s.kid}  created ${s.createdAt}  ${state}`);
  }
}

function none(deps: WebhooksCommandDeps, code: string): number {
  deps.out(`${code} has no webhook key; create one with webhooks create --client ${code}.`);
  return 1;
}

function usage(deps: WebhooksCommandDeps, message: string): number {
  deps.out(message);
  return 2;
}
