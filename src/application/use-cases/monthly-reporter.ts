import { DateTime } from 'luxon';
import { SYSTEM_OID } from '../../domain/audit/audit-event';
import type { ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import type { TenantId } from '../../domain/shared/ids';
import { monthBounds, type ReportMonth } from '../../domain/reporting/monthly-summary';
import type { AuditLog } from '../ports/audit-log';
import type { ChangeRequestStore } from '../ports/change-request-store';
import type { ClientDirectory } from '../ports/client-directory';
import type { Clock } from '../ports/clock';
import type { Lease } from '../ports/lease';
import type { MonthlyReportLedger } from '../ports/monthly-reports';
import type { TeamsNotifyMessage } from '../ports/outbox';
import type { TemplateCatalogue } from '../ports/template-catalogue';
import { clientMonthlyReport } from './change-log';
import { LeasedJob, type LeasedJobOptions } from './leased-job';

export interface MonthlyReporterDeps {
  readonly clients: Pick<ClientDirectory, 'list'>;
  readonly requests: ChangeRequestStore;
  /** The chain's first entry (`client.onboarded`) says when the client came on board. */
  readonly audit: Pick<AuditLog, 'read'>;
  readonly templates: TemplateCatalogue;
  readonly monthlyReports: MonthlyReportLedger;
  readonly clock: Clock;
  readonly outboxWritten?: (tenantId: TenantId) => void;
}

/** What one pass did: the clients whose last month's report it posted now. */
export interface MonthlyReportPass {
  readonly posted: readonly { readonly tenantId: TenantId; readonly month: string }[];
}

/**
 * Posts each client's report for the month that last ended in its zone, once: a `monthly_report`
 * card to each client admin (the card links to the tab's report page), with a
 * `report.monthly_posted` audit entry and the marker that it was posted, in one transaction.
 * @remarks A client onboarded with no admins still gets its marker and audit entry, so the month is
 * not reconsidered on every pass. A month that ended before the client was onboarded is not
 * reported (a new client hears of its first month, not of an empty one before it). The card's note
 * carries the headline figures so it needs no read.
 */
export async function postMonthlyReports(
  deps: MonthlyReporterDeps,
  options: { readonly stillHeld?: () => boolean } = {},
): Promise<MonthlyReportPass> {
  const posted: { tenantId: TenantId; month: string }[] = [];
  for (const client of await deps.clients.list()) {
    if (options.stillHeld && !options.stillHeld()) break;
    const month = lastEndedMonth(client, deps.clock.now());
    if (await deps.monthlyReports.posted(client.tenantId, month)) continue;
    if (!(await onboardedBefore(deps, client, month))) continue;
    if (await postOne(deps, client, month)) posted.push({ tenantId: client.tenantId, month });
  }
  for (const { tenantId } of posted) deps.outboxWritten?.(tenantId);
  return { posted };
}

/** The month before the one `now` falls in, in the client's zone, `YYYY-MM`. */
export function lastEndedMonth(client: ClientProfile, now: Date): string {
  return DateTime.fromJSDate(now, { zone: rulesFor(client).timeZone })
    .startOf('month')
    .minus({ months: 1 })
    .toFormat('yyyy-MM');
}

async function onboardedBefore(
  deps: MonthlyReporterDeps,
  client: ClientProfile,
  month: string,
): Promise<boolean> {
  const [first] = await deps.audit.read(client.tenantId, { fromSeq: 1, limit: 1 });
  if (!first) return false;
  const onboarded = Date.parse((JSON.parse(first.canonical) as { ts: string }).ts);
  return onboarded < monthBounds(month as ReportMonth, rulesFor(client).timeZone).end;
}

async function postOne(
  deps: MonthlyReporterDeps,
  client: ClientProfile,
  month: string,
): Promise<boolean> {
  const report = await clientMonthlyReport(deps, client, month);
  if (!report.ok) throw new Error(`${client.code} ${month}: ${report.error.message}`);
  const { summary, figures } = report.value;
  const flags = figures.redFlags.length;
  const note = `${summary.total} ${summary.total === 1 ? 'change' : 'changes'}, ${flags} red ${flags === 1 ? 'flag' : 'flags'}`;
  const cards: TeamsNotifyMessage[] = client.admins.map((admin) => ({
    kind: 'teams.notify',
    recipient: { tid: admin.tid, oid: admin.oid },
    // No request: like template cards, `requestId` names what the card is about (the month).
    notification: { template: 'monthly_report', requestId: month, version: 1, note },
  }));
  return deps.monthlyReports.record(client.tenantId, month, {
    audit: [
      {
        type: 'report.monthly_posted',
        actor: { tid: client.tenantId, oid: SYSTEM_OID },
        requestId: null,
        payload: {
          month,
          changes: summary.total,
          redFlags: figures.redFlags.map((f) => f.code),
          recipients: client.admins.length,
        },
      },
    ],
    outbox: cards,
  });
}

/** The lease every instance's monthly reporter competes for. */
export const MONTHLY_REPORTER_LEASE = 'monthly-reporter';

/**
 * Runs {@link postMonthlyReports} on an interval, on one instance at a time (see {@link LeasedJob});
 * an hourly tick posts a month's reports within the hour after it ends in each client's zone.
 */
export class MonthlyReporter {
  private readonly job: LeasedJob<MonthlyReportPass>;

  constructor(
    deps: MonthlyReporterDeps & { readonly lease: Lease },
    options: LeasedJobOptions = {},
  ) {
    this.job = new LeasedJob(
      {
        lease: MONTHLY_REPORTER_LEASE,
        title: 'Monthly reports',
        work: (stillHeld) => postMonthlyReports(deps, { stillHeld }),
      },
      deps,
      { leaseTtlMs: 60_000, ...options },
    );
  }

  /** One tick: posts if this instance holds (or can take) the lease; undefined if another holds it. */
  runOnce(): Promise<MonthlyReportPass | undefined> {
    return this.job.runOnce();
  }

  start(intervalMs: number): void {
    this.job.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
