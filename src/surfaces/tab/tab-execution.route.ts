import type { Request, Server } from 'restify';
import { z } from 'zod';
import {
  listExecutions,
  previewExecution,
  rollBackExecution,
  startExecution,
  tickChecklistItem,
  type ExecutionDeps,
} from '../../application/use-cases/execution';
import type { Person } from '../../domain/change-request/change-request';
import { NOTE_MAX } from '../../domain/change-request/change-request.payloads';
import { DomainError } from '../../domain/shared/errors';
import { requestIdParam } from './tab-api.route';
import { apiRoute, parseInput, TabHttpError, unwrap, type Authenticate } from './tab-http';
import { planView, runView } from './tab-views.mapper';

/** The wizard's fields; the use case validates them against the request's type. */
const WizardFields = z.record(z.string(), z.unknown());

const PreviewBody = z.object({ options: WizardFields.optional() });

const StartBody = z.object({
  version: z.number({ message: 'is required' }).int().positive(),
  options: WizardFields.optional(),
  previewDigest: z.string().min(1).max(200).optional(),
});

const TickBody = z.object({ note: z.string().max(NOTE_MAX).optional() });

export interface TabExecutionApiDeps {
  /** Absent when Cabinet has no Graph connection: the endpoints then answer 503 and say why. */
  readonly execution?: ExecutionDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

/**
 * The wizard's API: preview a plan, execute it, follow the run, tick the checklist, roll back.
 * @remarks Every call goes through the execution use cases, which check the caller is MSP staff
 * assigned to the request's client; the tab adds nothing to that decision.
 */
export function mountTabExecutionApi(server: Server, deps: TabExecutionApiDeps): void {
  const route = (
    handler: (
      execution: ExecutionDeps,
      actor: Person,
      req: Request,
    ) => Promise<{ readonly status?: number; readonly body: unknown }>,
  ) =>
    apiRoute(deps.authenticate, deps.log, ({ actor, req }) => {
      if (!deps.execution) {
        throw new TabHttpError(
          503,
          'EXEC.UNAVAILABLE',
          'Execution is unavailable because Cabinet has no Microsoft Graph connection configured; do the work by hand and record it on the request.',
        );
      }
      return handler(deps.execution, actor, req);
    });

  server.post(
    '/api/tab/requests/:id/preview',
    route(async (execution, actor, req) => {
      const body = parseInput(PreviewBody, req.body);
      const preview = unwrap(
        await previewExecution(execution, {
          actor,
          requestId: requestIdParam(req),
          options: body.options ?? {},
        }),
      );
      return {
        body: {
          plan: planView(preview.plan),
          digest: preview.digest,
          version: preview.request.version,
          options: preview.options,
        },
      };
    }),
  );

  server.post(
    '/api/tab/requests/:id/runs',
    route(async (execution, actor, req) => {
      const body = parseInput(StartBody, req.body);
      const started = unwrap(
        await startExecution(execution, {
          actor,
          requestId: requestIdParam(req),
          version: body.version,
          options: body.options ?? {},
          ...(body.previewDigest ? { previewDigest: body.previewDigest } : {}),
        }),
      );
      return { status: 202, body: { run: runView(started.run, started.request, [started.run]) } };
    }),
  );

  server.get(
    '/api/tab/requests/:id/runs',
    route(async (execution, actor, req) => {
      const { request, runs } = unwrap(
        await listExecutions(execution, { actor, requestId: requestIdParam(req) }),
      );
      return { body: { runs: runs.map((run) => runView(run, request, runs)) } };
    }),
  );

  server.get(
    '/api/tab/requests/:id/runs/:runId',
    route(async (execution, actor, req) => {
      const { request, runs } = unwrap(
        await listExecutions(execution, { actor, requestId: requestIdParam(req) }),
      );
      const runId = param(req, 'runId');
      const run = runs.find((r) => r.id === runId);
      if (!run) throw runNotFound(runId);
      return { body: { run: runView(run, request, runs) } };
    }),
  );

  server.post(
    '/api/tab/requests/:id/runs/:runId/rollback',
    route(async (execution, actor, req) => {
      const requestId = requestIdParam(req);
      const rollback = unwrap(
        await rollBackExecution(execution, { actor, requestId, runId: param(req, 'runId') }),
      );
      return {
        status: 202,
        body: { run: runView(rollback.run, rollback.request, [rollback.run]) },
      };
    }),
  );

  server.post(
    '/api/tab/requests/:id/runs/:runId/checklist/:itemId',
    route(async (execution, actor, req) => {
      const body = parseInput(TickBody, req.body);
      const requestId = requestIdParam(req);
      const { run } = unwrap(
        await tickChecklistItem(execution, {
          actor,
          requestId,
          runId: param(req, 'runId'),
          itemId: param(req, 'itemId'),
          ...(body.note ? { note: body.note } : {}),
        }),
      );
      // The run view needs the request and its runs (roll back offered or not): read them as the caller.
      const { request, runs } = unwrap(await listExecutions(execution, { actor, requestId }));
      return { body: { run: runView(run, request, runs) } };
    }),
  );
}

function param(req: Request, name: string): string {
  const raw = (req.params as Record<string, unknown> | undefined)?.[name];
  return typeof raw === 'string' ? raw.slice(0, 80) : '';
}

function runNotFound(runId: string): DomainError {
  return new DomainError(
    'EXEC.RUN_NOT_FOUND',
    `Run ${runId.slice(0, 24)} was not found for this request.`,
  );
}
