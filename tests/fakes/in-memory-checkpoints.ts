import { randomUUID } from 'node:crypto';
import {
  CheckpointConflictError,
  type AnchorRecord,
  type Checkpoint,
  type CheckpointAnchor,
  type CheckpointStore,
  type ListCheckpointsOptions,
  type StoredCheckpoint,
} from '../../src/application/ports/checkpoints';
import type { OutboxMessage } from '../../src/application/ports/outbox';
import type { TenantId } from '../../src/domain/shared/ids';
import type { InMemoryPartitions } from './in-memory-storage';

/** Checkpoints beside the in-memory partitions; witness rows land through the same atomic commit. */
export class InMemoryCheckpointStore implements CheckpointStore {
  private readonly rows = new Map<TenantId, Map<number, StoredCheckpoint>>();
  private readonly signatures = new Map<TenantId, Map<string, string>>();

  constructor(private readonly data: InMemoryPartitions) {}

  save(tenantId: TenantId, checkpoint: Checkpoint): Promise<StoredCheckpoint> {
    const rows = this.of(tenantId);
    const stored = rows.get(checkpoint.size);
    if (stored && stored.root !== checkpoint.root)
      return Promise.reject(
        new CheckpointConflictError(tenantId, checkpoint.size, stored.root, checkpoint.root),
      );
    if (stored) return Promise.resolve(stored);
    const fresh: StoredCheckpoint = { ...checkpoint, witnessed: false, etag: randomUUID() };
    rows.set(checkpoint.size, fresh);
    return Promise.resolve(fresh);
  }

  get(tenantId: TenantId, size: number): Promise<StoredCheckpoint | undefined> {
    return Promise.resolve(this.of(tenantId).get(size));
  }

  list(tenantId: TenantId, options: ListCheckpointsOptions = {}): Promise<StoredCheckpoint[]> {
    const upTo = options.upToSize ?? Number.POSITIVE_INFINITY;
    return Promise.resolve(
      [...this.of(tenantId).values()].filter((c) => c.size <= upTo).sort((a, b) => a.size - b.size),
    );
  }

  async latest(tenantId: TenantId): Promise<StoredCheckpoint | undefined> {
    return (await this.list(tenantId)).at(-1);
  }

  async markWitnessed(
    tenantId: TenantId,
    checkpoint: StoredCheckpoint,
    witness: readonly OutboxMessage[],
  ): Promise<boolean> {
    const rows = this.of(tenantId);
    if (rows.get(checkpoint.size)?.etag !== checkpoint.etag) return false;
    await this.data.commit(tenantId, [], witness, () => {
      rows.set(checkpoint.size, { ...checkpoint, witnessed: true, etag: randomUUID() });
    });
    return true;
  }

  getSignature(tenantId: TenantId, sha256hex: string): Promise<string | undefined> {
    return Promise.resolve(this.signatures.get(tenantId)?.get(sha256hex));
  }

  putSignature(tenantId: TenantId, sha256hex: string, signature: string): Promise<string> {
    const byHash = this.signatures.get(tenantId) ?? new Map<string, string>();
    this.signatures.set(tenantId, byHash);
    const stored = byHash.get(sha256hex) ?? signature;
    byHash.set(sha256hex, stored);
    return Promise.resolve(stored);
  }

  private of(tenantId: TenantId): Map<number, StoredCheckpoint> {
    const rows = this.rows.get(tenantId) ?? new Map<number, StoredCheckpoint>();
    this.rows.set(tenantId, rows);
    return rows;
  }
}

/** Anchor lines per tenant, append-only, one per size. */
export class InMemoryCheckpointAnchor implements CheckpointAnchor {
  private readonly lines = new Map<TenantId, AnchorRecord[]>();

  append(tenantId: TenantId, record: AnchorRecord): Promise<void> {
    const lines = this.lines.get(tenantId) ?? [];
    this.lines.set(tenantId, lines);
    const existing = lines.find((r) => r.size === record.size);
    if (existing && (existing.root !== record.root || existing.noteSha256 !== record.noteSha256))
      return Promise.reject(
        new CheckpointConflictError(tenantId, record.size, existing.root, record.root),
      );
    if (!existing) lines.push({ ...record });
    return Promise.resolve();
  }

  list(tenantId: TenantId): Promise<AnchorRecord[]> {
    return Promise.resolve([...(this.lines.get(tenantId) ?? [])]);
  }
}
