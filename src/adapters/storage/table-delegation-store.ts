import { odata, type TableClient } from '@azure/data-tables';
import { sealEvents } from '../../application/audit/seal-events';
import type { DataKeyring } from '../../application/ports/data-keyring';
import type { DelegationStore } from '../../application/ports/delegation-store';
import { isInForce, type Delegation } from '../../domain/approval/delegation.policy';
import type { AuditEvent } from '../../domain/audit/audit-event';
import type { TenantId } from '../../domain/shared/ids';
import type { Row } from './entity-group';
import type { PartitionCommitter } from './partition-committer';
import { readRow } from './table-connection';
import { jsonProperties, readJson } from './table-entity.mapper';
import { guarded } from './table-errors';
import { delegationRowKey, isOutboxId, prefixRange, RowKeys, tenantKey } from './table-keys';

/**
 * Delegations at `dl_{id}` in the client's partition, each written with its audit entries through
 * the partition committer, so a delegation never exists (or ends) without its chain entry.
 */
export class TableDelegationStore implements DelegationStore {
  constructor(
    private readonly table: TableClient,
    private readonly committer: PartitionCommitter,
    private readonly keyring: DataKeyring,
  ) {}

  list(clientTenantId: TenantId): Promise<Delegation[]> {
    const partition = tenantKey(clientTenantId);
    const { from, to } = prefixRange(RowKeys.delegationPrefix);
    return guarded('list delegations', async () => {
      const found: Delegation[] = [];
      for await (const row of this.table.listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partition} and RowKey ge ${from} and RowKey lt ${to}`,
        },
      }))
        found.push(readJson<Delegation>(row));
      return found;
    });
  }

  async inForce(clientTenantId: TenantId, now: string): Promise<Delegation[]> {
    return (await this.list(clientTenantId)).filter((d) => isInForce(d, now));
  }

  async create(delegation: Delegation, audit: readonly AuditEvent[]): Promise<Delegation> {
    const tenantId = delegation.clientTenantId;
    const events = await sealEvents(tenantId, audit, this.keyring);
    await this.committer.commit(tenantId, () => ({
      ops: [
        {
          kind: 'create',
          entity: delegationEntity(delegation),
          onConflict: 'conflict',
          conflictMessage: `Delegation ${delegation.id} already exists.`,
        },
      ],
      events,
      outbox: [],
    }));
    return structuredClone(delegation);
  }

  async revoke(
    clientTenantId: TenantId,
    id: string,
    at: string,
    audit: readonly AuditEvent[],
  ): Promise<Delegation | undefined> {
    if (!isOutboxId(id)) return undefined;
    const row = await readRow(this.table, tenantKey(clientTenantId), delegationRowKey(id));
    if (!row) return undefined;
    const revoked: Delegation = { ...readJson<Delegation>(row), revokedAt: at };
    const events = await sealEvents(clientTenantId, audit, this.keyring);
    await this.committer.commit(clientTenantId, () => ({
      ops: [
        {
          kind: 'update',
          entity: delegationEntity(revoked),
          etag: row.etag,
          onConflict: 'concurrency',
        },
      ],
      events,
      outbox: [],
    }));
    return revoked;
  }
}

function delegationEntity(d: Delegation): Row {
  return {
    partitionKey: tenantKey(d.clientTenantId),
    rowKey: delegationRowKey(d.id),
    ...jsonProperties(d),
  };
}
