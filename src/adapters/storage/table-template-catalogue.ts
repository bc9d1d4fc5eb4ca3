import { odata, type TableClient } from '@azure/data-tables';
import { sealEvents } from '../../application/audit/seal-events';
import type { DataKeyring } from '../../application/ports/data-keyring';
import { ConcurrencyError, ConflictError } from '../../application/ports/errors';
import type { OutboxMessage } from '../../application/ports/outbox';
import type {
  CatalogueWrite,
  RecordOutcomeOptions,
  StoredActivation,
  StoredTemplate,
  TemplateCatalogue,
} from '../../application/ports/template-catalogue';
import {
  isActive,
  offeredTo,
  type ActiveTemplate,
  type TemplateActivation,
} from '../../domain/catalogue/activation.policy';
import { runOutcome } from '../../domain/catalogue/catalogue.audit';
import type { StandardTemplate, TemplateId, TemplateScope } from '../../domain/catalogue/template';
import type { TenantId } from '../../domain/shared/ids';
import type { Row } from './entity-group';
import type { PartitionCommitter, RowOp } from './partition-committer';
import { readRow } from './table-connection';
import { jsonProperties, readJson, type ReadRow } from './table-entity.mapper';
import { guarded } from './table-errors';
import {
  activationRowKey,
  prefixRange,
  RowKeys,
  suggestionRowKey,
  templateRowKey,
  tenantKey,
} from './table-keys';

/** Concurrent outcome records for one activation (two runs ending together) retry this often. */
const OUTCOME_ATTEMPTS = 5;

/**
 * The catalogue in the client data table: global templates in the MSP tenant's partition, a
 * client's own templates, activations and suggestion markers in the client's partition, each
 * written by the partition committer with its audit entries and outbox rows.
 */
export class TableTemplateCatalogue implements TemplateCatalogue {
  constructor(
    private readonly data: TableClient,
    private readonly committer: PartitionCommitter,
    private readonly keyring: DataKeyring,
    private readonly mspTenantId: TenantId,
  ) {}

  async getTemplate(scope: TemplateScope, id: TemplateId): Promise<StoredTemplate | undefined> {
    const row = await readRow(this.data, this.partitionOf(scope), templateRowKey(id));
    return row ? readTemplate(row) : undefined;
  }

  async templatesFor(clientTenantId: TenantId): Promise<StoredTemplate[]> {
    const [global, own] = await Promise.all([
      this.rows(this.mspTenantId, RowKeys.templatePrefix),
      this.rows(clientTenantId, RowKeys.templatePrefix),
    ]);
    return [...global, ...own]
      .map(readTemplate)
      .filter((t) => offeredTo(t.template.scope, clientTenantId))
      .sort((a, b) => a.template.id.localeCompare(b.template.id));
  }

  async activations(clientTenantId: TenantId): Promise<StoredActivation[]> {
    return (await this.rows(clientTenantId, RowKeys.activationPrefix)).map(readActivation);
  }

  async getActivation(
    clientTenantId: TenantId,
    templateId: TemplateId,
  ): Promise<StoredActivation | undefined> {
    const row = await readRow(this.data, tenantKey(clientTenantId), activationRowKey(templateId));
    return row ? readActivation(row) : undefined;
  }

  async activeFor(clientTenantId: TenantId): Promise<ActiveTemplate[]> {
    const [templates, activations] = await Promise.all([
      this.templatesFor(clientTenantId),
      this.activations(clientTenantId),
    ]);
    const byId = new Map(activations.map((a) => [a.activation.templateId, a.activation]));
    return templates.flatMap(({ template }) => {
      const activation = byId.get(template.id);
      return activation && isActive({ template, activation }) ? [{ template, activation }] : [];
    });
  }

  async createTemplate(template: StandardTemplate, write: CatalogueWrite): Promise<StoredTemplate> {
    const entity = templateEntity(this.partitionOf(template.scope), template);
    const etag = await this.commit(
      entity,
      {
        kind: 'create',
        entity,
        onConflict: 'conflict',
        conflictMessage: `Template ${template.id} already exists.`,
      },
      write,
    );
    return { template: structuredClone(template), etag };
  }

  async updateTemplate(
    template: StandardTemplate,
    etag: string,
    write: CatalogueWrite,
  ): Promise<StoredTemplate> {
    const entity = templateEntity(this.partitionOf(template.scope), template);
    const next = await this.commit(
      entity,
      { kind: 'update', entity, etag, onConflict: 'concurrency' },
      write,
    );
    return { template: structuredClone(template), etag: next };
  }

  async saveActivation(
    activation: TemplateActivation,
    etag: string | undefined,
    write: CatalogueWrite,
  ): Promise<StoredActivation> {
    const entity = activationEntity(activation);
    const next = await this.commit(
      entity,
      etag === undefined
        ? {
            kind: 'create',
            entity,
            onConflict: 'conflict',
            conflictMessage: `Template ${activation.templateId} was already proposed to this client.`,
          }
        : { kind: 'update', entity, etag, onConflict: 'concurrency' },
      write,
    );
    return { activation: structuredClone(activation), etag: next };
  }

  async recordOutcome(
    clientTenantId: TenantId,
    templateId: TemplateId,
    outcome: 'succeeded' | 'failed',
    at: Date,
    options: RecordOutcomeOptions = {},
  ): Promise<TemplateActivation | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.getActivation(clientTenantId, templateId);
      if (!stored) return undefined;
      const next = runOutcome(stored.activation, outcome, at.toISOString(), options);
      const suspended = next.audit.length > 0;
      const outbox: OutboxMessage[] = suspended
        ? (options.notify ?? []).map((recipient) => ({
            kind: 'teams.notify',
            recipient: { tid: recipient.tid, oid: recipient.oid },
            notification: {
              template: 'template_suspended',
              requestId: templateId,
              templateId,
              version: next.activation.templateVersion,
            },
          }))
        : [];
      try {
        await this.saveActivation(next.activation, stored.etag, { audit: next.audit, outbox });
        return next.activation;
      } catch (error: unknown) {
        if (!(error instanceof ConcurrencyError) || attempt >= OUTCOME_ATTEMPTS) throw error;
      }
    }
  }

  async markSuggested(
    clientTenantId: TenantId,
    key: string,
    write: CatalogueWrite,
  ): Promise<boolean> {
    const entity: Row = {
      partitionKey: tenantKey(clientTenantId),
      rowKey: suggestionRowKey(key),
      ...jsonProperties({ key }),
    };
    try {
      await this.commit(entity, { kind: 'create', entity, onConflict: 'conflict' }, write);
      return true;
    } catch (error: unknown) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  private partitionOf(scope: TemplateScope): string {
    return tenantKey(scope === 'global' ? this.mspTenantId : scope);
  }

  private async commit(entity: Row, op: RowOp, write: CatalogueWrite): Promise<string> {
    const tenantId = entity.partitionKey as TenantId;
    const events = await sealEvents(tenantId, write.audit, this.keyring);
    const result = await this.committer.commit(tenantId, () => ({
      ops: [op],
      events,
      outbox: write.outbox ?? [],
    }));
    return result.etags.get(entity.rowKey)!;
  }

  private rows(tenantId: TenantId, prefix: string): Promise<ReadRow[]> {
    const partition = tenantKey(tenantId);
    const { from, to } = prefixRange(prefix);
    return guarded('list catalogue rows', async () => {
      const found: ReadRow[] = [];
      for await (const row of this.data.listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partition} and RowKey ge ${from} and RowKey lt ${to}`,
        },
      }))
        found.push(row);
      return found;
    });
  }
}

function templateEntity(partition: string, template: StandardTemplate): Row {
  return {
    partitionKey: partition,
    rowKey: templateRowKey(template.id),
    type: template.ranges.type,
    version: template.version,
    ...jsonProperties(template),
  };
}

function activationEntity(activation: TemplateActivation): Row {
  return {
    partitionKey: tenantKey(activation.clientTenantId),
    rowKey: activationRowKey(activation.templateId),
    status: activation.status,
    templateVersion: activation.templateVersion,
    ...jsonProperties(activation),
  };
}

function readTemplate(row: ReadRow): StoredTemplate {
  return { template: readJson<StandardTemplate>(row), etag: row.etag };
}

function readActivation(row: ReadRow): StoredActivation {
  return { activation: readJson<TemplateActivation>(row), etag: row.etag };
}
