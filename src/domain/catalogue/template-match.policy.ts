import type {
  AccessChangePayload,
  ChangePayload,
  ChangeType,
  LicenceChangePayload,
  NewUserPayload,
  OffboardPayload,
} from '../change-request/change-request.payloads';
import { isActive, type ActiveTemplate } from './activation.policy';
import type { TemplateId, TemplateRanges } from './template';

/** Why one active template did not fit a request, in words a technician can act on. */
export interface TemplateMisfit {
  readonly templateId: TemplateId;
  readonly name: string;
  readonly reasons: readonly string[];
}

/** The template a request runs under, or why none fits. */
export type TemplateMatch =
  | { readonly template: ActiveTemplate; readonly misfits: readonly TemplateMisfit[] }
  | { readonly template: undefined; readonly misfits: readonly TemplateMisfit[] };

export interface TemplateMatchRequest {
  readonly type: ChangeType;
  readonly payload: ChangePayload;
  /** Today (YYYY-MM-DD, the client's zone), for "grant ends within N days". */
  readonly today?: string;
}

/**
 * The active template a request fits: same type, every payload value inside the template's
 * ranges. A client's own template wins over a global one, then the lower id (deterministic).
 * @remarks Only templates the client approved at their current version and not suspended count.
 * `misfits` lists every active template of the same type that did not fit, with its reasons.
 */
export function matchActiveTemplate(
  candidates: readonly ActiveTemplate[],
  request: TemplateMatchRequest,
): TemplateMatch {
  const sameType = candidates
    .filter((c) => isActive(c) && c.template.ranges.type === request.type)
    .sort(
      (a, b) =>
        Number(a.template.scope === 'global') - Number(b.template.scope === 'global') ||
        a.template.id.localeCompare(b.template.id),
    );
  const misfits: TemplateMisfit[] = [];
  for (const candidate of sameType) {
    const reasons = payloadMisfits(candidate.template.ranges, request.payload, request.today);
    if (reasons.length === 0) return { template: candidate, misfits };
    misfits.push({ templateId: candidate.template.id, name: candidate.template.name, reasons });
  }
  return { template: undefined, misfits };
}

const lower = (values: readonly string[]) => new Set(values.map((v) => v.toLowerCase()));

function outside(
  what: string,
  values: readonly string[],
  allowed: readonly string[],
): string | undefined {
  const ok = lower(allowed);
  const extra = values.filter((v) => !ok.has(v.toLowerCase()));
  if (extra.length === 0) return undefined;
  const allowedText = allowed.length > 0 ? allowed.join(', ') : 'none';
  return `${what} ${extra.join(', ')} ${extra.length === 1 ? 'is' : 'are'} not in the template (allowed: ${allowedText})`;
}

/**
 * Every way `payload` leaves `ranges`; empty when it fits. The payload must be of the ranges' type.
 */
export function payloadMisfits(
  ranges: TemplateRanges,
  payload: ChangePayload,
  today?: string,
): string[] {
  const reasons: (string | undefined)[] = [];
  switch (ranges.type) {
    case 'licence_change': {
      const p = payload as LicenceChangePayload;
      reasons.push(outside('adding licence', p.addSkus, ranges.addSkus));
      reasons.push(outside('removing licence', p.removeSkus, ranges.removeSkus));
      break;
    }
    case 'access_change': {
      const p = payload as AccessChangePayload;
      reasons.push(outside('action', [p.action], ranges.actions));
      reasons.push(outside('resource', [p.resource], ranges.resources));
      reasons.push(outside('access level', [p.accessLevel], ranges.accessLevels));
      if (p.action === 'grant' && ranges.maxDays !== undefined) {
        if (p.until === undefined)
          reasons.push(`a grant must end within ${ranges.maxDays} days: set "until"`);
        else if (today !== undefined && daysBetween(today, p.until) > ranges.maxDays)
          reasons.push(
            `the grant runs until ${p.until}, longer than the ${ranges.maxDays} days the template allows`,
          );
      }
      break;
    }
    case 'new_user': {
      const p = payload as NewUserPayload;
      reasons.push(outside('licence', p.licenceSkus, ranges.licenceSkus));
      reasons.push(outside('group', p.groups, ranges.groups));
      if (ranges.departments !== undefined)
        reasons.push(
          p.department === undefined
            ? `a department is required (allowed: ${ranges.departments.join(', ')})`
            : outside('department', [p.department], ranges.departments),
        );
      break;
    }
    case 'offboard': {
      const p = payload as OffboardPayload;
      if (!ranges.allowForwarding && p.forwardMailTo !== undefined)
        reasons.push('mail forwarding is not part of the template');
      if (!ranges.allowOneDriveDelegation && p.delegateOneDriveTo !== undefined)
        reasons.push('a OneDrive hand-over is not part of the template');
      break;
    }
  }
  return reasons.filter((r): r is string => r !== undefined);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
