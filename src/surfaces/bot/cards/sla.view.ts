import type { ChangeRequest } from '../../../domain/change-request/change-request';
import type { SlaClock, SlaSnapshot } from '../../../domain/sla/sla';
import { CardVerbs } from '../card-verbs';
import { formatInstant } from './itil.view';
import { STATUS_LABELS, TYPE_LABELS } from './labels';
import { bindTemplate, type AdaptiveCardJson } from './template';

export interface SlaAlertOptions {
  readonly clientName: string;
  readonly timeZone?: string;
  /** The request's page in the tab; without it the Open button shows the status card in Teams. */
  readonly openUrl?: string;
}

/**
 * The SLA channel's card for one request: which client and request, who works on it, how late it
 * is (or how long until it falls due) on each clock, and its state, with an Open button.
 * @remarks Rendered from the SLA as the sweeper last recorded it, and "how late" is measured at that
 * check (the card says when), so a delayed or repeated delivery shows the same, true, figures.
 */
export function slaAlertCard(request: ChangeRequest, options: SlaAlertOptions): AdaptiveCardJson {
  const sla = request.sla;
  const worst = sla ? worstOf(sla) : undefined;
  const heading =
    worst === 'breached' ? 'SLA breached' : worst === 'at_risk' ? 'SLA at risk' : 'SLA';
  return bindTemplate('sla-alert', {
    title: `${heading}: ${request.id} · ${options.clientName}`,
    summary: `${TYPE_LABELS[request.type]}: ${request.title}`,
    style: worst === 'breached' ? 'attention' : worst === 'at_risk' ? 'warning' : 'default',
    facts: [
      { title: 'Client', value: options.clientName },
      { title: 'Request', value: `${request.id} (${TYPE_LABELS[request.type]})` },
      { title: 'Technician', value: request.assignee?.name || 'Nobody yet' },
      { title: 'State', value: STATUS_LABELS[request.status] },
      ...(sla
        ? [
            { title: 'Acknowledge', value: clockLine(sla.acknowledge, sla.computedAt, options) },
            { title: 'Resolve', value: clockLine(sla.resolve, sla.computedAt, options) },
          ]
        : []),
    ],
    checkedAt: sla ? formatInstant(sla.computedAt, options.timeZone) : 'not yet',
    openUrl: options.openUrl ?? '',
    statusVerb: CardVerbs.Status,
    requestId: request.id,
  });
}

function worstOf(sla: SlaSnapshot): 'breached' | 'at_risk' | undefined {
  const states = [sla.acknowledge.state, sla.resolve.state];
  if (states.includes('breached')) return 'breached';
  if (states.includes('at_risk')) return 'at_risk';
  return undefined;
}

function clockLine(clock: SlaClock, checkedAt: string, options: SlaAlertOptions): string {
  const due = formatInstant(clock.dueAt, options.timeZone);
  const gap = Date.parse(checkedAt) - Date.parse(clock.dueAt);
  switch (clock.state) {
    case 'breached':
      return clock.metAt
        ? `breached: met ${duration(Date.parse(clock.metAt) - Date.parse(clock.dueAt))} late`
        : `breached: ${duration(gap)} late (was due ${due})`;
    case 'at_risk':
      return `at risk: due in ${duration(-gap)} (${due}); ${Math.round(clock.usedMinutes)} of ${clock.targetMinutes} min used`;
    case 'on_track':
      return `on track: due ${due}`;
    case 'paused':
      return 'paused: waiting on the client';
    case 'met':
      return `met${clock.metAt ? ` ${formatInstant(clock.metAt, options.timeZone)}` : ''}`;
  }
}

/** "2 h 5 min", "45 min", "under a minute": wall-clock time, never negative. */
function duration(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'under a minute';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  return [days ? `${days} d` : '', hours ? `${hours} h` : '', rest ? `${rest} min` : '']
    .filter(Boolean)
    .join(' ');
}
