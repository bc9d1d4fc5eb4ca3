import type { Request, Server } from 'restify';
import { z } from 'zod';
import { clientChangeLog, monthlyReport } from '../../application/use-cases/change-log';
import type { UseCaseDeps } from '../../application/use-cases/context';
import { monthlyReportHtml } from '../reports/monthly-report.html';
import { monthlyReportPdf } from '../reports/monthly-report.pdf';
import { apiRoute, parseInput, unwrap, type Authenticate } from './tab-http';

/**
 * `?client=CONTOSO&month=2026-11`: the client by code or tenant id (absent: the caller's only
 * client), the month in the client's zone (absent: this month there). A client user's own tenant
 * comes from their token; naming another client answers 404.
 */
const LogQuery = z.object({
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

const ReportQuery = LogQuery.extend({ format: z.enum(['json', 'html', 'pdf']).default('json') });

export interface TabChangeLogDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

/** The client's change log, and its monthly change report as JSON or a HTML/PDF download. */
export function mountTabChangeLogApi(server: Server, deps: TabChangeLogDeps): void {
  server.get(
    '/api/tab/changelog',
    apiRoute(deps.authenticate, deps.log, async ({ actor, req }) => {
      const query = parseInput(LogQuery, queryOf(req));
      const log = unwrap(await clientChangeLog(deps.useCases, { actor, ...scope(query) }));
      return { body: log };
    }),
  );
  server.get(
    '/api/tab/report',
    apiRoute(deps.authenticate, deps.log, async ({ actor, req }) => {
      const query = parseInput(ReportQuery, queryOf(req));
      const report = unwrap(await monthlyReport(deps.useCases, { actor, ...scope(query) }));
      if (query.format === 'json') return { body: report };
      const name = `cabinet-report-${report.summary.client.code}-${report.summary.month}.${query.format}`;
      const bytes =
        query.format === 'pdf'
          ? await monthlyReportPdf(report)
          : Buffer.from(monthlyReportHtml(report), 'utf8');
      return {
        body: undefined,
        file: {
          bytes,
          headers: {
            'content-type': query.format === 'pdf' ? 'application/pdf' : 'text/html; charset=utf-8',
            'content-disposition': `attachment; filename="${name}"`,
          },
        },
      };
    }),
  );
}

function scope(query: { client?: string | undefined; month?: string | undefined }) {
  return {
    ...(query.client ? { clientCode: query.client } : {}),
    ...(query.month ? { month: query.month } : {}),
  };
}

function queryOf(req: Request): Record<string, string> {
  const params = new URL(req.url ?? '/', 'http://tab.invalid').searchParams;
  return Object.fromEntries(params.entries());
}
