import type { DataKey } from '../../domain/audit/personal-data';
import type { TenantId } from '../../domain/shared/ids';

/**
 * Per-client data keys for personal data in the audit chain. Destroying a client's key makes its
 * personal data unreadable (erasure, offboarding) while the chain still verifies.
 */
export interface DataKeyring {
  /** The client's current key, created on first use. */
  current(tenantId: TenantId): Promise<DataKey>;
  /** The key with this id, or undefined if it never existed or was destroyed. */
  find(tenantId: TenantId, kid: string): Promise<DataKey | undefined>;
  destroy(tenantId: TenantId): Promise<void>;
}
