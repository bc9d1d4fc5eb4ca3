import {
  decideTemplate as checkDecision,
  effectiveStatus,
  newTemplate,
  proposeTemplate as checkProposal,
  reenableTemplate as checkReenable,
  reviseTemplate,
  type ActivationStatus,
  type TemplateActivation,
} from '../../domain/catalogue/activation.policy';
import { templateEvent } from '../../domain/catalogue/catalogue.audit';
import { TemplateErrors as E } from '../../domain/catalogue/catalogue.errors';
import {
  promotionSuggestion,
  type PromotionSuggestion,
} from '../../domain/catalogue/promotion.policy';
import {
  asTemplateId,
  validateTemplateContent,
  type StandardTemplate,
  type TemplateId,
  type TemplateScope,
} from '../../domain/catalogue/template';
import { SYSTEM_OID, type AuditEvent } from '../../domain/audit/audit-event';
import { rolesFor, isMspStaff, type ClientProfile } from '../../domain/client/client';
import { DomainError } from '../../domain/shared/errors';
import { asTenantId, type TenantId } from '../../domain/shared/ids';
import type { Person } from '../../domain/shared/person';
import { err, ok, type Result } from '../../domain/shared/result';
import type { OutboxMessage } from '../ports/outbox';
import type { StoredActivation, StoredTemplate } from '../ports/template-catalogue';
import type { UseCaseDeps } from './context';

type CatalogueDeps = Pick<
  UseCaseDeps,
  'templates' | 'clients' | 'audit' | 'requests' | 'clock' | 'mspTenantId' | 'outboxWritten'
>;

/** The card key of a client approver's template card, so a decision or an edit updates it in place. */
export const templateCardKey = (templateId: string) => `template:${templateId}`;

const clientNotFound = (tenant: string) =>
  new DomainError(
    'CLIENT.NOT_FOUND',
    `No client with tenant ${tenant.slice(0, 60)}. List clients with "cabinet clients list".`,
  );

async function clientOf(
  deps: CatalogueDeps,
  tenant: string,
): Promise<Result<ClientProfile, DomainError>> {
  const tenantId = asTenantId(tenant);
  const stored = tenantId ? await deps.clients.get(tenantId) : undefined;
  return stored ? ok(stored.profile) : err(clientNotFound(tenant));
}

/** The template a client sees under `id`: its own first, then the global one. */
async function templateFor(
  deps: CatalogueDeps,
  clientTenantId: TenantId,
  id: TemplateId,
): Promise<StoredTemplate | undefined> {
  return (
    (await deps.templates.getTemplate(clientTenantId, id)) ??
    (await deps.templates.getTemplate('global', id))
  );
}

/** Approval cards for the client's approvers about the template's current version. */
function approverCards(client: ClientProfile, template: StandardTemplate): OutboxMessage[] {
  return client.approvers.map((a) => ({
    kind: 'teams.notify',
    recipient: { tid: a.tid, oid: a.oid },
    notification: {
      template: 'template_approval_request',
      requestId: template.id,
      templateId: template.id,
      version: template.version,
      cardKey: templateCardKey(template.id),
    },
  }));
}

export interface SaveTemplateCommand {
  readonly actor: Person;
  readonly id: string;
  /** The client the template belongs to; absent: a global template. */
  readonly clientTenantId?: string;
  /** Name, ranges, implementation and rollback plans (validated here). */
  readonly content: unknown;
}

export interface SavedTemplate {
  readonly template: StandardTemplate;
  readonly created: boolean;
  /** Clients whose approval went back to proposed (an edit), each with new approver cards. */
  readonly reproposedTo: readonly TenantId[];
}

/**
 * An MSP lead creates a template or edits its content. An edit bumps the version and puts every
 * client's approval back to proposed, with fresh cards to that client's approvers.
 * @remarks Global templates need a lead of at least one client; a client's own, a lead of that client.
 */
export async function saveTemplate(
  deps: CatalogueDeps,
  command: SaveTemplateCommand,
): Promise<Result<SavedTemplate, DomainError>> {
  const id = asTemplateId(command.id);
  if (!id)
    return err(
      E.invalid([
        {
          field: 'id',
          message: 'must be 3–48 lower-case letters, digits and hyphens, starting with a letter',
        },
      ]),
    );
  let scope: TemplateScope = 'global';
  let clients: ClientProfile[];
  if (command.clientTenantId !== undefined) {
    const client = await clientOf(deps, command.clientTenantId);
    if (!client.ok) return client;
    if (!rolesFor(client.value, command.actor).has('lead'))
      return err(E.notLead('edit its templates'));
    scope = client.value.tenantId;
    clients = [client.value];
  } else {
    const led = (await deps.clients.forStaff(deps.mspTenantId, command.actor.oid)).filter((c) =>
      rolesFor(c, command.actor).has('lead'),
    );
    if (led.length === 0) return err(E.notLead('edit global templates'));
    clients = await deps.clients.list();
  }
  const content = validateTemplateContent(command.content);
  if (!content.ok) return content;
  const ctx = { by: command.actor, at: deps.clock.now().toISOString() };
  const existing = await deps.templates.getTemplate(scope, id);
  if (!existing) {
    const taken =
      scope === 'global'
        ? await Promise.all(clients.map((c) => deps.templates.getTemplate(c.tenantId, id)))
        : [await deps.templates.getTemplate('global', id)];
    if (taken.some((t) => t !== undefined)) return err(E.exists(id));
    const template = newTemplate(id, scope, content.value, ctx);
    await deps.templates.createTemplate(template, {
      audit: [
        templateEvent(
          'template.created',
          command.actor,
          template,
          { type: template.ranges.type },
          { name: template.name },
        ),
      ],
    });
    return ok({ template, created: true, reproposedTo: [] });
  }
  const activations = (
    await Promise.all(
      clients.map(async (c) => ({
        client: c,
        stored: await deps.templates.getActivation(c.tenantId, id),
      })),
    )
  ).filter((a): a is { client: ClientProfile; stored: StoredActivation } => a.stored !== undefined);
  const revised = reviseTemplate(
    existing.template,
    content.value,
    activations.map((a) => a.stored.activation),
    ctx,
  );
  if (!revised.ok) return revised;
  const template = revised.value.template;
  await deps.templates.updateTemplate(template, existing.etag, {
    audit: [
      templateEvent(
        'template.changed',
        command.actor,
        template,
        { type: template.ranges.type, previousVersion: existing.template.version },
        { name: template.name },
      ),
    ],
  });
  // Each client's re-proposal is its own transaction; until it lands, the older approval no
  // longer counts anyway (effectiveStatus compares versions).
  const reproposedTo: TenantId[] = [];
  for (const next of revised.value.activations) {
    const entry = activations.find((a) => a.client.tenantId === next.clientTenantId)!;
    await deps.templates.saveActivation(next, entry.stored.etag, {
      audit: [proposedEvent(command.actor, template, entry.client, 'edited')],
      outbox: approverCards(entry.client, template),
    });
    deps.outboxWritten?.(entry.client.tenantId);
    reproposedTo.push(entry.client.tenantId);
  }
  return ok({ template, created: false, reproposedTo });
}

function proposedEvent(
  actor: Person,
  template: StandardTemplate,
  client: ClientProfile,
  because: 'proposed' | 'edited',
): AuditEvent {
  return templateEvent(
    'template.proposed',
    actor,
    template,
    { clientTenantId: client.tenantId, because, approvers: client.approvers.map((a) => a.oid) },
    { name: template.name },
  );
}

export interface ProposeTemplateCommand {
  readonly actor: Person;
  readonly templateId: string;
  readonly clientTenantId: string;
}

/** A lead proposes a template to a client: its approvers get a card to approve or decline it. */
export async function proposeTemplate(
  deps: CatalogueDeps,
  command: ProposeTemplateCommand,
): Promise<Result<TemplateActivation, DomainError>> {
  const client = await clientOf(deps, command.clientTenantId);
  if (!client.ok) return client;
  const id = asTemplateId(command.templateId);
  const stored = id ? await templateFor(deps, client.value.tenantId, id) : undefined;
  if (!id || !stored) return err(E.notFound(command.templateId));
  const current = await deps.templates.getActivation(client.value.tenantId, id);
  const proposed = checkProposal(stored.template, client.value, current?.activation, {
    by: command.actor,
    at: deps.clock.now().toISOString(),
  });
  if (!proposed.ok) return proposed;
  await deps.templates.saveActivation(proposed.value, current?.etag, {
    audit: [proposedEvent(command.actor, stored.template, client.value, 'proposed')],
    outbox: approverCards(client.value, stored.template),
  });
  deps.outboxWritten?.(client.value.tenantId);
  return ok(proposed.value);
}

export interface DecideTemplateCommand {
  /** From the authenticated activity, never from card data. */
  readonly actor: Person;
  readonly clientTenantId: string;
  readonly templateId: string;
  /** The template version the card showed. */
  readonly version: number;
  readonly decision: 'approve' | 'decline';
  readonly reason?: string;
}

/** What the approver sees after deciding: the template, the client's standing, and any refusal. */
export type TemplateDecisionOutcome =
  | {
      readonly kind: 'decided' | 'already_decided';
      readonly template: StandardTemplate;
      readonly activation: TemplateActivation;
      readonly client: ClientProfile;
    }
  | {
      readonly kind: 'refused';
      readonly error: DomainError;
      /** Present when the caller may see the template (it was proposed to their client). */
      readonly view?: {
        readonly template: StandardTemplate;
        readonly activation: TemplateActivation | undefined;
        readonly client: ClientProfile;
      };
    };

/**
 * The client's approver approves or declines a template for their client (audited
 * `template.approved` / `template.declined`); once active, matching requests need no per-change
 * approval. Anyone else is refused, and the refusal is audited in the client's chain.
 * @remarks A second click on the same decision returns the same card without a second entry.
 */
export async function decideTemplate(
  deps: CatalogueDeps,
  command: DecideTemplateCommand,
): Promise<TemplateDecisionOutcome> {
  const client = await clientOf(deps, command.clientTenantId);
  const id = asTemplateId(command.templateId);
  if (!client.ok || !id) return { kind: 'refused', error: E.notFound(command.templateId) };
  const tenantId = client.value.tenantId;
  const [stored, current] = await Promise.all([
    templateFor(deps, tenantId, id),
    deps.templates.getActivation(tenantId, id),
  ]);
  if (!stored || !current) return { kind: 'refused', error: E.notFound(id) };
  const template = stored.template;
  const view = { template, activation: current.activation, client: client.value };
  const refuse = async (error: DomainError): Promise<TemplateDecisionOutcome> => {
    await deps.audit.append(tenantId, [
      templateEvent('action.refused', command.actor, template, {
        action: `template.${command.decision}`,
        code: error.code,
        clientTenantId: tenantId,
      }),
    ]);
    // Only the client's own people see the template's content on a refusal card.
    return command.actor.tid === tenantId
      ? { kind: 'refused', error, view }
      : { kind: 'refused', error };
  };
  const status = effectiveStatus(template, current.activation);
  const repeat =
    command.version === template.version &&
    ((command.decision === 'approve' && status === 'active') ||
      (command.decision === 'decline' && status === 'withdrawn')) &&
    (current.activation.approvedBy ?? current.activation.withdrawnBy)?.oid === command.actor.oid;
  if (repeat) return { kind: 'already_decided', ...view, activation: current.activation };
  const decided = checkDecision(
    template,
    current.activation,
    client.value,
    command.decision === 'approve'
      ? { kind: 'approve', version: command.version }
      : { kind: 'decline', version: command.version, reason: command.reason ?? '' },
    { by: command.actor, at: deps.clock.now().toISOString() },
  );
  if (!decided.ok) return refuse(decided.error);
  await deps.templates.saveActivation(decided.value, current.etag, {
    audit: [
      templateEvent(
        command.decision === 'approve' ? 'template.approved' : 'template.declined',
        command.actor,
        template,
        { clientTenantId: tenantId },
        {
          name: template.name,
          ...(command.decision === 'decline' ? { reason: command.reason ?? '' } : {}),
        },
      ),
    ],
  });
  return { kind: 'decided', template, activation: decided.value, client: client.value };
}

export interface ReenableTemplateCommand {
  readonly actor: Person;
  readonly clientTenantId: string;
  readonly templateId: string;
  readonly reason: string;
}

/** An MSP lead re-enables a template a failed run suspended for one client (audited `template.reenabled`). */
export async function reenableTemplate(
  deps: CatalogueDeps,
  command: ReenableTemplateCommand,
): Promise<Result<TemplateActivation, DomainError>> {
  const client = await clientOf(deps, command.clientTenantId);
  if (!client.ok) return client;
  const id = asTemplateId(command.templateId);
  const stored = id ? await templateFor(deps, client.value.tenantId, id) : undefined;
  const current = id ? await deps.templates.getActivation(client.value.tenantId, id) : undefined;
  if (!id || !stored) return err(E.notFound(command.templateId));
  const next = checkReenable(stored.template, current?.activation, client.value, command.reason, {
    by: command.actor,
    at: deps.clock.now().toISOString(),
  });
  if (!next.ok) return next;
  await deps.templates.saveActivation(next.value, current!.etag, {
    audit: [
      templateEvent(
        'template.reenabled',
        command.actor,
        stored.template,
        { clientTenantId: client.value.tenantId },
        { reason: command.reason.trim() },
      ),
    ],
  });
  return ok(next.value);
}

/** One template as one client stands with it. */
export interface TemplateStatusView {
  readonly template: StandardTemplate;
  readonly clientTenantId: TenantId;
  readonly clientCode: string;
  readonly status: ActivationStatus | 'not_proposed';
  readonly activation?: TemplateActivation;
}

/**
 * The templates with each client's status. MSP staff see the clients they serve (or one of them);
 * a client's people see their own client only, never another client's templates.
 */
export async function listTemplates(
  deps: CatalogueDeps,
  actor: Person,
  options: { readonly clientTenantId?: string } = {},
): Promise<Result<TemplateStatusView[], DomainError>> {
  let visible: ClientProfile[];
  if (actor.tid === deps.mspTenantId) {
    visible = (await deps.clients.forStaff(deps.mspTenantId, actor.oid)).filter((c) =>
      isMspStaff(rolesFor(c, actor)),
    );
  } else {
    const own = await deps.clients.get(actor.tid);
    visible = own && rolesFor(own.profile, actor).size > 0 ? [own.profile] : [];
  }
  if (options.clientTenantId !== undefined)
    visible = visible.filter((c) => c.tenantId === options.clientTenantId);
  if (visible.length === 0) return err(clientNotFound(options.clientTenantId ?? actor.tid));
  const views = await Promise.all(
    visible.map(async (client) => {
      const [templates, activations] = await Promise.all([
        deps.templates.templatesFor(client.tenantId),
        deps.templates.activations(client.tenantId),
      ]);
      return templates.map(({ template }): TemplateStatusView => {
        const activation = activations.find(
          (a) => a.activation.templateId === template.id,
        )?.activation;
        return {
          template,
          clientTenantId: client.tenantId,
          clientCode: client.code,
          status: effectiveStatus(template, activation),
          ...(activation ? { activation } : {}),
        };
      });
    }),
  );
  return ok(views.flat());
}

/** A promotion suggestion and whether this call recorded it (first time seen). */
export interface SuggestedPromotion {
  readonly suggestion: PromotionSuggestion;
  readonly isNew: boolean;
}

/** How many closed requests the promotion scan reads per client. */
const PROMOTION_HISTORY = 500;

/**
 * Which of the client's repeated normal changes could become standard templates; each new
 * suggestion is audited once (`template.promotion_suggested`) for the MSP leads to act on.
 */
export async function suggestPromotions(
  deps: CatalogueDeps,
  clientTenantId: TenantId,
  options: { readonly threshold?: number } = {},
): Promise<SuggestedPromotion[]> {
  const [history, templates] = await Promise.all([
    deps.requests.list(clientTenantId, { statuses: ['closed'], limit: PROMOTION_HISTORY }),
    deps.templates.templatesFor(clientTenantId),
  ]);
  const suggestions = promotionSuggestion(history, {
    templates: templates.map((t) => t.template),
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
  });
  const out: SuggestedPromotion[] = [];
  for (const suggestion of suggestions) {
    const isNew = await deps.templates.markSuggested(clientTenantId, suggestion.key, {
      audit: [
        {
          type: 'template.promotion_suggested',
          actor: { tid: clientTenantId, oid: SYSTEM_OID },
          requestId: null,
          payload: {
            type: suggestion.draft.ranges.type,
            because: suggestion.because,
            requestIds: [...suggestion.requestIds],
          },
          personal: { key: suggestion.key },
        },
      ],
    });
    out.push({ suggestion, isNew });
  }
  return out;
}

/**
 * A run under a template ended (the integrator calls this when a standard change closes or
 * fails): a failure suspends the template for the client and tells its MSP leads.
 */
export async function recordTemplateOutcome(
  deps: CatalogueDeps,
  command: {
    readonly clientTenantId: TenantId;
    readonly templateId: TemplateId;
    readonly outcome: 'succeeded' | 'failed';
    readonly requestId?: string;
    readonly reason?: string;
  },
): Promise<TemplateActivation | undefined> {
  const client = await deps.clients.get(command.clientTenantId);
  const activation = await deps.templates.recordOutcome(
    command.clientTenantId,
    command.templateId,
    command.outcome,
    deps.clock.now(),
    {
      ...(command.reason !== undefined ? { reason: command.reason } : {}),
      ...(command.requestId !== undefined ? { requestId: command.requestId } : {}),
      notify: client?.profile.leads ?? [],
    },
  );
  if (activation?.status === 'suspended') deps.outboxWritten?.(command.clientTenantId);
  return activation;
}
