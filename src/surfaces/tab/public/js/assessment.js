// @ts-check
import { ApiError, segment } from './api.js';
import { announce, display, h, replace, when } from './dom.js';

/**
 * The technician's ITIL steps on a request page (issue 4 §2): the assessment and approval steps as
 * recorded, and on a triaged request the Assess form (with Cabinet's risk suggestion, live), Reclassify
 * and Send for approval.
 * @typedef {import('./api.js').Api} Api
 * @typedef {{
 *   name: string, rule: string, status: string, approvers: string[],
 *   votes: { by: string, for?: string, outcome: string, reason?: string, at: string }[]
 * }} ApprovalStep
 * @typedef {{
 *   impact: string, risk: string, suggestedRisk: string, riskOverridden: boolean,
 *   signals: { code: string, detail: string }[], affectedUsers: number, affectedServices: string[],
 *   implementationPlan: string, testPlan: string, rollbackPlan?: string, dependencies: string[],
 *   window?: { start: string, end: string }, sensitivity: string[], sensitivityOther?: string,
 *   by: string, at: string
 * }} Assessment
 * @typedef {import('./types.js').RequestDetail & {
 *   changeClass: string, assessment?: Assessment, approvalSteps?: ApprovalStep[],
 *   retrospectiveSteps?: ApprovalStep[], question?: { text: string, by: string, at: string },
 *   review?: {
 *     objectiveAchieved: string, outcome: string, unexpectedImpacts?: string,
 *     becomeStandard: boolean, becomeStandardNote?: string, by: string, at: string
 *   },
 *   reviewDueAt?: string, overEmergencyQuota?: boolean
 * }} RequestDetail the request detail with issue 4's part (tab-views.mapper.ts)
 * @typedef {Omit<import('./types.js').Detail, 'request'> & { request: RequestDetail }} Detail
 * @typedef {{
 *   suggestion: { level: string, floor: string, signals: { code: string, detail: string }[] },
 *   conflicts: { message: string }[],
 *   rollbackPlan: { ok: true } | { ok: false, code: string, message: string }
 * }} AssessmentPreview
 * @typedef {{ api: Api, requestId: string, version: number, refresh: (openRun: undefined) => Promise<void> }} ItilContext
 */

const IMPACTS = [
  ['none', 'None'],
  ['minor', 'Minor'],
  ['service_affecting', 'Service affecting'],
];
const RISKS = [
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
  ['critical', 'Critical'],
];
const SENSITIVITY = [
  ['executive_mailbox', 'Executive mailbox'],
  ['admin_roles', 'Admin roles'],
  ['finance_data', 'Finance data'],
  ['hr_data', 'HR data'],
  ['legal_hold', 'Legal hold'],
  ['security_controls', 'Security controls'],
  ['external_sharing', 'External sharing'],
];
const CLASSES = [
  ['normal', 'Normal'],
  ['emergency', 'Emergency'],
  ['standard', 'Standard'],
];
/** Labels for the codes the page shows. */
export const ITIL_LABEL = /** @type {Readonly<Record<string, string>>} */ (
  Object.fromEntries(
    /** @type {[string, string][]} */ ([
      ...IMPACTS,
      ...RISKS,
      ...SENSITIVITY,
      ...CLASSES,
      ['waiting', 'Waiting'],
      ['open', 'Open'],
      ['approved', 'Approved'],
      ['denied', 'Denied'],
    ]),
  )
);
const label = (/** @type {string} */ code) => ITIL_LABEL[code] ?? code.replaceAll('_', ' ');

/**
 * The assessment and approval cards, and the technician's actions where the state allows them.
 * @param {Detail} detail
 * @param {ItilContext} ctx
 */
export function itilSections(detail, ctx) {
  const r = detail.request;
  return [
    r.question
      ? h(
          'p',
          { class: 'notice', role: 'note' },
          `Waiting for an answer to ${r.question.by}’s question (${when(r.question.at)}): ${r.question.text}`,
        )
      : null,
    r.assessment ? assessmentCard(r) : null,
    r.approvalSteps ? stepsCard('approval-steps', 'Approval steps', r.approvalSteps) : null,
    r.retrospectiveSteps
      ? stepsCard('retro-steps', 'Retrospective approval', r.retrospectiveSteps)
      : null,
    detail.viewer.mayAssess ? triageActions(r, ctx) : null,
  ];
}

/** @param {RequestDetail} r */
function assessmentCard(r) {
  const a = /** @type {NonNullable<RequestDetail['assessment']>} */ (r.assessment);
  const rows = [
    ['Class', label(r.changeClass)],
    ['Impact', label(a.impact)],
    [
      'Risk',
      `${label(a.risk)} (Cabinet suggested ${label(a.suggestedRisk)}${a.riskOverridden ? ', overridden' : ''})`,
    ],
    ['Why', a.signals.map((s) => s.detail).join('; ') || '—'],
    ['Affected', `${a.affectedUsers} users; ${display(a.affectedServices)}`],
    ['Implementation plan', a.implementationPlan],
    ['Test plan', a.testPlan],
    ['Rollback plan', a.rollbackPlan ?? '—'],
    ['Depends on', display(a.dependencies)],
    ['Window', a.window ? `${when(a.window.start)} – ${when(a.window.end)}` : 'not scheduled'],
    [
      'Sensitivity',
      [...a.sensitivity.map(label), ...(a.sensitivityOther ? [a.sensitivityOther] : [])].join(
        ', ',
      ) || 'none',
    ],
    ['Assessed by', `${a.by}, ${when(a.at)}`],
    r.overEmergencyQuota ? ['Emergency quota', 'Over this month’s quota'] : null,
    r.reviewDueAt ? ['Review due', when(r.reviewDueAt)] : null,
  ].filter((row) => row !== null);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'assessment-title' },
    h('h2', { id: 'assessment-title' }, 'Assessment'),
    h(
      'dl',
      { class: 'fields' },
      rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
  );
}

/**
 * @param {string} id
 * @param {string} title
 * @param {ApprovalStep[]} steps
 */
function stepsCard(id, title, steps) {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    h(
      'ol',
      { class: 'approval-steps', 'data-testid': id },
      steps.map((s) =>
        h(
          'li',
          { class: 'approval-step' },
          h('strong', { class: 'step-name' }, s.name),
          ' ',
          h('span', { class: 'step-status' }, label(s.status)),
          h('p', { class: 'hint' }, `${s.rule}: ${s.approvers.join(', ')}`),
          s.votes.length > 0
            ? h(
                'ul',
                { class: 'votes' },
                s.votes.map((v) =>
                  h(
                    'li',
                    {},
                    `${v.by}${v.for ? ` for ${v.for}` : ''}: ${label(v.outcome)}, ${when(v.at)}`,
                    v.reason ? ` — ${v.reason}` : '',
                  ),
                ),
              )
            : h('p', { class: 'muted' }, 'No votes yet.'),
        ),
      ),
    ),
  );
}

/**
 * Assess, Reclassify, Send for approval.
 * @param {RequestDetail} r
 * @param {ItilContext} ctx
 */
function triageActions(r, ctx) {
  const panel = h('div', { class: 'itil-panel' });
  const sendAlert = alertBox();
  const open = (/** @type {'assess' | 'reclassify'} */ which) => {
    replace(panel, which === 'assess' ? assessForm(r, ctx) : reclassifyForm(r, ctx));
    /** @type {HTMLElement | null} */ (panel.querySelector('input, select, textarea'))?.focus();
  };
  const send = /** @type {HTMLButtonElement} */ (
    h(
      'button',
      {
        type: 'button',
        class: 'primary',
        disabled: !r.assessment,
        'aria-describedby': 'send-hint',
        onClick: async () => {
          send.disabled = true;
          sendAlert.hidden = true;
          try {
            await ctx.api.post(`requests/${segment(ctx.requestId)}/send-for-approval`, {
              version: ctx.version,
            });
            announce('Sent for approval.');
            await ctx.refresh(undefined);
          } catch (error) {
            showAlert(sendAlert, messageOf(error));
            send.disabled = false;
          }
        },
      },
      'Send for approval',
    )
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'triage-title' },
    h('h2', { id: 'triage-title' }, 'Triage'),
    h(
      'p',
      { id: 'send-hint', class: 'hint' },
      r.assessment
        ? 'Assessed. Send it for approval, or assess again if something changed.'
        : 'Assess the change before sending it for approval.',
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onClick: () => open('assess') }, 'Assess'),
      h('button', { type: 'button', onClick: () => open('reclassify') }, 'Reclassify'),
      send,
    ),
    sendAlert,
    panel,
  );
}

/**
 * The assessment form. Cabinet's suggestion is read again as the technician types; choosing another
 * risk asks for a reason.
 * @param {RequestDetail} r
 * @param {ItilContext} ctx
 */
function assessForm(r, ctx) {
  const a = r.assessment;
  const suggestion = h('div', { id: 'risk-suggestion', class: 'hint', role: 'status' });
  const rollbackCheck = h('span', { id: 'rollbackPlan-check', class: 'field-error', hidden: true });
  /** @type {string | undefined} */
  let suggested;
  const reasonField = field(
    'overrideReason',
    'Why a different risk from Cabinet’s suggestion',
    h('textarea', { rows: 2 }),
  );
  reasonField.hidden = true;
  const alert = alertBox();
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'wizard itil-form', novalidate: true, 'aria-labelledby': 'assess-title' },
      h('h3', { id: 'assess-title' }, 'Assess'),
      field('impact', 'Impact', select(IMPACTS, a?.impact)),
      field('risk', 'Risk', select(RISKS, a?.risk), suggestion),
      reasonField,
      field(
        'affectedUsers',
        'Affected users',
        h('input', { type: 'number', min: 0, value: String(a?.affectedUsers ?? '') }),
      ),
      field(
        'affectedServices',
        'Affected services (comma-separated)',
        h('input', { type: 'text', value: (a?.affectedServices ?? []).join(', ') }),
      ),
      field(
        'implementationPlan',
        'Implementation plan',
        h('textarea', { rows: 4, value: a?.implementationPlan ?? '' }),
      ),
      field('testPlan', 'Test plan', h('textarea', { rows: 3, value: a?.testPlan ?? '' })),
      field(
        'rollbackPlan',
        'Rollback plan',
        h('textarea', { rows: 4, value: a?.rollbackPlan ?? '' }),
        h(
          'span',
          { class: 'hint' },
          'Say what triggers it, the steps, who does it, how long it takes and how you verify it.',
        ),
        rollbackCheck,
      ),
      field(
        'dependencies',
        'Depends on requests (comma-separated ids)',
        h('input', { type: 'text', value: (a?.dependencies ?? []).join(', ') }),
      ),
      field(
        'windowStart',
        'Window start (your local time)',
        h('input', { type: 'datetime-local', value: localInput(a?.window?.start) }),
      ),
      field(
        'windowEnd',
        'Window end (your local time)',
        h('input', { type: 'datetime-local', value: localInput(a?.window?.end) }),
      ),
      h(
        'fieldset',
        { class: 'field groups', 'data-field': 'sensitivity' },
        h('legend', {}, 'Sensitivity'),
        h(
          'ul',
          { class: 'group-choices' },
          SENSITIVITY.map(([value, text]) =>
            h(
              'li',
              {},
              h(
                'label',
                {},
                h('input', {
                  type: 'checkbox',
                  name: 'sensitivity',
                  value,
                  checked: a?.sensitivity.includes(value ?? '') ?? false,
                }),
                ` ${text}`,
              ),
            ),
          ),
        ),
      ),
      field(
        'sensitivityOther',
        'Other sensitivity',
        h('input', { type: 'text', value: a?.sensitivityOther ?? '' }),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Save assessment'),
      ),
      alert,
    )
  );

  const syncReason = () => {
    const chosen = value(form, 'risk');
    reasonField.hidden = !suggested || !chosen || chosen === suggested;
  };
  let pending = 0;
  const refreshSuggestion = async () => {
    const mine = ++pending;
    const fields = assessmentFields(form);
    // The suggestion does not depend on the chosen risk or the plans' text; stand-ins let it show
    // before they are written.
    const body = {
      ...fields,
      risk: fields.risk || 'low',
      implementationPlan: fields.implementationPlan || '-',
      testPlan: fields.testPlan || '-',
    };
    try {
      const preview = /** @type {AssessmentPreview} */ (
        await ctx.api.post(`requests/${segment(ctx.requestId)}/assessment/preview`, body)
      );
      if (mine !== pending) return;
      suggested = preview.suggestion.level;
      replace(
        suggestion,
        h('strong', {}, `Cabinet suggests ${label(preview.suggestion.level)}`),
        preview.suggestion.floor !== 'low'
          ? ` (no lower than ${label(preview.suggestion.floor)})`
          : '',
        preview.suggestion.signals.length > 0
          ? h(
              'ul',
              { class: 'signals' },
              preview.suggestion.signals.map((s) => h('li', {}, s.detail)),
            )
          : null,
        preview.conflicts.length > 0
          ? h(
              'ul',
              { class: 'conflicts' },
              preview.conflicts.map((c) => h('li', {}, c.message)),
            )
          : null,
      );
      const rollbackMessage =
        fields.rollbackPlan && !preview.rollbackPlan.ok ? preview.rollbackPlan.message : '';
      rollbackCheck.textContent = rollbackMessage ?? '';
      rollbackCheck.hidden = !rollbackMessage;
      if (!value(form, 'risk')) setValue(form, 'risk', suggested);
    } catch (error) {
      if (mine !== pending) return;
      suggested = undefined;
      const issues = error instanceof ApiError ? error.issues : [];
      replace(
        suggestion,
        issues.length > 0
          ? `Cabinet suggests a risk once these are right: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}.`
          : messageOf(error),
      );
    }
    syncReason();
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  form.addEventListener('input', (e) => {
    syncReason();
    if (/** @type {HTMLElement} */ (e.target).getAttribute('name') === 'overrideReason') return;
    clearTimeout(timer);
    timer = setTimeout(() => void refreshSuggestion(), 300);
  });
  form.addEventListener('submit', (e) => void submit(e));
  /** @param {SubmitEvent} e */
  async function submit(e) {
    e.preventDefault();
    clearErrors(form, alert);
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('[type=submit]'));
    button.disabled = true;
    try {
      await ctx.api.post(`requests/${segment(ctx.requestId)}/assessment`, {
        ...assessmentFields(form),
        ...(reasonField.hidden ? {} : { overrideReason: value(form, 'overrideReason') }),
        version: ctx.version,
      });
      announce('Assessment saved.');
      await ctx.refresh(undefined);
    } catch (error) {
      showProblem(form, alert, error);
      button.disabled = false;
    }
  }
  if (a) void refreshSuggestion();
  else
    replace(suggestion, 'Cabinet suggests a risk once impact, users and services are filled in.');
  return form;
}

/**
 * @param {RequestDetail} r
 * @param {ItilContext} ctx
 */
function reclassifyForm(r, ctx) {
  const alert = alertBox();
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'wizard itil-form', novalidate: true, 'aria-labelledby': 'reclassify-title' },
      h('h3', { id: 'reclassify-title' }, 'Reclassify'),
      h('p', { class: 'hint' }, `The request is ${label(r.changeClass).toLowerCase()} now.`),
      field(
        'to',
        'New class',
        select(
          CLASSES.filter(([c]) => c !== r.changeClass),
          undefined,
        ),
      ),
      field('reason', 'Reason', h('textarea', { rows: 2 })),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Reclassify'),
      ),
      alert,
    )
  );
  form.addEventListener('submit', (e) => void submit(e));
  /** @param {SubmitEvent} e */
  async function submit(e) {
    e.preventDefault();
    clearErrors(form, alert);
    try {
      await ctx.api.post(`requests/${segment(ctx.requestId)}/reclassify`, {
        to: value(form, 'to'),
        reason: value(form, 'reason'),
        version: ctx.version,
      });
      announce('Reclassified.');
      await ctx.refresh(undefined);
    } catch (error) {
      showProblem(form, alert, error);
    }
  }
  return form;
}

/**
 * What the assessment form holds, as the API takes it: lists split, local times as UTC instants.
 * @param {HTMLFormElement} form
 * @returns {Record<string, unknown>}
 */
function assessmentFields(form) {
  const list = (/** @type {string} */ name) =>
    value(form, name)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  const instant = (/** @type {string} */ name) => {
    const local = value(form, name);
    // A datetime-local value has no offset: the browser reads it in the technician's own zone.
    const date = local ? new Date(local) : undefined;
    return date && !Number.isNaN(date.getTime()) ? date.toISOString() : '';
  };
  return {
    impact: value(form, 'impact'),
    risk: value(form, 'risk'),
    affectedUsers: value(form, 'affectedUsers'),
    affectedServices: list('affectedServices'),
    implementationPlan: value(form, 'implementationPlan'),
    testPlan: value(form, 'testPlan'),
    rollbackPlan: value(form, 'rollbackPlan'),
    dependencies: list('dependencies'),
    windowStart: instant('windowStart'),
    windowEnd: instant('windowEnd'),
    sensitivity: [...form.querySelectorAll('input[name=sensitivity]:checked')].map(
      (el) => /** @type {HTMLInputElement} */ (el).value,
    ),
    sensitivityOther: value(form, 'sensitivityOther'),
  };
}

/** An ISO instant as a datetime-local value in the browser's zone. @param {string | undefined} iso */
function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// --- form helpers shared with review.js -----------------------------------------------------------

/**
 * A labelled control with room for its error; the control gets the field's name and an id.
 * @param {string} name
 * @param {string} text
 * @param {HTMLElement} control
 * @param {...HTMLElement} extra
 */
export function field(name, text, control, ...extra) {
  const id = `itil-${name}`;
  control.id = id;
  control.setAttribute('name', name);
  return h(
    'div',
    { class: 'field', 'data-field': name },
    h('label', { for: id }, text),
    control,
    extra,
  );
}

/**
 * @param {string[][]} options value/label pairs
 * @param {string | undefined} selected
 */
export function select(options, selected) {
  return h(
    'select',
    {},
    h('option', { value: '' }, 'Choose…'),
    options.map(([v, t]) =>
      h('option', { value: v, ...(v === selected ? { selected: true } : {}) }, t),
    ),
  );
}

/** @param {HTMLFormElement} form @param {string} name */
export function value(form, name) {
  const el = /** @type {HTMLInputElement | null} */ (form.querySelector(`[name="${name}"]`));
  return el ? el.value.trim() : '';
}

/** @param {HTMLFormElement} form @param {string} name @param {string} to */
function setValue(form, name, to) {
  const el = /** @type {HTMLInputElement | null} */ (form.querySelector(`[name="${name}"]`));
  if (el) el.value = to;
}

export function alertBox() {
  return h('div', { class: 'alert', role: 'alert', tabindex: '-1', hidden: true });
}

/** @param {HTMLElement} box @param {string} message */
function showAlert(box, message) {
  replace(box, h('p', {}, message));
  box.hidden = false;
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/** @param {HTMLFormElement} form @param {HTMLElement} alert */
export function clearErrors(form, alert) {
  alert.hidden = true;
  for (const el of form.querySelectorAll('.field-error.issue')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** Rollback-plan refusals belong next to that field rather than at the foot of the form. */
const FIELD_OF_CODE = /** @type {const} */ ([[/^ASSESS\.ROLLBACK_PLAN/, 'rollbackPlan']]);

/**
 * Each issue next to its field; the rest, and refusals, in the form's alert. Focus goes to the
 * first field to fix.
 * @param {HTMLFormElement} form
 * @param {HTMLElement} alert
 * @param {unknown} error
 */
export function showProblem(form, alert, error) {
  const issues =
    error instanceof ApiError
      ? error.issues.length > 0
        ? error.issues
        : FIELD_OF_CODE.filter(([code]) => code.test(error.code)).map(([, f]) => ({
            field: f,
            message: error.message,
          }))
      : [];
  const unplaced = [];
  for (const issue of issues) {
    const holder = form.querySelector(`[data-field="${CSS.escape(issue.field)}"]`);
    const control = holder?.querySelector('input, select, textarea');
    if (!holder || !control) {
      unplaced.push(`${issue.field}: ${issue.message}`);
      continue;
    }
    const errorId = `${control.id}-error`;
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', errorId);
    holder.append(h('span', { id: errorId, class: 'field-error issue' }, issue.message));
  }
  showAlert(
    alert,
    issues.length > 0
      ? `Please fix the fields marked above.${unplaced.length > 0 ? ` ${unplaced.join('; ')}` : ''}`
      : messageOf(error),
  );
  /** @type {HTMLElement} */ (form.querySelector('[aria-invalid]') ?? alert).focus();
}
