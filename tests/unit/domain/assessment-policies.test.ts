import { strict as assert } from 'node:assert';
import {
  GOOD_ROLLBACK_PLAN,
  requiredReason,
} from '../../../src/domain/assessment/assessment.errors';
import {
  CLASS_DEFAULTS,
  classDefaultFor,
  reclassify,
  validateClassOverrides,
} from '../../../src/domain/assessment/change-class.policy';
import { checkRollbackPlan } from '../../../src/domain/assessment/rollback-plan.policy';
import {
  leadTimeHours,
  overrideRisk,
  suggestRisk,
  type RiskSignals,
} from '../../../src/domain/assessment/risk.policy';
import { CHANGE_TYPES } from '../../../src/domain/change-request/change-request.payloads';
import type { ClientRole } from '../../../src/domain/client/client';
import { ValidationError, type DomainError } from '../../../src/domain/shared/errors';
import type { Result } from '../../../src/domain/shared/result';

const tech: ReadonlySet<ClientRole> = new Set(['tech']);
const lead: ReadonlySet<ClientRole> = new Set(['lead']);
const approver: ReadonlySet<ClientRole> = new Set(['approver', 'client_admin']);
const REASON = 'CEO mailbox affected; client asked for expedited handling';

function refusal<T>(r: Result<T, DomainError>): DomainError {
  if (r.ok) assert.fail(`expected a refusal, got ${JSON.stringify(r.value)}`);
  return r.error;
}
function value<T>(r: Result<T, DomainError>): T {
  if (!r.ok) assert.fail(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('class defaults', () => {
  it('defaults every type to normal; incidents, offboarding, access and general changes may be emergencies', () => {
    for (const t of CHANGE_TYPES) assert.equal(classDefaultFor(t).defaultClass, 'normal', t);
    assert.deepEqual(
      CHANGE_TYPES.filter((t) => CLASS_DEFAULTS[t].emergencyEligible),
      ['offboard', 'access_change', 'general', 'incident'],
    );
  });

  it("applies a client's override on top of the MSP default", () => {
    assert.deepEqual(classDefaultFor('incident', { incident: { defaultClass: 'emergency' } }), {
      defaultClass: 'emergency',
      emergencyEligible: true,
    });
    assert.deepEqual(
      classDefaultFor('licence_change', { licence_change: { emergencyEligible: true } }),
      {
        defaultClass: 'normal',
        emergencyEligible: true,
      },
    );
  });

  it('validates overrides field by field', () => {
    assert.deepEqual(value(validateClassOverrides({ incident: { defaultClass: 'emergency' } })), {
      incident: { defaultClass: 'emergency' },
    });
    const r = validateClassOverrides({
      incident: { defaultClass: 'standard' },
      new_user: { defaultClass: 'emergency' },
      offboard: { defaultClass: 'emergency', emergencyEligible: false },
      general: { colour: 'red' },
      payroll: {},
    });
    const e = refusal(r);
    assert.ok(e instanceof ValidationError);
    const by = Object.fromEntries(e.issues.map((i) => [i.field, i.message]));
    assert.equal(
      by['incident.defaultClass'],
      'must be normal or emergency (standard comes from an approved template, not a default)',
    );
    assert.equal(
      by['new_user.defaultClass'],
      'cannot be emergency: new user changes are not emergency-eligible',
    );
    assert.equal(
      by['offboard.defaultClass'],
      'cannot be emergency when emergencyEligible is false',
    );
    assert.equal(by.general, 'only defaultClass and emergencyEligible can be set');
    assert.match(by.payroll ?? '', /^is not a change type/);
    assert.equal(refusal(validateClassOverrides([])).code, 'CR.INVALID_INPUT');
  });
});

describe('reclassify', () => {
  it('records the move with the reason sealed', () => {
    const sut = value(reclassify('incident', 'normal', 'emergency', `  ${REASON} `, tech));
    assert.deepEqual(sut, {
      from: 'normal',
      to: 'emergency',
      reason: REASON,
      audit: {
        payload: { type: 'incident', from: 'normal', to: 'emergency' },
        personal: { reason: REASON },
      },
    });
  });

  it('lets only MSP staff reclassify', () => {
    const e = refusal(reclassify('incident', 'normal', 'emergency', REASON, approver));
    assert.equal(e.code, 'ASSESS.NOT_STAFF');
    assert.equal(
      e.message,
      'Only the MSP technicians and leads of this client can reclassify a request.',
    );
    assert.equal(reclassify('incident', 'normal', 'emergency', REASON, lead).ok, true);
  });

  it('refuses a move to the same class', () => {
    assert.equal(
      refusal(reclassify('general', 'normal', 'normal', REASON, tech)).code,
      'ASSESS.SAME_CLASS',
    );
  });

  it('reaches standard only through an approved template', () => {
    const e = refusal(reclassify('licence_change', 'normal', 'standard', REASON, tech));
    assert.equal(e.code, 'ASSESS.STANDARD_NEEDS_TEMPLATE');
    assert.match(e.message, /template the client has approved/);
    assert.equal(
      reclassify('licence_change', 'normal', 'standard', REASON, tech, {
        matchesActiveTemplate: true,
      }).ok,
      true,
    );
  });

  it('refuses emergency for types that are not eligible, unless the client allows it', () => {
    const e = refusal(reclassify('new_user', 'normal', 'emergency', REASON, tech));
    assert.equal(e.code, 'ASSESS.EMERGENCY_NOT_ELIGIBLE');
    assert.match(e.message, /^A new user request cannot be an emergency change/);
    assert.equal(
      reclassify('new_user', 'normal', 'emergency', REASON, tech, {
        overrides: { new_user: { emergencyEligible: true } },
      }).ok,
      true,
    );
  });

  it('requires a reason that says something', () => {
    assert.equal(
      refusal(reclassify('general', 'normal', 'emergency', '  ', tech)).code,
      'ASSESS.REASON_REQUIRED',
    );
    assert.equal(
      refusal(reclassify('general', 'normal', 'emergency', undefined, tech)).message,
      'A reason is required to reclassify a request as emergency.',
    );
    for (const vague of [
      'n/a',
      'test',
      'because',
      'asdf asdf asdf',
      'As requested.',
      'urgent!!!!!!',
    ])
      assert.equal(
        refusal(reclassify('general', 'normal', 'emergency', vague, tech)).code,
        'ASSESS.REASON_TOO_VAGUE',
        vague,
      );
    assert.equal(
      refusal(reclassify('general', 'normal', 'emergency', 'x '.repeat(1001), tech)).code,
      'ASSESS.TEXT_TOO_LONG',
    );
  });

  it('accepts a short real reason', () => {
    assert.equal(value(requiredReason('client asked', 'x')), 'client asked');
  });
});

describe('checkRollbackPlan', () => {
  const good =
    'If more than 5 users cannot sign in by 09:00, the on-call technician re-adds the E3 licence ' +
    'and removes the new conditional access policy (about 15 minutes); confirm a test user can sign in.';

  it('accepts a concrete plan and says which elements it names', () => {
    const sut = value(checkRollbackPlan(good, 'normal'));
    assert.deepEqual(sut.found, ['trigger', 'steps', 'owner', 'duration', 'verification']);
    assert.deepEqual(sut.missing, []);
    assert.equal(sut.source, 'request');
  });

  it('accepts steps, trigger and verification without owner or duration, and lists what is missing', () => {
    const sut = value(
      checkRollbackPlan(
        'If mail forwarding breaks, remove the new forwarding rule and verify mail arrives.',
        'emergency',
      ),
    );
    assert.deepEqual(sut.missing, ['owner', 'duration']);
  });

  it('refuses an empty plan for normal and emergency changes with what a good plan names', () => {
    for (const cls of ['normal', 'emergency'] as const) {
      const e = refusal(checkRollbackPlan('   ', cls));
      assert.equal(e.code, 'ASSESS.ROLLBACK_PLAN_REQUIRED');
      assert.equal(
        e.message,
        `A ${cls} change needs a rollback plan before it can be approved. ${GOOD_ROLLBACK_PLAN}`,
      );
    }
    assert.equal(
      refusal(checkRollbackPlan(undefined, 'normal')).code,
      'ASSESS.ROLLBACK_PLAN_REQUIRED',
    );
  });

  it('refuses boilerplate whatever its case and punctuation', () => {
    for (const plan of [
      'Revert changes if issues arise.',
      'ROLL BACK IF NEEDED!!!',
      'Undo the change',
      'restore from backup',
      'We will revert the change and restore from backup if issues arise; then monitor for issues.',
      'Rollback: follow standard procedure, contact support as needed.',
    ]) {
      const e = refusal(checkRollbackPlan(plan, 'normal'));
      assert.equal(e.code, 'ASSESS.ROLLBACK_PLAN_BOILERPLATE', plan);
      assert.ok(e.message.endsWith(GOOD_ROLLBACK_PLAN));
      assert.deepEqual(e.details.missing, [
        'trigger',
        'steps',
        'owner',
        'duration',
        'verification',
      ]);
    }
  });

  it('refuses a plan too short to follow', () => {
    const e = refusal(checkRollbackPlan('Remove the rule.', 'normal'));
    assert.equal(e.code, 'ASSESS.ROLLBACK_PLAN_TOO_SHORT');
    assert.deepEqual(e.details.found, ['steps']);
  });

  it('refuses a plan without steps or with steps alone, naming what is missing', () => {
    const e = refusal(
      checkRollbackPlan(
        'Remove the new transport rule in Exchange and re-enable the previous transport rule for Contoso.',
        'normal',
      ),
    );
    assert.equal(e.code, 'ASSESS.ROLLBACK_PLAN_VAGUE');
    assert.match(
      e.message,
      /^The rollback plan does not say the trigger to roll back, who does it, how long it takes and how success is verified\./,
    );
    const noSteps = refusal(
      checkRollbackPlan(
        'If users complain within 2 hours, the on-call engineer will look into it.',
        'normal',
      ),
    );
    assert.equal(noSteps.code, 'ASSESS.ROLLBACK_PLAN_VAGUE');
    assert.deepEqual(noSteps.details.missing, ['steps', 'verification']);
  });

  it('refuses an over-long plan', () => {
    assert.equal(
      refusal(checkRollbackPlan(`${good} ${'x'.repeat(4000)}`, 'normal')).code,
      'ASSESS.TEXT_TOO_LONG',
    );
  });

  it("takes a standard change's plan from its template, held to the same bar", () => {
    const sut = value(checkRollbackPlan(undefined, 'standard', { templatePlan: good }));
    assert.equal(sut.source, 'template');
    assert.equal(sut.plan, good);
    assert.equal(refusal(checkRollbackPlan(good, 'standard')).code, 'ASSESS.TEMPLATE_PLAN_MISSING');
    assert.equal(
      refusal(checkRollbackPlan(undefined, 'standard', { templatePlan: 'Undo the change.' })).code,
      'ASSESS.ROLLBACK_PLAN_BOILERPLATE',
    );
  });
});

describe('suggestRisk', () => {
  const calm: RiskSignals = {
    type: 'new_user',
    affectedUsers: 1,
    affectedServices: 1,
    impact: 'none',
    sensitive: false,
    leadTimeHours: 96,
    outsideMaintenanceWindow: false,
    overlapsBlackout: false,
    conflicts: 0,
  };

  it('suggests low for a routine, well-planned change, with no driving signals', () => {
    assert.deepEqual(suggestRisk(calm), {
      level: 'low',
      score: 0,
      floor: 'low',
      floorBy: [],
      signals: [],
    });
  });

  it('explains the suggestion with the signals that drove it', () => {
    const sut = suggestRisk({
      ...calm,
      type: 'incident',
      affectedUsers: 300,
      affectedServices: 4,
      impact: 'service_affecting',
      leadTimeHours: 2,
      conflicts: 1,
    });
    assert.equal(sut.level, 'critical');
    assert.deepEqual(
      sut.signals.map((s) => [s.code, s.points, s.detail]),
      [
        ['type', 2, 'incident change'],
        ['users', 2, 'affects 300 users'],
        ['services', 2, 'touches 4 services'],
        ['impact', 2, 'impact service affecting'],
        ['lead_time', 3, '2 h until the window'],
        ['conflicts', 1, '1 conflicting change'],
      ],
    );
  });

  it('raises the floor to high for sensitivity and for blackout overlap', () => {
    const sensitive = suggestRisk({ ...calm, sensitive: true });
    assert.equal(sensitive.level, 'high');
    assert.equal(sensitive.floor, 'high');
    assert.deepEqual(
      sensitive.signals.map((s) => s.code),
      ['sensitive'],
    );
    assert.equal(suggestRisk({ ...calm, overlapsBlackout: true }).level, 'high');
  });

  it('counts an unscheduled change and a window outside maintenance', () => {
    const { leadTimeHours: _l, ...unscheduled } = calm;
    assert.deepEqual(
      suggestRisk(unscheduled).signals.map((s) => s.code),
      ['unscheduled'],
    );
    assert.equal(
      suggestRisk({ ...calm, type: 'offboard', outsideMaintenanceWindow: true }).level,
      'medium',
    );
  });

  it('computes lead time from instants passed in', () => {
    assert.equal(leadTimeHours('2026-03-14T22:00:00+01:00', '2026-03-13T21:00:00Z'), 24);
    assert.equal(leadTimeHours('2026-03-14T20:00:00Z', '2026-03-14T21:30:00Z'), -1.5);
  });
});

describe('overrideRisk', () => {
  const signals: RiskSignals = {
    type: 'general',
    affectedUsers: 30,
    affectedServices: 1,
    sensitive: false,
    leadTimeHours: 60,
    outsideMaintenanceWindow: false,
    overlapsBlackout: false,
    conflicts: 1,
  };
  const suggested = suggestRisk(signals);

  it('keeps the suggestion without a reason', () => {
    assert.equal(suggested.level, 'medium');
    assert.deepEqual(value(overrideRisk(suggested, 'medium', undefined, tech)), {
      level: 'medium',
      overridden: false,
    });
  });

  it('records an override with its reason', () => {
    const sut = value(
      overrideRisk(suggested, 'low', 'Same change ran for this client last week', lead),
    );
    assert.equal(sut.overridden, true);
    assert.deepEqual(sut.audit, {
      payload: {
        suggested: 'medium',
        chosen: 'low',
        score: 3,
        signals: ['type', 'users', 'conflicts'],
      },
      personal: { reason: 'Same change ran for this client last week' },
    });
  });

  it('refuses going below a blackout floor, saying what to change', () => {
    const e = refusal(
      overrideRisk(suggestRisk({ ...signals, overlapsBlackout: true }), 'low', REASON, lead),
    );
    assert.equal(
      e.message,
      'Risk cannot be low: the change overlaps a blackout window, which sets the risk to at least high. ' +
        'Move the window out of the blackout.',
    );
  });

  it('refuses an override without a reason, by a non-staff member, or below the sensitivity floor', () => {
    assert.equal(refusal(overrideRisk(suggested, 'high', '', tech)).code, 'ASSESS.REASON_REQUIRED');
    assert.equal(
      refusal(overrideRisk(suggested, 'high', REASON, approver)).code,
      'ASSESS.NOT_STAFF',
    );
    const e = refusal(
      overrideRisk(suggestRisk({ ...signals, sensitive: true }), 'medium', REASON, lead),
    );
    assert.equal(e.code, 'ASSESS.BELOW_RISK_FLOOR');
    assert.equal(
      e.message,
      'Risk cannot be medium: the change is marked sensitive, which sets the risk to at least high. ' +
        'Remove the sensitivity flag if it does not apply.',
    );
  });
});
