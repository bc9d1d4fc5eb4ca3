import { z } from 'zod';
import { CHANGE_STATUSES } from '../change-request/change-request';
import { CHANGE_TYPES } from '../change-request/change-request.payloads';
import { ValidationError } from '../shared/errors';
import { toIssues } from '../shared/form-fields';
import { err, ok, type Result } from '../shared/result';
import { PSA_KINDS, PSA_PRIORITY_LEVELS, type PsaMapping } from './psa';

/** PSA ids and names are short; longer values are typos or pasted text, refused before any PSA call. */
export const PSA_REF_MAX = 100;

const ref = z
  .string({ message: 'must be the PSA id or name, as text' })
  .trim()
  .min(1, 'must not be empty')
  .max(PSA_REF_MAX, `must be at most ${PSA_REF_MAX} characters`);

const level = z.enum(PSA_PRIORITY_LEVELS, {
  message: `must be one of ${PSA_PRIORITY_LEVELS.join(', ')}`,
});

/** A request is never in the PSA as a draft: it is linked when submitted. */
const MAPPABLE_STATUSES = CHANGE_STATUSES.filter((s) => s !== 'draft');

const Mapping = z
  .object({
    psa: z.enum(PSA_KINDS, { message: `must be one of ${PSA_KINDS.join(', ')}` }),
    company: ref,
    board: ref.optional(),
    category: ref.optional(),
    priorities: z
      .object({ low: ref, medium: ref, high: ref, critical: ref })
      .strict('names only low, medium, high and critical'),
    typePriorities: z
      .object(Object.fromEntries(CHANGE_TYPES.map((t) => [t, level.optional()])))
      .strict(`names only change types (${CHANGE_TYPES.join(', ')})`)
      .optional(),
    statuses: z
      .object(Object.fromEntries(MAPPABLE_STATUSES.map((s) => [s, ref.optional()])))
      .strict(`names only Cabinet statuses (${MAPPABLE_STATUSES.join(', ')})`)
      .optional(),
  })
  .strict();

/**
 * Checks a client's PSA mapping as an MSP lead enters it: the PSA, the company, every priority
 * level, and only known change types and statuses, every field to fix reported at once.
 * @remarks Whether the ids exist in the PSA is only known when the relay writes; an unknown company
 * parks the first `psa.sync` row with the PSA's own message.
 */
export function validatePsaMapping(raw: unknown): Result<PsaMapping, ValidationError> {
  const parsed = Mapping.safeParse(raw);
  if (!parsed.success) return err(new ValidationError(toIssues(parsed.error, 'settings')));
  const v = parsed.data;
  return ok({
    psa: v.psa,
    company: v.company,
    ...(v.board !== undefined ? { board: v.board } : {}),
    ...(v.category !== undefined ? { category: v.category } : {}),
    priorities: v.priorities,
    ...given('typePriorities', v.typePriorities as PsaMapping['typePriorities']),
    ...given('statuses', v.statuses),
  });
}

/** A part given with nothing set is left out, so stored settings compare equal to what they mean. */
function given<K extends string, V extends object>(
  key: K,
  value: V | undefined,
): Partial<Record<K, V>> {
  const set = value && Object.entries(value).filter(([, v]) => v !== undefined);
  return set && set.length > 0 ? ({ [key]: Object.fromEntries(set) } as Partial<Record<K, V>>) : {};
}
