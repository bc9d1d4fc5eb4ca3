import type { TableClient } from '@azure/data-tables';
import type { DataKeyring } from '../../application/ports/data-keyring';
import {
  PasswordUnreadableError,
  type PasswordVault,
} from '../../application/ports/execution-store';
import { parseRunId, type RunId } from '../../domain/execution/execution-run';
import type { TenantId } from '../../domain/shared/ids';
import type { Secret } from '../../domain/shared/secret';
import { openPassword, sealPassword, type SealedPassword } from '../crypto/password-seal';
import { readRow } from './table-connection';
import type { ReadRow } from './table-entity.mapper';
import { isAlreadyExists, isPreconditionFailure, toPortError } from './table-errors';
import { passwordRowKey, tenantKey } from './table-keys';

/** A keep that keeps finding the row gone between its insert and its read gives up after this many tries. */
const KEEP_TRIES = 3;

/**
 * Temporary passwords in the client's partition at `pw_{request number}_{run number}`: AES-256-GCM
 * ciphertext under the client's data key (bound to tenant and run), never the clear text.
 * @remarks `take` deletes under `If-Match` before it opens, so of any number of concurrent callers
 * exactly one gets the password. Destroying the client's data key makes a kept password
 * unreadable: it is then reported as unavailable, `take` answers `expired` and removes it.
 */
export class TablePasswordVault implements PasswordVault {
  constructor(
    private readonly table: TableClient,
    private readonly keyring: DataKeyring,
  ) {}

  async keep(tenantId: TenantId, runId: RunId, password: Secret, expiresAt: Date): Promise<Secret> {
    const rowKey = this.rowKey(runId);
    if (!rowKey) throw new Error(`Refusing to keep a password for invalid run id ${runId}.`);
    const partitionKey = tenantKey(tenantId);
    const key = await this.keyring.current(tenantId);
    for (let attempt = 0; attempt < KEEP_TRIES; attempt += 1) {
      try {
        await this.table.createEntity({
          partitionKey,
          rowKey,
          ...sealPassword(password, key, tenantId, runId),
          expiresAt: expiresAt.toISOString(),
        });
        return password;
      } catch (error) {
        if (!isAlreadyExists(error)) throw toPortError(error, 'keep a temporary password');
      }
      const existing = await readRow(this.table, partitionKey, rowKey);
      if (existing) {
        const secret = await this.open(tenantId, runId, existing);
        if (!secret) throw new PasswordUnreadableError(runId);
        return secret;
      }
    }
    throw new Error(
      `The temporary password of run ${runId} kept being taken while it was being kept; try again.`,
    );
  }

  async available(tenantId: TenantId, runId: RunId, now: Date): Promise<boolean> {
    const rowKey = this.rowKey(runId);
    if (!rowKey) return false;
    const row = await readRow(this.table, tenantKey(tenantId), rowKey);
    if (!row || isExpired(row, now)) return false;
    return (await this.keyring.find(tenantId, sealedOf(row).kid)) !== undefined;
  }

  async take(tenantId: TenantId, runId: RunId, now: Date): Promise<Secret | 'expired' | undefined> {
    const rowKey = this.rowKey(runId);
    if (!rowKey) return undefined;
    const partitionKey = tenantKey(tenantId);
    const row = await readRow(this.table, partitionKey, rowKey);
    if (!row) return undefined;
    try {
      await this.table.deleteEntity(partitionKey, rowKey, { etag: row.etag });
    } catch (error) {
      if (isPreconditionFailure(error)) return undefined;
      throw toPortError(error, 'take a temporary password');
    }
    if (isExpired(row, now)) return 'expired';
    return (await this.open(tenantId, runId, row)) ?? 'expired';
  }

  async discard(tenantId: TenantId, runId: RunId): Promise<void> {
    const rowKey = this.rowKey(runId);
    if (!rowKey) return;
    try {
      await this.table.deleteEntity(tenantKey(tenantId), rowKey);
    } catch (error) {
      if (!isPreconditionFailure(error)) throw toPortError(error, 'discard a temporary password');
    }
  }

  private rowKey(runId: RunId): string | undefined {
    const parsed = parseRunId(runId);
    return parsed ? passwordRowKey(parsed.requestNumber, parsed.runNumber) : undefined;
  }

  private async open(tenantId: TenantId, runId: RunId, row: ReadRow): Promise<Secret | undefined> {
    const sealed = sealedOf(row);
    const key = await this.keyring.find(tenantId, sealed.kid);
    return key ? openPassword(sealed, key, tenantId, runId) : undefined;
  }
}

function isExpired(row: ReadRow, now: Date): boolean {
  const expiresAt = row['expiresAt'];
  return typeof expiresAt !== 'string' || now.toISOString() >= expiresAt;
}

function sealedOf(row: ReadRow): SealedPassword {
  const [kid, iv, ct, tag] = ['kid', 'iv', 'ct', 'tag'].map((name) => {
    const value = row[name];
    if (typeof value !== 'string')
      throw new TypeError(`Stored password row ${String(row.rowKey)} lacks ${name}.`);
    return value;
  });
  return { kid: kid!, iv: iv!, ct: ct!, tag: tag! };
}
