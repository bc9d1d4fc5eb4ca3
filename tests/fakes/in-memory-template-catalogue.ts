import { randomUUID } from 'node:crypto';
import { ConcurrencyError, ConflictError } from '../../src/application/ports/errors';
import type {
  CatalogueWrite,
  RecordOutcomeOptions,
  StoredActivation,
  StoredTemplate,
  TemplateCatalogue,
} from '../../src/application/ports/template-catalogue';
import {
  isActive,
  offeredTo,
  type ActiveTemplate,
  type TemplateActivation,
} from '../../src/domain/catalogue/activation.policy';
import { runOutcome } from '../../src/domain/catalogue/catalogue.audit';
import type {
  StandardTemplate,
  TemplateId,
  TemplateScope,
} from '../../src/domain/catalogue/template';
import type { TenantId } from '../../src/domain/shared/ids';
import type { InMemoryPartitions } from './in-memory-storage';

const etag = () => `W/"${randomUUID()}"`;

/** Rows of the catalogue in memory, by partition, committed with their audit events like the table. */
export class InMemoryTemplateCatalogueRows {
  readonly templates = new Map<string, Map<string, StoredTemplate>>();
  readonly activations = new Map<string, Map<string, StoredActivation>>();
  readonly suggestions = new Map<string, Set<string>>();
}

/** The catalogue over the in-memory partitions; `rows` is shared by every catalogue of one storage. */
export class InMemoryTemplateCatalogue implements TemplateCatalogue {
  constructor(
    private readonly data: InMemoryPartitions,
    private readonly rows: InMemoryTemplateCatalogueRows,
    private readonly mspTenantId: TenantId,
  ) {}

  getTemplate(scope: TemplateScope, id: TemplateId): Promise<StoredTemplate | undefined> {
    return Promise.resolve(clone(this.rows.templates.get(this.partitionOf(scope))?.get(id)));
  }

  templatesFor(clientTenantId: TenantId): Promise<StoredTemplate[]> {
    const all = [
      ...(this.rows.templates.get(this.mspTenantId)?.values() ?? []),
      ...(this.rows.templates.get(clientTenantId)?.values() ?? []),
    ];
    return Promise.resolve(
      all
        .filter((t) => offeredTo(t.template.scope, clientTenantId))
        .map((t) => clone(t)!)
        .sort((a, b) => a.template.id.localeCompare(b.template.id)),
    );
  }

  activations(clientTenantId: TenantId): Promise<StoredActivation[]> {
    return Promise.resolve(
      [...(this.rows.activations.get(clientTenantId)?.values() ?? [])].map((a) => clone(a)!),
    );
  }

  getActivation(
    clientTenantId: TenantId,
    templateId: TemplateId,
  ): Promise<StoredActivation | undefined> {
    return Promise.resolve(clone(this.rows.activations.get(clientTenantId)?.get(templateId)));
  }

  async activeFor(clientTenantId: TenantId): Promise<ActiveTemplate[]> {
    const activations = await this.activations(clientTenantId);
    return (await this.templatesFor(clientTenantId)).flatMap(({ template }) => {
      const activation = activations.find((a) => a.activation.templateId === template.id);
      return activation && isActive({ template, activation: activation.activation })
        ? [{ template, activation: activation.activation }]
        : [];
    });
  }

  async createTemplate(template: StandardTemplate, write: CatalogueWrite): Promise<StoredTemplate> {
    return this.put(
      this.rows.templates,
      this.partitionOf(template.scope),
      template.id,
      undefined,
      {
        template: structuredClone(template),
      },
      write,
    );
  }

  async updateTemplate(
    template: StandardTemplate,
    previous: string,
    write: CatalogueWrite,
  ): Promise<StoredTemplate> {
    return this.put(
      this.rows.templates,
      this.partitionOf(template.scope),
      template.id,
      previous,
      {
        template: structuredClone(template),
      },
      write,
    );
  }

  async saveActivation(
    activation: TemplateActivation,
    previous: string | undefined,
    write: CatalogueWrite,
  ): Promise<StoredActivation> {
    return this.put(
      this.rows.activations,
      activation.clientTenantId,
      activation.templateId,
      previous,
      { activation: structuredClone(activation) },
      write,
    );
  }

  async recordOutcome(
    clientTenantId: TenantId,
    templateId: TemplateId,
    outcome: 'succeeded' | 'failed',
    at: Date,
    options: RecordOutcomeOptions = {},
  ): Promise<TemplateActivation | undefined> {
    const stored = await this.getActivation(clientTenantId, templateId);
    if (!stored) return undefined;
    const next = runOutcome(stored.activation, outcome, at.toISOString(), options);
    await this.saveActivation(next.activation, stored.etag, {
      audit: next.audit,
      outbox:
        next.audit.length > 0
          ? (options.notify ?? []).map((recipient) => ({
              kind: 'teams.notify' as const,
              recipient,
              notification: {
                template: 'template_suspended' as const,
                requestId: templateId,
                templateId,
                version: next.activation.templateVersion,
              },
            }))
          : [],
    });
    return next.activation;
  }

  async markSuggested(
    clientTenantId: TenantId,
    key: string,
    write: CatalogueWrite,
  ): Promise<boolean> {
    const seen = this.rows.suggestions.get(clientTenantId) ?? new Set<string>();
    if (seen.has(key)) return false;
    await this.data.commit(clientTenantId, write.audit, write.outbox ?? [], () => {
      seen.add(key);
      this.rows.suggestions.set(clientTenantId, seen);
    });
    return true;
  }

  private partitionOf(scope: TemplateScope): TenantId {
    return scope === 'global' ? this.mspTenantId : scope;
  }

  private async put<T extends { readonly etag: string }>(
    table: Map<string, Map<string, T>>,
    partition: TenantId,
    id: string,
    previous: string | undefined,
    value: Omit<T, 'etag'>,
    write: CatalogueWrite,
  ): Promise<T> {
    const stored = { ...value, etag: etag() } as T;
    await this.data.commit(partition, write.audit, write.outbox ?? [], () => {
      const rows = table.get(partition) ?? new Map<string, T>();
      const current = rows.get(id);
      if (previous === undefined && current) throw new ConflictError(`Row ${id} already exists.`);
      if (previous !== undefined && current?.etag !== previous) throw new ConcurrencyError();
      rows.set(id, stored);
      table.set(partition, rows);
    });
    return structuredClone(stored);
  }
}

function clone<T>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : structuredClone(value);
}
