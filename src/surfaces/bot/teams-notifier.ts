import { decidedBy, settledDecision } from '../../domain/change-request/approval-summary';
import type { Clock } from '../../application/ports/clock';
import { roundAwaitingVotes } from '../../domain/change-request/approval-inbox.policy';
import type { DelegationStore } from '../../application/ports/delegation-store';
import type { TeamsAdapter } from '@microsoft/teams-ai';
import { CardFactory, MessageFactory, type ConversationReference } from 'botbuilder';
import { rolesFor } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import { samePerson } from '../../domain/shared/person';
import { awaitedApprovers, currentRound } from '../../application/use-cases/notifications';
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
import { formatInstant, formatWindow } from './cards/itil.view';
import { RISK_LABELS, IMPACT_LABELS } from './cards/labels';
import type { AdaptiveCardJson } from './cards/template';
import { templateApprovalCard } from './cards/template.view';
import { asTemplateId } from '../../domain/catalogue/template';
import type { TemplateCatalogue } from '../../application/ports/template-catalogue';
import type { ChannelPurpose, ChannelStore } from '../../application/ports/channel-store';
import { slaAlertCard } from './cards/sla.view';
import { checkpointWitnessCard } from './cards/checkpoint.view';
import { monthlyReportNoticeCard } from './cards/change-log.view';

export interface TeamsNotifierDeps {
  readonly adapter: TeamsAdapter;
  /** Empty in the sandbox (anonymous local connector); the bot's Microsoft App ID in production. */
  readonly appId: string;
  readonly conversations: ConversationStore;
  readonly requests: ChangeRequestStore;
  readonly clients: ClientDirectory;
  /** Builds the tab link behind a card's Open wizard button; absent when the tab is not available. */
  readonly wizardLink?: (requestId: string) => string;
  /** The standard-change catalogue, for template cards. */
  readonly templates?: TemplateCatalogue;
  /** Delegations in force decide whether a delegate's approval card has its buttons. */
  readonly delegations: DelegationStore;
  readonly clock: Clock;
  /** The MSP's bound channels (the SLA channel); without it channel cards wait. */
  readonly channels?: ChannelStore;
  /** Builds the tab link behind the monthly report card (`tabReportUrl`); absent when the tab is not available. */
  readonly reportLink?: (month: string) => string;
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
    const card =
      notification.checkpoint !== undefined
        ? await this.witnessCard(tenantId, notification.checkpoint)
        : notification.template === 'monthly_report'
          ? await this.monthlyReportCard(tenantId, notification)
          : notification.templateId !== undefined
            ? await this.templateCard(tenantId, recipient, notification.templateId)
            : await this.requestCard(tenantId, recipient, notification);
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

  async deliverToChannel(
    purpose: ChannelPurpose,
    tenantId: TenantId,
    notification: Notification,
  ): Promise<DeliveryResult> {
    const channels = this.deps.channels;
    const binding = await channels?.get(purpose);
    if (!channels || !binding) return { status: 'no_conversation' };
    const stored = await this.deps.requests.get(
      tenantId,
      notification.requestId as ChangeRequestId,
    );
    const client = await this.deps.clients.get(tenantId);
    if (!stored || !client)
      throw new Error(`Request ${notification.requestId} for the channel card no longer exists.`);
    const card = slaAlertCard(stored.request, {
      clientName: client.profile.name,
      timeZone: rulesFor(client.profile).timeZone,
      ...(this.deps.wizardLink ? { openUrl: this.deps.wizardLink(stored.request.id) } : {}),
    });
    const cardKey = notification.cardKey;
    const existing = cardKey
      ? await channels.getCardActivity(binding, tenantId, cardKey)
      : undefined;
    // A 403/404 from a channel means Cabinet was removed from the team: fail loudly, never hold silently.
    const activityId = await this.send(binding.reference, card, existing);
    if (cardKey && !existing)
      await channels.saveCardActivity(binding, tenantId, cardKey, activityId);
    return { status: 'sent', activityId };
  }

  private async requestCard(
    tenantId: TenantId,
    recipient: Recipient,
    notification: Notification,
  ): Promise<AdaptiveCardJson> {
    const stored = await this.deps.requests.get(
      tenantId,
      notification.requestId as ChangeRequestId,
    );
    const client = await this.deps.clients.get(tenantId);
    if (!stored || !client)
      throw new Error(`Request ${notification.requestId} for the notification no longer exists.`);
    const person = { ...recipient, name: '' };
    // Delegations only decide a delegate's buttons, so they are read only while votes are awaited.
    const delegations = roundAwaitingVotes(stored.request)
      ? await this.deps.delegations.inForce(tenantId, this.deps.clock.now().toISOString())
      : [];
    const viewer: Viewer = { person, roles: rolesFor(client.profile, person), delegations };
    return render(stored.request, viewer, client.profile.name, notification, {
      timeZone: rulesFor(client.profile).timeZone,
      ...(this.deps.wizardLink ? { wizardUrl: this.deps.wizardLink(stored.request.id) } : {}),
      ...(notification.template === 'execution_update' && notification.runId
        ? { revealPasswordRunId: notification.runId }
        : {}),
    });
  }

  /** A standard-change template card (approval request, suspension), from the catalogue's current state. */
  private async templateCard(
    tenantId: TenantId,
    recipient: Recipient,
    templateId: string,
  ): Promise<AdaptiveCardJson> {
    const id = asTemplateId(templateId);
    const client = await this.deps.clients.get(tenantId);
    const template = id
      ? ((await this.deps.templates?.getTemplate(tenantId, id)) ??
        (await this.deps.templates?.getTemplate('global', id)))
      : undefined;
    if (!id || !client || !template)
      throw new Error(`Template ${templateId} for the notification no longer exists.`);
    const activation = await this.deps.templates?.getActivation(tenantId, id);
    return templateApprovalCard(template.template, activation?.activation, client.profile, {
      ...recipient,
      name: '',
    });
  }

  /** A checkpoint witness card; it names the client, so it needs the client to still exist. */
  private async witnessCard(
    tenantId: TenantId,
    checkpoint: { readonly size: number; readonly root: string },
  ): Promise<AdaptiveCardJson> {
    const client = await this.deps.clients.get(tenantId);
    if (!client) throw new Error(`Client ${tenantId} for the checkpoint witness no longer exists.`);
    return checkpointWitnessCard({ clientName: client.profile.name, ...checkpoint });
  }

  /** The monthly report card: its month is the notification's `requestId`, its headline the note. */
  private async monthlyReportCard(
    tenantId: TenantId,
    notification: Notification,
  ): Promise<AdaptiveCardJson> {
    const client = await this.deps.clients.get(tenantId);
    if (!client) throw new Error(`Client ${tenantId} for the monthly report no longer exists.`);
    const month = notification.requestId;
    return monthlyReportNoticeCard({
      clientName: client.profile.name,
      month,
      ...(notification.note ? { headline: notification.note } : {}),
      ...(this.deps.reportLink ? { link: this.deps.reportLink(month) } : {}),
    });
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
  const zone = { timeZone: extras.timeZone };
  const status = (b: Banner | undefined, more: RequestCardExtras = {}) =>
    requestStatusCard(request, viewer, clientName, b, { ...zone, ...more });
  // The approver whose vote is awaited gets the live approval card; anyone else where it stands.
  const approvalOrStatus = (b: Banner | undefined) =>
    awaitedApprovers(request).some((p) => samePerson(p, viewer.person))
      ? approvalCard(request, viewer, clientName, b, zone)
      : status(b);
  const links = extras.wizardUrl ? { wizardUrl: extras.wizardUrl } : {};
  switch (notification.template) {
    case 'approval_request':
      return approvalCard(request, viewer, clientName, banner, zone);
    case 'approval_decided':
      return notification.cardKey
        ? approvalCard(request, viewer, clientName, banner, zone)
        : status(banner);
    case 'ready_to_execute':
      return status(banner ?? readyBanner(request), extras);
    case 'execution_update':
      return status(banner, extras);
    case 'status_update':
    case 'request_closed':
      return status(banner, links);
    case 'assessment_needed':
      return status(banner ?? assessmentBanner(request, extras.wizardUrl !== undefined), links);
    case 'info_requested':
      // The card's own banner carries the question and the answer field sits below it.
      return status(banner);
    case 'info_provided':
      return approvalOrStatus(banner ?? answeredBanner(request));
    case 'approval_reminder':
      return approvalOrStatus(banner ?? waitingBanner(request, 'Reminder', extras.timeZone));
    case 'approval_escalation':
      return approvalOrStatus(banner ?? waitingBanner(request, 'Escalated', extras.timeZone));
    case 'emergency_notice':
      return status(banner ?? emergencyBanner(request));
    case 'change_notice':
      return status(banner ?? noticeBanner(request, extras.timeZone));
    case 'retrospective_request':
      return approvalCard(
        request,
        viewer,
        clientName,
        banner ?? retrospectiveBanner(request),
        zone,
      );
    case 'review_overdue':
      return status(banner ?? overdueBanner(request, extras.timeZone), links);
    case 'template_approval_request':
    case 'template_suspended':
      return status(banner, links);
    case 'psa_note':
    case 'checkpoint_witness':
    case 'monthly_report':
      // The last two are delivered without a request (see `deliver`); listed so every template renders.
      return status(banner, links);
    case 'sla_alert':
      return slaAlertCard(request, {
        clientName,
        ...zone,
        ...(extras.wizardUrl ? { openUrl: extras.wizardUrl } : {}),
      });
  }
}

function assessmentBanner(request: ChangeRequest, hasLink: boolean): Banner {
  return {
    text: `${request.id} from ${request.requester.name} needs your assessment: set its impact, risk, rollback plan and window, then send it for approval. Assess it here (Assess) or in the Cabinet tab${hasLink ? ' (Assess in the tab)' : ''}.`,
    style: 'warning',
  };
}

function answeredBanner(request: ChangeRequest): Banner | undefined {
  const last = request.clarifications?.at(-1);
  return last
    ? {
        text: `${last.answeredBy.name} answered your question "${last.question}": ${last.answer}`,
        style: 'good',
      }
    : undefined;
}

/** A reminder to the awaited approvers, or an escalation to a lead: which step, since when, who. */
function waitingBanner(
  request: ChangeRequest,
  kind: 'Reminder' | 'Escalated',
  timeZone: string | undefined,
): Banner | undefined {
  const open = currentRound(request)?.steps.find((st) => st.status === 'open');
  if (!open || request.status !== 'awaiting_approval') return undefined;
  const since = open.openedAt ? ` since ${formatInstant(open.openedAt, timeZone)}` : '';
  const who = awaitedApprovers(request)
    .map((p) => p.name)
    .join(', ');
  return kind === 'Reminder'
    ? {
        text: `Reminder: ${open.name} of ${request.id} has waited for your decision${since}. Approve, deny, or ask the requester a question.`,
        style: 'warning',
      }
    : {
        text: `Escalated: ${open.name} of ${request.id} has waited${since} for ${who || 'its approvers'}. Chase them, or have a delegate decide.`,
        style: 'attention',
      };
}

function emergencyBanner(request: ChangeRequest): Banner {
  const assessed = request.assessment;
  const why =
    request.reclassification?.to === 'emergency'
      ? `${request.reclassification.reason} (${request.reclassification.by.name})`
      : request.description;
  return {
    text: `Emergency change raised by ${request.requester.name}${assessed ? `, assessed by ${assessed.by.name} at ${RISK_LABELS[assessed.risk].toLowerCase()} risk` : ''}. Why it cannot wait: ${why} An MSP lead approves it now; you will be asked to approve it retrospectively once it is done. Nothing to do yet.`,
    style: 'attention',
  };
}

function noticeBanner(request: ChangeRequest, timeZone: string | undefined): Banner | undefined {
  const a = request.assessment;
  if (!a?.requestedWindow) return undefined;
  return {
    text: `Scheduled: ${request.title} will be carried out ${formatWindow(a.requestedWindow, timeZone)}. Expected impact: ${IMPACT_LABELS[a.impact].toLowerCase()}. Nothing to do; tell your MSP if that time does not suit.`,
    style: 'accent',
  };
}

function retrospectiveBanner(request: ChangeRequest): Banner {
  return {
    text: `${request.id} was carried out as an emergency, approved by an MSP lead. Please approve it retrospectively, or deny with a reason if it should not have been done.`,
    style: 'warning',
  };
}

function overdueBanner(request: ChangeRequest, timeZone: string | undefined): Banner {
  const due = request.reviewDueAt ? ` (due ${formatInstant(request.reviewDueAt, timeZone)})` : '';
  const waitingOn = awaitedApprovers(request).map((p) => p.name);
  const missing = [
    ...(request.review ? [] : ['the post-implementation review (file it below)']),
    ...(request.retrospective?.status === 'pending'
      ? [
          `the client's retrospective approval${waitingOn.length > 0 ? ` (waiting on ${waitingOn.join(', ')})` : ''}`,
        ]
      : []),
  ];
  return {
    text: `${request.id} is overdue for its close-out${due}. Still missing: ${missing.join(' and ') || 'nothing; it closes on its own'}.`,
    style: 'attention',
  };
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
