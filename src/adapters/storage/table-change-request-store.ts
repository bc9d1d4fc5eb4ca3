import { odata, type TableClient } from '@azure/data-tables';
import { sealEvents } from '../../application/audit/seal-events';
import type {
  ChangeRequestStore,
  ChangeRequestWrite,
  ListChangeRequestsOptions,
  StoredChangeRequest,
} from '../../application/ports/change-request-store';
import type { DataKeyring } from '../../application/ports/data-keyring';
import { requestOutbox } from '../../application/ports/request-outbox';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { parseRequestId, type ChangeRequestId, type TenantId } from '../../domain/shared/ids';
import type { PartitionCommitter, RowOp } from './partition-committer';
import { readRow } from './table-connection';
import {
  counterEntity,
  readCounter,
  readStoredRequest,
  requestEntity,
} from './table-entity.mapper';
import { guarded } from './table-errors';
import { receiptOp } from './table-receipts';
import { prefixRange, requestRowKey, RowKeys, tenantKey } from './table-keys';

/**
 * Change requests in the client's partition at `r_{number}`, with the per-client counter `n`.
 * @remarks Approval state lives inside the request row (the aggregate carries its current round),
 * so approving is one ETag-guarded replace plus its audit entries.
 */
export class TableChangeRequestStore implements ChangeRequestStore {
  constructor(
    private readonly table: TableClient,
    private readonly committer: PartitionCommitter,
    private readonly keyring: DataKeyring,
  ) {}

  async get(tenantId: TenantId, id: ChangeRequestId): Promise<StoredChangeRequest | undefined> {
    const parsed = parseRequestId(id);
    if (!parsed) return undefined;
    const row = await readRow(this.table, tenantKey(tenantId), requestRowKey(parsed.number));
    if (!row) return undefined;
    const stored = readStoredRequest(row);
    return stored.request.id === parsed.id ? stored : undefined;
  }

  list(tenantId: TenantId, options: ListChangeRequestsOptions = {}): Promise<ChangeRequest[]> {
    const partition = tenantKey(tenantId);
    const { from, to } = prefixRange(RowKeys.requestPrefix);
    const statuses = options.statuses?.map((status) => odata`status eq ${status}`).join(' or ');
    const filter =
      odata`PartitionKey eq ${partition} and RowKey ge ${from} and RowKey lt ${to}` +
      (statuses ? ` and (${statuses})` : '');
    return guarded('list change requests', async () => {
      const found: ChangeRequest[] = [];
      for await (const row of this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter },
      })) {
        found.push(readStoredRequest(row).request);
      }
      return found.sort((a, b) => b.number - a.number).slice(0, options.limit ?? 50);
    });
  }

  async create(
    tenantId: TenantId,
    build: (number: number) => ChangeRequestWrite,
  ): Promise<StoredChangeRequest> {
    const partition = tenantKey(tenantId);
    let written: ChangeRequestWrite | undefined;
    const result = await this.committer.commit(tenantId, async () => {
      const counter = await readRow(this.table, partition, RowKeys.counter);
      const number = (counter ? readCounter(counter) : 0) + 1;
      const write = build(number);
      assertWrite(tenantId, write, number);
      written = write;
      const counterOp: RowOp = counter
        ? {
            kind: 'update',
            entity: counterEntity(tenantId, number),
            etag: counter.etag,
            onConflict: 'rebuild',
          }
        : { kind: 'create', entity: counterEntity(tenantId, number), onConflict: 'rebuild' };
      return {
        ops: [
          counterOp,
          { kind: 'create', entity: requestEntity(tenantId, write.request), onConflict: 'rebuild' },
          ...(write.receipts ?? []).map((receipt) => receiptOp(tenantId, receipt)),
        ],
        events: await sealEvents(tenantId, write.audit, this.keyring),
        outbox: requestOutbox(write.request, write.audit, write.outbox),
      };
    });
    const request = written!.request;
    return {
      request: structuredClone(request),
      etag: result.etags.get(requestRowKey(request.number))!,
    };
  }

  async update(
    tenantId: TenantId,
    etag: string,
    write: ChangeRequestWrite,
  ): Promise<StoredChangeRequest> {
    assertWrite(tenantId, write, write.request.number);
    const events = await sealEvents(tenantId, write.audit, this.keyring);
    const entity = requestEntity(tenantId, write.request);
    const result = await this.committer.commit(tenantId, () => ({
      ops: [
        { kind: 'update', entity, etag, onConflict: 'concurrency' },
        ...(write.receipts ?? []).map((receipt) => receiptOp(tenantId, receipt)),
      ],
      events,
      outbox: requestOutbox(write.request, write.audit, write.outbox),
    }));
    return { request: structuredClone(write.request), etag: result.etags.get(entity.rowKey)! };
  }
}

function assertWrite(tenantId: TenantId, write: ChangeRequestWrite, number: number): void {
  if (write.request.tenantId !== tenantId || write.request.number !== number) {
    throw new Error(
      `Request ${write.request.id} does not belong at number ${number} of tenant ${tenantId}.`,
    );
  }
}
