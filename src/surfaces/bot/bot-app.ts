import { Application, type AdaptiveCard, type TurnState } from '@microsoft/teams-ai';
import { ActivityTypes, CardFactory, MessageFactory, TurnContext, type Activity } from 'botbuilder';
import { randomUUID } from 'node:crypto';
import { owedVote } from '../../domain/change-request/approval-inbox.policy';
import type { Delegation } from '../../domain/approval/delegation.policy';
import type { z } from 'zod';
import type { TeamsAdapter } from '@microsoft/teams-ai';
import type { ChangeRequest, Person } from '../../domain/change-request/change-request';
import { isChangeType } from '../../domain/change-request/change-request.payloads';
import { isMspStaff, mayRaise, rolesFor, type ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import { DomainError, ValidationError, type FieldIssue } from '../../domain/shared/errors';
import type { UseCaseDeps } from '../../application/use-cases/context';
import type { OutboxStore } from '../../application/ports/outbox';
import { StorageUnavailableError } from '../../application/ports/errors';
import { actOnRequest, type RequestAction } from '../../application/use-cases/act-on-request';
import { approvalInbox, bulkApprove } from '../../application/use-cases/approval-inbox';
import { decideApproval } from '../../application/use-cases/decide-approval';
import { editChange } from '../../application/use-cases/edit-change';
import { identify, withDisplayName, type Identity } from '../../application/use-cases/identify';
import { openConversation } from '../../application/use-cases/open-conversation';
import { listVisibleRequests, resolveRequest } from '../../application/use-cases/resolve-request';
import { submitChange } from '../../application/use-cases/submit-change';
import { answerQuestion, askQuestion } from '../../application/use-cases/clarify-change';
import { fileReview } from '../../application/use-cases/review-change';
import { addNote } from '../../application/use-cases/add-note';
import {
  assessChange,
  reclassifyChange,
  sendForApproval,
} from '../../application/use-cases/assess-change';
import { validateAssessment } from '../../domain/assessment/assessment';
import { CLASS_LABELS, RISK_LABELS } from './cards/labels';
import type { ActionOutcome } from '../../application/use-cases/apply-change';
import { revealTemporaryPassword, type ExecutionDeps } from '../../application/use-cases/execution';
import { actorOf } from './activity-identity';
import {
  ActionData,
  AnswerData,
  AssessData,
  DecisionData,
  FormData,
  MAX_CARD_DATA_BYTES,
  NoteData,
  QuestionData,
  ReclassifyData,
  RequestRef,
  RevealPasswordData,
  ReviewData,
} from './card-data';
import { ALL_CARD_VERBS, CardVerbs } from './card-verbs';
import { formCard, typePickerCard, type ClientChoices } from './cards/forms.view';
import { approvalInboxCard, bulkBanner, selectedOnCard } from './cards/inbox.view';
import { messageCard } from './cards/message.view';
import {
  approvalCard,
  cardHash,
  requestStatusCard,
  type Banner,
  type RequestCardExtras,
} from './cards/request.view';
import { assessFields, assessIssueFor, type AssessInputs } from './cards/assessment.view';
import type { AdaptiveCardJson } from './cards/template';
import { requestListCard, welcomeCard } from './cards/welcome.view';
import { templateDecisionCard } from './routes/template.route';
import { summaryCommand } from './routes/summary.route';
import { changeLogCommand } from './routes/change-log.route';
import { slaChannelCommand } from './routes/sla-channel.route';
import { deliveriesCommand, noteCommand, retryDeliveryVerb } from './routes/deliveries.route';
import type { ChannelStore } from '../../application/ports/channel-store';

export interface BotDeps {
  readonly useCases: UseCaseDeps & { readonly outbox: OutboxStore };
  /** The execution ports; absent when Graph is not configured. */
  readonly execution?: ExecutionDeps;
  readonly adapter: TeamsAdapter;
  readonly log: (message: string) => void;
  /** The MSP's bound channels; without it `bind sla channel` is not offered. */
  readonly channels?: ChannelStore;
}

type CardResult = AdaptiveCardJson;

/**
 * The Teams bot: commands, intake forms, approvals and technician actions. Routes translate
 * activities into use-case calls and render the outcome; every rule lives in the domain.
 * @remarks Every invoke gets a card back — never an empty response, which Teams would retry.
 */
export function createBotApplication(deps: BotDeps): Application<TurnState> {
  const app = new Application<TurnState>({
    adapter: deps.adapter,
    startTypingTimer: false,
    removeRecipientMention: true,
  });
  const uc = deps.useCases;

  const rememberConversation = async (context: TurnContext, actor: Person) => {
    // The incoming activity's id is not how to reach the person; keeping it would rewrite the row on every message.
    const { activityId: _activityId, ...reference } = TurnContext.getConversationReference(
      context.activity,
    );
    return openConversation(uc, { person: actor, reference });
  };

  const onInstall = async (context: TurnContext) => {
    const unnamed = actorOf(context.activity);
    if (!unnamed || context.activity.conversation?.conversationType !== 'personal') return;
    // An install event has no reply to carry an error card; the next message stores the reference again.
    const opened = await guardStorage(deps, async () =>
      rememberConversation(context, await withDisplayName(uc, unnamed)),
    );
    if (opened && opened.welcome)
      await context.sendActivity(attachment(welcomeCard(opened.identity)));
  };
  app.conversationUpdate('membersAdded', onInstall);
  app.activity(ActivityTypes.InstallationUpdate, onInstall);

  app.activity(ActivityTypes.Message, async (context) => {
    const unnamed = actorOf(context.activity);
    if (!unnamed) {
      await context.sendActivity(attachment(unidentifiedCard()));
      return;
    }
    const card = await guardCard(deps, async () => {
      const actor = await withDisplayName(uc, unnamed);
      const bound = deps.channels
        ? slaChannelCommand({ ...uc, channels: deps.channels }, context, actor)
        : undefined;
      if (bound) return bound;
      const opened =
        context.activity.conversation?.conversationType === 'personal'
          ? await rememberConversation(context, actor)
          : undefined;
      const identity = opened?.identity ?? (await identify(uc, actor));
      return handleCommand(uc, identity, (context.activity.text ?? '').trim());
    });
    await context.sendActivity(attachment(card));
  });

  const execute = (
    verb: string,
    handler: (
      actor: Person,
      data: Record<string, unknown>,
      context: TurnContext,
    ) => Promise<CardResult>,
  ) => {
    app.adaptiveCards.actionExecute<Record<string, unknown>>(
      verb,
      async (context, _state, data) => {
        const unnamed = actorOf(context.activity);
        if (!unnamed) return asCard(unidentifiedCard());
        if (JSON.stringify(data ?? {}).length > MAX_CARD_DATA_BYTES) {
          return asCard(
            messageCard({
              title: 'That card sent too much data',
              text: 'Shorten the text you entered and try again.',
              style: 'attention',
              code: 'CARD.TOO_LARGE',
            }),
          );
        }
        return asCard(
          await guardCard(deps, async () =>
            handler(await withDisplayName(uc, unnamed), data ?? {}, context),
          ),
        );
      },
    );
  };

  execute(CardVerbs.NewRequest, async (actor) => pickerFor(await identify(uc, actor)));
  execute(CardVerbs.Dismiss, () =>
    Promise.resolve(
      messageCard({
        title: 'Cancelled',
        text: 'Nothing was submitted. Type **new** to start again.',
      }),
    ),
  );
  execute(CardVerbs.List, async (actor) => listFor(uc, await identify(uc, actor)));

  execute(CardVerbs.ShowForm, async (actor, data) => {
    const identity = await identify(uc, actor);
    if (!isChangeType(data['type'])) return typePickerCard(staffClients(identity));
    const clientTenantId = typeof data['clientTenantId'] === 'string' ? data['clientTenantId'] : '';
    return formCard(data['type'], { clients: staffClients(identity), clientTenantId });
  });

  execute(CardVerbs.Submit, async (actor, data) => {
    const fields = FormData.safeParse(data);
    if (!fields.success || !isChangeType(data['type'])) return invalidCardData();
    const identity = await identify(uc, actor);
    const clientTenantId =
      typeof data['clientTenantId'] === 'string' ? data['clientTenantId'] : undefined;
    const result = await submitChange(uc, {
      actor,
      type: data['type'],
      fields: fields.data,
      ...(clientTenantId ? { clientTenantId } : {}),
    });
    if (!result.ok) {
      if (result.error instanceof ValidationError) {
        return formCard(data['type'], {
          values: fields.data,
          errors: result.error.issues,
          clients: staffClients(identity),
          ...(clientTenantId ? { clientTenantId } : {}),
        });
      }
      return errorCard(result.error);
    }
    const { request } = result.value;
    const viewer = { person: actor, roles: rolesOf(identity, request.tenantId) };
    const client = clientOf(identity, request.tenantId);
    return requestStatusCard(
      request,
      viewer,
      client?.name ?? '',
      {
        text:
          request.status === 'approved'
            ? `Submitted as ${request.id} and pre-approved: it fits a standard-change template your organisation approved.`
            : request.changeClass === 'emergency'
              ? `Raised as emergency ${request.id}. Assess it in the tab and send it for approval: an MSP lead approves it, and the client's contacts hear of it at once.`
              : `Submitted as ${request.id}. Your MSP will assess it (risk, plans, window) and send it for approval.`,
        style: 'good',
      },
      client ? { timeZone: zoneOf(client) } : {},
    );
  });

  execute(CardVerbs.Approve, (actor, data) => decide(uc, actor, data, 'approve'));
  execute(CardVerbs.Deny, (actor, data) => decide(uc, actor, data, 'deny'));
  execute(CardVerbs.ApproveTemplate, (actor, data) =>
    templateDecisionCard(uc, actor, data, 'approve'),
  );
  execute(CardVerbs.DeclineTemplate, (actor, data) =>
    templateDecisionCard(uc, actor, data, 'decline'),
  );

  // Each selected item is re-checked and decided like a card click; the inbox comes back refreshed.
  execute(CardVerbs.BulkApprove, async (actor, data) => {
    const selected = selectedOnCard(data);
    if (!selected) return invalidCardData();
    if (selected.length === 0) {
      return approvalInboxCard(await approvalInbox(uc, actor), {
        text: 'Nothing was selected: switch on the requests to approve, then choose **Approve selected**.',
        style: 'warning',
      });
    }
    const outcomes = await bulkApprove(uc, actor, selected);
    return approvalInboxCard(await approvalInbox(uc, actor), bulkBanner(outcomes));
  });

  execute(CardVerbs.RetryDelivery, (actor, data) => retryDeliveryVerb(uc, actor, data));
  // The use case decides who may add a note; a refused or oversized note keeps the card's text out of storage.
  execute(CardVerbs.AddNote, async (actor, data) => {
    const parsed = NoteData.safeParse(data);
    if (!parsed.success) return invalidCardData();
    const added = await addNote(uc, actor, undefined, parsed.data.requestId, parsed.data.note);
    if (!added.ok)
      return messageCard({
        title: "Cabinet couldn't add that note",
        text:
          added.error.code === 'CR.TEXT_TOO_LONG'
            ? `${added.error.message} Shorten it (or split it into two notes) and add it again.`
            : added.error.message,
        style: 'attention',
        code: added.error.code,
      });
    return statusFor(uc, actor, added.value.request.id, {
      text:
        added.value.side === 'msp'
          ? 'Note added to the timeline; the requester hears of it.'
          : 'Note added to the timeline; the technicians hear of it.',
      style: 'good',
    });
  });
  execute(CardVerbs.Status, async (actor, data) => {
    const ref = RequestRef.safeParse(data);
    return ref.success ? statusFor(uc, actor, ref.data.requestId) : invalidCardData();
  });

  // The password goes only into this invoke response, which Cabinet never stores or re-sends.
  execute(CardVerbs.RevealPassword, async (actor, data) => {
    const ref = RevealPasswordData.safeParse(data);
    if (!ref.success) return invalidCardData();
    if (!deps.execution) {
      return messageCard({
        title: 'Execution is not set up',
        text: 'Cabinet is not connected to Microsoft Graph here, so it holds no temporary passwords. Ask your MSP.',
        style: 'warning',
        code: 'EXEC.UNAVAILABLE',
      });
    }
    const revealed = await revealTemporaryPassword(deps.execution, {
      actor,
      requestId: ref.data.requestId,
      runId: ref.data.runId,
    });
    if (!revealed.ok) return errorCard(revealed.error);
    return messageCard({
      title: 'Temporary password (shown once)',
      text:
        'Cabinet has now forgotten this password: copy it before you close this card. Give it to the new ' +
        'user in person or by phone, never by e-mail; they must change it when they first sign in.',
      style: 'good',
      facts: [
        { title: 'Sign-in name', value: revealed.value.userPrincipalName },
        { title: 'Temporary password', value: revealed.value.password.reveal() },
      ],
    });
  });

  execute(CardVerbs.Edit, async (actor, data) => {
    const ref = RequestRef.safeParse(data);
    if (!ref.success) return invalidCardData();
    const visible = await resolveRequest(uc, actor, ref.data.requestId);
    if (!visible.ok) return errorCard(visible.error);
    const { request } = visible.value.stored;
    return formCard(request.type, {
      values: {
        title: request.title,
        description: request.description,
        ...(request.payload as Record<string, unknown>),
      },
      edit: { requestId: request.id, version: request.version },
    });
  });

  execute(CardVerbs.SaveEdit, async (actor, data) => {
    const ref = RequestRef.safeParse(data);
    const fields = FormData.safeParse(data);
    if (!ref.success || !fields.success || ref.data.version === undefined) return invalidCardData();
    const result = await editChange(uc, {
      actor,
      requestId: ref.data.requestId,
      version: ref.data.version,
      fields: fields.data,
    });
    if (!result.ok) {
      if (result.error instanceof ValidationError && isChangeType(data['type'])) {
        return formCard(data['type'], {
          values: fields.data,
          errors: result.error.issues,
          edit: { requestId: ref.data.requestId, version: ref.data.version },
        });
      }
      return errorCard(result.error);
    }
    return statusFor(uc, actor, result.value.id, {
      text: `Saved as version ${result.value.version}; the approvers have new cards.`,
      style: 'good',
    });
  });

  const act = (verb: string, toAction: (d: z.infer<typeof ActionData>) => RequestAction) =>
    execute(verb, async (actor, data) => {
      const parsed = ActionData.safeParse(data);
      if (!parsed.success) return invalidCardData();
      const outcome = await actOnRequest(uc, {
        actor,
        requestId: parsed.data.requestId,
        ...(parsed.data.version !== undefined ? { version: parsed.data.version } : {}),
        action: toAction(parsed.data),
      });
      if (outcome.kind === 'refused') {
        return outcome.request
          ? statusFor(uc, actor, outcome.request.id, refusalBanner(outcome.error))
          : errorCard(outcome.error);
      }
      return statusFor(uc, actor, outcome.request.id, {
        text: `Done: ${outcome.request.id} is now ${outcome.request.status.replace(/_/g, ' ')}.`,
        style: 'good',
      });
    });
  act(CardVerbs.Start, () => ({ type: 'WorkStarted' }));
  act(CardVerbs.MarkImplemented, (d) => ({
    type: 'ImplementationCompleted',
    notes: d.notes ?? '',
  }));
  act(CardVerbs.MarkFailed, (d) => ({ type: 'Failed', reason: d.reason ?? '' }));
  act(CardVerbs.RolledBack, (d) => ({ type: 'RolledBack', notes: d.notes ?? '' }));
  act(CardVerbs.Close, (d) => ({
    type: 'Closed',
    outcome: d.outcome ?? 'successful',
    notes: d.notes ?? '',
  }));
  act(CardVerbs.CloseFailed, (d) => ({ type: 'Closed', outcome: 'failed', notes: d.notes ?? '' }));
  act(CardVerbs.Cancel, (d) => ({ type: 'Cancelled', reason: d.reason ?? '' }));

  // Asking, answering and reviewing each call their own use case; the outcome renders like `act`.
  const change = (
    verb: string,
    run: (actor: Person, data: Record<string, unknown>) => Promise<ActionOutcome> | undefined,
    done: (id: string) => string,
  ) =>
    execute(verb, async (actor, data) => {
      const pending = run(actor, data);
      if (!pending) return invalidCardData();
      const outcome = await pending;
      if (outcome.kind === 'refused') {
        return outcome.request
          ? statusFor(uc, actor, outcome.request.id, refusalBanner(outcome.error))
          : errorCard(outcome.error);
      }
      return statusFor(uc, actor, outcome.request.id, {
        text: done(outcome.request.id),
        style: 'good',
      });
    });
  change(
    CardVerbs.Ask,
    (actor, data) => {
      const parsed = QuestionData.safeParse(data);
      return parsed.success
        ? askQuestion(uc, { actor, ...ref(parsed.data), question: parsed.data.question })
        : undefined;
    },
    (id) => `Question sent: ${id} waits for the requester's answer.`,
  );
  change(
    CardVerbs.Answer,
    (actor, data) => {
      const parsed = AnswerData.safeParse(data);
      return parsed.success
        ? answerQuestion(uc, { actor, ...ref(parsed.data), answer: parsed.data.answer })
        : undefined;
    },
    (id) => `Answer sent: ${id} carries on where it was.`,
  );
  change(
    CardVerbs.Review,
    (actor, data) => {
      const parsed = ReviewData.safeParse(data);
      if (!parsed.success) return undefined;
      const { requestId: _id, version: _version, ...fields } = parsed.data;
      return fileReview(uc, { actor, ...ref(parsed.data), fields });
    },
    (id) => `Review filed for ${id}.`,
  );

  change(
    CardVerbs.SendForApproval,
    (actor, data) => {
      const parsed = RequestRef.safeParse(data);
      return parsed.success ? sendForApproval(uc, { actor, ...ref(parsed.data) }) : undefined;
    },
    (id) => `Sent: ${id} follows the client's approval policy from here.`,
  );
  change(
    CardVerbs.Reclassify,
    (actor, data) => {
      const parsed = ReclassifyData.safeParse(data);
      return parsed.success
        ? reclassifyChange(uc, {
            actor,
            ...ref(parsed.data),
            to: parsed.data.changeClass,
            reason: parsed.data.reclassifyReason,
          })
        : undefined;
    },
    (id) => `Reclassified ${id}: check its assessment, then send it for approval.`,
  );

  // A form with problems comes back opened on the same card, with what was typed and what to fix.
  execute(CardVerbs.Assess, async (actor, data) => {
    const parsed = AssessData.safeParse(data);
    if (!parsed.success) return invalidCardData();
    const { requestId, version, ...inputs } = parsed.data;
    const values: AssessInputs = { ...inputs, affectedUsers: String(inputs.affectedUsers) };
    const visible = await resolveRequest(uc, actor, requestId);
    if (!visible.ok) return errorCard(visible.error);
    const form = assessFields(values, zoneOf(visible.value.client));
    const reopen = (issues: readonly FieldIssue[], banner: Banner) =>
      statusFor(uc, actor, requestId, banner, { assessForm: { values, issues } });
    if (form.issues.length > 0) {
      const rest = validateAssessment(form.fields, { selfId: visible.value.stored.request.id });
      return reopen([...form.issues, ...(rest.ok ? [] : rest.error.issues)], FIX_FIELDS);
    }
    const overrideReason = values.overrideReason.trim();
    const outcome = await assessChange(uc, {
      actor,
      requestId,
      ...(version !== undefined ? { version } : {}),
      fields: form.fields,
      ...(overrideReason ? { overrideReason } : {}),
    });
    if (outcome.kind === 'done')
      return statusFor(uc, actor, requestId, assessedBanner(outcome.request));
    const { error } = outcome;
    if (error instanceof ValidationError) return reopen(error.issues, FIX_FIELDS);
    const issue = assessIssueFor(error);
    if (issue)
      return reopen([issue], { text: `${error.message} (${error.code})`, style: 'attention' });
    return outcome.request ? reopen([], refusalBanner(error)) : errorCard(error);
  });

  // Registered last: any verb not handled above still gets a card saying what happened.
  app.adaptiveCards.actionExecute(
    (context) =>
      Promise.resolve(
        context.activity.name === 'adaptiveCard/action' &&
          !ALL_CARD_VERBS.has(verbOf(context.activity)),
      ),
    (context) =>
      Promise.resolve(
        asCard(
          messageCard({
            title: 'Unknown action',
            text: `This card asked for "${verbOf(context.activity).slice(0, 60)}", which Cabinet does not know. It may be from an older version; type **help** for a fresh start.`,
            style: 'attention',
            code: 'CARD.UNKNOWN_VERB',
          }),
        ),
      ),
  );

  app.error(async (context, error) => {
    const correlation = randomUUID();
    deps.log(`turn failed [${correlation}]: ${describeError(error)}`);
    if (context.activity.type === 'message')
      await context.sendActivity(attachment(failureCard(error, correlation)));
  });
  return app;
}

async function handleCommand(
  uc: BotDeps['useCases'],
  identity: Identity,
  text: string,
): Promise<CardResult> {
  const spoken = text.replace(/<at>.*?<\/at>/g, '').trim();
  // A note keeps the case of its text, so it is matched before the command is lower-cased.
  const note = noteCommand(uc, identity.person, spoken);
  if (note) return note;
  const command = spoken.toLowerCase();
  if (command === 'new' || command === 'new request' || command === 'raise')
    return pickerFor(identity);
  if (command === 'my requests' || command === 'list' || command === 'requests')
    return listFor(uc, identity);
  if (command === 'approvals' || command === 'my approvals')
    return approvalInboxCard(await approvalInbox(uc, identity.person));
  if (command === 'deliveries' || command === 'parked deliveries')
    return deliveriesCommand(uc, identity.person);
  const summary = summaryCommand(uc, identity.person, command);
  if (summary) return summary;
  const changes = changeLogCommand(uc, identity.person, command);
  if (changes) return changes;
  const status = /^status\s+(\S+)$/.exec(command);
  if (status) return statusFor(uc, identity.person, status[1]!);
  if (command === 'help' || command === 'hi' || command === 'hello' || command === '')
    return welcomeCard(identity);
  return messageCard({
    title: "I didn't catch that",
    text: 'Try **new** to raise a request, **my requests** to see requests, **status CONTOSO-1042** for one request, or **help**.',
    actions: identity.memberships.some((m) => mayRaise(m.roles))
      ? [{ title: 'Raise a request', verb: CardVerbs.NewRequest, data: {} }]
      : [],
  });
}

function pickerFor(identity: Identity): CardResult {
  if (!identity.memberships.some((m) => mayRaise(m.roles)))
    return errorCard(new DomainError('ACCESS.NOT_REGISTERED', notRegisteredText()));
  return typePickerCard(staffClients(identity));
}

async function listFor(uc: UseCaseDeps, identity: Identity): Promise<CardResult> {
  if (identity.memberships.length === 0)
    return errorCard(new DomainError('ACCESS.NOT_REGISTERED', notRegisteredText()));
  const requests = await listVisibleRequests(uc, identity.memberships, { limit: 20 });
  const heading = identity.isMspStaff
    ? 'Requests for your clients'
    : `Requests for ${identity.memberships[0]!.client.name}`;
  return requestListCard(
    requests,
    identity.memberships.some((m) => mayRaise(m.roles)),
    heading,
  );
}

async function statusFor(
  uc: UseCaseDeps,
  actor: Person,
  requestId: string,
  banner?: Banner,
  extras: Pick<RequestCardExtras, 'assessForm'> = {},
): Promise<CardResult> {
  const visible = await resolveRequest(uc, actor, requestId);
  if (!visible.ok) return errorCard(visible.error);
  const { client, roles, stored } = visible.value;
  const now = uc.clock.now().toISOString();
  const delegations = await uc.delegations.inForce(client.tenantId, now);
  const viewer = { person: actor, roles, delegations };
  const request = stored.request;
  return owedVote(request, actor, delegations, now)
    ? approvalCard(request, viewer, client.name, banner, { timeZone: zoneOf(client) })
    : requestStatusCard(request, viewer, client.name, banner, {
        ...extras,
        timeZone: zoneOf(client),
      });
}

async function decide(
  uc: UseCaseDeps,
  actor: Person,
  data: Record<string, unknown>,
  decision: 'approve' | 'deny',
): Promise<CardResult> {
  const parsed = DecisionData.safeParse(data);
  if (!parsed.success || parsed.data.version === undefined) return invalidCardData();
  const viewer = (client: ClientProfile, delegations: readonly Delegation[] = []) => ({
    person: actor,
    roles: rolesFor(client, actor),
    delegations,
  });
  const outcome = await decideApproval(uc, {
    actor,
    requestId: parsed.data.requestId,
    version: parsed.data.version,
    ...(parsed.data.step !== undefined ? { step: parsed.data.step } : {}),
    decision,
    ...(parsed.data.reason !== undefined ? { reason: parsed.data.reason } : {}),
    cardHash: (request, client, delegations) =>
      cardHash(
        approvalCard(request, viewer(client, delegations), client.name, undefined, {
          timeZone: zoneOf(client),
        }),
      ),
  });
  switch (outcome.kind) {
    case 'decided':
    case 'already_decided':
      return approvalCard(outcome.request, viewer(outcome.client), outcome.client.name, undefined, {
        timeZone: zoneOf(outcome.client),
      });
    case 'refused': {
      const { visible } = outcome;
      return visible
        ? approvalCard(
            visible.request,
            viewer(visible.client),
            visible.client.name,
            refusalBanner(outcome.error),
            { timeZone: zoneOf(visible.client) },
          )
        : errorCard(outcome.error);
    }
  }
}

const FIX_FIELDS: Banner = {
  text: 'The assessment was not saved: fix the fields marked in the form below and save again.',
  style: 'attention',
};

/** What Cabinet made of a saved assessment: its suggested risk against the risk set, and what next. */
function assessedBanner(request: ChangeRequest): Banner {
  const a = request.assessment;
  if (!a) return { text: `Assessment saved for ${request.id}.`, style: 'good' };
  const suggested = RISK_LABELS[a.suggestedRisk].toLowerCase();
  const risk = a.riskOverridden
    ? `Cabinet suggests ${suggested} risk; you set ${RISK_LABELS[a.risk].toLowerCase()} (your reason is recorded).`
    : `Cabinet suggests ${suggested} risk, which you kept.`;
  return {
    text: `Assessment saved as version ${request.version} (${CLASS_LABELS[request.changeClass].toLowerCase()}). ${risk} Send it for approval when it is ready.`,
    style: 'good',
  };
}

function refusalBanner(error: DomainError): Banner {
  return {
    text: `${error.message} (${error.code})`,
    style: error.code === 'CR.STALE_VERSION' ? 'warning' : 'attention',
  };
}

function staffClients(identity: Identity): ClientChoices {
  return identity.isMspStaff
    ? identity.memberships.filter((m) => isMspStaff(m.roles)).map((m) => m.client)
    : [];
}

function rolesOf(identity: Identity, tenantId: string) {
  return identity.memberships.find((m) => m.client.tenantId === tenantId)?.roles ?? new Set();
}

function clientOf(identity: Identity, tenantId: string): ClientProfile | undefined {
  return identity.memberships.find((m) => m.client.tenantId === tenantId)?.client;
}

/** The client's zone for dates on cards, through the rules so a configured schedule's zone wins. */
function zoneOf(client: ClientProfile): string {
  return rulesFor(client).timeZone;
}

/** The request a card names and the version it showed, as a use case's command expects them. */
function ref(data: { readonly requestId: string; readonly version?: number | undefined }) {
  return {
    requestId: data.requestId,
    ...(data.version !== undefined ? { version: data.version } : {}),
  };
}

function errorCard(error: DomainError): CardResult {
  return messageCard({
    title: "Cabinet couldn't do that",
    text: error.message,
    style: 'attention',
    code: error.code,
  });
}

function invalidCardData(): CardResult {
  return messageCard({
    title: 'That card sent data Cabinet cannot use',
    text: 'The card may be out of date or was altered. Type **help** for a fresh start.',
    style: 'attention',
    code: 'CARD.INVALID_DATA',
  });
}

function unidentifiedCard(): CardResult {
  return messageCard({
    title: 'Cabinet could not tell who you are',
    text: 'Your message arrived without a Microsoft Entra identity or with mismatched tenants, so nothing was done. Open Cabinet from Microsoft Teams signed in with your work account.',
    style: 'attention',
    code: 'ACCESS.UNIDENTIFIED',
  });
}

function notRegisteredText(): string {
  return 'Cabinet does not know you yet. Ask your MSP to add you as a client admin or approver.';
}

function failureCard(error: unknown, correlation: string): CardResult {
  if (error instanceof StorageUnavailableError) {
    return messageCard({
      title: 'Cabinet cannot reach its storage',
      text: 'Nothing was changed. Please try again in a minute; if it persists, tell your MSP.',
      style: 'attention',
      code: `STORAGE.UNAVAILABLE · ${correlation}`,
    });
  }
  return messageCard({
    title: 'Something went wrong',
    text: 'Nothing was changed. Please try again; if it persists, tell your MSP and quote the code below.',
    style: 'attention',
    code: `INTERNAL · ${correlation}`,
  });
}

async function guardCard(deps: BotDeps, work: () => Promise<CardResult>): Promise<CardResult> {
  try {
    return await work();
  } catch (error: unknown) {
    const correlation = randomUUID();
    deps.log(`request failed [${correlation}]: ${describeError(error)}`);
    return failureCard(error, correlation);
  }
}

async function guardStorage<T>(deps: BotDeps, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error: unknown) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    deps.log(`install event not recorded: ${describeError(error)}`);
    return undefined;
  }
}

function verbOf(activity: Partial<Activity>): string {
  const verb = (activity.value as { action?: { verb?: unknown } } | undefined)?.action?.verb;
  return typeof verb === 'string' ? verb : '';
}

function asCard(card: AdaptiveCardJson): AdaptiveCard {
  return card;
}

export function attachment(card: AdaptiveCardJson): Partial<Activity> {
  return MessageFactory.attachment(CardFactory.adaptiveCard(card));
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` <- ${describeError(error.cause)}` : '';
  return `${error.name}: ${error.message}${cause}`;
}
