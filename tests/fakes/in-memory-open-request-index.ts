import {
  isOlderThan,
  openRequestEntry,
  slaOutcome,
  type ListOpenRequestsOptions,
  type ListSlaOutcomesOptions,
  type OpenRequestEntry,
  type OpenRequestIndex,
  type SlaOutcome,
} from '../../src/application/ports/open-request-index';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import type { ChangeRequestId, TenantId } from '../../src/domain/shared/ids';

/**
 * The open-request index in memory, under the same newer-wins, terminal-removes and
 * outcome-on-end rules as the Table index.
 */
export class InMemoryOpenRequestIndex implements OpenRequestIndex {
  readonly entries = new Map<string, OpenRequestEntry>();
  readonly ended = new Map<string, SlaOutcome>();

  sync(request: ChangeRequest): Promise<void> {
    const key = `${request.tenantId}|${request.id}`;
    const existing = this.entries.get(key);
    if (existing && isOlderThan(request, existing)) return Promise.resolve();
    const entry = openRequestEntry(request);
    if (entry) this.entries.set(key, structuredClone(entry));
    else this.entries.delete(key);
    const outcome = slaOutcome(request);
    const recorded = this.ended.get(key);
    if (
      outcome &&
      !(
        recorded && isOlderThan(request, { version: recorded.version, updatedAt: recorded.endedAt })
      )
    )
      this.ended.set(key, structuredClone(outcome));
    return Promise.resolve();
  }

  outcomes(options: ListSlaOutcomesOptions): Promise<SlaOutcome[]> {
    return Promise.resolve(
      structuredClone(
        [...this.ended.values()].filter(
          (outcome) =>
            outcome.endedAt >= options.since &&
            (!options.tenantIds || options.tenantIds.includes(outcome.tenantId)),
        ),
      ),
    );
  }

  list(options: ListOpenRequestsOptions = {}): Promise<OpenRequestEntry[]> {
    return Promise.resolve(
      structuredClone(
        [...this.entries.values()].filter(
          (entry) => !options.tenantIds || options.tenantIds.includes(entry.tenantId),
        ),
      ),
    );
  }

  get(tenantId: TenantId, requestId: ChangeRequestId): Promise<OpenRequestEntry | undefined> {
    const found = this.entries.get(`${tenantId}|${requestId}`);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }
}
