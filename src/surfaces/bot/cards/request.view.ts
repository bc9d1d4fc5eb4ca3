import { createHash } from 'node:crypto';
import {
  isTerminal,
  type ChangeRequest,
  type Person,
} from '../../../domain/change-request/change-request';
import { samePerson } from '../../../domain/change-request/change-request.machine';
import { canonicalize } from '../../../domain/audit/audit-chain';
import { isMspStaff, type ClientRole } from '../../../domain/client/client';
import type { JsonValue } from '../../../domain/shared/json';
import { CardVerbs } from '../card-verbs';
import { FIELD_LABELS, STATUS_COLORS, STATUS_LABELS, TYPE_LABELS } from './labels';
import { bindTemplate, type AdaptiveCardJson } from './template';

/** Who is looking at a card decides which buttons it has; the server still authorises every click. */
export interface Viewer {
  readonly person: Person;
  readonly roles: ReadonlySet<ClientRole>;
}

interface CardAction {
  readonly title: string;
  readonly verb: string;
  readonly style: 'default' | 'positive' | 'destructive';
  readonly inputs: 'auto' | 'none';
}

/** The request as everyone sees it, with the actions this viewer may take next. */
export function requestStatusCard(
  request: ChangeRequest,
  viewer: Viewer,
  clientName: string,
  banner?: Banner,
): AdaptiveCardJson {
  const staff = isMspStaff(viewer.roles);
  const requester =
    samePerson(request.requester, viewer.person) ||
    (request.onBehalfOf !== undefined && samePerson(request.onBehalfOf, viewer.person));
  const actions: CardAction[] = [];
  const s = request.status;
  if (staff && (s === 'approved' || s === 'failed'))
    actions.push(
      action(s === 'failed' ? 'Retry' : 'Start work', CardVerbs.Start, 'positive', 'none'),
    );
  if (staff && s === 'in_progress')
    actions.push(
      action('Mark implemented', CardVerbs.MarkImplemented, 'positive'),
      action('Mark failed', CardVerbs.MarkFailed, 'destructive'),
    );
  if (staff && s === 'implemented') actions.push(action('Close', CardVerbs.Close, 'positive'));
  if (staff && s === 'failed')
    actions.push(
      action('Close as failed', CardVerbs.CloseFailed, 'default'),
      action('Rolled back', CardVerbs.RolledBack, 'default'),
    );
  const canCancel =
    !isTerminal(s) && (staff || requester) && s !== 'in_progress' && s !== 'implemented';
  if (canCancel) actions.push(action('Cancel request', CardVerbs.Cancel, 'destructive'));
  if (requester && ['submitted', 'triaged', 'awaiting_approval'].includes(s))
    actions.push(action('Edit', CardVerbs.Edit, 'default', 'none'));
  actions.push(action('Refresh', CardVerbs.Status, 'default', 'none'));
  return bindTemplate('request-status', {
    ...commonData(request, clientName, banner ?? defaultBanner(request)),
    requestId: request.id,
    showClose: staff && s === 'implemented',
    showNotes: staff && ['in_progress', 'implemented', 'failed'].includes(s),
    notesLabel: s === 'implemented' ? 'Closing notes for the requester' : 'Notes',
    showReason: canCancel || (staff && s === 'in_progress'),
    reasonLabel:
      staff && s === 'in_progress' ? 'Reason (needed to mark failed)' : 'Reason (needed to cancel)',
    actions,
  });
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
): AdaptiveCardJson {
  const round = request.approval;
  const canDecide =
    request.status === 'awaiting_approval' &&
    round !== undefined &&
    round.decision === undefined &&
    round.version === request.version &&
    round.approvers.some((a) => samePerson(a, viewer.person));
  return bindTemplate('approval-request', {
    ...commonData(request, clientName, banner ?? defaultBanner(request)),
    canDecide,
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

function defaultBanner(request: ChangeRequest): Banner | undefined {
  const decision = request.approval?.decision;
  switch (request.status) {
    case 'awaiting_approval':
      return {
        text: `Waiting for ${listNames(request.approval?.approvers ?? [])} (any one of them decides).`,
        style: 'warning',
      };
    case 'approved':
      return decision
        ? { text: `Approved by ${decision.by.name}. Your MSP will carry it out.`, style: 'good' }
        : undefined;
    case 'denied':
      return decision
        ? { text: `Denied by ${decision.by.name}: ${decision.reason ?? ''}`, style: 'attention' }
        : undefined;
    case 'in_progress':
      return {
        text: `${request.assignee?.name ?? 'A technician'} is working on it.`,
        style: 'accent',
      };
    case 'implemented':
      return { text: 'Implemented; waiting to be closed.', style: 'good' };
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
    case 'draft':
    case 'submitted':
    case 'triaged':
    case 'needs_info':
    case 'review_pending':
      return undefined;
  }
}

function commonData(request: ChangeRequest, clientName: string, banner: Banner | undefined) {
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
