// @ts-check
import { h, replace } from './dom.js';
import { monthToolbar } from './month-toolbar.js';

/**
 * The monthly change summary of one client: counts, the standard changes it heard of only here,
 * emergencies against the quota, normal changes with their slots and what is still open. Every
 * figure comes from Cabinet; this page only lays it out.
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('./types.js').Me} Me
 * @typedef {{ id: string, title: string, status: string, outcome: string }} Item
 * @typedef {Item & { templateId?: string, templateName?: string }} StandardItem
 * @typedef {Item & { retrospective: string, review: string, reviewDueAt?: string, overEmergencyQuota: boolean }} EmergencyItem
 * @typedef {Item & { window?: { localStart: string, localEnd: string } }} NormalItem
 * @typedef {Item & { changeClass: string }} OpenItem
 * @typedef {{ count: number, quota: number, overBy: number, flagged: boolean, line: string }} QuotaLine
 * @typedef {{
 *   client: { code: string, name: string }, month: string, timeZone: string, total: number,
 *   byClass: Record<string, number>, byOutcome: Record<string, number>,
 *   standard: StandardItem[], emergencies: EmergencyItem[], emergencyQuota: QuotaLine,
 *   normal: NormalItem[], open: OpenItem[]
 * }} MonthlySummary
 * @typedef {{ client: string, month: string }} SummaryState
 */

/** @param {string} code */
const words = (code) => code.replaceAll('_', ' ');

/** @param {string} id */
const requestLink = (id) => h('a', { href: `?request=${encodeURIComponent(id)}` }, id);

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {SummaryState} requested
 * @param {{ setState: (state: SummaryState) => void, isCurrent: () => boolean }} nav
 */
export async function renderSummary(main, api, requested, nav) {
  const me = /** @type {Me} */ (await api.get('me'));
  const client = requested.client || me.clients[0]?.code || '';
  const query = new URLSearchParams({ client });
  if (requested.month) query.set('month', requested.month);
  const data = /** @type {MonthlySummary} */ (await api.get(`summary?${query.toString()}`));
  if (!nav.isCurrent()) return;
  replace(
    main,
    h('h1', { id: 'page-title', tabindex: '-1' }, `Monthly summary: ${data.client.name}`),
    monthToolbar(
      'summary',
      me.clients,
      { client: data.client.code, month: data.month },
      nav.setState,
    ),
    h('p', { class: 'muted' }, `${data.month}, in ${data.timeZone}.`),
    h(
      'p',
      { id: 'summary-counts' },
      `${data.total} change${data.total === 1 ? '' : 's'}: ${counts(data.byClass)}. Outcomes: ${counts(data.byOutcome)}.`,
    ),
    h(
      'p',
      {
        id: 'summary-quota',
        class: data.emergencyQuota.flagged ? 'alert' : '',
        ...(data.emergencyQuota.flagged ? { role: 'status' } : {}),
      },
      `Emergency quota: ${data.emergencyQuota.line}`,
    ),
    section(
      'Standard changes',
      'summary-standard',
      ['Request', 'Title', 'Template', 'Outcome'],
      data.standard,
      (c) => [requestLink(c.id), c.title, c.templateName ?? c.templateId ?? '—', words(c.outcome)],
    ),
    section(
      'Emergencies',
      'summary-emergencies',
      ['Request', 'Title', 'Retrospective approval', 'Review', 'Outcome', 'Quota'],
      data.emergencies,
      (c) => [
        requestLink(c.id),
        c.title,
        words(c.retrospective),
        words(c.review),
        words(c.outcome),
        c.overEmergencyQuota ? 'Over quota' : '',
      ],
    ),
    section(
      'Normal changes',
      'summary-normal',
      ['Request', 'Title', 'Slot', 'Outcome'],
      data.normal,
      (c) => [
        requestLink(c.id),
        c.title,
        c.window ? `${c.window.localStart} – ${c.window.localEnd}` : 'not booked',
        words(c.outcome),
      ],
    ),
    section(
      'Still open',
      'summary-open',
      ['Request', 'Title', 'Class', 'Status'],
      data.open,
      (c) => [requestLink(c.id), c.title, c.changeClass, words(c.status)],
    ),
  );
}

/** @param {Record<string, number>} byKey */
function counts(byKey) {
  const parts = Object.entries(byKey)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${words(k)}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/**
 * @template T
 * @param {string} title
 * @param {string} id
 * @param {string[]} headings
 * @param {T[]} rows
 * @param {(row: T) => (string | Node)[]} cells
 */
function section(title, id, headings, rows, cells) {
  return [
    h('h2', { id: `${id}-title` }, title),
    rows.length === 0
      ? h('p', { class: 'muted' }, 'None this month.')
      : h(
          'table',
          { id, 'aria-labelledby': `${id}-title` },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              headings.map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((row) =>
              h(
                'tr',
                {},
                cells(row).map((c) => h('td', {}, c)),
              ),
            ),
          ),
        ),
  ];
}
