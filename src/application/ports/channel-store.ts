import type { ObjectId, TenantId } from '../../domain/shared/ids';

/** The MSP's Teams channels Cabinet posts to, by purpose (issue 5: the SLA channel). */
export type ChannelPurpose = 'sla';

/** A Teams channel an MSP lead bound to a purpose with `bind sla channel`. */
export interface ChannelBinding {
  readonly purpose: ChannelPurpose;
  /** The channel's conversation id, so cards posted to an earlier channel are never "edited" here. */
  readonly conversationId: string;
  /** A Bot Framework conversation reference, kept opaque here: only the bot surface reads its fields. */
  readonly reference: Readonly<Record<string, unknown>>;
  readonly boundBy: { readonly tid: TenantId; readonly oid: ObjectId };
  readonly boundAt: string;
}

/**
 * Where the MSP's channels are and which card was posted there for a key, so later updates edit
 * the post in place.
 * @remarks Card keys are per client tenant (request ids repeat across clients) and per channel.
 */
export interface ChannelStore {
  get(purpose: ChannelPurpose): Promise<ChannelBinding | undefined>;
  /** Binds the purpose to this channel, replacing any earlier binding. */
  bind(binding: ChannelBinding): Promise<void>;
  getCardActivity(
    binding: ChannelBinding,
    tenantId: TenantId,
    cardKey: string,
  ): Promise<string | undefined>;
  saveCardActivity(
    binding: ChannelBinding,
    tenantId: TenantId,
    cardKey: string,
    activityId: string,
  ): Promise<void>;
}
