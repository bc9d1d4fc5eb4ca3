import type {
  ClientChangeLog,
  ClientMonthlyReport,
} from '../../../application/use-cases/change-log';
import { ratioText } from '../../reports/monthly-report.html';
import type { AdaptiveCardJson } from './template';

/** Changes a card lists; the tab's Change log page lists them all. */
export const MAX_LOG_ROWS = 15;

const text = (value: string, more: Record<string, unknown> = {}) => ({
  type: 'TextBlock',
  text: value,
  wrap: true,
  ...more,
});

const card = (body: unknown[], actions: unknown[] = []): AdaptiveCardJson => ({
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.5',
  body,
  ...(actions.length > 0 ? { actions } : {}),
});

/** The client's change log of a month: one block per change, who authorised it and how it went. */
export function changeLogCard(log: ClientChangeLog): AdaptiveCardJson {
  const shown = log.rows.slice(0, MAX_LOG_ROWS);
  const hidden = log.rows.length - shown.length;
  return card([
    text(`Change log: ${log.client.name}`, { size: 'Large', weight: 'Bolder' }),
    text(
      `${log.month}, ${log.timeZone} · ${log.rows.length} ${log.rows.length === 1 ? 'change' : 'changes'}`,
      {
        isSubtle: true,
        spacing: 'None',
      },
    ),
    ...(shown.length === 0 ? [text('No changes this month.')] : []),
    ...shown.map((r) => ({
      type: 'Container',
      separator: true,
      items: [
        text(`**${r.id}** ${r.title} · ${r.localDate} · ${r.changeClass}`),
        {
          type: 'FactSet',
          facts: [
            { title: 'Authorised by', value: r.authorisedBy },
            { title: 'Expected', value: r.expected },
            { title: 'Actual', value: r.actual },
            { title: 'Rollback', value: r.rollback },
          ],
        },
      ],
    })),
    ...(hidden > 0
      ? [text(`${hidden} more in the tab's Change log page.`, { isSubtle: true })]
      : []),
  ]);
}

/**
 * The monthly change report as a card: the figures and red flags; the tab's Change log page has
 * the charts and the HTML and PDF downloads.
 */
export function monthlyReportCard(report: ClientMonthlyReport): AdaptiveCardJson {
  const { summary: s, figures: f } = report;
  return card([
    text(`Monthly change report: ${s.client.name}`, { size: 'Large', weight: 'Bolder' }),
    text(`${s.month}, ${s.timeZone} · ${s.total} ${s.total === 1 ? 'change' : 'changes'}`, {
      isSubtle: true,
      spacing: 'None',
    }),
    {
      type: 'FactSet',
      facts: [
        ...f.byClass.map((c) => ({ title: c.label, value: String(c.count) })),
        {
          title: 'Emergency share',
          value: `${ratioText(f.emergencyShare)}, target at most ${Math.round(f.emergencyShareTarget * 100)} %`,
        },
        { title: 'Success rate', value: ratioText(f.success) },
        { title: 'SLA attainment', value: ratioText(f.sla) },
      ],
    },
    ...(f.redFlags.length > 0
      ? [
          text('Red flags', { weight: 'Bolder', color: 'Attention' }),
          ...f.redFlags.map((flag) =>
            text(`• ${flag.text}`, { color: 'Attention', spacing: 'None' }),
          ),
        ]
      : [text('No red flags this month.', { color: 'Good' })]),
    text("Download it as HTML or PDF from the Cabinet tab's Change log page.", { isSubtle: true }),
  ]);
}

/**
 * The card posted to a client's admins once a month has ended: the month, the headline figures
 * recorded when it was posted, and a link to the tab's report page (HTML and PDF) when the tab is
 * available.
 */
export function monthlyReportNoticeCard(options: {
  readonly clientName: string;
  readonly month: string;
  readonly headline?: string;
  readonly link?: string;
}): AdaptiveCardJson {
  return card(
    [
      text(`Monthly change report: ${options.clientName}, ${options.month}`, {
        size: 'Large',
        weight: 'Bolder',
      }),
      text(
        `Your change report for ${options.month} is ready${options.headline ? `: ${options.headline}` : ''}. It has the month's charts, red flags and change log, as HTML or PDF.`,
      ),
      ...(options.link
        ? []
        : [
            text(
              `Open it in the Cabinet tab's Change log page, or say **report ${options.month}**.`,
            ),
          ]),
    ],
    options.link ? [{ type: 'Action.OpenUrl', title: 'Open the report', url: options.link }] : [],
  );
}
