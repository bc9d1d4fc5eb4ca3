// @ts-check
import { h } from './dom.js';

/**
 * The "Client · Month · Show" toolbar of the monthly pages (summary, change log): the viewer's
 * clients, the month shown, and `onShow` with what was picked.
 * @param {string} idPrefix ids become `<prefix>-client` and `<prefix>-month` (labels point at them)
 * @param {{ code: string, name: string }[]} clients
 * @param {{ client: string, month: string }} shown
 * @param {(picked: { client: string, month: string }) => void} onShow
 */
export function monthToolbar(idPrefix, clients, shown, onShow) {
  const monthInput = /** @type {HTMLInputElement} */ (
    h('input', { id: `${idPrefix}-month`, type: 'month', value: shown.month })
  );
  const clientSelect = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { id: `${idPrefix}-client` },
      clients.map((c) => h('option', { value: c.code, selected: c.code === shown.client }, c.name)),
    )
  );
  return h(
    'form',
    {
      class: 'toolbar',
      onSubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        onShow({ client: clientSelect.value, month: monthInput.value });
      },
    },
    h('label', { for: `${idPrefix}-client` }, 'Client '),
    clientSelect,
    h('label', { for: `${idPrefix}-month` }, ' Month '),
    monthInput,
    h('button', { type: 'submit' }, 'Show'),
  );
}
