import type { TenantId } from '../../domain/shared/ids';
import type { Notification, Recipient } from './outbox';

export type DeliveryResult =
  | { readonly status: 'sent'; readonly activityId: string }
  /** No stored conversation for the person: hold the message until they open Cabinet. */
  | { readonly status: 'no_conversation' }
  /** Teams said the reference is gone (403/404): marked stale, held like no_conversation. */
  | { readonly status: 'stale_conversation' };

/** Delivers proactive Teams messages; use cases never see a TurnContext. */
export interface Notifier {
  /** Sends the card, or updates the card already sent under `notification.cardKey`. */
  deliver(
    tenantId: TenantId,
    recipient: Recipient,
    notification: Notification,
  ): Promise<DeliveryResult>;
}
