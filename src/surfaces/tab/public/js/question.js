// @ts-check
import { segment } from './api.js';
import { alertBox, clearErrors, field, showProblem, value } from './assessment.js';
import { announce, h, replace, when } from './dom.js';

/**
 * Questions on a request (issue 4 §3): staff and the open step's approvers ask the requester; the
 * requester of a request waiting for information answers; earlier questions and answers are listed.
 * Cabinet says who may do what (`GET …/questions`); this section only offers that.
 * @typedef {import('./assessment.js').ItilContext} ItilContext
 * @typedef {{
 *   version: number, mayAsk: boolean, mayAnswer: boolean,
 *   open?: { question: string, by: string, at: string },
 *   earlier: { question: string, by: string, at: string, answer: string, answeredBy: string, answeredAt: string }[]
 * }} Questions
 */

/**
 * An empty, hidden section that fills itself once Cabinet answered; it stays hidden when there is
 * nothing to ask, answer or read.
 * @param {ItilContext & { isCurrent: () => boolean }} ctx
 */
export function questionSection(ctx) {
  const title = h('h2', { id: 'questions-title' }, 'Questions');
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': 'questions-title', hidden: true },
    title,
  );
  void ctx.api.get(`requests/${segment(ctx.requestId)}/questions`).then(
    (data) => {
      if (!ctx.isCurrent()) return;
      const q = /** @type {Questions} */ (data);
      if (!q.mayAsk && !q.mayAnswer && q.earlier.length === 0) return;
      replace(
        section,
        title,
        q.open
          ? h(
              'p',
              { class: 'question-open' },
              h('strong', {}, `${q.open.by} asked (${when(q.open.at)}): `),
              q.open.question,
            )
          : null,
        q.mayAnswer
          ? textForm(ctx, q.version, {
              name: 'answer',
              label: 'Your answer',
              button: 'Answer',
              path: 'answer',
              done: 'Answer sent.',
            })
          : null,
        q.mayAsk
          ? textForm(ctx, q.version, {
              name: 'question',
              label: 'Question for the requester',
              button: 'Ask the requester',
              path: 'question',
              done: 'Question sent to the requester.',
            })
          : null,
        q.earlier.length > 0
          ? [
              h('h3', {}, 'Earlier questions'),
              h(
                'ol',
                { class: 'clarifications' },
                q.earlier.map((c) =>
                  h(
                    'li',
                    {},
                    h('p', {}, h('strong', {}, `${c.by} (${when(c.at)}): `), c.question),
                    h(
                      'p',
                      {},
                      h('strong', {}, `${c.answeredBy} (${when(c.answeredAt)}): `),
                      c.answer,
                    ),
                  ),
                ),
              ),
            ]
          : null,
      );
      section.hidden = false;
    },
    // The rest of the page still works; the section says why it is empty.
    (/** @type {unknown} */ error) => {
      replace(
        section,
        title,
        h('p', { class: 'alert' }, error instanceof Error ? error.message : String(error)),
      );
      section.hidden = false;
    },
  );
  return section;
}

/**
 * One text box and its button, posting `{ version, [name]: text }`.
 * @param {ItilContext} ctx
 * @param {number} version
 * @param {{ name: string, label: string, button: string, path: string, done: string }} spec
 */
function textForm(ctx, version, spec) {
  const alert = alertBox();
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'itil-form', novalidate: true, 'aria-label': spec.button },
      field(spec.name, spec.label, h('textarea', { rows: 3 })),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, spec.button)),
      alert,
    )
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form, alert);
    void ctx.api
      .post(`requests/${segment(ctx.requestId)}/${spec.path}`, {
        version,
        [spec.name]: value(form, spec.name),
      })
      .then(
        () => {
          announce(spec.done);
          return ctx.refresh(undefined);
        },
        (/** @type {unknown} */ error) => showProblem(form, alert, error),
      );
  });
  return form;
}
