import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TableClient } from '@azure/data-tables';
import type { DataKeyring } from '../../application/ports/data-keyring';
import type { DataKey } from '../../domain/audit/personal-data';
import type { TenantId } from '../../domain/shared/ids';
import { readRow } from '../storage/table-connection';
import { isAlreadyExists, isEntityNotFound, toPortError } from '../storage/table-errors';
import { tenantKey } from '../storage/table-keys';

const ROW = 'datakey';

/**
 * Per-client AES-256 data keys in the keys table (sandbox; production keeps them in Key Vault).
 * @remarks Keys are cached for `cacheMs` so sealing does not cost a read per commit. `destroy` clears
 * this instance's cache at once; another instance may still use a destroyed key for up to `cacheMs`
 * (data it seals then is unreadable, never exposed).
 */
export class TableDataKeyring implements DataKeyring {
  private readonly cache = new Map<TenantId, { readonly key: DataKey; readonly until: number }>();

  constructor(
    private readonly table: TableClient,
    private readonly cacheMs = 30_000,
  ) {}

  async current(tenantId: TenantId): Promise<DataKey> {
    const known = await this.load(tenantId);
    if (known) return known;
    const fresh: DataKey = { kid: randomUUID(), key: randomBytes(32) };
    try {
      await this.table.createEntity({
        partitionKey: tenantKey(tenantId),
        rowKey: ROW,
        kid: fresh.kid,
        key: fresh.key.toString('base64'),
      });
      this.remember(tenantId, fresh);
      return fresh;
    } catch (error) {
      if (!isAlreadyExists(error)) throw toPortError(error, 'create data key');
    }
    const winner = await this.load(tenantId);
    if (!winner)
      throw new Error(`The data key of tenant ${tenantId} vanished while it was being created.`);
    return winner;
  }

  async find(tenantId: TenantId, kid: string): Promise<DataKey | undefined> {
    const key = await this.load(tenantId);
    return key?.kid === kid ? key : undefined;
  }

  async destroy(tenantId: TenantId): Promise<void> {
    this.cache.delete(tenantId);
    try {
      await this.table.deleteEntity(tenantKey(tenantId), ROW);
    } catch (error) {
      if (!isEntityNotFound(error)) throw toPortError(error, 'destroy data key');
    }
  }

  private async load(tenantId: TenantId): Promise<DataKey | undefined> {
    const cached = this.cache.get(tenantId);
    if (cached && cached.until > performance.now()) return cached.key;
    const row = await readRow(this.table, tenantKey(tenantId), ROW);
    if (!row || typeof row['kid'] !== 'string' || typeof row['key'] !== 'string') return undefined;
    const key: DataKey = { kid: row['kid'], key: Buffer.from(row['key'], 'base64') };
    this.remember(tenantId, key);
    return key;
  }

  private remember(tenantId: TenantId, key: DataKey): void {
    this.cache.set(tenantId, { key, until: performance.now() + this.cacheMs });
  }
}
