/**
 * Verification benchmark (`npm run bench -- --only verify`): `verify.mjs`'s `verifyBundle` over a
 * bundle of `entries` audit entries (issue 7: 100k) — bytes of `entries.ndjson` per second — divided
 * by the least any verifier must do with the same file, measured in the same run: split it into
 * lines, `JSON.parse` each and SHA-256 it (target ≥ 0.5).
 * @remarks The bundle comes from the verifier tests' fixture builder (the exact export layout, a
 * test key), not from an export on Azurite, so the bench measures the verifier alone. It carries ten
 * checkpoints: the builder recomputes each root from scratch, so the Checkpointer's one per 100
 * entries would take minutes to build; each extra checkpoint costs the verifier one signature and
 * one consistency check on top of the streamed roots. Both sides run three times, alternating, and
 * the fastest of each counts. Nothing is asserted.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { buildLog, bundleFiles, honestParts, zipFiles } from '../tests/support/evidence-fixture';

const TARGET_RATIO = 0.5;
const ROUNDS = 3;
const format = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (bytesPerSecond: number) => `${(bytesPerSecond / 1024 / 1024).toFixed(1)} MiB/s`;

/** The floor: every line parsed and hashed once, nothing checked. */
function parseAndHash(ndjson: Buffer): number {
  let lines = 0;
  for (const line of ndjson.toString('utf8').split('\n')) {
    if (line === '') continue;
    JSON.parse(line);
    createHash('sha256').update(line).digest();
    lines += 1;
  }
  return lines;
}

export async function runVerifyBench(options: { readonly entries: number }): Promise<void> {
  const log = buildLog(options.entries);
  const step = Math.max(1, Math.floor(options.entries / 10));
  const checkpointSizes = [
    ...new Set([
      ...Array.from({ length: Math.floor(options.entries / step) }, (_, i) => (i + 1) * step),
      options.entries,
    ]),
  ];
  const files = bundleFiles(honestParts(log, { checkpointSizes }));
  const ndjson = files.get('entries.ndjson')!;
  const zip = await zipFiles(files);
  const { verifyBundle } = await import('../verifier/verify.mjs');

  let verifyMs = Infinity;
  let floorMs = Infinity;
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = performance.now();
    const { exitCode, report } = await verifyBundle(zip);
    verifyMs = Math.min(verifyMs, performance.now() - started);
    if (exitCode !== 0)
      throw new Error(`the bench bundle did not verify: ${JSON.stringify(report)}`);
    const floorStarted = performance.now();
    if (parseAndHash(ndjson) !== options.entries) throw new Error('entries.ndjson lost lines');
    floorMs = Math.min(floorMs, performance.now() - floorStarted);
  }
  const verifyRate = ndjson.length / (verifyMs / 1000);
  const floorRate = ndjson.length / (floorMs / 1000);
  console.log(
    `verify bundle (${format(options.entries)} entries, entries.ndjson ${format(ndjson.length / 1024)} KiB, ZIP ${format(zip.length / 1024)} KiB, ${checkpointSizes.length} checkpoints): fastest of ${ROUNDS}`,
  );
  console.log(
    `parse + SHA-256 each line of entries.ndjson (the floor): ${mib(floorRate)} (${format(floorMs)} ms)`,
  );
  console.log(
    `verify.mjs verifyBundle: ${mib(verifyRate)} (${format(verifyMs)} ms) ÷ parse + hash ${mib(floorRate)} = ${(verifyRate / floorRate).toFixed(2)} (target ≥ ${TARGET_RATIO})`,
  );
}
