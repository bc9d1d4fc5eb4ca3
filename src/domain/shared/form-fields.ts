import { z } from 'zod';
import type { FieldIssue } from './errors';

/**
 * Zod building blocks for fields people type into cards, the tab or an API: cards send blank
 * strings for empty inputs and multi-selects as "a,b,c", and every problem must read as a fix.
 */

/** A blank string is an empty field, not a value. */
export const blankToUndefined = (v: unknown): unknown =>
  typeof v === 'string' && v.trim() === '' ? undefined : v;

export const trimmed = (max: number) =>
  z.string().trim().max(max, `must be at most ${max} characters`);

export const requiredText = (max: number) => trimmed(max).min(1, 'is required');

export const optionalText = (max: number) =>
  z.preprocess(blankToUndefined, trimmed(max).optional());

/** "Service affecting", "service-affecting" and "service_affecting" are the same choice. */
export const choice = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .trim()
            .toLowerCase()
            .replace(/[\s-]+/g, '_')
        : v,
    z.enum(values, { errorMap: () => ({ message: `must be one of ${values.join(', ')}` }) }),
  );

/** Cards send multi-selects as "a,b,c"; APIs may send arrays. Both become a clean list. */
export const list = <Item extends z.ZodTypeAny>(item: Item, max: number) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(/[,;\n]/)
            .map((s) => s.trim())
            .filter((s) => s.length > 0)
        : (v ?? undefined),
    z.array(item).max(max, `must list at most ${max} items`).default([]),
  );

/**
 * Zod issues as form field issues; a missing value reads "is required", not zod's type jargon.
 * @param root what an issue about the whole input is called
 */
export function toIssues(error: z.ZodError, root = 'form'): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : root,
    message:
      issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined'
        ? 'is required'
        : issue.message,
  }));
}
