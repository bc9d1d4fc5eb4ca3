import type { Server } from 'restify';
import { z } from 'zod';
import type { OpenRequestIndex } from '../../application/ports/open-request-index';
import type { UseCaseDeps } from '../../application/use-cases/context';
import type { ExecutionDeps } from '../../application/use-cases/execution';
import type { TenantId } from '../../domain/shared/ids';
import { TabTokenValidator, type TabTokenValidatorOptions } from './sso-token';
import { mountTabReadApi } from './tab-api.route';
import { mountTabApprovalsApi } from './tab-approvals.route';
import { mountTabDelegationsApi } from './tab-delegations.route';
import type { WebhookKeyStore } from '../../application/ports/webhook-keys';
import { mountTabDeliveriesApi, type TabDeliveriesDeps } from './tab-deliveries.route';
import { mountTabCalendarApi } from './tab-calendar.route';
import { mountTabExecutionApi } from './tab-execution.route';
import { mountTabItilApi } from './tab-itil.route';
import { mountTabQuestionsApi } from './tab-questions.route';
import { mountTabSettingsApi } from './tab-settings.route';
import { mountTabTemplatesApi } from './tab-templates.route';
import { openRoute, parseInput, TabHttpError, type Authenticate } from './tab-http';
import { mountTabStatic } from './tab-static.route';
import { mountTabSummaryApi } from './tab-summary.route';
import { mountTabEvidenceApi } from './tab-evidence.route';
import type { EvidenceExportDeps } from '../../application/use-cases/evidence-export';
import { mountTabChangeLogApi } from './tab-change-log.route';
import { mountTabWallboardApi } from './tab-wallboard.route';

/** One sandbox person the sign-in picker offers. */
export interface SandboxSignInPerson {
  /** Stable key passed back to `issue`, e.g. `tina`. */
  readonly key: string;
  readonly name: string;
  /** Their part, e.g. "MSP technician — Contoso". */
  readonly description: string;
}

/**
 * Sandbox only: lets the page outside Teams sign in as a sandbox person. `issue` returns a token the
 * sandbox authority signed exactly as Entra would for Teams (same claims), so the tab API validates
 * it with the same rules as production.
 */
export interface SandboxSignIn {
  readonly people: readonly SandboxSignInPerson[];
  issue(personKey: string): Promise<string>;
}

export interface TabSurfaceDeps {
  readonly useCases: UseCaseDeps;
  /** The execution ports (usually the same object as `useCases`); absent without a Graph connection. */
  readonly execution?: ExecutionDeps;
  /** Token rules; Cabinet supplies which tenants it serves and the clock. */
  readonly auth: Omit<TabTokenValidatorOptions, 'tenantAllowed' | 'clock'>;
  /** The open-request index the SLA wallboard reads; the wallboard's API is mounted only with it. */
  readonly openRequests?: Pick<OpenRequestIndex, 'list' | 'outcomes'>;
  /** The outbox whose parked rows MSP leads see and retry; the Deliveries API is mounted only with it. */
  readonly outbox?: TabDeliveriesDeps['outbox'];
  /** Clients' signed-intake keys; the Settings page's "Webhook intake" box is mounted only with it. */
  readonly webhookKeys?: WebhookKeyStore;
  /** Checkpoint signer, anchors and verifier; the Evidence download is mounted only with them. */
  readonly evidence?: EvidenceExportDeps;
  /** Mounted only when given; the composition root never passes it in production. */
  readonly sandboxSignIn?: SandboxSignIn;
  readonly log: (message: string) => void;
}

const SandboxTokenBody = z.object({ person: z.string().min(1).max(40) });

/**
 * The Teams tab: static pages under `/tab/` and the JSON API under `/api/tab/`, every API call
 * authenticated by its Teams SSO token.
 * @returns the function that mounts it on the HTTP server.
 */
export function createTabSurface(deps: TabSurfaceDeps): (server: Server) => void {
  const { useCases } = deps;
  const validator = new TabTokenValidator({
    ...deps.auth,
    clock: useCases.clock,
    tenantAllowed: async (tid: TenantId) =>
      tid === useCases.mspTenantId || (await useCases.clients.get(tid)) !== undefined,
  });
  const authenticate: Authenticate = (token) => validator.validate(token);

  return (server) => {
    mountTabStatic(server);
    const execution = deps.execution ? { execution: deps.execution } : {};
    mountTabReadApi(server, { useCases, authenticate, log: deps.log, ...execution });
    mountTabExecutionApi(server, { authenticate, log: deps.log, ...execution });
    mountTabDelegationsApi(server, { useCases, authenticate, log: deps.log });
    mountTabCalendarApi(server, { useCases, authenticate, log: deps.log });
    mountTabItilApi(server, { useCases, authenticate, log: deps.log });
    mountTabApprovalsApi(server, { useCases, authenticate, log: deps.log });
    mountTabQuestionsApi(server, { useCases, authenticate, log: deps.log });
    mountTabTemplatesApi(server, { useCases, authenticate, log: deps.log });
    mountTabSettingsApi(server, {
      useCases,
      authenticate,
      log: deps.log,
      ...(deps.webhookKeys ? { webhookKeys: deps.webhookKeys } : {}),
    });
    mountTabSummaryApi(server, { useCases, authenticate, log: deps.log });
    if (deps.evidence)
      mountTabEvidenceApi(server, {
        useCases,
        evidence: deps.evidence,
        authenticate,
        log: deps.log,
      });
    mountTabChangeLogApi(server, { useCases, authenticate, log: deps.log });
    mountTabDeliveriesApi(server, {
      useCases,
      ...(deps.outbox ? { outbox: deps.outbox } : {}),
      authenticate,
      log: deps.log,
    });
    if (deps.openRequests)
      mountTabWallboardApi(server, {
        useCases,
        openRequests: deps.openRequests,
        authenticate,
        log: deps.log,
      });
    const signIn = deps.sandboxSignIn;
    if (!signIn) return;
    server.get(
      '/api/tab/sandbox/people',
      openRoute(deps.log, () => Promise.resolve({ body: { people: signIn.people } })),
    );
    server.post(
      '/api/tab/sandbox/token',
      openRoute(deps.log, async (req) => {
        const { person } = parseInput(SandboxTokenBody, req.body);
        if (!signIn.people.some((p) => p.key === person)) {
          throw new TabHttpError(
            400,
            'SANDBOX.UNKNOWN_PERSON',
            `There is no sandbox person "${person}"; pick one of ${signIn.people.map((p) => p.key).join(', ')}.`,
          );
        }
        return { body: { token: await signIn.issue(person) } };
      }),
    );
  };
}
