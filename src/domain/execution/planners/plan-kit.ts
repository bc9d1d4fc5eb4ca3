import type { JsonObject } from '../../shared/json';
import type { DirectoryCheck, DirectoryCommand } from '../directory';
import { checkFor } from '../directory-commands';
import type { AccessChange, PlanStep } from '../execution-plan';

/** What a planner says about one step; the verify check is derived from the forward command. */
export interface StepSpec {
  readonly id: string;
  readonly title: string;
  readonly wave: number;
  readonly forward: DirectoryCommand;
  readonly compensation?: DirectoryCommand;
  readonly prior?: JsonObject;
  readonly access?: AccessChange;
  /** A read-back other than the one {@link checkFor} derives from the command (it needs prior state). */
  readonly verify?: DirectoryCheck;
}

/** A plan step whose read-back is the one that proves its forward command (see {@link checkFor}). */
export function step(spec: StepSpec, subjectUpn: string): PlanStep {
  return {
    id: spec.id,
    title: spec.title,
    forward: spec.forward,
    verify: spec.verify ?? checkFor(spec.forward, subjectUpn),
    wave: spec.wave,
    ...(spec.compensation ? { compensation: spec.compensation } : {}),
    ...(spec.prior ? { prior: spec.prior } : {}),
    ...(spec.access ? { access: spec.access } : {}),
  };
}

/** A value inside single quotes in an Exchange Online PowerShell command. */
export function ps(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Plain JSON of a typed record (prior state is stored as JSON on the plan). */
export function json(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
