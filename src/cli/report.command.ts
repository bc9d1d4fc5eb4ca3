import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { clientMonthlyReport } from '../application/use-cases/change-log';
import type { UseCaseDeps } from '../application/use-cases/context';
import {
  clientMonthlySummary,
  type ClientMonthlySummary,
} from '../application/use-cases/monthly-summary';
import { asClientCode, asTenantId } from '../domain/shared/ids';
import { monthlyReportHtml } from '../surfaces/reports/monthly-report.html';
import { monthlyReportPdf } from '../surfaces/reports/monthly-report.pdf';

export type ReportCommandDeps = Pick<
  UseCaseDeps,
  'requests' | 'templates' | 'clients' | 'clock'
> & {
  readonly out: (line: string) => void;
};

export const REPORT_USAGE = `cabinet report monthly --client <CODE> [--month YYYY-MM] [--json] [--pdf out.pdf] [--html out.html]
  the client's monthly change summary (its calendar month, in its time zone; default this month):
  counts by class and outcome, standard changes, emergencies against the quota, normal and open changes;
  --pdf/--html also write the monthly change report (charts, red flags, change log) to those files`;

/** `cabinet report …`: reports an operator reads from Cabinet's storage. Returns the exit code. */
export async function runReportCommand(
  args: readonly string[],
  deps: ReportCommandDeps,
): Promise<number> {
  const fail = (message: string) => {
    deps.out(message);
    return 1;
  };
  const [command, ...rest] = args;
  if (command !== 'monthly') return fail(REPORT_USAGE);
  let values: { client?: string; month?: string; json?: boolean; pdf?: string; html?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        client: { type: 'string' },
        month: { type: 'string' },
        json: { type: 'boolean' },
        pdf: { type: 'string' },
        html: { type: 'string' },
      },
      allowPositionals: false,
    }));
  } catch (error: unknown) {
    return fail(`${(error as Error).message}\n${REPORT_USAGE}`);
  }
  if (!values.client) return fail(`report monthly needs --client <CODE>.\n${REPORT_USAGE}`);
  const code = asClientCode(values.client);
  const tenantId = asTenantId(values.client);
  const stored =
    (code ? await deps.clients.getByCode(code) : undefined) ??
    (tenantId ? await deps.clients.get(tenantId) : undefined);
  if (!stored)
    return fail(
      `No client ${values.client.slice(0, 60)}; give its code or tenant id (see "cabinet clients list").`,
    );
  const result = await clientMonthlySummary(deps, stored.profile, values.month);
  if (!result.ok) return fail(`${result.error.message} (${result.error.code})`);
  if (values.json) deps.out(JSON.stringify(result.value, null, 2));
  else for (const line of summaryLines(result.value)) deps.out(line);
  if (values.pdf || values.html) {
    const report = await clientMonthlyReport(deps, stored.profile, result.value.month);
    if (!report.ok) return fail(`${report.error.message} (${report.error.code})`);
    if (values.html) {
      await writeFile(values.html, monthlyReportHtml(report.value), 'utf8');
      deps.out(`Report written to ${values.html}`);
    }
    if (values.pdf) {
      await writeFile(values.pdf, await monthlyReportPdf(report.value));
      deps.out(`Report written to ${values.pdf}`);
    }
  }
  return 0;
}

/** The summary as plain text, one line per change. */
export function summaryLines(s: ClientMonthlySummary): string[] {
  const counts = (o: Readonly<Record<string, number>>) =>
    Object.entries(o)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k.replaceAll('_', ' ')} ${n}`)
      .join(', ') || 'none';
  const section = (title: string, rows: string[]) => [
    title,
    ...(rows.length > 0 ? rows.map((r) => `  ${r}`) : ['  none']),
  ];
  return [
    `Monthly change summary: ${s.client.name} (${s.client.code}), ${s.month} (${s.timeZone})`,
    `Changes: ${s.total} (${counts(s.byClass)})`,
    `Outcomes: ${counts(s.byOutcome)}`,
    `Emergency quota: ${s.emergencyQuota.line}${s.emergencyQuota.flagged ? '  [FLAGGED]' : ''}`,
    ...section(
      'Standard changes:',
      s.standard.map(
        (c) =>
          `${c.id}\t${c.title}\t${c.templateName ?? c.templateId ?? 'no template'}\t${c.outcome}`,
      ),
    ),
    ...section(
      'Emergencies:',
      s.emergencies.map(
        (c) =>
          `${c.id}\t${c.title}\tretrospective ${c.retrospective.replaceAll('_', ' ')}, review ${c.review.replaceAll('_', ' ')}\t${c.outcome}${c.overEmergencyQuota ? '\tover quota' : ''}`,
      ),
    ),
    ...section(
      'Normal changes:',
      s.normal.map(
        (c) =>
          `${c.id}\t${c.title}\t${c.window ? `${c.window.localStart} to ${c.window.localEnd}` : 'no slot'}\t${c.outcome}`,
      ),
    ),
    ...section(
      'Still open:',
      s.open.map((c) => `${c.id}\t${c.title}\t${c.changeClass}\t${c.status.replaceAll('_', ' ')}`),
    ),
  ];
}
