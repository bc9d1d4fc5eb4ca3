import type {
  AutoReply,
  CommandOutcome,
  DirectoryCheck,
  DirectoryCommand,
  DirectoryFailure,
  DirectoryGroup,
  DirectorySku,
  DirectoryUser,
  GroupRelation,
} from '../../domain/execution/directory';
import type { TenantId } from '../../domain/shared/ids';
import type { Secret } from '../../domain/shared/secret';

export interface PerformOptions {
  /** Send independent commands together (Graph `$batch`, at most 20 per round trip) and in parallel. */
  readonly together: boolean;
  /** The temporary password for a `user.create` among the commands; never stored by the adapter. */
  readonly initialPassword?: Secret;
}

/**
 * A client tenant's directory (Microsoft Graph in production, the sandbox cloud locally).
 * @remarks Reads return `undefined` for "not found" and throw {@link DirectoryError} for anything
 * else. `perform` never throws for a refused command: each outcome says why, classified. Throttling
 * (429/503/504) is retried inside the adapter within its time budget, honouring `Retry-After`; a
 * `user.create` whose response was lost is reconciled by reading the user before trying again, so
 * no user is ever created twice.
 */
export interface TenantDirectory {
  /** By user principal name or object id. */
  findUser(tenantId: TenantId, userPrincipalNameOrId: string): Promise<DirectoryUser | undefined>;
  /** Groups the user is a direct member (or owner) of; every page. */
  listGroupsOf(
    tenantId: TenantId,
    userId: string,
    relation: GroupRelation,
  ): Promise<DirectoryGroup[]>;
  /** Groups whose display name is exactly `displayName` (case-insensitive); more than one is ambiguous. */
  findGroups(tenantId: TenantId, displayName: string): Promise<DirectoryGroup[]>;
  getGroup(tenantId: TenantId, groupId: string): Promise<DirectoryGroup | undefined>;
  listSkus(tenantId: TenantId): Promise<DirectorySku[]>;
  getManager(tenantId: TenantId, userId: string): Promise<DirectoryUser | undefined>;
  getAutoReply(tenantId: TenantId, userId: string): Promise<AutoReply>;
  /** Sends the commands; outcomes come back in the commands' order. */
  perform(
    tenantId: TenantId,
    commands: readonly DirectoryCommand[],
    options: PerformOptions,
  ): Promise<CommandOutcome[]>;
  /** Reads back whether a check holds now. */
  check(tenantId: TenantId, check: DirectoryCheck): Promise<boolean>;
}

/** A directory read failed for a reason other than "not found" (throttled past the budget, forbidden, down). */
export class DirectoryError extends Error {
  constructor(
    readonly failure: DirectoryFailure,
    options?: ErrorOptions,
  ) {
    super(failure.message, options);
    this.name = 'DirectoryError';
  }
}
