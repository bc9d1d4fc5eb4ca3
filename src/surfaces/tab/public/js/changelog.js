// @ts-check
import { h, replace } from './dom.js';
import { monthToolbar } from './month-toolbar.js';

/**
 * The client's change log and its monthly change report: one row per change (who authorised it,
 * what was expected and what happened, rollback), the report's figures and red flags, and the
 * report as HTML or PDF to download. The client is the viewer's own (a client user) or the one
 * picked (MSP staff); Cabinet decides which clients the viewer may see.
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('./types.js').Me} Me
 * @typedef {{ id: string, localDate: string, title: string, changeClass: string, authorisedBy: string,
 *   expected: string, actual: string, rollback: string }} LogRow
 * @typedef {{ count: number, of: number, rate?: number }} Ratio
 * @typedef {{ code: string, text: string, requestIds: string[] }} RedFlag
 * @typedef {{ summary: { client: { code: string, name: string }, month: string, timeZone: string, total: number },
 *   figures: { emergencyShare: Ratio, emergencyShareTarget: number, success: Ratio, sla: Ratio,
 *   redFlags: RedFlag[], log: LogRow[] } }} Report
 * @typedef {{ client: string, month: string }} LogState
 */

/** @param {Ratio} r */
const ratio = (r) =>
  r.rate === undefined ? 'none measured' : `${r.count} of ${r.of} (${Math.round(r.rate * 100)} %)`;

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {LogState} requested
 * @param {{ setState: (state: LogState) => void, isCurrent: () => boolean }} nav
 */
export async function renderChangeLog(main, api, requested, nav) {
  const me = /** @type {Me} */ (await api.get('me'));
  const client = requested.client || me.clients[0]?.code || '';
  const query = new URLSearchParams({ client });
  if (requested.month) query.set('month', requested.month);
  const report = /** @type {Report} */ (await api.get(`report?${query.toString()}`));
  if (!nav.isCurrent()) return;
  const { summary: s, figures: f } = report;
  const status = h('p', { id: 'log-download-status', role: 'status' });
  /** @param {'html' | 'pdf'} format */
  const download = async (format) => {
    const file = new URLSearchParams({ client: s.client.code, month: s.month, format });
    try {
      const blob = await api.download(`report?${file.toString()}`);
      const link = h('a', {
        href: URL.createObjectURL(blob),
        download: `cabinet-report-${s.client.code}-${s.month}.${format}`,
      });
      /** @type {HTMLAnchorElement} */ (link).click();
      status.textContent = `Report downloaded (${format.toUpperCase()}).`;
    } catch (error) {
      status.textContent = `The report could not be downloaded: ${/** @type {Error} */ (error).message}`;
    }
  };
  replace(
    main,
    h('h1', { id: 'page-title', tabindex: '-1' }, `Change log: ${s.client.name}`),
    monthToolbar('log', me.clients, { client: s.client.code, month: s.month }, nav.setState),
    h(
      'p',
      { class: 'muted' },
      `${s.month}, in ${s.timeZone}: ${s.total} change${s.total === 1 ? '' : 's'}.`,
    ),
    h('h2', {}, 'Monthly report'),
    h(
      'ul',
      { id: 'log-figures' },
      h(
        'li',
        {},
        `Emergency share: ${ratio(f.emergencyShare)}, target at most ${Math.round(f.emergencyShareTarget * 100)} %`,
      ),
      h('li', {}, `Success rate: ${ratio(f.success)}`),
      h('li', {}, `SLA attainment: ${ratio(f.sla)}`),
    ),
    f.redFlags.length === 0
      ? h('p', { id: 'log-red-flags' }, 'No red flags this month.')
      : h(
          'ul',
          { id: 'log-red-flags', class: 'alert' },
          f.redFlags.map((flag) => h('li', {}, flag.text)),
        ),
    h(
      'p',
      { class: 'toolbar' },
      h(
        'button',
        { type: 'button', onClick: () => void download('html') },
        'Download report (HTML)',
      ),
      h('button', { type: 'button', onClick: () => void download('pdf') }, 'Download report (PDF)'),
    ),
    status,
    h('h2', { id: 'log-title' }, 'Changes'),
    f.log.length === 0
      ? h('p', { class: 'muted' }, 'No changes this month.')
      : h(
          'table',
          { id: 'change-log', 'aria-labelledby': 'log-title' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Date', 'Request', 'What', 'Authorised by', 'Expected', 'Actual', 'Rollback'].map(
                (t) => h('th', { scope: 'col' }, t),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            f.log.map((r) =>
              h(
                'tr',
                {},
                [
                  r.localDate,
                  h('a', { href: `?request=${encodeURIComponent(r.id)}` }, r.id),
                  r.title,
                  r.authorisedBy,
                  r.expected,
                  r.actual,
                  r.rollback,
                ].map((c) => h('td', {}, c)),
              ),
            ),
          ),
        ),
  );
}
