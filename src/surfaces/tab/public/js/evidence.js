// @ts-check
import { h, replace } from './dom.js';

/**
 * The Evidence page: a client's deterministic evidence bundle for a date range, downloaded as a ZIP
 * an auditor verifies offline. Offered to the client's admins (their own tenant) and to the MSP
 * leads who serve the client; Cabinet decides again on the server.
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('./types.js').Me} Me
 */

/** @param {Me['clients'][number]} c @param {boolean} isMspStaff */
const mayExport = (c, isMspStaff) =>
  c.roles.includes(isMspStaff ? 'lead' : 'client_admin');

/** `YYYY-MM-DD` of a date, UTC. @param {Date} d */
const day = (d) => d.toISOString().slice(0, 10);

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {{ isCurrent: () => boolean }} nav
 */
export async function renderEvidence(main, api, nav) {
  const me = /** @type {Me} */ (await api.get('me'));
  if (!nav.isCurrent()) return;
  const clients = me.clients.filter((c) => mayExport(c, me.isMspStaff));
  const title = h('h1', { id: 'page-title', tabindex: '-1' }, 'Evidence for auditors');
  if (clients.length === 0) {
    replace(
      main,
      title,
      h('p', {}, "Evidence bundles are for the client's admins and the MSP leads who serve it."),
    );
    return;
  }
  const now = new Date();
  const fromInput = h('input', {
    id: 'evidence-from',
    type: 'date',
    value: day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))),
  });
  const toInput = h('input', { id: 'evidence-to', type: 'date', value: day(now) });
  const clientSelect = h(
    'select',
    { id: 'evidence-client' },
    clients.map((c) => h('option', { value: c.code }, c.name)),
  );
  const status = h('p', { id: 'evidence-status', role: 'status' });
  const button = h('button', { type: 'submit', id: 'evidence-download' }, 'Download ZIP');
  const download = async () => {
    const client = /** @type {HTMLSelectElement} */ (clientSelect).value;
    const from = /** @type {HTMLInputElement} */ (fromInput).value;
    const to = /** @type {HTMLInputElement} */ (toInput).value;
    const query = new URLSearchParams({ client, from, to });
    status.textContent = 'Preparing the bundle…';
    /** @type {HTMLButtonElement} */ (button).disabled = true;
    try {
      const blob = await api.download(`evidence?${query.toString()}`);
      const link = h('a', {
        href: URL.createObjectURL(blob),
        download: `evidence-${client}-${from}-${to}.zip`,
      });
      /** @type {HTMLAnchorElement} */ (link).click();
      status.textContent = `Evidence bundle downloaded (${Math.ceil(blob.size / 1024)} KiB).`;
    } catch (error) {
      status.textContent = `The bundle could not be made: ${/** @type {Error} */ (error).message}`;
    } finally {
      /** @type {HTMLButtonElement} */ (button).disabled = false;
    }
  };
  replace(
    main,
    title,
    h(
      'p',
      {},
      'A ZIP of the client’s signed audit log from its first entry to the end of the range, the change history of the range, a control map and an offline verifier. Exporting the same range again gives the same file.',
    ),
    h(
      'form',
      {
        class: 'toolbar',
        onSubmit: (/** @type {Event} */ e) => {
          e.preventDefault();
          void download();
        },
      },
      h('label', { for: 'evidence-client' }, 'Client '),
      clientSelect,
      h('label', { for: 'evidence-from' }, ' From '),
      fromInput,
      h('label', { for: 'evidence-to' }, ' To '),
      toInput,
      button,
    ),
    status,
    h(
      'p',
      { class: 'muted' },
      'The auditor runs: node verifier/verify.mjs <bundle>.zip (Node.js 18 or later, offline). README.txt in the bundle explains the exit codes and the key fingerprint to confirm with you.',
    ),
  );
}
