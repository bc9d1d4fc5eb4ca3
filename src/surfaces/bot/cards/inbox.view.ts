import { z } from 'zod';
import type {
  BulkItem,
  BulkOutcome,
  InboxItem,
} from '../../../application/use-cases/approval-inbox';
import { rulesFor } from '../../../domain/client/client-rules';
import { formatInstant } from './itil.view';
import { CLASS_LABELS, RISK_LABELS } from './labels';
import type { Banner } from './request.view';
import { bindTemplate, type AdaptiveCardJson } from './template';

/** A card stays well under Teams' size limit; the tab lists the rest. */
export const MAX_INBOX_CARD_ITEMS = 20;

/** The input id of an item's toggle: the bulk handler reads only the toggles of the items it was sent. */
export function toggleIdFor(requestId: string): string {
  return `pick-${requestId}`;
}

/** What **Approve selected** sends: the routine items the card showed, and each one's toggle. */
const BulkApproveData = z.object({
  shown: z
    .array(
      z.object({
        requestId: z.string().trim().min(1).max(40),
        version: z.coerce.number().int().min(0).max(1_000_000),
      }),
    )
    .min(1)
    .max(MAX_INBOX_CARD_ITEMS),
});

/**
 * The items whose toggle was on, among those the card showed; undefined when the data is not
 * what the card sends. Toggles for ids the card did not show are ignored.
 */
export function selectedOnCard(data: Record<string, unknown>): BulkItem[] | undefined {
  const parsed = BulkApproveData.safeParse(data);
  if (!parsed.success) return undefined;
  return parsed.data.shown.filter((i) => {
    const on = data[toggleIdFor(i.requestId)];
    return on === 'true' || on === true;
  });
}

/** The inbox banner: a summary line, and one line per item that was not approved. */
export interface InboxBanner extends Banner {
  readonly lines?: readonly string[];
}

/**
 * Everything waiting for the viewer's vote, oldest first: an open action per item, a toggle on
 * routine items and **Approve selected**, which carries the bulk-approvable items it showed.
 */
export function approvalInboxCard(
  items: readonly InboxItem[],
  banner?: InboxBanner,
): AdaptiveCardJson {
  const shown = items.slice(0, MAX_INBOX_CARD_ITEMS);
  const hidden = items.length - shown.length;
  return bindTemplate('approval-inbox', {
    banner: banner?.text ?? '',
    bannerStyle: banner?.style ?? 'default',
    bannerLines: (banner?.lines ?? []).map((text) => ({ text })),
    items: shown.map((item) => {
      const r = item.request;
      const risk = r.approval?.risk ?? r.assessment?.risk;
      const step = [
        item.stepName,
        ...(item.onBehalfOf ? [`for ${item.onBehalfOf.name}`] : []),
        ...(item.retrospective ? ['retrospective'] : []),
      ].join(', ');
      return {
        id: r.id,
        title: r.title,
        details: [
          item.client.name,
          CLASS_LABELS[r.changeClass],
          ...(risk ? [`${RISK_LABELS[risk]} risk`] : []),
          step,
        ].join(' · '),
        waiting: `Waiting since ${formatInstant(item.waitingSince, rulesFor(item.client).timeZone)}`,
        bulkApprovable: item.bulkApprovable,
        toggleId: toggleIdFor(r.id),
        openTitle: item.bulkApprovable ? 'Open' : 'Open to decide',
      };
    }),
    shown: shown
      .filter((i) => i.bulkApprovable)
      .map((i) => ({ requestId: i.request.id, version: i.request.version })),
    more:
      hidden > 0
        ? `${hidden} more wait${hidden === 1 ? 's' : ''}: approve these first, or open Approvals in the Cabinet tab.`
        : '',
  });
}

/** What a bulk approval did, for the banner above the refreshed inbox. */
export function bulkBanner(outcomes: readonly BulkOutcome[]): InboxBanner {
  const approved = outcomes.filter(
    (o) => o.outcome.kind === 'decided' || o.outcome.kind === 'already_decided',
  );
  const lines = outcomes.flatMap(({ requestId, outcome }) => {
    if (outcome.kind === 'refused') return [`${requestId}: ${outcome.error.message}`];
    if (outcome.kind === 'not_bulk_approvable')
      return [`${requestId}: not eligible for bulk approval any more; open it to decide.`];
    return [];
  });
  const approvedText =
    approved.length > 0
      ? `Approved ${approved.map((o) => o.requestId).join(', ')}.`
      : 'Nothing was approved.';
  return {
    text: lines.length > 0 ? `${approvedText} Not approved:` : approvedText,
    style: lines.length === 0 ? 'good' : approved.length > 0 ? 'warning' : 'attention',
    lines,
  };
}
