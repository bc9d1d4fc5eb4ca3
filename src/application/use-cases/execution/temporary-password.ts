import { randomInt } from 'node:crypto';
import { Secret } from '../../../domain/shared/secret';

// No look-alikes (0/O, 1/l/I) and no characters that break when pasted into a sign-in box.
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';
const SYMBOLS = '!#%+-=?@';
const ALL = UPPER + LOWER + DIGITS + SYMBOLS;

/**
 * A 16-character temporary password from a CSPRNG, with every character class Entra's complexity
 * rule asks for (about 95 bits). The user must change it at first sign-in.
 */
export function generateTemporaryPassword(length = 16): Secret {
  const pick = (set: string) => set[randomInt(set.length)]!;
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return new Secret(chars.join(''));
}
