import type { ChangeRequest } from '../../domain/change-request/change-request';
import { asTemplateId } from '../../domain/catalogue/template';
import type { UseCaseDeps } from './context';
import { recordTemplateOutcome } from './catalogue';

/**
 * Counts a standard change's run against its template once the request has moved: implemented
 * counts towards promotion, failed suspends the template for the client until a lead re-enables it.
 * @remarks Written after the request, not with it: a crash in between loses one count, never a
 * request state. A failure is what matters for safety, and a retry of the failed run records it again.
 */
export async function recordTemplateRun(
  deps: UseCaseDeps,
  before: ChangeRequest,
  after: ChangeRequest,
): Promise<void> {
  const templateId = after.templateId ? asTemplateId(after.templateId) : undefined;
  if (after.changeClass !== 'standard' || !templateId || before.status === after.status) return;
  const outcome =
    after.status === 'implemented' ? 'succeeded' : after.status === 'failed' ? 'failed' : undefined;
  if (!outcome) return;
  await recordTemplateOutcome(deps, {
    clientTenantId: after.tenantId,
    templateId,
    outcome,
    requestId: after.id,
    ...(after.failure ? { reason: after.failure.reason } : {}),
  });
}
