import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ClientProfile } from '../../domain/client/client';
import type { ClientCode, ObjectId, TenantId } from '../../domain/shared/ids';

export interface StoredClientProfile {
  readonly profile: ClientProfile;
  readonly etag: string;
}

/**
 * Clients the MSP serves. The profile lives in the client's own partition (saved with its audit
 * entry); a small MSP-wide index answers "which client has code X" and "whose tech is this person".
 */
export interface ClientDirectory {
  get(tenantId: TenantId): Promise<StoredClientProfile | undefined>;
  getByCode(code: ClientCode): Promise<StoredClientProfile | undefined>;
  list(): Promise<ClientProfile[]>;
  /** Clients where this MSP person is a technician or lead. */
  forStaff(mspTenantId: TenantId, oid: ObjectId): Promise<ClientProfile[]>;
  /** Onboards a client; ConflictError if the tenant or the code is taken. */
  create(profile: ClientProfile, audit: readonly AuditEvent[]): Promise<StoredClientProfile>;
  /** ConcurrencyError if the profile changed since `etag`. */
  update(
    profile: ClientProfile,
    etag: string,
    audit: readonly AuditEvent[],
  ): Promise<StoredClientProfile>;
}
