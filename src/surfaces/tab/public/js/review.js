// @ts-check
import { segment } from './api.js';
import { alertBox, clearErrors, field, select, showProblem, value } from './assessment.js';
import { announce, h, when } from './dom.js';

/**
 * The post-implementation review (issue 4 §6): the filed review, and the form that files it once a
 * normal or emergency change is implemented, failed or awaiting its review.
 * @typedef {import('./assessment.js').Detail} Detail
 * @typedef {import('./assessment.js').ItilContext} ItilContext
 */

const OBJECTIVE = [
  ['yes', 'Yes'],
  ['partly', 'Partly'],
  ['no', 'No'],
];
const OUTCOMES = [
  ['successful', 'Successful'],
  ['successful_with_issues', 'Successful with issues'],
  ['failed', 'Failed'],
  ['rolled_back', 'Rolled back'],
];
const text = (/** @type {string[][]} */ pairs, /** @type {string} */ code) =>
  pairs.find(([v]) => v === code)?.[1] ?? code;

/**
 * @param {Detail} detail
 * @param {ItilContext} ctx
 */
export function reviewSection(detail, ctx) {
  const r = detail.request;
  if (r.review) {
    const rv = r.review;
    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'review-title' },
      h('h2', { id: 'review-title' }, 'Review'),
      h(
        'dl',
        { class: 'fields' },
        [
          ['Objective achieved', text(OBJECTIVE, rv.objectiveAchieved)],
          ['Outcome', text(OUTCOMES, rv.outcome)],
          ['Unexpected impacts', rv.unexpectedImpacts ?? 'none'],
          [
            'Become a standard change',
            rv.becomeStandard ? `Yes — ${rv.becomeStandardNote ?? ''}` : 'No',
          ],
          ['Filed by', `${rv.by}, ${when(rv.at)}`],
        ].map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      ),
    );
  }
  // Which outcomes fit (and whether there is a review to file at all) is the server's dry run.
  const allowed = detail.viewer.reviewOutcomes;
  if (allowed.length === 0) return null;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'review-title' },
    h('h2', { id: 'review-title' }, 'File review'),
    r.reviewDueAt ? h('p', { class: 'hint' }, `Due ${when(r.reviewDueAt)}.`) : null,
    reviewForm(ctx, allowed),
  );
}

/**
 * @param {ItilContext} ctx
 * @param {string[]} allowed the outcomes the server would accept
 */
function reviewForm(ctx, allowed) {
  const alert = alertBox();
  const noteField = field(
    'becomeStandardNote',
    'Which part repeats and what stays fixed',
    h('textarea', { rows: 2 }),
  );
  noteField.hidden = true;
  const become = /** @type {HTMLInputElement} */ (
    h('input', { type: 'checkbox', id: 'itil-becomeStandard', name: 'becomeStandard' })
  );
  become.addEventListener('change', () => {
    noteField.hidden = !become.checked;
  });
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'wizard itil-form', novalidate: true, 'aria-labelledby': 'review-title' },
      field('objectiveAchieved', 'Objective achieved', select(OBJECTIVE, undefined)),
      field(
        'outcome',
        'Outcome',
        select(
          OUTCOMES.filter(([code]) => allowed.includes(/** @type {string} */ (code))),
          undefined,
        ),
      ),
      field('unexpectedImpacts', 'Unexpected impacts', h('textarea', { rows: 3 })),
      h(
        'div',
        { class: 'field checkbox', 'data-field': 'becomeStandard' },
        become,
        h('label', { for: 'itil-becomeStandard' }, 'Propose it as a standard change'),
      ),
      noteField,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'File review'),
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
      await ctx.api.post(`requests/${segment(ctx.requestId)}/review`, {
        objectiveAchieved: value(form, 'objectiveAchieved'),
        outcome: value(form, 'outcome'),
        unexpectedImpacts: value(form, 'unexpectedImpacts'),
        becomeStandard: become.checked,
        ...(become.checked ? { becomeStandardNote: value(form, 'becomeStandardNote') } : {}),
        version: ctx.version,
      });
      announce('Review filed.');
      await ctx.refresh(undefined);
    } catch (error) {
      showProblem(form, alert, error);
    }
  }
  return form;
}
