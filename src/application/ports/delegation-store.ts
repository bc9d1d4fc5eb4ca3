import type { Delegation } from '../../domain/approval/delegation.policy';
import type { AuditEvent } from '../../domain/audit/audit-event';
import type { TenantId } from '../../domain/shared/ids';

/**
 * Approval delegations (issue 4 §3), kept in the client's own partition beside its audit chain.
 * @remarks Rows are never deleted: a revoked or expired delegation stays readable, so a decision
 * made under it can always be explained.
 */
export interface DelegationStore {
  /** Every delegation for the client, revoked and expired ones included, oldest first. */
  list(clientTenantId: TenantId): Promise<Delegation[]>;
  /** The client's delegations in force at `now` (ISO instant): inside their range and not revoked. */
  inForce(clientTenantId: TenantId, now: string): Promise<Delegation[]>;
  /** Saves a new delegation with its audit entries in one transaction; ConflictError if the id is taken. */
  create(delegation: Delegation, audit: readonly AuditEvent[]): Promise<Delegation>;
  /**
   * Marks a delegation revoked at `at`, with its audit entries in one transaction.
   * @returns the revoked delegation, or undefined when the client has none with that id.
   * ConcurrencyError if it changed meanwhile.
   */
  revoke(
    clientTenantId: TenantId,
    id: string,
    at: string,
    audit: readonly AuditEvent[],
  ): Promise<Delegation | undefined>;
}
