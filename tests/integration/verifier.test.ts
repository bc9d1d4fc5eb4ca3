import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { canonicalize, type AuditEntry } from '../../src/domain/audit/audit-chain';
import {
  consistencyProof,
  entryLeafHash,
  inclusionProof,
  merkleRoot,
} from '../../src/domain/audit/merkle';
import type {
  BundleReport,
  Verdict,
  VerifierModule,
} from '../../verifier/verify.mjs' with { 'resolution-mode': 'import' };
import {
  buildLog,
  bundleFiles,
  checkpointNote,
  honestParts,
  keyFingerprintHex,
  keyManifest,
  rawMembers,
  rawZip,
  rechain,
  testKey,
  zipFiles,
  type BundleParts,
  type RawMember,
  type TestKey,
} from '../support/evidence-fixture';

const VERIFIER = require.resolve('../../verifier/verify.mjs');

interface CliResult {
  readonly code: number | null;
  readonly report: BundleReport;
}

function runVerifier(args: readonly string[], prefix: readonly string[] = []): CliResult {
  const [command = process.execPath, ...rest] = [...prefix, process.execPath];
  const run = spawnSync(command, [...rest, VERIFIER, ...args], { encoding: 'utf8' });
  return { code: run.status, report: JSON.parse(run.stdout) as BundleReport };
}

const parse = (line: string): AuditEntry => JSON.parse(line) as AuditEntry;
const withEntry = (entries: readonly string[], index: number, line: string): string[] =>
  entries.map((e, i) => (i === index ? line : e));

describe('verify.mjs (offline evidence verifier)', function () {
  this.timeout(600_000);
  let key: TestKey;
  let log: string[];
  let honest: BundleParts;
  let work: string;
  let verifyBundle: VerifierModule['verifyBundle'];
  let verifyInclusion: VerifierModule['verifyInclusion'];
  let verifyConsistency: VerifierModule['verifyConsistency'];
  let verifyInclusionProof: VerifierModule['verifyInclusionProof'];

  before(async () => {
    // The verifier is an ES module shipped as plain JavaScript; this CommonJS test imports it dynamically.
    ({ verifyBundle, verifyInclusion, verifyConsistency, verifyInclusionProof } = await import(
      '../../verifier/verify.mjs'
    ));
    key = testKey();
    log = buildLog(1000);
    honest = honestParts(log, { keys: [key] });
    work = mkdtempSync(join(tmpdir(), 'cabinet-verifier-'));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('verifies an honest 1,000-entry bundle with ten anchored checkpoints, as a ZIP', async () => {
    const { exitCode, report } = await verifyBundle(await zipFiles(bundleFiles(honest)));
    assert.equal(exitCode, 0, JSON.stringify(report.firstFailure));
    assert.equal(report.verified, true);
    assert.equal(report.entries, 1000);
    assert.equal(report.checkpoints.checked, 10);
    assert.deepEqual(
      report.checkpoints.anchored,
      [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000],
    );
    assert.deepEqual(report.checkpoints.unanchored, []);
    assert.equal(report.pinnedKey, keyFingerprintHex(key));
    assert.deepEqual(report.warnings, []);
  });

  it('reports unanchored checkpoints and the exposure window of the tail', async () => {
    const parts = honestParts(buildLog(300), {
      keys: [key],
      checkpointSizes: [100, 200, 250],
      anchoredSizes: [100, 200],
    });
    const { exitCode, report } = await verifyBundle(bundleFiles(parts));
    assert.equal(exitCode, 0);
    assert.deepEqual(report.checkpoints.anchored, [100, 200]);
    assert.deepEqual(report.checkpoints.unanchored, [250]);
    const codes = new Map(report.warnings.map((w) => [w.code, w]));
    assert.equal(codes.get('TAIL_NOT_CHECKPOINTED')?.entries, 50);
    assert.equal(codes.get('TAIL_NOT_ANCHORED')?.entries, 100);
    assert.equal(codes.get('TAIL_NOT_ANCHORED')?.windowSeconds, 99 * 60);
  });

  it('warns about a writer clock that ran back more than five minutes, and still verifies', async () => {
    const base = buildLog(120);
    const entry = parse(base[49]!);
    const skewed = withEntry(
      base,
      49,
      canonicalize({ ...entry, ts: new Date(Date.parse(entry.ts) - 10 * 60_000).toISOString() }),
    );
    const parts = honestParts(rechain(skewed, 49), { keys: [key] });
    const { exitCode, report } = await verifyBundle(bundleFiles(parts));
    assert.equal(exitCode, 0);
    assert.deepEqual(
      report.warnings.filter((w) => w.code === 'CLOCK_REGRESSION').map((w) => w.seq),
      [50],
    );
  });

  it('follows a rotated key chain and refuses a key the previous key did not endorse', async () => {
    const next = testKey('cabinet-test-2');
    const rotated = honestParts(buildLog(150), { keys: [key, next] });
    assert.equal((await verifyBundle(bundleFiles(rotated))).exitCode, 0);

    const forged = keyManifest([key, next]) as { keys: { endorsement?: string }[] };
    forged.keys[1]!.endorsement = Buffer.alloc(64, 7).toString('base64');
    const broken = {
      ...rotated,
      extra: new Map([['keys/keys.json', Buffer.from(JSON.stringify(forged))]]),
    };
    const { exitCode, report } = await verifyBundle(bundleFiles(broken));
    assert.equal(exitCode, 1);
    assert.equal(report.firstFailure?.reason, 'KEY_CHAIN_BROKEN');
  });

  it('refuses a bundle whose first key is not the fingerprint the auditor pinned', async () => {
    const files = bundleFiles(honest);
    assert.equal((await verifyBundle(files, { pin: keyFingerprintHex(key) })).exitCode, 0);
    const { exitCode, report } = await verifyBundle(files, { pin: 'ab'.repeat(32) });
    assert.equal(exitCode, 1);
    assert.equal(report.firstFailure?.reason, 'PINNED_KEY_MISMATCH');
  });

  it("agrees with the domain's Merkle proofs (inclusion and consistency, sizes 1..300)", () => {
    const leaves = buildLog(300).map(entryLeafHash);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.nat(),
        (a, b, i) => {
          const [m, n] = a <= b ? [a, b] : [b, a];
          const rootM = merkleRoot(leaves.slice(0, m));
          const rootN = merkleRoot(leaves.slice(0, n));
          const index = i % n;
          const inclusion = inclusionProof(leaves, index, n);
          assert.equal(verifyInclusion(leaves[index]!, index, n, inclusion, rootN), true);
          assert.equal(verifyInclusion(leaves[index]!, index, n, inclusion, rootM), m === n);
          const consistency = consistencyProof(leaves, m, n);
          assert.equal(verifyConsistency(m, n, rootM, rootN, consistency), true);
          if (m < n) assert.equal(verifyConsistency(m, n, rootN, rootM, consistency), false);
        },
      ),
      { numRuns: 500 },
    );
  });

  describe('tamper matrix (1,000 entries, 10 checkpoints)', () => {
    type Tamper = {
      readonly kind: string;
      readonly parts: BundleParts;
      readonly expect: readonly string[];
      readonly seq?: number;
      readonly post?: (files: Map<string, Buffer>) => void;
    };

    const ENTRY_REASONS = [
      'ENTRY_NOT_UTF8',
      'ENTRY_NOT_JSON',
      'ENTRY_SHAPE',
      'ENTRY_NOT_CANONICAL',
      'ENTRY_COUNT_MISMATCH',
      'SEQ_GAP',
      'SEQ_OUT_OF_ORDER',
      'TENANT_MISMATCH',
      'PREV_MISMATCH',
      'CHECKPOINT_ROOT_MISMATCH',
    ];
    const index = fc.integer({ min: 0, max: 999 });

    const dropCheckpointsAbove = (parts: BundleParts, size: number): BundleParts => ({
      ...parts,
      checkpoints: new Map([...parts.checkpoints].filter(([s]) => s <= size)),
      consistency: parts.consistency.filter((p) => p.to <= size),
    });

    const flipSignature = (line: string, byte: number, bit: number): string => {
      const [dash, name, blob] = line.split(' ');
      const bytes = Buffer.from(blob!, 'base64');
      const at = 4 + (byte % (bytes.length - 4));
      bytes[at]! ^= 1 << bit;
      return `${dash} ${name} ${bytes.toString('base64')}`;
    };

    const tamper = (): fc.Arbitrary<Tamper> =>
      fc.oneof(
        fc
          .record({ k: index, byte: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) })
          .map(({ k, byte, bit }) => {
            const bytes = Buffer.from(log.map((e) => `${e}\n`).join(''), 'utf8');
            const lineStart = Buffer.byteLength(
              log
                .slice(0, k)
                .map((e) => `${e}\n`)
                .join(''),
              'utf8',
            );
            const at = lineStart + (byte % Buffer.byteLength(log[k]!, 'utf8'));
            bytes[at]! ^= 1 << bit;
            return {
              kind: 'bit flip in an entry',
              parts: { ...honest, extra: new Map([['entries.ndjson', bytes]]) },
              expect: ENTRY_REASONS,
            };
          }),
        fc.record({ k: index, field: fc.integer({ min: 0, max: 4 }) }).map(({ k, field }) => {
          const e = parse(log[k]!);
          const edits: AuditEntry[] = [
            { ...e, payload: { ...e.payload, n: k + 10_000 } },
            { ...e, type: 'change.deleted' },
            { ...e, ts: new Date(Date.parse(e.ts) + 1000).toISOString() },
            { ...e, actor: { ...e.actor, oid: 'intruder' } },
            { ...e, requestId: 'CR-9999' },
          ];
          return {
            kind: 'edited property',
            parts: { ...honest, entries: withEntry(log, k, canonicalize(edits[field]!)) },
            // An entry that closes a checkpoint breaks that root before the next entry's prev.
            expect: [honest.checkpoints.has(k + 1) ? 'CHECKPOINT_ROOT_MISMATCH' : 'PREV_MISMATCH'],
            seq: honest.checkpoints.has(k + 1) ? k + 1 : k + 2,
          };
        }),
        index.map((k) => ({
          kind: 'changed prev',
          parts: {
            ...honest,
            entries: withEntry(
              log,
              k,
              canonicalize({ ...parse(log[k]!), prev: randomBytes(32).toString('hex') }),
            ),
          },
          expect: ['PREV_MISMATCH'],
          seq: k + 1,
        })),
        index.map((k) => ({
          kind: 'deleted entry',
          parts: { ...honest, entries: log.filter((_, i) => i !== k) },
          expect: [k === 999 ? 'TRUNCATED_BEFORE_CHECKPOINT' : 'SEQ_GAP'],
          seq: k + 1,
        })),
        fc
          .tuple(index, index)
          .filter(([a, b]) => a !== b)
          .map(([a, b]) => {
            const [i, j] = a < b ? [a, b] : [b, a];
            const entries = [...log];
            [entries[i], entries[j]] = [entries[j]!, entries[i]!];
            return {
              kind: 'swapped entries',
              parts: { ...honest, entries },
              expect: ['SEQ_OUT_OF_ORDER'],
              seq: i + 1,
            };
          }),
        fc
          .record({ k: fc.integer({ min: 1, max: 999 }), dropCheckpoints: fc.boolean() })
          .map(({ k, dropCheckpoints }) => {
            const kept = { ...honest, entries: log.slice(0, 1000 - k) };
            return {
              kind: 'tail truncated before the last checkpoint',
              parts: dropCheckpoints ? dropCheckpointsAbove(kept, 1000 - k) : kept,
              expect: ['TRUNCATED_BEFORE_CHECKPOINT'],
              seq: 1000 - k + 1,
            };
          }),
        index.map((k) => {
          const e = parse(log[k]!);
          const edited = withEntry(
            log,
            k,
            canonicalize({ ...e, payload: { ...e.payload, note: 'rewritten' } }),
          );
          return {
            kind: 'tail rewritten with recomputed hashes',
            parts: { ...honest, entries: rechain(edited, k) },
            expect: ['CHECKPOINT_ROOT_MISMATCH'],
            seq: Math.ceil((k + 1) / 100) * 100,
          };
        }),
        fc
          .tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }))
          .filter(([a, b]) => a !== b)
          .map(([a, b]) => {
            const [older, newer] = a < b ? [a * 100, b * 100] : [b * 100, a * 100];
            const checkpoints = new Map(honest.checkpoints);
            checkpoints.set(newer, honest.checkpoints.get(older)!);
            return {
              kind: 'checkpoint replaced by an older one',
              parts: { ...honest, checkpoints },
              expect: ['CHECKPOINT_SIZE_MISMATCH'],
            };
          }),
        fc
          .record({
            size: fc.integer({ min: 1, max: 10 }),
            byte: fc.nat(),
            bit: fc.integer({ min: 0, max: 7 }),
            how: fc.constantFrom('flip', 'other key', 'manifest'),
          })
          .map(({ size, byte, bit, how }): Tamper => {
            if (how === 'manifest') {
              return {
                kind: 'forged signature',
                parts: honest,
                expect: ['MANIFEST_SIGNATURE_INVALID'],
                post: (files) => {
                  const line = files.get('manifest.sig')!.toString('utf8').trimEnd();
                  files.set(
                    'manifest.sig',
                    Buffer.from(`${flipSignature(line, byte, bit)}\n`, 'utf8'),
                  );
                },
              };
            }
            const checkpoints = new Map(honest.checkpoints);
            const note = honest.checkpoints.get(size * 100)!;
            const [body, sig] = note.split('\n\n');
            const forged =
              how === 'flip'
                ? `${body}\n\n${flipSignature(sig!.trimEnd(), byte, bit)}\n`
                : checkpointNote(
                    testKey(key.name),
                    honest.origin,
                    size * 100,
                    Buffer.from(body!.split('\n')[2]!, 'base64'),
                  );
            checkpoints.set(size * 100, forged);
            return {
              kind: 'forged signature',
              parts: { ...honest, checkpoints },
              expect: ['CHECKPOINT_SIGNATURE_INVALID'],
            };
          }),
        fc.record({ k: index, everywhere: fc.boolean() }).map(({ k, everywhere }): Tamper => {
          const other = '99999999-8888-7777-6666-555555555555';
          if (!everywhere) {
            return {
              kind: 'tenant changed',
              parts: {
                ...honest,
                entries: withEntry(log, k, canonicalize({ ...parse(log[k]!), tenantId: other })),
              },
              expect: ['TENANT_MISMATCH'],
              seq: k + 1,
            };
          }
          const moved = rechain(
            log.map((e) => canonicalize({ ...parse(e), tenantId: other })),
            0,
          );
          return {
            kind: 'tenant changed',
            parts: { ...honest, tenantId: other, origin: `audit.cabinet/${other}`, entries: moved },
            expect: ['CHECKPOINT_ORIGIN_MISMATCH'],
          };
        }),
        fc.record({ k: index, how: fc.integer({ min: 0, max: 2 }) }).map(({ k, how }) => {
          const line = log[k]!;
          const e = parse(line);
          const { type, ...rest } = e;
          const reencoded = [
            JSON.stringify({ type, ...rest }),
            line.replace('":', '": '),
            line.replace(`"seq":${e.seq}`, `"seq":${e.seq}.0`),
          ][how]!;
          return {
            kind: 'non-canonical re-encoding',
            parts: { ...honest, entries: withEntry(log, k, reencoded) },
            expect: ['ENTRY_NOT_CANONICAL'],
            seq: k + 1,
          };
        }),
      );

    it('detects every mutation with a specific reason (2,200 runs)', async () => {
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(tamper(), async (t) => {
          const files = bundleFiles(t.parts);
          t.post?.(files);
          const { exitCode, report }: Verdict<BundleReport> = await verifyBundle(files);
          const failure = `${t.kind}: ${JSON.stringify(report.firstFailure)}`;
          assert.equal(exitCode, 1, failure);
          assert.equal(report.verified, false);
          assert.ok(t.expect.includes(report.firstFailure?.reason ?? ''), failure);
          if (t.seq !== undefined) assert.equal(report.firstFailure?.seq, t.seq, failure);
          seen.set(t.kind, (seen.get(t.kind) ?? 0) + 1);
        }),
        { numRuns: 2200 },
      );
      assert.equal(seen.size, 11, [...seen.keys()].join(', '));
    });

    it('rejects none of 200 untouched bundles (random logs, payloads and checkpoint cadences, as ZIPs)', async () => {
      const value = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 12 }),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 400 }),
          fc.integer({ min: 1, max: 160 }),
          fc.array(
            fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), value, { maxKeys: 4 }),
            {
              minLength: 1,
              maxLength: 8,
            },
          ),
          fc.boolean(),
          async (n, cadence, payloads, anchorAll) => {
            const entries = buildLog(n, { payload: (seq) => payloads[seq % payloads.length]! });
            const sizes = [
              ...new Set([
                ...Array.from({ length: Math.floor(n / cadence) }, (_, i) => (i + 1) * cadence),
              ]),
            ];
            const parts = honestParts(entries, {
              keys: [testKey()],
              checkpointSizes: sizes,
              anchoredSizes: anchorAll ? sizes : sizes.filter((_, i) => i % 2 === 0),
            });
            const { exitCode, report } = await verifyBundle(await zipFiles(bundleFiles(parts)));
            assert.equal(exitCode, 0, JSON.stringify(report.firstFailure));
            assert.equal(report.entries, n);
            assert.equal(report.checkpoints.checked, sizes.length);
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('hostile archives (the CLI exits 2 and writes nothing)', () => {
    const cases: [string, () => RawMember[], string][] = [
      [
        'a ../ member',
        () => [...rawMembers(bundleFiles(honest)), { name: '../evil.txt', data: Buffer.from('x') }],
        'HOSTILE_PATH',
      ],
      [
        'an absolute member path',
        () => [
          ...rawMembers(bundleFiles(honest)),
          { name: '/tmp/evil.txt', data: Buffer.from('x') },
        ],
        'HOSTILE_PATH',
      ],
      [
        'a nested ../ segment',
        () => [
          ...rawMembers(bundleFiles(honest)),
          { name: 'keys/../../evil', data: Buffer.from('x') },
        ],
        'HOSTILE_PATH',
      ],
      [
        'a backslash path',
        () => [
          ...rawMembers(bundleFiles(honest)),
          { name: '..\\evil.txt', data: Buffer.from('x') },
        ],
        'HOSTILE_PATH',
      ],
      [
        'a duplicate member name',
        () => {
          const members = rawMembers(bundleFiles(honest));
          return [...members, { name: 'README.txt', data: Buffer.from('second copy') }];
        },
        'DUPLICATE_MEMBER',
      ],
      [
        'a member not in the manifest',
        () => [...rawMembers(bundleFiles(honest)), { name: 'extra.txt', data: Buffer.from('x') }],
        'UNLISTED_MEMBER',
      ],
      [
        'a member declaring 2 GB (sparse)',
        () => [
          ...rawMembers(bundleFiles(honest)),
          { name: 'big.bin', data: Buffer.alloc(16), deflate: true, declaredSize: 0x7fffffff },
        ],
        'MEMBER_TOO_LARGE',
      ],
      [
        'a deflate bomb lying about its size',
        () =>
          rawMembers(bundleFiles(honest)).map((m) =>
            m.name === 'README.txt'
              ? { ...m, data: Buffer.alloc(8 * 1024 * 1024), declaredSize: 1000 }
              : m,
          ),
        'BAD_MEMBER_DATA',
      ],
      [
        'a bad CRC-32',
        () =>
          rawMembers(bundleFiles(honest)).map((m) =>
            m.name === 'README.txt' ? { ...m, crc: 12345 } : m,
          ),
        'BAD_CRC',
      ],
      [
        'a manifest hash mismatch',
        () =>
          rawMembers(bundleFiles(honest)).map((m) =>
            m.name === 'README.txt' ? { ...m, data: Buffer.from('edited after export\n') } : m,
          ),
        'MANIFEST_HASH_MISMATCH',
      ],
      [
        'an unknown key id',
        () => rawMembers(bundleFiles(honest, testKey('someone-else'))),
        'UNKNOWN_KEY',
      ],
      ['not a ZIP at all', () => [], 'NOT_A_ZIP'],
    ];

    for (const [title, members, reason] of cases) {
      it(`refuses ${title}`, () => {
        const dir = mkdtempSync(join(work, 'hostile-'));
        const inner = join(dir, 'inner');
        mkdirSync(inner);
        const zip = join(inner, 'bundle.zip');
        writeFileSync(
          zip,
          members().length === 0 ? Buffer.from('PK not really') : rawZip(members()),
        );
        const run = spawnSync(process.execPath, [VERIFIER, zip], { cwd: inner, encoding: 'utf8' });
        assert.equal(run.status, 2, run.stdout + run.stderr);
        const report = JSON.parse(run.stdout) as BundleReport;
        assert.equal(report.verified, false);
        assert.equal(report.firstFailure?.reason, reason);
        assert.deepEqual(readdirSync(dir).sort(), ['inner']);
        assert.deepEqual(readdirSync(inner), ['bundle.zip']);
        assert.deepEqual(
          readdirSync(dirname(dir)).filter((f) => f.startsWith('evil')),
          [],
        );
      });
    }

    it('refuses a member larger than the cap it is given, before inflating it', async () => {
      const { exitCode, report } = await verifyBundle(await zipFiles(bundleFiles(honest)), {
        limits: { maxMemberBytes: 10_000 },
      });
      assert.equal(exitCode, 2);
      assert.equal(report.firstFailure?.reason, 'MEMBER_TOO_LARGE');
    });

    it('refuses an unpacked bundle holding a symbolic link', () => {
      const dir = mkdtempSync(join(work, 'unpacked-'));
      for (const [path, bytes] of bundleFiles(honest)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), bytes);
      }
      assert.equal(runVerifier([dir]).code, 0);
      symlinkSync('/etc/passwd', join(dir, 'passwd'));
      const { code, report } = runVerifier([dir]);
      assert.equal(code, 2);
      assert.equal(report.firstFailure?.reason, 'HOSTILE_PATH');
    });
  });

  describe('offline', () => {
    it('verifies with networking unavailable (net, dns, http, https and fetch throw; no network namespace where unshare works)', async () => {
      const zip = join(work, 'offline.zip');
      writeFileSync(zip, await zipFiles(bundleFiles(honest)));
      const preload = join(work, 'no-network.mjs');
      writeFileSync(
        preload,
        [
          "import net from 'node:net'; import dns from 'node:dns'; import http from 'node:http'; import https from 'node:https';",
          "const refuse = () => { throw new Error('network is disabled'); };",
          'net.connect = net.createConnection = refuse; net.Socket.prototype.connect = refuse;',
          'dns.lookup = dns.resolve = refuse; dns.promises.lookup = dns.promises.resolve = refuse;',
          'http.request = http.get = https.request = https.get = refuse; globalThis.fetch = refuse;',
        ].join('\n'),
      );
      const unshare = spawnSync('unshare', ['-n', 'true']).status === 0;
      const { code, report } = runVerifier([zip], unshare ? ['unshare', '-n'] : []);
      const guarded = spawnSync(process.execPath, ['--import', preload, VERIFIER, zip], {
        encoding: 'utf8',
      });
      assert.equal(code, 0, JSON.stringify(report.firstFailure));
      assert.equal(guarded.status, 0, guarded.stderr);
      assert.equal((JSON.parse(guarded.stdout) as BundleReport).verified, true);
    });
  });

  describe('--proof (inclusion proofs for one change request)', () => {
    const proofDoc = (): Record<string, unknown> => {
      const leaves = log.map(entryLeafHash);
      const size = 1000;
      return {
        format: 'cabinet-inclusion/v1',
        tenantId: honest.tenantId,
        checkpoint: honest.checkpoints.get(size),
        treeSize: size,
        entries: [7, 8, 512].map((seq) => ({
          seq,
          canonical: log[seq - 1],
          proof: inclusionProof(leaves, seq - 1, size).map((h) => h.toString('hex')),
        })),
        keys: keyManifest([key]),
      };
    };

    it('verifies entries against a signed checkpoint, from the CLI', () => {
      const path = join(work, 'proof.json');
      writeFileSync(path, JSON.stringify(proofDoc()));
      const run = spawnSync(process.execPath, [VERIFIER, '--proof', path], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stdout);
      assert.deepEqual((JSON.parse(run.stdout) as { entries: number[] }).entries, [7, 8, 512]);
    });

    it('refuses an edited entry and a proof for another position', async () => {
      const edited = proofDoc();
      const entries = edited['entries'] as { seq: number; canonical: string; proof: string[] }[];
      entries[0]!.canonical = canonicalize({ ...parse(entries[0]!.canonical), type: 'forged' });
      const a = await verifyInclusionProof(edited);
      assert.equal(a.exitCode, 1);
      assert.equal(a.report.firstFailure?.reason, 'INCLUSION_PROOF_INVALID');

      const moved = proofDoc();
      const list = moved['entries'] as { seq: number; proof: string[] }[];
      list[1]!.proof = list[0]!.proof;
      const b = await verifyInclusionProof(moved);
      assert.equal(b.exitCode, 1);
      assert.equal(b.report.firstFailure?.seq, 8);
    });
  });
});
