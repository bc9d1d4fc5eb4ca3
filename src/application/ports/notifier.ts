import type { TenantId } from '../../domain/shared/ids';
import type { ChannelPurpose } from './channel-store';
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
  /**
   * Posts the card to the MSP's channel for `purpose`, or updates the post already made under
   * `notification.cardKey`; `no_conversation` while no channel is bound. Absent where the notifier
   * reaches people only.
   */
  deliverToChannel?(
    purpose: ChannelPurpose,
    tenantId: TenantId,
    notification: Notification,
  ): Promise<DeliveryResult>;
}
