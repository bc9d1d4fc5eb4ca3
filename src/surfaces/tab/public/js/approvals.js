// @ts-check
import { announce, h, replace, when } from './dom.js';

/**
 * The approval inbox: everything waiting for my vote across my clients, oldest first. Routine
 * low-risk items (Cabinet decides which) can be approved together; the rest are opened and read one
 * by one. Cabinet checks every item again when approving, so this page only offers what it was told.
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ id: string, version: number, clientCode: string, clientName: string, title: string, changeClass: string, classLabel: string, risk?: string, riskLabel?: string, stepName: string, waitingSince: string, onBehalfOf?: string, bulkApprovable: boolean, retrospective: boolean }} InboxItemDto
 * @typedef {{ requestId: string, outcome: 'approved' | 'refused' | 'not_eligible', status?: string, statusLabel?: string, code?: string, message?: string }} BulkResultDto
 */

/** @param {string} id */
const requestHref = (id) => `?request=${encodeURIComponent(id)}`;

/** @param {BulkResultDto} r */
function outcomeText(r) {
  // A request with further steps stays waiting: say so rather than "approved".
  if (r.outcome === 'approved')
    return r.status === 'approved'
      ? 'Approved'
      : `Your approval is recorded (now ${r.statusLabel})`;
  if (r.outcome === 'refused') return `Refused: ${r.message ?? ''}`;
  return r.message ?? 'Not eligible for bulk approval: open it to decide.';
}

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {{ isCurrent: () => boolean }} nav
 */
export async function renderApprovals(main, api, nav) {
  const { items } = /** @type {{ items: InboxItemDto[] }} */ (await api.get('approvals'));
  if (!nav.isCurrent()) return;
  const title = h('h1', { id: 'page-title', tabindex: '-1' }, 'Approvals');
  if (items.length === 0) {
    replace(main, title, h('p', { class: 'muted' }, 'Nothing waits for your approval.'));
    return;
  }
  /** @type {Map<string, { item: InboxItemDto, box?: HTMLInputElement, outcome: HTMLElement }>} */
  const rows = new Map();
  const alertBox = h('div', { role: 'alert' });
  const button = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', onClick: () => void approveSelected() }, 'Approve selected')
  );

  async function approveSelected() {
    const chosen = [...rows.values()].filter((r) => r.box?.checked && !r.box.disabled);
    replace(alertBox);
    if (chosen.length === 0) {
      replace(alertBox, h('p', { class: 'alert' }, 'Select at least one request to approve.'));
      return;
    }
    button.disabled = true;
    try {
      const { results } = /** @type {{ results: BulkResultDto[] }} */ (
        await api.post('approvals/bulk', {
          items: chosen.map((r) => ({ requestId: r.item.id, version: r.item.version })),
        })
      );
      for (const result of results) {
        const row = rows.get(result.requestId);
        if (!row) continue;
        replace(row.outcome, outcomeText(result));
        if (row.box && result.outcome !== 'refused') {
          row.box.checked = false;
          row.box.disabled = true;
        }
      }
      const count = (/** @type {string} */ kind) =>
        results.filter((r) => r.outcome === kind).length;
      announce(
        `${count('approved')} approved, ${count('refused')} refused, ${count('not_eligible')} not eligible.`,
      );
    } catch (error) {
      replace(
        alertBox,
        h('p', { class: 'alert' }, error instanceof Error ? error.message : String(error)),
      );
    } finally {
      button.disabled = false;
    }
  }

  const table = h(
    'table',
    { class: 'approvals' },
    h('caption', {}, 'Waiting for your approval, oldest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [
          'Select',
          'Request',
          'Client',
          'Title',
          'Class',
          'Risk',
          'Step',
          'Waiting since',
          'Outcome',
        ].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      items.map((item) => {
        const outcome = h('td', { class: 'bulk-outcome' });
        const box = item.bulkApprovable
          ? /** @type {HTMLInputElement} */ (
              h('input', {
                type: 'checkbox',
                name: 'approve',
                value: item.id,
                'aria-label': `Select ${item.id} for bulk approval`,
              })
            )
          : undefined;
        rows.set(item.id, { item, ...(box ? { box } : {}), outcome });
        return h(
          'tr',
          { 'data-request': item.id },
          h('td', {}, box ?? h('a', { href: requestHref(item.id) }, 'Open to decide')),
          h('th', { scope: 'row' }, h('a', { href: requestHref(item.id) }, item.id)),
          h('td', {}, item.clientName),
          h('td', {}, item.title),
          h('td', {}, item.classLabel),
          h('td', {}, item.riskLabel ?? '—'),
          h(
            'td',
            {},
            item.stepName,
            item.onBehalfOf ? ` (for ${item.onBehalfOf})` : null,
            item.retrospective ? ' — retrospective' : null,
          ),
          h('td', {}, when(item.waitingSince)),
          outcome,
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
      'Routine low-risk changes can be approved together; open the others to read and decide them.',
    ),
    table,
    alertBox,
    items.some((i) => i.bulkApprovable) ? button : null,
  );
}
