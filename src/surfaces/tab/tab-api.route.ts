import type { Request, Server } from 'restify';
import { z } from 'zod';
import { wouldAccept } from '../../domain/change-request/change-request.machine';
import { rulesFor } from '../../domain/client/client-rules';
import type { UseCaseDeps } from '../../application/use-cases/context';
import { listQueue, requestHistory } from '../../application/use-cases/browse-requests';
import { listExecutions, type ExecutionDeps } from '../../application/use-cases/execution';
import { identify } from '../../application/use-cases/identify';
import { CHANGE_STATUSES } from '../../domain/change-request/change-request';
import { wizardDefaults } from '../../domain/execution/wizard-options';
import { asClientCode } from '../../domain/shared/ids';
import { apiRoute, parseInput, unwrap, type Authenticate } from './tab-http';
import {
  meView,
  requestDetailView,
  requestSummaryView,
  runView,
  timelineEntryView,
  viewerView,
} from './tab-views.mapper';

/**
 * `?status=approved,in_progress&client=CONTOSO&limit=50`. Any tenant named in the query is ignored:
 * scope comes from the token and Cabinet's client directory alone.
 */
const QueueQuery = z.object({
  status: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((s) => s.trim()) : undefined))
    .pipe(
      z
        .array(z.enum(CHANGE_STATUSES, { message: `must be one of ${CHANGE_STATUSES.join(', ')}` }))
        .optional(),
    ),
  client: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const code = asClientCode(v);
      if (!code) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'is not a client code' });
      return code;
    }),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export interface TabApiDeps {
  readonly useCases: UseCaseDeps;
  /** Absent without a Graph connection: the request page then offers no wizard and says why. */
  readonly execution?: ExecutionDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

/** The tab's read API: who am I, the queue, a request with its timeline, runs and wizard defaults. */
export function mountTabReadApi(server: Server, deps: TabApiDeps): void {
  const route = (handler: Parameters<typeof apiRoute>[2]) =>
    apiRoute(deps.authenticate, deps.log, handler);

  server.get(
    '/api/tab/me',
    route(async ({ actor }) => ({ body: meView(await identify(deps.useCases, actor)) })),
  );

  server.get(
    '/api/tab/requests',
    route(async ({ actor, req }) => {
      const query = parseInput(QueueQuery, queryOf(req));
      const queue = await listQueue(deps.useCases, {
        actor,
        ...(query.status ? { statuses: query.status } : {}),
        ...(query.client ? { clientCode: query.client } : {}),
        ...(query.limit ? { limit: query.limit } : {}),
      });
      return {
        body: {
          me: meView(queue.identity),
          requests: queue.requests.map((q) => requestSummaryView(q.client, q.request)),
        },
      };
    }),
  );

  server.get(
    '/api/tab/requests/:id',
    route(async ({ actor, req }) => {
      const history = unwrap(
        await requestHistory(deps.useCases, { actor, requestId: requestIdParam(req) }),
      );
      const request = history.stored.request;
      const viewer = viewerView(
        history.roles,
        request,
        wouldAccept(request, {
          actor,
          roles: history.roles,
          now: deps.useCases.clock.now().toISOString(),
          rules: rulesFor(history.client),
        }),
      );
      const runs = deps.execution
        ? unwrap(await listExecutions(deps.execution, { actor, requestId: request.id })).runs
        : [];
      return {
        body: {
          request: requestDetailView(history.client, request),
          viewer,
          timeline: history.timeline.map(timelineEntryView),
          execution: deps.execution ? 'available' : 'unavailable',
          runs: runs.map((run) => runView(run, request, runs)),
          ...(viewer.mayExecute && deps.execution
            ? { wizard: { defaults: withoutType(wizardDefaults(request)) } }
            : {}),
        },
      };
    }),
  );
}

/** The `:id` route parameter, bounded; the use case decides whether it names anything visible. */
export function requestIdParam(req: Request): string {
  const raw = (req.params as Record<string, unknown> | undefined)?.id;
  return typeof raw === 'string' ? raw.slice(0, 40) : '';
}

function withoutType(defaults: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { type: _type, ...fields } = defaults;
  return fields;
}

function queryOf(req: Request): Record<string, string> {
  const params = new URL(req.url ?? '/', 'http://tab.invalid').searchParams;
  return Object.fromEntries(params.entries());
}
