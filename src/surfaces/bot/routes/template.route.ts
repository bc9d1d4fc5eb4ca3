import { z } from 'zod';
import type { UseCaseDeps } from '../../../application/use-cases/context';
import { decideTemplate } from '../../../application/use-cases/catalogue';
import type { Person } from '../../../domain/shared/person';
import { messageCard } from '../cards/message.view';
import { templateApprovalCard } from '../cards/template.view';
import type { AdaptiveCardJson } from '../cards/template';

/** A template card carries only which template, for which client, at which version; the rest is re-read. */
const TemplateDecisionData = z.object({
  templateId: z.string().trim().min(1).max(48),
  clientTenantId: z.string().trim().min(1).max(36),
  version: z.coerce.number().int().min(1).max(1_000_000),
  reason: z.string().max(2000).optional(),
});

/**
 * `cat.approveTemplate` / `cat.declineTemplate`: the client's approver decides on a template. The
 * actor comes from the authenticated activity; the card's data only names what was shown.
 */
export async function templateDecisionCard(
  uc: UseCaseDeps,
  actor: Person,
  data: Record<string, unknown>,
  decision: 'approve' | 'decline',
): Promise<AdaptiveCardJson> {
  const parsed = TemplateDecisionData.safeParse(data);
  if (!parsed.success)
    return messageCard({
      title: 'That card sent data Cabinet cannot use',
      text: 'The card may be out of date or was altered. Type **help** for a fresh start.',
      style: 'attention',
      code: 'CARD.INVALID_DATA',
    });
  const outcome = await decideTemplate(uc, {
    actor,
    clientTenantId: parsed.data.clientTenantId,
    templateId: parsed.data.templateId,
    version: parsed.data.version,
    decision,
    ...(parsed.data.reason !== undefined ? { reason: parsed.data.reason } : {}),
  });
  switch (outcome.kind) {
    case 'decided':
    case 'already_decided':
      return templateApprovalCard(outcome.template, outcome.activation, outcome.client, actor, {
        text:
          outcome.activation.status === 'active'
            ? `Approved: matching requests from ${outcome.client.name} are now pre-approved under this template.`
            : 'Declined and recorded: the MSP will not use this template for your requests.',
        style: outcome.activation.status === 'active' ? 'good' : 'warning',
      });
    case 'refused':
      return outcome.view
        ? templateApprovalCard(
            outcome.view.template,
            outcome.view.activation,
            outcome.view.client,
            actor,
            { text: `${outcome.error.message} (${outcome.error.code})`, style: 'attention' },
          )
        : messageCard({
            title: "Cabinet couldn't do that",
            text: outcome.error.message,
            style: 'attention',
            code: outcome.error.code,
          });
  }
}
