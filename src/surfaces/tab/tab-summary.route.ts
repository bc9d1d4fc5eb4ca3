import type { Request, Server } from 'restify';
import { z } from 'zod';
import type { UseCaseDeps } from '../../application/use-cases/context';
import { monthlySummary } from '../../application/use-cases/monthly-summary';
import { apiRoute, parseInput, unwrap, type Authenticate } from './tab-http';

/**
 * `?client=CONTOSO&month=2026-11`: the client by code or tenant id (absent: the caller's only
 * client), the month in the client's zone (absent: this month there).
 */
const SummaryQuery = z.object({
  client: z
    .string()
    .max(64)
    .optional()
    .transform((v) => v || undefined),
  month: z
    .string()
    .max(10)
    .optional()
    .transform((v) => v || undefined),
});

export interface TabSummaryDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

/** The monthly change summary of one client. */
export function mountTabSummaryApi(server: Server, deps: TabSummaryDeps): void {
  server.get(
    '/api/tab/summary',
    apiRoute(deps.authenticate, deps.log, async ({ actor, req }) => {
      const query = parseInput(SummaryQuery, queryOf(req));
      const summary = unwrap(
        await monthlySummary(deps.useCases, {
          actor,
          ...(query.client ? { clientCode: query.client } : {}),
          ...(query.month ? { month: query.month } : {}),
        }),
      );
      return { body: summary };
    }),
  );
}

function queryOf(req: Request): Record<string, string> {
  const params = new URL(req.url ?? '/', 'http://tab.invalid').searchParams;
  return Object.fromEntries(params.entries());
}
