import { z } from 'zod';
import { CHANGE_CLASSES } from '../../domain/change-request/change-class';

/** Card data is client-supplied: a request id and the version the card showed, nothing else is trusted. */
export const RequestRef = z.object({
  requestId: z.string().trim().min(1).max(40),
  version: z.coerce.number().int().min(0).max(1_000_000).optional(),
});

/** A vote names the step the card showed, so a click never counts on a step that opened later. */
export const DecisionData = RequestRef.extend({
  reason: z.string().max(4000).optional(),
  step: z.string().trim().min(1).max(60).optional(),
});

export const QuestionData = RequestRef.extend({ question: z.string().max(4000).default('') });

export const AnswerData = RequestRef.extend({ answer: z.string().max(4000).default('') });

/** The review form's fields as the card sends them; the domain validates their meaning. */
export const ReviewData = RequestRef.extend({
  objectiveAchieved: z.string().max(40).default(''),
  outcome: z.string().max(40).default(''),
  unexpectedImpacts: z.string().max(4000).default(''),
  becomeStandard: z.union([z.string().max(10), z.boolean()]).default('false'),
  becomeStandardNote: z.string().max(4000).default(''),
});

export const ActionData = RequestRef.extend({
  reason: z.string().max(4000).optional(),
  notes: z.string().max(4000).optional(),
  outcome: z.enum(['successful', 'successful_with_issues']).optional(),
});

/** The one-time password button names the execution run that created the account. */
export const RevealPasswordData = RequestRef.extend({
  runId: z.string().trim().min(1).max(24),
});

/** A card's text input, bounded; the domain judges what it means. */
const text = (max: number) => z.string().max(max).default('');

/**
 * The Assess form as the card sends it: flat strings (multi-selects as "a,b"), the window as date
 * and time inputs in the client's zone, which the bot turns into instants.
 */
export const AssessData = RequestRef.extend({
  impact: text(40),
  risk: text(40),
  affectedUsers: z.union([z.string().max(20), z.number()]).default(''),
  affectedServices: text(4000),
  implementationPlan: text(8000),
  testPlan: text(8000),
  rollbackPlan: text(8000),
  dependencies: text(2000),
  windowStartDate: text(10),
  windowStartTime: text(8),
  windowEndDate: text(10),
  windowEndTime: text(8),
  sensitivity: text(400),
  sensitivityOther: text(400),
  overrideReason: text(4000),
});

/** The class a technician moves a request to, with the reason the audit keeps. */
export const ReclassifyData = RequestRef.extend({
  changeClass: z.enum(CHANGE_CLASSES),
  reclassifyReason: text(4000),
});

/** Whole card payloads above this are refused before any parsing work. */
export const MAX_CARD_DATA_BYTES = 64 * 1024;

/**
 * A note from the card's Add note form. Bounded only by the whole payload's cap, so a note over the
 * domain's limit reaches the use case and comes back with what to fix.
 */
export const NoteData = RequestRef.extend({
  note: z.string().max(MAX_CARD_DATA_BYTES).default(''),
});

/** Form data: flat string/number/boolean values only; anything nested is not from our forms. */
export const FormData = z.record(z.union([z.string().max(10_000), z.number(), z.boolean()]));
