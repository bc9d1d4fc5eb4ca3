// @ts-check
import { announce, h, replace } from './dom.js';

/**
 * The change calendar: maintenance windows, blackouts and scheduled changes of one client (or all
 * of an MSP person's clients) as a week or month table, with each change's conflicts listed below.
 * @remarks Cabinet resolves local dates to instants in the calendar's zone and sends every time
 * back as local wall-clock text (`YYYY-MM-DDTHH:mm`), so this page does date arithmetic only on
 * plain calendar dates and never converts between zones itself.
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ view: 'week' | 'month', date: string, client: string }} CalendarState
 * @typedef {{ tenantId: string, code: string, name: string, timeZone: string }} CalendarClient
 * @typedef {{ start: string, end: string, localStart: string, localEnd: string }} LocalSpan
 * @typedef {LocalSpan & { clientCode: string, ruleId: string, name: string }} CalendarRule
 * @typedef {{ kind: string, otherId?: string, message: string }} CalendarConflict
 * @typedef {LocalSpan & { id: string, clientCode: string, title: string, changeClass: string, status: string, technician?: string, conflicts: CalendarConflict[] }} CalendarChange
 * @typedef {{ date: string, start: string, end: string }} CalendarDay
 * @typedef {{ timeZone: string, days: CalendarDay[], clients: CalendarClient[], choices: CalendarClient[], mspWide: boolean, windows: CalendarRule[], blackouts: CalendarRule[], changes: CalendarChange[] }} Calendar
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const CLASS_LABELS = /** @type {Record<string, string>} */ ({
  standard: 'Standard',
  normal: 'Normal',
  emergency: 'Emergency',
});

/** Plain calendar dates as UTC midnights: arithmetic on them is calendar arithmetic. */
const plain = (/** @type {string} */ date) => Date.parse(`${date}T00:00:00Z`);
const dateOf = (/** @type {number} */ ms) => new Date(ms).toISOString().slice(0, 10);
/** ISO weekday index, Monday = 0. */
const weekdayOf = (/** @type {number} */ ms) => (new Date(ms).getUTCDay() + 6) % 7;
const mondayOf = (/** @type {number} */ ms) => ms - weekdayOf(ms) * DAY_MS;

/** @param {string} date */
function dayLabel(date) {
  const d = new Date(plain(date));
  return `${WEEKDAYS[weekdayOf(d.getTime())]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** "00:30" from a local `YYYY-MM-DDTHH:mm`. @param {string} local */
const clock = (local) => local.slice(11, 16);

/**
 * Local start and end for people: "01:00–02:00", or with dates when it spans days.
 * @param {LocalSpan} span
 */
function timeRange(span) {
  const sameDay = span.localStart.slice(0, 10) === span.localEnd.slice(0, 10);
  const endsAtMidnight =
    clock(span.localEnd) === '00:00' &&
    plain(span.localEnd.slice(0, 10)) - plain(span.localStart.slice(0, 10)) === DAY_MS;
  if (sameDay || endsAtMidnight)
    return `${clock(span.localStart)}–${endsAtMidnight ? '24:00' : clock(span.localEnd)}`;
  return `${dayLabel(span.localStart.slice(0, 10))} ${clock(span.localStart)} – ${dayLabel(span.localEnd.slice(0, 10))} ${clock(span.localEnd)}`;
}

/** @param {LocalSpan} span @param {string} from @param {string} to local bounds */
const overlaps = (span, from, to) => span.localStart < to && span.localEnd > from;

/**
 * The dates the page asks for: the anchor's week, or the whole weeks covering its month.
 * @param {CalendarState} state
 */
function rangeOf(state) {
  const anchor = plain(state.date);
  if (state.view === 'week') {
    const from = mondayOf(anchor);
    return { from: dateOf(from), to: dateOf(from + 7 * DAY_MS), month: -1 };
  }
  const d = new Date(anchor);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const from = mondayOf(first);
  const to = mondayOf(next - DAY_MS) + 7 * DAY_MS;
  return { from: dateOf(from), to: dateOf(to), month: d.getUTCMonth() };
}

/** The anchor moved a week or a month. @param {CalendarState} state @param {number} step */
function shift(state, step) {
  const d = new Date(plain(state.date));
  if (state.view === 'week') return dateOf(d.getTime() + step * 7 * DAY_MS);
  return dateOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + step, 1));
}

/** Today's date where the browser is; only picks the first page shown. */
function today() {
  const now = new Date();
  return dateOf(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()));
}

/** @param {string} date */
const isDate = (date) => /^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(plain(date));

/**
 * @param {HTMLElement} root
 * @param {Api} api
 * @param {{ view: string, date: string, client: string }} requested
 * @param {{ setState: (state: CalendarState) => void, isCurrent: () => boolean }} nav
 */
export async function renderCalendar(root, api, requested, nav) {
  /** @type {CalendarState} */
  const state = {
    view: requested.view === 'month' ? 'month' : 'week',
    date: isDate(requested.date) ? requested.date : today(),
    client: requested.client,
  };
  const range = rangeOf(state);
  const query = new URLSearchParams({ from: range.from, to: range.to });
  if (state.client) query.set('client', state.client);
  const data = /** @type {Calendar} */ (await api.get(`calendar?${query}`));
  if (!nav.isCurrent()) return;

  const title =
    state.view === 'week'
      ? `Week of ${dayLabel(range.from)} ${range.from.slice(0, 4)}`
      : `${MONTH_NAMES[range.month]} ${state.date.slice(0, 4)}`;
  const grid =
    state.view === 'week' ? weekTable(data, range.from, title) : monthTable(data, range, title);
  replace(
    root,
    h('h1', { id: 'page-title', tabindex: '-1' }, 'Change calendar'),
    zoneNote(data),
    controls(data, state, nav),
    h('h2', { id: 'calendar-range' }, title),
    legend(),
    h('div', { class: 'calendar-scroll' }, grid),
    conflictList(data),
  );
  announce(
    `${title}: ${data.changes.length} scheduled ${data.changes.length === 1 ? 'change' : 'changes'}.`,
  );
}

/** @param {Calendar} data */
function zoneNote(data) {
  const names = data.clients.map((c) => c.name).join(', ');
  const text =
    data.clients.length === 1
      ? `Times are in ${data.timeZone}, ${names}’s time zone.`
      : data.timeZone === 'UTC' && data.clients.some((c) => c.timeZone !== 'UTC')
        ? `Times are in UTC: ${names} are in different time zones.`
        : `Times are in ${data.timeZone}, the time zone of ${names}.`;
  return h('p', { class: 'zone-note', 'data-testid': 'calendar-zone' }, text);
}

/**
 * @param {Calendar} data
 * @param {CalendarState} state
 * @param {{ setState: (state: CalendarState) => void }} nav
 */
function controls(data, state, nav) {
  const pickClient = data.mspWide || data.choices.length > 1;
  return h(
    'form',
    {
      class: 'filters calendar-controls',
      'aria-label': 'Calendar view',
      onSubmit: (/** @type {Event} */ e) => e.preventDefault(),
    },
    pickClient
      ? h(
          'label',
          { for: 'calendar-client' },
          'Client',
          h(
            'select',
            {
              id: 'calendar-client',
              onChange: (/** @type {Event} */ e) =>
                nav.setState({
                  ...state,
                  client: /** @type {HTMLSelectElement} */ (e.target).value,
                }),
            },
            data.mspWide
              ? h('option', { value: '', selected: !state.client }, 'All my clients')
              : null,
            data.choices.map((c) =>
              h('option', { value: c.tenantId, selected: c.tenantId === state.client }, c.name),
            ),
          ),
        )
      : null,
    h(
      'div',
      { class: 'view-switch', role: 'group', 'aria-label': 'View' },
      ['week', 'month'].map((view) =>
        h(
          'button',
          {
            type: 'button',
            'aria-pressed': state.view === view ? 'true' : 'false',
            onClick: () => nav.setState({ ...state, view: view === 'month' ? 'month' : 'week' }),
          },
          view === 'week' ? 'Week' : 'Month',
        ),
      ),
    ),
    h(
      'div',
      { class: 'view-switch', role: 'group', 'aria-label': 'Move' },
      h(
        'button',
        { type: 'button', onClick: () => nav.setState({ ...state, date: shift(state, -1) }) },
        state.view === 'week' ? 'Previous week' : 'Previous month',
      ),
      h(
        'button',
        { type: 'button', onClick: () => nav.setState({ ...state, date: today() }) },
        'Today',
      ),
      h(
        'button',
        { type: 'button', onClick: () => nav.setState({ ...state, date: shift(state, 1) }) },
        state.view === 'week' ? 'Next week' : 'Next month',
      ),
    ),
  );
}

function legend() {
  return h(
    'ul',
    { class: 'calendar-legend', 'aria-label': 'Key' },
    h(
      'li',
      {},
      h('span', { class: 'swatch in-window', 'aria-hidden': 'true' }),
      'Maintenance window (green)',
    ),
    h(
      'li',
      {},
      h('span', { class: 'swatch in-blackout', 'aria-hidden': 'true' }),
      'Blackout (red, hatched)',
    ),
    h('li', {}, h('span', { class: 'swatch change', 'aria-hidden': 'true' }), 'Scheduled change'),
    h(
      'li',
      {},
      h('span', { class: 'conflict-flag', 'aria-hidden': 'true' }, '⚠'),
      'Change with a conflict',
    ),
  );
}

/** @param {Calendar} data */
const multiClient = (data) => data.clients.length > 1;

/**
 * A change as a block: request number, title, class, time, and a flag linking to its conflicts.
 * @param {CalendarChange} change
 */
function changeBlock(change) {
  const count = change.conflicts.length;
  return h(
    'div',
    {
      class: `cal-change class-${change.changeClass}${count > 0 ? ' has-conflict' : ''}`,
      'data-request': change.id,
    },
    h('strong', { class: 'cal-change-id' }, change.id),
    ' ',
    h('span', { class: 'cal-change-title' }, change.title),
    h(
      'span',
      { class: 'cal-change-meta' },
      `${CLASS_LABELS[change.changeClass] ?? change.changeClass} · ${timeRange(change)}`,
      change.technician ? ` · ${change.technician}` : '',
    ),
    count > 0
      ? h(
          'a',
          {
            class: 'conflict-flag',
            href: `#conflicts-${change.id}`,
            // Focus the listed conflicts without a hash navigation (which would reload the page's route).
            onClick: (/** @type {MouseEvent} */ e) => {
              const target = document.getElementById(`conflicts-${change.id}`);
              if (!target) return;
              e.preventDefault();
              target.scrollIntoView({ block: 'nearest' });
              target.focus();
            },
          },
          `⚠ ${count} ${count === 1 ? 'conflict' : 'conflicts'}`,
        )
      : null,
  );
}

/**
 * Shading and its words for a span of local time: colour helps, the text says it.
 * @param {Calendar} data
 * @param {string} from
 * @param {string} to
 */
function shading(data, from, to) {
  const windows = data.windows.filter((w) => overlaps(w, from, to));
  const blackouts = data.blackouts.filter((b) => overlaps(b, from, to));
  const classes = [windows.length > 0 ? 'in-window' : '', blackouts.length > 0 ? 'in-blackout' : '']
    .filter(Boolean)
    .join(' ');
  return { windows, blackouts, classes };
}

/**
 * @param {Calendar} data
 * @param {CalendarRule} rule
 * @param {'Window' | 'Blackout'} kind
 */
function ruleLabel(data, rule, kind) {
  return h(
    'span',
    { class: `cal-rule ${kind === 'Window' ? 'rule-window' : 'rule-blackout'}` },
    `${kind}${multiClient(data) ? ` (${rule.clientCode})` : ''}: ${rule.name}, ${timeRange(rule)}`,
  );
}

/**
 * Week view: a row per local hour, a column per day.
 * @param {Calendar} data
 * @param {string} from first date shown
 * @param {string} title
 */
function weekTable(data, from, title) {
  const dates = Array.from({ length: 7 }, (_, i) => dateOf(plain(from) + i * DAY_MS));
  const first = `${from}T00:00`;
  const hours = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, '0'));
  return h(
    'table',
    { class: 'calendar week', 'aria-labelledby': 'calendar-range' },
    h('caption', { class: 'visually-hidden' }, `${title}, by hour`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Time'),
        dates.map((d) => h('th', { scope: 'col' }, dayLabel(d))),
      ),
    ),
    h(
      'tbody',
      {},
      hours.map((hour) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, `${hour}:00`),
          dates.map((date) => {
            const start = `${date}T${hour}:00`;
            const end = `${date}T${String(Number(hour) + 1).padStart(2, '0')}:00`;
            const startsHere = (/** @type {LocalSpan} */ s) =>
              (s.localStart >= start && s.localStart < end) ||
              (start === first && s.localStart < first && s.localEnd > first);
            const { windows, blackouts, classes } = shading(data, start, end);
            return h(
              'td',
              { class: classes || null },
              windows.length > 0 && !windows.some(startsHere)
                ? h('span', { class: 'visually-hidden' }, 'Maintenance window')
                : null,
              blackouts.length > 0 && !blackouts.some(startsHere)
                ? h('span', { class: 'visually-hidden' }, 'Blackout')
                : null,
              windows.filter(startsHere).map((w) => ruleLabel(data, w, 'Window')),
              blackouts.filter(startsHere).map((b) => ruleLabel(data, b, 'Blackout')),
              data.changes.filter(startsHere).map(changeBlock),
            );
          }),
        ),
      ),
    ),
  );
}

/**
 * Month view: a row per week, a cell per day with its windows, blackouts and changes.
 * @param {Calendar} data
 * @param {{ from: string, to: string, month: number }} range
 * @param {string} title
 */
function monthTable(data, range, title) {
  const weeks = [];
  for (let week = plain(range.from); week < plain(range.to); week += 7 * DAY_MS)
    weeks.push(Array.from({ length: 7 }, (_, i) => dateOf(week + i * DAY_MS)));
  return h(
    'table',
    { class: 'calendar month', 'aria-labelledby': 'calendar-range' },
    h('caption', { class: 'visually-hidden' }, `${title}, by day`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        WEEKDAYS.map((d) => h('th', { scope: 'col' }, d)),
      ),
    ),
    h(
      'tbody',
      {},
      weeks.map((dates) =>
        h(
          'tr',
          {},
          dates.map((date) => {
            const start = `${date}T00:00`;
            const end = `${dateOf(plain(date) + DAY_MS)}T00:00`;
            const { windows, blackouts, classes } = shading(data, start, end);
            const outside = new Date(plain(date)).getUTCMonth() !== range.month;
            const startsToday = (/** @type {LocalSpan} */ c) =>
              (c.localStart >= start && c.localStart < end) ||
              (date === range.from && c.localStart < start && c.localEnd > start);
            return h(
              'td',
              { class: [classes, outside ? 'other-month' : ''].filter(Boolean).join(' ') || null },
              h('span', { class: 'day-number' }, dayLabel(date)),
              windows.map((w) => ruleLabel(data, w, 'Window')),
              blackouts.map((b) => ruleLabel(data, b, 'Blackout')),
              data.changes.filter(startsToday).map(changeBlock),
            );
          }),
        ),
      ),
    ),
  );
}

/** @param {Calendar} data */
function conflictList(data) {
  const clashing = data.changes.filter((c) => c.conflicts.length > 0);
  return h(
    'section',
    { class: 'calendar-conflicts', 'aria-labelledby': 'conflicts-title' },
    h('h2', { id: 'conflicts-title' }, 'Conflicts'),
    clashing.length === 0
      ? h('p', { class: 'muted' }, 'No conflicts in this range.')
      : h(
          'ul',
          {},
          clashing.map((c) =>
            h(
              'li',
              { id: `conflicts-${c.id}`, tabindex: '-1' },
              h('strong', {}, `${c.id} ${c.title}`),
              h(
                'ul',
                {},
                c.conflicts.map((x) => h('li', { 'data-kind': x.kind }, x.message)),
              ),
            ),
          ),
        ),
  );
}
