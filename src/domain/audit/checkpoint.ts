import { createHash, createPublicKey, verify as verifySignatureBytes } from 'node:crypto';
import { DomainError } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';

/**
 * The signature-type byte in a note key hash: 0x02 is Cabinet's own choice for ECDSA P-256 over
 * SHA-256 with IEEE P1363 (r‖s) signatures (C2SP signed-note reserves 0x01 for Ed25519 and leaves
 * other identifiers to the application; P-256 is what Azure Key Vault's ES256 signs with).
 */
export const NOTE_SIGNATURE_TYPE_ECDSA_P256 = 0x02;

/** Bytes in an ECDSA P-256 signature in IEEE P1363 form (r ‖ s, 32 bytes each). */
export const P1363_SIGNATURE_BYTES = 64;

const EM_DASH = '\u2014';
const KEY_HASH_BYTES = 4;
const ROOT_BYTES = 32;
/** Go's golang.org/x/mod/sumdb/note limit: enough for any real witness set, bounds hostile input. */
const MAX_SIGNATURES = 100;

/** A C2SP tlog-checkpoint body's fields. */
export interface CheckpointFields {
  /** The log's identity: `audit.cabinet/<tenantId>` for a client's audit chain. */
  readonly origin: string;
  /** Number of entries the root covers. */
  readonly size: number;
  /** RFC 6962 root hash over the first `size` entries (32 bytes). */
  readonly root: Buffer;
}

/** One signature line of a signed note. */
export interface NoteSignature {
  readonly keyName: string;
  /** First 4 bytes of SHA-256(keyName ‖ 0x0A ‖ type ‖ public key): picks the key to try. */
  readonly keyHash: Buffer;
  readonly signature: Buffer;
}

/** A signed note split into the signed text and its signature lines. */
export interface SignedNote {
  /** The exact signed text, ending in a newline. */
  readonly body: string;
  readonly signatures: readonly NoteSignature[];
}

/** The checkpoint origin of a client's audit chain: one log per tenant. */
export function checkpointOrigin(tenantId: string): string {
  return `audit.cabinet/${tenantId}`;
}

/** C2SP tlog-checkpoint body: origin, decimal size and base64 root, each line newline-terminated. */
export function checkpointBody(fields: {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
}): string {
  if (!validOrigin(fields.origin))
    throw new RangeError(`invalid checkpoint origin ${JSON.stringify(fields.origin)}`);
  if (!Number.isSafeInteger(fields.size) || fields.size < 0) {
    throw new RangeError(`invalid checkpoint size ${fields.size}`);
  }
  if (fields.root.length !== ROOT_BYTES)
    throw new RangeError(`checkpoint root must be ${ROOT_BYTES} bytes`);
  return `${fields.origin}\n${fields.size}\n${Buffer.from(fields.root).toString('base64')}\n`;
}

function malformedCheckpoint(reason: string): Result<never, DomainError> {
  return err(new DomainError('AUDIT.MALFORMED_CHECKPOINT', `Malformed checkpoint: ${reason}.`));
}

function malformedNote(reason: string): Result<never, DomainError> {
  return err(new DomainError('AUDIT.MALFORMED_NOTE', `Malformed signed note: ${reason}.`));
}

/** ASCII control characters (C0 and DEL), which C2SP notes forbid except newline in note text. */
function hasControlCharacter(text: string, allow: { readonly newline?: boolean } = {}): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 || code === 0x7f) && !(allow.newline === true && code === 0x0a)) return true;
  }
  return false;
}

function validOrigin(origin: string): boolean {
  return origin.length > 0 && !hasControlCharacter(origin) && origin.trim() === origin;
}

/** Standard padded base64 that re-encodes to itself, so one value has exactly one spelling. */
function strictBase64(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/u.test(text))
    return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * Parses a checkpoint body strictly: exactly three lines (Cabinet writes no extension lines),
 * a canonical decimal size and a canonical base64 32-byte root.
 */
export function parseCheckpoint(body: string): Result<CheckpointFields, DomainError> {
  if (!body.endsWith('\n')) return malformedCheckpoint('the body does not end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length !== 3) return malformedCheckpoint(`expected 3 lines, found ${lines.length}`);
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!validOrigin(origin))
    return malformedCheckpoint('the origin line is empty or has control characters');
  if (!/^(?:0|[1-9][0-9]*)$/u.test(sizeText))
    return malformedCheckpoint('the size is not a canonical decimal');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) return malformedCheckpoint('the size is too large');
  const root = strictBase64(rootText);
  if (root?.length !== ROOT_BYTES)
    return malformedCheckpoint('the root is not canonical base64 of 32 bytes');
  return ok({ origin, size, root });
}

/** The note key hash: first 4 bytes of SHA-256(UTF-8(keyName) ‖ 0x0A ‖ 0x02 ‖ SPKI DER). */
export function noteKeyHash(keyName: string, publicKeySpki: Uint8Array): Buffer {
  return createHash('sha256')
    .update(keyName, 'utf8')
    .update(Buffer.from([0x0a, NOTE_SIGNATURE_TYPE_ECDSA_P256]))
    .update(publicKeySpki)
    .digest()
    .subarray(0, KEY_HASH_BYTES);
}

/** A C2SP key name: non-empty, no whitespace and no `+` (which separates fields in verifier keys). */
export function validKeyName(keyName: string): boolean {
  return /^[^\s+]+$/u.test(keyName) && !hasControlCharacter(keyName);
}

/** One signature line, `— <keyName> base64(keyHash ‖ signature)\n`. */
export function signatureLine(signature: NoteSignature): string {
  if (!validKeyName(signature.keyName))
    throw new RangeError(`invalid note key name ${JSON.stringify(signature.keyName)}`);
  if (signature.keyHash.length !== KEY_HASH_BYTES)
    throw new RangeError('a note key hash is 4 bytes');
  const blob = Buffer.concat([signature.keyHash, signature.signature]).toString('base64');
  return `${EM_DASH} ${signature.keyName} ${blob}\n`;
}

/** A signed note: the body, a blank line, then one line per signature. */
export function formatSignedNote(body: string, signatures: readonly NoteSignature[]): string {
  const problem = bodyProblem(body);
  if (problem !== undefined) throw new RangeError(`cannot sign a note whose ${problem}`);
  if (signatures.length === 0) throw new RangeError('a signed note needs at least one signature');
  return `${body}\n${signatures.map(signatureLine).join('')}`;
}

function bodyProblem(body: string): string | undefined {
  if (body.length === 0 || !body.endsWith('\n')) return 'text does not end with a newline';
  if (hasControlCharacter(body, { newline: true })) return 'text has control characters';
  if (body.includes('\n\n') || body.startsWith('\n')) return 'text has a blank line';
  // A lone surrogate has no UTF-8 form: it would be signed as U+FFFD and never verify.
  if (Buffer.from(body, 'utf8').toString('utf8') !== body) return 'text is not valid Unicode';
  return undefined;
}

/**
 * Parses signature lines (`— name base64\n` each, nothing else), as in a signed note's tail and in
 * an evidence bundle's detached `manifest.sig`.
 */
export function parseSignatureLines(text: string): Result<readonly NoteSignature[], DomainError> {
  if (text.length === 0) return malformedNote('there are no signatures');
  if (!text.endsWith('\n'))
    return malformedNote('the last signature line does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) return malformedNote(`more than ${MAX_SIGNATURES} signatures`);
  const signatures: NoteSignature[] = [];
  for (const [i, line] of lines.entries()) {
    const match = /^\u2014 ([^ ]+) ([^ ]+)$/u.exec(line);
    if (match === null) return malformedNote(`signature line ${i + 1} is not "— <name> <base64>"`);
    const [, keyName, blobText] = match as unknown as [string, string, string];
    if (!validKeyName(keyName))
      return malformedNote(`signature line ${i + 1} has an invalid key name`);
    const blob = strictBase64(blobText);
    if (blob === undefined || blob.length <= KEY_HASH_BYTES) {
      return malformedNote(
        `signature line ${i + 1} is not canonical base64 of a key hash and signature`,
      );
    }
    signatures.push({
      keyName,
      keyHash: blob.subarray(0, KEY_HASH_BYTES),
      signature: blob.subarray(KEY_HASH_BYTES),
    });
  }
  return ok(signatures);
}

/**
 * Parses a signed note strictly: a newline-terminated body without blank lines or control
 * characters, one blank line, then at least one well-formed signature line and nothing else.
 */
export function parseSignedNote(note: string): Result<SignedNote, DomainError> {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return malformedNote('there is no blank line before the signatures');
  const body = note.slice(0, split + 1);
  const problem = bodyProblem(body);
  if (problem !== undefined) return malformedNote(`the ${problem}`);
  const signatures = parseSignatureLines(note.slice(split + 2));
  if (!signatures.ok) return signatures;
  return ok({ body, signatures: signatures.value });
}

/**
 * Whether `signature` is a valid ECDSA P-256/SHA-256 P1363 signature by `publicKeySpki` named
 * `keyName` over `message`. False (never throws) for a wrong name, key hash, length or key.
 */
export function verifyNoteSignatureLine(
  message: string | Uint8Array,
  signature: NoteSignature,
  publicKeySpki: Uint8Array,
  keyName: string,
): boolean {
  if (signature.keyName !== keyName) return false;
  if (!signature.keyHash.equals(noteKeyHash(keyName, publicKeySpki))) return false;
  if (signature.signature.length !== P1363_SIGNATURE_BYTES) return false;
  try {
    const key = createPublicKey({ key: Buffer.from(publicKeySpki), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      return false;
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    return verifySignatureBytes(
      'sha256',
      bytes,
      { key, dsaEncoding: 'ieee-p1363' },
      signature.signature,
    );
  } catch {
    return false;
  }
}

/**
 * Whether `note` is a well-formed signed note carrying a valid signature by the key `keyName` with
 * `publicKeySpki`. Signatures by other keys are ignored (C2SP: unknown signers are skipped).
 */
export function verifyNoteSignature(
  note: string,
  publicKeySpki: Uint8Array,
  keyName: string,
): boolean {
  const parsed = parseSignedNote(note);
  if (!parsed.ok) return false;
  return parsed.value.signatures.some((signature) =>
    verifyNoteSignatureLine(parsed.value.body, signature, publicKeySpki, keyName),
  );
}
