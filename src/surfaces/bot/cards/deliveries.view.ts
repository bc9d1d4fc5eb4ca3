import type { ParkedDelivery } from '../../../application/use-cases/deliveries';
import type { Banner } from './request.view';
import { bindTemplate, type AdaptiveCardJson } from './template';

/** A card stays well under Teams' size limit; the tab's Deliveries page lists the rest. */
export const MAX_DELIVERY_CARD_ITEMS = 15;

/** Parked deliveries of the clients the lead leads, oldest first, each with the last error and Retry. */
export function parkedDeliveriesCard(
  items: readonly ParkedDelivery[],
  banner?: Banner,
): AdaptiveCardJson {
  const shown = items.slice(0, MAX_DELIVERY_CARD_ITEMS);
  const hidden = items.length - shown.length;
  return bindTemplate('parked-deliveries', {
    banner: banner?.text ?? '',
    bannerStyle: banner?.style ?? 'default',
    items: shown.map((d) => ({
      tenantId: d.tenantId,
      rowId: d.rowId,
      clientName: d.clientName,
      what: d.what,
      lastError: d.lastError,
      details: `${d.attempts} attempt${d.attempts === 1 ? '' : 's'} · queued ${d.queuedAt.slice(0, 16).replace('T', ' ')} UTC · row ${d.rowId}`,
    })),
    more:
      hidden > 0
        ? `${hidden} more parked: retry these first, or open Deliveries in the Cabinet tab.`
        : '',
  });
}
