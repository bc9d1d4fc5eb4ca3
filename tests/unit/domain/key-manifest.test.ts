import { strict as assert } from 'node:assert';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { noteKeyHash } from '../../../src/domain/audit/checkpoint';
import {
  endorsementText,
  keyFingerprint,
  keyManifestEntry,
  verifyKeyManifest,
  type KeyManifest,
  type KeyManifestEntry,
} from '../../../src/domain/audit/key-manifest';

interface TestKey {
  readonly privateKey: KeyObject;
  readonly spki: Buffer;
}

function p256(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, spki: publicKey.export({ format: 'der', type: 'spki' }) };
}

/** A manifest of `keys`, each after the first endorsed by its predecessor, as a signer would build it. */
function manifestOf(keys: readonly TestKey[]): KeyManifest {
  const entries: KeyManifestEntry[] = [];
  keys.forEach((key, i) => {
    const name = `audit.cabinet/k${i + 1}`;
    const createdAt = `2026-0${i + 1}-01T00:00:00.000Z`;
    const previous = keys[i - 1];
    const endorsement =
      previous === undefined
        ? undefined
        : sign(
            'sha256',
            Buffer.from(
              endorsementText({ name, publicKey: key.spki.toString('base64'), createdAt }),
            ),
            { key: previous.privateKey, dsaEncoding: 'ieee-p1363' },
          );
    entries.push(
      keyManifestEntry({
        name,
        publicKeySpki: key.spki,
        createdAt,
        ...(endorsement ? { endorsement } : {}),
      }),
    );
  });
  return { format: 'cabinet-keys/v1', keys: entries };
}

const KEYS = [p256(), p256(), p256()];

describe('key-manifest', () => {
  describe(endorsementText.name, () => {
    it('is the versioned, newline-separated name, key and creation time', () => {
      assert.equal(
        endorsementText({ name: 'n', publicKey: 'UEs=', createdAt: '2026-01-01T00:00:00Z' }),
        'cabinet-key-endorsement/v1\nn\nUEs=\n2026-01-01T00:00:00Z\n',
      );
    });
  });

  describe(keyFingerprint.name, () => {
    it('is the SHA-256 of the SPKI DER in hex', () => {
      assert.equal(
        keyFingerprint(KEYS[0]!.spki),
        createHash('sha256').update(KEYS[0]!.spki).digest('hex'),
      );
    });
  });

  describe(keyManifestEntry.name, () => {
    it('derives the key hash from the name and key', () => {
      const sut = keyManifestEntry({
        name: 'audit.cabinet',
        publicKeySpki: KEYS[0]!.spki,
        createdAt: '2026-01-01T00:00:00Z',
      });
      assert.equal(sut.keyHash, noteKeyHash('audit.cabinet', KEYS[0]!.spki).toString('hex'));
      assert.equal(sut.algorithm, 'ecdsa-p256-sha256');
      assert.equal('endorsement' in sut, false);
    });
  });

  describe(verifyKeyManifest.name, () => {
    it('accepts a chain of rotations and reports the pinned first key', () => {
      const manifest = manifestOf(KEYS);
      const sut = verifyKeyManifest(
        JSON.parse(JSON.stringify(manifest)),
        keyFingerprint(KEYS[0]!.spki),
      );
      assert.ok(sut.ok);
      assert.equal(sut.fingerprint, keyFingerprint(KEYS[0]!.spki));
      assert.deepEqual(
        sut.keys.map((k) => k.publicKeySpki),
        KEYS.map((k) => k.spki),
      );
    });

    it('accepts a single pinned key', () => {
      assert.ok(verifyKeyManifest(manifestOf(KEYS.slice(0, 1))).ok);
    });

    const tampered: [
      string,
      (m: { format: string; keys: Record<string, unknown>[] }) => void,
      number | undefined,
    ][] = [
      ['another format', (m) => (m.format = 'cabinet-keys/v2'), undefined],
      ['no keys', (m) => (m.keys = []), undefined],
      ['an endorsed first key', (m) => (m.keys[0]!['endorsement'] = m.keys[1]!['endorsement']), 0],
      ['a missing endorsement', (m) => delete m.keys[1]!['endorsement'], 1],
      [
        'an endorsement by the wrong key',
        (m) => (m.keys[2]!['endorsement'] = m.keys[1]!['endorsement']),
        2,
      ],
      ['a renamed key', (m) => (m.keys[1]!['name'] = 'audit.cabinet/evil'), 1],
      ['a backdated key', (m) => (m.keys[2]!['createdAt'] = '2025-01-01T00:00:00.000Z'), 2],
      ['a wrong key hash', (m) => (m.keys[0]!['keyHash'] = '00000000'), 0],
      ['another algorithm', (m) => (m.keys[0]!['algorithm'] = 'ed25519'), 0],
      [
        'a non-P-256 key',
        (m) => (m.keys[0]!['publicKey'] = Buffer.from('junk').toString('base64')),
        0,
      ],
      ['an unknown field', (m) => (m.keys[1]!['note'] = 'x'), 1],
      ['a swapped order', (m) => m.keys.reverse(), 0],
      [
        'a replaced later key',
        (m) => (m.keys[2] = { ...manifestOf([KEYS[0]!, p256(), p256()]).keys[2]! }),
        2,
      ],
    ];
    for (const [what, edit, index] of tampered) {
      it(`refuses ${what}`, () => {
        const manifest = JSON.parse(JSON.stringify(manifestOf(KEYS))) as {
          format: string;
          keys: Record<string, unknown>[];
        };
        edit(manifest);
        const sut = verifyKeyManifest(manifest);
        assert.equal(sut.ok, false, what);
        if (!sut.ok) assert.equal(sut.index, index, sut.reason);
      });
    }

    it('refuses a first key that is not the pinned one', () => {
      const sut = verifyKeyManifest(manifestOf(KEYS), keyFingerprint(KEYS[1]!.spki));
      assert.equal(sut.ok, false);
    });

    it('refuses values that are not manifests without throwing', () => {
      for (const value of [
        null,
        'keys',
        [],
        { format: 'cabinet-keys/v1' },
        { format: 'cabinet-keys/v1', keys: [1] },
      ]) {
        assert.equal(verifyKeyManifest(value).ok, false);
      }
    });
  });
});
