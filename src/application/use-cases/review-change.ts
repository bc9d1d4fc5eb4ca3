import { validateReview } from '../../domain/assessment/post-implementation-review';
import { ok } from '../../domain/shared/result';
import { applyChange, type ActionOutcome, type ChangeCommand } from './apply-change';
import type { UseCaseDeps } from './context';
import { notify } from './notifications';

export interface ReviewCommand extends ChangeCommand {
  /** Untrusted form data: validated by the domain, every field to fix at once. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * The technician files the post-implementation review (issue 4 §6). It closes an implemented or
 * failed normal change; an emergency closes once its retrospective approval is in too.
 */
export function fileReview(deps: UseCaseDeps, command: ReviewCommand): Promise<ActionOutcome> {
  return applyChange(deps, command, {
    event: () => {
      const review = validateReview(command.fields);
      return Promise.resolve(
        review.ok ? ok({ type: 'ReviewFiled', review: review.value }) : review,
      );
    },
    notifications: (next, before) =>
      next.status === before.status
        ? []
        : [next.requester, ...(next.onBehalfOf ? [next.onBehalfOf] : [])].map((p) =>
            notify(p, next, 'request_closed'),
          ),
  });
}
