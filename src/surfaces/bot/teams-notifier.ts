import { decidedBy, settledDecision } from '../../domain/change-request/approval-summary';
import type { TeamsAdapter } from '@microsoft/teams-ai';
import { CardFactory, MessageFactory, type ConversationReference } from 'botbuilder';
import { rolesFor } from '../../domain/client/client';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import type { ChangeRequestId, TenantId } from '../../domain/shared/ids';
import type { ChangeRequestStore } from '../../application/ports/change-request-store';
import type { ClientDirectory } from '../../application/ports/client-directory';
import type { ConversationStore } from '../../application/ports/conversation-store';
import type { DeliveryResult, Notifier } from '../../application/ports/notifier';
import type { Notification, Recipient } from '../../application/ports/outbox';
import {
  approvalCard,
  requestStatusCard,
  type Banner,
  type RequestCardExtras,
  type Viewer,
} from './cards/request.view';
import type { AdaptiveCardJson } from './cards/template';

export interface TeamsNotifierDeps {
  readonly adapter: TeamsAdapter;
  /** Empty in the sandbox (anonymous local connector); the bot's Microsoft App ID in production. */
  readonly appId: string;
  readonly conversations: ConversationStore;
  readonly requests: ChangeRequestStore;
  readonly clients: ClientDirectory;
  /** Builds the tab link behind a card's Open wizard button; absent when the tab is not available. */
  readonly wizardLink?: (requestId: string) => string;
}

/**
 * Sends proactive cards through stored conversation references. Cards are rendered at delivery
 * from the request's current state, so a late delivery never shows stale buttons.
 */
export class TeamsNotifier implements Notifier {
  constructor(private readonly deps: TeamsNotifierDeps) {}

  async deliver(
    tenantId: TenantId,
    recipient: Recipient,
    notification: Notification,
  ): Promise<DeliveryResult> {
    const conversation = await this.deps.conversations.get(recipient.tid, recipient.oid);
    if (!conversation || conversation.stale) return { status: 'no_conversation' };
    const stored = await this.deps.requests.get(
      tenantId,
      notification.requestId as ChangeRequestId,
    );
    const client = await this.deps.clients.get(tenantId);
    if (!stored || !client)
      throw new Error(`Request ${notification.requestId} for the notification no longer exists.`);
    const person = { ...recipient, name: '' };
    const viewer: Viewer = { person, roles: rolesFor(client.profile, person) };
    const card = render(stored.request, viewer, client.profile.name, notification, {
      ...(this.deps.wizardLink ? { wizardUrl: this.deps.wizardLink(stored.request.id) } : {}),
      ...(notification.template === 'execution_update' && notification.runId
        ? { revealPasswordRunId: notification.runId }
        : {}),
    });
    const existingActivity = notification.cardKey
      ? await this.deps.conversations.getCardActivity(
          recipient.tid,
          recipient.oid,
          notification.cardKey,
        )
      : undefined;
    try {
      const activityId = await this.send(conversation.reference, card, existingActivity);
      if (notification.cardKey && !existingActivity) {
        await this.deps.conversations.saveCardActivity(
          recipient.tid,
          recipient.oid,
          notification.cardKey,
          activityId,
        );
      }
      return { status: 'sent', activityId };
    } catch (error: unknown) {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (status === 403 || status === 404) {
        await this.deps.conversations.markStale(recipient.tid, recipient.oid);
        return { status: 'stale_conversation' };
      }
      throw error;
    }
  }

  private async send(
    reference: Partial<ConversationReference>,
    card: AdaptiveCardJson,
    replaceActivityId: string | undefined,
  ): Promise<string> {
    let activityId = replaceActivityId ?? '';
    await this.deps.adapter.continueConversationAsync(
      this.deps.appId,
      reference,
      async (context) => {
        const activity = MessageFactory.attachment(CardFactory.adaptiveCard(card));
        if (replaceActivityId) {
          await context.updateActivity({ ...activity, id: replaceActivityId });
        } else {
          activityId = (await context.sendActivity(activity))?.id ?? '';
        }
      },
    );
    return activityId;
  }
}

function render(
  request: ChangeRequest,
  viewer: Viewer,
  clientName: string,
  notification: Notification,
  extras: RequestCardExtras,
): AdaptiveCardJson {
  const banner: Banner | undefined = notification.note
    ? { text: notification.note, style: 'accent' }
    : undefined;
  switch (notification.template) {
    case 'approval_request':
      return approvalCard(request, viewer, clientName, banner);
    case 'approval_decided':
      return notification.cardKey
        ? approvalCard(request, viewer, clientName, banner)
        : requestStatusCard(request, viewer, clientName, banner);
    case 'ready_to_execute':
      return requestStatusCard(request, viewer, clientName, banner ?? readyBanner(request), extras);
    case 'execution_update':
      return requestStatusCard(request, viewer, clientName, banner, extras);
    case 'status_update':
    case 'request_closed':
    case 'assessment_needed':
    case 'info_requested':
    case 'info_provided':
    case 'approval_reminder':
    case 'approval_escalation':
    case 'emergency_notice':
    case 'change_notice':
    case 'retrospective_request':
    case 'review_overdue':
    case 'template_approval_request':
    case 'template_suspended':
      return requestStatusCard(request, viewer, clientName, banner, {
        ...(extras.wizardUrl ? { wizardUrl: extras.wizardUrl } : {}),
      });
  }
}

function readyBanner(request: ChangeRequest): Banner | undefined {
  const decision = settledDecision(request.approval);
  return request.status === 'approved' && decision
    ? {
        text: `${decision.preApproved ? 'Pre-approved (standard change)' : `Approved by ${decidedBy(decision)}`} — ready to execute. Open the wizard to preview and run it, or start work by hand.`,
        style: 'good',
      }
    : undefined;
}
