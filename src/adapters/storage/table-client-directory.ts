import { odata, type TableClient } from '@azure/data-tables';
import { sealEvents } from '../../application/audit/seal-events';
import type {
  ClientDirectory,
  StoredClientProfile,
} from '../../application/ports/client-directory';
import type { DataKeyring } from '../../application/ports/data-keyring';
import { ConcurrencyError, ConflictError } from '../../application/ports/errors';
import type { AuditEvent } from '../../domain/audit/audit-event';
import type { ClientProfile } from '../../domain/client/client';
import type { ClientCode, ObjectId, TenantId } from '../../domain/shared/ids';
import type { PartitionCommitter } from './partition-committer';
import { readRow } from './table-connection';
import { jsonProperties, profileEntity, readJson, readStoredProfile } from './table-entity.mapper';
import { guarded, isAlreadyExists, toPortError } from './table-errors';
import { clientCodeKey, RowKeys, tenantKey } from './table-keys';

/** Directory partitions: one row per client, and one per code (which makes codes unique). */
const CLIENT_PARTITION = 'client';
const CODE_PARTITION = 'code';

interface IndexRow {
  readonly tenantId: TenantId;
  readonly staff: readonly string[];
}

/**
 * Client profiles live in the client's own partition (saved with their audit entries); the
 * directory table is a derived MSP-wide index written after that commit.
 * @remarks Code uniqueness: the `code` row is inserted first and removed again if the profile
 * cannot be written. If a process dies between the two, the same tenant can reclaim its code on
 * a retry; `update` re-writes the `client` row, which repairs a missing index entry.
 */
export class TableClientDirectory implements ClientDirectory {
  constructor(
    private readonly data: TableClient,
    private readonly directory: TableClient,
    private readonly committer: PartitionCommitter,
    private readonly keyring: DataKeyring,
  ) {}

  async get(tenantId: TenantId): Promise<StoredClientProfile | undefined> {
    const row = await readRow(this.data, tenantKey(tenantId), RowKeys.profile);
    return row ? readStoredProfile(row) : undefined;
  }

  async getByCode(code: ClientCode): Promise<StoredClientProfile | undefined> {
    const row = await readRow(this.directory, CODE_PARTITION, clientCodeKey(code));
    const tenantId = row?.['tenantId'];
    if (typeof tenantId !== 'string') return undefined;
    const stored = await this.get(tenantId as TenantId);
    return stored?.profile.code === code ? stored : undefined;
  }

  async list(): Promise<ClientProfile[]> {
    return this.profiles(await this.index());
  }

  async forStaff(mspTenantId: TenantId, oid: ObjectId): Promise<ClientProfile[]> {
    const person = staffKey(mspTenantId, oid);
    return this.profiles((await this.index()).filter((row) => row.staff.includes(person)));
  }

  async create(profile: ClientProfile, audit: readonly AuditEvent[]): Promise<StoredClientProfile> {
    const partition = tenantKey(profile.tenantId);
    if (await this.get(profile.tenantId))
      throw new ConflictError(`Tenant ${profile.tenantId} is already a client.`);
    const reservation = await this.reserveCode(profile.code, profile.tenantId);
    try {
      const events = await sealEvents(profile.tenantId, audit, this.keyring);
      const result = await this.committer.commit(profile.tenantId, () => ({
        ops: [
          {
            kind: 'create',
            entity: profileEntity(profile),
            onConflict: 'conflict',
            conflictMessage: `Tenant ${partition} is already a client.`,
          },
        ],
        events,
        outbox: [],
      }));
      await this.writeIndex(profile);
      return { profile: structuredClone(profile), etag: result.etags.get(RowKeys.profile)! };
    } catch (error) {
      await this.releaseCode(reservation);
      throw error;
    }
  }

  async update(
    profile: ClientProfile,
    etag: string,
    audit: readonly AuditEvent[],
  ): Promise<StoredClientProfile> {
    const current = await this.get(profile.tenantId);
    if (!current || current.etag !== etag) throw new ConcurrencyError();
    const previousCode = current.profile.code;
    const reservation =
      previousCode === profile.code
        ? undefined
        : await this.reserveCode(profile.code, profile.tenantId);
    let result;
    try {
      const events = await sealEvents(profile.tenantId, audit, this.keyring);
      result = await this.committer.commit(profile.tenantId, () => ({
        ops: [{ kind: 'update', entity: profileEntity(profile), etag, onConflict: 'concurrency' }],
        events,
        outbox: [],
      }));
    } catch (error) {
      await this.releaseCode(reservation);
      throw error;
    }
    if (reservation) await this.releaseCode({ code: previousCode, etag: '*' });
    await this.writeIndex(profile);
    return { profile: structuredClone(profile), etag: result.etags.get(RowKeys.profile)! };
  }

  /** Inserts the code row; ConflictError if another tenant holds the code. */
  private async reserveCode(
    code: ClientCode,
    tenantId: TenantId,
  ): Promise<{ readonly code: string; readonly etag: string } | undefined> {
    const rowKey = clientCodeKey(code);
    try {
      const created = await this.directory.createEntity({
        partitionKey: CODE_PARTITION,
        rowKey,
        tenantId,
      });
      return { code: rowKey, etag: created.etag ?? '*' };
    } catch (error) {
      if (!isAlreadyExists(error)) throw toPortError(error, `reserve client code ${rowKey}`);
    }
    const holder = await readRow(this.directory, CODE_PARTITION, rowKey);
    if (holder?.['tenantId'] === tenantId) return undefined;
    throw new ConflictError(`Client code ${rowKey} is already taken.`);
  }

  /** Best effort: a leftover code row only blocks that code, and its own tenant can reclaim it. */
  private async releaseCode(
    reservation: { readonly code: string; readonly etag: string } | undefined,
  ): Promise<void> {
    if (!reservation) return;
    await this.directory
      .deleteEntity(CODE_PARTITION, reservation.code, { etag: reservation.etag })
      .catch(() => undefined);
  }

  private writeIndex(profile: ClientProfile): Promise<void> {
    const staff = [...profile.techs, ...profile.leads].map((p) => staffKey(p.tid, p.oid));
    return guarded('write client index', async () => {
      await this.directory.upsertEntity(
        {
          partitionKey: CLIENT_PARTITION,
          rowKey: tenantKey(profile.tenantId),
          code: profile.code,
          name: profile.name,
          ...jsonProperties(staff),
        },
        'Replace',
      );
    });
  }

  private index(): Promise<IndexRow[]> {
    return guarded('list clients', async () => {
      const rows: IndexRow[] = [];
      const query = this.directory.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${CLIENT_PARTITION}` },
      });
      for await (const row of query)
        rows.push({ tenantId: String(row.rowKey) as TenantId, staff: readJson<string[]>(row) });
      return rows;
    });
  }

  private async profiles(rows: readonly IndexRow[]): Promise<ClientProfile[]> {
    const found = await Promise.all(rows.map((row) => this.get(row.tenantId)));
    return found
      .filter((stored) => stored !== undefined)
      .map((stored) => stored.profile)
      .sort((a, b) => a.code.localeCompare(b.code));
  }
}

function staffKey(tid: string, oid: string): string {
  return `${tid}|${oid}`;
}
