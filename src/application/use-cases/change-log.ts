import type { ClientProfile } from '../../domain/client/client';
import { changeLog, type ChangeLogRow } from '../../domain/reporting/change-log';
import {
  monthlyReportFigures,
  type MonthlyReportFigures,
} from '../../domain/reporting/monthly-report';
import type { DomainError } from '../../domain/shared/errors';
import { ok, type Result } from '../../domain/shared/result';
import type { UseCaseDeps } from './context';
import {
  clientMonthlySummary,
  monthlySummary,
  type ClientMonthlySummary,
  type MonthlySummaryInput,
} from './monthly-summary';

/** Requests read per log or report: the same bound as the monthly summary's. */
const REQUESTS_READ = 10_000;

/** The client's change log for one month of its zone. */
export interface ClientChangeLog {
  readonly client: ClientMonthlySummary['client'];
  readonly month: string;
  readonly timeZone: string;
  readonly rows: readonly ChangeLogRow[];
}

/** The monthly change report: the summary and the figures, charts and red flags built on it. */
export interface ClientMonthlyReport {
  readonly summary: ClientMonthlySummary;
  readonly figures: MonthlyReportFigures;
}

/**
 * The change log of one client for anyone with a part in it (client admins and approvers of that
 * tenant, the MSP staff who serve it).
 * @remarks The client comes from the authenticated identity: a client-tenant user only ever reaches
 * their own tenant, whatever client they name; a client they have no part in answers as not found.
 */
export async function clientChangeLog(
  deps: UseCaseDeps,
  input: MonthlySummaryInput,
): Promise<Result<ClientChangeLog, DomainError>> {
  const summary = await monthlySummary(deps, input);
  if (!summary.ok) return summary;
  const s = summary.value;
  const requests = await deps.requests.list(s.client.tenantId, { limit: REQUESTS_READ });
  return ok({
    client: s.client,
    month: s.month,
    timeZone: s.timeZone,
    rows: changeLog(requests, {
      tenantId: s.client.tenantId,
      month: s.month,
      timeZone: s.timeZone,
    }),
  });
}

/** The monthly change report of one client, with the same access as {@link clientChangeLog}. */
export async function monthlyReport(
  deps: UseCaseDeps,
  input: MonthlySummaryInput,
): Promise<Result<ClientMonthlyReport, DomainError>> {
  const summary = await monthlySummary(deps, input);
  if (!summary.ok) return summary;
  return ok(await withFigures(deps, summary.value));
}

/** The report of a client already in scope (the CLI, the monthly poster). */
export async function clientMonthlyReport(
  deps: Pick<UseCaseDeps, 'requests' | 'templates' | 'clock'>,
  client: ClientProfile,
  month?: string,
): Promise<Result<ClientMonthlyReport, DomainError>> {
  const summary = await clientMonthlySummary(deps, client, month);
  if (!summary.ok) return summary;
  return ok(await withFigures(deps, summary.value));
}

async function withFigures(
  deps: Pick<UseCaseDeps, 'requests'>,
  summary: ClientMonthlySummary,
): Promise<ClientMonthlyReport> {
  const requests = await deps.requests.list(summary.client.tenantId, { limit: REQUESTS_READ });
  return { summary, figures: monthlyReportFigures(summary, requests) };
}
