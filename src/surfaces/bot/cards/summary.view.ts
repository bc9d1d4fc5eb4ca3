import type { ClientMonthlySummary } from '../../../application/use-cases/monthly-summary';
import type { SummaryOutcome } from '../../../domain/reporting/monthly-summary';
import { CLASS_LABELS, OUTCOME_LABELS, STATUS_LABELS } from './labels';
import { bindTemplate, type AdaptiveCardJson } from './template';

/** Lines per section a card shows; the tab's Summary page lists them all. */
export const MAX_SUMMARY_ROWS = 15;

const SUMMARY_OUTCOME_LABELS: { readonly [O in SummaryOutcome]: string } = {
  ...OUTCOME_LABELS,
  denied: 'Denied',
  cancelled: 'Cancelled',
  open: 'Open',
};

const words = (code: string) => code.replaceAll('_', ' ');

/** The monthly change summary as a card: counts, the emergency quota line, one line per change. */
export function monthlySummaryCard(s: ClientMonthlySummary): AdaptiveCardJson {
  const counts = <K extends string>(byKey: Readonly<Record<K, number>>, label: (k: K) => string) =>
    (Object.entries(byKey) as [K, number][])
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${label(k)}`)
      .join(', ') || 'none';
  const section = <T>(title: string, rows: readonly T[], row: (r: T) => SummaryRow) => {
    const shown = rows.slice(0, MAX_SUMMARY_ROWS).map(row);
    const hidden = rows.length - shown.length;
    return {
      title: hidden > 0 ? `${title} (${rows.length}; the tab's Summary page lists all)` : title,
      rows: shown,
    };
  };
  return bindTemplate('monthly-summary', {
    heading: `Monthly summary: ${s.client.name}`,
    subheading: `${s.month}, ${s.timeZone}`,
    counts: `${s.total} (${counts(s.byClass, (c) => c)})`,
    outcomes: counts(s.byOutcome, (o) => SUMMARY_OUTCOME_LABELS[o].toLowerCase()),
    quotaLine: `Emergency quota: ${s.emergencyQuota.line}${s.emergencyQuota.flagged ? ' (flagged)' : ''}`,
    quotaColor: s.emergencyQuota.flagged ? 'Attention' : 'Default',
    quotaWeight: s.emergencyQuota.flagged ? 'Bolder' : 'Default',
    sections: [
      section('Standard changes', s.standard, (c) => ({
        id: c.id,
        title: c.title,
        detail: `${c.templateName ?? c.templateId ?? 'no template'} · ${SUMMARY_OUTCOME_LABELS[c.outcome]}`,
      })),
      section('Emergencies', s.emergencies, (c) => ({
        id: c.id,
        title: c.title,
        detail: [
          `retrospective ${words(c.retrospective)}`,
          `review ${words(c.review)}`,
          SUMMARY_OUTCOME_LABELS[c.outcome],
          ...(c.overEmergencyQuota ? ['over quota'] : []),
        ].join(' · '),
      })),
      section('Normal changes', s.normal, (c) => ({
        id: c.id,
        title: c.title,
        detail: `${c.window ? `${c.window.localStart} to ${c.window.localEnd}` : 'not booked'} · ${SUMMARY_OUTCOME_LABELS[c.outcome]}`,
      })),
      section('Still open', s.open, (c) => ({
        id: c.id,
        title: c.title,
        detail: `${CLASS_LABELS[c.changeClass]} · ${STATUS_LABELS[c.status]}`,
      })),
    ],
  });
}

interface SummaryRow {
  readonly id: string;
  readonly title: string;
  readonly detail: string;
}
