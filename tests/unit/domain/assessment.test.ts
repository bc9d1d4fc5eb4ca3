import { strict as assert } from 'node:assert';
import { validateAssessment, type Assessment } from '../../../src/domain/assessment/assessment';
import {
  checkReadyForApproval,
  extraApproverFor,
} from '../../../src/domain/assessment/assessment.policy';
import {
  reviewAuditRecord,
  reviewRequiredFor,
  validateReview,
} from '../../../src/domain/assessment/post-implementation-review';
import { ValidationError } from '../../../src/domain/shared/errors';
import type { ChangeRequestId } from '../../../src/domain/shared/ids';
import type { Result } from '../../../src/domain/shared/result';

const GOOD_PLAN =
  'If more than 5 users cannot sign in by 09:00, the technician re-adds the E3 licence ' +
  '(about 15 minutes) and confirms a test user can sign in.';

const raw = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  impact: 'minor',
  risk: 'medium',
  affectedUsers: '12',
  affectedServices: 'Exchange Online, Teams',
  implementationPlan: 'Move the shared mailbox to the new retention policy.',
  testPlan: 'Open the mailbox as a member and check the policy applies.',
  rollbackPlan: GOOD_PLAN,
  dependencies: 'contoso-1041, CONTOSO-1041',
  windowStart: '2026-03-14T22:00:00+01:00',
  windowEnd: '2026-03-14T23:30:00+01:00',
  sensitivity: '',
  ...over,
});

function issues<T>(r: Result<T, unknown>): Record<string, string> {
  assert.equal(r.ok, false, 'expected a refusal');
  if (r.ok) return {};
  assert.ok(r.error instanceof ValidationError);
  return Object.fromEntries(r.error.issues.map((i) => [i.field, i.message]));
}

function value<T>(r: Result<T, unknown>): T {
  if (!r.ok) assert.fail(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.value;
}

describe('validateAssessment', () => {
  it('normalises card input: numbers, lists, canonical unique dependency ids, UTC window', () => {
    const sut = value(validateAssessment(raw()));
    assert.equal(sut.affectedUsers, 12);
    assert.deepEqual(sut.affectedServices, ['Exchange Online', 'Teams']);
    assert.deepEqual(sut.dependencies, ['CONTOSO-1041']);
    assert.deepEqual(sut.requestedWindow, {
      start: '2026-03-14T21:00:00.000Z',
      end: '2026-03-14T22:30:00.000Z',
    });
    assert.deepEqual(sut.sensitivity, []);
    assert.equal(sut.rollbackPlan, GOOD_PLAN);
  });

  it('accepts "Service affecting" as service_affecting and a list of sensitivity flags', () => {
    const sut = value(
      validateAssessment(
        raw({ impact: 'Service affecting', sensitivity: ['admin_roles', 'executive-mailbox'] }),
      ),
    );
    assert.equal(sut.impact, 'service_affecting');
    assert.deepEqual(sut.sensitivity, ['admin_roles', 'executive_mailbox']);
  });

  it('reports every missing field at once with "is required"', () => {
    const sut = issues(validateAssessment({}));
    for (const f of ['impact', 'risk', 'affectedUsers', 'implementationPlan', 'testPlan'])
      assert.equal(sut[f], 'is required', f);
  });

  it('says which choices are allowed for impact, risk and sensitivity', () => {
    const sut = issues(
      validateAssessment(raw({ impact: 'huge', risk: 'extreme', sensitivity: 'ceo' })),
    );
    assert.equal(sut.impact, 'must be one of none, minor, service_affecting');
    assert.equal(sut.risk, 'must be one of low, medium, high, critical');
    assert.match(sut['sensitivity.0'] ?? '', /^must be one of executive_mailbox, admin_roles/);
  });

  it('refuses bad counts', () => {
    assert.equal(
      issues(validateAssessment(raw({ affectedUsers: 'many' }))).affectedUsers,
      'must be a number',
    );
    assert.equal(
      issues(validateAssessment(raw({ affectedUsers: 2.5 }))).affectedUsers,
      'must be a whole number',
    );
    assert.equal(
      issues(validateAssessment(raw({ affectedUsers: -1 }))).affectedUsers,
      'cannot be negative',
    );
    assert.equal(
      issues(validateAssessment(raw({ affectedUsers: 2_000_000 }))).affectedUsers,
      'is implausibly large',
    );
  });

  it('caps text and list sizes', () => {
    assert.equal(
      issues(validateAssessment(raw({ implementationPlan: 'x'.repeat(4001) }))).implementationPlan,
      'must be at most 4000 characters',
    );
    assert.equal(
      issues(validateAssessment(raw({ sensitivityOther: 'x'.repeat(201) }))).sensitivityOther,
      'must be at most 200 characters',
    );
    assert.equal(
      issues(
        validateAssessment(
          raw({ affectedServices: Array.from({ length: 31 }, (_, i) => `s${i}`) }),
        ),
      ).affectedServices,
      'must list at most 30 items',
    );
    assert.equal(
      issues(
        validateAssessment(
          raw({ dependencies: Array.from({ length: 21 }, (_, i) => `CONTOSO-${i + 1}`) }),
        ),
      ).dependencies,
      'must list at most 20 items',
    );
  });

  it('refuses dependencies that are not request ids, and the request itself', () => {
    assert.equal(
      issues(validateAssessment(raw({ dependencies: 'CONTOSO-1041, ticket 7' })))['dependencies.1'],
      'must be request ids like CONTOSO-1042',
    );
    assert.equal(
      issues(
        validateAssessment(raw({ dependencies: 'contoso-1042' }), {
          selfId: 'CONTOSO-1042' as ChangeRequestId,
        }),
      ).dependencies,
      'a request cannot depend on itself',
    );
  });

  it('refuses a window without an offset, half a window, an end before the start, and a window over 7 days', () => {
    assert.equal(
      issues(validateAssessment(raw({ windowStart: '2026-03-14T22:00' }))).windowStart,
      'must be a date and time with its offset, like 2026-03-14T22:00:00+01:00',
    );
    assert.equal(
      issues(validateAssessment(raw({ windowStart: '2026-02-30T22:00Z' }))).windowStart,
      'must be a date and time with its offset, like 2026-03-14T22:00:00+01:00',
    );
    assert.equal(
      issues(validateAssessment(raw({ windowEnd: '' }))).windowEnd,
      'give both the start and the end of the window, or neither',
    );
    assert.equal(
      issues(validateAssessment(raw({ windowEnd: '2026-03-14T22:00:00+01:00' }))).windowEnd,
      'must be after the start',
    );
    assert.equal(
      issues(validateAssessment(raw({ windowEnd: '2026-03-22T22:00:01+01:00' }))).windowEnd,
      'must be at most 7 days after the start; split longer work into several changes',
    );
  });

  it('leaves window and rollback plan out when blank', () => {
    const sut = value(
      validateAssessment(raw({ windowStart: ' ', windowEnd: '', rollbackPlan: ' ' })),
    );
    assert.equal(sut.requestedWindow, undefined);
    assert.equal(sut.rollbackPlan, undefined);
  });
});

describe('extraApproverFor', () => {
  it('needs nobody extra when nothing is sensitive', () => {
    assert.equal(extraApproverFor({ sensitivity: [], sensitivityOther: '  ' }), undefined);
  });

  it("asks for the client's second approver or an MSP lead, naming what is sensitive", () => {
    const sut = extraApproverFor({
      sensitivity: ['executive_mailbox'],
      sensitivityOther: 'board minutes',
    });
    assert.deepEqual(sut?.candidates, ['client_second_approver', 'msp_lead']);
    assert.equal(sut?.rule, 'any_of');
    assert.equal(sut?.other, 'board minutes');
    assert.equal(
      sut?.description,
      'This change touches an executive mailbox, "board minutes", so besides the usual approval it ' +
        "needs one more: the client's second approver, or an MSP lead.",
    );
  });
});

describe('checkReadyForApproval', () => {
  const assessed = (over: Partial<Assessment> = {}): Assessment => ({
    ...value(validateAssessment(raw())),
    ...over,
  });

  it('passes a complete normal change and reports the rollback elements found', () => {
    const sut = value(checkReadyForApproval(assessed(), 'normal'));
    assert.deepEqual(sut.rollback.found, ['trigger', 'steps', 'owner', 'duration', 'verification']);
    assert.equal(sut.extraApprover, undefined);
  });

  it('refuses a sensitive change assessed below high', () => {
    const sut = checkReadyForApproval(
      assessed({ sensitivity: ['finance_data'], risk: 'medium' }),
      'normal',
    );
    assert.equal(!sut.ok && sut.error.code, 'ASSESS.BELOW_RISK_FLOOR');
  });

  it('adds the extra approver for a sensitive change at high', () => {
    const sut = value(
      checkReadyForApproval(assessed({ sensitivity: ['finance_data'], risk: 'high' }), 'normal'),
    );
    assert.deepEqual(sut.extraApprover?.flags, ['finance_data']);
  });

  it('refuses a normal change without a window, but not an emergency', () => {
    const { requestedWindow: _w, ...rest } = assessed();
    const sut = checkReadyForApproval(rest, 'normal');
    assert.equal(!sut.ok && sut.error.code, 'ASSESS.WINDOW_REQUIRED');
    assert.equal(checkReadyForApproval(rest, 'emergency').ok, true);
  });

  it('refuses a normal or emergency change without a rollback plan', () => {
    const { rollbackPlan: _p, ...rest } = assessed();
    for (const cls of ['normal', 'emergency'] as const) {
      const sut = checkReadyForApproval(rest, cls);
      assert.equal(!sut.ok && sut.error.code, 'ASSESS.ROLLBACK_PLAN_REQUIRED');
    }
  });

  it("takes a standard change's plan from its template", () => {
    const { rollbackPlan: _p, ...rest } = assessed();
    const sut = value(checkReadyForApproval(rest, 'standard', { templatePlan: GOOD_PLAN }));
    assert.equal(sut.rollback.source, 'template');
  });
});

describe('validateReview', () => {
  it('accepts a plain success and records codes in clear, text sealed', () => {
    const sut = value(
      validateReview({ objectiveAchieved: 'yes', outcome: 'successful', becomeStandard: 'false' }),
    );
    assert.deepEqual(sut, {
      objectiveAchieved: 'yes',
      outcome: 'successful',
      becomeStandard: false,
    });
    assert.deepEqual(reviewAuditRecord(sut), {
      payload: { objectiveAchieved: 'yes', outcome: 'successful', becomeStandard: false },
      personal: { unexpectedImpacts: null, becomeStandardNote: null },
    });
  });

  it('accepts a template suggestion with a note', () => {
    const sut = value(
      validateReview({
        objectiveAchieved: 'yes',
        outcome: 'Successful with issues',
        unexpectedImpacts: 'Two users had to sign in again.',
        becomeStandard: true,
        becomeStandardNote: 'Same licence swap every month; SKU pair fixed.',
      }),
    );
    assert.equal(sut.outcome, 'successful_with_issues');
  });

  it('says which codes are allowed', () => {
    const sut = issues(
      validateReview({ objectiveAchieved: 'maybe', outcome: 'meh', becomeStandard: 'y' }),
    );
    assert.equal(sut.objectiveAchieved, 'must be one of yes, partly, no');
    assert.equal(
      sut.outcome,
      'must be one of successful, successful_with_issues, failed, rolled_back',
    );
    assert.equal(sut.becomeStandard, 'must be true or false');
  });

  it('refuses contradictions, undescribed issues, failed templates and template suggestions without a note', () => {
    assert.equal(
      issues(validateReview({ objectiveAchieved: 'no', outcome: 'successful' })).objectiveAchieved,
      'cannot be no when the outcome is successful; pick the outcome that happened',
    );
    assert.equal(
      issues(validateReview({ objectiveAchieved: 'partly', outcome: 'rolled_back' }))
        .unexpectedImpacts,
      'is required when the outcome is rolled back: say what happened and who was affected',
    );
    const failed = issues(
      validateReview({
        objectiveAchieved: 'no',
        outcome: 'failed',
        unexpectedImpacts: 'Mail flow stopped for 20 minutes.',
        becomeStandard: true,
      }),
    );
    assert.equal(
      failed.becomeStandard,
      'a change that failed or was rolled back cannot be proposed as a standard template',
    );
    assert.equal(
      failed.becomeStandardNote,
      'is required when proposing a template: say which part repeats and what stays fixed',
    );
  });

  it('caps free text', () => {
    assert.equal(
      issues(
        validateReview({
          objectiveAchieved: 'yes',
          outcome: 'successful',
          unexpectedImpacts: 'x'.repeat(2001),
        }),
      ).unexpectedImpacts,
      'must be at most 2000 characters',
    );
  });

  it('is required for normal and emergency changes only', () => {
    assert.deepEqual((['standard', 'normal', 'emergency'] as const).map(reviewRequiredFor), [
      false,
      true,
      true,
    ]);
  });
});
