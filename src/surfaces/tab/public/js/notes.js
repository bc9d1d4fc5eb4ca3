// @ts-check
import { segment } from './api.js';
import { alertBox, clearErrors, field, showProblem, value } from './assessment.js';
import { announce, h } from './dom.js';

/** Cabinet's limit on one note (NOTE_MAX in change-request.payloads.ts). */
const NOTE_MAX = 2000;

/**
 * "Add note": a note on the request for the other side (the technicians or the requester) and, when
 * the client is mapped to a PSA, for its ticket. Cabinet decides who may write one; a refusal shows
 * in the form. The note then appears in the timeline.
 * @param {{ api: import('./api.js').Api, requestId: string, refresh: (openRun?: string) => Promise<void> }} ctx
 */
export function noteSection(ctx) {
  const alert = alertBox();
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'itil-form', novalidate: true, 'aria-label': 'Add note' },
      field('text', 'Note', h('textarea', { rows: 3, maxlength: NOTE_MAX })),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add note')),
      alert,
    )
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form, alert);
    void ctx.api
      .post(`requests/${segment(ctx.requestId)}/notes`, { text: value(form, 'text') })
      .then(
        () => {
          announce('Note added.');
          return ctx.refresh(undefined);
        },
        (/** @type {unknown} */ error) => showProblem(form, alert, error),
      );
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'notes-title' },
    h('h2', { id: 'notes-title' }, 'Add note'),
    form,
  );
}
