import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SandboxReply, SandboxRequest } from './psa-sandbox-http';

/**
 * A sandbox PSA's tickets, notes, id counters and generated secrets kept in a JSON file, so a
 * restarted sandbox still has the tickets Cabinet's persisted requests link to and still accepts
 * the credentials Cabinet was given.
 */
export interface SandboxStateFile<T> {
  /** What the file held at start, or undefined (no file, unreadable, or another PSA's/version's). */
  readonly loaded: T | undefined;
  /** Writes the state now; a failure is logged, never thrown. */
  save(): void;
}

const STATE_VERSION = 1;

interface Stored {
  readonly version: number;
  readonly kind: string;
  readonly state: unknown;
}

/**
 * Opens `path` (when given) for the sandbox PSA `kind`; `snapshot` yields what to write.
 * @remarks Written after every change, atomically (temporary file + rename), so a killed process
 * loses nothing it answered. A failed write must not fail the call whose change it records (the
 * change is applied in memory) nor `close()`; it is written again with the next change.
 */
export function openSandboxState<T>(
  path: string | undefined,
  kind: string,
  snapshot: () => T,
  log: (line: string) => void,
): SandboxStateFile<T> {
  return {
    loaded: path === undefined ? undefined : readState<T>(path, kind, log),
    save: () => {
      if (path === undefined) return;
      try {
        mkdirSync(dirname(path), { recursive: true });
        const stored: Stored = { version: STATE_VERSION, kind, state: snapshot() };
        const temporary = `${path}.${process.pid}.tmp`;
        writeFileSync(temporary, JSON.stringify(stored));
        renameSync(temporary, path);
      } catch (error) {
        log(
          `${kind} sandbox: could not write ${path}; the state in memory is unaffected and is written again with the next change: ${describe(error)}`,
        );
      }
    },
  };
}

/**
 * The router with a save after every call that may change data (what the chaos knobs count as
 * changing: anything but GET/HEAD), before the reply is sent, so a dropped response still leaves
 * the change on disk as it leaves it in memory.
 */
export function savingAfterChanges(
  route: (request: SandboxRequest) => SandboxReply | Promise<SandboxReply>,
  state: SandboxStateFile<unknown>,
): (request: SandboxRequest) => Promise<SandboxReply> {
  return async (request) => {
    const reply = await route(request);
    if (request.method !== 'GET' && request.method !== 'HEAD') state.save();
    return reply;
  };
}

function readState<T>(path: string, kind: string, log: (line: string) => void): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Stored;
    if (stored.version === STATE_VERSION && stored.kind === kind) return stored.state as T;
    log(
      `${kind} sandbox: ${path} holds another state (${stored.kind} v${stored.version}); starting empty`,
    );
  } catch (error) {
    log(`${kind} sandbox: could not read ${path} (${describe(error)}); starting empty`);
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
