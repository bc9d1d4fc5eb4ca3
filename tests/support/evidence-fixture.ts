// A small evidence-bundle builder for the verifier's tests: the layout of issue 7's brief, signed with a
// test key. Bundles are built from parts, so a test can tamper with the log *before* the export signs its
// manifest, the way an attacker with write access to the tables would.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
import JSZip from 'jszip';
import {
  canonicalize,
  GENESIS_HASH,
  hashCanonical,
  type AuditEntry,
} from '../../src/domain/audit/audit-chain';
import { consistencyProof, entryLeafHash, merkleRoot } from '../../src/domain/audit/merkle';

export interface TestKey {
  readonly name: string;
  readonly privateKey: KeyObject;
  readonly spki: Buffer;
  readonly keyHash: Buffer;
}

export interface AnchorRecord {
  readonly size: number;
  readonly root: string;
  readonly noteSha256: string;
  readonly anchoredAt: string;
}

/** Everything a bundle holds except the derived files (manifest, its signature and the hashes). */
export interface BundleParts {
  readonly tenantId: string;
  readonly origin: string;
  readonly range: { readonly from: string; readonly to: string };
  readonly entries: readonly string[];
  /** Note text by file size (the size in the file name). */
  readonly checkpoints: ReadonlyMap<number, string>;
  readonly consistency: readonly { from: number; to: number; proof: string[] }[];
  readonly anchors: readonly AnchorRecord[];
  readonly keys: readonly TestKey[];
  /** Raw bytes per path that replace or add members after the honest files are laid out. */
  readonly extra?: ReadonlyMap<string, Buffer>;
}

const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

export function testKey(name = 'cabinet-test'): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const keyHash = sha256(
    Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, 0x02]), spki]),
  ).subarray(0, 4);
  return { name, privateKey, spki, keyHash };
}

export const signP1363 = (key: TestKey, data: Uint8Array): Buffer =>
  sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });

export function signatureLine(key: TestKey, data: Uint8Array): string {
  const blob = Buffer.concat([key.keyHash, signP1363(key, data)]);
  return `\u2014 ${key.name} ${blob.toString('base64')}\n`;
}

export function checkpointNote(key: TestKey, origin: string, size: number, root: Buffer): string {
  const body = `${origin}\n${size}\n${root.toString('base64')}\n`;
  return `${body}\n${signatureLine(key, Buffer.from(body, 'utf8'))}`;
}

/** keys/keys.json: each key after the first endorsed by the one before. */
export function keyManifest(keys: readonly TestKey[]): object {
  const createdAt = '2026-01-01T00:00:00.000Z';
  return {
    format: 'cabinet-keys/v1',
    keys: keys.map((k, i) => {
      const publicKey = k.spki.toString('base64');
      const base = {
        name: k.name,
        keyHash: k.keyHash.toString('hex'),
        algorithm: 'ecdsa-p256-sha256',
        publicKey,
        createdAt,
      };
      const previous = keys[i - 1];
      if (previous === undefined) return base;
      const text = `cabinet-key-endorsement/v1\n${k.name}\n${publicKey}\n${createdAt}\n`;
      return {
        ...base,
        endorsement: signP1363(previous, Buffer.from(text, 'utf8')).toString('base64'),
      };
    }),
  };
}

export const keyFingerprintHex = (key: TestKey): string => sha256(key.spki).toString('hex');

export interface LogOptions {
  readonly tenantId?: string;
  /** Milliseconds between entries. */
  readonly stepMs?: number;
  readonly start?: string;
  readonly payload?: (seq: number) => Record<string, string | number | boolean | null>;
}

/** A chained log of `n` canonical entries, exactly as the audit chain writes them. */
export function buildLog(n: number, options: LogOptions = {}): string[] {
  const tenantId = options.tenantId ?? '11111111-2222-3333-4444-555555555555';
  const start = Date.parse(options.start ?? '2026-03-01T08:00:00.000Z');
  const step = options.stepMs ?? 60_000;
  const lines: string[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq += 1) {
    const canonical = canonicalize({
      tenantId,
      seq,
      prev,
      ts: new Date(start + (seq - 1) * step).toISOString(),
      type: seq % 3 === 0 ? 'approval.vote' : 'change.submitted',
      actor: { tid: tenantId, oid: `oid-${seq % 7}` },
      requestId: seq % 5 === 0 ? null : `CR-${1000 + Math.floor(seq / 5)}`,
      payload: options.payload?.(seq) ?? { n: seq, note: `entry ${seq} \u00e9\u2713` },
    });
    lines.push(canonical);
    prev = hashCanonical(canonical);
  }
  return lines;
}

/** Recomputes `prev` from `fromIndex` on, as an attacker rewriting the tail would. */
export function rechain(entries: readonly string[], fromIndex: number): string[] {
  const out = entries.slice(0, fromIndex);
  let prev = fromIndex === 0 ? GENESIS_HASH : hashCanonical(entries[fromIndex - 1]!);
  for (const line of entries.slice(fromIndex)) {
    const entry = JSON.parse(line) as AuditEntry;
    const canonical = canonicalize({ ...entry, prev });
    out.push(canonical);
    prev = hashCanonical(canonical);
  }
  return out;
}

export interface HonestOptions {
  /** Checkpoint sizes (ascending); defaults to every 100 entries plus the last. */
  readonly checkpointSizes?: readonly number[];
  /** Sizes that were anchored; defaults to all. */
  readonly anchoredSizes?: readonly number[];
  readonly keys?: readonly TestKey[];
}

/** An honest bundle's parts: checkpoints signed by the last key, anchored, consistency proofs. */
export function honestParts(entries: readonly string[], options: HonestOptions = {}): BundleParts {
  const first = JSON.parse(entries[0] ?? '{}') as { tenantId?: string };
  const tenantId = first.tenantId ?? '11111111-2222-3333-4444-555555555555';
  const origin = `audit.cabinet/${tenantId}`;
  const keys = options.keys ?? [testKey()];
  const signer = keys[keys.length - 1]!;
  const leaves = entries.map(entryLeafHash);
  const sizes = options.checkpointSizes ?? [
    ...new Set([
      ...Array.from({ length: Math.floor(entries.length / 100) }, (_, i) => (i + 1) * 100),
      ...(entries.length > 0 ? [entries.length] : []),
    ]),
  ];
  const anchored = new Set(options.anchoredSizes ?? sizes);
  const checkpoints = new Map<number, string>();
  const roots = new Map<number, Buffer>();
  for (const size of sizes) {
    const root = merkleRoot(leaves.slice(0, size));
    roots.set(size, root);
    checkpoints.set(size, checkpointNote(signer, origin, size, root));
  }
  const consistency = sizes.slice(1).map((n, i) => ({
    from: sizes[i]!,
    to: n,
    proof: consistencyProof(leaves, sizes[i]!, n).map((h) => h.toString('hex')),
  }));
  const tsOf = (size: number): number =>
    Date.parse((JSON.parse(entries[size - 1]!) as { ts: string }).ts);
  const anchors = sizes
    .filter((s) => anchored.has(s))
    .map((size) => ({
      size,
      root: roots.get(size)!.toString('hex'),
      noteSha256: sha256(checkpoints.get(size)!).toString('hex'),
      anchoredAt: new Date(tsOf(size) + 30_000).toISOString(),
    }));
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const range =
    entries.length === 0
      ? { from: '2026-03-01', to: '2026-03-01' }
      : { from: day(tsOf(1)), to: day(tsOf(entries.length)) };
  return { tenantId, origin, range, entries, checkpoints, consistency, anchors, keys };
}

/** The bundle's files, manifest signed by the last key of `parts.keys` (or by `signWith`). */
export function bundleFiles(parts: BundleParts, signWith?: TestKey): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const json = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v, null, 2)}\n`, 'utf8');
  files.set('entries.ndjson', Buffer.from(parts.entries.map((e) => `${e}\n`).join(''), 'utf8'));
  for (const [size, note] of parts.checkpoints) {
    files.set(`checkpoints/${String(size).padStart(16, '0')}.note`, Buffer.from(note, 'utf8'));
  }
  files.set('anchors/anchors.json', json(parts.anchors));
  files.set(
    'proofs/consistency.json',
    json({ format: 'cabinet-consistency/v1', proofs: parts.consistency }),
  );
  files.set('keys/keys.json', json(keyManifest(parts.keys)));
  files.set('README.txt', Buffer.from('Run: node verifier/verify.mjs <this zip>\n', 'utf8'));
  for (const [path, bytes] of parts.extra ?? []) files.set(path, bytes);
  const paths = [...files.keys()].sort();
  const manifest = {
    format: 'cabinet-evidence/v1',
    tenantId: parts.tenantId,
    origin: parts.origin,
    range: parts.range,
    entries: { first: 1, last: parts.entries.length },
    generator: { name: 'cabinet', version: 'test' },
    pinnedKey: keyFingerprintHex(parts.keys[0]!),
    files: paths.map((path) => ({
      path,
      sha256: sha256(files.get(path)!).toString('hex'),
      bytes: files.get(path)!.length,
    })),
  };
  const manifestBytes = json(manifest);
  const signer = signWith ?? parts.keys[parts.keys.length - 1]!;
  files.set('manifest.json', manifestBytes);
  files.set('manifest.sig', Buffer.from(signatureLine(signer, manifestBytes), 'utf8'));
  return files;
}

/** A deterministic ZIP of `files` (fixed dates, sorted members, DEFLATE). */
export async function zipFiles(files: ReadonlyMap<string, Buffer>): Promise<Buffer> {
  const zip = new JSZip();
  const date = new Date('2000-01-01T00:00:00Z');
  for (const path of [...files.keys()].sort()) {
    zip.file(path, files.get(path)!, { date, createFolders: false });
  }
  return zip.generateAsync({
    type: 'nodebuffer',
    compression: 'DEFLATE',
    compressionOptions: { level: 6 },
  });
}

export interface RawMember {
  readonly name: string;
  readonly data: Buffer;
  /** DEFLATE the data (default: stored). */
  readonly deflate?: boolean;
  /** Lies written into the central directory, for hostile archives. */
  readonly declaredSize?: number;
  readonly crc?: number;
}

/**
 * A hand-made ZIP for hostile cases a ZIP library refuses to write (duplicate names, `../` members,
 * sizes and CRCs that lie).
 */
export function rawZip(members: readonly RawMember[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, 'utf8');
    const body = m.deflate ? deflateRawSync(m.data) : m.data;
    const crc = m.crc ?? crc32(m.data);
    const size = m.declaredSize ?? m.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(m.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(m.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** The members of `files` as raw ZIP members, sorted by path. */
export const rawMembers = (files: ReadonlyMap<string, Buffer>): RawMember[] =>
  [...files.keys()].sort().map((name) => ({ name, data: files.get(name)!, deflate: true }));
