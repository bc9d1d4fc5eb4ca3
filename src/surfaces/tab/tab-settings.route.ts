import type { Request, Server } from 'restify';
import { z } from 'zod';
import {
  configureClientSettings,
  SETTINGS_PARTS,
} from '../../application/use-cases/client-settings';
import type { UseCaseDeps } from '../../application/use-cases/context';
import type { WebhookKeyStore } from '../../application/ports/webhook-keys';
import {
  createWebhookKey,
  retireWebhookKeys,
  rotateWebhookKey,
  webhookKeyStatus,
  type IssuedWebhookKeyView,
} from '../../application/use-cases/webhook-keys';
import type { StepRule } from '../../domain/approval/approval-policy';
import { rolesFor, type ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import { CHANGE_TYPES } from '../../domain/change-request/change-request.payloads';
import { slaTargetsFor } from '../../domain/sla/sla.policy';
import { asClientCode } from '../../domain/shared/ids';
import { samePerson, type Person } from '../../domain/shared/person';
import { apiRoute, parseInput, TabHttpError, unwrap, type Authenticate } from './tab-http';

export interface TabSettingsDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
  /** The client's signed-intake keys; the "Webhook intake" box and its API exist only with it. */
  readonly webhookKeys?: WebhookKeyStore;
}

const SaveBody = z.object({ settings: z.unknown() });
const RotateBody = z.object({ graceHours: z.number().min(0).max(720).optional() }).strict();
const RetireBody = z.object({ kid: z.string().trim().min(1).max(40).optional() }).strict();

/**
 * A client's effective rules in the tab (issue 4 §1, §3, §5), read-only for anyone with a part in
 * the client; its MSP leads also get each stored part as JSON to edit, saved through
 * `configureClientSettings`, which checks every field. The caller is the token's person only.
 */
export function mountTabSettingsApi(server: Server, deps: TabSettingsDeps): void {
  const route = (handler: Parameters<typeof apiRoute>[2]) =>
    apiRoute(deps.authenticate, deps.log, handler);
  const uc = deps.useCases;

  /** A client the caller plays a part in; any other code is "not found", whether or not it exists. */
  const clientFor = async (actor: Person, req: Request): Promise<ClientProfile> => {
    const raw = (req.params as Record<string, unknown> | undefined)?.code;
    const code = typeof raw === 'string' ? asClientCode(raw.slice(0, 16)) : undefined;
    const client = code ? (await uc.clients.getByCode(code))?.profile : undefined;
    if (!client || rolesFor(client, actor).size === 0)
      throw new TabHttpError(
        404,
        'CLIENT.NOT_FOUND',
        'You have no part in that client. Open the settings of one of your clients.',
      );
    return client;
  };

  server.get(
    '/api/tab/clients/:code/settings',
    route(async ({ actor, req }) => {
      const client = await clientFor(actor, req);
      const lead = rolesFor(client, actor).has('lead');
      return { body: { ...settingsView(client, lead), webhookIntake: lead && !!deps.webhookKeys } };
    }),
  );

  server.post(
    '/api/tab/clients/:code/settings',
    route(async ({ actor, req }) => {
      const client = await clientFor(actor, req);
      const body = parseInput(SaveBody, req.body);
      const saved = unwrap(
        await configureClientSettings(uc, {
          actor: { kind: 'person', person: actor },
          clientTenantId: client.tenantId,
          settings: body.settings,
        }),
      );
      return {
        body: {
          changed: saved.changed,
          ...settingsView(saved.profile, true),
          webhookIntake: !!deps.webhookKeys,
        },
      };
    }),
  );

  if (deps.webhookKeys) mountWebhookIntake(server, route, { ...uc, webhookKeys: deps.webhookKeys });
}

/**
 * The client's signed-intake key for its MSP leads (issue 6 §3): the URL path, each key id with
 * its dates, and create / rotate / retire. A new secret is in that one response only; every read
 * shows ids and dates, never a secret.
 */
function mountWebhookIntake(
  server: Server,
  route: (handler: Parameters<typeof apiRoute>[2]) => ReturnType<typeof apiRoute>,
  deps: UseCaseDeps & { readonly webhookKeys: WebhookKeyStore },
): void {
  const ref = (req: Request) => {
    const raw = (req.params as Record<string, unknown> | undefined)?.code;
    return { code: typeof raw === 'string' ? raw.slice(0, 16) : '' };
  };
  const person = (actor: Person) => ({ kind: 'person', person: actor }) as const;
  const issued = (view: IssuedWebhookKeyView) => ({
    ...view,
    issued: { kid: view.issued.kid, secret: view.issued.secret.reveal() },
  });

  server.get(
    '/api/tab/clients/:code/webhook',
    route(async ({ actor, req }) => ({
      body: unwrap(await webhookKeyStatus(deps, person(actor), ref(req))),
    })),
  );
  server.post(
    '/api/tab/clients/:code/webhook/create',
    route(async ({ actor, req }) => ({
      status: 201,
      body: issued(unwrap(await createWebhookKey(deps, person(actor), ref(req)))),
    })),
  );
  server.post(
    '/api/tab/clients/:code/webhook/rotate',
    route(async ({ actor, req }) => {
      const { graceHours } = parseInput(RotateBody, req.body ?? {});
      const grace = graceHours === undefined ? undefined : graceHours * 60 * 60 * 1000;
      return {
        body: issued(unwrap(await rotateWebhookKey(deps, person(actor), ref(req), grace))),
      };
    }),
  );
  server.post(
    '/api/tab/clients/:code/webhook/retire',
    route(async ({ actor, req }) => {
      const { kid } = parseInput(RetireBody, req.body ?? {});
      return { body: unwrap(await retireWebhookKeys(deps, person(actor), ref(req), kid)) };
    }),
  );
}

const names = (people: readonly Person[]) => people.map((p) => p.name);

function ruleText(rule: StepRule): string {
  switch (rule.kind) {
    case 'any_of':
      return 'any one of';
    case 'all_of':
      return 'all of';
    case 'quorum':
      return `${rule.required} of`;
  }
}

/** What `rulesFor` makes of the client's settings, names instead of ids; the stored parts for leads. */
function settingsView(client: ClientProfile, mayEdit: boolean) {
  const rules = rulesFor(client);
  const policy = rules.approvalPolicy;
  const s = client.settings;
  return {
    client: { code: client.code, name: client.name },
    mayEdit,
    timeZone: rules.timeZone,
    configured: Object.fromEntries(SETTINGS_PARTS.map((p) => [p, s[p] !== undefined])),
    approval: {
      steps: policy.steps.map((step) => ({
        id: step.id,
        name: step.name,
        side: step.side,
        rule: ruleText(step.rule),
        approvers: names(step.approvers),
        ...(step.when ? { when: step.when } : {}),
      })),
      mspGate: policy.mspGate,
      sensitiveApprovers: names(policy.sensitiveApprovers),
      timing: policy.timing,
    },
    schedule: {
      maintenanceWindows: rules.schedule.maintenanceWindows,
      blackouts: rules.schedule.blackouts,
      noticeHours: rules.schedule.noticeHours,
      emergencyExempt: rules.schedule.emergencyExempt,
      windowsConfigured: rules.windowsConfigured,
    },
    classOverrides: rules.classOverrides,
    emergencyQuotaPerMonth: rules.emergencyQuotaPerMonth,
    reviewDueBusinessDays: rules.reviewDueBusinessDays,
    sla: {
      targets: CHANGE_TYPES.map((type) => ({
        type,
        ...slaTargetsFor(type, rules.sla),
        overridden: rules.sla.targets[type] !== undefined,
      })),
      businessHours: rules.sla.businessHours,
      holidays: rules.sla.holidays,
    },
    // Object ids appear only here, for the leads who write them into the approval policy.
    ...(mayEdit
      ? {
          parts: Object.fromEntries(SETTINGS_PARTS.map((p) => [p, s[p] ?? null])),
          people: [...client.approvers, ...client.admins, ...client.techs, ...client.leads]
            .filter((p, i, all) => all.findIndex((q) => samePerson(p, q)) === i)
            .map((p) => ({ tid: p.tid, oid: p.oid, name: p.name })),
        }
      : {}),
  };
}
