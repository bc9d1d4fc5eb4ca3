import { createHash } from 'node:crypto';
import { hashCanonical } from './audit-chain';

/** SHA-256 output length: every leaf, node, root and proof element has exactly this many bytes. */
const HASH_BYTES = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/**
 * RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ data).
 * @remarks The 0x00/0x01 prefixes keep a leaf from ever being confused with an interior node
 * (second-preimage resistance), which is why Cabinet's chain hash already starts with 0x00.
 */
export function merkleLeafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** RFC 6962 §2.1 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * The Merkle leaf hash of an audit entry, i.e. the bytes of its chain hash.
 * @remarks Leaf data is UTF-8(`"cabinet-audit/v1\n" + canonical`), so the chain and the tree share
 * one hash per entry and a verifier recomputes it once.
 */
export function entryLeafHash(canonical: string): Buffer {
  return Buffer.from(hashCanonical(canonical), 'hex');
}

/** The largest power of two strictly below `n` (n ≥ 2): where RFC 6962 splits a tree of n leaves. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n));
}

function assertHash(hash: Uint8Array, what: string): void {
  if (hash.length !== HASH_BYTES) {
    throw new RangeError(`${what} must be ${HASH_BYTES} bytes, got ${hash.length}`);
  }
}

/**
 * A Merkle tree over leaf hashes that keeps every complete (perfect, aligned) subtree hash, so a
 * root, inclusion proof or consistency proof for any size up to `size` costs O(log² n) lookups and
 * O(log n) hashes after one O(n) build.
 * @remarks Every subtree RFC 6962 ever hashes starts at a multiple of a power of two at least its
 * width, so it is the right fold of the perfect subtrees of its binary decomposition; those are
 * stored in `levels[height][start / 2^height]`. Use this class when proving many entries against
 * one log (exports, the verifier); the free functions build one per call.
 */
export class MerkleTree {
  private readonly levels: Buffer[][];

  constructor(leafHashes: readonly Uint8Array[]) {
    const leaves = leafHashes.map((hash, i): Buffer => {
      assertHash(hash, `leaf hash ${i}`);
      return Buffer.from(hash);
    });
    this.levels = [leaves];
    let level: Buffer[] = leaves;
    while (level.length > 1) {
      const up: Buffer[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) {
        up.push(merkleNodeHash(level[i] as Buffer, level[i + 1] as Buffer));
      }
      this.levels.push(up);
      level = up;
    }
  }

  /** Number of leaves. */
  get size(): number {
    return (this.levels[0] as Buffer[]).length;
  }

  /** MTH of the first `size` leaves; the empty tree's root is SHA-256 of nothing. */
  root(size: number = this.size): Buffer {
    this.assertSize(size);
    if (size === 0) return createHash('sha256').digest();
    return this.subtree(0, size);
  }

  /** RFC 9162 §2.1.3.1 PATH(index, D[0:size]): sibling hashes from the leaf up to the root. */
  inclusionProof(index: number, size: number = this.size): Buffer[] {
    this.assertSize(size);
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`leaf index ${index} is outside a tree of ${size}`);
    }
    const topDown: Buffer[] = [];
    let start = 0;
    let end = size;
    while (end - start > 1) {
      const k = splitPoint(end - start);
      if (index < start + k) {
        topDown.push(this.subtree(start + k, end));
        end = start + k;
      } else {
        topDown.push(this.subtree(start, start + k));
        start += k;
      }
    }
    return topDown.reverse();
  }

  /**
   * RFC 9162 §2.1.4.1 PROOF(m, D[0:n]); empty when m is 0 or m equals n (nothing to prove).
   */
  consistencyProof(m: number, n: number = this.size): Buffer[] {
    this.assertSize(n);
    if (!Number.isInteger(m) || m < 0 || m > n) {
      throw new RangeError(`old size ${m} is outside 0..${n}`);
    }
    if (m === 0 || m === n) return [];
    const topDown: Buffer[] = [];
    let start = 0;
    let end = n;
    let offset = m;
    let whole = true;
    while (offset !== end - start) {
      const k = splitPoint(end - start);
      if (offset <= k) {
        topDown.push(this.subtree(start + k, end));
        end = start + k;
      } else {
        topDown.push(this.subtree(start, start + k));
        start += k;
        offset -= k;
        whole = false;
      }
    }
    if (!whole) topDown.push(this.subtree(start, end));
    return topDown.reverse();
  }

  private assertSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`tree size ${size} is outside 0..${this.size}`);
    }
  }

  /** MTH(D[start:end]) for an RFC 6962 subtree (start aligned to a power of two ≥ its width). */
  private subtree(start: number, end: number): Buffer {
    const pieces: Buffer[] = [];
    let pos = start;
    while (pos < end) {
      let height = 0;
      while (pos % 2 ** (height + 1) === 0 && pos + 2 ** (height + 1) <= end) height += 1;
      pieces.push((this.levels[height] as Buffer[])[pos / 2 ** height] as Buffer);
      pos += 2 ** height;
    }
    let hash = pieces.pop() as Buffer;
    while (pieces.length > 0) hash = merkleNodeHash(pieces.pop() as Buffer, hash);
    return hash;
  }
}

/** RFC 6962 MTH over all of `leafHashes`. */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Buffer {
  return new MerkleTree(leafHashes).root();
}

/** Inclusion proof of leaf `index` in the tree of the first `size` leaves. */
export function inclusionProof(
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number = leafHashes.length,
): Buffer[] {
  return new MerkleTree(leafHashes.slice(0, size)).inclusionProof(index, size);
}

/** Consistency proof that the tree of the first `m` leaves is a prefix of the tree of the first `n`. */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  m: number,
  n: number = leafHashes.length,
): Buffer[] {
  return new MerkleTree(leafHashes.slice(0, n)).consistencyProof(m, n);
}

function validSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function allHashes(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((hash) => hash.length === HASH_BYTES);
}

/**
 * RFC 9162 §2.1.3.2: does `proof` show `leafHash` at `index` in the tree of `size` with `root`?
 * @remarks Returns false (never throws) for any malformed input, so verifiers can treat untrusted
 * proof files uniformly.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!validSize(index) || !validSize(size) || index >= size) return false;
  if (leafHash.length !== HASH_BYTES || root.length !== HASH_BYTES || !allHashes(proof))
    return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show the tree of size `m` with `rootM` is a prefix of the tree of
 * size `n` with `rootN`?
 * @remarks m = n needs an empty proof and equal roots; m = 0 needs an empty proof and `rootM` equal
 * to the empty-tree hash. Returns false (never throws) for any malformed input.
 */
export function verifyConsistency(
  m: number,
  n: number,
  rootM: Uint8Array,
  rootN: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!validSize(m) || !validSize(n) || m > n) return false;
  if (rootM.length !== HASH_BYTES || rootN.length !== HASH_BYTES || !allHashes(proof)) return false;
  if (m === n) return proof.length === 0 && Buffer.from(rootM).equals(rootN);
  if (m === 0) return proof.length === 0 && createHash('sha256').digest().equals(rootM);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0] as Uint8Array);
  let sr: Buffer = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = merkleNodeHash(c, fr);
      sr = merkleNodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = merkleNodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(rootM) && sr.equals(rootN);
}
