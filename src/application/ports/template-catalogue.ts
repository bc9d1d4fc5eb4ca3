import type { AuditEvent } from '../../domain/audit/audit-event';
import type {
  ActiveTemplate,
  TemplateActivation,
} from '../../domain/catalogue/activation.policy';
import type { StandardTemplate, TemplateId, TemplateScope } from '../../domain/catalogue/template';
import type { TenantId } from '../../domain/shared/ids';
import type { OutboxMessage, Recipient } from './outbox';

export interface StoredTemplate {
  readonly template: StandardTemplate;
  readonly etag: string;
}

export interface StoredActivation {
  readonly activation: TemplateActivation;
  readonly etag: string;
}

/** What lands with a catalogue write, in the same transaction: its audit events and outbox rows. */
export interface CatalogueWrite {
  readonly audit: readonly AuditEvent[];
  readonly outbox?: readonly OutboxMessage[];
}

export interface RecordOutcomeOptions {
  /** What failed, for the lead (sealed in the audit entry). */
  readonly reason?: string;
  /** The request whose run ended. */
  readonly requestId?: string;
  /** Who hears that the template was suspended (the client's leads). */
  readonly notify?: readonly Recipient[];
}

/**
 * The standard-change catalogue. Global templates live in the MSP tenant's partition; a client's
 * own templates and every activation for a client live in that client's partition, each written
 * with its audit events (and outbox rows) in one transaction.
 */
export interface TemplateCatalogue {
  /** A global template (`scope` 'global') or a client's own. */
  getTemplate(scope: TemplateScope, id: TemplateId): Promise<StoredTemplate | undefined>;
  /** The templates that may be offered to this client: global ones and its own, by id. */
  templatesFor(clientTenantId: TenantId): Promise<StoredTemplate[]>;
  /** The client's standing with each template proposed to it. */
  activations(clientTenantId: TenantId): Promise<StoredActivation[]>;
  getActivation(
    clientTenantId: TenantId,
    templateId: TemplateId,
  ): Promise<StoredActivation | undefined>;
  /**
   * The templates a request of this client may run under: each with its activation, only those
   * the client approved at the template's current version and not suspended or withdrawn.
   */
  activeFor(clientTenantId: TenantId): Promise<ActiveTemplate[]>;
  /** ConflictError if the id is taken in that scope. */
  createTemplate(template: StandardTemplate, write: CatalogueWrite): Promise<StoredTemplate>;
  /** ConcurrencyError if the template changed since `etag`. */
  updateTemplate(
    template: StandardTemplate,
    etag: string,
    write: CatalogueWrite,
  ): Promise<StoredTemplate>;
  /** Creates (`etag` undefined) or replaces an activation; ConflictError / ConcurrencyError otherwise. */
  saveActivation(
    activation: TemplateActivation,
    etag: string | undefined,
    write: CatalogueWrite,
  ): Promise<StoredActivation>;
  /**
   * A change run under the template ended. Successes are counted; a failure suspends the template
   * for this client (audited `template.suspended`, the `notify` people told). Retries on concurrent
   * writes. Undefined if the template was never proposed to the client.
   */
  recordOutcome(
    clientTenantId: TenantId,
    templateId: TemplateId,
    outcome: 'succeeded' | 'failed',
    at: Date,
    options?: RecordOutcomeOptions,
  ): Promise<TemplateActivation | undefined>;
  /** Records a promotion suggestion with its audit events, once: false if it was recorded before. */
  markSuggested(clientTenantId: TenantId, key: string, write: CatalogueWrite): Promise<boolean>;
}
