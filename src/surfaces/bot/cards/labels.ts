import type { Impact, RiskLevel, SensitivityFlag } from '../../../domain/assessment/assessment';
import type { ObjectiveAchieved } from '../../../domain/assessment/post-implementation-review';
import type {
  ChangeClass,
  ChangeStatus,
  ClosureOutcome,
} from '../../../domain/change-request/change-request';
import type { ChangeType } from '../../../domain/change-request/change-request.payloads';

export const TYPE_LABELS: { readonly [T in ChangeType]: string } = {
  new_user: 'New user',
  offboard: 'Offboard a user',
  licence_change: 'Licence change',
  access_change: 'Access change',
  general: 'General change',
  incident: 'Incident',
};

export const TYPE_HINTS: { readonly [T in ChangeType]: string } = {
  new_user: 'Create an account for a new starter, with licences and groups.',
  offboard: 'Block a leaver, hand over mail and files, free their licences.',
  licence_change: 'Add or remove Microsoft 365 licences for someone.',
  access_change: 'Grant or revoke access to a group, site or mailbox.',
  general: 'Anything else you need changed.',
  incident: 'Something is broken and needs fixing.',
};

export const STATUS_LABELS: { readonly [S in ChangeStatus]: string } = {
  draft: 'Draft',
  submitted: 'Submitted',
  triaged: 'Triaged',
  awaiting_approval: 'Awaiting approval',
  needs_info: 'Needs information',
  approved: 'Approved',
  in_progress: 'In progress',
  implemented: 'Implemented',
  review_pending: 'Review pending',
  closed: 'Closed',
  denied: 'Denied',
  cancelled: 'Cancelled',
  failed: 'Failed',
  rolled_back: 'Rolled back',
};

/** Adaptive Card text colours per status, so a glance tells good from bad. */
export const STATUS_COLORS: {
  readonly [S in ChangeStatus]: 'Default' | 'Accent' | 'Good' | 'Warning' | 'Attention';
} = {
  draft: 'Default',
  submitted: 'Accent',
  triaged: 'Accent',
  awaiting_approval: 'Warning',
  needs_info: 'Warning',
  approved: 'Good',
  in_progress: 'Accent',
  implemented: 'Good',
  review_pending: 'Warning',
  closed: 'Good',
  denied: 'Attention',
  cancelled: 'Default',
  failed: 'Attention',
  rolled_back: 'Attention',
};

/** Labels for payload fields on status and approval cards. */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  givenName: 'First name',
  surname: 'Last name',
  displayName: 'Display name',
  userPrincipalName: 'Sign-in name',
  jobTitle: 'Job title',
  department: 'Department',
  managerUpn: 'Manager',
  usageLocation: 'Usage location',
  startDate: 'Start date',
  licenceSkus: 'Licences',
  groups: 'Groups',
  personalEmail: 'Personal e-mail',
  lastWorkingDay: 'Last working day',
  convertToSharedMailbox: 'Convert to shared mailbox',
  forwardMailTo: 'Forward mail to',
  delegateOneDriveTo: 'OneDrive access for',
  removeLicences: 'Remove licences',
  addSkus: 'Licences to add',
  removeSkus: 'Licences to remove',
  effectiveDate: 'Effective date',
  action: 'Grant or revoke',
  resource: 'Resource',
  accessLevel: 'Access level',
  until: 'Until',
  affectedSystems: 'Affected systems',
  preferredWindow: 'Preferred time',
  severity: 'Severity',
  affectedService: 'Affected service',
  affectedUsers: 'Users affected',
  startedAt: 'Started',
};

export const CLASS_LABELS: { readonly [C in ChangeClass]: string } = {
  standard: 'Standard change',
  normal: 'Normal change',
  emergency: 'Emergency change',
};

export const RISK_LABELS: { readonly [R in RiskLevel]: string } = {
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};

export const IMPACT_LABELS: { readonly [I in Impact]: string } = {
  none: 'None',
  minor: 'Minor',
  service_affecting: 'Service-affecting',
};

export const SENSITIVITY_LABELS: { readonly [F in SensitivityFlag]: string } = {
  executive_mailbox: 'Executive mailbox',
  admin_roles: 'Admin roles',
  finance_data: 'Finance data',
  hr_data: 'HR data',
  legal_hold: 'Legal hold',
  security_controls: 'Security controls',
  external_sharing: 'External sharing',
};

export const OUTCOME_LABELS: { readonly [O in ClosureOutcome]: string } = {
  successful: 'Successful',
  successful_with_issues: 'Successful with issues',
  failed: 'Failed',
  rolled_back: 'Rolled back',
};

export const OBJECTIVE_LABELS: { readonly [O in ObjectiveAchieved]: string } = {
  yes: 'Yes',
  partly: 'Partly',
  no: 'No',
};
