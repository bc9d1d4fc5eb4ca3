// @ts-check
import { announce, h, replace, when } from './dom.js';

/**
 * Parked deliveries (MSP leads): what Cabinet could not deliver for the clients I lead (a PSA that
 * refused a ticket or note, a Teams message nobody could receive), with the last error and Retry.
 * Cabinet checks again on Retry that I lead that client.
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ tenantId: string, rowId: string, clientCode: string, clientName: string, requestId?: string, what: string, attempts: number, lastError: string, queuedAt: string }} DeliveryDto
 */

/** @param {string} id */
const requestHref = (id) => `?request=${encodeURIComponent(id)}`;

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {{ isCurrent: () => boolean }} nav
 */
export async function renderDeliveries(main, api, nav) {
  const { items } = /** @type {{ items: DeliveryDto[] }} */ (await api.get('deliveries'));
  if (!nav.isCurrent()) return;
  const title = h('h1', { id: 'page-title', tabindex: '-1' }, 'Deliveries');
  if (items.length === 0) {
    replace(
      main,
      title,
      h('p', { class: 'muted' }, 'Nothing is parked: every delivery went through.'),
    );
    return;
  }

  /**
   * @param {DeliveryDto} item
   * @param {HTMLButtonElement} button
   * @param {HTMLElement} outcome
   */
  async function retry(item, button, outcome) {
    button.disabled = true;
    try {
      await api.post('deliveries/retry', { tenantId: item.tenantId, rowId: item.rowId });
      replace(outcome, 'Due again: the relay tries it on its next pass.');
      announce(`Delivery for ${item.requestId ?? item.clientName} is due again.`);
    } catch (error) {
      button.disabled = false;
      replace(outcome, `Not retried: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const table = h(
    'table',
    { class: 'deliveries' },
    h('caption', {}, 'Parked deliveries of the clients you lead, oldest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Client', 'Request', 'What', 'Attempts', 'Last error', 'Queued', 'Retry'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      items.map((item) => {
        const outcome = h('span', { class: 'retry-outcome', role: 'status' });
        const button = /** @type {HTMLButtonElement} */ (
          h(
            'button',
            {
              type: 'button',
              'aria-label': `Retry ${item.what}`,
              onClick: () => void retry(item, button, outcome),
            },
            'Retry',
          )
        );
        return h(
          'tr',
          { 'data-row': item.rowId },
          h('th', { scope: 'row' }, item.clientName),
          h(
            'td',
            {},
            item.requestId ? h('a', { href: requestHref(item.requestId) }, item.requestId) : '—',
          ),
          h('td', {}, item.what),
          h('td', {}, String(item.attempts)),
          h('td', { class: 'last-error' }, item.lastError),
          h('td', {}, when(item.queuedAt)),
          h('td', {}, button, ' ', outcome),
        );
      }),
    ),
  );
  replace(
    main,
    title,
    h(
      'p',
      {},
      'Cabinet gave up on these after its retries. Fix the cause (a PSA mapping, a credential), then retry.',
    ),
    table,
  );
}
