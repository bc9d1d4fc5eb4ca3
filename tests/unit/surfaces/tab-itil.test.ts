import { strict as assert } from 'node:assert';
import { actOnRequest } from '../../../src/application/use-cases/act-on-request';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import type { Person } from '../../../src/domain/change-request/change-request';
import {
  createHarness,
  people,
  raiseGeneral,
  seedClients,
  validAssessment,
  type Harness,
} from '../../support/fixtures';
import { startTabApi, type TabJson } from '../../support/tab-api-server';
import { signingKey } from '../../support/tab-tokens';

type Body = Record<string, unknown>;

/** The assessment form as the tab sends it: flat fields, the window as instants with offsets. */
function assessmentForm(overrides: Body = {}): Body {
  const { requestedWindow, ...a } = validAssessment();
  return {
    ...a,
    windowStart: requestedWindow!.start,
    windowEnd: requestedWindow!.end,
    ...overrides,
  };
}

const BOILERPLATE = 'Revert the change if needed.';

describe('Tab ITIL API (assess, reclassify, send for approval, ask, review)', () => {
  let h: Harness;
  let close: () => Promise<void>;
  let call: (who: Person, path: string, body?: Body) => Promise<TabJson>;
  let id: string;

  beforeEach(async () => {
    const key = await signingKey();
    h = createHarness();
    await seedClients(h);
    id = (await raiseGeneral(h, people.carla)).request.id;
    const api = await startTabApi({ surface: { useCases: h.deps }, key, now: () => h.clock.now() });
    close = () => api.close();
    call = (who, path, body) => api.call(who, path, { body });
  });

  afterEach(() => close());

  const errorOf = (r: TabJson) =>
    r.body['error'] as { code: string; message: string; issues?: Body[] };
  const detail = async (who: Person = people.tina) =>
    (await call(who, `requests/${id}`)).body['request'] as Body;

  /** Assesses with Cabinet's suggestion as the risk, so no override reason is needed. */
  async function assess(overrides: Body = {}): Promise<TabJson> {
    const preview = await call(
      people.tina,
      `requests/${id}/assessment/preview`,
      assessmentForm(overrides),
    );
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    const level = (preview.body['suggestion'] as Body)['level'];
    const version = (await detail())['version'];
    return call(people.tina, `requests/${id}/assessment`, {
      ...assessmentForm({ risk: level, ...overrides }),
      version,
    });
  }

  describe('preview', () => {
    it('gives the technician Cabinet’s suggestion with its floor, signals and conflicts', async () => {
      const r = await call(people.tina, `requests/${id}/assessment/preview`, assessmentForm());
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const suggestion = r.body['suggestion'] as Body;
      assert.ok(['low', 'medium', 'high', 'critical'].includes(suggestion['level'] as string));
      assert.equal(suggestion['floor'], 'low');
      assert.ok(Array.isArray(suggestion['signals']));
      assert.deepEqual(r.body['conflicts'], []);
      assert.deepEqual(r.body['rollbackPlan'], { ok: true });
    });

    it('says a boilerplate rollback plan will be refused, with the rule’s message', async () => {
      const r = await call(
        people.tina,
        `requests/${id}/assessment/preview`,
        assessmentForm({ rollbackPlan: BOILERPLATE }),
      );
      assert.equal(r.status, 200);
      const rollback = r.body['rollbackPlan'] as Body;
      assert.equal(rollback['code'], 'ASSESS.ROLLBACK_PLAN_BOILERPLATE');
      assert.match(rollback['message'] as string, /nobody could follow it/);
    });

    it('refuses someone who is not the client’s MSP staff', async () => {
      const r = await call(people.carla, `requests/${id}/assessment/preview`, assessmentForm());
      assert.equal(r.status, 403);
      assert.equal(errorOf(r).code, 'ASSESS.NOT_STAFF');
    });

    it('lists every field to fix', async () => {
      const r = await call(people.tina, `requests/${id}/assessment/preview`, {
        impact: 'huge',
        affectedUsers: -1,
      });
      assert.equal(r.status, 400);
      const fields = errorOf(r).issues!.map((i) => i['field']);
      for (const f of ['impact', 'risk', 'affectedUsers', 'implementationPlan', 'testPlan'])
        assert.ok(fields.includes(f), `${f} missing from ${fields.join(', ')}`);
    });
  });

  describe('assessment', () => {
    it('records the assessment and shows it on the detail view', async () => {
      const r = await assess();
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body['request'], {
        id,
        status: 'triaged',
        statusLabel: (r.body['request'] as Body)['statusLabel'],
        version: 2,
      });
      const view = await detail();
      assert.equal(view['changeClass'], 'normal');
      const a = view['assessment'] as Body;
      assert.equal(a['impact'], 'minor');
      assert.equal(a['risk'], a['suggestedRisk']);
      assert.equal(a['riskOverridden'], false);
      assert.deepEqual(a['window'], validAssessment().requestedWindow);
      assert.equal(a['by'], people.tina.name);
    });

    it('returns field issues as 400, and needs a reason to override the suggestion', async () => {
      const missing = await call(people.tina, `requests/${id}/assessment`, { version: 1 });
      assert.equal(missing.status, 400);
      assert.ok(errorOf(missing).issues!.some((i) => i['field'] === 'implementationPlan'));
      const noVersion = await call(people.tina, `requests/${id}/assessment`, assessmentForm());
      assert.equal(noVersion.status, 400);
      assert.deepEqual(errorOf(noVersion).issues, [{ field: 'version', message: 'is required' }]);

      const preview = await call(
        people.tina,
        `requests/${id}/assessment/preview`,
        assessmentForm(),
      );
      const level = (preview.body['suggestion'] as Body)['level'];
      const other = level === 'critical' ? 'high' : 'critical';
      const unexplained = await call(people.tina, `requests/${id}/assessment`, {
        ...assessmentForm({ risk: other }),
        version: 1,
      });
      assert.equal(unexplained.status, 400, JSON.stringify(unexplained.body));
      assert.equal(errorOf(unexplained).code, 'ASSESS.REASON_REQUIRED');
      assert.match(errorOf(unexplained).message, /reason/i);
      const explained = await call(people.tina, `requests/${id}/assessment`, {
        ...assessmentForm({ risk: other }),
        overrideReason: 'The mailbox belongs to the finance director.',
        version: 1,
      });
      assert.equal(explained.status, 200, JSON.stringify(explained.body));
      assert.equal(((await detail())['assessment'] as Body)['riskOverridden'], true);
    });

    it('refuses the client’s admin', async () => {
      const r = await call(people.carla, `requests/${id}/assessment`, {
        ...assessmentForm(),
        version: 1,
      });
      assert.equal(r.status, 403);
    });
  });

  describe('send for approval', () => {
    it('refuses a boilerplate rollback plan with the rule’s message', async () => {
      assert.equal((await assess({ rollbackPlan: BOILERPLATE })).status, 200);
      const r = await call(people.tina, `requests/${id}/send-for-approval`, { version: 2 });
      assert.equal(r.status, 409);
      assert.equal(errorOf(r).code, 'ASSESS.ROLLBACK_PLAN_BOILERPLATE');
      assert.match(errorOf(r).message, /rollback plan/i);
      assert.equal((await detail())['status'], 'triaged');
    });

    it('opens the approval steps, shown with their votes on the detail view', async () => {
      assert.equal((await assess()).status, 200);
      const refused = await call(people.carla, `requests/${id}/send-for-approval`, { version: 2 });
      assert.equal(refused.status, 403);
      const r = await call(people.tina, `requests/${id}/send-for-approval`, { version: 2 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((r.body['request'] as Body)['status'], 'awaiting_approval');

      const steps = (await detail())['approvalSteps'] as Body[];
      assert.ok(steps.length >= 1);
      assert.equal(steps[0]!['status'], 'open');
      assert.ok((steps[0]!['approvers'] as string[]).includes(people.andy.name));
      assert.deepEqual(steps[0]!['votes'], []);

      const version = (await detail())['version'] as number;
      const voted = await decideApproval(h.deps, {
        actor: people.andy,
        requestId: id,
        version,
        decision: 'approve',
        reason: 'Fine by us',
      });
      assert.equal(voted.kind, 'decided');
      const after = ((await detail())['approvalSteps'] as Body[])[0]!;
      assert.deepEqual(
        (after['votes'] as Body[]).map((v) => [v['by'], v['for'], v['outcome'], v['reason']]),
        [[people.andy.name, undefined, 'approved', 'Fine by us']],
      );
    });

    it('refuses a stale version', async () => {
      assert.equal((await assess()).status, 200);
      const r = await call(people.tina, `requests/${id}/send-for-approval`, { version: 1 });
      assert.equal(r.status, 409);
      assert.equal(errorOf(r).code, 'CR.STALE_VERSION');
    });
  });

  describe('reclassify', () => {
    it('moves the request to another class with a reason, staff only', async () => {
      const noReason = await call(people.tina, `requests/${id}/reclassify`, {
        version: 1,
        to: 'emergency',
      });
      assert.equal(noReason.status, 400);
      assert.deepEqual(
        errorOf(noReason).issues!.map((i) => i['field']),
        ['reason'],
      );
      const byClient = await call(people.carla, `requests/${id}/reclassify`, {
        version: 1,
        to: 'emergency',
        reason: 'The printer is on fire',
      });
      assert.equal(byClient.status, 403, JSON.stringify(byClient.body));
      const r = await call(people.tina, `requests/${id}/reclassify`, {
        version: 1,
        to: 'emergency',
        reason: 'The printer is on fire',
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((await detail())['changeClass'], 'emergency');
    });
  });

  describe('question', () => {
    it('puts a question to the requester and shows it open on the detail view', async () => {
      const empty = await call(people.tina, `requests/${id}/question`, {
        version: 1,
        question: ' ',
      });
      assert.equal(empty.status, 400);
      assert.deepEqual(
        errorOf(empty).issues!.map((i) => i['field']),
        ['question'],
      );
      const r = await call(people.tina, `requests/${id}/question`, {
        version: 1,
        question: 'Which floor is the printer on?',
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((r.body['request'] as Body)['status'], 'needs_info');
      const view = await detail(people.carla);
      assert.deepEqual(
        { ...(view['question'] as Body), at: undefined },
        { text: 'Which floor is the printer on?', by: people.tina.name, at: undefined },
      );
    });

    it('refuses someone with no part in the client', async () => {
      const r = await call(people.sam, `requests/${id}/question`, {
        version: 1,
        question: 'Why?',
      });
      assert.equal(r.status, 403, JSON.stringify(r.body));
    });
  });

  describe('review', () => {
    async function implemented(): Promise<number> {
      assert.equal((await assess()).status, 200);
      assert.equal(
        (await call(people.tina, `requests/${id}/send-for-approval`, { version: 2 })).status,
        200,
      );
      let version = (await detail())['version'] as number;
      const voted = await decideApproval(h.deps, {
        actor: people.andy,
        requestId: id,
        version,
        decision: 'approve',
      });
      assert.equal(voted.kind, 'decided');
      for (const action of [
        { type: 'WorkStarted' },
        { type: 'ImplementationCompleted', notes: 'Printer moved' },
      ] as const) {
        version = (await detail())['version'] as number;
        const acted = await actOnRequest(h.deps, {
          actor: people.tina,
          requestId: id,
          version,
          action,
        });
        assert.equal(acted.kind, 'done', acted.kind === 'refused' ? acted.error.code : '');
      }
      assert.equal((await detail())['status'], 'implemented');
      return (await detail())['version'] as number;
    }

    it('offers the review, with the outcomes that fit, only to the client’s MSP staff once it is implemented', async () => {
      const viewerOf = async (who: Person) =>
        (await call(who, `requests/${id}`)).body['viewer'] as Body;
      assert.equal((await viewerOf(people.tina))['mayAssess'], true, 'triaged: Tina may assess');
      assert.equal((await viewerOf(people.carla))['mayAssess'], false);
      await implemented();
      assert.deepEqual((await viewerOf(people.tina))['reviewOutcomes'], [
        'successful',
        'successful_with_issues',
      ]);
      assert.deepEqual((await viewerOf(people.carla))['reviewOutcomes'], []);
      assert.equal((await viewerOf(people.tina))['mayAssess'], false);
    });

    it('returns the review’s field issues, then closes the request with its review', async () => {
      const version = await implemented();
      const bad = await call(people.tina, `requests/${id}/review`, {
        version,
        objectiveAchieved: 'partly',
        outcome: 'successful_with_issues',
        becomeStandard: true,
      });
      assert.equal(bad.status, 400);
      assert.deepEqual(
        errorOf(bad)
          .issues!.map((i) => i['field'])
          .sort(),
        ['becomeStandardNote', 'unexpectedImpacts'],
      );
      const byClient = await call(people.carla, `requests/${id}/review`, {
        version,
        objectiveAchieved: 'yes',
        outcome: 'successful',
      });
      assert.equal(byClient.status, 403, JSON.stringify(byClient.body));
      const r = await call(people.tina, `requests/${id}/review`, {
        version,
        objectiveAchieved: 'yes',
        outcome: 'successful',
        becomeStandard: true,
        becomeStandardNote: 'Printer moves repeat every quarter.',
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((r.body['request'] as Body)['status'], 'closed');
      const review = (await detail())['review'] as Body;
      assert.equal(review['outcome'], 'successful');
      assert.equal(review['becomeStandardNote'], 'Printer moves repeat every quarter.');
      assert.equal(review['by'], people.tina.name);
    });
  });
});
