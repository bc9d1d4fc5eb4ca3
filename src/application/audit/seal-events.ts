import { randomBytes } from 'node:crypto';
import type { ChainableEvent } from '../../domain/audit/audit-chain';
import type { AuditEvent } from '../../domain/audit/audit-event';
import {
  openPersonalData,
  isSealedPersonalData,
  sealPersonalData,
} from '../../domain/audit/personal-data';
import type { StoredAuditEntry } from '../../domain/audit/audit-chain';
import type { TenantId } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';
import type { DataKeyring } from '../ports/data-keyring';

/**
 * Turns audit events into chainable form: personal data is sealed with the client's data key and
 * placed in `payload.personal`, so the chain hash covers ciphertext only.
 */
export async function sealEvents(
  tenantId: TenantId,
  events: readonly AuditEvent[],
  keyring: DataKeyring,
): Promise<ChainableEvent[]> {
  const needsKey = events.some((e) => e.personal !== undefined);
  const key = needsKey ? await keyring.current(tenantId) : undefined;
  return events.map((e) => ({
    type: e.type,
    actor: { tid: e.actor.tid, oid: e.actor.oid },
    requestId: e.requestId,
    payload:
      e.personal && key
        ? { ...e.payload, personal: sealPersonalData(e.personal, key, randomBytes(12), tenantId) }
        : e.payload,
  }));
}

/** The entry's personal data in clear; undefined if it has none or the key is gone. */
export async function openEntryPersonalData(
  tenantId: TenantId,
  entry: StoredAuditEntry,
  keyring: DataKeyring,
): Promise<JsonObject | undefined> {
  const parsed = JSON.parse(entry.canonical) as { payload?: { personal?: unknown } };
  const sealed = parsed.payload?.personal;
  if (!isSealedPersonalData(sealed)) return undefined;
  const key = await keyring.find(tenantId, sealed.kid);
  return key ? openPersonalData(sealed, key, tenantId) : undefined;
}
