import type { Request, Server } from 'restify';
import { z } from 'zod';
import type { UseCaseDeps } from '../../application/use-cases/context';
import {
  exportEvidenceFor,
  type EvidenceExportDeps,
} from '../../application/use-cases/evidence-export';
import { apiRoute, parseInput, unwrap, type Authenticate } from './tab-http';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

/** `?from=2026-11-01&to=2026-11-30[&client=CONTOSO]`; a client's own admins need no client. */
const EvidenceQuery = z.object({
  from: Day,
  to: Day,
  client: z
    .string()
    .max(64)
    .optional()
    .transform((v) => v || undefined),
});

export interface TabEvidenceDeps {
  readonly useCases: UseCaseDeps;
  readonly evidence: EvidenceExportDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

/**
 * The evidence bundle of one client as a ZIP download: for the MSP leads who serve the client and
 * the client's own admins. The tenant comes from the token (a client admin) or from the caller's
 * own memberships (an MSP lead naming one of their clients), never from the URL alone.
 */
export function mountTabEvidenceApi(server: Server, deps: TabEvidenceDeps): void {
  server.get(
    '/api/tab/evidence',
    apiRoute(deps.authenticate, deps.log, async ({ actor, req }) => {
      const query = parseInput(EvidenceQuery, queryOf(req));
      const bundle = unwrap(
        await exportEvidenceFor(
          {
            ...deps.evidence,
            clients: deps.useCases.clients,
            mspTenantId: deps.useCases.mspTenantId,
          },
          {
            actor,
            from: query.from,
            to: query.to,
            ...(query.client ? { client: query.client } : {}),
          },
        ),
      );
      return {
        body: undefined,
        file: {
          bytes: bundle.zip,
          headers: {
            'content-type': 'application/zip',
            'content-disposition': `attachment; filename="${bundle.fileName}"`,
          },
        },
      };
    }),
  );
}

function queryOf(req: Request): Record<string, string> {
  const params = new URL(req.url ?? '/', 'http://tab.invalid').searchParams;
  return Object.fromEntries(params.entries());
}
