// @ts-check
import { h, replace } from './dom.js';

/**
 * The SLA wallboard for the service desk's TV: big counts, open requests by SLA state per client
 * and attainment per client as charts (each with its numbers as a table beside it), and the running
 * clocks closest to breach. It reads the board again every 15 seconds while the page is visible.
 * Every figure comes from Cabinet; this page only lays it out.
 * @typedef {import('./api.js').Api} Api
 * @typedef {'breached' | 'at_risk' | 'paused' | 'on_track' | 'met' | 'none'} WallboardState
 * @typedef {{ met: number, missed: number, share: number | null }} Attainment
 * @typedef {{
 *   code: string, name: string, timeZone: string, open: number,
 *   byState: Record<WallboardState, number>, byType: Record<string, number>, byStatus: Record<string, number>,
 *   breachesToday: number, breachesThisWeek: number, attainment: Attainment
 * }} WallboardClient
 * @typedef {{
 *   requestId: string, clientCode: string, clientName: string, title: string, type: string, status: string,
 *   assignee?: string, clock: 'acknowledge' | 'resolve', dueAt: string, minutesToBreach: number,
 *   state: 'on_track' | 'at_risk' | 'breached'
 * }} WallboardDue
 * @typedef {{
 *   generatedAt: string,
 *   totals: { open: number, byState: Record<WallboardState, number>, breachesToday: number, breachesThisWeek: number, attainment: Attainment },
 *   clients: WallboardClient[], closest: WallboardDue[]
 * }} Wallboard
 * @typedef {{ data: { labels: string[], datasets: { data: number[] }[] }, update: (mode?: string) => void, destroy: () => void }} ChartInstance
 * @typedef {new (canvas: HTMLCanvasElement, config: unknown) => ChartInstance} ChartConstructor
 */

/** How often the board is read again while it is on screen. */
const REFRESH_MS = 15_000;

/** Chart series, worst first; colours are the theme's, so the dark and contrast themes hold. */
const SERIES = /** @type {const} */ ([
  ['breached', 'Breached', '--bad-text'],
  ['at_risk', 'At risk', '--warn-text'],
  ['on_track', 'On track', '--good-text'],
  ['paused', 'Waiting on client', '--info-text'],
  ['none', 'No SLA yet', '--muted'],
]);

/** @param {string} code */
const words = (code) => code.replaceAll('_', ' ');

/** @param {number | null} share */
const percent = (share) => (share === null ? '—' : `${Math.round(share * 100)}%`);

/**
 * "in 1 h 05 min", "5 min late": how long until (or since) the clock breaches.
 * @param {number} minutes
 */
export function timeToBreach(minutes) {
  const m = Math.abs(minutes);
  const text =
    m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min` : `${m} min`;
  return minutes < 0 ? `${text} late` : `in ${text}`;
}

/** @type {Promise<ChartConstructor> | undefined} */
let chartLoaded;

/** chart.js's UMD bundle, served by Cabinet from its installed package; loaded once, on this page only. */
function loadChart() {
  chartLoaded ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = new URL('vendor/chart.umd.min.js', document.baseURI).href;
    script.onload = () =>
      resolve(/** @type {{ Chart: ChartConstructor }} */ (/** @type {unknown} */ (window)).Chart);
    script.onerror = () => {
      chartLoaded = undefined;
      reject(new Error('The chart library did not load. Reload the page.'));
    };
    document.head.append(script);
  });
  return chartLoaded;
}

/** @param {string} variable */
const colour = (variable) =>
  getComputedStyle(document.documentElement).getPropertyValue(variable).trim();

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {{ isCurrent: () => boolean }} nav
 */
export async function renderWallboard(main, api, nav) {
  const [first, Chart] = await Promise.all([
    /** @type {Promise<Wallboard>} */ (api.get('wallboard')),
    loadChart(),
  ]);
  if (!nav.isCurrent()) return;

  /** @param {string} id @param {string} label @param {string} tone */
  const tile = (id, label, tone) =>
    h(
      'div',
      { class: `wb-tile ${tone}` },
      h('span', { class: 'wb-number', id }, '0'),
      h('span', { class: 'wb-label' }, label),
    );
  const stateCanvas = /** @type {HTMLCanvasElement} */ (
    h('canvas', {
      id: 'wb-state-chart',
      role: 'img',
      'aria-label': 'Open requests by SLA state per client; the table below has the numbers.',
    })
  );
  const attainmentCanvas = /** @type {HTMLCanvasElement} */ (
    h('canvas', {
      id: 'wb-attainment-chart',
      role: 'img',
      'aria-label': 'SLA attainment per client; the table below has the numbers.',
    })
  );
  const stateBody = h('tbody', {});
  const attainmentBody = h('tbody', {});
  const closestBody = h('tbody', {});
  const updated = h('p', { class: 'muted', id: 'wb-updated' });

  replace(
    main,
    h('h1', { id: 'page-title', tabindex: '-1' }, 'SLA wallboard'),
    updated,
    h(
      'section',
      { class: 'wb-tiles', 'aria-label': 'Totals' },
      tile('wb-open', 'Open', ''),
      tile('wb-at-risk', 'At risk', 'warn'),
      tile('wb-breached', 'Breached', 'bad'),
      tile('wb-breaches-today', 'Breaches today', 'bad'),
      tile('wb-breaches-week', 'Breaches this week', 'bad'),
      tile('wb-attainment', 'Attainment', 'good'),
    ),
    h(
      'div',
      { class: 'wb-charts' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'wb-state-title' },
        h('h2', { id: 'wb-state-title' }, 'Open requests by SLA state'),
        h('div', { class: 'wb-chart' }, stateCanvas),
        h(
          'details',
          {},
          h('summary', {}, 'Numbers'),
          h(
            'table',
            { id: 'wb-state-table' },
            h('caption', { class: 'visually-hidden' }, 'Open requests by client and SLA state'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Client'),
                SERIES.map(([, label]) => h('th', { scope: 'col' }, label)),
                h('th', { scope: 'col' }, 'By type'),
              ),
            ),
            stateBody,
          ),
        ),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'wb-attainment-title' },
        h('h2', { id: 'wb-attainment-title' }, 'Attainment per client'),
        h('div', { class: 'wb-chart' }, attainmentCanvas),
        h(
          'details',
          {},
          h('summary', {}, 'Numbers'),
          h(
            'table',
            { id: 'wb-attainment-table' },
            h('caption', { class: 'visually-hidden' }, 'SLA clocks met on time per client'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Client', 'Met', 'Missed', 'Attainment', 'Breaches today', 'This week'].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
              ),
            ),
            attainmentBody,
          ),
        ),
        h(
          'p',
          { class: 'hint' },
          'Counts the clocks of open requests and of those that ended in the last 7 days: met on time, or breached.',
        ),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'wb-closest-title' },
      h('h2', { id: 'wb-closest-title' }, 'Closest to breach'),
      h(
        'table',
        { id: 'wb-closest', class: 'wb-closest' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Request', 'Client', 'Type', 'Status', 'Clock', 'Time to breach'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        closestBody,
      ),
    ),
  );

  // Large enough to read across a room.
  const font = { size: 16 };
  const axis = { ticks: { color: colour('--text'), font }, grid: { color: colour('--border') } };
  const legend = { labels: { color: colour('--text'), font } };
  const stateChart = new Chart(stateCanvas, {
    type: 'bar',
    data: {
      labels: [],
      datasets: SERIES.map(([, label, variable]) => ({
        label,
        data: [],
        backgroundColor: colour(variable),
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { ...axis, stacked: true },
        y: { ...axis, stacked: true, beginAtZero: true, ticks: { ...axis.ticks, precision: 0 } },
      },
      plugins: { legend },
    },
  });
  const attainmentChart = new Chart(attainmentCanvas, {
    type: 'bar',
    data: {
      labels: [],
      datasets: [{ label: 'Attainment %', data: [], backgroundColor: colour('--accent') }],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: axis, y: { ...axis, min: 0, max: 100 } },
      plugins: { legend },
    },
  });

  /** @param {Wallboard} board */
  const fill = (board) => {
    const t = board.totals;
    /** @type {[string, string][]} */
    const numbers = [
      ['wb-open', String(t.open)],
      ['wb-at-risk', String(t.byState.at_risk)],
      ['wb-breached', String(t.byState.breached)],
      ['wb-breaches-today', String(t.breachesToday)],
      ['wb-breaches-week', String(t.breachesThisWeek)],
      ['wb-attainment', percent(t.attainment.share)],
    ];
    for (const [id, value] of numbers) {
      const el = document.getElementById(id);
      if (el) el.textContent = value;
    }
    updated.textContent = `Updated ${new Date(board.generatedAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })}; refreshes every 15 seconds.`;

    stateChart.data.labels = board.clients.map((c) => c.name);
    SERIES.forEach(([state], i) => {
      const dataset = stateChart.data.datasets[i];
      if (dataset) dataset.data = board.clients.map((c) => c.byState[state]);
    });
    stateChart.update('none');
    attainmentChart.data.labels = board.clients.map((c) => c.name);
    const attained = attainmentChart.data.datasets[0];
    if (attained)
      attained.data = board.clients.map((c) =>
        c.attainment.share === null ? 0 : Math.round(c.attainment.share * 100),
      );
    attainmentChart.update('none');

    replace(
      stateBody,
      board.clients.map((c) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, c.name),
          SERIES.map(([state]) => h('td', {}, c.byState[state])),
          h(
            'td',
            {},
            Object.entries(c.byType)
              .map(([type, n]) => `${words(type)} ${n}`)
              .join(', ') || '—',
          ),
        ),
      ),
    );
    replace(
      attainmentBody,
      board.clients.map((c) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, c.name),
          h('td', {}, c.attainment.met),
          h('td', {}, c.attainment.missed),
          h('td', {}, percent(c.attainment.share)),
          h('td', {}, c.breachesToday),
          h('td', {}, c.breachesThisWeek),
        ),
      ),
    );
    replace(
      closestBody,
      board.closest.length > 0
        ? board.closest.map((d) =>
            h(
              'tr',
              { class: `wb-${d.state.replace('_', '-')}` },
              h(
                'td',
                {},
                h('a', { href: `?request=${encodeURIComponent(d.requestId)}` }, d.requestId),
                ' ',
                d.title,
              ),
              h('td', {}, d.clientName),
              h('td', {}, words(d.type)),
              h('td', {}, words(d.status)),
              h('td', {}, d.clock === 'acknowledge' ? 'Acknowledge' : 'Resolve'),
              h(
                'td',
                { class: 'wb-due' },
                h('strong', {}, timeToBreach(d.minutesToBreach)),
                d.state === 'breached' ? ' (breached)' : d.state === 'at_risk' ? ' (at risk)' : '',
              ),
            ),
          )
        : h('tr', {}, h('td', { colspan: 6 }, 'No clocks running.')),
    );
  };
  fill(first);

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const schedule = () => {
    stop();
    if (nav.isCurrent() && document.visibilityState === 'visible')
      timer = setTimeout(refresh, REFRESH_MS);
  };
  const refresh = () => {
    timer = undefined;
    if (!nav.isCurrent()) return leave();
    api.get('wallboard').then(
      (board) => {
        if (!nav.isCurrent()) return leave();
        fill(/** @type {Wallboard} */ (board));
        schedule();
      },
      // A failed read leaves the last board up and tries again at the next tick.
      () => schedule(),
    );
  };
  const onVisibility = () => {
    if (!nav.isCurrent()) return leave();
    if (document.visibilityState === 'visible') refresh();
    else stop();
  };
  const leave = () => {
    stop();
    document.removeEventListener('visibilitychange', onVisibility);
    stateChart.destroy();
    attainmentChart.destroy();
  };
  document.addEventListener('visibilitychange', onVisibility);
  schedule();
}
