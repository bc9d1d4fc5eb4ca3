import type { Request, Server } from 'restify';
import { z } from 'zod';
import {
  decideTemplate,
  listTemplates,
  proposeTemplate,
  reenableTemplate,
  saveTemplate,
  suggestPromotions,
  type TemplateStatusView,
} from '../../application/use-cases/catalogue';
import type { UseCaseDeps } from '../../application/use-cases/context';
import { isMspStaff, rolesFor, type ClientProfile } from '../../domain/client/client';
import { DomainError, type FieldIssue } from '../../domain/shared/errors';
import { asClientCode } from '../../domain/shared/ids';
import type { Person } from '../../domain/shared/person';
import type { Result } from '../../domain/shared/result';
import { NOTE_MAX } from '../../domain/change-request/change-request.payloads';
import { apiRoute, parseInput, TabHttpError, type Authenticate } from './tab-http';

export interface TabTemplatesDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

const clientCode = z.string().trim().min(1, 'is required').max(16);
const SaveBody = z.object({
  id: z.string().trim().min(1, 'is required').max(60),
  /** Absent: a global template. */
  client: clientCode.optional(),
  content: z.object({}).passthrough(),
});
const ProposeBody = z.object({ client: clientCode });
const DecideBody = z.object({
  client: clientCode,
  version: z.number({ message: 'is required' }).int().positive(),
  decision: z.enum(['approve', 'decline'], { message: 'must be approve or decline' }),
  reason: z.string().trim().max(NOTE_MAX).optional(),
});
const ReenableBody = z.object({
  client: clientCode,
  reason: z.string().trim().min(1, 'is required').max(NOTE_MAX),
});

/** Catalogue refusals the tab's shared mapping does not know: who may not (403), what is missing (404). */
const FORBIDDEN = new Set(['TEMPLATE.NOT_LEAD', 'TEMPLATE.NOT_CLIENT_APPROVER']);

/**
 * Standard-change templates in the tab (issue 4 §1): MSP leads list, write, propose and re-enable
 * them and see promotion suggestions; a client's approvers approve or decline what was proposed to
 * their client. Clients are named by code and must be one the caller has a part in; the caller is
 * the token's person and the catalogue use cases decide the rest.
 */
export function mountTabTemplatesApi(server: Server, deps: TabTemplatesDeps): void {
  const route = (handler: Parameters<typeof apiRoute>[2]) =>
    apiRoute(deps.authenticate, deps.log, handler);
  const uc = deps.useCases;

  /** A client the caller plays a part in; any other code is "not found", whether or not it exists. */
  const clientFor = async (actor: Person, code: string): Promise<ClientProfile> => {
    const parsed = asClientCode(code.toUpperCase());
    const client = parsed ? (await uc.clients.getByCode(parsed))?.profile : undefined;
    if (!client || rolesFor(client, actor).size === 0)
      throw new TabHttpError(
        404,
        'CLIENT.NOT_FOUND',
        `You have no part in a client "${code.slice(0, 16)}". Pick one of your clients on the templates page.`,
      );
    return client;
  };

  /** The clients whose templates the caller sees, as `listTemplates` scopes them, even with none yet. */
  const clientsOf = async (actor: Person): Promise<ClientProfile[]> => {
    if (actor.tid === uc.mspTenantId)
      return (await uc.clients.forStaff(uc.mspTenantId, actor.oid)).filter((c) =>
        isMspStaff(rolesFor(c, actor)),
      );
    const own = (await uc.clients.get(actor.tid))?.profile;
    return own && rolesFor(own, actor).size > 0 ? [own] : [];
  };

  server.get(
    '/api/tab/templates',
    route(async ({ actor }) => {
      const listed = await listTemplates(uc, actor);
      const views = listed.ok ? listed.value : [];
      const clients = await Promise.all(
        (await clientsOf(actor)).map(async (profile) => {
          const tenantId = profile.tenantId;
          const roles = rolesFor(profile, actor);
          const isLead = roles.has('lead');
          const isApprover = roles.has('approver');
          const mine = views.filter((v) => v.clientTenantId === tenantId);
          // A client's people see what was put to them; templates never proposed are the MSP's drafts.
          const shown = actor.tid === uc.mspTenantId ? mine : mine.filter((v) => v.activation);
          const suggestions = isLead ? await suggestPromotions(uc, tenantId) : [];
          return {
            code: profile.code,
            name: profile.name,
            isLead,
            isApprover,
            templates: shown.map((v) => templateDto(v, isLead, isApprover)),
            suggestions: suggestions.map(({ suggestion: s }) => ({
              key: s.key,
              because: s.because,
              requestIds: [...s.requestIds],
              draft: s.draft,
            })),
          };
        }),
      );
      return {
        body: {
          clients: clients.sort((a, b) => a.code.localeCompare(b.code)),
          mayCreateGlobal: clients.some((c) => c.isLead),
        },
      };
    }),
  );

  server.post(
    '/api/tab/templates',
    route(async ({ actor, req }) => {
      const body = parseInput(SaveBody, req.body);
      const client = body.client ? await clientFor(actor, body.client) : undefined;
      const saved = answer(
        await saveTemplate(uc, {
          actor,
          id: body.id,
          ...(client ? { clientTenantId: client.tenantId } : {}),
          content: body.content,
        }),
      );
      return {
        status: saved.created ? 201 : 200,
        body: {
          template: { id: saved.template.id, version: saved.template.version },
          created: saved.created,
          reproposedTo: saved.reproposedTo.length,
        },
      };
    }),
  );

  server.post(
    '/api/tab/templates/:id/propose',
    route(async ({ actor, req }) => {
      const body = parseInput(ProposeBody, req.body);
      const client = await clientFor(actor, body.client);
      const activation = answer(
        await proposeTemplate(uc, {
          actor,
          templateId: templateIdParam(req),
          clientTenantId: client.tenantId,
        }),
      );
      return { body: { status: activation.status } };
    }),
  );

  server.post(
    '/api/tab/templates/:id/decide',
    route(async ({ actor, req }) => {
      const body = parseInput(DecideBody, req.body);
      const client = await clientFor(actor, body.client);
      const outcome = await decideTemplate(uc, {
        actor,
        clientTenantId: client.tenantId,
        templateId: templateIdParam(req),
        version: body.version,
        decision: body.decision,
        ...(body.reason ? { reason: body.reason } : {}),
      });
      if (outcome.kind === 'refused') throw refusal(outcome.error);
      return { body: { status: outcome.activation.status, repeated: outcome.kind !== 'decided' } };
    }),
  );

  server.post(
    '/api/tab/templates/:id/reenable',
    route(async ({ actor, req }) => {
      const body = parseInput(ReenableBody, req.body);
      const client = await clientFor(actor, body.client);
      const activation = answer(
        await reenableTemplate(uc, {
          actor,
          clientTenantId: client.tenantId,
          templateId: templateIdParam(req),
          reason: body.reason,
        }),
      );
      return { body: { status: activation.status } };
    }),
  );
}

/** The `:id` route parameter, bounded; the catalogue decides whether it names a template. */
function templateIdParam(req: Request): string {
  const raw = (req.params as Record<string, unknown> | undefined)?.id;
  return typeof raw === 'string' ? raw.slice(0, 60) : '';
}

function answer<T>(result: Result<T, DomainError>): T {
  if (result.ok) return result.value;
  throw refusal(result.error);
}

/**
 * The catalogue's refusals as the tab shows them: field issues next to their fields (a list item's
 * issue on its list), who-may-not as 403, a missing template as 404; the rest as the shared mapping says.
 */
function refusal(error: DomainError): Error {
  if (error.code === 'TEMPLATE.INVALID') {
    const issues = (error.details['issues'] ?? []) as readonly FieldIssue[];
    return new TabHttpError(
      400,
      error.code,
      error.message,
      issues.map((i) => {
        const item = /\.(\d+)$/.exec(i.field);
        return item
          ? {
              field: i.field.slice(0, item.index),
              message: `item ${Number(item[1]) + 1} ${i.message}`,
            }
          : i;
      }),
    );
  }
  if (FORBIDDEN.has(error.code)) return new TabHttpError(403, error.code, error.message);
  if (error.code === 'TEMPLATE.NOT_FOUND') return new TabHttpError(404, error.code, error.message);
  return error;
}

function templateDto(v: TemplateStatusView, isLead: boolean, isApprover: boolean) {
  const t = v.template;
  const a = v.activation;
  return {
    id: t.id,
    name: t.name,
    scope: t.scope === 'global' ? 'global' : 'client',
    version: t.version,
    type: t.ranges.type,
    ranges: t.ranges,
    implementationPlan: t.implementationPlan,
    rollbackPlan: t.rollbackPlan,
    updatedBy: t.updatedBy.name,
    updatedAt: t.updatedAt,
    status: v.status,
    successfulRuns: a?.successfulRuns ?? 0,
    failedRuns: a?.failedRuns ?? 0,
    ...(a?.status === 'suspended' && a.suspendedReason
      ? { suspendedReason: a.suspendedReason }
      : {}),
    ...(a?.status === 'withdrawn' && a.withdrawnReason
      ? { withdrawnReason: a.withdrawnReason }
      : {}),
    ...(a?.approvedBy && v.status === 'active'
      ? { approvedBy: a.approvedBy.name, approvedAt: a.approvedAt }
      : {}),
    mayEdit: isLead && (t.scope === 'global' || t.scope === v.clientTenantId),
    mayPropose: isLead && (v.status === 'not_proposed' || v.status === 'withdrawn'),
    mayReenable: isLead && v.status === 'suspended',
    mayDecide: isApprover && v.status === 'proposed',
  };
}
