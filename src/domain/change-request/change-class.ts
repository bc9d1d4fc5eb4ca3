import type { ChangeType } from './change-request.payloads';

/** ITIL classes (issue 4 §1): standard (pre-approved by template), normal, emergency. */
export const CHANGE_CLASSES = ['standard', 'normal', 'emergency'] as const;
export type ChangeClass = (typeof CHANGE_CLASSES)[number];

/** How a change ended (DESIGN.md §2), recorded on closure and in the post-implementation review. */
export type ClosureOutcome = 'successful' | 'successful_with_issues' | 'failed' | 'rolled_back';

/** How a change type is classified when nobody says otherwise. */
export interface ClassDefault {
  /** Never `standard`: a request is standard only by matching a template the client approved. */
  readonly defaultClass: Exclude<ChangeClass, 'standard'>;
  /** Whether a technician may reclassify this type as an emergency. */
  readonly emergencyEligible: boolean;
}

/** A client's overrides of the MSP's class defaults, per type; validated by `validateClassOverrides`. */
export type ClassOverrides = { readonly [T in ChangeType]?: Partial<ClassDefault> };
