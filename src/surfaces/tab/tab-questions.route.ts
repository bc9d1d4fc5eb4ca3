import type { Server } from 'restify';
import { z } from 'zod';
import { answerQuestion } from '../../application/use-cases/clarify-change';
import type { UseCaseDeps } from '../../application/use-cases/context';
import { resolveRequest } from '../../application/use-cases/resolve-request';
import { wouldAccept } from '../../domain/change-request/change-request.machine';
import { rulesFor } from '../../domain/client/client-rules';
import { NOTE_MAX } from '../../domain/change-request/change-request.payloads';
import { requestIdParam } from './tab-api.route';
import { apiRoute, parseInput, unwrap, type Authenticate } from './tab-http';

export interface TabQuestionsDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

const AnswerBody = z.object({
  version: z.number({ message: 'is required' }).int().positive(),
  answer: z.string().trim().min(1, 'is required').max(NOTE_MAX),
});

/** Stand-in text for the dry run of asking or answering; never stored. */
const PROBE = 'probe';

/**
 * Questions on a request (issue 4 §3): who may ask or answer now, the open question and the
 * earlier ones with their answers; the requester answers here. Asking is `POST …/question`
 * (tab-itil.route.ts). The caller is the token's person; the use case decides whether they may.
 */
export function mountTabQuestionsApi(server: Server, deps: TabQuestionsDeps): void {
  const route = (handler: Parameters<typeof apiRoute>[2]) =>
    apiRoute(deps.authenticate, deps.log, handler);
  const uc = deps.useCases;

  server.get(
    '/api/tab/requests/:id/questions',
    route(async ({ actor, req }) => {
      const { client, roles, stored } = unwrap(
        await resolveRequest(uc, actor, requestIdParam(req)),
      );
      const r = stored.request;
      const may = wouldAccept(r, {
        actor,
        roles,
        now: uc.clock.now().toISOString(),
        rules: rulesFor(client),
      });
      const q = r.clarification;
      return {
        body: {
          version: r.version,
          mayAsk: may({ type: 'InfoRequested', question: PROBE }),
          mayAnswer: may({ type: 'InfoProvided', answer: PROBE }),
          ...(q ? { open: { question: q.question, by: q.askedBy.name, at: q.askedAt } } : {}),
          earlier: (r.clarifications ?? []).map((c) => ({
            question: c.question,
            by: c.askedBy.name,
            at: c.askedAt,
            answer: c.answer,
            answeredBy: c.answeredBy.name,
            answeredAt: c.answeredAt,
          })),
        },
      };
    }),
  );

  server.post(
    '/api/tab/requests/:id/answer',
    route(async ({ actor, req }) => {
      const body = parseInput(AnswerBody, req.body);
      const outcome = await answerQuestion(uc, {
        actor,
        requestId: requestIdParam(req),
        version: body.version,
        answer: body.answer,
      });
      if (outcome.kind === 'refused') throw outcome.error;
      const r = outcome.request;
      return { body: { request: { id: r.id, status: r.status, version: r.version } } };
    }),
  );
}
