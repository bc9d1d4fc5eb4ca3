import type { ChangeRequest } from '../change-request/change-request';
import type {
  AccessChangePayload,
  LicenceChangePayload,
  NewUserPayload,
  OffboardPayload,
} from '../change-request/change-request.payloads';
import type { ChangeRequestId } from '../shared/ids';
import { payloadMisfits } from './template-match.policy';
import { TEMPLATABLE_TYPES, type StandardTemplate, type TemplateRanges } from './template';

/** Successful closed normal changes of one shape before Cabinet suggests a template. */
export const DEFAULT_PROMOTION_THRESHOLD = 5;

/** A suggestion to MSP leads: these changes repeat; here is a template draft covering them. */
export interface PromotionSuggestion {
  /** Stable per type and payload shape, so a suggestion is recorded once. */
  readonly key: string;
  readonly requestIds: readonly ChangeRequestId[];
  /** `repeated`: threshold reached; `review`: a post-implementation review asked for it. */
  readonly because: 'repeated' | 'review';
  readonly draft: {
    readonly name: string;
    readonly ranges: TemplateRanges;
    /** From the latest change's assessment: a starting point for the lead, not approved text. */
    readonly implementationPlan: string;
    readonly rollbackPlan: string;
  };
}

export interface PromotionOptions {
  readonly threshold?: number;
  /** Templates already in the catalogue: shapes they cover are not suggested again. */
  readonly templates?: readonly StandardTemplate[];
}

const sorted = (values: readonly string[]) =>
  [...new Set(values.map((v) => v.toLowerCase()))].sort();

/** The payload's shape: what a template would have to allow, with per-person details left out. */
function shapeOf(request: ChangeRequest): TemplateRanges | undefined {
  switch (request.type) {
    case 'licence_change': {
      const p = request.payload as LicenceChangePayload;
      return {
        type: 'licence_change',
        addSkus: sorted(p.addSkus).map((s) => s.toUpperCase()),
        removeSkus: sorted(p.removeSkus).map((s) => s.toUpperCase()),
      };
    }
    case 'access_change': {
      const p = request.payload as AccessChangePayload;
      return {
        type: 'access_change',
        actions: [p.action],
        resources: [p.resource],
        accessLevels: [p.accessLevel],
      };
    }
    case 'new_user': {
      const p = request.payload as NewUserPayload;
      return {
        type: 'new_user',
        licenceSkus: sorted(p.licenceSkus).map((s) => s.toUpperCase()),
        groups: [...new Set(p.groups)].sort(),
        ...(p.department !== undefined ? { departments: [p.department] } : {}),
      };
    }
    case 'offboard': {
      const p = request.payload as OffboardPayload;
      return {
        type: 'offboard',
        allowForwarding: p.forwardMailTo !== undefined,
        allowOneDriveDelegation: p.delegateOneDriveTo !== undefined,
      };
    }
    case 'general':
    case 'incident':
      return undefined;
  }
}

function shapeKey(shape: TemplateRanges): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? (v as unknown[]).map((x) => (typeof x === 'string' ? x.toLowerCase() : x))
      : v;
  return Object.entries(shape)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(canon(v))}`)
    .join('|');
}

const failed = (r: ChangeRequest) =>
  r.status === 'failed' ||
  r.status === 'rolled_back' ||
  r.closure?.outcome === 'failed' ||
  r.closure?.outcome === 'rolled_back' ||
  r.review?.outcome === 'failed' ||
  r.review?.outcome === 'rolled_back';

const succeeded = (r: ChangeRequest) =>
  r.changeClass === 'normal' && r.status === 'closed' && r.closure?.outcome === 'successful';

/**
 * Which normal changes repeat enough to become a standard template (issue 4 §1): `threshold`
 * successfully closed normal changes of one type and payload shape, or one whose review says it
 * should become standard, and no change of that shape that failed or was rolled back.
 * @remarks Shapes an existing template already covers are skipped. Order: by key.
 */
export function promotionSuggestion(
  history: readonly ChangeRequest[],
  options: PromotionOptions = {},
): PromotionSuggestion[] {
  const threshold = options.threshold ?? DEFAULT_PROMOTION_THRESHOLD;
  const groups = new Map<string, { shape: TemplateRanges; requests: ChangeRequest[] }>();
  for (const request of history) {
    if (!(TEMPLATABLE_TYPES as readonly string[]).includes(request.type)) continue;
    if (request.changeClass !== 'normal') continue;
    const shape = shapeOf(request);
    if (!shape) continue;
    const key = shapeKey(shape);
    const group = groups.get(key) ?? { shape, requests: [] };
    group.requests.push(request);
    groups.set(key, group);
  }
  const suggestions: PromotionSuggestion[] = [];
  for (const [key, { shape, requests }] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    if (requests.some(failed)) continue;
    const good = requests.filter(succeeded).sort((a, b) => a.number - b.number);
    const reviewed = good.some((r) => r.review?.becomeStandard === true);
    if (good.length < threshold && !reviewed) continue;
    const covered = (options.templates ?? []).some(
      (t) =>
        t.ranges.type === shape.type &&
        good.every((r) => payloadMisfits(t.ranges, r.payload).length === 0),
    );
    if (covered) continue;
    const latest = good.at(-1)!;
    suggestions.push({
      key: `${shape.type}:${key}`,
      requestIds: good.map((r) => r.id),
      because: good.length >= threshold ? 'repeated' : 'review',
      draft: {
        name: `Standard ${shape.type.replace(/_/g, ' ')} (from ${latest.id})`,
        ranges: shape,
        implementationPlan: latest.assessment?.implementationPlan ?? '',
        rollbackPlan: latest.assessment?.rollbackPlan ?? '',
      },
    });
  }
  return suggestions;
}
