import { strict as assert } from 'node:assert';
import type { Person } from '../../../src/domain/change-request/change-request';
import {
  parseApprovalPolicy,
  type ClientApprovalPolicy,
} from '../../../src/domain/approval/approval-policy';
import {
  dueReminders,
  openApprovals,
  openRetrospective,
  planApprovals,
  recordDecision,
  type ApprovalDecisionInput,
  type ApprovalState,
  type RequestFacts,
} from '../../../src/domain/approval/approval.policy';
import type { Delegation } from '../../../src/domain/approval/delegation.policy';
import type { DomainError } from '../../../src/domain/shared/errors';
import type { Result } from '../../../src/domain/shared/result';
import { CONTOSO_TENANT_ID, MSP_TENANT_ID, people } from '../../support/fixtures';

const T0 = '2026-03-02T09:00:00.000Z';
const T1 = '2026-03-02T10:00:00.000Z';

/** Contoso: Andy or Avery approve; a CAB of Andy, Avery, Tina, Theo (2 of 4) from high risk. */
function policy(overrides: Partial<ClientApprovalPolicy> = {}): ClientApprovalPolicy {
  return {
    steps: [
      {
        id: 'client',
        name: 'Client approval',
        side: 'client',
        approvers: [people.andy, people.avery],
        rule: { kind: 'any_of' },
      },
      {
        id: 'cab',
        name: 'CAB',
        side: 'cab',
        approvers: [people.andy, people.avery, people.tina, people.theo],
        rule: { kind: 'quorum', required: 2 },
        when: { minRisk: 'high', classes: ['normal'] },
      },
    ],
    mspGate: false,
    sensitiveApprovers: [],
    timing: { remindAfterHours: 4, escalateAfterHours: 24 },
    ...overrides,
  };
}

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    version: 3,
    clientTenantId: CONTOSO_TENANT_ID,
    mspTenantId: MSP_TENANT_ID,
    type: 'general',
    changeClass: 'normal',
    risk: 'low',
    sensitive: false,
    requester: people.carla,
    ...overrides,
  };
}

function unwrap<T>(r: Result<T, DomainError>): T {
  if (!r.ok) assert.fail(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

function code<T>(r: Result<T, DomainError>): string {
  if (r.ok) assert.fail('expected a refusal');
  return r.error.code;
}

function start(p = policy(), f = facts()): ApprovalState {
  return openApprovals(unwrap(planApprovals(p, f, [people.lena])), T0);
}

function vote(
  by: Person,
  step: string,
  outcome: 'approved' | 'denied' = 'approved',
  extra: Partial<ApprovalDecisionInput> = {},
): ApprovalDecisionInput {
  return {
    by,
    step,
    version: 3,
    outcome,
    at: T1,
    ...(outcome === 'denied' ? { reason: 'Not this week' } : {}),
    ...extra,
  };
}

function delegation(overrides: Partial<Delegation> = {}): Delegation {
  return {
    id: 'd1',
    from: people.andy,
    to: people.sam,
    clientTenantId: CONTOSO_TENANT_ID,
    riskCeiling: 'medium',
    validFrom: '2026-03-01T00:00:00Z',
    validUntil: '2026-03-17T00:00:00Z',
    ...overrides,
  };
}

describe('planApprovals', () => {
  it('plans only the steps whose condition matches the request', () => {
    const low = unwrap(planApprovals(policy(), facts(), [people.lena]));
    assert.deepEqual(
      low.steps.map((s) => s.id),
      ['client'],
    );
    const high = unwrap(planApprovals(policy(), facts({ risk: 'high' }), [people.lena]));
    assert.deepEqual(
      high.steps.map((s) => s.id),
      ['client', 'cab'],
    );
    assert.equal(high.mode, 'per_change');
    assert.equal(high.version, 3);
  });

  it('removes the requester and the person it is for from every step', () => {
    const plan = unwrap(
      planApprovals(
        policy(),
        facts({ risk: 'high', requester: people.tina, onBehalfOf: people.andy }),
        [people.lena],
      ),
    );
    assert.deepEqual(plan.steps[0]!.approvers, [people.avery]);
    assert.deepEqual(plan.steps[1]!.approvers, [people.avery, people.theo]);
  });

  it('refuses a step with nobody eligible', () => {
    const p = policy({
      steps: [
        {
          id: 'client',
          name: 'Client approval',
          side: 'client',
          approvers: [people.andy],
          rule: { kind: 'any_of' },
        },
      ],
    });
    assert.equal(
      code(planApprovals(p, facts({ requester: people.andy }), [])),
      'APPROVAL.NO_ELIGIBLE_APPROVERS',
    );
  });

  it('refuses a quorum larger than its eligible voters', () => {
    const r = planApprovals(
      policy(),
      facts({ risk: 'critical', requester: people.tina, onBehalfOf: people.andy }),
      [],
    );
    assert.ok(r.ok, 'two eligible voters reach a quorum of two');
    const three = policy();
    const steps = [
      three.steps[0]!,
      { ...three.steps[1]!, rule: { kind: 'quorum' as const, required: 3 } },
    ];
    assert.equal(
      code(
        planApprovals(
          { ...three, steps },
          facts({ risk: 'critical', requester: people.tina, onBehalfOf: people.andy }),
          [],
        ),
      ),
      'APPROVAL.QUORUM_UNREACHABLE',
    );
  });

  it('keeps client steps to the client tenant (an impostor with an approver oid is dropped)', () => {
    const p = policy({
      steps: [
        {
          id: 'client',
          name: 'Client approval',
          side: 'client',
          approvers: [people.impostor, people.avery],
          rule: { kind: 'all_of' },
        },
      ],
    });
    assert.deepEqual(unwrap(planApprovals(p, facts(), [])).steps[0]!.approvers, [people.avery]);
  });

  it('puts the MSP gate first when the client has it on', () => {
    const plan = unwrap(
      planApprovals(policy({ mspGate: true }), facts(), [people.lena, people.andy]),
    );
    assert.deepEqual(
      plan.steps.map((s) => [s.id, s.approvers.map((a) => a.name)]),
      [
        ['msp_gate', [people.lena.name]],
        ['client', [people.andy.name, people.avery.name]],
      ],
    );
  });

  it('pre-approves a standard change under an active template', () => {
    const plan = unwrap(
      planApprovals(policy(), facts({ changeClass: 'standard', activeTemplateId: 'tpl-1' }), []),
    );
    assert.equal(plan.mode, 'pre_approved');
    assert.equal(plan.templateId, 'tpl-1');
    const state = openApprovals(plan, T0);
    assert.equal(state.status, 'approved');
  });

  it('asks per-change approval for a standard change without an active template, skipping normal-only steps', () => {
    const plan = unwrap(
      planApprovals(policy(), facts({ changeClass: 'standard', risk: 'high' }), []),
    );
    assert.equal(plan.mode, 'per_change');
    assert.deepEqual(
      plan.steps.map((s) => s.id),
      ['client'],
    );
  });

  it('raises a sensitive request to high risk and adds an independent second approver', () => {
    const plan = unwrap(planApprovals(policy(), facts({ sensitive: true }), [people.lena]));
    assert.equal(plan.risk, 'high');
    assert.deepEqual(
      plan.steps.map((s) => s.id),
      ['client', 'cab', 'sensitive'],
    );
    assert.deepEqual(
      plan.steps[2]!.approvers,
      [people.lena],
      'no second client approver set: the MSP lead',
    );
    const withSecond = unwrap(
      planApprovals(policy({ sensitiveApprovers: [people.avery] }), facts({ sensitive: true }), [
        people.lena,
      ]),
    );
    assert.deepEqual(withSecond.steps[2]!.approvers, [people.avery]);
  });

  it('keeps the sensitive step even under an active template', () => {
    const plan = unwrap(
      planApprovals(
        policy(),
        facts({ changeClass: 'standard', activeTemplateId: 't', sensitive: true }),
        [people.lena],
      ),
    );
    assert.equal(plan.mode, 'per_change');
    assert.deepEqual(
      plan.steps.map((s) => s.id),
      ['sensitive'],
    );
  });

  it('plans an emergency as one MSP lead, notifies the client approvers and requires a retrospective', () => {
    const plan = unwrap(
      planApprovals(
        policy(),
        facts({ changeClass: 'emergency', requester: people.tina, risk: 'critical' }),
        [people.lena],
      ),
    );
    assert.equal(plan.mode, 'emergency');
    assert.deepEqual(
      plan.steps.map((s) => [s.id, s.rule.kind, s.approvers]),
      [['emergency_lead', 'any_of', [people.lena]]],
    );
    assert.deepEqual(plan.notify, [people.andy, people.avery]);
    assert.deepEqual(plan.retrospective?.approvers, [people.andy, people.avery]);
    const retro = openRetrospective(plan, 4, T1)!;
    assert.equal(retro.version, 4);
    assert.equal(retro.steps[0]!.id, 'retrospective');
    const done = unwrap(
      recordDecision(retro, { ...vote(people.avery, 'retrospective'), version: 4 }, [], T1),
    );
    assert.equal(done.next.status, 'approved');
  });

  it('refuses an emergency raised by the only lead', () => {
    assert.equal(
      code(
        planApprovals(policy(), facts({ changeClass: 'emergency', requester: people.lena }), [
          people.lena,
        ]),
      ),
      'APPROVAL.NO_ELIGIBLE_APPROVERS',
    );
  });

  it('refuses a normal change no step applies to', () => {
    const p = policy({ steps: [policy().steps[1]!] });
    assert.equal(code(planApprovals(p, facts(), [])), 'APPROVAL.NO_STEPS');
  });
});

describe('recordDecision', () => {
  it('approves in order: the client step, then the CAB quorum', () => {
    const s0 = start(policy(), facts({ risk: 'high' }));
    assert.equal(
      code(recordDecision(s0, vote(people.tina, 'cab'), [], T1)),
      'APPROVAL.STEP_NOT_OPEN',
    );
    const s1 = unwrap(recordDecision(s0, vote(people.andy, 'client'), [], T1));
    assert.deepEqual(
      s1.events.map((e) => e.type),
      ['VoteCounted', 'StepApproved', 'StepOpened'],
    );
    const s2 = unwrap(recordDecision(s1.next, vote(people.tina, 'cab'), [], T1));
    assert.deepEqual(
      s2.events.map((e) => e.type),
      ['VoteCounted'],
    );
    const s3 = unwrap(recordDecision(s2.next, vote(people.andy, 'cab'), [], T1));
    assert.deepEqual(
      s3.events.map((e) => e.type),
      ['VoteCounted', 'StepApproved', 'RequestApproved'],
    );
    assert.equal(s3.next.status, 'approved');
  });

  it('denies a quorum once approvals can no longer reach it', () => {
    let s = unwrap(
      recordDecision(start(policy(), facts({ risk: 'high' })), vote(people.andy, 'client'), [], T1),
    ).next;
    s = unwrap(recordDecision(s, vote(people.tina, 'cab', 'denied'), [], T1)).next;
    s = unwrap(recordDecision(s, vote(people.theo, 'cab', 'denied'), [], T1)).next;
    assert.equal(s.status, 'pending', 'two of four denied: two approvals can still reach 2');
    const last = unwrap(recordDecision(s, vote(people.avery, 'cab', 'denied'), [], T1));
    assert.equal(last.next.status, 'denied');
    assert.deepEqual(last.events.at(-1), {
      type: 'RequestDenied',
      step: 'cab',
      reason: 'Not this week; Not this week; Not this week',
    });
  });

  it('refuses self-approval, including by the person the request is for', () => {
    const s = start(policy(), facts({ requester: people.tina, onBehalfOf: people.andy }));
    assert.equal(code(recordDecision(s, vote(people.andy, 'client'), [], T1)), 'CR.SELF_APPROVAL');
    assert.equal(code(recordDecision(s, vote(people.tina, 'client'), [], T1)), 'CR.SELF_APPROVAL');
  });

  it('refuses someone not designated for the step, and an impostor with a designated oid', () => {
    const s = start();
    assert.equal(code(recordDecision(s, vote(people.sam, 'client'), [], T1)), 'CR.NOT_AN_APPROVER');
    assert.equal(
      code(recordDecision(s, vote(people.impostor, 'client'), [], T1)),
      'CR.NOT_AN_APPROVER',
    );
  });

  it('refuses a decision on an older version', () => {
    assert.equal(
      code(
        recordDecision(start(), vote(people.andy, 'client', 'approved', { version: 2 }), [], T1),
      ),
      'CR.STALE_VERSION',
    );
  });

  it('refuses a deny without a reason', () => {
    assert.equal(
      code(
        recordDecision(start(), { ...vote(people.andy, 'client', 'denied'), reason: '  ' }, [], T1),
      ),
      'CR.REASON_REQUIRED',
    );
  });

  it('treats the same vote twice as no change, and refuses a changed vote', () => {
    const p = policy({
      steps: [{ ...policy().steps[0]!, rule: { kind: 'all_of' } }],
    });
    const once = unwrap(recordDecision(start(p), vote(people.andy, 'client'), [], T1));
    const twice = unwrap(recordDecision(once.next, vote(people.andy, 'client'), [], T1));
    assert.equal(twice.next, once.next);
    assert.deepEqual(
      twice.events.map((e) => e.type),
      ['DuplicateVoteIgnored'],
    );
    assert.equal(
      code(recordDecision(once.next, vote(people.andy, 'client', 'denied'), [], T1)),
      'APPROVAL.ALREADY_VOTED',
    );
  });

  it('refuses a vote on a settled step and on a settled request', () => {
    const p = policy({ mspGate: true });
    const s = unwrap(recordDecision(start(p), vote(people.lena, 'msp_gate'), [], T1)).next;
    assert.equal(
      code(recordDecision(s, vote(people.lena, 'msp_gate', 'denied'), [], T1)),
      'APPROVAL.ALREADY_VOTED',
    );
    const done = unwrap(recordDecision(s, vote(people.andy, 'client'), [], T1)).next;
    assert.equal(done.status, 'approved');
    assert.equal(
      code(recordDecision(done, vote(people.avery, 'client'), [], T1)),
      'CR.ALREADY_DECIDED',
    );
  });

  it('lets a delegate decide in the seat, recording both names', () => {
    const r = unwrap(recordDecision(start(), vote(people.sam, 'client'), [delegation()], T1));
    const v = r.next.steps[0]!.votes[0]!;
    assert.deepEqual([v.by, v.seat, v.delegationId], [people.sam, people.andy, 'd1']);
    assert.deepEqual(r.events[0], {
      type: 'VoteCounted',
      step: 'client',
      by: people.sam,
      for: people.andy,
      outcome: 'approved',
    });
  });

  it('seats a delegate for two approvers in the seat still free', () => {
    const p = policy({ steps: [{ ...policy().steps[0]!, rule: { kind: 'all_of' } }] });
    const both = [delegation(), delegation({ id: 'd2', from: people.avery })];
    const s = unwrap(recordDecision(start(p), vote(people.andy, 'client'), both, T1)).next;
    const r = unwrap(recordDecision(s, vote(people.sam, 'client'), both, T1));
    const v = r.next.steps[0]!.votes[1]!;
    assert.deepEqual([v.by, v.seat, v.delegationId], [people.sam, people.avery, 'd2']);
    assert.equal(r.next.status, 'approved');
  });

  it('refuses an expired delegation, one above its risk ceiling, and a chain', () => {
    const expired = delegation({ validUntil: '2026-03-02T09:30:00Z' });
    assert.equal(
      code(recordDecision(start(), vote(people.sam, 'client'), [expired], T1)),
      'APPROVAL.DELEGATION_EXPIRED',
    );
    const high = start(policy(), facts({ risk: 'high' }));
    assert.equal(
      code(recordDecision(high, vote(people.sam, 'client'), [delegation()], T1)),
      'APPROVAL.DELEGATION_RISK_CEILING',
    );
    const chain = [delegation(), delegation({ id: 'd2', from: people.sam, to: people.carla })];
    assert.equal(
      code(
        recordDecision(
          start(policy(), facts({ requester: people.tina })),
          vote(people.carla, 'client'),
          chain,
          T1,
        ),
      ),
      'CR.NOT_AN_APPROVER',
    );
  });

  it('refuses a delegate from the wrong side (a client seat cannot pass to the MSP)', () => {
    const toMsp = delegation({ to: people.tina });
    assert.equal(
      code(recordDecision(start(), vote(people.tina, 'client'), [toMsp], T1)),
      'CR.NOT_AN_APPROVER',
    );
  });

  it('counts one person once per step, in their own seat or a delegated one', () => {
    const p = policy({ steps: [{ ...policy().steps[0]!, rule: { kind: 'all_of' } }] });
    const s = unwrap(recordDecision(start(p), vote(people.avery, 'client'), [], T1)).next;
    const d = delegation({ to: people.avery });
    assert.equal(
      code(
        recordDecision(
          s,
          vote(people.avery, 'client', 'approved', { delegatedFrom: people.andy }),
          [d],
          T1,
        ),
      ),
      'APPROVAL.ONE_SEAT_PER_PERSON',
    );
  });

  it('needs a second person for the sensitive step', () => {
    const p = policy({ sensitiveApprovers: [people.andy, people.avery] });
    let s = start(p, facts({ sensitive: true, requester: people.tina }));
    s = unwrap(recordDecision(s, vote(people.andy, 'client'), [], T1)).next;
    s = unwrap(recordDecision(s, vote(people.andy, 'cab'), [], T1)).next;
    s = unwrap(recordDecision(s, vote(people.theo, 'cab'), [], T1)).next;
    assert.equal(
      code(recordDecision(s, vote(people.andy, 'sensitive'), [], T1)),
      'APPROVAL.NEEDS_SECOND_PERSON',
    );
    assert.equal(
      unwrap(recordDecision(s, vote(people.avery, 'sensitive'), [], T1)).next.status,
      'approved',
    );
  });
});

describe('dueReminders', () => {
  const timing = { remindAfterHours: 4, escalateAfterHours: 24 };

  it('reminds nobody before the reminder time and says when to look again', () => {
    const r = dueReminders(start(), timing, '2026-03-02T12:59:59Z');
    assert.deepEqual(r, { reminders: [], escalations: [], nextDueAt: '2026-03-02T13:00:00.000Z' });
  });

  it('reminds the undecided approvers (and their delegates), then escalates to the MSP leads', () => {
    const p = policy({ steps: [{ ...policy().steps[0]!, rule: { kind: 'all_of' } }] });
    const s = unwrap(recordDecision(start(p), vote(people.andy, 'client'), [], T1)).next;
    const later = dueReminders(s, timing, '2026-03-03T09:00:00Z', {
      delegations: [delegation({ from: people.avery })],
    });
    assert.deepEqual(
      later.reminders.map((x) => [x.to.name, x.for?.name, x.dueAt]),
      [
        [people.avery.name, undefined, '2026-03-02T13:00:00.000Z'],
        [people.sam.name, people.avery.name, '2026-03-02T13:00:00.000Z'],
      ],
    );
    assert.deepEqual(
      later.escalations.map((x) => [x.to, x.waitingOn, x.dueAt]),
      [[[people.lena], [people.avery], '2026-03-03T09:00:00.000Z']],
    );
    assert.equal(later.nextDueAt, undefined);
  });

  it('is quiet once the request is settled', () => {
    const s = unwrap(recordDecision(start(), vote(people.andy, 'client'), [], T1)).next;
    assert.deepEqual(dueReminders(s, timing, '2026-04-01T00:00:00Z'), {
      reminders: [],
      escalations: [],
    });
  });
});

describe('parseApprovalPolicy', () => {
  it('accepts a valid policy', () => {
    assert.ok(parseApprovalPolicy(policy()).ok);
  });

  it('names every field to fix', () => {
    const bad = {
      ...policy(),
      steps: [
        { ...policy().steps[1]!, id: 'msp_gate', rule: { kind: 'quorum', required: 5 } },
        { ...policy().steps[0]!, id: 'client', approvers: [people.andy, people.andy] },
      ],
      timing: { remindAfterHours: 24, escalateAfterHours: 4 },
    };
    const r = parseApprovalPolicy(bad);
    assert.ok(!r.ok);
    const fields = (r.error as unknown as { issues: { field: string }[] }).issues
      .map((i) => i.field)
      .sort();
    assert.deepEqual(fields, [
      'steps.0.id',
      'steps.0.rule.required',
      'steps.1.approvers.1',
      'timing.escalateAfterHours',
    ]);
  });
});
