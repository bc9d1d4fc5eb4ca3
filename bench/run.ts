/**
 * Benchmarks: `npm run bench [-- --only raw|audit|offboard|sla|psa|webhook|evidence|verify] [--seconds n]
 *   [--runs n] [--requests n] [--notes n] [--deliveries n] [--entries n]`.
 * Starts its own in-memory Azurite on loopback and measures
 *   (a) the raw baseline: 100-entity batch inserts into one partition from 4 concurrent loops;
 *   (b) audit appends with 1 writer process keeping 50 appends in flight (group commit batches them);
 *   (c) the same with 4 writer processes on one tenant;
 *   (d) offboarding one user against the sandbox cloud with batching on and off (offboard.bench.ts);
 *   (e) an SLA sweep over 1k open requests with and without 100k closed ones beside them (sla.bench.ts);
 *   (f) Cabinet notes delivered to a sandbox HaloPSA by the relay against raw note POSTs (psa.bench.ts);
 *   (g) signed webhook deliveries taken in over HTTP against raw request creation (webhook.bench.ts);
 *   (h) an evidence export of 100k entries against a raw scan of the same partition (evidence.bench.ts);
 *   (i) verify.mjs over a 100k-entry bundle against parsing and hashing its lines (verify.bench.ts).
 * Figures depend on the machine; Azurite promises no throughput, so nothing here is asserted.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openTable } from '../src/adapters/storage/table-connection';
import { submitEntityGroup, type EntityAction } from '../src/adapters/storage/entity-group';
import { entryEntity } from '../src/adapters/storage/table-entity.mapper';
import { createTableStorage } from '../src/adapters/storage/table-storage';
import { chainEvents, GENESIS_HASH } from '../src/domain/audit/audit-chain';
import type { TenantId } from '../src/domain/shared/ids';
import { startAzurite, type RunningAzurite } from '../src/sandbox/azurite';
import { runAuditWriters } from '../tests/support/audit-writers';
import { runOffboardBench } from './offboard.bench';
import { runPsaBench } from './psa.bench';
import { runSlaBench } from './sla.bench';
import { runWebhookBench } from './webhook.bench';
import { runEvidenceBench } from './evidence.bench';
import { runVerifyBench } from './verify.bench';

const TARGET_RATIO = 0.5;
const IN_FLIGHT = 50;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '7' },
    requests: { type: 'string', default: '20' },
    notes: { type: 'string', default: '20' },
    deliveries: { type: 'string', default: '500' },
    entries: { type: 'string', default: '100000' },
  },
});
const only = values.only;
if (
  only !== undefined &&
  only !== 'raw' &&
  only !== 'audit' &&
  only !== 'offboard' &&
  only !== 'sla' &&
  only !== 'psa' &&
  only !== 'webhook' &&
  only !== 'evidence' &&
  only !== 'verify'
)
  throw new Error('--only takes raw, audit, offboard, sla, psa, webhook, evidence or verify');
const seconds = Number(values.seconds);
if (!(seconds > 0 && seconds <= 60))
  throw new Error('--seconds takes a number of seconds between 0 and 60');
const runs = Number(values.runs);
if (!(Number.isInteger(runs) && runs >= 1 && runs <= 50))
  throw new Error('--runs takes a whole number of offboarding runs per mode between 1 and 50');
/** A whole-number option between 1 and `max`. */
function count(
  name: 'requests' | 'notes' | 'deliveries' | 'entries',
  max: number,
  what: string,
): number {
  const n = Number(values[name]);
  if (!(Number.isInteger(n) && n >= 1 && n <= max))
    throw new Error(`--${name} takes a whole number of ${what} between 1 and ${max}`);
  return n;
}
const requests = count('requests', 200, 'PSA-linked requests');
const notes = count('notes', 200, 'notes per request');
const deliveries = count('deliveries', 10_000, 'webhook deliveries');
const entries = count('entries', 1_000_000, 'audit entries to export or verify');

const format = (n: number) => Math.round(n).toLocaleString('en-US');

const TENANT = 'c0a7050a-0000-4000-8000-000000000002' as TenantId;

/**
 * (a) Entities per second from 4 loops of 100-entity insert transactions into one partition. The
 * rows are audit entry rows of the size the writers produce, so both sides move the same bytes.
 */
async function rawBatchInsert(azurite: RunningAzurite): Promise<number> {
  const table = openTable(azurite.connectionString, 'benchraw', { sdkRetries: false });
  await table.createTable();
  const [sample] = chainEvents(
    TENANT,
    { seq: 999_999, hash: GENESIS_HASH },
    [
      {
        type: 'request.submitted',
        actor: { tid: TENANT, oid: '7ec40000-0000-4000-8000-000000000011' },
        requestId: null,
        payload: { id: 'w1-99999', writer: 'w1' },
      },
    ],
    new Date().toISOString(),
  );
  const row = entryEntity(TENANT, sample!, GENESIS_HASH);
  let inserted = 0;
  let next = 0;
  const endAt = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < endAt) {
      const actions: EntityAction[] = Array.from({ length: 100 }, () => ({
        kind: 'create',
        entity: { ...row, rowKey: `e_${String(next++).padStart(16, '0')}` },
      }));
      await submitEntityGroup(table, actions);
      if (Date.now() <= endAt) inserted += actions.length;
    }
  };
  await Promise.all([loop(), loop(), loop(), loop()]);
  return inserted / seconds;
}

/** (b)/(c) Acknowledged audit appends per second from `writers` processes on one tenant. */
async function auditAppends(
  azurite: RunningAzurite,
  writers: number,
): Promise<{ perSecond: number; detail: string }> {
  const tablePrefix = `bench${randomBytes(3).toString('hex')}`;
  const storage = createTableStorage({ connectionString: azurite.connectionString, tablePrefix });
  await storage.ensureTables();
  const reports = await runAuditWriters(
    Array.from({ length: writers }, (_, i) => ({
      connectionString: azurite.connectionString,
      tablePrefix,
      tenantId: TENANT,
      writer: `w${i + 1}`,
      inFlight: IN_FLIGHT,
      durationMs: seconds * 1000,
    })),
  );
  const acked = reports.reduce(
    (sum, r) => sum + (typeof r.acked === 'number' ? r.acked : r.acked.length),
    0,
  );
  const failed = reports.reduce((sum, r) => sum + r.failed, 0);
  const transactions = reports.reduce((sum, r) => sum + r.transactions, 0);
  const conflicts = reports.reduce((sum, r) => sum + r.headConflicts, 0);
  const detail = `${format(transactions)} transactions, ${(acked / Math.max(1, transactions)).toFixed(1)} appends each, ${format(conflicts)} head conflicts, ${failed} failed`;
  return { perSecond: acked / seconds, detail };
}

/** (a)–(c): the storage figures; (b) and (c) are ratios against (a). */
async function storageBench(azurite: RunningAzurite): Promise<void> {
  const raw = await rawBatchInsert(azurite);
  console.log(
    `raw batch insert (100 entities per transaction, 4 loops, one partition): ${format(raw)} entities/s`,
  );
  if (only === 'raw') return;
  for (const writers of [1, 4]) {
    const { perSecond, detail } = await auditAppends(azurite, writers);
    const ratio = perSecond / raw;
    const target = writers === 4 ? ` (target ≥ ${TARGET_RATIO})` : '';
    console.log(
      `audit append, ${writers} writer${writers === 1 ? '' : 's'}: ${format(perSecond)}/s  ÷ raw batch insert ${format(raw)}/s = ${ratio.toFixed(2)}${target}`,
    );
    console.log(`  ${detail}`);
  }
}

async function main(): Promise<void> {
  // The verifier works offline on a built bundle; it needs no Azurite.
  if (only === 'verify') return runVerifyBench({ entries });
  const azurite = await startAzurite();
  try {
    if (only === undefined || only === 'raw' || only === 'audit') await storageBench(azurite);
    if (only === undefined || only === 'offboard') await runOffboardBench({ azurite, runs });
    if (only === undefined || only === 'sla') await runSlaBench({ azurite });
    if (only === undefined || only === 'psa') await runPsaBench({ azurite, requests, notes });
    if (only === undefined || only === 'webhook') await runWebhookBench({ azurite, deliveries });
    if (only === undefined || only === 'evidence') await runEvidenceBench({ azurite, entries });
  } finally {
    await azurite.stop();
  }
  if (only === undefined) await runVerifyBench({ entries });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
