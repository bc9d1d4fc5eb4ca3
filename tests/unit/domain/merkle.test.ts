import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { hashCanonical } from '../../../src/domain/audit/audit-chain';
import {
  MerkleTree,
  consistencyProof,
  entryLeafHash,
  inclusionProof,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/domain/audit/merkle';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

// The RFC 6962 reference tree used by certificate-transparency and transparency-dev/merkle.
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const LEAF_HASHES = LEAVES.map(merkleLeafHash);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(hex);
const EMPTY_ROOT = hex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

const INCLUSION_VECTORS: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    index: 2,
    size: 3,
    proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
  },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const CONSISTENCY_VECTORS: { m: number; n: number; proof: string[] }[] = [
  { m: 1, n: 1, proof: [] },
  {
    m: 1,
    n: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    m: 6,
    n: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    m: 2,
    n: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    m: 6,
    n: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

/** MTH straight from RFC 6962 §2.1's recursive definition, independent of the code under test. */
function referenceRoot(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return sha256();
  if (hashes.length === 1) return hashes[0] as Buffer;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return sha256(
    Buffer.from([1]),
    referenceRoot(hashes.slice(0, k)),
    referenceRoot(hashes.slice(k)),
  );
}

function flipBit(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[Math.floor(bit / 8) % copy.length]! ^= 1 << bit % 8;
  return copy;
}

const leafHashesArb = fc
  .array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 })
  .map((leaves) => leaves.map(merkleLeafHash));

describe('merkle', () => {
  describe(merkleRoot.name, () => {
    it('matches the RFC 6962 reference roots for sizes 1..8', () => {
      for (let size = 1; size <= 8; size += 1) {
        assert.equal(
          merkleRoot(LEAF_HASHES.slice(0, size)).toString('hex'),
          ROOTS[size - 1]!.toString('hex'),
        );
      }
    });

    it('hashes the empty tree to SHA-256 of nothing', () => {
      assert.deepEqual(merkleRoot([]), EMPTY_ROOT);
    });

    it('agrees with the recursive definition for any number of leaves', () => {
      fc.assert(
        fc.property(leafHashesArb, (hashes) => {
          assert.deepEqual(merkleRoot(hashes), referenceRoot(hashes));
        }),
      );
    });

    it('refuses leaf hashes that are not 32 bytes', () => {
      assert.throws(() => merkleRoot([Buffer.alloc(31)]), RangeError);
    });
  });

  describe(merkleNodeHash.name, () => {
    it('is SHA-256 over 0x01 ‖ left ‖ right', () => {
      const [a, b] = [LEAF_HASHES[0]!, LEAF_HASHES[1]!];
      assert.deepEqual(merkleNodeHash(a, b), sha256(Buffer.from([1]), a, b));
    });
  });

  describe(entryLeafHash.name, () => {
    it('is the chain hash and the RFC 6962 leaf hash of the prefixed canonical entry', () => {
      const canonical = '{"a":"é","seq":1}';
      const sut = entryLeafHash(canonical);
      assert.equal(sut.toString('hex'), hashCanonical(canonical));
      assert.deepEqual(sut, merkleLeafHash(Buffer.from(`cabinet-audit/v1\n${canonical}`, 'utf8')));
    });
  });

  describe(inclusionProof.name, () => {
    it('produces the RFC 6962 reference proofs', () => {
      for (const v of INCLUSION_VECTORS) {
        const proof = inclusionProof(LEAF_HASHES, v.index, v.size).map((h) => h.toString('hex'));
        assert.deepEqual(proof, v.proof, `leaf ${v.index} of ${v.size}`);
      }
    });

    it('refuses an index outside the tree and a size beyond the leaves', () => {
      assert.throws(() => inclusionProof(LEAF_HASHES, 3, 3), RangeError);
      assert.throws(() => inclusionProof(LEAF_HASHES, 0, 9), RangeError);
      assert.throws(() => inclusionProof(LEAF_HASHES, -1, 3), RangeError);
    });
  });

  describe(verifyInclusion.name, () => {
    it('accepts the reference proofs and refuses corrupted ones', () => {
      for (const v of INCLUSION_VECTORS) {
        const proof = v.proof.map(hex);
        const root = ROOTS[v.size - 1]!;
        const leaf = LEAF_HASHES[v.index]!;
        assert.ok(verifyInclusion(leaf, v.index, v.size, proof, root));
        const probes: [number, number, Buffer, Buffer[], Buffer][] = [
          [v.index + 1, v.size, leaf, proof, root],
          [v.index, v.size * 2, leaf, proof, root],
          [v.index, v.size, sha256(Buffer.from('wrong')), proof, root],
          [v.index, v.size, leaf, proof, EMPTY_ROOT],
          [v.index, v.size, leaf, [...proof, root], root],
          [v.index, v.size, leaf, [root, ...proof], root],
          [v.index, v.size, leaf, [...proof, Buffer.alloc(0)], root],
          ...proof.map((_, i): [number, number, Buffer, Buffer[], Buffer] => [
            v.index,
            v.size,
            leaf,
            proof.map((h, j) => (i === j ? flipBit(h, 3) : h)),
            root,
          ]),
        ];
        if (proof.length > 0) probes.push([v.index, v.size, leaf, proof.slice(0, -1), root]);
        if (v.index > 0) probes.push([v.index - 1, v.size, leaf, proof, root]);
        if (v.size > 1) probes.push([v.index, Math.floor(v.size / 2), leaf, proof, root]);
        for (const [index, size, l, p, r] of probes) {
          assert.equal(verifyInclusion(l, index, size, p, r), false, `probe ${index}/${size}`);
        }
      }
    });

    it('refuses impossible positions without throwing', () => {
      const leaf = LEAF_HASHES[0]!;
      for (const [index, size] of [
        [0, 0],
        [1, 0],
        [2, 1],
        [-1, 1],
        [0.5, 2],
        [Number.NaN, 1],
      ]) {
        assert.equal(verifyInclusion(leaf, index!, size!, [], leaf), false);
      }
      assert.equal(verifyInclusion(Buffer.alloc(0), 0, 1, [], Buffer.alloc(0)), false);
    });

    it('verifies every leaf of every tree, and no proof survives a bit flip', () => {
      fc.assert(
        fc.property(
          leafHashesArb.chain((hashes) =>
            fc.tuple(
              fc.constant(hashes),
              fc
                .integer({ min: 1, max: hashes.length })
                .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.nat(10_000))),
            ),
          ),
          ([hashes, [size, index, bit]]) => {
            const tree = new MerkleTree(hashes);
            const root = tree.root(size);
            const proof = tree.inclusionProof(index, size);
            const leaf = hashes[index]!;
            assert.ok(verifyInclusion(leaf, index, size, proof, root));
            assert.equal(verifyInclusion(flipBit(leaf, bit), index, size, proof, root), false);
            assert.equal(verifyInclusion(leaf, index, size, proof, flipBit(root, bit)), false);
            if (proof.length > 0) {
              const at = bit % proof.length;
              const bad = proof.map((h, i) => (i === at ? flipBit(h, bit) : h));
              assert.equal(verifyInclusion(leaf, index, size, bad, root), false);
            }
          },
        ),
      );
    });
  });

  describe(consistencyProof.name, () => {
    it('produces the RFC 6962 reference proofs', () => {
      for (const v of CONSISTENCY_VECTORS) {
        const proof = consistencyProof(LEAF_HASHES, v.m, v.n).map((h) => h.toString('hex'));
        assert.deepEqual(proof, v.proof, `${v.m} → ${v.n}`);
      }
    });

    it('refuses an old size beyond the new one', () => {
      assert.throws(() => consistencyProof(LEAF_HASHES, 5, 4), RangeError);
    });
  });

  describe(verifyConsistency.name, () => {
    it('accepts the reference proofs and refuses corrupted ones', () => {
      for (const v of CONSISTENCY_VECTORS) {
        const proof = v.proof.map(hex);
        const [r1, r2] = [ROOTS[v.m - 1]!, ROOTS[v.n - 1]!];
        assert.ok(verifyConsistency(v.m, v.n, r1, r2, proof), `${v.m} → ${v.n}`);
        if (proof.length === 0) continue;
        const probes: [number, number, Buffer, Buffer, Buffer[]][] = [
          [v.m - 1, v.n, r1, r2, proof],
          [v.m + 1, v.n, r1, r2, proof],
          [v.m ^ 2, v.n, r1, r2, proof],
          [v.m, v.n * 2, r1, r2, proof],
          [v.m, Math.floor(v.n / 2), r1, r2, proof],
          [v.m, v.n, sha256(Buffer.from('wrong')), r2, proof],
          [v.m, v.n, r1, sha256(Buffer.from('wrong')), proof],
          [v.m, v.n, r2, r1, proof],
          [v.m, v.n, r1, r2, []],
          [v.m, v.n, r1, r2, [...proof, r1]],
          [v.m, v.n, r1, r2, [...proof, r2]],
          [v.m, v.n, r1, r2, [r1, ...proof]],
          [v.m, v.n, r1, r2, [proof[0]!, ...proof]],
          [v.m, v.n, r1, r2, proof.slice(0, -1)],
          ...proof.map((_, i): [number, number, Buffer, Buffer, Buffer[]] => [
            v.m,
            v.n,
            r1,
            r2,
            proof.map((h, j) => (i === j ? flipBit(h, 4) : h)),
          ]),
        ];
        for (const [m, n, a, b, p] of probes) {
          assert.equal(verifyConsistency(m, n, a, b, p), false, `probe ${m} → ${n}`);
        }
      }
    });

    it('treats equal sizes and the empty tree strictly', () => {
      const [r1, r2] = [ROOTS[0]!, ROOTS[1]!];
      assert.ok(verifyConsistency(1, 1, r1, r1, []));
      assert.equal(verifyConsistency(1, 1, r1, r2, []), false);
      assert.equal(verifyConsistency(1, 1, r1, r1, [EMPTY_ROOT]), false);
      assert.ok(verifyConsistency(0, 5, EMPTY_ROOT, ROOTS[4]!, []));
      assert.equal(verifyConsistency(0, 5, r1, ROOTS[4]!, []), false);
      assert.equal(verifyConsistency(0, 5, EMPTY_ROOT, ROOTS[4]!, [EMPTY_ROOT]), false);
      assert.equal(verifyConsistency(2, 1, r2, r1, []), false);
    });

    it('verifies every pair of sizes, and no proof survives a bit flip', () => {
      fc.assert(
        fc.property(
          leafHashesArb.chain((hashes) =>
            fc.tuple(
              fc.constant(hashes),
              fc
                .integer({ min: 1, max: hashes.length })
                .chain((n) =>
                  fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n), fc.nat(10_000)),
                ),
            ),
          ),
          ([hashes, [m, n, bit]]) => {
            const tree = new MerkleTree(hashes);
            const [rootM, rootN] = [tree.root(m), tree.root(n)];
            const proof = tree.consistencyProof(m, n);
            assert.ok(verifyConsistency(m, n, rootM, rootN, proof));
            assert.deepEqual(proof, consistencyProof(hashes, m, n));
            if (m === n) return;
            assert.equal(verifyConsistency(m, n, flipBit(rootM, bit), rootN, proof), false);
            assert.equal(verifyConsistency(m, n, rootM, flipBit(rootN, bit), proof), false);
            const at = bit % proof.length;
            const bad = proof.map((h, i) => (i === at ? flipBit(h, bit) : h));
            assert.equal(verifyConsistency(m, n, rootM, rootN, bad), false);
          },
        ),
      );
    });
  });

  describe(MerkleTree.name, () => {
    it('proves leaves of a 100,000-leaf log against roots of every earlier size it is asked for', () => {
      const hashes = Array.from({ length: 100_000 }, (_, i) =>
        merkleLeafHash(Buffer.from(String(i))),
      );
      const sut = new MerkleTree(hashes);
      const root = sut.root();
      for (const index of [0, 1, 4_095, 65_536, 99_999]) {
        assert.ok(
          verifyInclusion(hashes[index]!, index, sut.size, sut.inclusionProof(index), root),
        );
      }
      for (const m of [1, 777, 65_536, 99_998]) {
        assert.ok(verifyConsistency(m, sut.size, sut.root(m), root, sut.consistencyProof(m)));
      }
    });
  });
});
