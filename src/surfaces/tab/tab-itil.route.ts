import type { Server } from 'restify';
import { z } from 'zod';
import type { ActionOutcome } from '../../application/use-cases/apply-change';
import {
  assessChange,
  previewAssessment,
  reclassifyChange,
  sendForApproval,
} from '../../application/use-cases/assess-change';
import { askQuestion } from '../../application/use-cases/clarify-change';
import type { UseCaseDeps } from '../../application/use-cases/context';
import { fileReview } from '../../application/use-cases/review-change';
import { checkRollbackPlan } from '../../domain/assessment/rollback-plan.policy';
import { CHANGE_CLASSES } from '../../domain/change-request/change-class';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { NOTE_MAX } from '../../domain/change-request/change-request.payloads';
import { STATUS_LABELS } from '../bot/cards/labels';
import { requestIdParam } from './tab-api.route';
import { apiRoute, parseInput, unwrap, type Authenticate } from './tab-http';

export interface TabItilDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

const version = z.number({ message: 'is required' }).int().positive();

/** The assessment's own fields pass through untouched: the domain validates them, every field at once. */
const AssessBody = z
  .object({ version, overrideReason: z.string().max(NOTE_MAX).optional() })
  .passthrough();
const PreviewBody = z.object({}).passthrough();
const VersionBody = z.object({ version });
const ReviewBody = z.object({ version }).passthrough();
const ReclassifyBody = z.object({
  version,
  to: z.enum(CHANGE_CLASSES, { message: `must be one of ${CHANGE_CLASSES.join(', ')}` }),
  reason: z.string().trim().min(1, 'is required').max(NOTE_MAX),
});
const QuestionBody = z.object({
  version,
  question: z.string().trim().min(1, 'is required').max(NOTE_MAX),
});

/**
 * The technician's ITIL steps in the tab (issue 4 §2, §6): preview Cabinet's risk suggestion,
 * assess, reclassify, send for approval, ask the requester, file the review. The caller is the
 * token's person; the use cases decide whether they may.
 */
export function mountTabItilApi(server: Server, deps: TabItilDeps): void {
  const route = (handler: Parameters<typeof apiRoute>[2]) =>
    apiRoute(deps.authenticate, deps.log, handler);
  const uc = deps.useCases;

  server.post(
    '/api/tab/requests/:id/assessment/preview',
    route(async ({ actor, req }) => {
      const fields = parseInput(PreviewBody, req.body);
      const preview = unwrap(
        await previewAssessment(uc, { actor, requestId: requestIdParam(req), fields }),
      );
      const { level, floor, floorBy, score, signals } = preview.suggestion;
      return {
        body: {
          suggestion: { level, floor, floorBy, score, signals },
          conflicts: preview.conflicts,
          rollbackPlan: rollbackReadiness(preview.assessment.rollbackPlan),
        },
      };
    }),
  );

  server.post(
    '/api/tab/requests/:id/assessment',
    route(async ({ actor, req }) => {
      const { version: v, overrideReason, ...fields } = parseInput(AssessBody, req.body);
      return done(
        await assessChange(uc, {
          actor,
          requestId: requestIdParam(req),
          version: v,
          fields,
          ...(overrideReason?.trim() ? { overrideReason } : {}),
        }),
      );
    }),
  );

  server.post(
    '/api/tab/requests/:id/reclassify',
    route(async ({ actor, req }) => {
      const body = parseInput(ReclassifyBody, req.body);
      return done(
        await reclassifyChange(uc, {
          actor,
          requestId: requestIdParam(req),
          version: body.version,
          to: body.to,
          reason: body.reason,
        }),
      );
    }),
  );

  server.post(
    '/api/tab/requests/:id/send-for-approval',
    route(async ({ actor, req }) => {
      const body = parseInput(VersionBody, req.body);
      return done(
        await sendForApproval(uc, { actor, requestId: requestIdParam(req), version: body.version }),
      );
    }),
  );

  server.post(
    '/api/tab/requests/:id/review',
    route(async ({ actor, req }) => {
      const { version: v, ...fields } = parseInput(ReviewBody, req.body);
      return done(
        await fileReview(uc, { actor, requestId: requestIdParam(req), version: v, fields }),
      );
    }),
  );

  server.post(
    '/api/tab/requests/:id/question',
    route(async ({ actor, req }) => {
      const body = parseInput(QuestionBody, req.body);
      return done(
        await askQuestion(uc, {
          actor,
          requestId: requestIdParam(req),
          version: body.version,
          question: body.question,
        }),
      );
    }),
  );
}

/** A change made: where the request stands now; the page reads the detail again for the rest. */
function done(outcome: ActionOutcome): { readonly body: unknown } {
  if (outcome.kind === 'refused') throw outcome.error;
  return { body: { request: brief(outcome.request) } };
}

function brief(request: ChangeRequest) {
  return {
    id: request.id,
    status: request.status,
    statusLabel: STATUS_LABELS[request.status],
    version: request.version,
  };
}

/**
 * Whether the rollback plan would pass when sent for approval, so the form says so next to the
 * field before the technician saves. Normal and emergency changes are held to the same bar.
 */
function rollbackReadiness(
  plan: string | undefined,
): { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string } {
  const checked = checkRollbackPlan(plan, 'normal');
  return checked.ok
    ? { ok: true }
    : { ok: false, code: checked.error.code, message: checked.error.message };
}
