import { parseArgs } from 'node:util';
import type { ClientDirectory } from '../application/ports/client-directory';
import type { WebhookKeyStore } from '../application/ports/webhook-keys';
import {
  createWebhookKey,
  retireWebhookKeys,
  rotateWebhookKey,
  webhookKeyStatus,
  type IssuedWebhookKeyView,
  type WebhookKeyView,
} from '../application/use-cases/webhook-keys';
import type { AuditActor } from '../domain/audit/audit-event';
import type { DomainError } from '../domain/shared/errors';
import type { TenantId } from '../domain/shared/ids';
import type { Result } from '../domain/shared/result';

/** The ports `webhooks` commands use, so tests can run them on any storage. */
export interface WebhooksCommandDeps {
  readonly keys: WebhookKeyStore;
  readonly clients: ClientDirectory;
  readonly mspTenantId: TenantId;
  /** Who the audit chain names for each key change: the operator at the MSP. */
  readonly operator: AuditActor;
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
  const code = (values.client ?? '').trim();
  if (!code) return usage(deps, `webhooks ${verb} needs --client <code> (see clients list).`);
  const uc = {
    webhookKeys: deps.keys,
    clients: deps.clients,
    mspTenantId: deps.mspTenantId,
    clock: { now: deps.now },
  };
  const actor = { kind: 'operator', operator: deps.operator } as const;
  const ref = { code };
  switch (verb) {
    case 'create':
      return report(deps, await createWebhookKey(uc, actor, ref), issued);
    case 'rotate': {
      const hours = values['grace-hours'] === undefined ? 24 : Number(values['grace-hours']);
      if (!Number.isFinite(hours) || hours < 0 || hours > 24 * 30)
        return usage(deps, '--grace-hours takes a number of hours from 0 to 720.');
      return report(deps, await rotateWebhookKey(uc, actor, ref, hours * 60 * 60 * 1000), issued);
    }
    case 'retire':
      return report(deps, await retireWebhookKeys(uc, actor, ref, values.kid), describe);
    case 'show': {
      const status = await webhookKeyStatus(uc, actor, ref);
      if (status.ok && !status.value.urlPath) {
        deps.out(
          `${status.value.clientCode} has no webhook key; create one with webhooks create --client ${status.value.clientCode}.`,
        );
        return 1;
      }
      return report(deps, status, describe);
    }
  }
}

/** Prints the outcome; an unknown client is a usage error (2), any other refusal a failure (1). */
function report<T>(
  deps: WebhooksCommandDeps,
  result: Result<T, DomainError>,
  print: (deps: WebhooksCommandDeps, value: T) => void,
): number {
  if (result.ok) {
    print(deps, result.value);
    return 0;
  }
  deps.out(result.error.message);
  return result.error.code === 'CLIENT.NOT_FOUND' ? 2 : 1;
}

function issued(deps: WebhooksCommandDeps, view: IssuedWebhookKeyView): void {
  deps.out(`URL path: ${view.urlPath ?? ''}`);
  deps.out(`Key id:   ${view.issued.kid}`);
  deps.out(`Secret:   ${view.issued.secret.reveal()}`);
  deps.out('The secret is shown only now: keep it on the server that signs (never in a browser).');
  for (const s of view.secrets)
    if (s.kid !== view.issued.kid && s.state === 'retiring')
      deps.out(`Key id ${s.kid} keeps working until ${s.retiresAt ?? ''}.`);
}

function describe(deps: WebhooksCommandDeps, view: WebhookKeyView): void {
  deps.out(`URL path: ${view.urlPath ?? ''}`);
  for (const s of view.secrets) {
    const state =
      s.state === 'active'
        ? 'active'
        : s.state === 'retiring'
          ? `active until ${s.retiresAt ?? ''}`
          : `retired ${s.retiresAt ?? ''}`;
    deps.out(`  ${s.kid}  created ${s.createdAt}  ${state}`);
  }
}

function usage(deps: WebhooksCommandDeps, message: string): number {
  deps.out(message);
  return 2;
}
