import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';

/** Property values Cabinet stores: strings (JSON included), numbers and flags. */
export type RowProperties = Record<string, string | number | boolean>;
/** An entity as Cabinet writes it: keys plus flat properties. */
export type Row = TableEntity<RowProperties>;

/** One write in an entity-group transaction: insert-only, or a full replace guarded by `If-Match`. */
export type EntityAction =
  | { readonly kind: 'create'; readonly entity: Row }
  | { readonly kind: 'update'; readonly entity: Row; readonly etag: string };

/** Azure's entity-group transaction limits (reliability-security.md §1.2). */
export const MAX_GROUP_ENTITIES = 100;
/** Azure refuses transaction bodies of 4 MiB or more. */
export const MAX_GROUP_BYTES = 4 * 1024 * 1024;
/** Multipart framing and headers per action, generously rounded up. */
const ACTION_OVERHEAD_BYTES = 700;

/** A batch that Azure would refuse (or that Azurite would wrongly accept) was about to be sent. */
export class EntityGroupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntityGroupError';
  }
}

/** Upper bound of what an action adds to the batch body. */
export function estimateActionBytes(entity: Row): number {
  return Buffer.byteLength(JSON.stringify(entity), 'utf8') + ACTION_OVERHEAD_BYTES;
}

/**
 * Refuses batches Azure would reject: empty, several partitions, over 100 entities, the same row
 * twice, or a body of 4 MiB or more.
 * @remarks Azurite accepts cross-partition batches that Azure rejects (Azure/Azurite#1215), so the
 * single-partition rule is checked here rather than trusted to the emulator.
 */
export function assertEntityGroup(actions: readonly EntityAction[]): void {
  const first = actions[0];
  if (first === undefined)
    throw new EntityGroupError('An entity-group transaction needs at least one entity.');
  if (actions.length > MAX_GROUP_ENTITIES) {
    throw new EntityGroupError(
      `An entity-group transaction holds at most ${MAX_GROUP_ENTITIES} entities; got ${actions.length}.`,
    );
  }
  const rowKeys = new Set<string>();
  let bytes = 0;
  for (const action of actions) {
    if (action.entity.partitionKey !== first.entity.partitionKey) {
      throw new EntityGroupError(
        'All entities of an entity-group transaction must share one PartitionKey.',
      );
    }
    if (rowKeys.has(action.entity.rowKey))
      throw new EntityGroupError(`Row ${action.entity.rowKey} appears twice in one transaction.`);
    rowKeys.add(action.entity.rowKey);
    bytes += estimateActionBytes(action.entity);
  }
  if (bytes >= MAX_GROUP_BYTES)
    throw new EntityGroupError(
      `An entity-group transaction must stay under 4 MiB; this one is about ${bytes} bytes.`,
    );
}

/**
 * Submits one atomic entity-group transaction after asserting Azure's limits.
 * @returns the new ETag of each action's entity, index-aligned with `actions` (undefined if the
 * service did not report one).
 */
export async function submitEntityGroup(
  client: TableClient,
  actions: readonly EntityAction[],
): Promise<(string | undefined)[]> {
  assertEntityGroup(actions);
  const response = await client.submitTransaction(
    actions.map(
      (action): TransactionAction =>
        action.kind === 'create'
          ? ['create', action.entity]
          : ['update', action.entity, 'Replace', { etag: action.etag }],
    ),
  );
  return actions.map((_, index) => response.subResponses[index]?.etag);
}

/** Azure and Azurite prefix a failed transaction's message with the failing action's index (`"1:The update condition…"`). */
export function failedActionIndex(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^(\d+):/.exec(error.message);
  return match ? Number(match[1]) : undefined;
}
