import type { Request, Server } from 'restify';
import { z } from 'zod';
import { changeCalendar } from '../../application/use-cases/calendar';
import type { UseCaseDeps } from '../../application/use-cases/context';
import { apiRoute, parseInput, unwrap, type Authenticate } from './tab-http';

/**
 * `?client=<tenant id>&from=2026-03-16&to=2026-04-13`: `from`/`to` are local dates in the
 * calendar's zone or instants with an offset. The client only narrows the caller's own scope.
 */
const CalendarQuery = z.object({
  client: z
    .string()
    .max(64)
    .optional()
    .transform((v) => v || undefined),
  from: z.string().min(1, 'is required').max(40),
  to: z.string().min(1, 'is required').max(40),
});

export interface TabCalendarDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

/** The change calendar: windows, blackouts and scheduled changes with their conflicts. */
export function mountTabCalendarApi(server: Server, deps: TabCalendarDeps): void {
  server.get(
    '/api/tab/calendar',
    apiRoute(deps.authenticate, deps.log, async ({ actor, req }) => {
      const query = parseInput(CalendarQuery, queryOf(req));
      const calendar = unwrap(
        await changeCalendar(deps.useCases, {
          actor,
          from: query.from,
          to: query.to,
          ...(query.client ? { clientTenantId: query.client } : {}),
        }),
      );
      return { body: calendar };
    }),
  );
}

function queryOf(req: Request): Record<string, string> {
  const params = new URL(req.url ?? '/', 'http://tab.invalid').searchParams;
  return Object.fromEntries(params.entries());
}
