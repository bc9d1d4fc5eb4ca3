import type { AuditLog } from '../ports/audit-log';
import type { ChangeRequestStore } from '../ports/change-request-store';
import type { ClientDirectory } from '../ports/client-directory';
import type { Clock } from '../ports/clock';
import type { ConversationStore } from '../ports/conversation-store';
import type { DelegationStore } from '../ports/delegation-store';
import type { TemplateCatalogue } from '../ports/template-catalogue';
import type { TenantId } from '../../domain/shared/ids';

/** The ports every use case may need, wired once by the composition root. */
export interface UseCaseDeps {
  readonly requests: ChangeRequestStore;
  readonly audit: AuditLog;
  readonly clients: ClientDirectory;
  readonly conversations: ConversationStore;
  readonly delegations: DelegationStore;
  /** Standard-change templates and each client's activation of them. */
  readonly templates: TemplateCatalogue;
  readonly clock: Clock;
  readonly mspTenantId: TenantId;
  /** Called after a commit that wrote outbox rows, so delivery starts without waiting for the next sweep. */
  readonly outboxWritten?: (tenantId: TenantId) => void;
}
