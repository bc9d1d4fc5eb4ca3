import type { AuditActor } from '../../domain/audit/audit-event';
import { rolesFor, type ClientProfile } from '../../domain/client/client';
import { DomainError, ValidationError } from '../../domain/shared/errors';
import { asClientCode, asTenantId } from '../../domain/shared/ids';
import type { Secret } from '../../domain/shared/secret';
import { err, ok, type Result } from '../../domain/shared/result';
import { ConflictError } from '../ports/errors';
import {
  WEBHOOK_ROTATION_GRACE_MS,
  type IssuedWebhookSecret,
  type WebhookKey,
  type WebhookKeyStore,
} from '../ports/webhook-keys';
import type { UseCaseDeps } from './context';
import type { SettingsActor } from './client-settings';

/** What the webhook-key use cases read and write. */
export type WebhookKeysDeps = Pick<UseCaseDeps, 'clients' | 'clock' | 'mspTenantId'> & {
  readonly webhookKeys: WebhookKeyStore;
};

/**
 * Who manages a client's webhook secrets: one of its MSP leads signed in through Teams, or the
 * operator at the MSP (the CLI), trusted because it holds storage credentials.
 */
export type WebhookKeysActor = SettingsActor;

/** The client, by tenant id or by code (the tenant wins when both are given). */
export interface WebhookClientRef {
  readonly clientTenantId?: string;
  readonly code?: string;
}

/** The longest grace a rotation may give the old secret: a month. */
export const MAX_ROTATION_GRACE_MS = 30 * 24 * 60 * 60 * 1000;

/** One secret as people see it: never the secret itself. */
export interface WebhookSecretView {
  readonly kid: string;
  readonly createdAt: string;
  readonly retiresAt?: string;
  /** `active`: no end set; `retiring`: valid until `retiresAt`; `retired`: no longer accepted. */
  readonly state: 'active' | 'retiring' | 'retired';
}

/** A client's webhook intake: its URL path and each secret's id and dates. */
export interface WebhookKeyView {
  readonly clientCode: string;
  readonly clientName: string;
  /** Undefined when the client has no webhook key yet. */
  readonly urlPath?: string;
  readonly secrets: readonly WebhookSecretView[];
}

/** What create and rotate hand back: the view, and the new secret to show once. */
export interface IssuedWebhookKeyView extends WebhookKeyView {
  readonly issued: { readonly kid: string; readonly secret: Secret };
}

export const WebhookKeyErrors = {
  clientNotFound: () =>
    new DomainError(
      'CLIENT.NOT_FOUND',
      'No such client, or you are not one of its MSP leads. Name an onboarded client by its code.',
    ),
  notLead: (client: ClientProfile) =>
    new DomainError(
      'ACCESS.NOT_LEAD',
      `Only an MSP lead of ${client.name} can manage its webhook secrets.`,
      { code: client.code },
    ),
  exists: (client: ClientProfile) =>
    new DomainError(
      'WEBHOOK.KEY_EXISTS',
      `${client.name} already has a webhook key; rotate it to get a new secret.`,
      { code: client.code },
    ),
  noKey: (client: ClientProfile) =>
    new DomainError('WEBHOOK.NO_KEY', `${client.name} has no webhook key yet; create one first.`, {
      code: client.code,
    }),
  nothingToRetire: (client: ClientProfile, kid?: string) =>
    new DomainError(
      'WEBHOOK.NOTHING_TO_RETIRE',
      kid
        ? `${client.name} has no key id ${kid}, or it is the newest secret (rotate first, then retire the old one).`
        : `${client.name} has no webhook key yet; create one first.`,
      { code: client.code, ...(kid ? { kid } : {}) },
    ),
} as const;

/** The client and the audit actor, once the actor may manage its keys. */
async function authorise(
  deps: WebhookKeysDeps,
  actor: WebhookKeysActor,
  ref: WebhookClientRef,
): Promise<Result<{ client: ClientProfile; auditActor: AuditActor }, DomainError>> {
  const tenantId = ref.clientTenantId ? asTenantId(ref.clientTenantId) : undefined;
  const code = ref.code ? asClientCode(ref.code.toUpperCase()) : undefined;
  const stored = tenantId
    ? await deps.clients.get(tenantId)
    : code
      ? await deps.clients.getByCode(code)
      : undefined;
  if (!stored) return err(WebhookKeyErrors.clientNotFound());
  const client = stored.profile;
  if (actor.kind === 'operator') return ok({ client, auditActor: actor.operator });
  const roles = rolesFor(client, actor.person);
  // Anyone without a part in the client learns nothing about it, not even that it exists.
  if (roles.size === 0) return err(WebhookKeyErrors.clientNotFound());
  // A lead is MSP staff by definition; the tenant check keeps a mis-stored client-side lead out.
  if (!roles.has('lead') || actor.person.tid !== deps.mspTenantId)
    return err(WebhookKeyErrors.notLead(client));
  return ok({ client, auditActor: { tid: actor.person.tid, oid: actor.person.oid } });
}

function view(client: ClientProfile, key: WebhookKey | undefined, now: Date): WebhookKeyView {
  const at = now.toISOString();
  return {
    clientCode: client.code,
    clientName: client.name,
    ...(key ? { urlPath: `/api/webhooks/${key.clientKey}` } : {}),
    secrets: (key?.secrets ?? []).map((s) => ({
      kid: s.kid,
      createdAt: s.createdAt,
      ...(s.retiresAt ? { retiresAt: s.retiresAt } : {}),
      state: s.retiresAt === undefined ? 'active' : s.retiresAt > at ? 'retiring' : 'retired',
    })),
  };
}

function issuedView(
  client: ClientProfile,
  issued: IssuedWebhookSecret,
  now: Date,
): IssuedWebhookKeyView {
  return {
    ...view(client, issued.key, now),
    issued: { kid: issued.issued.kid, secret: issued.issued.secret },
  };
}

/** The client's webhook URL path and secrets (ids and dates only), for its leads and the operator. */
export async function webhookKeyStatus(
  deps: WebhookKeysDeps,
  actor: WebhookKeysActor,
  ref: WebhookClientRef,
): Promise<Result<WebhookKeyView, DomainError>> {
  const allowed = await authorise(deps, actor, ref);
  if (!allowed.ok) return allowed;
  const { client } = allowed.value;
  return ok(view(client, await deps.webhookKeys.get(client.tenantId), deps.clock.now()));
}

/** A webhook key with its first secret, audited `webhook.key_created`; the secret is handed back once. */
export async function createWebhookKey(
  deps: WebhookKeysDeps,
  actor: WebhookKeysActor,
  ref: WebhookClientRef,
): Promise<Result<IssuedWebhookKeyView, DomainError>> {
  const allowed = await authorise(deps, actor, ref);
  if (!allowed.ok) return allowed;
  const { client, auditActor } = allowed.value;
  const now = deps.clock.now();
  try {
    return ok(
      issuedView(client, await deps.webhookKeys.create(client.tenantId, now, auditActor), now),
    );
  } catch (error) {
    if (error instanceof ConflictError) return err(WebhookKeyErrors.exists(client));
    throw error;
  }
}

/**
 * A new secret, audited `webhook.key_rotated`; the older ones keep working for `graceMs` (24 h by
 * default, at most 30 days) so senders can switch.
 */
export async function rotateWebhookKey(
  deps: WebhookKeysDeps,
  actor: WebhookKeysActor,
  ref: WebhookClientRef,
  graceMs: number = WEBHOOK_ROTATION_GRACE_MS,
): Promise<Result<IssuedWebhookKeyView, DomainError>> {
  if (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > MAX_ROTATION_GRACE_MS)
    return err(
      new ValidationError([{ field: 'graceHours', message: 'must be from 0 to 720 hours' }]),
    );
  const allowed = await authorise(deps, actor, ref);
  if (!allowed.ok) return allowed;
  const { client, auditActor } = allowed.value;
  const now = deps.clock.now();
  const rotated = await deps.webhookKeys.rotate(client.tenantId, now, auditActor, graceMs);
  return rotated ? ok(issuedView(client, rotated, now)) : err(WebhookKeyErrors.noKey(client));
}

/**
 * Stops `kid` now, or every secret but the newest; audited `webhook.key_retired` when anything
 * stopped. The newest secret is never retired.
 */
export async function retireWebhookKeys(
  deps: WebhookKeysDeps,
  actor: WebhookKeysActor,
  ref: WebhookClientRef,
  kid?: string,
): Promise<Result<WebhookKeyView, DomainError>> {
  const allowed = await authorise(deps, actor, ref);
  if (!allowed.ok) return allowed;
  const { client, auditActor } = allowed.value;
  const now = deps.clock.now();
  const key = await deps.webhookKeys.retire(client.tenantId, now, auditActor, kid);
  return key ? ok(view(client, key, now)) : err(WebhookKeyErrors.nothingToRetire(client, kid));
}
