import { DomainError } from '../shared/errors';

/** Stable codes for every way the standard-change catalogue refuses; each message says what to fix. */
export const TemplateErrors = {
  notLead: (what: string) =>
    new DomainError(
      'TEMPLATE.NOT_LEAD',
      `Only an MSP lead of this client can ${what}. Ask a lead, or have a lead added with "cabinet clients set-leads".`,
      { what },
    ),
  notClientApprover: () =>
    new DomainError(
      'TEMPLATE.NOT_CLIENT_APPROVER',
      "Only the client's own approvers can approve or decline a standard-change template: the MSP never " +
        'pre-approves its own changes. Ask an approver of the client to open the card.',
    ),
  notFound: (id: string) =>
    new DomainError(
      'TEMPLATE.NOT_FOUND',
      `Template "${id}" was not found for this client. List the templates with "cabinet templates list".`,
      { id },
    ),
  exists: (id: string) =>
    new DomainError(
      'TEMPLATE.EXISTS',
      `A template with id "${id}" already exists. Pick another id, or edit that template instead.`,
      { id },
    ),
  wrongClient: (id: string) =>
    new DomainError(
      'TEMPLATE.WRONG_CLIENT',
      `Template "${id}" belongs to another client and cannot be proposed here. Create a global template, or one for this client.`,
      { id },
    ),
  notTemplatable: (type: string) =>
    new DomainError(
      'TEMPLATE.TYPE_NOT_TEMPLATABLE',
      `A ${type.replace(/_/g, ' ')} request cannot be a standard change: its payload has no ranges a template could bound. ` +
        'Use new_user, offboard, licence_change or access_change.',
      { type },
    ),
  invalid: (issues: readonly { readonly field: string; readonly message: string }[]) =>
    new DomainError(
      'TEMPLATE.INVALID',
      `Please fix the template: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      { issues },
    ),
  unchanged: (id: string) =>
    new DomainError(
      'TEMPLATE.UNCHANGED',
      `Template "${id}" already has this content; nothing was changed and no re-approval is needed.`,
      { id },
    ),
  staleVersion: (id: string, seen: number, current: number) =>
    new DomainError(
      'TEMPLATE.STALE_VERSION',
      `This card showed version ${seen} of template "${id}", but it is now version ${current}. Read the new card and decide on that.`,
      { id, seen, current },
    ),
  notProposed: (id: string, status: string) =>
    new DomainError(
      'TEMPLATE.NOT_PROPOSED',
      `Template "${id}" is ${status} for this client, not waiting for a decision. Ask an MSP lead to propose it again if it should be reconsidered.`,
      { id, status },
    ),
  alreadyActive: (id: string) =>
    new DomainError(
      'TEMPLATE.ALREADY_ACTIVE',
      `Template "${id}" is already active for this client at its current version; there is nothing to propose.`,
      { id },
    ),
  notSuspended: (id: string, status: string) =>
    new DomainError(
      'TEMPLATE.NOT_SUSPENDED',
      `Template "${id}" is ${status} for this client; only a suspended template can be re-enabled.`,
      { id, status },
    ),
  reasonRequired: (what: string) =>
    new DomainError(
      'TEMPLATE.REASON_REQUIRED',
      `A reason is required to ${what}: say in a sentence why, so the MSP and the auditor can follow it.`,
      { what },
    ),
} as const;
