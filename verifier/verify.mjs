#!/usr/bin/env node
// Cabinet evidence bundle verifier. Zero dependencies, Node >= 18, no network, writes nothing to disk.
//
//   node verify.mjs bundle.zip            verify an evidence bundle (a ZIP file or an unpacked directory)
//   node verify.mjs bundle.zip --pin HEX  also require this SHA-256 SPKI fingerprint for the first signing key
//   node verify.mjs --proof proof.json    verify an inclusion proof (cabinet-inclusion/v1)
//
// Prints a JSON report on stdout. Exit codes: 0 verified, 1 tampered or inconsistent, 2 malformed input.
// Formats: RFC 8785 (JCS) entries, RFC 6962/9162 Merkle trees, C2SP tlog-checkpoint and signed-note
// (ECDSA P-256/SHA-256, IEEE P1363 signatures; key hash algorithm byte 0x02).

import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import * as zlib from 'node:zlib';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { TextDecoder } from 'node:util';
import { fileURLToPath } from 'node:url';

const HASH_PREFIX = 'cabinet-audit/v1\n';
const GENESIS_HASH = '0'.repeat(64);
const ENDORSEMENT_PREFIX = 'cabinet-key-endorsement/v1\n';
const KEY_ALGORITHM = 'ecdsa-p256-sha256';
const NOTE_SIGNATURE_TYPE = 0x02;
/** Clock regressions larger than this are reported (writer clocks are informational; order is seq). */
const CLOCK_TOLERANCE_MS = 5 * 60 * 1000;
const ENTRY_FIELDS = ['actor', 'payload', 'prev', 'requestId', 'seq', 'tenantId', 'ts', 'type'];
const REQUIRED_FILES = [
  'entries.ndjson',
  'keys/keys.json',
  'anchors/anchors.json',
  'proofs/consistency.json',
];

export const DEFAULT_LIMITS = Object.freeze({
  /** No single member may inflate beyond this (a 100k-entry log is ~100 MB). */
  maxMemberBytes: 512 * 1024 * 1024,
  /** Sum of all inflated members. */
  maxTotalBytes: 1024 * 1024 * 1024,
  maxMembers: 200_000,
});

/** A refusal: `exitCode` 1 = tampered or inconsistent, 2 = malformed input. */
class Refusal extends Error {
  /**
   * @param {1 | 2} exitCode
   * @param {string} reason stable code, e.g. PREV_MISMATCH
   * @param {string} detail
   * @param {{ seq?: number, file?: string }} [where]
   */
  constructor(exitCode, reason, detail, where = {}) {
    super(detail);
    this.exitCode = exitCode;
    this.reason = reason;
    this.where = where;
  }
}

const tampered = (reason, detail, where) => new Refusal(1, reason, detail, where);
const malformed = (reason, detail, where) => new Refusal(2, reason, detail, where);

// ---------------------------------------------------------------------------------------------
// Hashing, JCS, Merkle

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

const LEAF_PREFIX = Buffer.concat([Buffer.from([0x00]), Buffer.from(HASH_PREFIX, 'utf8')]);

const leafHashOfCanonical = (canonical) =>
  createHash('sha256').update(LEAF_PREFIX).update(canonical, 'utf8').digest();

const NODE_PREFIX = Buffer.from([0x01]);

const nodeHash = (left, right) =>
  createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();

/** RFC 8785 for the JSON values JSON.parse yields (numbers serialise as ECMAScript does). */
export function canonicalJson(value) {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new TypeError('non-finite number');
    return JSON.stringify(value);
  }
  // Built by concatenation: this runs once per value of every entry, the verifier's hottest path.
  let out;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i += 1) out += (i > 0 ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  const keys = Object.keys(value).sort();
  out = '{';
  for (let i = 0; i < keys.length; i += 1)
    out += (i > 0 ? ',' : '') + JSON.stringify(keys[i]) + ':' + canonicalJson(value[keys[i]]);
  return out + '}';
}

/**
 * Streams leaves into RFC 6962 perfect subtrees so the root at any size costs O(log n):
 * MTH(n) folds the perfect subtrees of n's binary decomposition from the right.
 */
class MerkleAccumulator {
  constructor() {
    /** @type {{ height: number, hash: Buffer }[]} */
    this.stack = [];
    this.size = 0;
  }
  push(leaf) {
    let node = { height: 0, hash: leaf };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].height === node.height) {
      const left = this.stack.pop();
      node = { height: node.height + 1, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.size += 1;
  }
  root() {
    if (this.stack.length === 0) return sha256(Buffer.alloc(0));
    let acc = this.stack[this.stack.length - 1].hash;
    for (let i = this.stack.length - 2; i >= 0; i -= 1) acc = nodeHash(this.stack[i].hash, acc);
    return acc;
  }
}

const isOdd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

/** RFC 9162 §2.1.3.2. */
export function verifyInclusion(leaf, index, size, proof, root) {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2. */
export function verifyConsistency(m, n, rootM, rootN, proof) {
  if (!(m >= 1 && m <= n)) return false;
  if (m === n) return proof.length === 0 && rootM.equals(rootN);
  if (proof.length === 0) return false;
  // When m is a power of two its root is a node of the larger tree, so the proof omits it.
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(rootM) && sr.equals(rootN);
}

function isPowerOfTwo(m) {
  let x = m;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}

// ---------------------------------------------------------------------------------------------
// ZIP reading (central directory; stored and deflate only; hostile archives refused)

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** zlib's native CRC-32 where Node has it (20.15+, 22.2+), else the table. */
function crc32(bytes) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(bytes) >>> 0;
  let c = -1;
  for (let i = 0; i < bytes.length; i += 1) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Refuses names that could escape a folder or alias another member on some file system. */
function checkMemberName(name) {
  const bad = (why) => malformed('HOSTILE_PATH', `member "${name}" ${why}`, { file: name });
  if (name.length === 0 || name.length > 512) throw bad('has an unusable name length');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw bad('is an absolute path');
  if (name.includes('\\')) throw bad('contains a backslash');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad('contains a control character');
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '..' || s === '.' || s === ''))
    throw bad('has a "..", "." or empty segment');
}

/**
 * Reads every file member into memory. Sizes are checked against the limits before inflating,
 * and inflation stops at the declared size, so a deflate bomb cannot allocate more than the cap.
 * @returns {Map<string, Buffer>}
 */
function readZip(zip, limits) {
  const u16 = (o) => zip.readUInt16LE(o);
  const u32 = (o) => zip.readUInt32LE(o);
  const minEocd = 22;
  if (zip.length < minEocd) throw malformed('NOT_A_ZIP', 'too short to be a ZIP archive');
  let eocd = -1;
  for (let o = zip.length - minEocd; o >= Math.max(0, zip.length - minEocd - 0xffff); o -= 1) {
    if (u32(o) === 0x06054b50 && o + minEocd + u16(o + 20) === zip.length) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw malformed('NOT_A_ZIP', 'no end of central directory record');
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0)
    throw malformed('NOT_A_ZIP', 'multi-disk archives are not supported');
  const count = u16(eocd + 10);
  const cdSize = u32(eocd + 12);
  const cdOffset = u32(eocd + 16);
  if (count !== u16(eocd + 8)) throw malformed('NOT_A_ZIP', 'inconsistent member counts');
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff)
    throw malformed('NOT_A_ZIP', 'ZIP64 archives are not supported');
  if (count > limits.maxMembers) throw malformed('TOO_MANY_MEMBERS', `${count} members`);
  if (cdOffset + cdSize > eocd) throw malformed('NOT_A_ZIP', 'central directory out of bounds');

  /** @type {Map<string, Buffer>} */
  const files = new Map();
  const seen = new Set();
  let total = 0;
  let p = cdOffset;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < count; i += 1) {
    if (p + 46 > cdOffset + cdSize || u32(p) !== 0x02014b50)
      throw malformed('NOT_A_ZIP', 'bad central directory entry');
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    const compressed = u32(p + 20);
    const size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    const localOffset = u32(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize)
      throw malformed('NOT_A_ZIP', 'central directory entry out of bounds');
    let name;
    try {
      name = utf8.decode(zip.subarray(p + 46, p + 46 + nameLen));
    } catch {
      throw malformed('HOSTILE_PATH', 'member name is not UTF-8');
    }
    p = end;
    checkMemberName(name);
    const key = name.toLowerCase();
    if (seen.has(key))
      throw malformed('DUPLICATE_MEMBER', `member "${name}" appears twice`, { file: name });
    seen.add(key);
    if (flags & 0x1)
      throw malformed('UNSUPPORTED_MEMBER', `member "${name}" is encrypted`, { file: name });
    if (method !== 0 && method !== 8)
      throw malformed('UNSUPPORTED_MEMBER', `member "${name}" uses compression method ${method}`, {
        file: name,
      });
    if (size === 0xffffffff || compressed === 0xffffffff)
      throw malformed('NOT_A_ZIP', 'ZIP64 members are not supported', { file: name });
    if (size > limits.maxMemberBytes)
      throw malformed('MEMBER_TOO_LARGE', `member "${name}" declares ${size} bytes`, {
        file: name,
      });
    total += size;
    if (total > limits.maxTotalBytes)
      throw malformed(
        'BUNDLE_TOO_LARGE',
        `members declare more than ${limits.maxTotalBytes} bytes`,
        { file: name },
      );
    if (name.endsWith('/')) {
      if (size !== 0)
        throw malformed('NOT_A_ZIP', `directory "${name}" has content`, { file: name });
      continue;
    }
    if (localOffset + 30 > cdOffset || u32(localOffset) !== 0x04034b50)
      throw malformed('NOT_A_ZIP', `member "${name}" has no local header`, { file: name });
    const localName = zip.subarray(localOffset + 30, localOffset + 30 + u16(localOffset + 26));
    if (!localName.equals(Buffer.from(name, 'utf8')))
      throw malformed('NOT_A_ZIP', `member "${name}" local header names another file`, {
        file: name,
      });
    const dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
    if (dataStart + compressed > cdOffset)
      throw malformed('NOT_A_ZIP', `member "${name}" out of bounds`, { file: name });
    const raw = zip.subarray(dataStart, dataStart + compressed);
    let data;
    if (method === 0) {
      if (compressed !== size)
        throw malformed('NOT_A_ZIP', `stored member "${name}" sizes differ`, { file: name });
      data = Buffer.from(raw);
    } else {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(size, 1) });
      } catch {
        throw malformed(
          'BAD_MEMBER_DATA',
          `member "${name}" does not inflate to its declared size`,
          { file: name },
        );
      }
    }
    if (data.length !== size)
      throw malformed('BAD_MEMBER_DATA', `member "${name}" does not inflate to its declared size`, {
        file: name,
      });
    if (crc32(data) !== crc)
      throw malformed('BAD_CRC', `member "${name}" fails its CRC-32`, { file: name });
    files.set(name, data);
  }
  return files;
}

/** An unpacked bundle: regular files only (symbolic links could point anywhere). */
function readDirectory(root, limits) {
  /** @type {Map<string, Buffer>} */
  const files = new Map();
  let total = 0;
  const walk = (dir, prefix) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      const name = prefix + entry;
      const stat = lstatSync(full);
      if (stat.isSymbolicLink())
        throw malformed('HOSTILE_PATH', `"${name}" is a symbolic link`, { file: name });
      if (stat.isDirectory()) {
        walk(full, `${name}/`);
        continue;
      }
      if (!stat.isFile())
        throw malformed('HOSTILE_PATH', `"${name}" is not a regular file`, { file: name });
      checkMemberName(name);
      if (stat.size > limits.maxMemberBytes)
        throw malformed('MEMBER_TOO_LARGE', `"${name}" is ${stat.size} bytes`, { file: name });
      total += stat.size;
      if (total > limits.maxTotalBytes)
        throw malformed('BUNDLE_TOO_LARGE', `files exceed ${limits.maxTotalBytes} bytes`);
      if (files.size >= limits.maxMembers) throw malformed('TOO_MANY_MEMBERS', 'too many files');
      files.set(name, readFileSync(full));
    }
  };
  walk(root, '');
  return files;
}

// ---------------------------------------------------------------------------------------------
// Keys, signed notes

const HEX64 = /^[0-9a-f]{64}$/;

function parseJsonFile(files, path) {
  const bytes = files.get(path);
  if (bytes === undefined) throw malformed('MISSING_FILE', `${path} is missing`, { file: path });
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw malformed('BAD_JSON', `${path} is not JSON`, { file: path });
  }
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

function decodeBase64Strict(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
    return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

export function noteKeyHash(name, spkiDer) {
  return sha256(
    Buffer.from(name, 'utf8'),
    Buffer.from([0x0a, NOTE_SIGNATURE_TYPE]),
    spkiDer,
  ).subarray(0, 4);
}

const verifyP1363 = (publicKey, data, signature) => {
  if (signature.length !== 64) return false;
  try {
    return verifySignature(
      'sha256',
      data,
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      signature,
    );
  } catch {
    return false;
  }
};

/**
 * Checks the key manifest: each key well formed and, after the first, endorsed by the previous key.
 * @returns {{ keys: { name: string, keyHash: Buffer, publicKey: import('node:crypto').KeyObject }[], pinnedKey: string }}
 */
function loadKeys(doc, file) {
  if (
    !isObject(doc) ||
    doc.format !== 'cabinet-keys/v1' ||
    !Array.isArray(doc.keys) ||
    doc.keys.length === 0
  )
    throw malformed('BAD_KEY_MANIFEST', 'not a cabinet-keys/v1 manifest with keys', { file });
  const keys = [];
  let pinnedKey = '';
  doc.keys.forEach((k, i) => {
    if (
      !isObject(k) ||
      typeof k.name !== 'string' ||
      !/^[^\s+]+$/.test(k.name) ||
      typeof k.keyHash !== 'string' ||
      k.algorithm !== KEY_ALGORITHM ||
      typeof k.createdAt !== 'string'
    )
      throw malformed('BAD_KEY_MANIFEST', `key ${i} is malformed`, { file });
    const der = decodeBase64Strict(k.publicKey);
    let publicKey;
    try {
      if (der === undefined) throw new Error('not base64');
      publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch {
      throw malformed('BAD_KEY_MANIFEST', `key ${k.name} has no readable SPKI public key`, {
        file,
      });
    }
    if (
      publicKey.asymmetricKeyType !== 'ec' ||
      publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    )
      throw malformed('BAD_KEY_MANIFEST', `key ${k.name} is not ECDSA P-256`, { file });
    const keyHash = noteKeyHash(k.name, der);
    if (keyHash.toString('hex') !== k.keyHash)
      throw tampered(
        'KEY_HASH_MISMATCH',
        `key ${k.name}: keyHash does not match its name and public key`,
        { file },
      );
    if (keys.some((other) => other.name === k.name))
      throw malformed('BAD_KEY_MANIFEST', `key ${k.name} appears twice`, { file });
    if (i === 0) {
      pinnedKey = sha256(der).toString('hex');
    } else {
      const endorsement = decodeBase64Strict(k.endorsement);
      const text = `${ENDORSEMENT_PREFIX}${k.name}\n${k.publicKey}\n${k.createdAt}\n`;
      if (
        endorsement === undefined ||
        !verifyP1363(keys[i - 1].publicKey, Buffer.from(text, 'utf8'), endorsement)
      )
        throw tampered('KEY_CHAIN_BROKEN', `key ${k.name} is not endorsed by ${keys[i - 1].name}`, {
          file,
        });
    }
    keys.push({ name: k.name, keyHash, publicKey });
  });
  return { keys, pinnedKey };
}

/** Signature lines `— name base64(keyHash4 ‖ sig)` (U+2014 EM DASH, space); strict. */
function parseSignatureLines(text, file) {
  if (!text.endsWith('\n'))
    throw malformed('BAD_NOTE', 'signature lines must end with a newline', { file });
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const m = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/=]+)$/.exec(line);
      const blob = m ? decodeBase64Strict(m[2]) : undefined;
      if (!m || blob === undefined || blob.length < 5)
        throw malformed('BAD_NOTE', 'malformed signature line', { file });
      return { name: m[1], keyHash: blob.subarray(0, 4), signature: blob.subarray(4) };
    });
}

const knownKey = (keys, line) =>
  keys.find((k) => k.name === line.name && k.keyHash.equals(line.keyHash));

/** C2SP signed note holding a tlog-checkpoint body; returns the parsed body and whether a known key signed it. */
function parseCheckpointNote(bytes, keys, file) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed('BAD_NOTE', 'note is not UTF-8', { file });
  }
  const split = text.indexOf('\n\n');
  if (split < 0) throw malformed('BAD_NOTE', 'note has no signature block', { file });
  const body = text.slice(0, split + 1);
  const m = /^([^\n]+)\n(0|[1-9][0-9]{0,15})\n([A-Za-z0-9+/=]+)\n$/.exec(body);
  const root = m ? decodeBase64Strict(m[3]) : undefined;
  if (!m || root === undefined || root.length !== 32)
    throw malformed('BAD_NOTE', 'not a checkpoint body', { file });
  const lines = parseSignatureLines(text.slice(split + 2), file);
  const bodyBytes = Buffer.from(body, 'utf8');
  const signedBy = lines.filter((l) => knownKey(keys, l) !== undefined);
  const valid = signedBy.some((l) =>
    verifyP1363(knownKey(keys, l).publicKey, bodyBytes, l.signature),
  );
  return {
    origin: m[1],
    size: Number(m[2]),
    root,
    signed: valid,
    hasKnownKey: signedBy.length > 0,
  };
}

// ---------------------------------------------------------------------------------------------
// The bundle

function checkManifest(files, keys) {
  const manifestBytes = files.get('manifest.json');
  if (manifestBytes === undefined)
    throw malformed('MISSING_FILE', 'manifest.json is missing', { file: 'manifest.json' });
  const manifest = parseJsonFile(files, 'manifest.json');
  if (
    !isObject(manifest) ||
    manifest.format !== 'cabinet-evidence/v1' ||
    typeof manifest.tenantId !== 'string' ||
    typeof manifest.origin !== 'string' ||
    !isObject(manifest.range) ||
    !isObject(manifest.entries) ||
    !Array.isArray(manifest.files) ||
    typeof manifest.pinnedKey !== 'string'
  )
    throw malformed('BAD_MANIFEST', 'manifest.json is not a cabinet-evidence/v1 manifest', {
      file: 'manifest.json',
    });
  const listed = new Map();
  let previous = '';
  for (const f of manifest.files) {
    if (
      !isObject(f) ||
      typeof f.path !== 'string' ||
      typeof f.sha256 !== 'string' ||
      !Number.isSafeInteger(f.bytes)
    )
      throw malformed('BAD_MANIFEST', 'manifest file entry is malformed', {
        file: 'manifest.json',
      });
    if (f.path <= previous)
      throw malformed('BAD_MANIFEST', 'manifest files are not in sorted order', {
        file: 'manifest.json',
      });
    if (f.path === 'manifest.json' || f.path === 'manifest.sig')
      throw malformed('BAD_MANIFEST', `manifest lists ${f.path}`, { file: 'manifest.json' });
    previous = f.path;
    listed.set(f.path, f);
  }
  for (const name of files.keys()) {
    if (name !== 'manifest.json' && name !== 'manifest.sig' && !listed.has(name))
      throw malformed('UNLISTED_MEMBER', `${name} is not listed in the manifest`, { file: name });
  }
  for (const f of listed.values()) {
    const bytes = files.get(f.path);
    if (bytes === undefined)
      throw malformed('MISSING_FILE', `${f.path} is listed but missing`, { file: f.path });
    if (bytes.length !== f.bytes || sha256(bytes).toString('hex') !== f.sha256)
      throw malformed('MANIFEST_HASH_MISMATCH', `${f.path} does not match its manifest SHA-256`, {
        file: f.path,
      });
  }
  for (const required of REQUIRED_FILES) {
    if (!listed.has(required))
      throw malformed('MISSING_FILE', `${required} is missing`, { file: required });
  }
  const sigBytes = files.get('manifest.sig');
  if (sigBytes === undefined)
    throw malformed('MISSING_FILE', 'manifest.sig is missing', { file: 'manifest.sig' });
  const lines = parseSignatureLines(sigBytes.toString('utf8'), 'manifest.sig');
  for (const line of lines) {
    if (knownKey(keys, line) === undefined)
      throw malformed(
        'UNKNOWN_KEY',
        `manifest.sig names key ${line.name} that keys/keys.json does not hold`,
        {
          file: 'manifest.sig',
        },
      );
  }
  if (!lines.some((l) => verifyP1363(knownKey(keys, l).publicKey, manifestBytes, l.signature)))
    throw tampered(
      'MANIFEST_SIGNATURE_INVALID',
      'manifest.sig does not verify over manifest.json',
      { file: 'manifest.sig' },
    );
  return manifest;
}

function rangeEnd(range) {
  if (typeof range.to !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(range.to)) return undefined;
  const t = Date.parse(`${range.to}T00:00:00Z`);
  return Number.isNaN(t) ? undefined : t + 24 * 60 * 60 * 1000;
}

function decodeRoot(text) {
  if (typeof text !== 'string') return undefined;
  if (HEX64.test(text)) return Buffer.from(text, 'hex');
  const b = decodeBase64Strict(text);
  return b !== undefined && b.length === 32 ? b : undefined;
}

function verifyFiles(files, options) {
  const keyFile = 'keys/keys.json';
  const { keys, pinnedKey } = loadKeys(parseJsonFile(files, keyFile), keyFile);
  const report = {
    verified: false,
    tenantId: undefined,
    pinnedKey,
    entries: 0,
    checkpoints: { checked: 0, anchored: [], unanchored: [] },
    warnings: [],
  };
  const warn = (code, message, extra = {}) => report.warnings.push({ code, message, ...extra });
  try {
    if (options.pin !== undefined && normaliseFingerprint(options.pin) !== pinnedKey)
      throw tampered(
        'PINNED_KEY_MISMATCH',
        `the first key's fingerprint is ${pinnedKey}, not the pinned ${options.pin}`,
      );
    const manifest = checkManifest(files, keys);
    report.tenantId = manifest.tenantId;
    if (normaliseFingerprint(manifest.pinnedKey) !== pinnedKey)
      throw tampered(
        'PINNED_KEY_MISMATCH',
        'manifest.pinnedKey is not the first key of keys/keys.json',
        { file: 'manifest.json' },
      );
    const tenantId = manifest.tenantId;
    if (manifest.origin !== `audit.cabinet/${tenantId}`)
      throw tampered('ORIGIN_MISMATCH', 'manifest origin does not name the tenant', {
        file: 'manifest.json',
      });

    // Checkpoints by size (file names carry the size, zero-padded, so name order is size order).
    const checkpoints = [];
    for (const [name, bytes] of [...files.entries()].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )) {
      if (!name.startsWith('checkpoints/')) continue;
      const m = /^checkpoints\/(\d{16})\.note$/.exec(name);
      if (!m) throw malformed('BAD_NOTE', `${name} is not a checkpoint name`, { file: name });
      const note = parseCheckpointNote(bytes, keys, name);
      if (note.size !== Number(m[1]))
        throw tampered(
          'CHECKPOINT_SIZE_MISMATCH',
          `${name} holds a checkpoint of size ${note.size}`,
          { file: name },
        );
      if (note.origin !== manifest.origin)
        throw tampered('CHECKPOINT_ORIGIN_MISMATCH', `${name} is for ${note.origin}`, {
          file: name,
        });
      if (!note.signed)
        throw tampered(
          'CHECKPOINT_SIGNATURE_INVALID',
          `${name} has no valid signature by a key in keys/keys.json`,
          {
            file: name,
          },
        );
      if (checkpoints.length > 0 && note.size <= checkpoints[checkpoints.length - 1].size)
        throw tampered('CHECKPOINT_SIZES_NOT_INCREASING', `${name} does not grow the log`, {
          file: name,
        });
      checkpoints.push({ ...note, file: name, sha256: sha256(bytes).toString('hex') });
    }

    // Entries: canonical form, seq, tenant, prev chain; Merkle roots at every checkpoint size.
    const ndjson = files.get('entries.ndjson');
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(ndjson);
    } catch {
      throw tampered('ENTRY_NOT_UTF8', 'entries.ndjson is not UTF-8', { file: 'entries.ndjson' });
    }
    if (text.length > 0 && !text.endsWith('\n'))
      throw tampered('ENTRY_NOT_JSON', 'entries.ndjson does not end with a newline', {
        file: 'entries.ndjson',
      });
    const lines = text.length === 0 ? [] : text.slice(0, -1).split('\n');
    const last = lines.length;
    if (manifest.entries.first !== 1 || manifest.entries.last !== last)
      throw tampered(
        'ENTRY_COUNT_MISMATCH',
        `entries.ndjson holds ${last} entries; the manifest says ${manifest.entries.first}..${manifest.entries.last}`,
        {
          file: 'entries.ndjson',
        },
      );
    const tree = new MerkleAccumulator();
    const rootsBySize = new Map();
    let next = 0;
    let prev = GENESIS_HASH;
    let lastTs;
    let lastTsSeq = 0;
    const tsBySeq = [];
    const checkRoots = () => {
      while (next < checkpoints.length && checkpoints[next].size === tree.size) {
        const cp = checkpoints[next];
        const root = tree.root();
        if (!root.equals(cp.root))
          throw tampered(
            'CHECKPOINT_ROOT_MISMATCH',
            `the first ${cp.size} entries do not hash to the signed root`,
            {
              seq: cp.size,
              file: cp.file,
            },
          );
        rootsBySize.set(cp.size, root);
        next += 1;
      }
    };
    checkRoots();
    for (let i = 0; i < lines.length; i += 1) {
      const seq = i + 1;
      const line = lines[i];
      const where = { seq, file: 'entries.ndjson' };
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        throw tampered('ENTRY_NOT_JSON', `line ${seq} is not JSON`, where);
      }
      if (!isEntry(entry))
        throw tampered('ENTRY_SHAPE', `line ${seq} is not an audit entry`, where);
      if (canonicalJson(entry) !== line)
        throw tampered('ENTRY_NOT_CANONICAL', `line ${seq} is not RFC 8785 canonical JSON`, where);
      if (entry.seq !== seq) {
        const later = entry.seq > seq && lines.slice(i + 1).some((l) => seqOf(l) === seq);
        throw entry.seq > seq && !later
          ? tampered('SEQ_GAP', `entry ${seq} is missing (line ${seq} holds ${entry.seq})`, where)
          : tampered('SEQ_OUT_OF_ORDER', `line ${seq} holds entry ${entry.seq}`, where);
      }
      if (entry.tenantId !== tenantId)
        throw tampered('TENANT_MISMATCH', `entry ${seq} belongs to ${entry.tenantId}`, where);
      if (entry.prev !== prev)
        throw tampered(
          'PREV_MISMATCH',
          `entry ${seq}: prev is not the hash of entry ${seq - 1}`,
          where,
        );
      const leaf = leafHashOfCanonical(line);
      prev = leaf.toString('hex');
      tree.push(leaf);
      checkRoots();
      const ts = Date.parse(entry.ts);
      tsBySeq.push(ts);
      if (!Number.isNaN(ts)) {
        if (lastTs !== undefined && lastTs - ts > CLOCK_TOLERANCE_MS)
          warn(
            'CLOCK_REGRESSION',
            `entry ${seq} is ${Math.round((lastTs - ts) / 1000)} s earlier than entry ${lastTsSeq}`,
            { seq },
          );
        if (lastTs === undefined || ts > lastTs) {
          lastTs = ts;
          lastTsSeq = seq;
        }
      }
    }
    // After the scan, so a missing entry in the middle is reported as the gap it is.
    const lastCheckpoint = checkpoints[checkpoints.length - 1];
    if (lastCheckpoint !== undefined && lastCheckpoint.size > last)
      throw tampered(
        'TRUNCATED_BEFORE_CHECKPOINT',
        `the log has ${last} entries but was checkpointed at ${lastCheckpoint.size}`,
        {
          seq: last + 1,
          file: lastCheckpoint.file,
        },
      );
    report.entries = last;
    report.checkpoints.checked = checkpoints.length;

    // Consistency proofs between successive checkpoints.
    const proofsDoc = parseJsonFile(files, 'proofs/consistency.json');
    if (
      !isObject(proofsDoc) ||
      proofsDoc.format !== 'cabinet-consistency/v1' ||
      !Array.isArray(proofsDoc.proofs)
    )
      throw malformed('BAD_PROOFS', 'proofs/consistency.json is not cabinet-consistency/v1', {
        file: 'proofs/consistency.json',
      });
    for (let i = 1; i < checkpoints.length; i += 1) {
      const m = checkpoints[i - 1].size;
      const n = checkpoints[i].size;
      const where = { file: 'proofs/consistency.json' };
      const entry = proofsDoc.proofs.find((p) => isObject(p) && p.from === m && p.to === n);
      if (entry === undefined)
        throw tampered(
          'CONSISTENCY_PROOF_MISSING',
          `no consistency proof from ${m} to ${n}`,
          where,
        );
      if (
        !Array.isArray(entry.proof) ||
        !entry.proof.every((h) => typeof h === 'string' && HEX64.test(h))
      )
        throw malformed(
          'BAD_PROOFS',
          `the proof from ${m} to ${n} is not a list of hex hashes`,
          where,
        );
      const proof = entry.proof.map((h) => Buffer.from(h, 'hex'));
      if (!verifyConsistency(m, n, checkpoints[i - 1].root, checkpoints[i].root, proof))
        throw tampered(
          'CONSISTENCY_PROOF_INVALID',
          `the checkpoint of size ${n} does not extend the one of size ${m}`,
          where,
        );
    }

    // Anchors: each anchored checkpoint must be the one in the bundle, and none may lie beyond the entries
    // if it was anchored before the range ended (those entries existed and must have been exported).
    const anchorsFile = 'anchors/anchors.json';
    const anchors = parseJsonFile(files, anchorsFile);
    if (!Array.isArray(anchors))
      throw malformed('BAD_ANCHORS', 'anchors/anchors.json is not a list', { file: anchorsFile });
    const end = rangeEnd(manifest.range);
    const anchoredSizes = new Set();
    for (const a of anchors) {
      const root = isObject(a) ? decodeRoot(a.root) : undefined;
      if (
        !isObject(a) ||
        !Number.isSafeInteger(a.size) ||
        a.size < 0 ||
        root === undefined ||
        typeof a.noteSha256 !== 'string' ||
        Number.isNaN(Date.parse(a.anchoredAt))
      )
        throw malformed('BAD_ANCHORS', 'an anchor record is malformed', { file: anchorsFile });
      if (a.size > last) {
        if (end === undefined || Date.parse(a.anchoredAt) < end)
          throw tampered(
            'TRUNCATED_BEFORE_CHECKPOINT',
            `a checkpoint of size ${a.size} was anchored at ${a.anchoredAt}, but the bundle ends at ${last}`,
            {
              seq: last + 1,
              file: anchorsFile,
            },
          );
        continue;
      }
      const cp = checkpoints.find((c) => c.size === a.size);
      if (cp === undefined)
        throw tampered(
          'CHECKPOINT_MISSING',
          `the anchored checkpoint of size ${a.size} is not in the bundle`,
          { file: anchorsFile },
        );
      if (!cp.root.equals(root) || cp.sha256 !== a.noteSha256)
        throw tampered(
          'ANCHOR_MISMATCH',
          `the anchored checkpoint of size ${a.size} differs from ${cp.file}`,
          { file: cp.file },
        );
      anchoredSizes.add(a.size);
    }
    report.checkpoints.anchored = checkpoints
      .filter((c) => anchoredSizes.has(c.size))
      .map((c) => c.size);
    report.checkpoints.unanchored = checkpoints
      .filter((c) => !anchoredSizes.has(c.size))
      .map((c) => c.size);

    // Exposure: entries after the last checkpoint / anchor are protected by the hash chain alone.
    const lastSigned = lastCheckpoint?.size ?? 0;
    if (last > lastSigned)
      warn(
        'TAIL_NOT_CHECKPOINTED',
        `entries ${lastSigned + 1}..${last} are covered by no signed checkpoint`,
        {
          entries: last - lastSigned,
        },
      );
    const lastAnchored = report.checkpoints.anchored[report.checkpoints.anchored.length - 1] ?? 0;
    if (last > lastAnchored) {
      const from = tsBySeq[lastAnchored] ?? NaN;
      const to = tsBySeq[last - 1] ?? NaN;
      warn(
        'TAIL_NOT_ANCHORED',
        `entries ${lastAnchored + 1}..${last} are after the last anchored checkpoint`,
        {
          entries: last - lastAnchored,
          ...(Number.isNaN(from) || Number.isNaN(to)
            ? {}
            : { windowSeconds: Math.max(0, Math.round((to - from) / 1000)) }),
        },
      );
    }
    report.verified = true;
    return { exitCode: 0, report };
  } catch (error) {
    return failure(report, error);
  }
}

function failure(report, error) {
  if (!(error instanceof Refusal)) throw error;
  return {
    exitCode: error.exitCode,
    report: {
      ...report,
      verified: false,
      firstFailure: { ...error.where, reason: error.reason, detail: error.message },
    },
  };
}

function isEntry(v) {
  return (
    isObject(v) &&
    Object.keys(v).sort().join(',') === ENTRY_FIELDS.join(',') &&
    typeof v.tenantId === 'string' &&
    Number.isSafeInteger(v.seq) &&
    typeof v.prev === 'string' &&
    typeof v.ts === 'string' &&
    typeof v.type === 'string' &&
    isObject(v.actor) &&
    typeof v.actor.tid === 'string' &&
    typeof v.actor.oid === 'string' &&
    (typeof v.requestId === 'string' || v.requestId === null) &&
    isObject(v.payload)
  );
}

/** The seq a line claims, for telling a swap from a gap once the scan has already failed. */
function seqOf(line) {
  try {
    const v = JSON.parse(line);
    return isObject(v) ? v.seq : undefined;
  } catch {
    return undefined;
  }
}

const normaliseFingerprint = (fp) => String(fp).replace(/[:\s]/g, '').toLowerCase();

/**
 * Verifies an evidence bundle: ZIP bytes, or the files of an unpacked bundle (path → bytes).
 * @param {Uint8Array | Map<string, Uint8Array>} input
 * @param {{ pin?: string, limits?: Partial<typeof DEFAULT_LIMITS> }} [options]
 * @returns {Promise<{ exitCode: 0 | 1 | 2, report: object }>}
 */
export async function verifyBundle(input, options = {}) {
  await Promise.resolve();
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const empty = {
    verified: false,
    entries: 0,
    checkpoints: { checked: 0, anchored: [], unanchored: [] },
    warnings: [],
  };
  try {
    const files =
      input instanceof Map
        ? new Map([...input].map(([k, v]) => [k, Buffer.from(v)]))
        : readZip(Buffer.from(input.buffer, input.byteOffset, input.byteLength), limits);
    if (input instanceof Map) for (const name of files.keys()) checkMemberName(name);
    return verifyFiles(files, options);
  } catch (error) {
    return failure(empty, error);
  }
}

/**
 * Verifies an inclusion-proof file (cabinet-inclusion/v1): the checkpoint's signature under the key
 * manifest it carries, and each entry's canonical form, tenant and Merkle path to the checkpoint root.
 * @param {unknown} doc parsed JSON
 * @param {{ pin?: string }} [options]
 */
export async function verifyInclusionProof(doc, options = {}) {
  await Promise.resolve();
  const base = { verified: false, entries: [] };
  try {
    if (
      !isObject(doc) ||
      doc.format !== 'cabinet-inclusion/v1' ||
      typeof doc.tenantId !== 'string' ||
      typeof doc.checkpoint !== 'string' ||
      !Number.isSafeInteger(doc.treeSize) ||
      !Array.isArray(doc.entries)
    )
      throw malformed('BAD_PROOF', 'not a cabinet-inclusion/v1 document');
    const { keys, pinnedKey } = loadKeys(doc.keys, 'keys');
    const report = { ...base, tenantId: doc.tenantId, treeSize: doc.treeSize, pinnedKey };
    try {
      if (options.pin !== undefined && normaliseFingerprint(options.pin) !== pinnedKey)
        throw tampered(
          'PINNED_KEY_MISMATCH',
          `the first key's fingerprint is ${pinnedKey}, not the pinned ${options.pin}`,
        );
      const note = parseCheckpointNote(Buffer.from(doc.checkpoint, 'utf8'), keys, 'checkpoint');
      if (!note.signed)
        throw tampered('CHECKPOINT_SIGNATURE_INVALID', 'the checkpoint has no valid signature');
      if (note.origin !== `audit.cabinet/${doc.tenantId}`)
        throw tampered('CHECKPOINT_ORIGIN_MISMATCH', `the checkpoint is for ${note.origin}`);
      if (note.size !== doc.treeSize)
        throw tampered('CHECKPOINT_SIZE_MISMATCH', `the checkpoint is of size ${note.size}`);
      for (const e of doc.entries) {
        if (
          !isObject(e) ||
          !Number.isSafeInteger(e.seq) ||
          typeof e.canonical !== 'string' ||
          !Array.isArray(e.proof)
        )
          throw malformed('BAD_PROOF', 'an entry is malformed');
        if (!e.proof.every((h) => typeof h === 'string' && HEX64.test(h)))
          throw malformed('BAD_PROOF', `entry ${e.seq}: proof is not hex`);
        const where = { seq: e.seq };
        let parsed;
        try {
          parsed = JSON.parse(e.canonical);
        } catch {
          throw tampered('ENTRY_NOT_JSON', `entry ${e.seq} is not JSON`, where);
        }
        if (!isEntry(parsed))
          throw tampered('ENTRY_SHAPE', `entry ${e.seq} is not an audit entry`, where);
        if (canonicalJson(parsed) !== e.canonical)
          throw tampered('ENTRY_NOT_CANONICAL', `entry ${e.seq} is not canonical`, where);
        if (parsed.seq !== e.seq)
          throw tampered('SEQ_MISMATCH', `entry ${e.seq} claims seq ${parsed.seq}`, where);
        if (parsed.tenantId !== doc.tenantId)
          throw tampered('TENANT_MISMATCH', `entry ${e.seq} belongs to ${parsed.tenantId}`, where);
        const proof = e.proof.map((h) => Buffer.from(h, 'hex'));
        if (
          !verifyInclusion(leafHashOfCanonical(e.canonical), e.seq - 1, note.size, proof, note.root)
        )
          throw tampered(
            'INCLUSION_PROOF_INVALID',
            `entry ${e.seq} is not in the tree of size ${note.size}`,
            where,
          );
        report.entries.push(e.seq);
      }
      report.verified = true;
      return { exitCode: 0, report };
    } catch (error) {
      return failure(report, error);
    }
  } catch (error) {
    return failure(base, error);
  }
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(argv) {
  const args = [...argv];
  let pin;
  let proofPath;
  let target;
  while (args.length > 0) {
    const a = args.shift();
    if (a === '--pin') pin = args.shift();
    else if (a === '--proof') proofPath = args.shift();
    else if (target === undefined && !a.startsWith('--')) target = a;
    else return usage(`unexpected argument ${a}`);
  }
  if (proofPath === undefined && target === undefined)
    return usage('name a bundle (ZIP or directory) or --proof file.json');
  const results = [];
  if (target !== undefined) {
    const path = resolve(target);
    let result;
    try {
      const stat = lstatSync(path);
      if (stat.isDirectory()) {
        const files = readDirectory(path, DEFAULT_LIMITS);
        result = await verifyBundle(files, { pin });
      } else if (stat.size > DEFAULT_LIMITS.maxTotalBytes + 64 * 1024 * 1024) {
        result = failure(
          { verified: false },
          malformed('BUNDLE_TOO_LARGE', `${target} is ${stat.size} bytes`),
        );
      } else {
        result = await verifyBundle(readFileSync(path), { pin });
      }
    } catch (error) {
      result = failure(
        { verified: false },
        error instanceof Refusal ? error : malformed('UNREADABLE', `${target} cannot be read`),
      );
    }
    results.push(result);
  }
  if (proofPath !== undefined) {
    let doc;
    try {
      doc = JSON.parse(readFileSync(resolve(proofPath), 'utf8'));
    } catch {
      doc = undefined;
    }
    results.push(
      doc === undefined
        ? failure(
            { verified: false },
            malformed('BAD_PROOF', `${proofPath} is not a readable JSON file`),
          )
        : await verifyInclusionProof(doc, { pin }),
    );
  }
  const out =
    results.length === 1
      ? results[0].report
      : { bundle: results[0].report, proof: results[1].report };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return Math.max(...results.map((r) => r.exitCode));
}

function usage(message) {
  process.stderr.write(
    `${message}\nusage: node verify.mjs <bundle.zip | directory> [--pin <sha256>] [--proof proof.json]\n`,
  );
  return 2;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
