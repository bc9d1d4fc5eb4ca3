import type { Directory, GroupRecord, UserRecord } from './directory-state';
import type { GraphContext } from './graph-context';
import { findUser, softDelete, USER_DEFAULT_PROPERTIES, userEntity } from './graph-users';
import {
  badRequest,
  compileFilter,
  GraphFault,
  notFound,
  page,
  project,
  referencedId,
  type GraphResponse,
} from './graph-wire';

const GROUP_DEFAULT_PROPERTIES = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'creationOptions',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'resourceBehaviorOptions',
  'resourceProvisioningOptions',
  'securityEnabled',
  'securityIdentifier',
  'theme',
  'visibility',
] as const;

const GROUP_TYPE = 'microsoft.graph.group';
const FILTERABLE = new Set([
  'displayName',
  'mailNickname',
  'mail',
  'id',
  'mailEnabled',
  'securityEnabled',
]);

export type Relation = 'members' | 'owners';

function groupEntity(group: GroupRecord): Record<string, unknown> {
  return {
    id: group.id,
    deletedDateTime: null,
    classification: null,
    createdDateTime: group.createdDateTime,
    creationOptions: [],
    description: group.description,
    displayName: group.displayName,
    expirationDateTime: null,
    groupTypes: group.groupTypes,
    isAssignableToRole: null,
    mail: group.mail,
    mailEnabled: group.mailEnabled,
    mailNickname: group.mailNickname,
    membershipRule: group.membershipRule,
    membershipRuleProcessingState: group.membershipRuleProcessingState,
    onPremisesSyncEnabled: null,
    preferredDataLocation: null,
    preferredLanguage: null,
    proxyAddresses: group.mail ? [`SMTP:${group.mail}`] : [],
    renewedDateTime: group.createdDateTime,
    resourceBehaviorOptions: [],
    resourceProvisioningOptions: [],
    securityEnabled: group.securityEnabled,
    securityIdentifier: `S-1-12-1-${group.id
      .replace(/-/g, '')
      .match(/.{8}/g)!
      .map((chunk) => parseInt(chunk, 16))
      .join('-')}`,
    theme: null,
    visibility: group.visibility,
    assignedLicenses: group.assignedLicenses,
  };
}

function findGroup(context: GraphContext): GroupRecord {
  const id = context.params[0]!;
  const group = context.directory.findGroup(id);
  if (!group) throw notFound(id);
  return group;
}

export function listGroups(context: GraphContext): GraphResponse {
  const filter = compileFilter(context.query.filter, FILTERABLE);
  const items = context.directory.record.groups
    .map(groupEntity)
    .filter(filter)
    .map((entity) => project(entity, context.query.select, GROUP_DEFAULT_PROPERTIES, GROUP_TYPE));
  return page(items, context.query, {
    selfUrl: context.selfUrl,
    context: `${context.graphUrl}/$metadata#groups`,
  });
}

export function getGroup(context: GraphContext): GraphResponse {
  const group = findGroup(context);
  return {
    status: 200,
    body: {
      '@odata.context': `${context.graphUrl}/$metadata#groups/$entity`,
      ...project(groupEntity(group), context.query.select, GROUP_DEFAULT_PROPERTIES, GROUP_TYPE),
    },
  };
}

function related(directory: Directory, group: GroupRecord, relation: Relation): UserRecord[] {
  return relation === 'members' ? directory.membersOf(group) : directory.ownersOf(group);
}

export const listRelated =
  (relation: Relation) =>
  (context: GraphContext): GraphResponse => {
    const group = findGroup(context);
    const items = related(context.directory, group, relation).map((user) => ({
      '@odata.type': '#microsoft.graph.user',
      ...project(
        userEntity(context.directory, user),
        context.query.select,
        USER_DEFAULT_PROPERTIES,
        'microsoft.graph.user',
      ),
    }));
    return page(items, context.query, {
      selfUrl: context.selfUrl,
      context: `${context.graphUrl}/$metadata#directoryObjects`,
    });
  };

export const listRelatedReferences =
  (relation: Relation) =>
  (context: GraphContext): GraphResponse => {
    const group = findGroup(context);
    const base = context.graphUrl.replace(/\/v1\.0$/, '');
    const items = related(context.directory, group, relation).map((user) => ({
      '@odata.id': `${base}/v2/${context.directory.id}/directoryObjects/${user.id}/Microsoft.DirectoryServices.User`,
    }));
    return page(items, context.query, {
      selfUrl: context.selfUrl,
      context: `${context.graphUrl}/$metadata#directoryObjects`,
    });
  };

/** Graph refuses to change Exchange-managed and rule-based groups; Cabinet must route those elsewhere. */
function checkWritable(directory: Directory, group: GroupRecord, relation: Relation): void {
  if (directory.isExchangeManaged(group))
    throw badRequest('Cannot Update a mail-enabled security groups and or distribution list.');
  if (relation === 'members' && directory.isDynamic(group))
    throw badRequest('Members cannot be added to or removed from a group with dynamic membership.');
}

export const addRelated =
  (relation: Relation) =>
  (context: GraphContext): GraphResponse => {
    const group = findGroup(context);
    checkWritable(context.directory, group, relation);
    const userId = referencedId(context.body);
    const user = context.directory.findActiveUser(userId);
    if (!user) throw notFound(userId);
    const list = relation === 'members' ? group.members : group.owners;
    if (list.includes(user.id))
      throw badRequest(
        `One or more added object references already exist for the following modified properties: '${relation}'.`,
      );
    list.push(user.id);
    return { status: 204 };
  };

export const removeRelated =
  (relation: Relation) =>
  (context: GraphContext): GraphResponse => {
    const group = findGroup(context);
    checkWritable(context.directory, group, relation);
    const userId = context.params[1]!.toLowerCase();
    const user = context.directory.findActiveUser(userId);
    const list = relation === 'members' ? group.members : group.owners;
    if (!user || !list.includes(user.id))
      throw new GraphFault(
        404,
        'Request_ResourceNotFound',
        `One or more removed object references do not exist for the following modified properties: '${relation}'.`,
      );
    list.splice(list.indexOf(user.id), 1);
    return { status: 204 };
  };

/**
 * `DELETE /groups/{g}/members/{u}` without `/$ref` deletes the user itself (Graph's documented
 * trap); the group keeps the (now deleted) member, as Entra does.
 */
export function deleteRelatedObject(context: GraphContext): GraphResponse {
  findGroup(context);
  const user = findUser(context, context.params[1]!);
  softDelete(context, user);
  return { status: 204 };
}

/** Posting to the collection instead of `/$ref` is refused the way Graph refuses it. */
export function postToCollection(): GraphResponse {
  throw new GraphFault(
    400,
    'BadRequest',
    'Write requests are only supported on contained entities',
  );
}

export const listGroupsOfUser =
  (relation: 'memberOf' | 'ownedObjects', castToGroup: boolean) =>
  (context: GraphContext): GraphResponse => {
    const user = findUser(context, context.params[0]!);
    const groups =
      relation === 'memberOf'
        ? context.directory.groupsWithMember(user)
        : context.directory.groupsWithOwner(user);
    const items = groups.map((group) => ({
      '@odata.type': '#microsoft.graph.group',
      ...project(groupEntity(group), context.query.select, GROUP_DEFAULT_PROPERTIES, GROUP_TYPE),
    }));
    return page(items, context.query, {
      selfUrl: context.selfUrl,
      context: `${context.graphUrl}/$metadata#${castToGroup ? 'groups' : 'directoryObjects'}`,
    });
  };

export function listSubscribedSkus(context: GraphContext): GraphResponse {
  const record = context.directory.record;
  const items = record.skus.map((sku) =>
    project(
      {
        accountName: record.displayName,
        accountId: record.id,
        appliesTo: sku.appliesTo,
        capabilityStatus: sku.capabilityStatus,
        consumedUnits: context.directory.consumedUnits(sku),
        id: `${record.id}_${sku.skuId}`,
        prepaidUnits: { ...sku.prepaidUnits },
        servicePlans: sku.servicePlans,
        skuId: sku.skuId,
        skuPartNumber: sku.skuPartNumber,
        subscriptionIds: sku.subscriptionIds,
      },
      context.query.select,
      [
        'accountName',
        'accountId',
        'appliesTo',
        'capabilityStatus',
        'consumedUnits',
        'id',
        'prepaidUnits',
        'servicePlans',
        'skuId',
        'skuPartNumber',
        'subscriptionIds',
      ],
      'microsoft.graph.subscribedSku',
    ),
  );
  return {
    status: 200,
    body: { '@odata.context': `${context.graphUrl}/$metadata#subscribedSkus`, value: items },
  };
}

export function listOrganization(context: GraphContext): GraphResponse {
  const record = context.directory.record;
  return {
    status: 200,
    body: {
      '@odata.context': `${context.graphUrl}/$metadata#organization`,
      value: [
        {
          id: record.id,
          displayName: record.displayName,
          tenantType: 'AAD',
          verifiedDomains: record.verifiedDomains.map((domain) => ({
            capabilities: 'Email, OfficeCommunicationsOnline',
            isDefault: domain.isDefault,
            isInitial: domain.isInitial,
            name: domain.name,
            type: 'Managed',
          })),
        },
      ],
    },
  };
}
