import type { ChangeClass } from '../change-request/change-class';
import type { DomainError } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';
import {
  AssessmentErrors as E,
  ROLLBACK_ELEMENTS,
  type RollbackElement,
} from './assessment.errors';
import { PLAN_MAX } from './assessment';

/**
 * Phrases that sound like a rollback plan and say nothing (anchors §5.6: "Revert changes if issues
 * arise" was useless when a permissions migration locked out 40 users). Compared after normalising
 * case and punctuation, within one sentence.
 */
export const BOILERPLATE_PHRASES: readonly string[] = [
  'revert changes if issues arise',
  'revert the changes if issues arise',
  'revert changes if needed',
  'revert if needed',
  'revert if necessary',
  'revert the change',
  'revert changes',
  'revert to previous state',
  'revert to the previous state',
  'revert to previous configuration',
  'revert to the previous configuration',
  'roll back if needed',
  'roll back if necessary',
  'roll back if required',
  'rollback if needed',
  'rollback if necessary',
  'rollback if required',
  'roll back the change',
  'roll back changes',
  'roll back',
  'rollback',
  'back out the change',
  'back out changes',
  'undo the change',
  'undo the changes',
  'undo changes',
  'undo',
  'restore from backup',
  'restore from a backup',
  'restore backup',
  'restore the backup',
  'standard rollback procedure',
  'follow standard procedure',
  'follow the standard procedure',
  'as per normal process',
  'as per standard process',
  'monitor for issues',
  'contact support',
  'escalate as needed',
  'if issues arise',
  'if problems occur',
  'if something goes wrong',
  'if anything goes wrong',
  'if needed',
  'if necessary',
  'if required',
  'as needed',
  'as required',
  'tbd',
  'n a',
  'none',
];

/** Words that carry no plan on their own; text made of these and boilerplate phrases is refused. */
export const FILLER_WORDS: readonly string[] = [
  'a',
  'an',
  'the',
  'and',
  'or',
  'then',
  'we',
  'will',
  'would',
  'can',
  'should',
  'shall',
  'must',
  'just',
  'simply',
  'please',
  'it',
  'this',
  'that',
  'any',
  'all',
  'be',
  'is',
  'are',
  'to',
  'of',
  'in',
  'on',
  'for',
  'with',
  'plan',
  'step',
  'steps',
  'ok',
];

const PHRASES = [...BOILERPLATE_PHRASES].sort((a, b) => b.length - a.length);
const PHRASE_RES = PHRASES.map((p) => new RegExp(`(?:^| )${p}(?= |$)`, 'g'));
const VOCABULARY: ReadonlySet<string> = new Set([
  ...FILLER_WORDS,
  ...BOILERPLATE_PHRASES.flatMap((p) => p.split(' ')),
]);

/** Markers per element, matched on the plan with boilerplate removed (so "if issues arise" is no trigger). */
const MARKERS: { readonly [E in RollbackElement]: RegExp } = {
  trigger:
    /\b(?:if|when|whenever|unless|once|triggers?|triggered|abort|fails?|failed|failure|errors?|cannot|can ?not|unable|exceeds?|threshold|alerts?|outage|no ?go|broken|not working|complain(?:s|ts)?)\b/,
  steps:
    /\b(?:re ?(?:add|enable|apply|assign|create|run|start|point|licen[cs]e|import|instate)|reinstate|remove|reassign|restore|enable|disable|revert|reset|delete|recreate|assign|unassign|set|switch|run|move|rename|uninstall|reinstall|downgrade|stop|start|restart|repoint|point|update|add|grant|revoke|unblock|block|convert|recover|import|export|copy|put back|change back|swap back)(?:s|es|d|ed|ing)?\b/,
  owner:
    /\b(?:technicians?|tech|engineers?|admins?|administrators?|leads?|on ?call|owners?|responsible|assignee|service ?desk|help ?desk|noc|team|dba|i will|we will|(?:performed|done|carried out|executed|handled|owned|run) by)\b/,
  duration:
    /\b(?:\d+ ?(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|days?)|within|takes|duration|eta|rto|an hour|half an hour|a few minutes)\b/,
  verification:
    /\b(?:verify|verifies|verified|verification|confirm|confirmed|confirms|check|checks|checked|validate|validated|validation|test|tested|tests|ensure|smoke|sign in as|log in as|can (?:sign|log) in|successful(?:ly)?|succeeds?|works|working)\b/,
};

/** Fewer meaningful words than this cannot name a trigger, steps and a check. */
export const ROLLBACK_MIN_WORDS = 6;

/** What the checker found in an accepted plan; the approval card can show it. */
export interface RollbackPlanCheck {
  readonly plan: string;
  readonly source: 'request' | 'template';
  readonly found: readonly RollbackElement[];
  readonly missing: readonly RollbackElement[];
}

export interface CheckRollbackPlanOptions {
  /** A standard change's template rollback plan (from the catalogue). */
  readonly templatePlan?: string;
}

/** Sentences of the plan, lower-cased, with punctuation as spaces (phrases never span sentences). */
function sentences(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[.;!?\n\r]+/)
    .map((s) =>
      s
        .replace(/[^\p{L}\p{N}]+/gu, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((s) => s.length > 0);
}

function stripBoilerplate(sentence: string): string {
  let out = sentence;
  for (;;) {
    const before = out;
    for (const re of PHRASE_RES) out = out.replace(re, ' ').replace(/\s+/g, ' ').trim();
    if (out === before) return out;
  }
}

/**
 * Which elements a plan names, explainably: each element is a list of marker words.
 * @remarks Pure text heuristics; it rejects the generic and accepts the concrete, it does not judge
 * whether the steps are right (the approver does).
 */
export function analyseRollbackPlan(text: string): {
  readonly boilerplateOnly: boolean;
  readonly meaningfulWords: number;
  readonly found: readonly RollbackElement[];
  readonly missing: readonly RollbackElement[];
} {
  const parts = sentences(text);
  const words = parts.flatMap((s) => s.split(' '));
  const meaningful = words.filter((w) => !VOCABULARY.has(w));
  const stripped = parts.map(stripBoilerplate).filter((s) => s.length > 0);
  const found = ROLLBACK_ELEMENTS.filter((e) => stripped.some((s) => MARKERS[e].test(s)));
  return {
    boilerplateOnly: meaningful.length === 0,
    meaningfulWords: meaningful.length,
    found,
    missing: ROLLBACK_ELEMENTS.filter((e) => !found.includes(e)),
  };
}

/**
 * Whether a rollback plan is good enough for approval of a change of this class.
 * @remarks Normal and emergency changes need their own plan: not empty, not only boilerplate,
 * at least `ROLLBACK_MIN_WORDS` meaningful words, naming the concrete steps and at least two of
 * trigger, owner, duration and verification. A standard change takes its template's plan, which
 * is held to the same bar.
 */
export function checkRollbackPlan(
  text: string | undefined,
  changeClass: ChangeClass,
  options: CheckRollbackPlanOptions = {},
): Result<RollbackPlanCheck, DomainError> {
  if (changeClass === 'standard') {
    const template = options.templatePlan?.trim();
    if (!template) return err(E.templatePlanMissing());
    return judge(template, 'template');
  }
  const plan = (text ?? '').trim();
  if (plan.length === 0) return err(E.rollbackPlanRequired(changeClass));
  return judge(plan, 'request');
}

function judge(
  plan: string,
  source: RollbackPlanCheck['source'],
): Result<RollbackPlanCheck, DomainError> {
  if (plan.length > PLAN_MAX) return err(E.textTooLong('The rollback plan', PLAN_MAX));
  const a = analyseRollbackPlan(plan);
  if (a.boilerplateOnly) return err(E.rollbackPlanBoilerplate());
  if (a.meaningfulWords < ROLLBACK_MIN_WORDS)
    return err(E.rollbackPlanTooShort(a.found, a.missing));
  const others = a.found.filter((e) => e !== 'steps').length;
  if (!a.found.includes('steps') || others < 2) return err(E.rollbackPlanVague(a.found, a.missing));
  return ok({ plan, source, found: a.found, missing: a.missing });
}
