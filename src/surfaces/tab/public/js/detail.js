// @ts-check
import { segment } from './api.js';
import { display, h, replace, when } from './dom.js';
import { ROLE, TIMELINE, tone } from './labels.js';
import { renderRunPanel, renderWizard, runsList } from './wizard.js';
import { itilSections } from './assessment.js';
import { reviewSection } from './review.js';
import { questionSection } from './question.js';
import { noteSection } from './notes.js';

/**
 * @typedef {import('./types.js').Detail} Detail
 * @typedef {import('./types.js').RequestDetail} RequestDetail
 * @typedef {import('./types.js').TimelineEntry} TimelineEntry
 * @typedef {import('./api.js').Api} Api
 */

/**
 * One request: what was asked, the wizard (technicians, executable work), its runs and its timeline.
 * @param {HTMLElement} root
 * @param {Api} api
 * @param {string} id
 * @param {{ openQueue: () => void, isCurrent: () => boolean, openRun?: string }} nav
 */
export async function renderDetail(root, api, id, nav) {
  const detail = /** @type {Detail} */ (await api.get(`requests/${segment(id)}`));
  if (!nav.isCurrent()) return;
  const r = detail.request;
  const refresh = (/** @type {string | undefined} */ openRun) =>
    nav.isCurrent()
      ? renderDetail(root, api, id, { ...nav, ...(openRun ? { openRun } : {}) })
      : Promise.resolve();

  const runs = detail.runs ?? [];
  const focusRun =
    runs.find((run) => run.id === nav.openRun) ?? runs.findLast((run) => !run.final) ?? undefined;
  const activeRun = runs.find((run) => !run.final);
  const runPanel = h('div', { class: 'run-panel' });
  const ctx = {
    api,
    requestId: r.id,
    type: r.type,
    version: r.version,
    isCurrent: nav.isCurrent,
    refresh,
  };

  replace(
    root,
    h(
      'nav',
      { 'aria-label': 'Breadcrumb' },
      h(
        'a',
        {
          href: './',
          class: 'back',
          onClick: (/** @type {MouseEvent} */ e) => {
            e.preventDefault();
            nav.openQueue();
          },
        },
        '← All requests',
      ),
    ),
    h(
      'h1',
      { id: 'page-title', tabindex: '-1' },
      h('span', { class: 'request-id' }, r.id),
      ' ',
      r.title,
    ),
    h(
      'p',
      { class: 'request-meta' },
      h('span', { class: `badge ${tone(r.status)}` }, r.statusLabel),
      h('span', {}, r.typeLabel),
      h('span', {}, r.clientName),
      h('span', {}, `version ${r.version}`),
    ),
    summary(r, detail.viewer.roles),
    itilSections(/** @type {import('./assessment.js').Detail} */ (detail), ctx),
    reviewSection(/** @type {import('./assessment.js').Detail} */ (detail), ctx),
    questionSection(ctx),
    activeRun
      ? h(
          'p',
          { class: 'notice' },
          `Run ${activeRun.id} is under way. The wizard comes back when it has ended, if the request still needs it.`,
        )
      : detail.viewer.mayExecute && detail.wizard
        ? h(
            'section',
            { class: 'card', 'aria-labelledby': 'wizard-title' },
            h('h2', { id: 'wizard-title' }, `Wizard: ${r.typeLabel}`),
            renderWizard(ctx, r.type, detail.wizard.defaults, (run) => {
              void refresh(run.id);
            }),
          )
        : executionNote(detail),
    runs.length > 0
      ? h(
          'section',
          { class: 'card', 'aria-labelledby': 'runs-title' },
          h('h2', { id: 'runs-title' }, 'Runs'),
          runsList(runs, focusRun?.id, (run) => {
            renderRunPanel(
              runPanel,
              ctx,
              run,
              detail.viewer.mayExecute || isStaff(detail.viewer.roles),
            );
          }),
          runPanel,
        )
      : null,
    noteSection(ctx),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'timeline-title' },
      h('h2', { id: 'timeline-title' }, 'Timeline'),
      timeline(detail.timeline),
    ),
  );
  if (focusRun) renderRunPanel(runPanel, ctx, focusRun, isStaff(detail.viewer.roles));
  // Reading the request again after Execute, a tick or a finished run replaced what had focus: the
  // run the technician was following takes it, rather than the page's start.
  const focusLost = document.activeElement === null || document.activeElement === document.body;
  if (nav.openRun && focusLost)
    /** @type {HTMLElement | null} */ (runPanel.querySelector('h3'))?.focus();
}

/** @param {string[]} roles */
function isStaff(roles) {
  return roles.includes('tech') || roles.includes('lead');
}

/**
 * @param {RequestDetail} r
 * @param {string[]} roles
 */
function summary(r, roles) {
  const rows = [
    ['Requested by', `${r.requester}, ${when(r.createdAt)}`],
    r.approval
      ? [
          r.approval.outcome === 'approved' ? 'Approved by' : 'Denied by',
          `${r.approval.by}, ${when(r.approval.at)}${r.approval.reason ? ` — ${r.approval.reason}` : ''}`,
        ]
      : null,
    r.assignee ? ['Technician', r.assignee] : null,
    r.failure ? ['Failed', `${r.failure.reason} (${r.failure.by}, ${when(r.failure.at)})`] : null,
    r.closure
      ? [
          'Closed',
          `${r.closure.outcome.replaceAll('_', ' ')} — ${r.closure.notes || 'no notes'} (${r.closure.by})`,
        ]
      : null,
    ['You are', roles.map((role) => ROLE[role] ?? role).join(', ') || 'a reader'],
  ].filter((row) => row !== null);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'asked-title' },
    h('h2', { id: 'asked-title' }, 'What was asked'),
    h('p', { class: 'description' }, r.description),
    h(
      'dl',
      { class: 'fields' },
      r.fields.map((f) => [h('dt', {}, f.label), h('dd', {}, display(f.value))]),
      rows.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]),
    ),
  );
}

/** @param {Detail} detail */
function executionNote(detail) {
  const r = detail.request;
  if (!r.executable) return null;
  const staff = isStaff(detail.viewer.roles);
  let text;
  if (!staff) text = 'Your MSP carries this change out. You can follow its progress here.';
  else if (detail.execution === 'unavailable')
    text = 'The wizard is unavailable: Cabinet has no Microsoft Graph connection configured.';
  else if (r.status === 'awaiting_approval' || r.status === 'submitted' || r.status === 'triaged')
    text = 'The wizard opens once the request is approved.';
  else if (r.status === 'implemented' || r.status === 'closed')
    text = 'The change has been carried out. To undo it, use Roll back on its run below.';
  else if (r.status === 'rolled_back') text = 'The change was rolled back.';
  else text = `The wizard is not available for a request that is ${r.statusLabel.toLowerCase()}.`;
  return h('p', { class: 'notice' }, text);
}

/** @param {TimelineEntry[]} entries */
function timeline(entries) {
  if (entries.length === 0) return h('p', { class: 'muted' }, 'Nothing recorded yet.');
  return h(
    'ol',
    { class: 'timeline' },
    entries.map((e) =>
      h(
        'li',
        {},
        h('time', { datetime: e.at }, when(e.at)),
        h(
          'span',
          { class: 'timeline-what' },
          h('strong', {}, TIMELINE[e.type] ?? e.type),
          ` by ${e.actor}`,
          // Execution entries carry a step's or run's state, not the request's.
          e.statusLabel && !e.type.startsWith('execution.') ? ` → ${e.statusLabel}` : '',
          e.runId ? h('span', { class: 'muted' }, ` · run ${e.runId}`) : null,
        ),
        e.text ? h('span', { class: 'timeline-text' }, e.text) : null,
      ),
    ),
  );
}
