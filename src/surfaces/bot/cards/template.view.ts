import {
  effectiveStatus,
  isClientApprover,
  type ActivationStatus,
  type TemplateActivation,
} from '../../../domain/catalogue/activation.policy';
import type { StandardTemplate, TemplateRanges } from '../../../domain/catalogue/template';
import type { ClientProfile } from '../../../domain/client/client';
import type { Person } from '../../../domain/shared/person';
import { TYPE_LABELS } from './labels';
import type { Banner } from './request.view';
import { bindTemplate, type AdaptiveCardJson } from './template';

const STATUS: { readonly [S in ActivationStatus | 'not_proposed']: [string, string] } = {
  not_proposed: ['Not proposed', 'default'],
  proposed: ['Awaiting your approval', 'warning'],
  active: ['Active', 'good'],
  suspended: ['Suspended', 'attention'],
  withdrawn: ['Declined', 'attention'],
};

/** The template's ranges as sentences an approver can check. */
export function describeRanges(ranges: TemplateRanges): string[] {
  const list = (values: readonly string[]) => (values.length > 0 ? values.join(', ') : 'none');
  switch (ranges.type) {
    case 'licence_change':
      return [
        `Add licences: ${list(ranges.addSkus)}`,
        `Remove licences: ${list(ranges.removeSkus)}`,
      ];
    case 'access_change':
      return [
        `Actions: ${list(ranges.actions)}`,
        `On: ${list(ranges.resources)}`,
        `Access levels: ${list(ranges.accessLevels.map((l) => l.replace(/_/g, ' ')))}`,
        ranges.maxDays !== undefined
          ? `Grants end within ${ranges.maxDays} days`
          : 'Grants may be permanent',
      ];
    case 'new_user':
      return [
        `Licences: ${list(ranges.licenceSkus)}`,
        `Groups: ${list(ranges.groups)}`,
        `Departments: ${ranges.departments ? list(ranges.departments) : 'any'}`,
      ];
    case 'offboard':
      return [
        `Mail forwarding: ${ranges.allowForwarding ? 'allowed' : 'not allowed'}`,
        `OneDrive hand-over: ${ranges.allowOneDriveDelegation ? 'allowed' : 'not allowed'}`,
      ];
  }
}

/**
 * A standard-change template as the client's approver sees it: exactly what one approval covers,
 * with Approve / Decline only for that client's approvers while it waits for them.
 */
export function templateApprovalCard(
  template: StandardTemplate,
  activation: TemplateActivation | undefined,
  client: ClientProfile,
  viewer: Person,
  banner?: Banner,
): AdaptiveCardJson {
  const status = effectiveStatus(template, activation);
  const [statusLabel, statusColor] = STATUS[status];
  const facts = [
    { title: 'Client', value: client.name },
    { title: 'Version', value: String(template.version) },
    { title: 'Proposed by', value: activation?.proposedBy.name ?? template.updatedBy.name },
    ...(activation?.approvedBy && status !== 'proposed'
      ? [{ title: 'Approved by', value: activation.approvedBy.name }]
      : []),
    ...(activation && status === 'suspended'
      ? [{ title: 'Suspended because', value: activation.suspendedReason ?? '' }]
      : []),
    ...(activation && status === 'withdrawn'
      ? [{ title: 'Declined because', value: activation.withdrawnReason ?? '' }]
      : []),
    ...(activation
      ? [
          {
            title: 'Runs',
            value: `${activation.successfulRuns} succeeded, ${activation.failedRuns} failed`,
          },
        ]
      : []),
  ];
  return bindTemplate('template-approval', {
    id: template.id,
    clientTenantId: client.tenantId,
    version: template.version,
    name: template.name,
    typeLabel: TYPE_LABELS[template.ranges.type],
    statusLabel,
    statusColor,
    banner: banner?.text ?? '',
    bannerStyle: banner?.style ?? 'default',
    explanation:
      `If you approve, ${client.name}'s requests that fit this template are pre-approved: they run ` +
      'without a separate approval each time, and every card says so. Your approval covers this ' +
      'version only: any change to the template comes back to you, and a failed run suspends it.',
    allows: describeRanges(template.ranges).map((text) => ({ text })),
    implementationPlan: template.implementationPlan,
    rollbackPlan: template.rollbackPlan,
    facts,
    canDecide: status === 'proposed' && isClientApprover(client, viewer),
  });
}
