import type { TableClient } from '@azure/data-tables';
import { ConcurrencyError } from '../../application/ports/errors';
import type {
  ConversationStore,
  SavedConversation,
  StoredConversation,
} from '../../application/ports/conversation-store';
import type { ObjectId, TenantId } from '../../domain/shared/ids';
import { readRow } from './table-connection';
import { jsonProperties, readJson, type ReadRow } from './table-entity.mapper';
import {
  guarded,
  isAlreadyExists,
  isEntityNotFound,
  isPreconditionFailure,
  toPortError,
} from './table-errors';
import { cardRowKey, conversationRowKey, tenantKey } from './table-keys';

/** A lost race is retried this many times before it is reported. */
const ATTEMPTS = 5;

/**
 * Conversation references and sent-card activity ids, one partition per tenant: `u_{oid}` per
 * person, `card_{oid}_{sha256(cardKey)}` per card.
 */
export class TableConversationStore implements ConversationStore {
  constructor(private readonly table: TableClient) {}

  async get(tid: TenantId, oid: ObjectId): Promise<StoredConversation | undefined> {
    const row = await readRow(this.table, tenantKey(tid), conversationRowKey(oid));
    return row ? toConversation(tid, oid, row) : undefined;
  }

  async save(conversation: StoredConversation): Promise<SavedConversation> {
    const partitionKey = tenantKey(conversation.tid);
    const rowKey = conversationRowKey(conversation.oid);
    const fields = { ...jsonProperties(conversation.reference), stale: false };
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const existing = await readRow(this.table, partitionKey, rowKey);
      try {
        if (!existing) {
          await this.table.createEntity({
            partitionKey,
            rowKey,
            ...fields,
            ...(conversation.welcomedAt ? { welcomedAt: conversation.welcomedAt } : {}),
          });
          return { created: true, welcomed: conversation.welcomedAt !== undefined };
        }
        // Every message refreshes the reference; only a real change (new serviceUrl, stale mark) is written.
        const unchanged =
          existing['stale'] !== true &&
          JSON.stringify(readJson(existing)) === JSON.stringify(conversation.reference);
        const welcomed = typeof existing['welcomedAt'] === 'string';
        if (unchanged) return { created: false, welcomed };
        await this.table.updateEntity({ partitionKey, rowKey, ...fields }, 'Merge', {
          etag: existing.etag,
        });
        return { created: false, welcomed };
      } catch (error) {
        if (!isAlreadyExists(error) && !isPreconditionFailure(error))
          throw toPortError(error, 'save conversation');
      }
    }
    throw new ConcurrencyError(
      'The conversation reference kept changing while it was being saved.',
    );
  }

  async markWelcomed(tid: TenantId, oid: ObjectId, at: string): Promise<boolean> {
    const partitionKey = tenantKey(tid);
    const rowKey = conversationRowKey(oid);
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const existing = await readRow(this.table, partitionKey, rowKey);
      if (!existing || typeof existing['welcomedAt'] === 'string') return false;
      try {
        await this.table.updateEntity({ partitionKey, rowKey, welcomedAt: at }, 'Merge', {
          etag: existing.etag,
        });
        return true;
      } catch (error) {
        if (!isPreconditionFailure(error)) throw toPortError(error, 'mark welcomed');
      }
    }
    throw new ConcurrencyError(
      'The conversation reference kept changing while the welcome was recorded.',
    );
  }

  async markStale(tid: TenantId, oid: ObjectId): Promise<void> {
    try {
      await this.table.updateEntity(
        { partitionKey: tenantKey(tid), rowKey: conversationRowKey(oid), stale: true },
        'Merge',
        { etag: '*' },
      );
    } catch (error) {
      if (!isEntityNotFound(error)) throw toPortError(error, 'mark conversation stale');
    }
  }

  async getCardActivity(
    tid: TenantId,
    oid: ObjectId,
    cardKey: string,
  ): Promise<string | undefined> {
    const row = await readRow(this.table, tenantKey(tid), cardRowKey(oid, cardKey));
    const activityId = row?.['activityId'];
    return typeof activityId === 'string' ? activityId : undefined;
  }

  saveCardActivity(
    tid: TenantId,
    oid: ObjectId,
    cardKey: string,
    activityId: string,
  ): Promise<void> {
    return guarded('save card activity', async () => {
      await this.table.upsertEntity(
        { partitionKey: tenantKey(tid), rowKey: cardRowKey(oid, cardKey), activityId },
        'Replace',
      );
    });
  }

  async reachable(
    people: readonly { readonly tid: TenantId; readonly oid: ObjectId }[],
  ): Promise<ReadonlySet<string>> {
    const unique = [...new Map(people.map((p) => [`${p.tid}|${p.oid}`, p])).entries()];
    const live = await Promise.all(
      unique.map(async ([key, person]) => {
        const found = await this.get(person.tid, person.oid);
        return found && !found.stale ? key : undefined;
      }),
    );
    return new Set(live.filter((key) => key !== undefined));
  }
}

function toConversation(tid: TenantId, oid: ObjectId, row: ReadRow): StoredConversation {
  const welcomedAt = row['welcomedAt'];
  return {
    tid,
    oid,
    reference: readJson<Record<string, unknown>>(row),
    ...(typeof welcomedAt === 'string' ? { welcomedAt } : {}),
    stale: row['stale'] === true,
  };
}
