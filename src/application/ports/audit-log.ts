import type { AuditEvent } from '../../domain/audit/audit-event';
import type { StoredAuditEntry } from '../../domain/audit/audit-chain';
import type { TenantId } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

export interface ReadAuditOptions {
  readonly fromSeq?: number;
  readonly limit?: number;
}

/**
 * The per-tenant hash chain (DESIGN.md §5). Appends made here stand alone; appends that belong to
 * a state change go through ChangeRequestStore/ClientDirectory in the same transaction.
 */
export interface AuditLog {
  /** Appends in order; resolves with the head just after this call's own last entry. */
  append(tenantId: TenantId, events: readonly AuditEvent[]): Promise<AuditHead>;
  head(tenantId: TenantId): Promise<AuditHead | undefined>;
  read(tenantId: TenantId, options?: ReadAuditOptions): Promise<StoredAuditEntry[]>;
  /** The entry's personal data in clear, or `undefined` if the client's data key was destroyed. */
  openPersonal(tenantId: TenantId, entry: StoredAuditEntry): Promise<JsonObject | undefined>;
}
