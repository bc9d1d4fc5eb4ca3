import { createHash } from 'node:crypto';
import { asTemplateId } from '../../domain/catalogue/template';
import { asClientCode, asObjectId, asTenantId } from '../../domain/shared/ids';

/**
 * A storage key was about to be built from a value that is not a validated identifier.
 * @remarks Keys never carry raw user strings (DESIGN.md §4): a refusal here is a bug upstream, not a user error.
 */
export class InvalidStorageKeyError extends Error {
  constructor(what: string) {
    super(`Refusing to build a storage key from an invalid ${what}.`);
    this.name = 'InvalidStorageKeyError';
  }
}

/** Row kinds in a client's partition, told apart by RowKey prefix (DESIGN.md §4). */
export const RowKeys = {
  counter: 'n',
  profile: 'profile',
  head: 'h',
  requestPrefix: 'r_',
  entryPrefix: 'e_',
  outboxPrefix: 'o_',
  runPrefix: 'x_',
  passwordPrefix: 'pw_',
  delegationPrefix: 'dl_',
  templatePrefix: 'tp_',
  activationPrefix: 'ta_',
  suggestionPrefix: 'ts_',
  webhookDeliveryPrefix: 'wd_',
  idempotencyPrefix: 'ik_',
  webhookKey: 'wk',
} as const;

const OUTBOX_ID = /^[0-9]{13}-[0-9a-f]{12}$/;
const MAX_REQUEST_NUMBER = 9_999_999_999;
const MAX_RUN_NUMBER = 9_999;

/** The PartitionKey of a client's data: its tenant id, which must already be a lowercase GUID. */
export function tenantKey(tenantId: string): string {
  if (asTenantId(tenantId) !== tenantId) throw new InvalidStorageKeyError('tenant id');
  return tenantId;
}

/** Entra object ids are GUIDs; anything else never reaches a key. */
export function objectIdKey(oid: string): string {
  if (asObjectId(oid) !== oid) throw new InvalidStorageKeyError('object id');
  return oid;
}

/** Client codes are already upper-case letters and digits; anything else never reaches a key. */
export function clientCodeKey(code: string): string {
  if (asClientCode(code) !== code) throw new InvalidStorageKeyError('client code');
  return code;
}

/** `r_` + 10-digit number, so RowKey order is request order. */
export function requestRowKey(number: number): string {
  if (!Number.isSafeInteger(number) || number < 1 || number > MAX_REQUEST_NUMBER)
    throw new InvalidStorageKeyError('request number');
  return `${RowKeys.requestPrefix}${String(number).padStart(10, '0')}`;
}

/** `<10-digit request number>_<4-digit run number>`: a run's own key, shared by its rows. */
function runKey(requestNumber: number, runNumber: number): string {
  if (!Number.isSafeInteger(runNumber) || runNumber < 1 || runNumber > MAX_RUN_NUMBER)
    throw new InvalidStorageKeyError('run number');
  return `${requestRowKey(requestNumber).slice(RowKeys.requestPrefix.length)}_${String(runNumber).padStart(4, '0')}`;
}

/** `x_` + request and run number, so a request's runs sit together in run order. */
export function runRowKey(requestNumber: number, runNumber: number): string {
  return `${RowKeys.runPrefix}${runKey(requestNumber, runNumber)}`;
}

/** The RowKey range of every run of one request. */
export function runRangeOfRequest(requestNumber: number): {
  readonly from: string;
  readonly to: string;
} {
  return prefixRange(`${runRowKey(requestNumber, 1).slice(0, -4)}`);
}

/** `pw_` + the run's key: the temporary password a run keeps for a new user. */
export function passwordRowKey(requestNumber: number, runNumber: number): string {
  return `${RowKeys.passwordPrefix}${runKey(requestNumber, runNumber)}`;
}

/** Zero-padded so that lexical RowKey order is chain order. */
export function entryRowKey(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw new InvalidStorageKeyError('audit sequence number');
  return `${RowKeys.entryPrefix}${String(seq).padStart(16, '0')}`;
}

/** The position an entry row sits at, which is what verification trusts (not a property). */
export function seqFromEntryRowKey(rowKey: string): number {
  return Number(rowKey.slice(RowKeys.entryPrefix.length));
}

/** Outbox ids are time-ordered (13-digit milliseconds) plus 48 random bits, so RowKey order is creation order. */
export function isOutboxId(id: string): boolean {
  return OUTBOX_ID.test(id);
}

/** `o_` + a validated outbox id. */
export function outboxRowKey(id: string): string {
  if (!isOutboxId(id)) throw new InvalidStorageKeyError('outbox id');
  return `${RowKeys.outboxPrefix}${id}`;
}

/** The outbox id a row key carries. */
export function outboxIdFromRowKey(rowKey: string): string {
  return rowKey.slice(RowKeys.outboxPrefix.length);
}

/** Delegation ids are time-ordered like outbox ids, so RowKey order is creation order. */
export function delegationRowKey(id: string): string {
  if (!isOutboxId(id)) throw new InvalidStorageKeyError('delegation id');
  return `${RowKeys.delegationPrefix}${id}`;
}

/** `u_` + the person's object id. */
export function conversationRowKey(oid: string): string {
  return `u_${objectIdKey(oid)}`;
}

/** Card keys are caller-chosen strings, so only their hash enters the key. */
export function cardRowKey(oid: string, cardKey: string): string {
  return `card_${objectIdKey(oid)}_${createHash('sha256').update(cardKey, 'utf8').digest('hex')}`;
}

/** The RowKey range holding every key with `prefix`: [prefix, prefix with its last character bumped). */
export function prefixRange(prefix: string): { readonly from: string; readonly to: string } {
  const last = prefix.charCodeAt(prefix.length - 1);
  return { from: prefix, to: `${prefix.slice(0, -1)}${String.fromCharCode(last + 1)}` };
}

/** `tp_` + the template's slug: a template in the MSP's partition (global) or its client's. */
export function templateRowKey(id: string): string {
  if (asTemplateId(id) !== id) throw new InvalidStorageKeyError('template id');
  return `${RowKeys.templatePrefix}${id}`;
}

/** `ta_` + the template's slug: a client's activation of that template, in the client's partition. */
export function activationRowKey(templateId: string): string {
  return `${RowKeys.activationPrefix}${templateRowKey(templateId).slice(RowKeys.templatePrefix.length)}`;
}

/** `ts_` + the hash of a promotion suggestion's key (which holds SKU and group names). */
export function suggestionRowKey(key: string): string {
  return `${RowKeys.suggestionPrefix}${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** `wd_`/`ik_` + a SHA-256 in hex: receipts never key on the caller's raw strings. */
export function receiptRowKey(kind: 'webhook_delivery' | 'idempotency', id: string): string {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new InvalidStorageKeyError('receipt id');
  return `${kind === 'webhook_delivery' ? RowKeys.webhookDeliveryPrefix : RowKeys.idempotencyPrefix}${id}`;
}
