import type {
  AutoReply,
  AutoReplyStatus,
  DirectoryCommand,
  DirectoryGroup,
  DirectorySku,
  DirectoryUser,
  GroupRelation,
  InheritedLicence,
  LicenceAssignment,
} from '../../domain/execution/directory';

/** One Graph v1.0 request, relative to `<baseUrl>/v1.0` (or an absolute `@odata.nextLink`). */
export interface GraphRequestSpec {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path and query, every id percent-encoded. */
  readonly path: string;
  readonly body?: unknown;
  /** The route template for logs and counters ("PATCH /users/{id}"); never holds names or UPNs. */
  readonly route: string;
}

/** Everything Cabinet reads about a user; v1.0 returns most of these only when `$select`ed. */
export const USER_SELECT = [
  'id',
  'userPrincipalName',
  'displayName',
  'accountEnabled',
  'usageLocation',
  'assignedLicenses',
  'licenseAssignmentStates',
  'signInSessionsValidFromDateTime',
].join(',');

export const GROUP_SELECT = [
  'id',
  'displayName',
  'mailEnabled',
  'securityEnabled',
  'groupTypes',
].join(',');

/**
 * Percent-encodes one path segment, including the characters `encodeURIComponent` leaves alone
 * (`'` `(` `)` `*` `!`): Graph reads `'` in a path as OData key syntax, and a `#` would cut the URL.
 */
export function encodePathSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** An OData string literal: single quotes doubled, so a value can never close the literal early. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * `$filter` for an exact display name, percent-encoded whole: the Graph SDK puts query values into
 * the URL as given, so `&`, `#` or `+` in a name would otherwise split or cut the query.
 */
export function displayNameFilter(displayName: string): string {
  return encodePathSegment(`displayName eq ${odataString(displayName)}`);
}

interface WireLicence {
  readonly skuId?: string;
  readonly disabledPlans?: readonly string[];
}

interface WireLicenceState {
  readonly skuId?: string;
  readonly assignedByGroup?: string | null;
}

export interface WireUser {
  readonly id: string;
  readonly userPrincipalName?: string;
  readonly displayName?: string | null;
  readonly accountEnabled?: boolean | null;
  readonly usageLocation?: string | null;
  readonly assignedLicenses?: readonly WireLicence[];
  readonly licenseAssignmentStates?: readonly WireLicenceState[] | null;
  readonly signInSessionsValidFromDateTime?: string | null;
}

/**
 * A Graph user as Cabinet sees it.
 * @remarks Graph's `assignedLicenses` lists group-based licences too; `licenseAssignmentStates`
 * says which came from a group (`assignedByGroup`). A licence counts as direct when some state
 * assigns it without a group, or when Graph reported no state for it at all.
 */
export function toDirectoryUser(wire: WireUser): DirectoryUser {
  const states = wire.licenseAssignmentStates ?? [];
  const inherited: InheritedLicence[] = states
    .filter((s): s is { skuId: string; assignedByGroup: string } =>
      Boolean(s.skuId && s.assignedByGroup),
    )
    .map((s) => ({ skuId: s.skuId, groupId: s.assignedByGroup }));
  const direct = new Set(states.filter((s) => s.skuId && !s.assignedByGroup).map((s) => s.skuId));
  const stated = new Set(states.map((s) => s.skuId));
  const assigned: LicenceAssignment[] = (wire.assignedLicenses ?? [])
    .filter((l): l is WireLicence & { skuId: string } => Boolean(l.skuId))
    .filter((l) => direct.has(l.skuId) || !stated.has(l.skuId))
    .map((l) => ({ skuId: l.skuId, disabledPlans: [...(l.disabledPlans ?? [])] }));
  return {
    id: wire.id,
    userPrincipalName: wire.userPrincipalName ?? '',
    displayName: wire.displayName ?? '',
    accountEnabled: wire.accountEnabled === true,
    ...(wire.usageLocation ? { usageLocation: wire.usageLocation } : {}),
    assignedLicences: assigned,
    inheritedLicences: inherited,
    ...(wire.signInSessionsValidFromDateTime
      ? { signInSessionsValidFrom: wire.signInSessionsValidFromDateTime }
      : {}),
  };
}

export interface WireGroup {
  readonly id: string;
  readonly displayName?: string | null;
  readonly mailEnabled?: boolean | null;
  readonly securityEnabled?: boolean | null;
  readonly groupTypes?: readonly string[] | null;
}

export function toDirectoryGroup(wire: WireGroup): DirectoryGroup {
  return {
    id: wire.id,
    displayName: wire.displayName ?? '',
    mailEnabled: wire.mailEnabled === true,
    securityEnabled: wire.securityEnabled === true,
    groupTypes: [...(wire.groupTypes ?? [])],
  };
}

export interface WireSku {
  readonly skuId: string;
  readonly skuPartNumber?: string;
  readonly appliesTo?: string;
  readonly capabilityStatus?: string;
  readonly consumedUnits?: number;
  readonly prepaidUnits?: { readonly enabled?: number };
}

/** Only `appliesTo: User` subscriptions can be assigned to people. */
export function isUserSku(wire: WireSku): boolean {
  return wire.appliesTo === undefined || wire.appliesTo === 'User';
}

export function toDirectorySku(wire: WireSku): DirectorySku {
  return {
    skuId: wire.skuId,
    skuPartNumber: wire.skuPartNumber ?? '',
    enabledUnits: wire.prepaidUnits?.enabled ?? 0,
    consumedUnits: wire.consumedUnits ?? 0,
    capabilityStatus: wire.capabilityStatus ?? 'Enabled',
  };
}

interface WireDateTimeTimeZone {
  readonly dateTime?: string;
  readonly timeZone?: string;
}

export interface WireAutoReply {
  readonly status?: string;
  readonly externalAudience?: string;
  readonly internalReplyMessage?: string | null;
  readonly externalReplyMessage?: string | null;
  readonly scheduledStartDateTime?: WireDateTimeTimeZone | null;
  readonly scheduledEndDateTime?: WireDateTimeTimeZone | null;
}

const STATUSES: readonly AutoReplyStatus[] = ['disabled', 'alwaysEnabled', 'scheduled'];
const AUDIENCES: readonly AutoReply['externalAudience'][] = ['none', 'contactsOnly', 'all'];

/** Mailbox `automaticRepliesSetting` as an {@link AutoReply}; schedule times become UTC ISO strings. */
export function toAutoReply(wire: WireAutoReply | undefined): AutoReply {
  const status = STATUSES.find((s) => s === wire?.status) ?? 'disabled';
  const externalAudience = AUDIENCES.find((a) => a === wire?.externalAudience) ?? 'none';
  const start = wire?.scheduledStartDateTime;
  const end = wire?.scheduledEndDateTime;
  return {
    status,
    externalAudience,
    internalReplyMessage: wire?.internalReplyMessage ?? '',
    externalReplyMessage: wire?.externalReplyMessage ?? '',
    ...(status === 'scheduled' && start?.dateTime ? { scheduledStart: toUtcIso(start) } : {}),
    ...(status === 'scheduled' && end?.dateTime ? { scheduledEnd: toUtcIso(end) } : {}),
  };
}

/** The wire form of an {@link AutoReply}; schedule times are sent in UTC. */
export function autoReplyWire(reply: AutoReply): WireAutoReply {
  return {
    status: reply.status,
    externalAudience: reply.externalAudience,
    internalReplyMessage: reply.internalReplyMessage,
    externalReplyMessage: reply.externalReplyMessage,
    ...(reply.status === 'scheduled' && reply.scheduledStart
      ? { scheduledStartDateTime: utcDateTime(reply.scheduledStart) }
      : {}),
    ...(reply.status === 'scheduled' && reply.scheduledEnd
      ? { scheduledEndDateTime: utcDateTime(reply.scheduledEnd) }
      : {}),
  };
}

function utcDateTime(iso: string): WireDateTimeTimeZone {
  return { dateTime: new Date(iso).toISOString().slice(0, 19), timeZone: 'UTC' };
}

const UTC_NAMES =
  /^(utc|etc\/utc|etc\/gmt|gmt|z|coordinated universal time|tzone:\/\/microsoft\/utc)$/i;

/**
 * Graph's `{ dateTime, timeZone }` (a local wall-clock time with 7 fractional digits) as a UTC ISO
 * string. UTC and IANA zones are converted; a zone Node cannot resolve (a Windows zone name such as
 * "W. Europe Standard Time") is refused with a message rather than guessed.
 */
export function toUtcIso(value: WireDateTimeTimeZone): string {
  const local = (value.dateTime ?? '').replace(/(\.\d{3})\d+/, '$1').replace(/Z$/, '');
  const zone = value.timeZone ?? 'UTC';
  const asUtc = Date.parse(`${local}Z`);
  if (Number.isNaN(asUtc))
    throw new RangeError(`Graph sent an unreadable date-time "${value.dateTime}".`);
  if (UTC_NAMES.test(zone)) return new Date(asUtc).toISOString();
  const offset = zoneOffsetMs(zone, asUtc);
  // The offset at the guessed instant can differ across a DST change; one correction settles it.
  const guess = asUtc - offset;
  return new Date(asUtc - zoneOffsetMs(zone, guess)).toISOString();
}

function zoneOffsetMs(zone: string, atUtc: number): number {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    throw new RangeError(
      `The auto-reply schedule uses the time zone "${zone}", which Cabinet cannot convert: set the schedule in UTC.`,
    );
  }
  const parts = Object.fromEntries(format.formatToParts(atUtc).map((p) => [p.type, p.value]));
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return wall - Math.floor(atUtc / 1000) * 1000;
}

/** The `@odata.id` Graph expects in a `$ref` body; Graph accepts the public URL from any base. */
function directoryObjectRef(graphBase: string, id: string): { '@odata.id': string } {
  return { '@odata.id': `${graphBase}/v1.0/directoryObjects/${encodePathSegment(id)}` };
}

function relationSegment(relation: GroupRelation): 'members' | 'owners' {
  return relation === 'member' ? 'members' : 'owners';
}

/**
 * The Graph request for a command.
 * @remarks `password` is the temporary password of a `user.create`; it goes into the request body
 * only, never into the route (which is what logs show).
 */
export function commandRequest(
  command: DirectoryCommand,
  graphBase: string,
  password: string,
): GraphRequestSpec {
  switch (command.kind) {
    case 'user.create': {
      const { user } = command;
      return {
        method: 'POST',
        path: '/users',
        route: 'POST /users',
        body: {
          accountEnabled: true,
          displayName: user.displayName,
          givenName: user.givenName,
          surname: user.surname,
          mailNickname: user.mailNickname,
          userPrincipalName: user.userPrincipalName,
          usageLocation: user.usageLocation,
          ...(user.jobTitle ? { jobTitle: user.jobTitle } : {}),
          ...(user.department ? { department: user.department } : {}),
          passwordProfile: { password, forceChangePasswordNextSignIn: true },
        },
      };
    }
    case 'user.update':
      return {
        method: 'PATCH',
        path: `/users/${encodePathSegment(command.userId)}`,
        route: 'PATCH /users/{id}',
        body: {
          ...(command.changes.accountEnabled !== undefined
            ? { accountEnabled: command.changes.accountEnabled }
            : {}),
          ...(command.changes.usageLocation !== undefined
            ? { usageLocation: command.changes.usageLocation }
            : {}),
        },
      };
    case 'user.revokeSessions':
      return {
        method: 'POST',
        path: `/users/${encodePathSegment(command.userId)}/revokeSignInSessions`,
        route: 'POST /users/{id}/revokeSignInSessions',
      };
    case 'user.setAutoReply':
      return {
        method: 'PATCH',
        path: `/users/${encodePathSegment(command.userId)}/mailboxSettings`,
        route: 'PATCH /users/{id}/mailboxSettings',
        body: { automaticRepliesSetting: autoReplyWire(command.autoReply) },
      };
    case 'user.setManager':
      return {
        method: 'PUT',
        path: `/users/${encodePathSegment(command.userId)}/manager/$ref`,
        route: 'PUT /users/{id}/manager/$ref',
        body: directoryObjectRef(graphBase, command.managerId),
      };
    case 'user.removeManager':
      return {
        method: 'DELETE',
        path: `/users/${encodePathSegment(command.userId)}/manager/$ref`,
        route: 'DELETE /users/{id}/manager/$ref',
      };
    case 'user.assignLicences':
      return {
        method: 'POST',
        path: `/users/${encodePathSegment(command.userId)}/assignLicense`,
        route: 'POST /users/{id}/assignLicense',
        body: {
          addLicenses: command.add.map((l) => ({
            skuId: l.skuId,
            disabledPlans: [...l.disabledPlans],
          })),
          removeLicenses: [...command.remove],
        },
      };
    case 'group.add': {
      const segment = relationSegment(command.relation);
      return {
        method: 'POST',
        path: `/groups/${encodePathSegment(command.groupId)}/${segment}/$ref`,
        route: `POST /groups/{id}/${segment}/$ref`,
        body: directoryObjectRef(graphBase, command.userId),
      };
    }
    case 'group.remove': {
      const segment = relationSegment(command.relation);
      return {
        method: 'DELETE',
        path: `/groups/${encodePathSegment(command.groupId)}/${segment}/${encodePathSegment(command.userId)}/$ref`,
        route: `DELETE /groups/{id}/${segment}/{id}/$ref`,
      };
    }
    case 'user.delete':
      return {
        method: 'DELETE',
        path: `/users/${encodePathSegment(command.userId)}`,
        route: 'DELETE /users/{id}',
      };
    case 'user.restore':
      return {
        method: 'POST',
        path: `/directory/deletedItems/${encodePathSegment(command.userId)}/restore`,
        route: 'POST /directory/deletedItems/{id}/restore',
      };
  }
}
