// @ts-check
import { segment } from './api.js';
import { alertBox, clearErrors, field, select, showProblem, value } from './assessment.js';
import { announce, display, h, replace, when } from './dom.js';

/**
 * Standard-change templates (issue 4 §1). MSP leads write templates (global or one client's),
 * propose them to a client, re-enable one a failed run suspended, and see which repeated changes
 * could become templates. A client's approvers approve or decline what was proposed to their
 * client. Cabinet decides who may do what and which clients the caller sees; the page offers that.
 * @typedef {import('./api.js').Api} Api
 * @typedef {Record<string, unknown> & { type: string }} Ranges
 * @typedef {{
 *   id: string, name: string, scope: 'global' | 'client', version: number, type: string,
 *   ranges: Ranges, implementationPlan: string, rollbackPlan: string, updatedBy: string,
 *   updatedAt: string, status: string, successfulRuns: number, failedRuns: number,
 *   suspendedReason?: string, withdrawnReason?: string, approvedBy?: string, approvedAt?: string,
 *   mayEdit: boolean, mayPropose: boolean, mayReenable: boolean, mayDecide: boolean
 * }} TemplateDto
 * @typedef {{
 *   key: string, because: string, requestIds: string[],
 *   draft: { name: string, ranges: Ranges, implementationPlan: string, rollbackPlan: string }
 * }} Suggestion
 * @typedef {{
 *   code: string, name: string, isLead: boolean, isApprover: boolean,
 *   templates: TemplateDto[], suggestions: Suggestion[]
 * }} ClientTemplates
 * @typedef {{ clients: ClientTemplates[], mayCreateGlobal: boolean }} TemplatesPage
 * @typedef {{ id?: string, client: string, name: string, ranges: Ranges, implementationPlan: string, rollbackPlan: string }} Draft
 */

const TYPES = [
  ['licence_change', 'Licence change'],
  ['access_change', 'Access change'],
  ['new_user', 'New user'],
  ['offboard', 'Offboarding'],
];
const ACCESS_LEVELS = ['member', 'owner', 'read', 'contribute', 'full_access'];
const STATUS = /** @type {Readonly<Record<string, [string, string]>>} */ ({
  not_proposed: ['Not proposed', 'info'],
  proposed: ['Proposed: waiting for the client’s approval', 'warn'],
  active: ['Active', 'good'],
  suspended: ['Suspended', 'bad'],
  withdrawn: ['Declined', 'bad'],
});
/** Range fields people read: a label per key of the range language (src/domain/catalogue/template.ts). */
const RANGE_LABELS = /** @type {Readonly<Record<string, string>>} */ ({
  addSkus: 'Licences that may be added',
  removeSkus: 'Licences that may be removed',
  actions: 'Actions',
  resources: 'Groups, mailboxes or sites',
  accessLevels: 'Access levels',
  maxDays: 'Longest grant (days)',
  licenceSkus: 'Licences',
  groups: 'Groups',
  departments: 'Departments (empty: any)',
  allowForwarding: 'Mail forwarding allowed',
  allowOneDriveDelegation: 'OneDrive hand-over allowed',
});
const typeLabel = (/** @type {string} */ type) => TYPES.find(([v]) => v === type)?.[1] ?? type;

/**
 * @param {HTMLElement} main
 * @param {Api} api
 * @param {{ isCurrent: () => boolean }} nav
 */
export async function renderTemplates(main, api, nav) {
  const page = /** @type {TemplatesPage} */ (await api.get('templates'));
  if (!nav.isCurrent()) return;
  const reload = () => (nav.isCurrent() ? renderTemplates(main, api, nav) : Promise.resolve());
  const leads = page.clients.filter((c) => c.isLead);
  const editor = h('div', {});
  /** @param {Draft | undefined} draft */
  const openEditor = (draft) => {
    replace(editor, templateForm(api, leads, draft, reload));
    /** @type {HTMLElement | null} */ (editor.querySelector('input, select'))?.focus();
  };
  replace(
    main,
    h('h1', { id: 'page-title', tabindex: '-1' }, 'Standard-change templates'),
    page.clients.length === 0
      ? h('p', { class: 'muted' }, 'You have no part in any client.')
      : null,
    page.mayCreateGlobal
      ? h(
          'p',
          {},
          h('button', { type: 'button', onClick: () => openEditor(undefined) }, 'New template'),
        )
      : null,
    editor,
    page.clients.map((c) => clientSection(api, c, openEditor, reload)),
  );
}

/**
 * @param {Api} api
 * @param {ClientTemplates} c
 * @param {(draft: Draft | undefined) => void} openEditor
 * @param {() => Promise<void>} reload
 */
function clientSection(api, c, openEditor, reload) {
  const titleId = `tpl-client-${c.code}`;
  const empty = c.isLead
    ? 'No templates yet.'
    : 'No standard-change templates have been proposed to your organisation.';
  return h(
    'section',
    { 'aria-labelledby': titleId, 'data-client': c.code },
    h('h2', { id: titleId }, `${c.name} (${c.code})`),
    h('p', {}, h('a', { href: `?page=settings&client=${c.code}` }, `Settings for ${c.name}`)),
    c.templates.length === 0 ? h('p', { class: 'muted' }, empty) : null,
    c.templates.map((t) => templateCard(api, c, t, openEditor, reload)),
    c.suggestions.length > 0
      ? [
          h('h3', {}, 'Could become templates'),
          h(
            'ul',
            { class: 'suggestions' },
            c.suggestions.map((s) =>
              h(
                'li',
                {},
                `${s.draft.name}: ${
                  s.because === 'review'
                    ? 'a review asked for it'
                    : `${s.requestIds.length} similar changes`
                } (${s.requestIds.join(', ')}) `,
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    onClick: () => openEditor({ client: c.code, ...s.draft }),
                  },
                  'Start a template from this',
                ),
              ),
            ),
          ),
        ]
      : null,
  );
}

/**
 * @param {Api} api
 * @param {ClientTemplates} c
 * @param {TemplateDto} t
 * @param {(draft: Draft | undefined) => void} openEditor
 * @param {() => Promise<void>} reload
 */
function templateCard(api, c, t, openEditor, reload) {
  const titleId = `tpl-${c.code}-${t.id}`;
  const [statusText, statusTone] = STATUS[t.status] ?? [t.status, 'info'];
  const reason =
    t.status === 'suspended'
      ? t.suspendedReason
      : t.status === 'withdrawn'
        ? t.withdrawnReason
        : '';
  return h(
    'article',
    { class: 'card template', 'aria-labelledby': titleId, 'data-template': t.id },
    h('h3', { id: titleId }, t.name),
    h(
      'p',
      { class: 'request-meta' },
      h('span', { class: `badge ${statusTone}` }, statusText),
      h('span', {}, typeLabel(t.type)),
      h('span', {}, t.scope === 'global' ? 'Global' : `${c.code} only`),
      h('span', {}, `version ${t.version}`),
      h('span', {}, `${t.successfulRuns} successful, ${t.failedRuns} failed runs`),
    ),
    reason ? h('p', { class: 'notice' }, `Reason: ${reason}`) : null,
    t.approvedBy
      ? h('p', { class: 'hint' }, `Approved by ${t.approvedBy}, ${when(t.approvedAt)}`)
      : null,
    h(
      'dl',
      { class: 'fields' },
      Object.entries(t.ranges)
        .filter(([k]) => k !== 'type')
        .map(([k, v]) => [h('dt', {}, RANGE_LABELS[k] ?? k), h('dd', {}, display(v))]),
      h('dt', {}, 'Implementation plan'),
      h('dd', {}, t.implementationPlan),
      h('dt', {}, 'Rollback plan'),
      h('dd', {}, t.rollbackPlan),
      h('dt', {}, 'Last changed'),
      h('dd', {}, `${t.updatedBy}, ${when(t.updatedAt)}`),
    ),
    h(
      'div',
      { class: 'actions' },
      t.mayEdit
        ? h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onClick: () =>
                openEditor({
                  id: t.id,
                  client: t.scope === 'global' ? '' : c.code,
                  name: t.name,
                  ranges: t.ranges,
                  implementationPlan: t.implementationPlan,
                  rollbackPlan: t.rollbackPlan,
                }),
            },
            'Edit',
          )
        : null,
      t.mayPropose
        ? actionButton(
            'Propose to the client',
            () => api.post(`templates/${segment(t.id)}/propose`, { client: c.code }),
            `Proposed to ${c.name}; its approvers were asked.`,
            reload,
          )
        : null,
    ),
    t.mayDecide ? decideForm(api, c, t, reload) : null,
    t.mayReenable ? reenableForm(api, c, t, reload) : null,
  );
}

/**
 * @param {string} label
 * @param {() => Promise<unknown>} act
 * @param {string} done
 * @param {() => Promise<void>} reload
 */
function actionButton(label, act, done, reload) {
  const alert = alertBox();
  return h(
    'span',
    {},
    h(
      'button',
      {
        type: 'button',
        onClick: () => {
          alert.hidden = true;
          void act().then(
            () => {
              announce(done);
              return reload();
            },
            (/** @type {unknown} */ error) => {
              replace(alert, h('p', {}, error instanceof Error ? error.message : String(error)));
              alert.hidden = false;
              alert.focus();
            },
          );
        },
      },
      label,
    ),
    alert,
  );
}

/**
 * Approve, or decline with a reason (the client's approvers only).
 * @param {Api} api
 * @param {ClientTemplates} c
 * @param {TemplateDto} t
 * @param {() => Promise<void>} reload
 */
function decideForm(api, c, t, reload) {
  const alert = alertBox();
  const reasonId = `tpl-reason-${c.code}-${t.id}`;
  const reason = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: reasonId, rows: 2 }));
  const form = h(
    'div',
    { class: 'decide' },
    h('p', { class: 'field' }, h('label', { for: reasonId }, 'Reason (needed to decline)'), reason),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onClick: () => send('approve') }, 'Approve'),
      h(
        'button',
        { type: 'button', class: 'secondary', onClick: () => send('decline') },
        'Decline',
      ),
    ),
    alert,
  );
  /** @param {'approve' | 'decline'} decision */
  function send(decision) {
    alert.hidden = true;
    const text = reason.value.trim();
    void api
      .post(`templates/${segment(t.id)}/decide`, {
        client: c.code,
        version: t.version,
        decision,
        ...(text ? { reason: text } : {}),
      })
      .then(
        () => {
          announce(decision === 'approve' ? `${t.name} approved.` : `${t.name} declined.`);
          return reload();
        },
        (/** @type {unknown} */ error) => {
          replace(alert, h('p', {}, error instanceof Error ? error.message : String(error)));
          alert.hidden = false;
          reason.focus();
        },
      );
  }
  return form;
}

/**
 * @param {Api} api
 * @param {ClientTemplates} c
 * @param {TemplateDto} t
 * @param {() => Promise<void>} reload
 */
function reenableForm(api, c, t, reload) {
  const alert = alertBox();
  const reasonId = `tpl-reenable-${c.code}-${t.id}`;
  const reason = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: reasonId, rows: 2 }));
  return h(
    'div',
    { class: 'reenable' },
    h('p', { class: 'field' }, h('label', { for: reasonId }, 'What was fixed'), reason),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          onClick: () => {
            alert.hidden = true;
            void api
              .post(`templates/${segment(t.id)}/reenable`, {
                client: c.code,
                reason: reason.value.trim(),
              })
              .then(
                () => {
                  announce(`${t.name} re-enabled for ${c.name}.`);
                  return reload();
                },
                (/** @type {unknown} */ error) => {
                  replace(
                    alert,
                    h('p', {}, error instanceof Error ? error.message : String(error)),
                  );
                  alert.hidden = false;
                  reason.focus();
                },
              );
          },
        },
        'Re-enable',
      ),
    ),
    alert,
  );
}

/** A comma, semicolon or line separated list as Cabinet takes it. @param {string} text */
const listOf = (text) =>
  text
    .split(/[,;\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** A list field's text. @param {unknown} v */
const listText = (v) => (Array.isArray(v) ? v.join(', ') : '');

/**
 * A group of checkboxes under one field name, for issues to land on.
 * @param {string} name
 * @param {string} legend
 * @param {string[][]} options value/label pairs
 * @param {unknown} checked
 */
function checkboxes(name, legend, options, checked) {
  const on = Array.isArray(checked) ? checked : [];
  return h(
    'fieldset',
    { class: 'field', 'data-field': name },
    h('legend', {}, legend),
    options.map(([v, text]) => {
      const id = `itil-${name}-${v}`;
      return h(
        'span',
        { class: 'checkbox' },
        h('input', {
          type: 'checkbox',
          id,
          'data-list': name,
          value: v,
          ...(on.includes(v) ? { checked: true } : {}),
        }),
        h('label', { for: id }, text),
      );
    }),
  );
}

/**
 * One yes/no range (offboarding).
 * @param {string} name
 * @param {unknown} checked
 */
function flag(name, checked) {
  const id = `itil-${name}`;
  return h(
    'div',
    { class: 'field checkbox', 'data-field': name },
    h('input', { type: 'checkbox', id, name, ...(checked === true ? { checked: true } : {}) }),
    h('label', { for: id }, RANGE_LABELS[name.replace('ranges.', '')] ?? name),
  );
}

/**
 * The range fields for one type, filled from `ranges` when it is of that type.
 * @param {string} type
 * @param {Ranges | undefined} ranges
 */
function rangeFields(type, ranges) {
  const r = ranges?.type === type ? ranges : undefined;
  const text = (/** @type {string} */ key, /** @type {string} */ hint) =>
    field(
      `ranges.${key}`,
      `${RANGE_LABELS[key]} (${hint})`,
      h('input', { type: 'text', value: listText(r?.[key]) }),
    );
  switch (type) {
    case 'licence_change':
      return [
        text('addSkus', 'SKU part numbers, comma-separated'),
        text('removeSkus', 'SKU part numbers, comma-separated'),
      ];
    case 'access_change':
      return [
        checkboxes(
          'ranges.actions',
          'Actions',
          [
            ['grant', 'Grant'],
            ['revoke', 'Revoke'],
          ],
          r?.['actions'],
        ),
        text('resources', 'comma-separated'),
        checkboxes(
          'ranges.accessLevels',
          'Access levels',
          ACCESS_LEVELS.map((l) => [l, l.replace('_', ' ')]),
          r?.['accessLevels'],
        ),
        field(
          'ranges.maxDays',
          'Longest grant in days (empty: no limit)',
          h('input', {
            type: 'number',
            min: 1,
            max: 366,
            value: typeof r?.['maxDays'] === 'number' ? String(r['maxDays']) : '',
          }),
        ),
      ];
    case 'new_user':
      return [
        text('licenceSkus', 'SKU part numbers, comma-separated'),
        text('groups', 'comma-separated'),
        text('departments', 'comma-separated'),
      ];
    case 'offboard':
      return [
        flag('ranges.allowForwarding', r?.['allowForwarding']),
        flag('ranges.allowOneDriveDelegation', r?.['allowOneDriveDelegation']),
      ];
    default:
      return [];
  }
}

/**
 * The ranges as Cabinet's range language has them, read from the form.
 * @param {HTMLFormElement} form
 * @param {string} type
 */
function rangesFrom(form, type) {
  const list = (/** @type {string} */ key) => listOf(value(form, `ranges.${key}`));
  const checked = (/** @type {string} */ name) =>
    [...form.querySelectorAll(`input[data-list="${name}"]:checked`)].map(
      (el) => /** @type {HTMLInputElement} */ (el).value,
    );
  const flagOf = (/** @type {string} */ name) =>
    /** @type {HTMLInputElement | null} */ (form.querySelector(`input[name="${name}"]`))?.checked ??
    false;
  switch (type) {
    case 'licence_change':
      return { type, addSkus: list('addSkus'), removeSkus: list('removeSkus') };
    case 'access_change': {
      const maxDays = value(form, 'ranges.maxDays');
      return {
        type,
        actions: checked('ranges.actions'),
        resources: list('resources'),
        accessLevels: checked('ranges.accessLevels'),
        ...(maxDays ? { maxDays: Number(maxDays) } : {}),
      };
    }
    case 'new_user': {
      const departments = list('departments');
      return {
        type,
        licenceSkus: list('licenceSkus'),
        groups: list('groups'),
        ...(departments.length > 0 ? { departments } : {}),
      };
    }
    case 'offboard':
      return {
        type,
        allowForwarding: flagOf('ranges.allowForwarding'),
        allowOneDriveDelegation: flagOf('ranges.allowOneDriveDelegation'),
      };
    default:
      return { type };
  }
}

/**
 * Create (no `draft.id`) or edit a template. Every problem Cabinet finds is shown next to its field.
 * @param {Api} api
 * @param {ClientTemplates[]} leads the clients the caller leads
 * @param {Draft | undefined} draft
 * @param {() => Promise<void>} reload
 */
function templateForm(api, leads, draft, reload) {
  const alert = alertBox();
  const editing = draft?.id !== undefined;
  const type = /** @type {HTMLSelectElement} */ (select(TYPES, draft?.ranges.type));
  const ranges = h('div', { 'data-field': 'ranges' }, rangeFields(type.value, draft?.ranges));
  type.addEventListener('change', () => replace(ranges, rangeFields(type.value, undefined)));
  const scope = select(
    leads.map((c) => [c.code, `${c.name} only`]),
    draft?.client,
  );
  // "Choose…" stands for a global template here.
  const first = scope.querySelector('option');
  if (first) first.textContent = 'Global (offered to every client)';
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      {
        class: 'wizard itil-form template-form',
        novalidate: true,
        'aria-labelledby': 'tpl-form-title',
      },
      h('h2', { id: 'tpl-form-title' }, editing ? `Edit ${draft?.name ?? ''}` : 'New template'),
      field(
        'id',
        'Template id (lower-case letters, digits and hyphens)',
        h('input', {
          type: 'text',
          value: draft?.id ?? '',
          ...(editing ? { readonly: true } : {}),
        }),
      ),
      field(
        'client',
        'Offered to',
        editing
          ? h('select', { disabled: true }, h('option', {}, draft?.client || 'Global'))
          : scope,
      ),
      field('name', 'Name', h('input', { type: 'text', value: draft?.name ?? '' })),
      field('ranges.type', 'Request type', type),
      ranges,
      field(
        'implementationPlan',
        'Implementation plan',
        h('textarea', { rows: 3, value: draft?.implementationPlan ?? '' }),
      ),
      field(
        'rollbackPlan',
        'Rollback plan',
        h('textarea', { rows: 3, value: draft?.rollbackPlan ?? '' }),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Save template'),
      ),
      alert,
    )
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form, alert);
    const client = editing ? (draft?.client ?? '') : value(form, 'client');
    void api
      .post('templates', {
        id: value(form, 'id'),
        ...(client ? { client } : {}),
        content: {
          name: value(form, 'name'),
          ranges: rangesFrom(form, type.value),
          implementationPlan: value(form, 'implementationPlan'),
          rollbackPlan: value(form, 'rollbackPlan'),
        },
      })
      .then(
        () => {
          announce(
            editing ? 'Template saved; clients that had it are asked again.' : 'Template created.',
          );
          return reload();
        },
        (/** @type {unknown} */ error) => showProblem(form, alert, error),
      );
  });
  return form;
}
