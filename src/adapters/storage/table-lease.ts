import type { TableClient } from '@azure/data-tables';
import type { Lease } from '../../application/ports/lease';
import { readRow } from './table-connection';
import { isAlreadyExists, isPreconditionFailure, toPortError } from './table-errors';
import { InvalidStorageKeyError } from './table-keys';

/** All leases share one partition: there are a handful, read one at a time by name. */
const PARTITION = 'lease';
/** Lease names are Cabinet's own constants (`sla-sweeper`), never user input. */
const LEASE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Leases as rows of the `<prefix>leases` table (`lease` / name → holder, expiresAt). Every change is
 * an insert or an ETag-guarded write, so of two instances racing for a free or lapsed lease exactly
 * one wins; the loser sees 409/412 and is told no.
 */
export class TableLease implements Lease {
  constructor(private readonly table: TableClient) {}

  async tryAcquire(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    const rowKey = leaseKey(name);
    const fields = { holder, expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
    const current = await readRow(this.table, PARTITION, rowKey);
    try {
      if (!current) {
        await this.table.createEntity({ partitionKey: PARTITION, rowKey, ...fields });
        return true;
      }
      const expiresAt = typeof current['expiresAt'] === 'string' ? current['expiresAt'] : '';
      if (current['holder'] !== holder && expiresAt > now.toISOString()) return false;
      await this.table.updateEntity({ partitionKey: PARTITION, rowKey, ...fields }, 'Replace', {
        etag: current.etag,
      });
      return true;
    } catch (error) {
      if (isAlreadyExists(error) || isPreconditionFailure(error)) return false;
      throw toPortError(error, 'acquire lease');
    }
  }

  async renew(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    const rowKey = leaseKey(name);
    const current = await readRow(this.table, PARTITION, rowKey);
    // A lapsed lease nobody took since is still ours to extend: no one else can have worked meanwhile.
    if (!current || current['holder'] !== holder) return false;
    try {
      await this.table.updateEntity(
        {
          partitionKey: PARTITION,
          rowKey,
          holder,
          expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
        },
        'Replace',
        { etag: current.etag },
      );
      return true;
    } catch (error) {
      if (isPreconditionFailure(error)) return false;
      throw toPortError(error, 'renew lease');
    }
  }

  async release(name: string, holder: string): Promise<void> {
    const rowKey = leaseKey(name);
    const current = await readRow(this.table, PARTITION, rowKey);
    if (!current || current['holder'] !== holder) return;
    try {
      await this.table.deleteEntity(PARTITION, rowKey, { etag: current.etag });
    } catch (error) {
      // Someone took it over (or it is gone) meanwhile: nothing of ours left to give up.
      if (!isPreconditionFailure(error)) throw toPortError(error, 'release lease');
    }
  }
}

function leaseKey(name: string): string {
  if (!LEASE_NAME.test(name)) throw new InvalidStorageKeyError('lease name');
  return name;
}
