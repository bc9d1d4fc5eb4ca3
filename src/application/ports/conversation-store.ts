import type { ObjectId, TenantId } from '../../domain/shared/ids';

/**
 * A Bot Framework conversation reference, kept opaque here: only the bot surface reads its fields.
 * @remarks Keyed by (tenant, person) for personal chats.
 */
export interface StoredConversation {
  readonly tid: TenantId;
  readonly oid: ObjectId;
  readonly reference: Readonly<Record<string, unknown>>;
  readonly welcomedAt?: string;
  readonly stale?: boolean;
}

export interface SavedConversation {
  readonly created: boolean;
  readonly welcomed: boolean;
}

export interface ConversationStore {
  get(tid: TenantId, oid: ObjectId): Promise<StoredConversation | undefined>;
  /**
   * Stores or refreshes the reference; `created` is true the first time this person's chat is seen,
   * `welcomed` once a welcome has been recorded (so callers need no second read).
   */
  save(conversation: StoredConversation): Promise<SavedConversation>;
  /** Records the welcome once; false if another turn already did. */
  markWelcomed(tid: TenantId, oid: ObjectId, at: string): Promise<boolean>;
  markStale(tid: TenantId, oid: ObjectId): Promise<void>;
  /** The activity id of the card last sent to this person under `cardKey`, so it can be updated in place. */
  getCardActivity(tid: TenantId, oid: ObjectId, cardKey: string): Promise<string | undefined>;
  saveCardActivity(
    tid: TenantId,
    oid: ObjectId,
    cardKey: string,
    activityId: string,
  ): Promise<void>;
  /** Which of these people Cabinet can reach (has a live reference for), as `${tid}|${oid}` keys. */
  reachable(
    people: readonly { readonly tid: TenantId; readonly oid: ObjectId }[],
  ): Promise<ReadonlySet<string>>;
}
