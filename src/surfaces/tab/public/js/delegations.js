// @ts-check
import { ApiError, segment } from './api.js';
import { announce, h, replace, when } from './dom.js';

/**
 * Approval delegations: hand my seat for one client to someone on my side while I am away, see
 * what I gave and received, and (as an MSP lead) every delegation of my clients. Cabinet decides
 * who may delegate to whom; this page only offers what it was told.
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ id: string, client: string, clientName: string, from: string, to: string, mine: boolean, riskCeiling: string, validFrom: string, validUntil: string, revokedAt?: string, inForce: boolean, ended: boolean, mayRevoke: boolean }} DelegationDto
 * @typedef {{ client: string, clientName: string, candidates: { oid: string, name: string }[] }} DelegationOption
 * @typedef {{ mine: DelegationDto[], options: DelegationOption[], led: { client: string, delegations: DelegationDto[] }[] }} DelegationsPage
 */

const RISKS = ['low', 'medium', 'high', 'critical'];

/** @param {DelegationDto} d */
function statusOf(d) {
  if (d.revokedAt) return `Revoked ${when(d.revokedAt)}`;
  if (d.inForce) return 'In force';
  return d.ended ? 'Expired' : 'Starts later';
}

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {{ isCurrent: () => boolean }} nav
 */
export async function renderDelegations(main, api, nav) {
  const page = /** @type {DelegationsPage} */ (await api.get('delegations'));
  if (!nav.isCurrent()) return;
  const reload = () => renderDelegations(main, api, nav);
  replace(
    main,
    h('h1', { id: 'page-title', tabindex: '-1' }, 'Delegations'),
    page.options.length > 0
      ? delegateForm(api, page.options, reload)
      : h('p', { class: 'muted' }, 'You hold no approval seat you could delegate.'),
    h('h2', {}, 'Given and received'),
    delegationTable(api, page.mine, reload, 'You have not delegated or received any approvals.'),
    page.led.map((c) => [
      h('h2', {}, `All delegations for ${c.client}`),
      delegationTable(api, c.delegations, reload, 'None.'),
    ]),
  );
}

/**
 * @param {Api} api
 * @param {DelegationDto[]} rows
 * @param {() => Promise<void>} reload
 * @param {string} empty
 */
function delegationTable(api, rows, reload, empty) {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'table',
    { class: 'delegations' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Client', 'From', 'To', 'Up to risk', 'Starts', 'Ends', 'Status', ''].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((d) =>
        h(
          'tr',
          { 'data-delegation': d.id },
          h('td', {}, d.client),
          h('td', {}, d.from),
          h('td', {}, d.to),
          h('td', {}, d.riskCeiling),
          h('td', {}, when(d.validFrom)),
          h('td', {}, when(d.validUntil)),
          h('td', {}, statusOf(d)),
          h(
            'td',
            {},
            d.mayRevoke
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    onClick: () => {
                      void api.post(`delegations/${segment(d.id)}/revoke`).then(
                        () => {
                          announce(`Delegation to ${d.to} revoked.`);
                          return reload();
                        },
                        (/** @type {unknown} */ error) =>
                          announce(error instanceof Error ? error.message : String(error)),
                      );
                    },
                  },
                  'Revoke',
                )
              : null,
          ),
        ),
      ),
    ),
  );
}

/**
 * @param {Api} api
 * @param {DelegationOption[]} options
 * @param {() => Promise<void>} reload
 */
function delegateForm(api, options, reload) {
  const alertBox = h('div', { role: 'alert' });
  const client = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'client', id: 'dl-client' },
      options.map((o) => h('option', { value: o.client }, o.clientName)),
    )
  );
  const to = /** @type {HTMLSelectElement} */ (h('select', { name: 'to', id: 'dl-to' }));
  const fillCandidates = () => {
    const chosen = options.find((o) => o.client === client.value) ?? options[0];
    replace(
      to,
      (chosen?.candidates ?? []).map((p) => h('option', { value: p.oid }, p.name)),
    );
  };
  client.addEventListener('change', fillCandidates);
  fillCandidates();
  const risk = h(
    'select',
    { name: 'riskCeiling', id: 'dl-risk' },
    RISKS.map((r) => h('option', { value: r }, r)),
  );
  const from = h('input', { type: 'datetime-local', name: 'validFrom', id: 'dl-from' });
  const until = h('input', {
    type: 'datetime-local',
    name: 'validUntil',
    id: 'dl-until',
    required: true,
  });
  const field = (
    /** @type {string} */ id,
    /** @type {string} */ label,
    /** @type {HTMLElement} */ el,
  ) => h('p', { class: 'field' }, h('label', { for: id }, label), el);
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'delegate' },
      h('h2', {}, 'Delegate my approvals'),
      field('dl-client', 'Client', client),
      field('dl-to', 'To', to),
      field('dl-risk', 'Up to risk', risk),
      field('dl-from', 'From (empty: now)', from),
      field('dl-until', 'Until', until),
      alertBox,
      h('button', { type: 'submit' }, 'Delegate'),
    )
  );
  /** A local date-time from the picker as an instant with its zone, as Cabinet requires. */
  const instant = (/** @type {string} */ local) => (local ? new Date(local).toISOString() : '');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = (/** @type {string} */ name) => {
      const value = data.get(name);
      return typeof value === 'string' ? value : '';
    };
    const validFrom = instant(text('validFrom'));
    void api
      .post('delegations', {
        client: data.get('client'),
        to: data.get('to'),
        riskCeiling: data.get('riskCeiling'),
        ...(validFrom ? { validFrom } : {}),
        validUntil: instant(text('validUntil')),
      })
      .then(
        () => {
          announce('Delegation saved.');
          return reload();
        },
        (/** @type {unknown} */ error) => {
          replace(
            alertBox,
            h(
              'div',
              { class: 'alert' },
              h('p', {}, error instanceof Error ? error.message : String(error)),
              error instanceof ApiError && error.issues.length > 0
                ? h(
                    'ul',
                    {},
                    error.issues.map((i) => h('li', {}, `${i.field}: ${i.message}`)),
                  )
                : null,
            ),
          );
          alertBox.focus();
        },
      );
  });
  return form;
}
