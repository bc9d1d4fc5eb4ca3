import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../src/application/ports/audit-log';
import type {
  ChangeRequestStore,
  ChangeRequestWrite,
} from '../../src/application/ports/change-request-store';
import type { ClientDirectory } from '../../src/application/ports/client-directory';
import type { ConversationStore } from '../../src/application/ports/conversation-store';
import type { DataKeyring } from '../../src/application/ports/data-keyring';
import type { OutboxMessage, OutboxStore } from '../../src/application/ports/outbox';
import type { AuditEvent, AuditEventType } from '../../src/domain/audit/audit-event';
import type { ClientProfile } from '../../src/domain/client/client';
import type { ChangeRequest, Person } from '../../src/domain/change-request/change-request';
import {
  formatRequestId,
  type ClientCode,
  type ObjectId,
  type TenantId,
} from '../../src/domain/shared/ids';
import type { JsonObject } from '../../src/domain/shared/json';
import type { FakeClock } from '../fakes/in-memory-storage';

/** The storage ports a contract suite exercises, sharing one set of partitions and one clock. */
export interface StorageUnderTest {
  readonly requests: ChangeRequestStore;
  readonly audit: AuditLog;
  readonly clients: ClientDirectory;
  readonly outbox: OutboxStore;
  readonly conversations: ConversationStore;
  readonly keyring: DataKeyring;
  readonly clock: FakeClock;
}

/** Makes a fresh, empty storage for one test. */
export type MakeStorage = () => Promise<StorageUnderTest>;

export const newTenant = (): TenantId => randomUUID() as TenantId;
export const newOid = (): ObjectId => randomUUID() as ObjectId;

export function person(tid: TenantId, name = 'Pat Person'): Person {
  return { tid, oid: newOid(), name };
}

let codes = 0;
/** A client code no other test uses. */
export function newCode(): ClientCode {
  codes += 1;
  return `C${randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase()}${codes}`.slice(
    0,
    16,
  ) as ClientCode;
}

export function profile(tenantId: TenantId, overrides: Partial<ClientProfile> = {}): ClientProfile {
  return {
    tenantId,
    code: newCode(),
    name: 'Client Ltd',
    admins: [person(tenantId, 'Ada Admin')],
    approvers: [person(tenantId, 'Apu Approver')],
    techs: [],
    leads: [],
    settings: { timeZone: 'Europe/London' },
    ...overrides,
  };
}

export function request(
  tenantId: TenantId,
  number: number,
  overrides: Partial<ChangeRequest> = {},
): ChangeRequest {
  const clientCode = (overrides.clientCode ?? 'CONTOSO') as ClientCode;
  return {
    id: formatRequestId(clientCode, number),
    number,
    tenantId,
    clientCode,
    type: 'general',
    changeClass: 'normal',
    title: `Change ${number}`,
    description: 'Replace the office printer.',
    payload: { affectedSystems: 'printers' },
    requester: {
      tid: tenantId,
      oid: '5a5a5a5a-0000-4000-8000-000000000001' as ObjectId,
      name: 'Rita Requester',
    },
    source: 'teams',
    status: 'submitted',
    version: 1,
    createdAt: '2026-11-23T09:00:00.000Z',
    updatedAt: '2026-11-23T09:00:00.000Z',
    ...overrides,
  };
}

export function event(
  tenantId: TenantId,
  payload: JsonObject = {},
  personal?: JsonObject,
  type: AuditEventType = 'request.submitted',
): AuditEvent {
  return {
    type,
    actor: { tid: tenantId, oid: '5a5a5a5a-0000-4000-8000-000000000001' },
    requestId: null,
    payload,
    ...(personal ? { personal } : {}),
  };
}

export function notify(
  tenantId: TenantId,
  requestId: string,
  oid: ObjectId = newOid(),
): OutboxMessage {
  return {
    kind: 'teams.notify',
    recipient: { tid: tenantId, oid },
    notification: { template: 'status_update', requestId, version: 1 },
  };
}

/** A request write with one audit event and optionally outbox messages. */
export function write(
  req: ChangeRequest,
  outbox: readonly OutboxMessage[] = [],
  payload: JsonObject = { id: req.id },
): ChangeRequestWrite {
  return { request: req, audit: [event(req.tenantId, payload)], outbox };
}

/** The rejection of `promise`, failing the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
