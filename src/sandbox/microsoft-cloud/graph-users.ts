import { randomUUID } from 'node:crypto';
import {
  disabledAutoReply,
  exchangeDateTime,
  type AutoReplyRecord,
  type Directory,
  type UserRecord,
} from './directory-state';
import type { GraphContext } from './graph-context';
import {
  badRequest,
  compileFilter,
  GraphFault,
  insufficientPrivileges,
  notFound,
  page,
  project,
  referencedId,
  type GraphResponse,
} from './graph-wire';

/** What `GET /users/{id}` returns without `$select` (Graph v1.0's default user properties). */
export const USER_DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
] as const;

const USER_TYPE = 'microsoft.graph.user';
const FILTERABLE = new Set([
  'userPrincipalName',
  'displayName',
  'mail',
  'mailNickname',
  'id',
  'givenName',
  'surname',
  'accountEnabled',
  'department',
  'jobTitle',
  'usageLocation',
]);

/** Properties a caller may send on create or update; everything else is refused by name. */
const WRITABLE = new Set([
  'accountEnabled',
  'displayName',
  'mailNickname',
  'userPrincipalName',
  'passwordProfile',
  'usageLocation',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'officeLocation',
  'mobilePhone',
  'businessPhones',
  'preferredLanguage',
  'passwordPolicies',
]);

const REQUIRED_ON_CREATE = [
  'accountEnabled',
  'displayName',
  'mailNickname',
  'passwordProfile',
  'userPrincipalName',
] as const;

/** The full user as Graph could serialise it; `$select` and the defaults project from this. */
export function userEntity(directory: Directory, user: UserRecord): Record<string, unknown> {
  const mailbox = directory.hasMailbox(user);
  const licences = directory.effectiveLicences(user);
  const bySku = new Map<string, { skuId: string; disabledPlans: string[] }>();
  for (const licence of licences)
    if (!bySku.has(licence.skuId))
      bySku.set(licence.skuId, { skuId: licence.skuId, disabledPlans: [...licence.disabledPlans] });
  return {
    id: user.id,
    businessPhones: user.businessPhones,
    displayName: user.displayName,
    givenName: user.givenName,
    jobTitle: user.jobTitle,
    mail: mailbox ? user.userPrincipalName : null,
    mobilePhone: user.mobilePhone,
    officeLocation: user.officeLocation,
    preferredLanguage: user.preferredLanguage,
    surname: user.surname,
    userPrincipalName:
      user.deletedDateTime === null
        ? user.userPrincipalName
        : `${user.id.replace(/-/g, '')}${user.userPrincipalName}`,
    accountEnabled: user.accountEnabled,
    usageLocation: user.usageLocation,
    mailNickname: user.mailNickname,
    department: user.department,
    createdDateTime: user.createdDateTime,
    deletedDateTime: user.deletedDateTime,
    signInSessionsValidFromDateTime: user.signInSessionsValidFromDateTime,
    lastPasswordChangeDateTime: user.lastPasswordChangeDateTime,
    userType: 'Member',
    otherMails: [],
    proxyAddresses: mailbox ? [`SMTP:${user.userPrincipalName}`] : [],
    // Entra lists direct and group-inherited licences here; licenseAssignmentStates tells them apart.
    assignedLicenses: [...bySku.values()],
    licenseAssignmentStates: licences.map((licence) => ({
      assignedByGroup: licence.assignedByGroup,
      disabledPlans: [...licence.disabledPlans],
      error: 'None',
      lastUpdatedDateTime: user.createdDateTime,
      skuId: licence.skuId,
      state: 'Active',
    })),
    assignedPlans: licences.flatMap((licence) =>
      (directory.findSku(licence.skuId)?.servicePlans ?? [])
        .filter((plan) => !licence.disabledPlans.includes(plan.servicePlanId))
        .map((plan) => ({
          assignedDateTime: user.createdDateTime,
          capabilityStatus: 'Enabled',
          service: plan.servicePlanName,
          servicePlanId: plan.servicePlanId,
        })),
    ),
  };
}

export function findUser(context: GraphContext, idOrUpn: string): UserRecord {
  context.directory.purgeExpired(context.now);
  const user = context.directory.findActiveUser(idOrUpn);
  if (!user) throw notFound(idOrUpn);
  return user;
}

function entityResponse(
  context: GraphContext,
  entity: Record<string, unknown>,
  contextFragment: string,
  status = 200,
  headers?: Record<string, string>,
): GraphResponse {
  return {
    status,
    body: { '@odata.context': `${context.graphUrl}/$metadata#${contextFragment}`, ...entity },
    ...(headers ? { headers } : {}),
  };
}

function selectFragment(collection: string, select: readonly string[] | undefined): string {
  return select ? `${collection}(${select.join(',')})` : collection;
}

export function getUser(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  const entity = project(
    userEntity(context.directory, user),
    context.query.select,
    USER_DEFAULT_PROPERTIES,
    USER_TYPE,
  );
  return entityResponse(
    context,
    entity,
    `${selectFragment('users', context.query.select)}/$entity`,
  );
}

export function listUsers(context: GraphContext): GraphResponse {
  context.directory.purgeExpired(context.now);
  const filter = compileFilter(context.query.filter, FILTERABLE);
  const items = context.directory
    .activeUsers()
    .map((user) => userEntity(context.directory, user))
    .filter(filter)
    .map((entity) => project(entity, context.query.select, USER_DEFAULT_PROPERTIES, USER_TYPE));
  return page(items, context.query, {
    selfUrl: context.selfUrl,
    context: `${context.graphUrl}/$metadata#${selectFragment('users', context.query.select)}`,
  });
}

export function createUser(context: GraphContext): GraphResponse {
  const body = requireObject(context.body);
  rejectUnknownProperties(body);
  for (const name of REQUIRED_ON_CREATE) if (!(name in body)) throw invalidValue(name);
  if (typeof body['accountEnabled'] !== 'boolean') throw invalidValue('accountEnabled');
  const displayName = requireString(body, 'displayName');
  const mailNickname = requireString(body, 'mailNickname');
  if (!/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$/.test(mailNickname))
    throw invalidValue('mailNickname');
  const password = passwordOf(body['passwordProfile']);
  const userPrincipalName = validUserPrincipalName(context.directory, body['userPrincipalName']);
  if (context.directory.findActiveUser(userPrincipalName)) throw upnTaken();
  const usageLocation = optionalUsageLocation(body);
  checkPasswordComplexity(password);
  const now = context.now.toISOString().slice(0, 19) + 'Z';
  const user: UserRecord = {
    id: randomUUID(),
    userPrincipalName,
    displayName,
    givenName: optionalString(body, 'givenName'),
    surname: optionalString(body, 'surname'),
    mailNickname,
    jobTitle: optionalString(body, 'jobTitle'),
    department: optionalString(body, 'department'),
    officeLocation: optionalString(body, 'officeLocation'),
    mobilePhone: optionalString(body, 'mobilePhone'),
    businessPhones: Array.isArray(body['businessPhones'])
      ? body['businessPhones'].filter((phone): phone is string => typeof phone === 'string')
      : [],
    preferredLanguage: optionalString(body, 'preferredLanguage'),
    accountEnabled: body['accountEnabled'],
    usageLocation,
    assignedLicenses: [],
    managerId: null,
    automaticRepliesSetting: disabledAutoReply(context.now),
    signInSessionsValidFromDateTime: now,
    sessionsRevokedAt: null,
    lastPasswordChangeDateTime: now,
    createdDateTime: now,
    deletedDateTime: null,
    privileged: false,
  };
  context.directory.record.users.push(user);
  const entity = project(
    userEntity(context.directory, user),
    undefined,
    USER_DEFAULT_PROPERTIES,
    USER_TYPE,
  );
  return entityResponse(context, entity, 'users/$entity', 201, {
    Location: `${context.graphUrl.replace(/\/v1\.0$/, '')}/v2/${context.directory.id}/directoryObjects/${user.id}/Microsoft.DirectoryServices.User`,
  });
}

/**
 * Admins are out of reach: with app-only `User.ReadWrite.All` and no privileged directory role on
 * its service principal (the sandbox app has none), Entra refuses to change, delete or restore them.
 */
function guardPrivileged(user: UserRecord): void {
  if (user.privileged) throw insufficientPrivileges();
}

export function updateUser(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  const body = requireObject(context.body);
  rejectUnknownProperties(body);
  guardPrivileged(user);
  const changes: Partial<UserRecord> = {};
  if ('accountEnabled' in body) {
    if (typeof body['accountEnabled'] !== 'boolean') throw invalidValue('accountEnabled');
    changes.accountEnabled = body['accountEnabled'];
  }
  if ('displayName' in body) changes.displayName = requireString(body, 'displayName');
  if ('mailNickname' in body) changes.mailNickname = requireString(body, 'mailNickname');
  if ('userPrincipalName' in body) {
    const upn = validUserPrincipalName(context.directory, body['userPrincipalName']);
    const holder = context.directory.findActiveUser(upn);
    if (holder && holder.id !== user.id) throw upnTaken();
    changes.userPrincipalName = upn;
  }
  if ('usageLocation' in body) changes.usageLocation = optionalUsageLocation(body);
  for (const name of [
    'givenName',
    'surname',
    'jobTitle',
    'department',
    'officeLocation',
    'mobilePhone',
    'preferredLanguage',
  ] as const)
    if (name in body) changes[name] = optionalString(body, name);
  if ('businessPhones' in body)
    changes.businessPhones = Array.isArray(body['businessPhones'])
      ? body['businessPhones'].filter((phone): phone is string => typeof phone === 'string')
      : [];
  if ('passwordProfile' in body) {
    checkPasswordComplexity(passwordOf(body['passwordProfile']));
    changes.lastPasswordChangeDateTime = context.now.toISOString().slice(0, 19) + 'Z';
  }
  Object.assign(user, changes);
  return { status: 204 };
}

export function deleteUser(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  softDelete(context, user);
  return { status: 204 };
}

/** Also what `DELETE /groups/{id}/members/{id}` (without `/$ref`) does to the member, as the docs warn. */
export function softDelete(context: GraphContext, user: UserRecord): void {
  guardPrivileged(user);
  user.deletedDateTime = context.now.toISOString();
}

export function revokeSignInSessions(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  const at = context.now.toISOString().slice(0, 19) + 'Z';
  user.signInSessionsValidFromDateTime = at;
  user.sessionsRevokedAt = context.now.toISOString();
  return {
    status: 200,
    body: { '@odata.context': `${context.graphUrl}/$metadata#Edm.Boolean`, value: true },
  };
}

export function listDeletedUsers(context: GraphContext): GraphResponse {
  context.directory.purgeExpired(context.now);
  const filter = compileFilter(context.query.filter, FILTERABLE);
  const items = context.directory
    .deletedUsers()
    .map((user) => userEntity(context.directory, user))
    .filter(filter)
    .map((entity) => ({
      '@odata.type': '#microsoft.graph.user',
      ...project(
        entity,
        context.query.select,
        [...USER_DEFAULT_PROPERTIES, 'deletedDateTime'],
        USER_TYPE,
      ),
    }));
  return page(items, context.query, {
    selfUrl: context.selfUrl,
    context: `${context.graphUrl}/$metadata#directory/deletedItems/microsoft.graph.user`,
  });
}

function findDeleted(context: GraphContext): UserRecord {
  context.directory.purgeExpired(context.now);
  const id = context.params[0]!;
  const user = context.directory.findDeletedUser(id);
  if (!user) throw notFound(id);
  return user;
}

export function getDeletedItem(context: GraphContext): GraphResponse {
  const user = findDeleted(context);
  const entity = project(
    userEntity(context.directory, user),
    context.query.select,
    [...USER_DEFAULT_PROPERTIES, 'deletedDateTime'],
    USER_TYPE,
  );
  return entityResponse(
    context,
    { '@odata.type': '#microsoft.graph.user', ...entity },
    'directory/deletedItems/$entity',
  );
}

/**
 * Restores a soft-deleted user with its licences, memberships and manager. The original UPN must be
 * free; `newUserPrincipalName` picks another. `autoReconcileProxyConflict` only settles proxy
 * addresses, which the sandbox derives from the UPN, so it does not lift a UPN conflict.
 */
export function restoreDeletedItem(context: GraphContext): GraphResponse {
  const user = findDeleted(context);
  guardPrivileged(user);
  const body = context.body === undefined ? {} : requireObject(context.body);
  let upn = user.userPrincipalName;
  if (body['newUserPrincipalName'] !== undefined)
    upn = validUserPrincipalName(context.directory, body['newUserPrincipalName']);
  if (context.directory.findActiveUser(upn)) throw upnTaken();
  user.userPrincipalName = upn;
  user.deletedDateTime = null;
  const entity = project(
    userEntity(context.directory, user),
    undefined,
    USER_DEFAULT_PROPERTIES,
    USER_TYPE,
  );
  return entityResponse(
    context,
    { '@odata.type': '#microsoft.graph.user', ...entity },
    'directoryObjects/$entity',
  );
}

export function purgeDeletedItem(context: GraphContext): GraphResponse {
  const user = findDeleted(context);
  context.directory.removeReferencesTo(user.id);
  context.directory.record.users = context.directory.record.users.filter(
    (candidate) => candidate !== user,
  );
  return { status: 204 };
}

export function getManager(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  const manager = user.managerId ? context.directory.findActiveUser(user.managerId) : undefined;
  if (!manager) throw notFound('manager');
  const entity = project(
    userEntity(context.directory, manager),
    context.query.select,
    USER_DEFAULT_PROPERTIES,
    USER_TYPE,
  );
  return entityResponse(
    context,
    { '@odata.type': '#microsoft.graph.user', ...entity },
    'directoryObjects/$entity',
  );
}

export function setManager(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  const managerId = referencedId(context.body);
  const manager = context.directory.findActiveUser(managerId);
  if (!manager) throw notFound(managerId);
  if (manager.id === user.id)
    throw badRequest("Invalid value specified for property 'manager' of resource 'User'.");
  user.managerId = manager.id;
  return { status: 204 };
}

export function removeManager(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  if (!user.managerId || !context.directory.findActiveUser(user.managerId))
    throw notFound('manager');
  user.managerId = null;
  return { status: 204 };
}

export function listDirectReports(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  const items = context.directory
    .activeUsers()
    .filter((candidate) => candidate.managerId === user.id)
    .map((report) => ({
      '@odata.type': '#microsoft.graph.user',
      ...project(
        userEntity(context.directory, report),
        context.query.select,
        USER_DEFAULT_PROPERTIES,
        USER_TYPE,
      ),
    }));
  return page(items, context.query, {
    selfUrl: context.selfUrl,
    context: `${context.graphUrl}/$metadata#directoryObjects`,
  });
}

export function listLicenseDetails(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  const seen = new Set<string>();
  const items = context.directory.effectiveLicences(user).flatMap((licence) => {
    const sku = context.directory.findSku(licence.skuId);
    if (!sku || seen.has(sku.skuId)) return [];
    seen.add(sku.skuId);
    return [
      {
        id: Buffer.from(`${user.id}:${sku.skuId}`).toString('base64url').slice(0, 43),
        skuId: sku.skuId,
        skuPartNumber: sku.skuPartNumber,
        servicePlans: sku.servicePlans.map((plan) => ({
          ...plan,
          provisioningStatus: licence.disabledPlans.includes(plan.servicePlanId)
            ? 'Disabled'
            : plan.provisioningStatus,
        })),
      },
    ];
  });
  return {
    status: 200,
    body: {
      '@odata.context': `${context.graphUrl}/$metadata#users('${user.id}')/licenseDetails`,
      value: items,
    },
  };
}

/**
 * `assignLicense` with Entra's checks, in its order: unknown sku, usage location, licences the
 * user cannot lose directly (inherited or not assigned), then free seats.
 */
export function assignLicense(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  const body = requireObject(context.body);
  const missing = ['addLicenses', 'removeLicenses'].filter((name) => !Array.isArray(body[name]));
  if (missing.length > 0)
    throw badRequest(
      `One or more parameters of the function import 'assignLicense' are missing from the request payload. The missing parameters are: ${missing.join(', ')}.`,
    );
  const add = (body['addLicenses'] as unknown[]).map((item) => {
    const skuId = (item as Record<string, unknown> | null)?.['skuId'];
    const disabledPlans = (item as Record<string, unknown> | null)?.['disabledPlans'];
    if (typeof skuId !== 'string')
      throw badRequest(
        "Invalid value specified for property 'skuId' of resource 'AssignedLicense'.",
      );
    return {
      skuId: skuId.toLowerCase(),
      disabledPlans: Array.isArray(disabledPlans)
        ? disabledPlans
            .filter((plan): plan is string => typeof plan === 'string')
            .map((plan) => plan.toLowerCase())
        : [],
    };
  });
  const remove = (body['removeLicenses'] as unknown[]).map((skuId) => {
    if (typeof skuId !== 'string')
      throw badRequest("Invalid value specified for property 'removeLicenses'.");
    return skuId.toLowerCase();
  });
  for (const skuId of [...add.map((licence) => licence.skuId), ...remove])
    if (!context.directory.findSku(skuId))
      throw badRequest(`License ${skuId} does not correspond to a valid company License.`);
  if (add.length > 0 && !user.usageLocation)
    throw badRequest('License assignment cannot be done for user with invalid usage location.');
  const effective = context.directory.effectiveLicences(user);
  for (const skuId of remove) {
    if (user.assignedLicenses.some((licence) => licence.skuId === skuId)) continue;
    if (effective.some((licence) => licence.skuId === skuId))
      throw badRequest(
        'User license is inherited from a group membership and it cannot be removed directly from the user.',
      );
    throw badRequest('User does not have a corresponding license.');
  }
  for (const licence of add) {
    const sku = context.directory.findSku(licence.skuId)!;
    const alreadyConsumes = effective.some((held) => held.skuId === sku.skuId);
    const usable =
      sku.capabilityStatus === 'Enabled' || sku.capabilityStatus === 'Warning'
        ? sku.prepaidUnits.enabled + sku.prepaidUnits.warning
        : 0;
    if (!alreadyConsumes && usable - context.directory.consumedUnits(sku) <= 0)
      throw badRequest(`Subscription ${sku.skuId} does not have any available licenses.`);
  }
  user.assignedLicenses = [
    ...user.assignedLicenses.filter(
      (licence) =>
        !remove.includes(licence.skuId) && !add.some((added) => added.skuId === licence.skuId),
    ),
    ...add,
  ];
  const entity = project(
    userEntity(context.directory, user),
    undefined,
    USER_DEFAULT_PROPERTIES,
    USER_TYPE,
  );
  return entityResponse(context, entity, 'users/$entity');
}

const NO_MAILBOX = (): GraphFault =>
  new GraphFault(
    404,
    'MailboxNotEnabledForRESTAPI',
    'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
  );

function mailboxSettingsOf(user: UserRecord): Record<string, unknown> {
  return {
    archiveFolder: Buffer.from(`archive:${user.id}`).toString('base64url'),
    timeZone: 'UTC',
    automaticRepliesSetting: user.automaticRepliesSetting,
    language: { locale: user.preferredLanguage ?? 'en-US', displayName: 'English' },
    workingHours: {
      daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
      startTime: '08:00:00.0000000',
      endTime: '17:00:00.0000000',
      timeZone: { name: 'UTC' },
    },
    userPurpose: 'user',
    dateFormat: 'dd/MM/yyyy',
    timeFormat: 'HH:mm',
    delegateMeetingMessageDeliveryOptions: 'sendToDelegateOnly',
  };
}

export function getMailboxSettings(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  if (!context.directory.hasMailbox(user)) throw NO_MAILBOX();
  return {
    status: 200,
    body: {
      '@odata.context': `${context.graphUrl}/$metadata#users('${user.id}')/mailboxSettings`,
      ...mailboxSettingsOf(user),
    },
  };
}

const AUTO_REPLY_STATUSES = ['disabled', 'alwaysEnabled', 'scheduled'] as const;
const AUDIENCES = ['none', 'contactsOnly', 'all'] as const;

/** Only `automaticRepliesSetting` is stored; the other settings are accepted and echoed. */
export function updateMailboxSettings(context: GraphContext): GraphResponse {
  const user = findUser(context, context.params[0]!);
  if (!context.directory.hasMailbox(user)) throw NO_MAILBOX();
  const body = requireObject(context.body);
  const allowed = new Set(Object.keys(mailboxSettingsOf(user)));
  for (const name of Object.keys(body))
    if (!name.startsWith('@') && !allowed.has(name))
      throw new GraphFault(
        400,
        'RequestBodyRead',
        `The property '${name}' does not exist on type 'Microsoft.OutlookServices.MailboxSettings'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
      );
  const response: Record<string, unknown> = {
    '@odata.context': `${context.graphUrl}/$metadata#Me/mailboxSettings`,
  };
  if (body['automaticRepliesSetting'] !== undefined) {
    user.automaticRepliesSetting = mergeAutoReply(
      user.automaticRepliesSetting,
      requireObject(body['automaticRepliesSetting']),
    );
    response['automaticRepliesSetting'] = user.automaticRepliesSetting;
  }
  for (const name of Object.keys(body))
    if (name !== 'automaticRepliesSetting' && !name.startsWith('@')) response[name] = body[name];
  return { status: 200, body: response };
}

function mergeAutoReply(current: AutoReplyRecord, patch: Record<string, unknown>): AutoReplyRecord {
  const next: AutoReplyRecord = { ...current };
  if (patch['status'] !== undefined) next.status = enumValue(patch['status'], AUTO_REPLY_STATUSES);
  if (patch['externalAudience'] !== undefined)
    next.externalAudience = enumValue(patch['externalAudience'], AUDIENCES);
  for (const name of ['internalReplyMessage', 'externalReplyMessage'] as const)
    if (patch[name] !== undefined) {
      if (typeof patch[name] !== 'string')
        throw new GraphFault(
          400,
          'RequestBodyRead',
          `Cannot convert the literal to the expected type 'Edm.String'.`,
        );
      next[name] = patch[name];
    }
  for (const name of ['scheduledStartDateTime', 'scheduledEndDateTime'] as const)
    if (patch[name] !== undefined) next[name] = dateTimeTimeZone(patch[name]);
  if (
    next.status === 'scheduled' &&
    Date.parse(`${next.scheduledEndDateTime.dateTime.slice(0, 19)}Z`) <=
      Date.parse(`${next.scheduledStartDateTime.dateTime.slice(0, 19)}Z`)
  )
    throw new GraphFault(
      400,
      'ErrorInvalidTimeSettings',
      'The scheduled end time must be after the scheduled start time.',
    );
  return next;
}

function enumValue<T extends string>(value: unknown, allowed: readonly T[]): T {
  const match = allowed.find(
    (candidate) => typeof value === 'string' && candidate.toLowerCase() === value.toLowerCase(),
  );
  if (!match)
    throw new GraphFault(
      400,
      'RequestBodyRead',
      `Requested value '${String(value)}' was not found.`,
    );
  return match;
}

function dateTimeTimeZone(value: unknown): { dateTime: string; timeZone: string } {
  const record = value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const text = record['dateTime'];
  const zone = record['timeZone'] ?? 'UTC';
  const parsed =
    typeof text === 'string'
      ? Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`)
      : NaN;
  if (Number.isNaN(parsed) || typeof zone !== 'string')
    throw new GraphFault(
      400,
      'ErrorInvalidTimeSettings',
      'The date and time settings are invalid.',
    );
  if (zone.toUpperCase() !== 'UTC')
    throw new GraphFault(
      400,
      'InvalidTimeZone',
      `The time zone '${zone}' is not supported by the sandbox; send UTC.`,
    );
  return { dateTime: exchangeDateTime(new Date(parsed)), timeZone: 'UTC' };
}

function requireObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new GraphFault(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  return body as Record<string, unknown>;
}

function rejectUnknownProperties(body: Record<string, unknown>): void {
  for (const name of Object.keys(body))
    if (!name.startsWith('@') && !WRITABLE.has(name))
      throw badRequest(
        `Property '${name}' does not exist as a declared property or extension property.`,
      );
}

const invalidValue = (name: string): GraphFault =>
  badRequest(`Invalid value specified for property '${name}' of resource 'User'.`);

const upnTaken = (): GraphFault =>
  badRequest('Another object with the same value for property userPrincipalName already exists.', [
    { target: 'userPrincipalName', code: 'ObjectConflict' },
  ]);

function requireString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value.trim() === '') throw invalidValue(name);
  return value;
}

function optionalString(body: Record<string, unknown>, name: string): string | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidValue(name);
  return value;
}

function optionalUsageLocation(body: Record<string, unknown>): string | null {
  const value = body['usageLocation'];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !/^[A-Za-z]{2}$/.test(value))
    throw badRequest('Property usageLocation is invalid.', [
      { target: 'usageLocation', code: 'InvalidValue' },
    ]);
  return value.toUpperCase();
}

/** `alias@domain`: Entra's alias characters and a domain verified in this tenant. */
function validUserPrincipalName(directory: Directory, value: unknown): string {
  const invalid = badRequest('Property userPrincipalName is invalid.', [
    { target: 'userPrincipalName', code: 'InvalidValue' },
  ]);
  if (typeof value !== 'string') throw invalid;
  const match = /^([A-Za-z0-9'.\-_!#^~]{1,64})@([A-Za-z0-9.-]+)$/.exec(value);
  if (!match || match[1]!.startsWith('.') || match[1]!.endsWith('.')) throw invalid;
  if (!directory.isVerifiedDomain(match[2]!)) throw invalid;
  return value;
}

function passwordOf(profile: unknown): string {
  const password =
    profile && typeof profile === 'object'
      ? (profile as Record<string, unknown>)['password']
      : undefined;
  if (typeof password !== 'string' || password === '') throw invalidValue('passwordProfile');
  return password;
}

/** Entra's rule: 8–256 characters and three of lower, upper, digit, symbol. */
function checkPasswordComplexity(password: string): void {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((pattern) =>
    pattern.test(password),
  ).length;
  if (password.length < 8 || password.length > 256 || classes < 3)
    throw badRequest(
      'The specified password does not comply with password complexity requirements. Please provide a different password.',
    );
}
