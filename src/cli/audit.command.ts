import { parseArgs } from 'node:util';
import type { AuditLog } from '../application/ports/audit-log';
import { GENESIS_HASH, verifyChain, type StoredAuditEntry } from '../domain/audit/audit-chain';
import { isSealedPersonalData } from '../domain/audit/personal-data';
import { asTenantId, type TenantId } from '../domain/shared/ids';

/** The ports `audit` commands use, so tests can run them on any storage. */
export interface AuditCommandDeps {
  readonly audit: AuditLog;
  readonly out: (line: string) => void;
}

/** Help text for the audit group. */
export const AUDIT_USAGE = `cabinet audit <command>
  verify --tenant <guid>                          check the client's whole chain and its head
  show   --tenant <guid> [--from <seq>] [--limit <n>]   print entries (personal data decrypted while the client's key exists)
verify exits 0 when the chain is intact, 1 when it is broken.`;

/** The outcome of checking a stored chain: every entry, and the head against the last entry. */
export type AuditVerdict =
  | { readonly ok: true; readonly count: number; readonly headHash: string }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

/**
 * Verifies a tenant's stored chain from its canonical strings, then that the head agrees with the
 * last entry.
 * @remarks The head check is what catches a truncated tail: deleting the last entries leaves a
 * chain that links perfectly, but shorter than the head says.
 */
export async function verifyAuditChain(audit: AuditLog, tenantId: TenantId): Promise<AuditVerdict> {
  const verdict = verifyChain(tenantId, await audit.read(tenantId));
  if (!verdict.ok) return verdict;
  const head = (await audit.head(tenantId)) ?? { seq: 0, hash: GENESIS_HASH };
  if (head.seq > verdict.count) {
    return {
      ok: false,
      seq: verdict.count + 1,
      reason: `entry ${verdict.count + 1} is missing: the head says the chain has ${head.seq} entries`,
    };
  }
  if (head.seq < verdict.count) {
    return {
      ok: false,
      seq: head.seq + 1,
      reason: `entry ${head.seq + 1} lies beyond the head, which says the chain has ${head.seq} entries`,
    };
  }
  if (head.hash !== verdict.headHash)
    return { ok: false, seq: head.seq, reason: 'the head hash does not match the last entry' };
  return verdict;
}

/** `cabinet audit …`: verify or read a client's audit chain. Returns the exit code. */
export async function runAuditCommand(
  args: readonly string[],
  deps: AuditCommandDeps,
): Promise<number> {
  const [command, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { tenant: { type: 'string' }, from: { type: 'string' }, limit: { type: 'string' } },
    allowPositionals: false,
  });
  const tenantId = values.tenant ? asTenantId(values.tenant) : undefined;
  if ((command === 'verify' || command === 'show') && !tenantId)
    return usage(deps, `audit ${command} needs --tenant <guid> (the client's tenant id).`);
  if (command === 'verify') {
    const verdict = await verifyAuditChain(deps.audit, tenantId!);
    deps.out(
      verdict.ok
        ? `OK: ${verdict.count} entries, head ${verdict.headHash}`
        : `BROKEN at seq ${verdict.seq}: ${verdict.reason}`,
    );
    return verdict.ok ? 0 : 1;
  }
  if (command === 'show') {
    const from = positive(values.from ?? '1');
    const limit = positive(values.limit ?? '50');
    if (from === undefined || limit === undefined)
      return usage(deps, '--from and --limit take whole numbers of 1 or more.');
    const entries = await deps.audit.read(tenantId!, { fromSeq: from, limit });
    if (entries.length === 0) deps.out(`No audit entries from seq ${from}.`);
    for (const entry of entries) deps.out(await describe(deps.audit, tenantId!, entry));
    return 0;
  }
  return usage(deps, AUDIT_USAGE);
}

async function describe(
  audit: AuditLog,
  tenantId: TenantId,
  entry: StoredAuditEntry,
): Promise<string> {
  const parsed = JSON.parse(entry.canonical) as {
    ts: string;
    type: string;
    actor: { tid: string; oid: string };
    requestId: string | null;
    payload: Record<string, unknown>;
  };
  const { personal, ...payload } = parsed.payload;
  const lines = [
    `#${entry.seq} ${parsed.ts} ${parsed.type} by ${parsed.actor.tid}/${parsed.actor.oid}${parsed.requestId ? ` on ${parsed.requestId}` : ''}`,
    `    payload  ${JSON.stringify(payload)}`,
  ];
  if (isSealedPersonalData(personal)) {
    const clear = await audit.openPersonal(tenantId, entry);
    lines.push(`    personal ${clear ? JSON.stringify(clear) : '[erased]'}`);
  }
  lines.push(`    hash     ${entry.hash}`);
  return lines.join('\n');
}

function positive(value: string): number | undefined {
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

function usage(deps: AuditCommandDeps, message: string): number {
  deps.out(message);
  return 2;
}
