import type { GraphRoute } from './graph-context';
import {
  addRelated,
  deleteRelatedObject,
  getGroup,
  listGroups,
  listGroupsOfUser,
  listOrganization,
  listRelated,
  listRelatedReferences,
  listSubscribedSkus,
  postToCollection,
  removeRelated,
} from './graph-groups';
import {
  assignLicense,
  createUser,
  deleteUser,
  getDeletedItem,
  getManager,
  getMailboxSettings,
  getUser,
  listDeletedUsers,
  listDirectReports,
  listLicenseDetails,
  listUsers,
  purgeDeletedItem,
  removeManager,
  restoreDeletedItem,
  revokeSignInSessions,
  setManager,
  updateMailboxSettings,
  updateUser,
} from './graph-users';

/** Application permissions that satisfy each kind of call (least privileged first, as the docs list them). */
const READ_USERS = [
  'User.Read.All',
  'User.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const WRITE_USERS = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
const READ_GROUPS = [
  'GroupMember.Read.All',
  'Group.Read.All',
  'GroupMember.ReadWrite.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const WRITE_MEMBERS = [
  'GroupMember.ReadWrite.All',
  'Group.ReadWrite.All',
  'Directory.ReadWrite.All',
];
const READ_MEMBERSHIPS = [...READ_USERS, ...READ_GROUPS];
const WRITE_LICENCES = [
  'LicenseAssignment.ReadWrite.All',
  'User.ReadWrite.All',
  'Directory.ReadWrite.All',
];
const READ_ORGANIZATION = [
  'Organization.Read.All',
  'Organization.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const READ_MAILBOX = ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'];
const WRITE_MAILBOX = ['MailboxSettings.ReadWrite'];

const route = (
  method: string,
  template: string,
  permissions: readonly string[],
  handler: GraphRoute['handler'],
): GraphRoute => ({ method, template, permissions, mutation: method !== 'GET', handler });

export const GRAPH_ROUTES: readonly GraphRoute[] = [
  route('GET', '/users', READ_USERS, listUsers),
  route('POST', '/users', WRITE_USERS, createUser),
  route('GET', '/users/{id}', READ_USERS, getUser),
  route('PATCH', '/users/{id}', WRITE_USERS, updateUser),
  route('DELETE', '/users/{id}', WRITE_USERS, deleteUser),
  route('POST', '/users/{id}/revokeSignInSessions', WRITE_USERS, revokeSignInSessions),
  route('POST', '/users/{id}/assignLicense', WRITE_LICENCES, assignLicense),
  route('GET', '/users/{id}/licenseDetails', READ_USERS, listLicenseDetails),
  route('GET', '/users/{id}/memberOf', READ_MEMBERSHIPS, listGroupsOfUser('memberOf', false)),
  route(
    'GET',
    '/users/{id}/memberOf/microsoft.graph.group',
    READ_MEMBERSHIPS,
    listGroupsOfUser('memberOf', true),
  ),
  route(
    'GET',
    '/users/{id}/ownedObjects',
    READ_MEMBERSHIPS,
    listGroupsOfUser('ownedObjects', false),
  ),
  route(
    'GET',
    '/users/{id}/ownedObjects/microsoft.graph.group',
    READ_MEMBERSHIPS,
    listGroupsOfUser('ownedObjects', true),
  ),
  route('GET', '/users/{id}/mailboxSettings', READ_MAILBOX, getMailboxSettings),
  route('PATCH', '/users/{id}/mailboxSettings', WRITE_MAILBOX, updateMailboxSettings),
  route('GET', '/users/{id}/manager', READ_USERS, getManager),
  route('PUT', '/users/{id}/manager/$ref', WRITE_USERS, setManager),
  route('DELETE', '/users/{id}/manager/$ref', WRITE_USERS, removeManager),
  route('GET', '/users/{id}/directReports', READ_USERS, listDirectReports),
  route('GET', '/directory/deletedItems/microsoft.graph.user', READ_USERS, listDeletedUsers),
  route('GET', '/directory/deletedItems/{id}', READ_USERS, getDeletedItem),
  route('DELETE', '/directory/deletedItems/{id}', WRITE_USERS, purgeDeletedItem),
  route('POST', '/directory/deletedItems/{id}/restore', WRITE_USERS, restoreDeletedItem),
  route('GET', '/subscribedSkus', READ_ORGANIZATION, listSubscribedSkus),
  route('GET', '/organization', READ_ORGANIZATION, listOrganization),
  route('GET', '/groups', READ_GROUPS, listGroups),
  route('GET', '/groups/{id}', READ_GROUPS, getGroup),
  ...(['members', 'owners'] as const).flatMap((relation) => [
    route('GET', `/groups/{id}/${relation}`, READ_GROUPS, listRelated(relation)),
    route('GET', `/groups/{id}/${relation}/$ref`, READ_GROUPS, listRelatedReferences(relation)),
    route('POST', `/groups/{id}/${relation}`, WRITE_MEMBERS, postToCollection),
    route('POST', `/groups/{id}/${relation}/$ref`, WRITE_MEMBERS, addRelated(relation)),
    route('DELETE', `/groups/{id}/${relation}/{id}/$ref`, WRITE_MEMBERS, removeRelated(relation)),
    route('DELETE', `/groups/{id}/${relation}/{id}`, WRITE_USERS, deleteRelatedObject),
  ]),
];

export interface RouteMatch {
  readonly route: GraphRoute;
  readonly params: readonly string[];
}

export type RouteResolution =
  | { readonly kind: 'found'; readonly match: RouteMatch }
  | { readonly kind: 'wrongMethod' }
  | { readonly kind: 'unknown'; readonly segment: string };

/** Finds the route for decoded path segments; literal segments compare case-insensitively, as OData does. */
export function resolveRoute(method: string, segments: readonly string[]): RouteResolution {
  let pathKnown = false;
  for (const candidate of GRAPH_ROUTES) {
    const params = matchTemplate(candidate.template, segments);
    if (!params) continue;
    if (candidate.method === method) return { kind: 'found', match: { route: candidate, params } };
    pathKnown = true;
  }
  return pathKnown
    ? { kind: 'wrongMethod' }
    : { kind: 'unknown', segment: firstUnknownSegment(segments) };
}

function matchTemplate(template: string, segments: readonly string[]): string[] | undefined {
  const parts = template.split('/').slice(1);
  if (parts.length !== segments.length) return undefined;
  const params: string[] = [];
  for (const [index, part] of parts.entries()) {
    const segment = segments[index]!;
    if (part === '{id}') {
      if (segment === '' || segment.startsWith('$')) return undefined;
      params.push(segment);
    } else if (part.toLowerCase() !== segment.toLowerCase()) return undefined;
  }
  return params;
}

/** The segment Graph would name in "Resource not found for the segment '…'". */
function firstUnknownSegment(segments: readonly string[]): string {
  for (let length = segments.length; length > 0; length--) {
    const prefix = segments.slice(0, length);
    const known = GRAPH_ROUTES.some((candidate) => {
      const parts = candidate.template.split('/').slice(1, length + 1);
      return parts.length === length && matchTemplate(`/${parts.join('/')}`, prefix) !== undefined;
    });
    if (known) return segments[length] ?? segments[length - 1] ?? '';
  }
  return segments[0] ?? '';
}
