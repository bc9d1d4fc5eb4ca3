import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type {
  ChannelBinding,
  ChannelPurpose,
  ChannelStore,
} from '../../application/ports/channel-store';
import { asObjectId, asTenantId, type TenantId } from '../../domain/shared/ids';
import { readRow } from './table-connection';
import { jsonProperties, readJson } from './table-entity.mapper';
import { guarded } from './table-errors';
import { tenantKey } from './table-keys';

/** Beside the personal conversation references (partitions are tenant GUIDs, so this cannot clash). */
const PARTITION = 'channels';

/**
 * Channel bindings (`channels` / `ch_{purpose}`) and the cards posted to them
 * (`chcard_{sha256(conversation, tenant, cardKey)}`) in the conversations table.
 */
export class TableChannelStore implements ChannelStore {
  constructor(private readonly table: TableClient) {}

  async get(purpose: ChannelPurpose): Promise<ChannelBinding | undefined> {
    const row = await readRow(this.table, PARTITION, bindingKey(purpose));
    if (!row) return undefined;
    const stored = readJson<Omit<ChannelBinding, 'boundBy'> & { boundBy: Record<string, string> }>(
      row,
    );
    const tid = asTenantId(stored.boundBy['tid'] ?? '');
    const oid = asObjectId(stored.boundBy['oid'] ?? '');
    if (!tid || !oid) throw new TypeError(`Stored ${purpose} channel binding names no valid lead.`);
    return { ...stored, boundBy: { tid, oid } };
  }

  bind(binding: ChannelBinding): Promise<void> {
    return guarded('bind channel', async () => {
      await this.table.upsertEntity(
        {
          partitionKey: PARTITION,
          rowKey: bindingKey(binding.purpose),
          ...jsonProperties(binding),
        },
        'Replace',
      );
    });
  }

  async getCardActivity(
    binding: ChannelBinding,
    tenantId: TenantId,
    cardKey: string,
  ): Promise<string | undefined> {
    const row = await readRow(this.table, PARTITION, cardKeyOf(binding, tenantId, cardKey));
    const activityId = row?.['activityId'];
    return typeof activityId === 'string' ? activityId : undefined;
  }

  saveCardActivity(
    binding: ChannelBinding,
    tenantId: TenantId,
    cardKey: string,
    activityId: string,
  ): Promise<void> {
    return guarded('save channel card activity', async () => {
      await this.table.upsertEntity(
        { partitionKey: PARTITION, rowKey: cardKeyOf(binding, tenantId, cardKey), activityId },
        'Replace',
      );
    });
  }
}

function bindingKey(purpose: ChannelPurpose): string {
  return `ch_${purpose}`;
}

/** Conversation ids and card keys are not ours to trust in a key: only their hash enters it. */
function cardKeyOf(binding: ChannelBinding, tenantId: TenantId, cardKey: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([binding.conversationId, tenantKey(tenantId), cardKey]), 'utf8')
    .digest('hex');
  return `chcard_${digest}`;
}
