// @ts-check
import { ApiError, segment } from './api.js';
import { alertBox, clearErrors, field, showProblem } from './assessment.js';
import { announce, h, replace } from './dom.js';

/**
 * A client's rules (issue 4 §1, §3, §5) as Cabinet applies them, defaults filled in: approval
 * steps, MSP gate, reminders, maintenance windows and blackouts in the client's zone, notice,
 * class overrides, emergency quota and review days. The client's MSP leads also edit each part as
 * JSON; Cabinet checks every field and the page shows each issue next to its part.
 * @typedef {import('./api.js').Api} Api
 * @typedef {{ kind: string, id: string, name: string, days?: string[], start?: string, end?: string, durationMinutes?: number, businessDays?: number }} Rule
 * @typedef {{
 *   client: { code: string, name: string }, mayEdit: boolean, timeZone: string,
 *   configured: Record<string, boolean>,
 *   approval: {
 *     steps: { id: string, name: string, side: string, rule: string, approvers: string[], when?: { minRisk?: string, classes?: string[], types?: string[] } }[],
 *     mspGate: boolean, sensitiveApprovers: string[],
 *     timing: { remindAfterHours: number, escalateAfterHours: number }
 *   },
 *   schedule: { maintenanceWindows: Rule[], blackouts: Rule[], noticeHours: number, emergencyExempt: boolean, windowsConfigured: boolean },
 *   classOverrides: Record<string, string>, emergencyQuotaPerMonth: number, reviewDueBusinessDays: number,
 *   sla: {
 *     targets: { type: string, acknowledgeMinutes: number, resolveMinutes: number, businessHoursOnly: boolean, overridden: boolean }[],
 *     businessHours: { days: string[], start: string, end: string }, holidays: string[]
 *   },
 *   parts?: Record<string, unknown>, people?: { tid: string, oid: string, name: string }[],
 *   webhookIntake?: boolean
 * }} SettingsView
 * @typedef {{
 *   clientCode: string, clientName: string, urlPath?: string,
 *   secrets: { kid: string, createdAt: string, retiresAt?: string, state: 'active' | 'retiring' | 'retired' }[],
 *   issued?: { kid: string, secret: string }
 * }} WebhookView
 */

const PARTS = [
  ['timeZone', 'Time zone'],
  ['approvalPolicy', 'Approval policy'],
  ['schedule', 'Schedule'],
  ['classOverrides', 'Class overrides'],
  ['emergencyQuotaPerMonth', 'Emergency quota per month'],
  ['reviewDueBusinessDays', 'Review due (business days)'],
  ['sla', 'SLA'],
  ['psa', 'PSA mapping'],
];
const SIDE = /** @type {Readonly<Record<string, string>>} */ ({
  client: 'client',
  msp: 'MSP',
  cab: 'client or MSP',
});

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {string} code
 * @param {{ isCurrent: () => boolean }} nav
 */
export async function renderSettings(main, api, code, nav) {
  const view = /** @type {SettingsView} */ (await api.get(`clients/${segment(code)}/settings`));
  if (!nav.isCurrent()) return;
  const reload = () => (nav.isCurrent() ? renderSettings(main, api, code, nav) : Promise.resolve());
  const s = view.schedule;
  const a = view.approval;
  const overrides = Object.entries(view.classOverrides);
  replace(
    main,
    h('h1', { id: 'page-title', tabindex: '-1' }, `Settings for ${view.client.name}`),
    h(
      'p',
      { class: 'hint' },
      'These are the rules Cabinet applies to this client’s changes, with Cabinet’s defaults where nothing is set.',
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'set-approval' },
      h('h2', { id: 'set-approval' }, 'Approval'),
      h(
        'ol',
        { class: 'policy-steps' },
        a.mspGate ? h('li', {}, 'MSP approval: any one MSP lead approves first') : null,
        a.steps.map((step) =>
          h(
            'li',
            {},
            h('strong', {}, step.name),
            `: ${step.rule} ${step.approvers.join(', ') || 'nobody yet'} (${SIDE[step.side] ?? step.side} side)`,
            step.when ? ` — only ${conditionText(step.when)}` : '',
          ),
        ),
      ),
      dl([
        [
          'Sensitive changes',
          a.sensitiveApprovers.length > 0
            ? `also approved by ${a.sensitiveApprovers.join(', ')}`
            : 'also approved by an MSP lead',
        ],
        ['Reminder', `after ${a.timing.remindAfterHours} h waiting`],
        ['Escalation to MSP leads', `after ${a.timing.escalateAfterHours} h waiting`],
      ]),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'set-schedule' },
      h('h2', { id: 'set-schedule' }, 'Schedule'),
      h('p', {}, `Times are in ${view.timeZone}.`),
      h('h3', {}, 'Maintenance windows'),
      s.windowsConfigured
        ? rules(s.maintenanceWindows)
        : h('p', { class: 'muted' }, 'None set: a change may be booked at any time.'),
      h('h3', {}, 'Blackouts'),
      s.blackouts.length > 0 ? rules(s.blackouts) : h('p', { class: 'muted' }, 'None.'),
      dl([
        ['Notice before a normal change', `${s.noticeHours} hours`],
        [
          'Emergencies in a blackout',
          s.emergencyExempt ? 'allowed' : 'not allowed (a hard freeze)',
        ],
      ]),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'set-other' },
      h('h2', { id: 'set-other' }, 'Classes, emergencies and reviews'),
      dl([
        [
          'Class overrides',
          overrides.length > 0
            ? overrides.map(([type, cls]) => `${type.replaceAll('_', ' ')}: ${cls}`).join('; ')
            : 'none (the MSP’s defaults)',
        ],
        ['Emergency changes a month', `${view.emergencyQuotaPerMonth} before flagging`],
        [
          'Emergency review due',
          `${view.reviewDueBusinessDays} business days after implementation`,
        ],
      ]),
    ),
    slaSection(view),
    view.webhookIntake ? webhookSection(api, view.client.code) : null,
    view.mayEdit && view.parts ? editSection(api, view, reload) : null,
  );
}

/**
 * Service levels (issue 5): each type's targets, whether its clock keeps business hours, and the
 * client's business hours and holidays in its zone.
 * @param {SettingsView} view
 */
function slaSection(view) {
  const sla = view.sla;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'set-sla' },
    h('h2', { id: 'set-sla' }, 'Service levels (SLA)'),
    h(
      'table',
      { id: 'set-sla-targets' },
      h('caption', { class: 'visually-hidden' }, 'SLA targets per type of request'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Type', 'Acknowledge within', 'Resolve within', 'Clock runs', 'Set by'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        sla.targets.map((t) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, t.type.replaceAll('_', ' ')),
            h('td', {}, minutesText(t.acknowledgeMinutes)),
            h('td', {}, minutesText(t.resolveMinutes)),
            h('td', {}, t.businessHoursOnly ? 'in business hours' : 'round the clock'),
            h('td', {}, t.overridden ? 'this client' : 'Cabinet’s default'),
          ),
        ),
      ),
    ),
    dl([
      [
        'Business hours',
        `${sla.businessHours.days.join(', ')} ${sla.businessHours.start}–${sla.businessHours.end} (${view.timeZone})`,
      ],
      ['Holidays', sla.holidays.length > 0 ? sla.holidays.join(', ') : 'none'],
    ]),
    view.mayEdit
      ? h(
          'p',
          { class: 'hint' },
          'To change them, write the SLA part below, e.g. {"targets":{"incident":{"acknowledgeMinutes":10,"resolveMinutes":180}},"businessHours":{"days":["mon","tue","wed","thu","fri"],"start":"08:00","end":"18:00"},"holidays":["2026-12-25"]}. Types left out keep Cabinet’s defaults; minutes are working minutes.',
        )
      : null,
  );
}

/**
 * Signed webhook intake (issue 6 §3), for the client's MSP leads: the URL path, each key id with
 * its dates, and Create / Rotate / Retire old. A new secret is shown once, from the answer to the
 * action that made it; Cabinet never sends it again.
 * @param {Api} api
 * @param {string} code
 */
function webhookSection(api, code) {
  const box = h('div', { class: 'webhook-intake' }, h('p', { class: 'muted' }, 'Loading…'));
  const alert = alertBox();
  const form = /** @type {HTMLFormElement} */ (
    h('form', { class: 'wizard', novalidate: true, 'aria-labelledby': 'set-webhook' }, box, alert)
  );
  const path = `clients/${segment(code)}/webhook`;
  /** @param {string} verb @param {object} body @param {string} said */
  const act = (verb, body, said) => {
    clearErrors(form, alert);
    void api.post(`${path}/${verb}`, body).then(
      (view) => {
        show(/** @type {WebhookView} */ (view));
        announce(said);
      },
      (/** @type {unknown} */ error) => showProblem(form, alert, error),
    );
  };
  /** @param {WebhookView} view */
  const show = (view) => {
    const retiring = view.secrets.some((s) => s.state === 'retiring');
    replace(
      box,
      view.urlPath
        ? dl([
            ['URL path', view.urlPath],
            ['Signature header', 'X-Cabinet-Signature: t=<unix>,kid=<key id>,v1=<hex HMAC-SHA256>'],
          ])
        : h('p', { class: 'muted' }, 'No webhook key yet: create one to accept signed requests.'),
      view.issued
        ? h(
            'div',
            { class: 'issued-secret', role: 'status' },
            h('p', {}, h('strong', {}, `New secret for key id ${view.issued.kid}:`)),
            h('p', {}, h('code', { class: 'secret' }, view.issued.secret)),
            h(
              'p',
              { class: 'hint' },
              'Copy it now: it is shown only this once. Keep it on the server that signs, never in a browser.',
            ),
          )
        : null,
      view.secrets.length > 0
        ? h(
            'table',
            { class: 'webhook-secrets' },
            h('caption', { class: 'visually-hidden' }, 'Webhook key ids'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Key id', 'Created', 'Stops'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              view.secrets.map((s) =>
                h(
                  'tr',
                  { 'data-kid': s.kid },
                  h('th', { scope: 'row' }, s.kid),
                  h('td', {}, s.createdAt),
                  h(
                    'td',
                    {},
                    s.state === 'active'
                      ? 'active'
                      : s.state === 'retiring'
                        ? `active until ${s.retiresAt ?? ''}`
                        : `retired ${s.retiresAt ?? ''}`,
                  ),
                ),
              ),
            ),
          )
        : null,
      h(
        'div',
        { class: 'actions' },
        view.urlPath
          ? [
              button('Rotate secret', () =>
                act('rotate', {}, 'New secret issued; the old one keeps working for 24 hours.'),
              ),
              retiring
                ? button('Retire old secrets', () =>
                    act('retire', {}, 'Old secrets retired: only the newest is accepted.'),
                  )
                : null,
            ]
          : button('Create webhook key', () => act('create', {}, 'Webhook key created.')),
      ),
    );
  };
  void api.get(path).then(
    (view) => show(/** @type {WebhookView} */ (view)),
    (/** @type {unknown} */ error) => {
      replace(box);
      showProblem(form, alert, error);
    },
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'set-webhook' },
    h('h2', { id: 'set-webhook' }, 'Webhook intake'),
    h(
      'p',
      { class: 'hint' },
      'Forms, RMM and monitoring tools raise requests for this client by POSTing signed JSON to this URL.',
    ),
    form,
  );
}

/** @param {string} text @param {() => void} onClick */
function button(text, onClick) {
  const b = h('button', { type: 'button' }, text);
  b.addEventListener('click', onClick);
  return b;
}

/** Working minutes for people: "15 min", "4 h", "8 h 30 min". @param {number} minutes */
function minutesText(minutes) {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** @param {[string, string][]} rows */
function dl(rows) {
  return h(
    'dl',
    { class: 'fields' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

/** @param {{ minRisk?: string, classes?: string[], types?: string[] }} when */
function conditionText(when) {
  return [
    when.minRisk ? `at ${when.minRisk} risk or above` : '',
    when.classes ? `for ${when.classes.join(', ')} changes` : '',
    when.types ? `for ${when.types.map((t) => t.replaceAll('_', ' ')).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** @param {Rule[]} list */
function rules(list) {
  return h(
    'ul',
    {},
    list.map((r) => h('li', {}, `${r.name}: ${ruleText(r)}`)),
  );
}

/** @param {Rule} r */
function ruleText(r) {
  if (r.kind === 'weekly') {
    const minutes = r.durationMinutes ?? 0;
    const length = minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
    return `every ${(r.days ?? []).join(', ')} from ${r.start ?? ''} for ${length}`;
  }
  if (r.kind === 'once')
    return `from ${(r.start ?? '').replace('T', ' ')} to ${(r.end ?? '').replace('T', ' ')}`;
  if (r.kind === 'month_end') return `the last ${r.businessDays ?? 0} business days of each month`;
  return r.kind;
}

/**
 * One JSON text box per part, each saved on its own; `null` puts a part back to Cabinet's default.
 * @param {Api} api
 * @param {SettingsView} view
 * @param {() => Promise<void>} reload
 */
function editSection(api, view, reload) {
  const parts = view.parts ?? {};
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'set-edit' },
    h('h2', { id: 'set-edit' }, 'Change the settings'),
    h(
      'p',
      { class: 'hint' },
      'Each part is replaced whole. Write null to go back to Cabinet’s default. People are named by tenant and object id:',
    ),
    h(
      'ul',
      { class: 'hint' },
      (view.people ?? []).map((p) =>
        h('li', {}, `${p.name}: {"tid":"${p.tid}","oid":"${p.oid}","name":"${p.name}"}`),
      ),
    ),
    PARTS.map(([part, label]) => partForm(api, view.client.code, part, label, parts[part], reload)),
  );
}

/**
 * @param {Api} api
 * @param {string} code
 * @param {string} part
 * @param {string} label
 * @param {unknown} current
 * @param {() => Promise<void>} reload
 */
function partForm(api, code, part, label, current, reload) {
  const alert = alertBox();
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'wizard itil-form settings-part', novalidate: true, 'aria-label': label },
      field(
        part,
        `${label} (JSON)`,
        h('textarea', {
          rows:
            part === 'approvalPolicy' || part === 'schedule' || part === 'sla' || part === 'psa'
              ? 12
              : 2,
          class: 'json',
          spellcheck: 'false',
          value: JSON.stringify(current ?? null, null, 2),
        }),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit' }, `Save ${label.toLowerCase()}`),
      ),
      alert,
    )
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form, alert);
    const box = /** @type {HTMLTextAreaElement} */ (form.querySelector('textarea'));
    /** @type {unknown} */
    let parsed;
    try {
      parsed = JSON.parse(box.value);
    } catch (error) {
      showProblem(
        form,
        alert,
        new ApiError(400, {
          message: 'Please fix the JSON.',
          issues: [
            {
              field: part,
              message: `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
            },
          ],
        }),
      );
      return;
    }
    void api.post(`clients/${segment(code)}/settings`, { settings: { [part]: parsed } }).then(
      (saved) => {
        const changed = /** @type {{ changed: string[] }} */ (saved).changed;
        announce(
          changed.length > 0 ? `${label} saved.` : `${label} was already set so; nothing changed.`,
        );
        return reload();
      },
      (/** @type {unknown} */ error) => {
        // Issues name fields inside the part ("schedule.noticeHours"); they belong with its box.
        const placed =
          error instanceof ApiError
            ? new ApiError(error.status, {
                code: error.code,
                message: error.message,
                issues: [
                  {
                    field: part,
                    message: error.issues
                      .map((i) => (i.field === part ? i.message : `${i.field}: ${i.message}`))
                      .join('; '),
                  },
                ].filter((i) => i.message),
              })
            : error;
        showProblem(form, alert, placed);
      },
    );
  });
  return form;
}
