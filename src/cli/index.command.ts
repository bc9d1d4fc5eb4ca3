import type { ChangeRequestStore } from '../application/ports/change-request-store';
import type { ClientDirectory } from '../application/ports/client-directory';
import type { OpenRequestIndex } from '../application/ports/open-request-index';
import {
  CHANGE_STATUSES,
  isTerminal,
  type ChangeStatus,
} from '../domain/change-request/change-request';

/** The ports `index` commands use, so tests can run them on any storage. */
export interface IndexCommandDeps {
  readonly clients: Pick<ClientDirectory, 'list'>;
  readonly requests: Pick<ChangeRequestStore, 'list' | 'get'>;
  readonly index: OpenRequestIndex;
  readonly out: (line: string) => void;
}

/** Help text for the index group. */
export const INDEX_USAGE = `cabinet index <command>
  rebuild   sync every open request of every client into the open-request index (for data written
            before the index existed); entries of requests that have closed since are removed`;

const OPEN_STATUSES: readonly ChangeStatus[] = CHANGE_STATUSES.filter((s) => !isTerminal(s));

/**
 * `cabinet index rebuild`: the one-off backfill of the open-request index. Safe to run while Cabinet
 * runs and to run again: syncing never replaces a newer entry with an older one. Returns the exit code.
 */
export async function runIndexCommand(
  args: readonly string[],
  deps: IndexCommandDeps,
): Promise<number> {
  const [command, ...rest] = args;
  if (command !== 'rebuild' || rest.length > 0) {
    deps.out(INDEX_USAGE);
    return 2;
  }
  const clients = await deps.clients.list();
  const open = new Set<string>();
  for (const client of clients) {
    const requests = await deps.requests.list(client.tenantId, {
      statuses: OPEN_STATUSES,
      limit: Number.MAX_SAFE_INTEGER,
    });
    for (const request of requests) {
      await deps.index.sync(request);
      open.add(`${request.tenantId}|${request.id}`);
    }
    deps.out(`${client.code}: ${requests.length} open request(s) synced.`);
  }
  let removed = 0;
  let orphaned = 0;
  for (const entry of await deps.index.list()) {
    if (open.has(`${entry.tenantId}|${entry.requestId}`)) continue;
    const stored = await deps.requests.get(entry.tenantId, entry.requestId);
    if (!stored) {
      orphaned += 1;
      deps.out(`${entry.requestId}: in the index but no longer stored; left as it is.`);
      continue;
    }
    await deps.index.sync(stored.request);
    if (isTerminal(stored.request.status)) removed += 1;
  }
  deps.out(
    `Open-request index rebuilt: ${open.size} open request(s) of ${clients.length} client(s) synced, ${removed} closed one(s) removed${orphaned > 0 ? `, ${orphaned} without a stored request` : ''}.`,
  );
  return 0;
}
