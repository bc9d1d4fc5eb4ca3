import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../domain/audit/audit-event';
import { validateChangeInput } from '../../domain/change-request/change-request.payloads';
import { ValidationError, type FieldIssue } from '../../domain/shared/errors';
import type { ObjectId } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';
import { INTEGRATION_OID_PREFIX, type Person } from '../../domain/shared/person';
import type { Receipt } from '../ports/change-request-store';
import { ConcurrencyError, ConflictError } from '../ports/errors';
import type {
  IdempotencyRecord,
  StoredIdempotencyRecord,
  WebhookKey,
  WebhookLedger,
} from '../ports/webhook-keys';
import type { UseCaseDeps } from './context';
import { raiseChange } from './submit-change';

/** Idempotency records older than this no longer bind their key: the next call runs afresh (Stripe: 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * An in-progress record this old belongs to a call that died (crash, lost storage) before finishing:
 * a retry may take it over. Safe because the request and the record's move to done commit together,
 * so an unfinished record means no request was created.
 */
export const IDEMPOTENCY_ABANDONED_MS = 60 * 1000;
/** Longest `submittedBy.name` kept, in characters. */
const MAX_NAME = 200;
/** What the requester is called when the payload names nobody. */
const DEFAULT_REQUESTER = 'Web form';

export interface WebhookIntakeDeps extends UseCaseDeps {
  readonly ledger: WebhookLedger;
}

/** A delivery whose signature already verified with the secret `kid` of `key`. */
export interface VerifiedDelivery {
  readonly key: WebhookKey;
  readonly kid: string;
  readonly deliveryId: string;
  readonly idempotencyKey?: string;
  readonly method: string;
  readonly path: string;
  readonly rawBody: Buffer;
  /** The body parsed as JSON (any value; the intake checks its shape). */
  readonly body: unknown;
}

/** What became of a delivery; the surface maps each kind to a status. */
export type WebhookOutcome =
  | {
      readonly kind: 'accepted';
      readonly requestId: string;
      readonly status: string;
      readonly replayed?: boolean;
    }
  | { readonly kind: 'duplicate'; readonly requestId: string; readonly status: string }
  | { readonly kind: 'invalid'; readonly issues: readonly FieldIssue[] }
  | {
      readonly kind: 'refused';
      readonly code: string;
      readonly message: string;
      readonly replayed?: boolean;
    }
  | { readonly kind: 'idempotency_mismatch' }
  | { readonly kind: 'in_progress' }
  | { readonly kind: 'unknown_client' };

export const sha256Hex = (data: string | Buffer): string =>
  createHash('sha256').update(data).digest('hex');

/**
 * Turns a verified delivery into a change request for the key's client, exactly once.
 * @remarks
 * - `Idempotency-Key` follows Stripe: the first call's outcome is stored and replayed for the same
 *   key and body; another body under the key → `idempotency_mismatch`; a call still running →
 *   `in_progress`; validation failures are not stored; records expire after 24 h.
 * - The delivery id receipt and the idempotency record's move to `done` are written in the same
 *   transaction as the request and its `webhook.accepted` audit entry, so a crash can neither
 *   create the request twice nor create it without its receipts.
 * - The tenant is the key's, never the payload's.
 */
export async function takeInWebhook(
  deps: WebhookIntakeDeps,
  delivery: VerifiedDelivery,
): Promise<WebhookOutcome> {
  const { tenantId } = delivery.key;
  const now = deps.clock.now();
  const fingerprint = sha256Hex(
    Buffer.concat([Buffer.from(`${delivery.method}\n${delivery.path}\n`), delivery.rawBody]),
  );
  const keyHash =
    delivery.idempotencyKey === undefined ? undefined : sha256Hex(delivery.idempotencyKey);
  let previous: StoredIdempotencyRecord | undefined;
  if (keyHash) {
    previous = await deps.ledger.idempotency(tenantId, keyHash);
    const settled = previous && judge(previous.record, fingerprint, now);
    if (settled) return settled;
  }
  const deliveryHash = sha256Hex(delivery.deliveryId);
  const earlier = await deps.ledger.delivery(tenantId, deliveryHash);
  if (earlier) return { kind: 'duplicate', requestId: earlier.requestId, status: earlier.status };

  const form = readForm(delivery.body, now);
  if ('issues' in form) return { kind: 'invalid', issues: form.issues };
  const stored = await deps.clients.get(tenantId);
  if (!stored) return { kind: 'unknown_client' };

  let etag: string | undefined;
  const began: IdempotencyRecord = {
    fingerprint,
    state: 'in_progress',
    createdAt: now.toISOString(),
  };
  if (keyHash) {
    try {
      etag = await deps.ledger.begin(tenantId, keyHash, began, previous?.etag);
    } catch (error) {
      if (!(error instanceof ConflictError || error instanceof ConcurrencyError)) throw error;
      const raced = await deps.ledger.idempotency(tenantId, keyHash);
      return (raced && judge(raced.record, fingerprint, now)) ?? { kind: 'in_progress' };
    }
  }

  const requester: Person = {
    tid: tenantId,
    oid: `${INTEGRATION_OID_PREFIX}${delivery.kid}` as ObjectId,
    name: form.name,
  };
  const at = now.toISOString();
  try {
    const result = await raiseChange(deps, {
      client: stored.profile,
      roles: new Set(),
      requester,
      source: 'webhook',
      type: form.type,
      fields: form.fields,
      alongside: (request) => {
        const accepted: JsonObject = {
          kind: 'accepted',
          requestId: request.id,
          status: request.status,
        };
        const receipts: Receipt[] = [
          {
            kind: 'webhook_delivery',
            id: deliveryHash,
            data: { requestId: request.id, status: request.status, at },
          },
        ];
        if (keyHash && etag)
          receipts.push({
            kind: 'idempotency',
            id: keyHash,
            etag,
            data: { ...began, state: 'done', outcome: accepted },
          });
        const event: AuditEvent = {
          type: 'webhook.accepted',
          actor: { tid: requester.tid, oid: requester.oid },
          requestId: request.id,
          payload: {
            kid: delivery.kid,
            clientKey: delivery.key.clientKey,
            // The surface admits only short ids of letters, digits and . _ : -, so it is no free text.
            deliveryId: delivery.deliveryId,
            ...(keyHash ? { idempotencyKeyHash: keyHash } : {}),
          },
          personal: { submittedBy: form.name },
        };
        return { audit: [event], receipts };
      },
    });
    if (result.ok)
      return {
        kind: 'accepted',
        requestId: result.value.request.id,
        status: result.value.request.status,
      };
    if (result.error instanceof ValidationError) {
      if (keyHash && etag) await deps.ledger.release(tenantId, keyHash, etag);
      return { kind: 'invalid', issues: result.error.issues };
    }
    const refused = {
      kind: 'refused',
      code: result.error.code,
      message: result.error.message,
    } as const;
    if (keyHash && etag)
      await deps.ledger.finish(tenantId, keyHash, etag, {
        ...began,
        state: 'done',
        outcome: refused,
      });
    return refused;
  } catch (error) {
    if (keyHash && etag) await deps.ledger.release(tenantId, keyHash, etag).catch(() => undefined);
    if (error instanceof ConflictError) {
      // Another instance took this delivery id in the meantime: it, not this call, created the request.
      const raced = await deps.ledger.delivery(tenantId, deliveryHash);
      if (raced) return { kind: 'duplicate', requestId: raced.requestId, status: raced.status };
    }
    if (error instanceof ConcurrencyError) return { kind: 'in_progress' };
    throw error;
  }
}

/** The stored answer for a record that still binds its key, or undefined when this call may run. */
function judge(
  record: IdempotencyRecord,
  fingerprint: string,
  now: Date,
): WebhookOutcome | undefined {
  const age = now.getTime() - Date.parse(record.createdAt);
  if (age > IDEMPOTENCY_TTL_MS) return undefined;
  if (record.fingerprint !== fingerprint) return { kind: 'idempotency_mismatch' };
  if (record.state === 'in_progress')
    return age > IDEMPOTENCY_ABANDONED_MS ? undefined : { kind: 'in_progress' };
  const outcome = record.outcome as WebhookOutcome | undefined;
  return outcome?.kind === 'accepted' || outcome?.kind === 'refused'
    ? { ...outcome, replayed: true }
    : undefined;
}

interface Form {
  readonly type: unknown;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly name: string;
}

const BODY_KEYS = new Set(['type', 'fields', 'submittedBy']);

/**
 * The envelope `{ type, fields, submittedBy?: { name? } }`; the fields themselves are checked
 * against the type's schema by raising, which lists every bad field.
 */
function readForm(body: unknown, now: Date): Form | { readonly issues: FieldIssue[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { issues: [{ field: '(body)', message: 'must be a JSON object' }] };
  const raw = body as Record<string, unknown>;
  const issues: FieldIssue[] = Object.keys(raw)
    .filter((k) => !BODY_KEYS.has(k))
    .map((k) => ({ field: k, message: 'is not a known field (type, fields, submittedBy)' }));
  const fields = raw['fields'];
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    issues.push({ field: 'fields', message: 'must be an object with the form fields' });
  const by = raw['submittedBy'];
  let name = DEFAULT_REQUESTER;
  if (by !== undefined) {
    const given =
      typeof by === 'object' && by !== null ? (by as Record<string, unknown>)['name'] : by;
    if (typeof given !== 'string' || given.trim() === '' || given.length > MAX_NAME)
      issues.push({
        field: 'submittedBy.name',
        message: `must be a non-empty string of at most ${MAX_NAME} characters`,
      });
    else name = given.trim();
  }
  if (typeof fields === 'object' && fields !== null && !Array.isArray(fields)) {
    const form = validateChangeInput(raw['type'], fields as Record<string, unknown>, {
      today: now.toISOString().slice(0, 10),
    });
    if (!form.ok) issues.push(...(form.error instanceof ValidationError ? form.error.issues : []));
  }
  if (issues.length > 0) return { issues };
  return { type: raw['type'], fields: fields as Record<string, unknown>, name };
}
