import { createHash } from 'node:crypto';
import { canonicalize } from '../audit/audit-chain';
import type { ChangeRequest } from '../change-request/change-request';
import type { DomainError } from '../shared/errors';
import type { JsonValue } from '../shared/json';
import { err, ok, type Result } from '../shared/result';
import type { DirectorySnapshot } from './directory-snapshot';
import { ExecutionErrors as E } from './execution.errors';
import type { ExecutionPlan } from './execution-plan';
import { planAccessChange } from './planners/access-change.planner';
import { planLicenceChange } from './planners/licence-change.planner';
import { planNewUser } from './planners/new-user.planner';
import { planOffboard } from './planners/offboard.planner';
import { deviations, type WizardOptions } from './wizard-options';

/**
 * The plan for an approved request, from the wizard's options and a fresh read of the directory.
 * Refuses with what to fix (user not found, no free seats, …) before anything runs.
 */
export function planExecution(
  request: ChangeRequest,
  options: WizardOptions,
  snapshot: DirectorySnapshot,
): Result<ExecutionPlan, DomainError> {
  if (options.type !== request.type || snapshot.type !== request.type)
    return err(E.notExecutable(request.type));
  const planned = planFor(request, options, snapshot);
  if (!planned.ok) return planned;
  const changed = deviations(request, options);
  const notes =
    changed.length > 0
      ? [
          `Changed in the wizard from what was approved: ${changed.join(', ')}.`,
          ...planned.value.notes,
        ]
      : planned.value.notes;
  return ok({ ...planned.value, notes });
}

function planFor(
  request: ChangeRequest,
  options: WizardOptions,
  snapshot: DirectorySnapshot,
): Result<ExecutionPlan, DomainError> {
  switch (options.type) {
    case 'new_user':
      return snapshot.type === 'new_user'
        ? planNewUser(request, options, snapshot)
        : err(E.notExecutable(request.type));
    case 'offboard':
      return snapshot.type === 'offboard'
        ? planOffboard(request, options, snapshot)
        : err(E.notExecutable(request.type));
    case 'licence_change':
      return snapshot.type === 'licence_change'
        ? planLicenceChange(request, options, snapshot)
        : err(E.notExecutable(request.type));
    case 'access_change':
      return snapshot.type === 'access_change'
        ? planAccessChange(request, options, snapshot)
        : err(E.notExecutable(request.type));
  }
}

/**
 * SHA-256 over the plan's commands in canonical JSON (RFC 8785): what will be sent, in which
 * waves, how it is undone, what waits for a person, and where the point of no return is.
 * Titles and notes are left out, so wording changes never make a preview look stale.
 */
export function planDigest(plan: ExecutionPlan): string {
  const commands = {
    type: plan.type,
    subject: plan.subject.userPrincipalName,
    pointOfNoReturn: plan.pointOfNoReturn,
    steps: plan.steps.map((s) => ({
      id: s.id,
      wave: s.wave,
      forward: s.forward,
      compensation: s.compensation ?? null,
    })),
    checklist: plan.checklist.map((c) => ({ id: c.id, before: c.before ?? null })),
  };
  const canonical = canonicalize(JSON.parse(JSON.stringify(commands)) as JsonValue);
  return createHash('sha256')
    .update('cabinet-plan/v1\n', 'utf8')
    .update(canonical, 'utf8')
    .digest('hex');
}
