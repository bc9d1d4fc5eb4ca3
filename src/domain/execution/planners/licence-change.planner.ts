import type { ChangeRequest } from '../../change-request/change-request';
import type { DomainError } from '../../shared/errors';
import { err, ok, type Result } from '../../shared/result';
import type { DirectorySku, LicenceAssignment } from '../directory';
import type { LicenceChangeSnapshot } from '../directory-snapshot';
import { ExecutionErrors as E } from '../execution.errors';
import type { ExecutionPlan } from '../execution-plan';
import { checkSeats, findSku, skuName } from '../licences';
import type { LicenceChangeOptions } from '../wizard-options';
import { json, step, type StepSpec } from './plan-kit';

/** The removal step, which is the point of no return. */
export const REMOVE_STEP = 'remove-licences';

/**
 * Plans a licence change: set a missing usage location if the wizard gave one, add the new
 * licences, then remove the old ones — adding first, so a swap never leaves the user without
 * service. Seats are checked here so the technician hears "no free seats" before anything runs.
 * @remarks Point of no return: the removal. Adding undoes cleanly (the seat goes back); once a
 * seat is released someone else may take it, so from there failures are retried, not undone.
 */
export function planLicenceChange(
  request: ChangeRequest,
  options: LicenceChangeOptions,
  snapshot: LicenceChangeSnapshot,
): Result<ExecutionPlan, DomainError> {
  const upn = options.userPrincipalName;
  const user = snapshot.user;
  if (!user) return err(E.userNotFound(upn));
  const who = user.displayName;
  const notes: string[] = [];
  const direct = new Set(user.assignedLicences.map((l) => l.skuId));

  const adds: DirectorySku[] = [];
  for (const partNumber of new Set(options.addSkus)) {
    const sku = findSku(snapshot.skus, partNumber);
    if (!sku.ok) return sku;
    if (direct.has(sku.value.skuId)) {
      notes.push(`${who} already has ${skuName(sku.value)}; nothing to add.`);
      continue;
    }
    const seats = checkSeats(sku.value);
    if (!seats.ok) return seats;
    if (seats.value) notes.push(seats.value);
    adds.push(sku.value);
  }

  const removes: LicenceAssignment[] = [];
  for (const partNumber of new Set(options.removeSkus)) {
    const sku = findSku(snapshot.skus, partNumber);
    if (!sku.ok) return sku;
    const assignment = user.assignedLicences.find((l) => l.skuId === sku.value.skuId);
    const viaGroups = user.inheritedLicences
      .filter((l) => l.skuId === sku.value.skuId)
      .map((l) => snapshot.licenceGroups.find((g) => g.id === l.groupId)?.displayName ?? l.groupId);
    if (assignment) {
      removes.push(assignment);
      if (viaGroups.length > 0)
        notes.push(
          `${who} keeps ${skuName(sku.value)} through ${viaGroups.join(', ')} after the direct assignment goes.`,
        );
    } else if (viaGroups.length > 0) {
      return err(E.inheritedLicence(skuName(sku.value), viaGroups));
    } else {
      notes.push(`${who} does not have ${skuName(sku.value)}; nothing to remove.`);
    }
  }

  const specs: StepSpec[] = [];
  if (adds.length > 0 && !user.usageLocation) {
    if (!options.usageLocation) return err(E.noUsageLocation(upn));
    specs.push({
      id: 'set-usage-location',
      title: `Set the usage location of ${who} to ${options.usageLocation}`,
      wave: 0,
      forward: {
        kind: 'user.update',
        userId: user.id,
        changes: { usageLocation: options.usageLocation },
      },
      prior: { usageLocation: null },
    });
  }
  if (adds.length > 0)
    specs.push({
      id: 'assign-licences',
      title: `Give ${who} ${adds.map(skuName).join(', ')}`,
      wave: 1,
      forward: {
        kind: 'user.assignLicences',
        userId: user.id,
        add: adds.map((s) => ({ skuId: s.skuId, disabledPlans: [] })),
        remove: [],
      },
      compensation: {
        kind: 'user.assignLicences',
        userId: user.id,
        add: [],
        remove: adds.map((s) => s.skuId),
      },
      prior: json({ assignedLicences: user.assignedLicences }),
    });
  if (removes.length > 0)
    specs.push({
      id: REMOVE_STEP,
      title: `Remove ${removes
        .map((r) => snapshot.skus.find((s) => s.skuId === r.skuId))
        .map((s) => (s ? skuName(s) : 'a licence'))
        .join(', ')} from ${who}`,
      wave: 2,
      forward: {
        kind: 'user.assignLicences',
        userId: user.id,
        add: [],
        remove: removes.map((r) => r.skuId),
      },
      compensation: { kind: 'user.assignLicences', userId: user.id, add: removes, remove: [] },
      prior: json({ assignedLicences: user.assignedLicences }),
    });

  const steps = specs.map((s) => step(s, upn));
  const removeIndex = steps.findIndex((s) => s.id === REMOVE_STEP);
  return ok({
    requestId: request.id,
    requestVersion: request.version,
    type: 'licence_change',
    subject: { userPrincipalName: upn, displayName: who, userId: user.id },
    steps,
    pointOfNoReturn: removeIndex >= 0 ? removeIndex : steps.length,
    checklist: [],
    notes,
  });
}
