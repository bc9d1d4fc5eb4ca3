import { noteSide } from '../../../domain/change-request/notes.policy';
import { createHash } from 'node:crypto';
import {
  PROBE_ASSESSED,
  reviewOutcomesAllowed,
} from '../../../domain/change-request/change-request.probes';
import type { Delegation } from '../../../domain/approval/delegation.policy';
import { awaitedApprovers, currentRound } from '../../../application/use-cases/notifications';
import { decidedBy, settledDecision } from '../../../domain/change-request/approval-summary';
import { unconfiguredRules } from '../../../domain/client/client-rules';
import type { ChangeRequest, Person } from '../../../domain/change-request/change-request';
import {
  isRequester,
  wouldAccept,
  type ChangeEvent,
} from '../../../domain/change-request/change-request.machine';
import { isExecutableType } from '../../../domain/execution/execution-plan';
import { reviewRequiredFor } from '../../../domain/assessment/post-implementation-review';
import { canonicalize } from '../../../domain/audit/audit-chain';
import { isMspStaff, type ClientRole } from '../../../domain/client/client';
import { PSA_NAMES, type PsaLink } from '../../../domain/psa/psa';
import type { JsonValue } from '../../../domain/shared/json';
import { CardVerbs } from '../card-verbs';
import { CHANGE_CLASSES } from '../../../domain/change-request/change-class';
import { assessForm, type AssessFormState } from './assessment.view';
import {
  assessmentFacts,
  classNotices,
  questionLines,
  ruleText,
  stepLines,
  viewerStep,
} from './itil.view';
import {
  CLASS_LABELS,
  FIELD_LABELS,
  OBJECTIVE_LABELS,
  OUTCOME_LABELS,
  STATUS_COLORS,
  STATUS_LABELS,
  TYPE_LABELS,
} from './labels';
import { bindTemplate, type AdaptiveCardJson } from './template';

/** Who is looking at a card decides which buttons it has; the server still authorises every click. */
export interface Viewer {
  readonly person: Person;
  readonly roles: ReadonlySet<ClientRole>;
  /** Delegations in force for the client, so a delegate's approval card has its buttons. */
  readonly delegations?: readonly Delegation[];
}

interface CardAction {
  readonly title: string;
  readonly verb: string;
  readonly style: 'default' | 'positive' | 'destructive';
  readonly inputs: 'auto' | 'none';
}

/** Links and one-off actions a card may offer beyond the state machine's own buttons. */
export interface RequestCardExtras {
  /** Where the request's wizard opens in the Cabinet tab; shown to MSP staff for executable work. */
  readonly wizardUrl?: string;
  /** The run whose new user's temporary password the requester may reveal, once. */
  readonly revealPasswordRunId?: string;
  /** The client's IANA time zone, for windows; UTC (labelled) when absent. */
  readonly timeZone?: string;
  /** An Assess form sent back with what to fix: the card shows it opened, values kept. */
  readonly assessForm?: AssessFormState;
}

const WIZARD_STATUSES: ReadonlySet<ChangeRequest['status']> = new Set([
  'approved',
  'in_progress',
  'failed',
  'implemented',
]);

/** The request as everyone sees it, with the actions this viewer may take next. */
export function requestStatusCard(
  request: ChangeRequest,
  viewer: Viewer,
  clientName: string,
  banner?: Banner,
  extras: RequestCardExtras = {},
): AdaptiveCardJson {
  // Buttons come from the state machine itself: a button shows only if the domain would accept its event.
  const can = permits(request, viewer);
  const s = request.status;
  const canStart = can({ type: 'WorkStarted' });
  const canImplement = can({ type: 'ImplementationCompleted' });
  const canFail = can({ type: 'Failed', reason: PROBE });
  const canClose = can({ type: 'Closed', outcome: 'successful', notes: '' });
  const canCloseFailed = can({ type: 'Closed', outcome: 'failed', notes: '' });
  const canRollBack = can({ type: 'RolledBack', notes: '' });
  // Work under way is ended with Mark failed, so nobody cancels a half-applied change by accident.
  // A requester cancelling mid-run is allowed by the domain, but the card leaves it to the technician.
  const canCancel = can({ type: 'Cancelled', reason: PROBE }) && s !== 'in_progress';
  const canAsk = can({ type: 'InfoRequested', question: PROBE });
  const canAnswer = can({ type: 'InfoProvided', answer: PROBE });
  // Normal and emergency changes close by their review (the PIR); standard changes keep Close.
  const reviewOutcomes = reviewRequiredFor(request.changeClass) ? reviewOutcomesAllowed(can) : [];
  const canEdit = can({
    type: 'Edited',
    changes: {
      type: request.type,
      title: request.title,
      description: request.description,
      payload: request.payload,
    },
  });
  // Assessing, sending and reclassifying are MSP work on a triaged request; the domain says who.
  const canAssess = s === 'triaged' && can(PROBE_ASSESSED);
  const canSend =
    s === 'triaged' &&
    isMspStaff(viewer.roles) &&
    (request.assessment !== undefined || request.templateId !== undefined);
  const reclassifyTo =
    s === 'triaged'
      ? CHANGE_CLASSES.filter(
          (to) =>
            to !== request.changeClass &&
            // Whether a standard change fits an approved template is the use case's to find out.
            can({
              type: 'Reclassified',
              to,
              reason: PROBE_REASON,
              ...(to === 'standard' ? { templateId: PROBE } : {}),
            }),
        )
      : [];
  const actions: CardAction[] = [];
  if (canStart)
    actions.push(
      action(s === 'failed' ? 'Retry' : 'Start work', CardVerbs.Start, 'positive', 'none'),
    );
  if (canImplement) actions.push(action('Mark implemented', CardVerbs.MarkImplemented, 'positive'));
  if (canFail) actions.push(action('Mark failed', CardVerbs.MarkFailed, 'destructive'));
  if (canClose) actions.push(action('Close', CardVerbs.Close, 'positive'));
  if (canCloseFailed) actions.push(action('Close as failed', CardVerbs.CloseFailed, 'default'));
  if (canRollBack) actions.push(action('Rolled back', CardVerbs.RolledBack, 'default'));
  if (canAnswer) actions.push(action('Send answer', CardVerbs.Answer, 'positive'));
  if (canCancel) actions.push(action('Cancel request', CardVerbs.Cancel, 'destructive'));
  if (canEdit) actions.push(action('Edit', CardVerbs.Edit, 'default', 'none'));
  actions.push(action('Refresh', CardVerbs.Status, 'default', 'none'));
  const showWizard =
    extras.wizardUrl !== undefined &&
    isExecutableType(request.type) &&
    WIZARD_STATUSES.has(s) &&
    isMspStaff(viewer.roles);
  // A triaged request waits for the technician's assessment, which is made in the tab.
  const showAssess = extras.wizardUrl !== undefined && s === 'triaged' && isMspStaff(viewer.roles);
  const showReveal =
    extras.revealPasswordRunId !== undefined &&
    request.type === 'new_user' &&
    isRequester(request, viewer.person);
  return bindTemplate('request-status', {
    ...commonData(request, clientName, banner ?? defaultBanner(request, viewer), extras.timeZone),
    requestId: request.id,
    showClose: canClose,
    showNotes: canImplement || canClose || canRollBack || canCloseFailed,
    notesLabel: canClose ? 'Closing notes for the requester' : 'Notes',
    showReason: canCancel || canFail,
    reasonLabel: canFail ? 'Reason (needed to mark failed)' : 'Reason (needed to cancel)',
    actions,
    wizardUrl: showWizard ? extras.wizardUrl : '',
    revealRunId: showReveal ? extras.revealPasswordRunId : '',
    assessUrl: showAssess ? extras.wizardUrl : '',
    canAsk,
    canAnswer,
    question: request.clarification?.question ?? '',
    canReview: reviewOutcomes.length > 0,
    reviewOutcomes: reviewOutcomes.map((o) => ({ title: OUTCOME_LABELS[o], value: o })),
    reviewOutcome: reviewOutcomes[0] ?? '',
    objectiveChoices: Object.entries(OBJECTIVE_LABELS).map(([value, title]) => ({ title, value })),
    assessForm: canAssess
      ? assessForm(request, extras.timeZone, extras.assessForm)
      : { body: [], actions: [] },
    assessOpen: canAssess && extras.assessForm !== undefined,
    assessCollapsed: canAssess && extras.assessForm === undefined,
    reclassifyChoices: reclassifyTo.map((c) => ({ title: CLASS_LABELS[c], value: c })),
    reclassifyDefault: reclassifyTo[0] ?? '',
    canSend,
    // The technician's buttons get their own row: Teams shows at most five per row.
    showTechActions:
      canSend || (canAssess && extras.assessForm === undefined) || reclassifyTo.length > 0,
    // The use case decides again on every click.
    canNote: noteSide(request, viewer.person, viewer.roles) !== undefined,
    psaLine: psaLine(request.psa),
  });
}

/**
 * "HaloPSA ticket 1234", linked when the PSA gave a web address; empty until the relay has opened
 * the ticket. Only http(s) addresses become links, with the characters that would end a Markdown
 * link escaped, since the address comes from the PSA.
 */
function psaLine(link: PsaLink | undefined): string {
  if (link?.ticketId === undefined) return '';
  const label = `${PSA_NAMES[link.psa]} ticket ${link.ticketId.replace(/[[\]()*_`\\]/g, '')}`;
  const url = webUrl(link.ticketUrl);
  return url ? `[${label}](${url})` : label;
}

function webUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || !URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return url.href.replace(/\(/g, '%28').replace(/\)/g, '%29');
}

/**
 * The card an approver decides on. Its canonical hash is recorded with the decision ("what you
 * saw is what you approved"), so it must depend only on the request and the viewer.
 */
export function approvalCard(
  request: ChangeRequest,
  viewer: Viewer,
  clientName: string,
  banner?: Banner,
  extras: Pick<RequestCardExtras, 'timeZone'> = {},
): AdaptiveCardJson {
  const round = currentRound(request);
  const open = round?.steps.find((st) => st.status === 'open');
  const can = permits(request, viewer);
  const canDecide =
    open !== undefined &&
    can({
      type: 'VoteCast',
      decision: {
        by: viewer.person,
        step: open.id,
        version: round?.version ?? request.version,
        outcome: 'approved',
        at: request.updatedAt,
      },
      delegations: viewer.delegations ?? [],
    });
  const mine = viewerStep(round, viewer.person);
  return bindTemplate('approval-request', {
    ...commonData(request, clientName, banner ?? defaultBanner(request, viewer), extras.timeZone),
    canDecide,
    step: open?.id ?? '',
    stepNote:
      canDecide && mine
        ? `You are voting on step ${mine.position} of ${mine.of}, ${mine.step.name}: ${ruleText(mine.step.rule, mine.step.approvers.length)} must approve.`
        : '',
    canAsk: can({ type: 'InfoRequested', question: PROBE }),
  });
}

/** Stand-in text for probing events that need a reason; never stored. */
const PROBE = 'probe';
/** A stand-in reason that passes the domain's reason check, for probing reclassification. */
const PROBE_REASON = 'probe reason for the card';
/** A stand-in assessment keeping the suggested risk, so the probe asks only who and when. */
/** Whether the domain would accept `event` from this viewer now (a dry run of the transition). */
function permits(request: ChangeRequest, viewer: Viewer): (event: ChangeEvent) => boolean {
  return wouldAccept(request, {
    actor: viewer.person,
    roles: viewer.roles,
    now: request.updatedAt,
    rules: unconfiguredRules('UTC'),
  });
}

/** SHA-256 over the card's canonical JSON. */
export function cardHash(card: AdaptiveCardJson): string {
  return createHash('sha256')
    .update(canonicalize(card as unknown as JsonValue), 'utf8')
    .digest('hex');
}

export interface Banner {
  readonly text: string;
  readonly style: 'default' | 'good' | 'warning' | 'attention' | 'accent';
}

function defaultBanner(request: ChangeRequest, viewer: Viewer): Banner | undefined {
  const decision = settledDecision(request.approval);
  switch (request.status) {
    case 'awaiting_approval': {
      const open = request.approval?.steps.find((st) => st.status === 'open');
      return {
        text: `Waiting for ${listNames(awaitedApprovers(request))}${open ? ` (${open.name})` : ''}.`,
        style: 'warning',
      };
    }
    case 'approved':
      if (decision?.preApproved)
        return {
          text: 'Pre-approved under a standard-change template the client approved. Your MSP will carry it out.',
          style: 'good',
        };
      return decision
        ? { text: `Approved by ${decidedBy(decision)}. Your MSP will carry it out.`, style: 'good' }
        : undefined;
    case 'denied':
      return decision
        ? { text: `Denied by ${decidedBy(decision)}: ${decision.reason ?? ''}`, style: 'attention' }
        : undefined;
    case 'in_progress':
      return {
        text: `${request.assignee?.name ?? 'A technician'} is working on it.`,
        style: 'accent',
      };
    case 'implemented':
      return {
        text: reviewRequiredFor(request.changeClass)
          ? 'Implemented; the technician files the post-implementation review to close it.'
          : 'Implemented; waiting to be closed.',
        style: 'good',
      };
    case 'failed':
      return { text: `Failed: ${request.failure?.reason ?? ''}`, style: 'attention' };
    case 'closed':
    case 'rolled_back':
      return request.closure
        ? {
            text: `${STATUS_LABELS[request.status]} (${request.closure.outcome.replace(/_/g, ' ')}) by ${request.closure.by.name}${request.closure.notes ? `: ${request.closure.notes}` : '.'}`,
            style: request.status === 'closed' ? 'good' : 'attention',
          }
        : undefined;
    case 'cancelled':
      return request.cancellation
        ? {
            text: `Cancelled by ${request.cancellation.by.name}: ${request.cancellation.reason}`,
            style: 'default',
          }
        : undefined;
    case 'needs_info': {
      const open = request.clarification;
      if (!open) return undefined;
      return isRequester(request, viewer.person)
        ? {
            text: `${open.askedBy.name} asks: ${open.question} Answer below; the request waits until you do.`,
            style: 'warning',
          }
        : {
            text: `${open.askedBy.name} asked: ${open.question} Waiting for ${request.requester.name} to answer.`,
            style: 'warning',
          };
    }
    case 'review_pending':
      return {
        text: `Implemented as an emergency. Waiting for the client's retrospective approval${request.review ? '' : ' and the post-implementation review'}.`,
        style: 'warning',
      };
    case 'triaged':
      return {
        text: 'Waiting for the MSP to assess it (risk, plans, window) and send it for approval.',
        style: 'accent',
      };
    case 'draft':
    case 'submitted':
      return undefined;
  }
}

function commonData(
  request: ChangeRequest,
  clientName: string,
  banner: Banner | undefined,
  timeZone: string | undefined,
) {
  const round = currentRound(request);
  return {
    id: request.id,
    version: request.version,
    typeLabel: TYPE_LABELS[request.type],
    title: request.title,
    description: request.description,
    statusLabel: STATUS_LABELS[request.status],
    statusColor: STATUS_COLORS[request.status],
    requester: request.requester.name,
    clientName,
    banner: banner?.text ?? '',
    bannerStyle: banner?.style ?? 'default',
    facts: payloadFacts(request),
    classLabel: CLASS_LABELS[request.changeClass],
    notices: classNotices(request),
    itilFacts: assessmentFacts(request, timeZone),
    rollbackPlan: request.assessment?.rollbackPlan ?? '',
    signals: (request.assessment?.signals ?? []).map((x) => ({ text: x.detail })),
    conflicts: (request.assessment?.conflicts ?? []).map((c) => ({ text: c.message })),
    roundTitle: request.status === 'review_pending' ? 'Retrospective approval' : 'Approval steps',
    steps: stepLines(round),
    questions: questionLines(request),
  };
}

/** Payload fields as card facts, in the schema's order, skipping empty ones. */
export function payloadFacts(request: ChangeRequest): { title: string; value: string }[] {
  return Object.entries(request.payload as Record<string, unknown>)
    .filter(
      ([, value]) =>
        value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0),
    )
    .map(([key, value]) => ({
      title: FIELD_LABELS[key] ?? key,
      value: Array.isArray(value)
        ? value.join(', ')
        : typeof value === 'boolean'
          ? value
            ? 'Yes'
            : 'No'
          : String(value),
    }));
}

function action(
  title: string,
  verb: string,
  style: CardAction['style'] = 'default',
  inputs: CardAction['inputs'] = 'auto',
): CardAction {
  return { title, verb, style, inputs };
}

export function listNames(people: readonly Person[]): string {
  const names = people.map((p) => p.name);
  return names.length <= 1
    ? (names[0] ?? 'nobody')
    : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}
