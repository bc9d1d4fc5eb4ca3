import type { Server } from 'restify';
import { z } from 'zod';
import {
  approvalInbox,
  bulkApprove,
  type BulkOutcome,
  type InboxItem,
} from '../../application/use-cases/approval-inbox';
import type { UseCaseDeps } from '../../application/use-cases/context';
import type { DomainError } from '../../domain/shared/errors';
import { CLASS_LABELS, RISK_LABELS, STATUS_LABELS } from '../bot/cards/labels';
import { apiRoute, parseInput, type Authenticate } from './tab-http';

export interface TabApprovalsDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

/** One screenful of the inbox: more than this is read one by one anyway. */
export const MAX_BULK_ITEMS = 50;

const BulkBody = z.object({
  items: z
    .array(
      z.object({
        requestId: z.string().trim().min(1, 'is required').max(40),
        version: z.number().int().positive(),
      }),
    )
    .min(1, 'select at least one request')
    .max(MAX_BULK_ITEMS, `approve at most ${MAX_BULK_ITEMS} requests at once`),
});

/**
 * The approval inbox in the tab: everything waiting for the caller's vote across their clients,
 * oldest first, and bulk approve for routine items. The caller is the token's person only.
 */
export function mountTabApprovalsApi(server: Server, deps: TabApprovalsDeps): void {
  const route = (handler: Parameters<typeof apiRoute>[2]) =>
    apiRoute(deps.authenticate, deps.log, handler);
  const uc = deps.useCases;

  server.get(
    '/api/tab/approvals',
    route(async ({ actor }) => ({
      body: { items: (await approvalInbox(uc, actor)).map(inboxItemDto) },
    })),
  );

  server.post(
    '/api/tab/approvals/bulk',
    route(async ({ actor, req }) => {
      const { items } = parseInput(BulkBody, req.body);
      const outcomes = await bulkApprove(uc, actor, items);
      return { body: { results: outcomes.map(outcomeDto) } };
    }),
  );
}

function inboxItemDto(item: InboxItem) {
  const r = item.request;
  const risk = r.approval?.risk ?? r.assessment?.risk;
  return {
    id: r.id,
    version: r.version,
    clientCode: item.client.code,
    clientName: item.client.name,
    title: r.title,
    changeClass: r.changeClass,
    classLabel: CLASS_LABELS[r.changeClass],
    ...(risk ? { risk, riskLabel: RISK_LABELS[risk] } : {}),
    stepName: item.stepName,
    waitingSince: item.waitingSince,
    ...(item.onBehalfOf ? { onBehalfOf: item.onBehalfOf.name } : {}),
    bulkApprovable: item.bulkApprovable,
    retrospective: item.retrospective,
  };
}

/** The use case's message, except where it speaks of a card the page does not have. */
function refusalMessage(error: DomainError): string {
  return error.code === 'CR.STALE_VERSION'
    ? 'It changed after this list was loaded. Reload the list, then open the request to see what changed.'
    : error.message;
}

/** Each item's outcome in words the page shows as is. */
function outcomeDto({ requestId, outcome }: BulkOutcome) {
  switch (outcome.kind) {
    case 'decided':
    case 'already_decided':
      return {
        requestId,
        outcome: 'approved' as const,
        status: outcome.request.status,
        statusLabel: STATUS_LABELS[outcome.request.status],
      };
    case 'refused':
      return {
        requestId,
        outcome: 'refused' as const,
        code: outcome.error.code,
        message: refusalMessage(outcome.error),
      };
    case 'not_bulk_approvable':
      return {
        requestId,
        outcome: 'not_eligible' as const,
        message: 'Not eligible for bulk approval any more: open the request to decide it.',
      };
  }
}
