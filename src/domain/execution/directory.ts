/**
 * A client tenant's directory as Cabinet sees it (users, groups, licences, mailbox auto-reply), and the
 * writes Cabinet makes there, as plain data: plans store them, the saga replays them after a crash.
 * @remarks No Graph wire details here; the Graph adapter translates to and from Microsoft Graph v1.0.
 */

/** A directly assigned licence, as Graph's `assignedLicenses` holds it. */
export interface LicenceAssignment {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
}

/** A licence the user has through a group (group-based licensing); it cannot be removed from the user. */
export interface InheritedLicence {
  readonly skuId: string;
  readonly groupId: string;
}

export interface DirectoryUser {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly accountEnabled: boolean;
  /** ISO 3166 alpha-2; licences cannot be assigned without it. */
  readonly usageLocation?: string;
  readonly assignedLicences: readonly LicenceAssignment[];
  readonly inheritedLicences: readonly InheritedLicence[];
  /**
   * When the user's sessions were last revoked (Graph `signInSessionsValidFromDateTime`); opaque
   * to Cabinet, compared only for change, so revoking can be read back after a crash.
   */
  readonly signInSessionsValidFrom?: string;
}

export interface DirectoryGroup {
  readonly id: string;
  readonly displayName: string;
  readonly mailEnabled: boolean;
  readonly securityEnabled: boolean;
  /** `Unified` marks a Microsoft 365 group; `DynamicMembership` a rule-based one. */
  readonly groupTypes: readonly string[];
}

/** A subscription as `subscribedSkus` reports it; free seats = `enabledUnits - consumedUnits`. */
export interface DirectorySku {
  readonly skuId: string;
  readonly skuPartNumber: string;
  readonly enabledUnits: number;
  readonly consumedUnits: number;
  /** Enabled | Warning | Suspended | Deleted | LockedOut; only Enabled and Warning can be assigned. */
  readonly capabilityStatus: string;
}

export type AutoReplyStatus = 'disabled' | 'alwaysEnabled' | 'scheduled';

export interface AutoReply {
  readonly status: AutoReplyStatus;
  readonly externalAudience: 'none' | 'contactsOnly' | 'all';
  readonly internalReplyMessage: string;
  readonly externalReplyMessage: string;
  /** UTC ISO date-times, only for `scheduled`. */
  readonly scheduledStart?: string;
  readonly scheduledEnd?: string;
}

/** What a new account is created with. The temporary password is never part of this record. */
export interface NewDirectoryUser {
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly givenName: string;
  readonly surname: string;
  readonly mailNickname: string;
  readonly usageLocation: string;
  readonly jobTitle?: string;
  readonly department?: string;
}

/**
 * Stands for the id of the user a plan's `user.create` step made, which is unknown until it runs;
 * the engine replaces it with the id recorded in the run before a command is sent.
 */
export const CREATED_USER = '@created-user';

export type GroupRelation = 'member' | 'owner';

/** A write in the client's directory. Every command is safe to repeat (the adapter treats "already so" as success). */
export type DirectoryCommand =
  | { readonly kind: 'user.create'; readonly user: NewDirectoryUser }
  | {
      readonly kind: 'user.update';
      readonly userId: string;
      readonly changes: { readonly accountEnabled?: boolean; readonly usageLocation?: string };
    }
  | { readonly kind: 'user.revokeSessions'; readonly userId: string }
  | { readonly kind: 'user.setAutoReply'; readonly userId: string; readonly autoReply: AutoReply }
  | { readonly kind: 'user.setManager'; readonly userId: string; readonly managerId: string }
  | { readonly kind: 'user.removeManager'; readonly userId: string }
  | {
      readonly kind: 'user.assignLicences';
      readonly userId: string;
      readonly add: readonly LicenceAssignment[];
      readonly remove: readonly string[];
    }
  | {
      readonly kind: 'group.add' | 'group.remove';
      readonly groupId: string;
      readonly userId: string;
      readonly relation: GroupRelation;
    }
  | { readonly kind: 'user.delete'; readonly userId: string }
  | { readonly kind: 'user.restore'; readonly userId: string };

export type DirectoryCommandKind = DirectoryCommand['kind'];

/**
 * The read-back that proves a command took effect. After a crash between sending a command and
 * recording its outcome, the engine runs the check instead of blindly repeating the command.
 */
export type DirectoryCheck =
  | { readonly kind: 'user.exists'; readonly userPrincipalName: string; readonly expected: boolean }
  | { readonly kind: 'user.enabled'; readonly userId: string; readonly expected: boolean }
  | {
      readonly kind: 'user.inGroup';
      readonly userId: string;
      readonly groupId: string;
      readonly relation: GroupRelation;
      readonly expected: boolean;
    }
  | {
      readonly kind: 'user.licences';
      readonly userId: string;
      readonly has: readonly string[];
      readonly lacks: readonly string[];
    }
  | { readonly kind: 'user.manager'; readonly userId: string; readonly managerId: string | null }
  | { readonly kind: 'user.autoReply'; readonly userId: string; readonly status: AutoReplyStatus }
  /** Sessions were revoked since the plan read `validFromBefore` (a new revocation moves it). */
  | {
      readonly kind: 'user.sessionsRevoked';
      readonly userId: string;
      readonly validFromBefore: string | null;
    }
  /** Nothing can be read back; repeating the command is harmless. */
  | { readonly kind: 'none' };

/** Why the directory refused a command, classified so rules never parse Graph's messages. */
export type DirectoryFailureReason =
  | 'not_found'
  | 'already_exists'
  | 'no_free_seats'
  | 'no_usage_location'
  | 'inherited_licence'
  | 'mail_enabled_group'
  | 'forbidden'
  | 'throttled'
  | 'unavailable'
  | 'invalid'
  | 'unknown';

export interface DirectoryFailure {
  readonly reason: DirectoryFailureReason;
  /** The service's own code and message (e.g. Graph `Request_BadRequest`), for people and the audit. */
  readonly code: string;
  readonly message: string;
  readonly httpStatus?: number;
  readonly requestId?: string;
  /** True when trying again later may succeed (throttling, outages); permanent refusals are false. */
  readonly retryable: boolean;
  /** How long the service asked us to wait, when it said. */
  readonly retryAfterMs?: number;
}

/** The outcome of one command: success (with the created user's id for `user.create`) or why not. */
export type CommandOutcome =
  | {
      readonly ok: true;
      readonly createdUserId?: string;
      /** The service's request id (Graph `request-id`), for the audit trail. */
      readonly requestId?: string;
    }
  | { readonly ok: false; readonly failure: DirectoryFailure };
