import { odata, type TableClient } from '@azure/data-tables';
import { sealEvents } from '../../application/audit/seal-events';
import type { DataKeyring } from '../../application/ports/data-keyring';
import { requestOutbox } from '../../application/ports/request-outbox';
import type {
  ExecutionStore,
  ExecutionWrite,
  SavedExecution,
  StoredRun,
} from '../../application/ports/execution-store';
import { parseRunId, type RunId } from '../../domain/execution/execution-run';
import type { TenantId } from '../../domain/shared/ids';
import type { PartitionCommitter, RowOp } from './partition-committer';
import { assertExecutionWrite, readStoredRun, runEntity } from './run-record';
import { readRow } from './table-connection';
import { requestEntity } from './table-entity.mapper';
import { guarded } from './table-errors';
import { requestRowKey, runRangeOfRequest, runRowKey, tenantKey } from './table-keys';

/**
 * Execution runs in the client's partition at `x_{request number}_{run number}`, beside their
 * request, so a saga step's run write, the request's transition, the audit entries and the outbox
 * rows go through the partition committer as one entity-group transaction.
 */
export class TableExecutionStore implements ExecutionStore {
  constructor(
    private readonly table: TableClient,
    private readonly committer: PartitionCommitter,
    private readonly keyring: DataKeyring,
  ) {}

  async get(tenantId: TenantId, runId: RunId): Promise<StoredRun | undefined> {
    const parsed = parseRunId(runId);
    if (!parsed) return undefined;
    const row = await readRow(
      this.table,
      tenantKey(tenantId),
      runRowKey(parsed.requestNumber, parsed.runNumber),
    );
    if (!row) return undefined;
    const stored = await readStoredRun(row);
    return stored.run.id === parsed.id && stored.run.tenantId === tenantId ? stored : undefined;
  }

  async listForRequest(tenantId: TenantId, requestNumber: number): Promise<StoredRun[]> {
    const partition = tenantKey(tenantId);
    const { from, to } = runRangeOfRequest(requestNumber);
    return guarded('list runs', async () => {
      const rows = [];
      for await (const row of this.table.listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partition} and RowKey ge ${from} and RowKey lt ${to}`,
        },
      })) {
        rows.push(row);
      }
      return Promise.all(rows.map((row) => readStoredRun(row)));
    });
  }

  async save(tenantId: TenantId, write: ExecutionWrite): Promise<SavedExecution> {
    const { requestNumber } = assertExecutionWrite(tenantId, write);
    const run = await runEntity(tenantId, write.run);
    const events = await sealEvents(tenantId, write.audit, this.keyring);
    const ops: RowOp[] = [
      write.runEtag === undefined
        ? {
            kind: 'create',
            entity: run,
            onConflict: 'conflict',
            conflictMessage: `Run ${write.run.id} already exists.`,
          }
        : { kind: 'update', entity: run, etag: write.runEtag, onConflict: 'concurrency' },
    ];
    if (write.request) {
      ops.push({
        kind: 'update',
        entity: requestEntity(tenantId, write.request.next),
        etag: write.request.etag,
        onConflict: 'concurrency',
      });
    }
    const result = await this.committer.commit(tenantId, () => ({
      ops,
      events,
      outbox: write.request
        ? requestOutbox(write.request.next, write.audit, write.outbox)
        : write.outbox,
    }));
    const requestEtag = write.request ? result.etags.get(requestRowKey(requestNumber)) : undefined;
    return {
      run: { run: structuredClone(write.run), etag: result.etags.get(run.rowKey)! },
      ...(requestEtag ? { requestEtag } : {}),
    };
  }
}
