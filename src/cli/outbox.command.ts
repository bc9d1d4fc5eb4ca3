import { parseArgs } from 'node:util';
import type { ClientDirectory } from '../application/ports/client-directory';
import type {
  OutboxMessage,
  OutboxRow,
  OutboxStatus,
  OutboxStore,
} from '../application/ports/outbox';
import { asTenantId, type TenantId } from '../domain/shared/ids';

/** The ports `outbox` commands use, so tests can run them on any storage. */
export interface OutboxCommandDeps {
  readonly outbox: OutboxStore;
  readonly clients: ClientDirectory;
  readonly now: () => Date;
  readonly out: (line: string) => void;
}

/** Help text for the outbox group. */
export const OUTBOX_USAGE = `cabinet outbox <command>
  list  [--tenant <guid>] [--status pending|waiting_for_recipient|done|parked]   every client's rows unless --tenant
  retry --tenant <guid> --id <id>                  make a parked or failing row due now, with a fresh attempt budget`;

const STATUSES: readonly OutboxStatus[] = ['pending', 'waiting_for_recipient', 'done', 'parked'];

/** `cabinet outbox …`: see what the relay has still to deliver and retry what it gave up on. Returns the exit code. */
export async function runOutboxCommand(
  args: readonly string[],
  deps: OutboxCommandDeps,
): Promise<number> {
  const [command, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { tenant: { type: 'string' }, status: { type: 'string' }, id: { type: 'string' } },
    allowPositionals: false,
  });
  const tenantId = values.tenant ? asTenantId(values.tenant) : undefined;
  if (values.tenant && !tenantId)
    return usage(
      deps,
      `--tenant takes the client's tenant id (a GUID); "${values.tenant}" is not one.`,
    );
  if (command === 'list') {
    const status = values.status as OutboxStatus | undefined;
    if (status !== undefined && !STATUSES.includes(status))
      return usage(deps, `--status takes one of ${STATUSES.join(', ')}.`);
    const tenants: TenantId[] = tenantId
      ? [tenantId]
      : (await deps.clients.list()).map((client) => client.tenantId);
    let shown = 0;
    for (const tenant of tenants) {
      for (const row of await deps.outbox.list(tenant, status ? { statuses: [status] } : {})) {
        deps.out(describe(row));
        shown += 1;
      }
    }
    if (shown === 0) deps.out(`No outbox rows${status ? ` with status ${status}` : ''}.`);
    return 0;
  }
  if (command === 'retry') {
    if (!tenantId || !values.id)
      return usage(deps, 'outbox retry needs --tenant <guid> and --id <id> (see outbox list).');
    if (await deps.outbox.retry(tenantId, values.id, deps.now())) {
      deps.out(`Outbox row ${values.id} is due again; the relay picks it up on its next pass.`);
      return 0;
    }
    deps.out(
      `No retryable outbox row ${values.id} for tenant ${tenantId}: it does not exist or was already delivered.`,
    );
    return 1;
  }
  return usage(deps, OUTBOX_USAGE);
}

function describe(row: OutboxRow): string {
  return [
    `${row.tenantId} ${row.id} ${row.status.padEnd(21)} attempts ${row.attempts}${row.reschedules ? ` reschedules ${row.reschedules}` : ''} next ${row.nextAttemptAt}`,
    `  ${what(row.message)}`,
    ...(row.lastError ? [`  last error: ${row.lastError}`] : []),
  ].join('\n');
}

function what(message: OutboxMessage): string {
  switch (message.kind) {
    case 'teams.notify': {
      const { notification, recipient } = message;
      return `${notification.template} for ${notification.requestId} v${notification.version} to ${recipient.tid}/${recipient.oid}`;
    }
    case 'graph.execute':
      return `graph run ${message.runId} for ${message.requestId}`;
    case 'index.sync':
      return `index sync for ${message.requestId}`;
    case 'teams.channel':
      return `${message.notification.template} for ${message.notification.requestId} to the ${message.channel} channel`;
    case 'psa.sync':
      return message.op === 'ticket'
        ? `open the PSA ticket for ${message.requestId}`
        : `PSA note for ${message.requestId}${message.status ? ` (status ${message.status})` : ''}`;
  }
}

function usage(deps: OutboxCommandDeps, message: string): number {
  deps.out(message);
  return 2;
}
