import { strict as assert } from 'node:assert';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  checkpointBody,
  checkpointOrigin,
  formatSignedNote,
  noteKeyHash,
  parseCheckpoint,
  parseSignatureLines,
  parseSignedNote,
  signatureLine,
  verifyNoteSignature,
  verifyNoteSignatureLine,
  type NoteSignature,
} from '../../../src/domain/audit/checkpoint';

const TENANT = '6c1b5f47-3d2a-4b8e-9f10-2a3b4c5d6e7f';

function p256(): { privateKey: KeyObject; spki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, spki: publicKey.export({ format: 'der', type: 'spki' }) };
}

function signBody(
  body: string,
  keyName: string,
  key: { privateKey: KeyObject; spki: Buffer },
): NoteSignature {
  return {
    keyName,
    keyHash: noteKeyHash(keyName, key.spki),
    signature: sign('sha256', Buffer.from(body, 'utf8'), {
      key: key.privateKey,
      dsaEncoding: 'ieee-p1363',
    }),
  };
}

const ROOT = createHash('sha256').update('root').digest();
const KEY = p256();
const KEY_NAME = 'audit.cabinet';

describe('checkpoint', () => {
  describe(checkpointBody.name, () => {
    it('writes the C2SP checkpoint body for a tenant origin', () => {
      const sut = checkpointBody({ origin: checkpointOrigin(TENANT), size: 42, root: ROOT });
      assert.equal(sut, `audit.cabinet/${TENANT}\n42\n${ROOT.toString('base64')}\n`);
    });

    it('round-trips through parseCheckpoint for any size and root', () => {
      fc.assert(
        fc.property(fc.nat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), (size, root) => {
          const body = checkpointBody({ origin: checkpointOrigin(TENANT), size, root });
          const parsed = parseCheckpoint(body);
          assert.ok(parsed.ok);
          assert.equal(parsed.value.origin, checkpointOrigin(TENANT));
          assert.equal(parsed.value.size, size);
          assert.deepEqual(parsed.value.root, Buffer.from(root));
        }),
      );
    });

    it('refuses a root that is not 32 bytes and a negative size', () => {
      assert.throws(
        () => checkpointBody({ origin: 'o', size: 1, root: Buffer.alloc(31) }),
        RangeError,
      );
      assert.throws(() => checkpointBody({ origin: 'o', size: -1, root: ROOT }), RangeError);
    });
  });

  describe(parseCheckpoint.name, () => {
    const root64 = ROOT.toString('base64');
    for (const [what, body] of [
      ['no final newline', `o\n1\n${root64}`],
      ['an extension line', `o\n1\n${root64}\nextra\n`],
      ['a missing line', `o\n1\n`],
      ['an empty origin', `\n1\n${root64}\n`],
      ['a leading zero', `o\n01\n${root64}\n`],
      ['a signed size', `o\n+1\n${root64}\n`],
      ['an unsafe size', `o\n9007199254740993\n${root64}\n`],
      ['a short root', `o\n1\n${ROOT.subarray(1).toString('base64')}\n`],
      ['unpadded base64', `o\n1\n${root64.replace(/=+$/u, '')}\n`],
      ['url-safe base64', `o\n1\n${Buffer.alloc(32, 0xfb).toString('base64url')}=\n`],
      ['a carriage return', `o\r\n1\n${root64}\n`],
    ] as const) {
      it(`refuses ${what}`, () => {
        const sut = parseCheckpoint(body);
        assert.equal(sut.ok, false);
        if (!sut.ok) assert.equal(sut.error.code, 'AUDIT.MALFORMED_CHECKPOINT');
      });
    }
  });

  describe(noteKeyHash.name, () => {
    it('is the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x02 ‖ SPKI)', () => {
      const expected = createHash('sha256')
        .update(Buffer.concat([Buffer.from(KEY_NAME), Buffer.from([0x0a, 0x02]), KEY.spki]))
        .digest()
        .subarray(0, 4);
      assert.deepEqual(noteKeyHash(KEY_NAME, KEY.spki), expected);
    });
  });

  describe(formatSignedNote.name, () => {
    const body = checkpointBody({ origin: checkpointOrigin(TENANT), size: 7, root: ROOT });

    it('appends a blank line and one em-dash line per signature, and parses back', () => {
      const other = p256();
      const signatures = [signBody(body, KEY_NAME, KEY), signBody(body, 'witness.example', other)];
      const sut = formatSignedNote(body, signatures);
      const [first, second] = signatures as [NoteSignature, NoteSignature];
      assert.equal(
        sut,
        `${body}\n\u2014 ${KEY_NAME} ${Buffer.concat([first.keyHash, first.signature]).toString('base64')}\n` +
          `\u2014 witness.example ${Buffer.concat([second.keyHash, second.signature]).toString('base64')}\n`,
      );
      const parsed = parseSignedNote(sut);
      assert.ok(parsed.ok);
      assert.equal(parsed.value.body, body);
      assert.deepEqual(parsed.value.signatures, signatures);
      assert.equal(signatureLine(first), sut.split('\n')[4] + '\n');
    });

    it('refuses to sign a body without a final newline or with a blank line', () => {
      const sig = signBody(body, KEY_NAME, KEY);
      assert.throws(() => formatSignedNote('no newline', [sig]), RangeError);
      assert.throws(() => formatSignedNote('a\n\nb\n', [sig]), RangeError);
      assert.throws(() => formatSignedNote(body, []), RangeError);
    });
  });

  describe(parseSignedNote.name, () => {
    const body = checkpointBody({ origin: checkpointOrigin(TENANT), size: 7, root: ROOT });
    const note = formatSignedNote(body, [signBody(body, KEY_NAME, KEY)]);
    const line = note.slice(body.length + 1);
    const blob = line.split(' ')[2]!.trimEnd();

    for (const [what, text] of [
      ['no signatures', `${body}\n`],
      ['no blank line', `${body}${line}`],
      ['a hyphen instead of the em dash', `${body}\n- ${KEY_NAME} ${blob}\n`],
      ['two spaces', `${body}\n\u2014  ${KEY_NAME} ${blob}\n`],
      ['a missing final newline', note.slice(0, -1)],
      ['a trailing line after the signatures', `${note}junk\n`],
      ['a blank line after the signatures', `${note}\n`],
      ['a blank line in the body', `o\n\n7\n\n${line}`],
      ['a tab in the body', `o\t\n7\n\n${line}`],
      ['a lone surrogate in the body', `o\uD800\n7\n\n${line}`],
      ['non-canonical base64', `${body}\n\u2014 ${KEY_NAME} ${blob.replace(/=+$/u, '')}\n`],
      [
        'a signature of only a key hash',
        `${body}\n\u2014 ${KEY_NAME} ${Buffer.alloc(4).toString('base64')}\n`,
      ],
      ['a key name with a plus', `${body}\n\u2014 a+b ${blob}\n`],
      ['a CRLF signature line', `${body}\n\u2014 ${KEY_NAME} ${blob}\r\n`],
      ['101 signatures', `${body}\n${line.repeat(101)}`],
    ] as const) {
      it(`refuses ${what}`, () => {
        const sut = parseSignedNote(text);
        assert.equal(sut.ok, false);
        if (!sut.ok) assert.equal(sut.error.code, 'AUDIT.MALFORMED_NOTE');
      });
    }

    it('parses detached signature lines on their own', () => {
      const sut = parseSignatureLines(line);
      assert.ok(sut.ok);
      assert.equal(sut.value.length, 1);
      assert.ok(verifyNoteSignatureLine(body, sut.value[0]!, KEY.spki, KEY_NAME));
    });
  });

  describe(verifyNoteSignature.name, () => {
    const body = checkpointBody({ origin: checkpointOrigin(TENANT), size: 7, root: ROOT });
    const note = formatSignedNote(body, [signBody(body, KEY_NAME, KEY)]);

    it('accepts the signer and skips signatures by unknown keys', () => {
      assert.ok(verifyNoteSignature(note, KEY.spki, KEY_NAME));
      const cosigned = formatSignedNote(body, [
        signBody(body, 'other', p256()),
        signBody(body, KEY_NAME, KEY),
      ]);
      assert.ok(verifyNoteSignature(cosigned, KEY.spki, KEY_NAME));
    });

    it('refuses another key, another name, an edited body and a malformed note', () => {
      assert.equal(verifyNoteSignature(note, p256().spki, KEY_NAME), false);
      assert.equal(verifyNoteSignature(note, KEY.spki, 'someone.else'), false);
      assert.equal(verifyNoteSignature(note.replace('\n7\n', '\n8\n'), KEY.spki, KEY_NAME), false);
      assert.equal(verifyNoteSignature(note.slice(0, -1), KEY.spki, KEY_NAME), false);
      assert.equal(verifyNoteSignature(note, Buffer.from('not a key'), KEY_NAME), false);
    });

    it('refuses a DER-encoded signature where P1363 is required', () => {
      const der = sign('sha256', Buffer.from(body), KEY.privateKey);
      const sut = formatSignedNote(body, [
        { keyName: KEY_NAME, keyHash: noteKeyHash(KEY_NAME, KEY.spki), signature: der },
      ]);
      assert.equal(verifyNoteSignature(sut, KEY.spki, KEY_NAME), false);
    });

    it('refuses every single bit flip of a signed note', () => {
      const bytes = Buffer.from(note, 'utf8');
      fc.assert(
        fc.property(fc.nat(bytes.length * 8 - 1), (bit) => {
          const flipped = Buffer.from(bytes);
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          assert.equal(verifyNoteSignature(flipped.toString('utf8'), KEY.spki, KEY_NAME), false);
        }),
        { numRuns: 300 },
      );
    });
  });
});
