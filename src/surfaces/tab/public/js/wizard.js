// @ts-check
import { ApiError, segment } from './api.js';
import { announce, display, h, replace, when } from './dom.js';
import { RUN_EXPLANATION, RUN_STATUS, STEP_STATUS, tone } from './labels.js';

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('./types.js').Plan} Plan
 * @typedef {import('./types.js').PlanStep} PlanStep
 * @typedef {import('./types.js').Run} Run
 * @typedef {import('./types.js').FieldIssue} FieldIssue
 * @typedef {{
 *   api: Api, requestId: string, type: string, version: number,
 *   isCurrent: () => boolean, refresh: (openRun?: string) => Promise<void>
 * }} RequestContext
 * @typedef {{
 *   name: string, label: string,
 *   kind: 'text' | 'email' | 'textarea' | 'checkbox' | 'list' | 'select' | 'groups',
 *   hint?: string, choices?: [string, string][], readonly?: boolean
 * }} FieldDef
 */

/** How often a run's progress is read while it is not finished. */
const POLL_MS = 1500;

/**
 * The last status announced for each run followed on this page. The page is redrawn as a run
 * moves on (and read again when it ends), so a change is told whenever a drawing shows a status
 * other than the last one told, however the drawing came about.
 * @type {Map<string, string>}
 */
const toldStatus = new Map();

const SUBJECT = {
  name: 'userPrincipalName',
  label: 'User',
  kind: 'email',
  readonly: true,
  hint: 'The user this request was approved for; raise a new request for someone else.',
};

/** The wizard of each executable type; names are the option fields the API validates. @type {Record<string, FieldDef[]>} */
const FORMS = {
  new_user: [
    { name: 'givenName', label: 'First name', kind: 'text' },
    { name: 'surname', label: 'Last name', kind: 'text' },
    { name: 'displayName', label: 'Display name', kind: 'text' },
    { name: 'userPrincipalName', label: 'Sign-in name (UPN)', kind: 'email' },
    {
      name: 'mailNickname',
      label: 'Mail nickname',
      kind: 'text',
      hint: 'The part before the @ in the mailbox address.',
    },
    {
      name: 'usageLocation',
      label: 'Usage location',
      kind: 'text',
      hint: 'Two-letter country code, such as GB or US; licences need it.',
    },
    { name: 'jobTitle', label: 'Job title', kind: 'text' },
    { name: 'department', label: 'Department', kind: 'text' },
    { name: 'managerUpn', label: 'Manager (UPN)', kind: 'email' },
    {
      name: 'licenceSkus',
      label: 'Licences',
      kind: 'list',
      hint: 'Licence part numbers separated by commas, such as SPB.',
    },
    { name: 'groups', label: 'Groups', kind: 'list', hint: 'Group names separated by commas.' },
  ],
  offboard: [
    /** @type {FieldDef} */ (SUBJECT),
    { name: 'autoReply.enabled', label: 'Set an automatic reply', kind: 'checkbox' },
    { name: 'autoReply.message', label: 'Automatic reply', kind: 'textarea' },
    {
      name: 'autoReply.externalAudience',
      label: 'Send the automatic reply to',
      kind: 'select',
      choices: [
        ['all', 'Everyone who writes'],
        ['contactsOnly', 'Known contacts only'],
        ['none', 'People inside the organisation only'],
      ],
    },
    {
      name: 'removeGroups',
      label: 'Remove from security and Microsoft 365 groups',
      kind: 'checkbox',
    },
    {
      name: 'keepGroupIds',
      label: 'Groups to remove',
      kind: 'groups',
      hint: 'The plan lists the groups the user is in. Untick a group to leave the user in it, then preview again.',
    },
    { name: 'removeManager', label: 'Clear the manager', kind: 'checkbox' },
    { name: 'removeLicences', label: 'Remove licences', kind: 'checkbox' },
    {
      name: 'convertToSharedMailbox',
      label: 'Convert the mailbox to a shared mailbox',
      kind: 'checkbox',
      hint: 'Exchange Online only: becomes a checklist task.',
    },
    {
      name: 'forwardMailTo',
      label: 'Forward mail to',
      kind: 'email',
      hint: 'Exchange Online only: becomes a checklist task.',
    },
    {
      name: 'delegateMailboxTo',
      label: 'Give mailbox access to',
      kind: 'email',
      hint: 'Exchange Online only: becomes a checklist task.',
    },
    {
      name: 'delegateOneDriveTo',
      label: 'Give OneDrive access to',
      kind: 'email',
      hint: 'Becomes a checklist task.',
    },
  ],
  licence_change: [
    /** @type {FieldDef} */ (SUBJECT),
    {
      name: 'addSkus',
      label: 'Licences to add',
      kind: 'list',
      hint: 'Part numbers separated by commas.',
    },
    {
      name: 'removeSkus',
      label: 'Licences to remove',
      kind: 'list',
      hint: 'Part numbers separated by commas.',
    },
    {
      name: 'usageLocation',
      label: 'Usage location',
      kind: 'text',
      hint: 'Only needed when the user has none: a two-letter country code such as GB.',
    },
  ],
  access_change: [
    /** @type {FieldDef} */ (SUBJECT),
    {
      name: 'action',
      label: 'Grant or revoke',
      kind: 'select',
      choices: [
        ['grant', 'Grant access'],
        ['revoke', 'Revoke access'],
      ],
    },
    { name: 'groupName', label: 'Group', kind: 'text', hint: 'The group that gives the access.' },
    {
      name: 'groupId',
      label: 'Group id',
      kind: 'text',
      hint: 'Only when several groups share the name: the plan lists their ids.',
    },
    {
      name: 'relation',
      label: 'As',
      kind: 'select',
      choices: [
        ['member', 'Member'],
        ['owner', 'Owner'],
      ],
    },
  ],
};

/**
 * The wizard for a request: its fields pre-filled from the approved request, a plan preview, and
 * Execute, which stays disabled until the plan on screen matches the fields.
 * @param {RequestContext} ctx
 * @param {string} type
 * @param {Record<string, unknown>} defaults
 * @param {(run: Run) => void} onStarted
 */
export function renderWizard(ctx, type, defaults, onStarted) {
  const fields = FORMS[type] ?? [];
  /** @type {{ digest: string, version: number, options: Record<string, unknown> } | undefined} */
  let preview;
  const alertBox = h('div', {
    id: 'wizard-alert',
    class: 'alert',
    role: 'alert',
    tabindex: '-1',
    hidden: true,
    'data-testid': 'wizard-alert',
  });
  const planArea = h('div', { class: 'plan-area' });
  const previewButton = h('button', { type: 'submit', class: 'secondary' }, 'Preview plan');
  const executeButton = /** @type {HTMLButtonElement} */ (
    h(
      'button',
      { type: 'button', class: 'primary', disabled: true, 'aria-describedby': 'execute-hint' },
      'Execute',
    )
  );
  const executeHint = h(
    'p',
    { id: 'execute-hint', class: 'hint' },
    'Preview the plan first: Execute carries out exactly the plan on screen.',
  );
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'wizard', novalidate: true, 'aria-describedby': 'wizard-intro' },
      h(
        'p',
        { id: 'wizard-intro', class: 'hint' },
        'Pre-filled from the approved request. Change what you need, then preview the plan. Changes to approved details are noted in the plan.',
      ),
      fields.map((f) => fieldControl(f, valueAt(defaults, f.name))),
      h('div', { class: 'actions' }, previewButton),
    )
  );

  /** @param {string} message @param {string} [note] */
  const showAlert = (message, note) => {
    replace(alertBox, h('p', {}, message), note ? h('p', { class: 'hint' }, note) : null);
    alertBox.hidden = false;
  };
  /** Focus goes to the first field to fix, or else to the message, never lost on a disabled button. */
  const focusProblem = () =>
    /** @type {HTMLElement} */ (form.querySelector('[aria-invalid]') ?? alertBox).focus();
  const clearErrors = () => {
    alertBox.hidden = true;
    for (const el of form.querySelectorAll('.field-error')) el.remove();
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  };

  syncGroupChoices(form);
  form.addEventListener('input', () => {
    syncGroupChoices(form);
    if (!preview) return;
    preview = undefined;
    executeButton.disabled = true;
    executeHint.textContent = 'You changed the wizard after the preview: preview the plan again.';
    planArea.classList.add('stale');
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      clearErrors();
      const options = readOptions(form, fields);
      previewButton.setAttribute('disabled', '');
      previewButton.textContent = 'Reading the client’s directory…';
      announce('Reading the client’s directory to plan. Nothing is changed.');
      try {
        const result = /** @type {{ plan: Plan, digest: string, version: number }} */ (
          await ctx.api.post(`requests/${segment(ctx.requestId)}/preview`, { options })
        );
        preview = { digest: result.digest, version: result.version, options };
        planArea.classList.remove('stale');
        offerGroups(form, result.plan);
        replace(planArea, planView(result.plan));
        executeButton.disabled = false;
        executeHint.textContent = `Runs these ${result.plan.steps.length} steps in the background; you can follow them here.`;
        announce('Plan ready. Review it, then Execute.');
        planArea.querySelector('h3')?.focus();
      } catch (error) {
        preview = undefined;
        executeButton.disabled = true;
        executeHint.textContent = 'Execute stays off until a preview succeeds.';
        replace(planArea);
        showProblem(error, form, (message) =>
          showAlert(
            message,
            'Nothing was changed: a preview only reads the client’s directory. Fix what the message says, then preview again.',
          ),
        );
        focusProblem();
      } finally {
        previewButton.removeAttribute('disabled');
        previewButton.textContent = 'Preview plan';
      }
    })();
  });

  executeButton.addEventListener('click', () => {
    if (!preview) return;
    const { digest, version, options } = preview;
    void (async () => {
      clearErrors();
      executeButton.disabled = true;
      executeButton.textContent = 'Starting…';
      try {
        const result = /** @type {{ run: Run }} */ (
          await ctx.api.post(`requests/${segment(ctx.requestId)}/runs`, {
            version,
            options,
            previewDigest: digest,
          })
        );
        announce(`Run ${result.run.id} started.`);
        toldStatus.set(result.run.id, result.run.status);
        onStarted(result.run);
      } catch (error) {
        executeButton.disabled = false;
        showProblem(error, form, (message) => showAlert(message));
        focusProblem();
      } finally {
        executeButton.textContent = 'Execute';
      }
    })();
  });

  return h(
    'div',
    {},
    form,
    alertBox,
    planArea,
    h('div', { class: 'actions execute' }, executeButton, executeHint),
  );
}

/**
 * @param {FieldDef} def
 * @param {unknown} value
 */
function fieldControl(def, value) {
  const id = `wz-${def.name.replace('.', '-')}`;
  const hintId = def.hint ? `${id}-hint` : undefined;
  const hint = def.hint ? h('span', { id: hintId, class: 'hint' }, def.hint) : null;
  const common = { id, name: def.name, 'aria-describedby': hintId };
  if (def.kind === 'groups') {
    return h(
      'fieldset',
      { class: 'field groups', 'data-field': def.name, 'aria-describedby': hintId },
      h('legend', {}, def.label),
      hint,
      h('ul', { class: 'group-choices' }),
    );
  }
  if (def.kind === 'checkbox') {
    return h(
      'div',
      { class: 'field checkbox', 'data-field': def.name },
      h('input', { ...common, type: 'checkbox', checked: value === true }),
      h('label', { for: id }, def.label),
      hint,
    );
  }
  let control;
  if (def.kind === 'textarea') {
    control = h('textarea', { ...common, rows: 4, value: typeof value === 'string' ? value : '' });
  } else if (def.kind === 'select') {
    control = h(
      'select',
      common,
      (def.choices ?? []).map(([v, label]) =>
        h('option', { value: v, selected: v === value }, label),
      ),
    );
  } else {
    const text = Array.isArray(value)
      ? value.join(', ')
      : value === undefined
        ? ''
        : display(value);
    control = h('input', {
      ...common,
      type: def.kind === 'email' ? 'email' : 'text',
      value: text,
      readonly: def.readonly === true,
      autocomplete: 'off',
      spellcheck: 'false',
    });
  }
  return h(
    'div',
    { class: 'field', 'data-field': def.name },
    h('label', { for: id }, def.label),
    hint,
    control,
  );
}

/**
 * The wizard's values as the API expects them: flags as booleans, lists as arrays, nested by dots.
 * @param {HTMLFormElement} form
 * @param {FieldDef[]} fields
 */
function readOptions(form, fields) {
  /** @type {Record<string, unknown>} */
  const options = {};
  for (const def of fields) {
    if (def.kind === 'groups') {
      options[def.name] = groupChoices(form)
        .filter((box) => !box.checked)
        .map((box) => box.value);
      continue;
    }
    const el = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(def.name));
    if (!el) continue;
    const value =
      def.kind === 'checkbox'
        ? el.checked
        : def.kind === 'list'
          ? el.value
              .split(/[,;\n]/)
              .map((s) => s.trim())
              .filter((s) => s.length > 0)
          : el.value;
    const path = def.name.split('.');
    let target = options;
    for (const key of path.slice(0, -1))
      target = /** @type {Record<string, unknown>} */ (target[key] ??= {});
    target[/** @type {string} */ (path.at(-1))] = value;
  }
  return options;
}

/**
 * @param {Record<string, unknown>} values
 * @param {string} path
 */
function valueAt(values, path) {
  /** @type {unknown} */
  let value = values;
  for (const key of path.split('.'))
    value =
      value && typeof value === 'object'
        ? /** @type {Record<string, unknown>} */ (value)[key]
        : undefined;
  return value;
}

/**
 * The offboarding wizard's group checkboxes (ticked: remove the user from the group).
 * @param {HTMLFormElement} form
 * @returns {HTMLInputElement[]}
 */
function groupChoices(form) {
  return [...form.querySelectorAll('.group-choices input[type=checkbox]')].map(
    (el) => /** @type {HTMLInputElement} */ (el),
  );
}

/**
 * Lists every group a preview removes the user from, ticked. A group the technician unticked stays
 * listed (unticked) after the next preview, although that plan no longer mentions it.
 * @param {HTMLFormElement} form
 * @param {Plan} plan
 */
function offerGroups(form, plan) {
  const list = form.querySelector('.group-choices');
  if (!list) return;
  const known = new Set(groupChoices(form).map((box) => box.value));
  for (const step of plan.steps) {
    const access = step.access;
    if (!access || access.change !== 'revoked' || access.relation !== 'member') continue;
    if (known.has(access.resourceId)) continue;
    known.add(access.resourceId);
    const id = `wz-group-${list.children.length + 1}`;
    list.append(
      h(
        'li',
        { class: 'checkbox' },
        h('input', {
          id,
          type: 'checkbox',
          name: 'removeFromGroup',
          value: access.resourceId,
          checked: true,
        }),
        h('label', { for: id }, access.resourceName),
      ),
    );
  }
}

/**
 * Group choices only matter while the user is being taken out of groups.
 * @param {HTMLFormElement} form
 */
function syncGroupChoices(form) {
  const removeGroups = form.elements.namedItem('removeGroups');
  const fieldset = form.querySelector('fieldset.groups');
  if (removeGroups instanceof HTMLInputElement && fieldset instanceof HTMLFieldSetElement)
    fieldset.disabled = !removeGroups.checked;
}

/**
 * Field problems go next to their fields; anything else (a refusal such as "no free seats") above the plan.
 * @param {unknown} error
 * @param {HTMLFormElement} form
 * @param {(message: string) => void} showAlert
 */
function showProblem(error, form, showAlert) {
  if (!(error instanceof ApiError)) {
    showAlert(error instanceof Error ? error.message : String(error));
    return;
  }
  const unplaced = [];
  for (const issue of error.issues) {
    const field = form.querySelector(`[data-field="${CSS.escape(issue.field)}"]`);
    const control = field?.querySelector('input, select, textarea');
    if (!field || !control) {
      unplaced.push(`${issue.field}: ${issue.message}`);
      continue;
    }
    const errorId = `${control.id}-error`;
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute(
      'aria-describedby',
      `${control.getAttribute('aria-describedby') ?? ''} ${errorId}`.trim(),
    );
    field.append(h('span', { id: errorId, class: 'field-error' }, issue.message));
  }
  const reference = error.requestId ? ` (reference ${error.requestId})` : '';
  showAlert(
    error.issues.length > 0
      ? `Please fix the fields marked above.${unplaced.length > 0 ? ` ${unplaced.join('; ')}` : ''}`
      : `${error.message}${error.status >= 500 ? reference : ''}`,
  );
}

/**
 * The plan as the technician must see it before Execute: steps in order with the state each
 * captured, which run together, where undoing stops (the point of no return), and the checklist.
 * @param {Plan} plan
 */
function planView(plan) {
  /** @type {Map<number, number>} */
  const waveSizes = new Map();
  for (const step of plan.steps) waveSizes.set(step.wave, (waveSizes.get(step.wave) ?? 0) + 1);
  // Waves are numbered for people from 1, in order, whatever numbers the planner used.
  const waveNumber = new Map([...waveSizes.keys()].sort((a, b) => a - b).map((w, i) => [w, i + 1]));
  const undoable = plan.steps.slice(0, plan.pointOfNoReturn);
  const final = plan.steps.slice(plan.pointOfNoReturn);
  const stepList = (/** @type {PlanStep[]} */ steps, /** @type {number} */ start) =>
    h(
      'ol',
      { class: 'steps', start },
      steps.map((step) =>
        h(
          'li',
          { class: 'step', 'data-step': step.id },
          h('span', { class: 'step-title' }, step.title),
          h(
            'span',
            { class: 'step-tags' },
            h(
              'span',
              { class: 'tag' },
              waveTag(waveNumber.get(step.wave) ?? 0, waveSizes.get(step.wave) ?? 1),
            ),
            h('span', { class: 'tag' }, step.undoable ? 'Can be undone' : 'Not reversible'),
          ),
          step.prior && Object.keys(step.prior).length > 0
            ? h(
                'details',
                { class: 'prior' },
                h('summary', {}, 'State before this step'),
                h(
                  'dl',
                  {},
                  Object.entries(step.prior).map(([k, v]) => [
                    h('dt', {}, k),
                    h('dd', {}, display(v)),
                  ]),
                ),
              )
            : null,
        ),
      ),
    );
  return h(
    'section',
    { class: 'plan', 'aria-labelledby': 'plan-title' },
    h('h3', { id: 'plan-title', tabindex: '-1' }, `Plan for ${plan.subject.displayName}`),
    h('p', { class: 'muted' }, plan.subject.userPrincipalName),
    plan.notes.length > 0
      ? h(
          'div',
          { class: 'notes', role: 'note', 'aria-label': 'Things to know' },
          h('h4', {}, 'Things to know'),
          h(
            'ul',
            {},
            plan.notes.map((n) => h('li', {}, n)),
          ),
        )
      : null,
    plan.steps.length === 0
      ? h(
          'p',
          { class: 'notice' },
          'Nothing to change in the directory: it already matches the request.',
        )
      : null,
    undoable.length > 0
      ? [
          h(
            'h4',
            {},
            `Steps 1–${undoable.length}: if one fails, Cabinet undoes those already done`,
          ),
          stepList(undoable, 1),
        ]
      : null,
    final.length > 0
      ? [
          h(
            'div',
            { class: 'ponr', role: 'note', 'aria-label': 'Point of no return' },
            h('strong', {}, 'Point of no return'),
            h(
              'span',
              {},
              undoable.length > 0
                ? ` From step ${undoable.length + 1} on, a failure no longer undoes the steps above: Cabinet retries, and if it cannot finish, it stops and asks a person.`
                : ' Every step here is final: a failure is retried, then handed to a person; nothing is undone.',
            ),
          ),
          stepList(final, undoable.length + 1),
        ]
      : plan.steps.length > 0
        ? h(
            'p',
            { class: 'hint' },
            'No point of no return: if any step fails, every step done so far is undone.',
          )
        : null,
    plan.checklist.length > 0
      ? [
          h('h4', {}, 'Checklist: work Cabinet cannot do through Microsoft Graph'),
          h(
            'ul',
            { class: 'checklist' },
            plan.checklist.map((item) =>
              h(
                'li',
                {},
                h('strong', {}, item.title),
                h('span', { class: 'hint' }, item.detail),
                item.before
                  ? h(
                      'span',
                      { class: 'hint' },
                      `The run waits for this before “${stepTitle(plan, item.before)}”.`,
                    )
                  : null,
              ),
            ),
          ),
        ]
      : null,
  );
}

/**
 * @param {number} wave
 * @param {number} size how many steps share the wave
 */
function waveTag(wave, size) {
  if (size <= 1) return `Wave ${wave}`;
  return `Wave ${wave}: sent together with ${size - 1} other step${size > 2 ? 's' : ''}`;
}

/**
 * @param {{ steps: { id: string, title: string }[] }} planOrRun
 * @param {string} id
 */
function stepTitle(planOrRun, id) {
  return planOrRun.steps.find((s) => s.id === id)?.title ?? id;
}

/**
 * The request's runs, newest last; choosing one shows its progress.
 * @param {Run[]} runs
 * @param {string | undefined} selected
 * @param {(run: Run) => void} onSelect
 */
export function runsList(runs, selected, onSelect) {
  return h(
    'ul',
    { class: 'runs' },
    runs.map((run) =>
      h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            'aria-current': run.id === selected ? 'true' : undefined,
            onClick: () => onSelect(run),
          },
          `${run.kind === 'rollback' ? 'Roll-back' : 'Run'} ${run.id}`,
        ),
        ' ',
        h(
          'span',
          { class: `badge ${tone(run.status)}`, 'data-run-badge': run.id },
          RUN_STATUS[run.status] ?? run.status,
        ),
        h('span', { class: 'muted' }, ` ${run.startedBy}, ${when(run.createdAt)}`),
      ),
    ),
  );
}

/**
 * One run's live progress: polled until it ends, then the whole request is read again (its state,
 * timeline and runs changed with it).
 * @param {HTMLElement} container
 * @param {RequestContext} ctx
 * @param {Run} initial
 * @param {boolean} mayAct technicians tick checklist items and roll back; others only watch
 */
export function renderRunPanel(container, ctx, initial, mayAct) {
  const generation = String(Number(container.dataset.generation ?? '0') + 1);
  container.dataset.generation = generation;
  const stillShown = () =>
    ctx.isCurrent() && container.isConnected && container.dataset.generation === generation;
  const runPath = `requests/${segment(ctx.requestId)}/runs/${segment(initial.id)}`;

  /** The run as last drawn: a poll that finds nothing new leaves the panel (and what is typed) alone. */
  let drawn = '';
  const draw = (/** @type {Run} */ run) => {
    drawn = JSON.stringify(run);
    const told = toldStatus.get(run.id);
    if (told !== undefined && told !== run.status)
      announce(
        `${run.kind === 'rollback' ? 'Roll-back' : 'Run'} ${run.id}: ${RUN_STATUS[run.status] ?? run.status}.${run.reason ? ` ${run.reason}` : ''}`,
      );
    // A run seen unfinished is followed from then on; one seen only finished has nothing to tell.
    if (told !== undefined || !run.final) toldStatus.set(run.id, run.status);
    // Redrawing replaces the panel: keep typed notes and the focus of whoever is working in it.
    const typed = new Map(
      [...container.querySelectorAll('input[id]')].map((el) => [
        el.id,
        /** @type {HTMLInputElement} */ (el).value,
      ]),
    );
    const active = document.activeElement;
    const hadFocus = active !== null && container.contains(active);
    replace(container, runView(run, mayAct, ctx, runPath, draw));
    for (const [id, value] of typed) {
      const input = document.getElementById(id);
      if (input instanceof HTMLInputElement && container.contains(input)) input.value = value;
    }
    if (hadFocus) {
      const again = active.id ? document.getElementById(active.id) : null;
      /** @type {HTMLElement | null} */ (
        again && container.contains(again) ? again : container.querySelector('h3')
      )?.focus();
    }
    // Keep the run's line in the list of runs in step with its panel.
    const badge = document.querySelector(`[data-run-badge="${CSS.escape(run.id)}"]`);
    if (badge) {
      badge.className = `badge ${tone(run.status)}`;
      badge.textContent = RUN_STATUS[run.status] ?? run.status;
    }
  };
  const poll = (/** @type {Run} */ run) => {
    if (run.final) return;
    setTimeout(() => {
      if (!stillShown()) return;
      ctx.api.get(runPath).then(
        (/** @type {unknown} */ answer) => {
          const latest = /** @type {{ run: Run }} */ (answer);
          if (!stillShown()) return;
          if (latest.run.final) {
            void ctx.refresh(latest.run.id);
            return;
          }
          if (JSON.stringify(latest.run) !== drawn) draw(latest.run);
          poll(latest.run);
        },
        () => {
          // A missed poll (network blip) is retried on the next tick; the run carries on regardless.
          if (stillShown()) poll(run);
        },
      );
    }, POLL_MS);
  };
  draw(initial);
  poll(initial);
}

/**
 * @param {Run} run
 * @param {boolean} mayAct
 * @param {RequestContext} ctx
 * @param {string} runPath
 * @param {(run: Run) => void} redraw
 */
function runView(run, mayAct, ctx, runPath, redraw) {
  const status = RUN_STATUS[run.status] ?? run.status;
  return h(
    'section',
    { class: 'run', 'aria-labelledby': 'run-title', 'data-run': run.id, 'data-status': run.status },
    h(
      'h3',
      { id: 'run-title', tabindex: '-1' },
      run.kind === 'rollback'
        ? `Roll-back ${run.id}${run.rollbackOf ? ` (undoes run ${run.rollbackOf})` : ''} `
        : `Run ${run.id} `,
      h('span', { class: `badge ${tone(run.status)}`, 'data-testid': 'run-status' }, status),
    ),
    run.outcome ? outcomeView(run, run.outcome) : null,
    h('p', { class: 'explain' }, RUN_EXPLANATION[run.status] ?? ''),
    run.reason && !run.outcome
      ? h('p', { class: 'reason' }, h('strong', {}, 'Why: '), run.reason)
      : null,
    ctx.type === 'new_user' && run.kind === 'execute' && run.status === 'completed'
      ? h(
          'p',
          { class: 'notice' },
          'The temporary password goes to the requester only: they reveal it once in Teams. Cabinet never shows it here.',
        )
      : null,
    run.waitUntil && run.status === 'waiting'
      ? h('p', { class: 'hint' }, `Microsoft asked Cabinet to wait until ${when(run.waitUntil)}.`)
      : null,
    run.planned
      ? h(
          'ol',
          { class: 'progress', 'aria-label': 'Steps' },
          run.steps.map((step, i) =>
            h(
              'li',
              {
                class: `step ${tone(step.status)}`,
                'data-step': step.id,
                'data-status': step.status,
              },
              h('span', { class: 'step-title' }, step.title),
              h(
                'span',
                { class: `badge ${tone(step.status)}` },
                STEP_STATUS[step.status] ?? step.status,
              ),
              run.pointOfNoReturn !== undefined &&
                i === run.pointOfNoReturn &&
                run.pointOfNoReturn > 0
                ? h('span', { class: 'tag' }, 'First step past the point of no return')
                : null,
              step.failure ? h('span', { class: 'step-failure' }, step.failure) : null,
            ),
          ),
        )
      : h('p', { class: 'hint' }, 'Cabinet is reading the client’s directory to plan the run…'),
    run.checklist.length > 0 ? checklistView(run, mayAct, ctx, runPath, redraw) : null,
    run.canRollBack && mayAct ? rollBackControl(run, ctx, runPath) : null,
  );
}

/**
 * Why a run stopped short and where each step ended up, first thing on the panel: the technician
 * has to know what is still changed in the client's directory before doing anything else.
 * @param {Run} run
 * @param {import('./types.js').RunOutcome} outcome
 */
function outcomeView(run, outcome) {
  const titleId = `outcome-${run.id}`;
  /** @type {[string, string[]][]} */
  const groups = [
    ['Failed', outcome.failed],
    ['Still changed in the client’s directory', outcome.inPlace],
    ['Undone: back as it was before the run', outcome.undone],
    ['Not started', outcome.notStarted],
    ['Done by hand (Cabinet does not undo these)', outcome.doneByHand],
  ];
  return h(
    'section',
    { class: 'outcome', 'aria-labelledby': titleId, 'data-testid': 'run-outcome' },
    h(
      'h4',
      { id: titleId },
      run.status === 'compensated'
        ? 'Stopped, and everything that could be undone was undone'
        : 'Stopped: a person has to finish this',
    ),
    run.reason ? h('p', { class: 'reason' }, run.reason) : null,
    groups
      .filter(([, items]) => items.length > 0)
      .map(([label, items]) => [
        h('h5', {}, label),
        h(
          'ul',
          { 'data-outcome': label },
          items.map((item) => h('li', {}, item)),
        ),
      ]),
  );
}

/**
 * @param {Run} run
 * @param {boolean} mayAct
 * @param {RequestContext} ctx
 * @param {string} runPath
 * @param {(run: Run) => void} redraw
 */
function checklistView(run, mayAct, ctx, runPath, redraw) {
  return h(
    'div',
    { class: 'run-checklist' },
    h('h4', {}, 'Checklist'),
    h(
      'ul',
      { class: 'checklist' },
      run.checklist.map((item) => {
        const noteId = `note-${run.id}-${item.id}`;
        const error = h('span', { class: 'field-error', role: 'alert', hidden: true });
        const note = /** @type {HTMLInputElement} */ (
          h('input', { id: noteId, type: 'text', maxlength: '2000', autocomplete: 'off' })
        );
        const tick = /** @type {HTMLButtonElement} */ (
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onClick: () => {
                tick.disabled = true;
                ctx.api
                  .post(
                    `${runPath}/checklist/${segment(item.id)}`,
                    note.value.trim() ? { note: note.value.trim() } : {},
                  )
                  .then(
                    (/** @type {unknown} */ answer) => {
                      const result = /** @type {{ run: Run }} */ (answer);
                      announce(`${item.title}: done.`);
                      redraw(result.run);
                      // The button pressed is gone with the redraw; the run's heading takes focus.
                      document.getElementById('run-title')?.focus();
                    },
                    (/** @type {unknown} */ e) => {
                      tick.disabled = false;
                      replace(error, e instanceof Error ? e.message : String(e));
                      error.hidden = false;
                    },
                  );
              },
            },
            'Mark done',
          )
        );
        return h(
          'li',
          { 'data-item': item.id, class: item.done ? 'done' : '' },
          h('strong', {}, item.done ? `✓ ${item.title}` : item.title),
          h('span', { class: 'hint' }, item.detail),
          item.before && !item.done
            ? h(
                'span',
                { class: 'hint' },
                `The run waits for this before “${stepTitle(run, item.before)}”.`,
              )
            : null,
          item.done
            ? h(
                'span',
                { class: 'hint' },
                `Done by ${item.by ?? 'someone'}, ${when(item.at)}${item.note ? `: ${item.note}` : ''}`,
              )
            : mayAct && !run.final
              ? h(
                  'span',
                  { class: 'tick' },
                  h('label', { for: noteId }, 'Note (optional)'),
                  note,
                  tick,
                  error,
                )
              : null,
        );
      }),
    ),
  );
}

/**
 * @param {Run} run
 * @param {RequestContext} ctx
 * @param {string} runPath
 */
function rollBackControl(run, ctx, runPath) {
  const undoable = run.steps.filter((s) => s.undoable && s.status === 'done').length;
  const area = h('div', { class: 'rollback' });
  const error = h('p', { class: 'alert', role: 'alert', hidden: true });
  const confirmArea = h(
    'div',
    { class: 'confirm', hidden: true },
    h(
      'p',
      {},
      `Roll back undoes ${undoable} step${undoable === 1 ? '' : 's'} in reverse order, restoring the state captured before each. Steps that cannot be undone stay as they are.`,
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onClick: (/** @type {MouseEvent} */ e) => {
          const button = /** @type {HTMLButtonElement} */ (e.currentTarget);
          button.disabled = true;
          ctx.api.post(`${runPath}/rollback`).then(
            (/** @type {unknown} */ answer) => {
              const result = /** @type {{ run: Run }} */ (answer);
              announce(`Roll-back ${result.run.id} started.`);
              toldStatus.set(result.run.id, result.run.status);
              void ctx.refresh(result.run.id);
            },
            (/** @type {unknown} */ failure) => {
              button.disabled = false;
              replace(error, failure instanceof Error ? failure.message : String(failure));
              error.hidden = false;
            },
          );
        },
      },
      'Confirm roll back',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onClick: () => {
          confirmArea.hidden = true;
          opener.hidden = false;
          opener.focus();
        },
      },
      'Keep the change',
    ),
  );
  const opener = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onClick: () => {
        confirmArea.hidden = false;
        opener.hidden = true;
        /** @type {HTMLElement | null} */ (confirmArea.querySelector('button'))?.focus();
      },
    },
    'Roll back…',
  );
  replace(area, opener, confirmArea, error);
  return area;
}
