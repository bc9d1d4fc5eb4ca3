import type { ChangeRequest } from '../../../domain/change-request/change-request';
import type { Identity } from '../../../application/use-cases/identify';
import { isMspStaff, mayRaise } from '../../../domain/client/client';
import { STATUS_COLORS, STATUS_LABELS } from './labels';
import { bindTemplate, type AdaptiveCardJson } from './template';

const ROLE_NAMES = {
  client_admin: 'client admin',
  approver: 'approver',
  tech: 'MSP technician',
  lead: 'MSP lead',
} as const;

/** Says who you are to Cabinet and what you can do here. */
export function welcomeCard(identity: Identity): AdaptiveCardJson {
  const roles = identity.memberships.flatMap((m) =>
    [...m.roles].map((r) => `${ROLE_NAMES[r]} of ${m.client.name}`),
  );
  const canRaise = identity.memberships.some((m) => mayRaise(m.roles));
  const staff = identity.memberships.some((m) => isMspStaff(m.roles));
  const approver = identity.memberships.some((m) => m.roles.has('approver'));
  const lead = identity.memberships.some((m) => m.roles.has('lead'));
  const abilities = [
    ...(canRaise ? ['Raise change requests with a guided form (**new**)'] : []),
    ...(approver
      ? [
          'Approve or deny requests for your organisation; cards arrive here, and **approvals** lists everything waiting for you',
        ]
      : []),
    ...(staff
      ? [
          'Assess requests and send them for approval in the Requests tab, pick up approved work and close it with its review (**approvals** lists your CAB and lead votes)',
        ]
      : []),
    ...(roles.length > 0
      ? [
          'Follow every request and its history (**my requests**, **status ID**)',
          'Add a note to a request from its card, or type **note CONTOSO-1042 your note**',
        ]
      : []),
    ...(lead
      ? [
          'See deliveries Cabinet gave up on (Teams messages, PSA tickets and notes) with their last error, and retry them (**deliveries**)',
        ]
      : []),
  ];
  return bindTemplate('welcome', {
    name: identity.person.name,
    roles: roles.length > 0 ? roles : ['Not registered yet: Cabinet does not know you.'],
    abilities:
      abilities.length > 0
        ? abilities
        : ['Ask your MSP to add you as a client admin or approver, then type **help**.'],
    canRaise,
    registered: roles.length > 0,
  });
}

export function requestListCard(
  requests: readonly ChangeRequest[],
  canRaise: boolean,
  heading = 'Requests',
): AdaptiveCardJson {
  return bindTemplate('request-list', {
    heading,
    canRaise,
    items: requests.map((r) => ({
      id: r.id,
      title: r.title,
      statusLabel: STATUS_LABELS[r.status],
      statusColor: STATUS_COLORS[r.status],
    })),
  });
}
