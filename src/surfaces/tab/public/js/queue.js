// @ts-check
import { h, replace, when } from './dom.js';
import { QUEUE_FILTERS, tone } from './labels.js';

/**
 * @typedef {import('./types.js').RequestSummary} RequestSummary
 * @typedef {import('./types.js').Me} Me
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ filter: string, client: string }} QueueState
 */

/**
 * The queue: requests across the viewer's clients, grouped by client, filtered by state.
 * @param {HTMLElement} root
 * @param {Api} api
 * @param {QueueState} state
 * @param {{ openRequest: (id: string) => void, setQueueState: (state: QueueState) => void, isCurrent: () => boolean }} nav
 */
export async function renderQueue(root, api, state, nav) {
  const filter = QUEUE_FILTERS.find((f) => f.key === state.filter) ?? QUEUE_FILTERS[0];
  const query = new URLSearchParams();
  if (filter.statuses.length > 0) query.set('status', filter.statuses.join(','));
  if (state.client) query.set('client', state.client);
  query.set('limit', '200');
  const data = /** @type {{ me: Me, requests: RequestSummary[] }} */ (
    await api.get(`requests?${query}`)
  );
  if (!nav.isCurrent()) return;
  const heading = h('h1', { id: 'page-title', tabindex: '-1' }, 'Requests');
  const list = h('div', { class: 'queue' });

  const filters = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter requests',
      onSubmit: (/** @type {Event} */ e) => e.preventDefault(),
    },
    h(
      'label',
      { for: 'filter-state' },
      'Show',
      h(
        'select',
        {
          id: 'filter-state',
          onChange: (/** @type {Event} */ e) =>
            nav.setQueueState({
              ...state,
              filter: /** @type {HTMLSelectElement} */ (e.target).value,
            }),
        },
        QUEUE_FILTERS.map((f) =>
          h('option', { value: f.key, selected: f.key === filter.key }, f.label),
        ),
      ),
    ),
    data.me.clients.length > 1
      ? h(
          'label',
          { for: 'filter-client' },
          'Client',
          h(
            'select',
            {
              id: 'filter-client',
              onChange: (/** @type {Event} */ e) =>
                nav.setQueueState({
                  ...state,
                  client: /** @type {HTMLSelectElement} */ (e.target).value,
                }),
            },
            h('option', { value: '', selected: !state.client }, 'All my clients'),
            data.me.clients.map((c) =>
              h('option', { value: c.code, selected: c.code === state.client }, c.name),
            ),
          ),
        )
      : null,
  );

  if (data.me.clients.length === 0) {
    replace(
      list,
      h(
        'p',
        { class: 'notice' },
        'Cabinet does not know you as a technician or a client contact yet. Ask your MSP to add you to a client.',
      ),
    );
  } else if (data.requests.length === 0) {
    replace(list, h('p', { class: 'muted' }, `No requests to show for “${filter.label}”.`));
  } else {
    /** @type {Map<string, RequestSummary[]>} */
    const byClient = new Map();
    for (const r of data.requests)
      byClient.set(r.clientName, [...(byClient.get(r.clientName) ?? []), r]);
    replace(
      list,
      [...byClient.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([clientName, requests], i) =>
          h(
            'section',
            { class: 'client-group', 'aria-labelledby': `client-${i}` },
            h(
              'h2',
              { id: `client-${i}` },
              clientName,
              ' ',
              h('span', { class: 'count' }, `(${requests.length})`),
            ),
            h(
              'ul',
              { class: 'request-list' },
              requests.map((r) => requestItem(r, nav.openRequest)),
            ),
          ),
        ),
    );
  }
  replace(root, heading, h('p', { class: 'muted' }, greeting(data.me)), filters, list);
}

/** @param {Me} me */
function greeting(me) {
  if (me.clients.length === 0) return `Signed in as ${me.name}.`;
  const names = me.clients.map((c) => c.name).join(', ');
  return me.isMspStaff ? `${me.name}, technician for ${names}.` : `${me.name}, ${names}.`;
}

/**
 * @param {RequestSummary} r
 * @param {(id: string) => void} openRequest
 */
function requestItem(r, openRequest) {
  const href = `?request=${encodeURIComponent(r.id)}`;
  return h(
    'li',
    { class: 'request-item' },
    h(
      'a',
      {
        href,
        class: 'request-link',
        onClick: (/** @type {MouseEvent} */ e) => {
          if (e.ctrlKey || e.metaKey || e.shiftKey) return;
          e.preventDefault();
          openRequest(r.id);
        },
      },
      h('span', { class: 'request-id' }, r.id),
      h('span', { class: 'request-title' }, r.title),
    ),
    h(
      'span',
      { class: 'request-meta' },
      h('span', { class: `badge ${tone(r.status)}` }, r.statusLabel),
      h('span', {}, r.typeLabel),
      r.executable ? h('span', { class: 'tag' }, 'Wizard') : null,
      h('span', {}, `by ${r.requester}`),
      h('time', { datetime: r.updatedAt }, when(r.updatedAt)),
    ),
  );
}
