import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { proveRequest } from '../application/use-cases/checkpoints';
import {
  exportEvidence,
  type EvidenceExportDeps,
  type EvidenceProgress,
} from '../application/use-cases/evidence-export';
import { asTenantId } from '../domain/shared/ids';
import { EVIDENCE_KEYS_USAGE } from './evidence-keys.command';

/** Where progress goes: stderr, so stdout stays clean for scripts. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export type EvidenceCommandDeps = EvidenceExportDeps & {
  readonly out: (line: string) => void;
  readonly progress: ProgressStream;
  /** Writes the output file; the CLI writes to disk, tests may capture. */
  readonly writeOut?: (path: string, bytes: Buffer) => Promise<void>;
};

export const EVIDENCE_USAGE = `cabinet evidence export --tenant <GUID> --from YYYY-MM-DD --to YYYY-MM-DD --out <file.zip>
  a deterministic evidence bundle of the client's audit log (the same range gives the same bytes),
  with a signed manifest, checkpoints, the readable change history, a control map and the offline
  verifier (node verifier/verify.mjs <file.zip>); progress on stderr
cabinet evidence prove --tenant <GUID> --request <id> --out <file.json>
  an inclusion proof that every audit entry of one change request is in the client's signed log
${EVIDENCE_KEYS_USAGE}`;

/** `cabinet evidence …`. Returns the exit code. */
export async function runEvidenceCommand(
  args: readonly string[],
  deps: EvidenceCommandDeps,
): Promise<number> {
  const fail = (message: string) => {
    deps.out(message);
    return 1;
  };
  const [command, ...rest] = args;
  if (command !== 'export' && command !== 'prove') return fail(EVIDENCE_USAGE);
  let values: { tenant?: string; from?: string; to?: string; out?: string; request?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        tenant: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        out: { type: 'string' },
        request: { type: 'string' },
      },
      allowPositionals: false,
    }));
  } catch (error: unknown) {
    return fail(`${(error as Error).message}\n${EVIDENCE_USAGE}`);
  }
  const tenantId = values.tenant === undefined ? undefined : asTenantId(values.tenant);
  if (!tenantId) return fail(`evidence ${command} needs --tenant <GUID>.\n${EVIDENCE_USAGE}`);
  if (!values.out) return fail(`evidence ${command} needs --out <file>.\n${EVIDENCE_USAGE}`);
  const write = deps.writeOut ?? ((path: string, bytes: Buffer) => writeFile(path, bytes));

  if (command === 'prove') {
    if (!values.request) return fail(`evidence prove needs --request <id>.\n${EVIDENCE_USAGE}`);
    const proof = await proveRequest(deps, tenantId, values.request);
    if (!proof)
      return fail(`The audit log of ${tenantId} has no entry for request ${values.request}.`);
    await write(values.out, Buffer.from(`${JSON.stringify(proof, null, 2)}\n`, 'utf8'));
    deps.out(
      `Wrote ${values.out}: ${proof.entries.length} entries proven against the checkpoint of size ${proof.treeSize}.`,
    );
    return 0;
  }

  if (!values.from || !values.to)
    return fail(`evidence export needs --from and --to (YYYY-MM-DD).\n${EVIDENCE_USAGE}`);
  const bar = progressBar(deps.progress);
  const result = await exportEvidence(
    deps,
    { tenantId, from: values.from, to: values.to },
    bar.update,
  );
  bar.done();
  if (!result.ok) return fail(`${result.error.message} (${result.error.code})`);
  await write(values.out, result.value.zip);
  const m = result.value.manifest;
  deps.out(
    `Wrote ${values.out}: ${result.value.zip.length} bytes, entries 1-${m.entries.last}, ${m.files.filter((f) => f.path.startsWith('checkpoints/')).length} checkpoint(s).`,
  );
  deps.out(`Pinned key fingerprint (SHA-256): ${m.pinnedKey}`);
  deps.out(`Verify offline: node verifier/verify.mjs ${values.out}`);
  return 0;
}

const PHASES: Readonly<Record<EvidenceProgress['phase'], string>> = {
  entries: 'Reading entries',
  history: 'Decrypting history',
  checkpoints: 'Checkpoints',
  zip: 'Writing ZIP',
};

/**
 * A progress bar redrawn in place on a terminal; elsewhere (a pipe, a CI log) one line per phase,
 * so logs are not flooded with carriage returns.
 */
export function progressBar(stream: ProgressStream): {
  update: (progress: EvidenceProgress) => void;
  done: () => void;
} {
  let phase: string | undefined;
  let drawn = false;
  return {
    update: (p) => {
      const label = PHASES[p.phase];
      if (!stream.isTTY) {
        if (phase !== p.phase) stream.write(`${label}...\n`);
        phase = p.phase;
        return;
      }
      phase = p.phase;
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 40));
      const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
      const filled = Math.round(ratio * width);
      stream.write(
        `\r${label.padEnd(20)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${p.done}/${p.total}\x1b[K`,
      );
      drawn = true;
    },
    done: () => {
      if (drawn) stream.write('\n');
    },
  };
}
