import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { Person } from '../../../src/domain/change-request/change-request';
import {
  RISK_LEVELS,
  type ClientApprovalPolicy,
  type PolicyStep,
  type RiskLevel,
  type StepRule,
  type StepSide,
} from '../../../src/domain/approval/approval-policy';
import {
  openApprovals,
  planApprovals,
  recordDecision,
  type ApprovalDecisionInput,
  type ApprovalState,
  type StepState,
} from '../../../src/domain/approval/approval.policy';
import type { Delegation } from '../../../src/domain/approval/delegation.policy';
import type { ObjectId, TenantId } from '../../../src/domain/shared/ids';

/**
 * Random policies, requests, delegations and decision sequences against the approval engine,
 * checked against a small model written independently of it.
 */

const CLIENT = '11111111-1111-4111-8111-111111111111' as TenantId;
const MSP = '22222222-2222-4222-8222-222222222222' as TenantId;
const OTHER = '33333333-3333-4333-8333-333333333333' as TenantId;

function person(tid: TenantId, n: number, name: string): Person {
  return { tid, oid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` as ObjectId, name };
}

const CLIENTS = [0, 1, 2, 3, 4, 5].map((i) => person(CLIENT, i, `Client ${i}`));
const MSPS = [10, 11, 12, 13].map((i) => person(MSP, i, `MSP ${i}`));
const OUTSIDERS = [person(OTHER, 20, 'Outsider'), person(OTHER, 0, 'Impostor (client 0 oid)')];
const EVERYONE = [...CLIENTS, ...MSPS, ...OUTSIDERS];
const LEADS = [MSPS[0]!, MSPS[1]!];
const T0 = Date.parse('2026-03-02T09:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const same = (a: Person, b: Person) => a.tid === b.tid && a.oid === b.oid;
const onSide = (side: StepSide, p: Person) =>
  side === 'client'
    ? p.tid === CLIENT
    : side === 'msp'
      ? p.tid === MSP
      : p.tid === CLIENT || p.tid === MSP;
const riskRank = (r: RiskLevel) => RISK_LEVELS.indexOf(r);

const pool = (side: StepSide) =>
  side === 'client' ? CLIENTS : side === 'msp' ? MSPS : [...CLIENTS, ...MSPS];

function stepArb(id: string, rules: fc.Arbitrary<'any_of' | 'all_of' | 'quorum'>) {
  return fc
    .record({
      side: fc.constantFrom<StepSide>('client', 'msp', 'cab'),
      rule: rules,
      minRisk: fc.option(fc.constantFrom(...RISK_LEVELS), { nil: undefined }),
      seed: fc.nat(),
    })
    .chain(({ side, rule, minRisk, seed }) =>
      fc.subarray(pool(side), { minLength: 1 }).map((approvers): PolicyStep => {
        const r: StepRule =
          rule === 'quorum'
            ? { kind: 'quorum', required: 1 + (seed % approvers.length) }
            : { kind: rule };
        return {
          id,
          name: id.toUpperCase(),
          side,
          approvers,
          rule: r,
          ...(minRisk ? { when: { minRisk } } : {}),
        };
      }),
    );
}

function policyArb(rules: fc.Arbitrary<'any_of' | 'all_of' | 'quorum'>) {
  return fc
    .record({
      steps: fc
        .integer({ min: 1, max: 3 })
        .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => stepArb(`s${i}`, rules)))),
      mspGate: fc.boolean(),
    })
    .map(
      ({ steps, mspGate }): ClientApprovalPolicy => ({
        steps,
        mspGate,
        sensitiveApprovers: [],
        timing: { remindAfterHours: 4, escalateAfterHours: 24 },
      }),
    );
}

const factsArb = fc.record({
  requester: fc.constantFrom(...EVERYONE),
  onBehalfOf: fc.option(fc.constantFrom(...CLIENTS), { nil: undefined }),
  risk: fc.constantFrom(...RISK_LEVELS),
});

const ALL_RULES = fc.constantFrom<'any_of' | 'all_of' | 'quorum'>('any_of', 'all_of', 'quorum');

function start(
  policy: ClientApprovalPolicy,
  f: { requester: Person; onBehalfOf: Person | undefined; risk: RiskLevel },
): ApprovalState | undefined {
  const plan = planApprovals(
    policy,
    {
      version: 5,
      clientTenantId: CLIENT,
      mspTenantId: MSP,
      type: 'general',
      changeClass: 'normal',
      risk: f.risk,
      sensitive: false,
      requester: f.requester,
      ...(f.onBehalfOf ? { onBehalfOf: f.onBehalfOf } : {}),
    },
    LEADS,
  );
  return plan.ok ? openApprovals(plan.value, iso(T0)) : undefined;
}

const delegationArb: fc.Arbitrary<Delegation> = fc
  .record({
    from: fc.constantFrom(...EVERYONE),
    to: fc.constantFrom(...CLIENTS, ...CLIENTS, ...EVERYONE),
    ceiling: fc.constantFrom(...RISK_LEVELS),
    startH: fc.integer({ min: -24, max: 6 }),
    lengthH: fc.integer({ min: 1, max: 96 }),
    otherClient: fc.constantFrom(false, false, false, false, true),
    revokedAfterH: fc.option(fc.integer({ min: 0, max: 72 }), { nil: undefined, freq: 4 }),
  })
  .map(
    (d): Delegation => ({
      id: `d-${d.from.oid.slice(-2)}-${d.to.oid.slice(-2)}-${d.startH}`,
      from: d.from,
      to: d.to,
      clientTenantId: d.otherClient ? OTHER : CLIENT,
      riskCeiling: d.ceiling,
      validFrom: iso(T0 + d.startH * 3_600_000),
      validUntil: iso(T0 + (d.startH + d.lengthH) * 3_600_000),
      ...(d.revokedAfterH !== undefined
        ? { revokedAt: iso(T0 + (d.startH + d.revokedAfterH) * 3_600_000) }
        : {}),
    }),
  );

const delegationSpecArb = fc.record({
  d: delegationArb,
  seat: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
});

interface Op {
  /** Who decides: a seat of the target step, the delegate of a generated delegation, or anyone. */
  readonly mode: 'seat' | 'delegate' | 'anyone';
  readonly who: number;
  readonly anyone: Person;
  /** Aim at the open step (most of the time) or at any step. */
  readonly openStep: boolean;
  readonly step: number;
  readonly outcome: 'approved' | 'denied';
  readonly versionDelta: number;
  readonly delegatedFrom: 'none' | 'seat' | 'anyone';
  readonly advanceH: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  mode: fc.constantFrom<Op['mode']>('seat', 'seat', 'delegate', 'delegate', 'delegate', 'anyone'),
  who: fc.nat(),
  anyone: fc.constantFrom(...EVERYONE),
  openStep: fc.constantFrom(true, true, true, false),
  step: fc.nat(),
  outcome: fc.constantFrom<'approved' | 'denied'>('approved', 'approved', 'denied'),
  versionDelta: fc.constantFrom(0, 0, 0, 0, -1, -2),
  delegatedFrom: fc.constantFrom<Op['delegatedFrom']>('none', 'none', 'none', 'seat', 'anyone'),
  advanceH: fc.constantFrom(0, 0, 1, 2, 6, 12),
});

function decisionOf(
  state: ApprovalState,
  op: Op,
  delegations: readonly Delegation[],
  now: number,
): ApprovalDecisionInput {
  const open = state.steps.find((s) => s.status === 'open');
  const step = op.openStep && open ? open : state.steps[op.step % state.steps.length]!;
  const seat = step.approvers[op.who % step.approvers.length]!;
  const forStep = delegations.filter((d) => step.approvers.some((a) => same(a, d.from)));
  const candidates = forStep.length > 0 ? forStep : delegations;
  const picked = candidates[op.who % Math.max(1, candidates.length)];
  const by = op.mode === 'seat' ? seat : op.mode === 'delegate' && picked ? picked.to : op.anyone;
  const delegatedFrom =
    op.mode === 'delegate' && picked && op.delegatedFrom === 'seat'
      ? picked.from
      : op.delegatedFrom === 'seat'
        ? seat
        : op.delegatedFrom === 'anyone'
          ? op.anyone
          : undefined;
  return {
    by,
    step: step.id,
    version: state.version + op.versionDelta,
    outcome: op.outcome,
    reason: op.outcome === 'denied' ? 'too risky' : '',
    at: iso(now),
    ...(delegatedFrom ? { delegatedFrom } : {}),
  };
}

/** Points generated delegations at the plan's seats (most of them), so they can matter. */
function bind(
  specs: readonly { readonly d: Delegation; readonly seat: number | undefined }[],
  state: ApprovalState,
): Delegation[] {
  const seats = state.steps.flatMap((s) => s.approvers);
  return specs.map(({ d, seat }) =>
    seat === undefined ? d : { ...d, from: seats[seat % seats.length]! },
  );
}

/** The model: how a step's votes settle it, from the rule alone. */
function modelSettles(step: StepState): 'approved' | 'denied' | undefined {
  const yes = step.votes.filter((v) => v.outcome === 'approved').length;
  const no = step.votes.filter((v) => v.outcome === 'denied').length;
  const m = step.approvers.length;
  switch (step.rule.kind) {
    case 'any_of':
      return step.votes.length === 0 ? undefined : step.votes[0]!.outcome;
    case 'all_of':
      return no > 0 ? 'denied' : yes === m ? 'approved' : undefined;
    case 'quorum':
      return yes >= step.rule.required
        ? 'approved'
        : m - no < step.rule.required
          ? 'denied'
          : undefined;
  }
}

/** The model: was this delegate allowed to sit in `seat` at `now`? */
function delegationValid(
  delegations: readonly Delegation[],
  seat: Person,
  by: Person,
  risk: RiskLevel,
  now: number,
): boolean {
  return delegations.some(
    (d) =>
      same(d.from, seat) &&
      same(d.to, by) &&
      d.clientTenantId === CLIENT &&
      riskRank(risk) <= riskRank(d.riskCeiling) &&
      Date.parse(d.validFrom) <= now &&
      now < Date.parse(d.validUntil) &&
      (d.revokedAt === undefined || now < Date.parse(d.revokedAt)),
  );
}

interface Run {
  readonly initial: ApprovalState;
  readonly final: ApprovalState;
  /** Each accepted decision and the instant it was recorded at. */
  readonly accepted: { readonly decision: ApprovalDecisionInput; readonly now: number }[];
}

/** Applies the ops in turn; with `twice`, every decision is sent a second time straight after. */
function run(
  initial: ApprovalState,
  ops: readonly Op[],
  delegations: readonly Delegation[],
  twice = false,
): Run {
  let state = initial;
  let now = T0;
  const accepted: Run['accepted'] = [];
  for (const op of ops) {
    now += op.advanceH * 3_600_000;
    const decision = decisionOf(state, op, delegations, now);
    for (let i = 0; i < (twice ? 2 : 1); i++) {
      const r = recordDecision(state, decision, delegations, iso(now));
      if (r.ok) {
        if (r.value.next !== state) accepted.push({ decision, now });
        if (i === 1) assert.equal(r.value.next, state, 'a repeated vote changes nothing');
        state = r.value.next;
      }
    }
  }
  return { initial, final: state, accepted };
}

const RUNS = { numRuns: 200 };

describe('approval engine properties', () => {
  it('approves a request exactly when every applicable step is satisfied under its rule', () => {
    fc.assert(
      fc.property(
        policyArb(ALL_RULES),
        factsArb,
        fc.array(opArb, { maxLength: 40 }),
        fc.array(delegationSpecArb, { maxLength: 4 }),
        (policy, f, ops, specs) => {
          const initial = start(policy, f);
          fc.pre(initial !== undefined);
          const delegations = bind(specs, initial);
          const { final } = run(initial, ops, delegations);
          const outcomes = final.steps.map(modelSettles);
          assert.deepEqual(
            final.steps.map((s) =>
              s.status === 'approved' || s.status === 'denied' ? s.status : undefined,
            ),
            outcomes,
          );
          const firstNotApproved = outcomes.findIndex((o) => o !== 'approved');
          const expected =
            firstNotApproved === -1
              ? 'approved'
              : outcomes[firstNotApproved] === 'denied'
                ? 'denied'
                : 'pending';
          assert.equal(final.status, expected);
          // Later steps never collect votes before the earlier ones are approved.
          final.steps.forEach((s, i) => {
            if (s.votes.length > 0) assert.ok(outcomes.slice(0, i).every((o) => o === 'approved'));
          });
        },
      ),
      RUNS,
    );
  });

  it('reaches a quorum of N of M exactly when N distinct eligible approvals are recorded', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        fc.array(fc.record({ who: fc.nat({ max: EVERYONE.length - 1 }), yes: fc.boolean() }), {
          maxLength: 30,
        }),
        (m, seed, votes) => {
          const voters = CLIENTS.slice(0, m);
          const n = 1 + (seed % m);
          const policy: ClientApprovalPolicy = {
            steps: [
              {
                id: 'cab',
                name: 'CAB',
                side: 'cab',
                approvers: voters,
                rule: { kind: 'quorum', required: n },
              },
            ],
            mspGate: false,
            sensitiveApprovers: [],
            timing: { remindAfterHours: 1, escalateAfterHours: 2 },
          };
          let state = start(policy, { requester: MSPS[3]!, onBehalfOf: undefined, risk: 'low' })!;
          const approvedBy: Person[] = [];
          const deniedBy: Person[] = [];
          for (const v of votes) {
            const by = EVERYONE[v.who]!;
            const r = recordDecision(
              state,
              {
                by,
                step: 'cab',
                version: 5,
                outcome: v.yes ? 'approved' : 'denied',
                reason: 'no',
                at: iso(T0),
              },
              [],
              iso(T0),
            );
            if (r.ok) state = r.value.next;
            const eligible = voters.some((p) => same(p, by));
            if (r.ok && r.value.events[0]?.type === 'VoteCounted') {
              assert.ok(eligible);
              (v.yes ? approvedBy : deniedBy).push(by);
            }
            assert.equal(state.status === 'approved', approvedBy.length >= n);
            assert.equal(
              state.status === 'denied',
              m - deniedBy.length < n && approvedBy.length < n,
            );
            assert.ok(approvedBy.length <= n, 'no approval is counted after the quorum is reached');
          }
          const distinct = new Set(approvedBy.map((p) => p.oid));
          assert.equal(distinct.size, approvedBy.length);
        },
      ),
      RUNS,
    );
  });

  it('reaches the same outcome whatever order the votes arrive in', () => {
    // any_of is settled by its first vote, so order can only be irrelevant when its votes agree.
    const orderFree = fc.constantFrom<'any_of' | 'all_of' | 'quorum'>('all_of', 'quorum', 'any_of');
    fc.assert(
      fc.property(
        policyArb(orderFree),
        factsArb,
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
        (policy, f, intents, sortKeys) => {
          const initial = start(policy, f);
          fc.pre(initial !== undefined);
          // Every seat intends one outcome; any_of steps agree unanimously (the step's first intent).
          const all: ApprovalDecisionInput[] = [];
          let k = 0;
          for (const s of initial.steps) {
            const stepIntent = intents[k % intents.length]!;
            for (const seat of s.approvers) {
              const yes = s.rule.kind === 'any_of' ? stepIntent : intents[k++ % intents.length]!;
              all.push({
                by: seat,
                step: s.id,
                version: 5,
                outcome: yes ? 'approved' : 'denied',
                reason: 'no',
                at: iso(T0),
              });
            }
            k++;
          }
          const shuffled = all
            .map((d, i) => ({ d, key: sortKeys[i % sortKeys.length]! * 1000 + i }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.d);
          assert.equal(settleAll(initial, shuffled), settleAll(initial, all));
        },
      ),
      RUNS,
    );
  });

  it('ignores a repeated vote: doubling every decision changes nothing', () => {
    fc.assert(
      fc.property(
        policyArb(ALL_RULES),
        factsArb,
        fc.array(opArb, { maxLength: 30 }),
        fc.array(delegationSpecArb, { maxLength: 3 }),
        (policy, f, ops, specs) => {
          const initial = start(policy, f);
          fc.pre(initial !== undefined);
          const delegations = bind(specs, initial);
          const once = run(initial, ops, delegations);
          const doubled = run(initial, ops, delegations, true);
          assert.deepEqual(doubled.final, once.final);
          for (const { decision, now } of once.accepted) {
            const again = recordDecision(once.final, decision, delegations, iso(now));
            assert.ok(again.ok && again.value.next === once.final);
          }
        },
      ),
      RUNS,
    );
  });

  it('records a vote only from a designated approver or a valid delegate, never the requester, never for an older version', () => {
    fc.assert(
      fc.property(
        policyArb(ALL_RULES),
        factsArb,
        fc.array(opArb, { maxLength: 40 }),
        fc.array(delegationSpecArb, { maxLength: 6 }),
        (policy, f, ops, specs) => {
          const initial = start(policy, f);
          fc.pre(initial !== undefined);
          const delegations = bind(specs, initial);
          const { final } = run(initial, ops, delegations);
          const parties = [f.requester, ...(f.onBehalfOf ? [f.onBehalfOf] : [])];
          for (const step of final.steps) {
            const policyStep = [...policy.steps].find((s) => s.id === step.id);
            for (const v of step.votes) {
              assert.ok(!parties.some((p) => same(p, v.by)), 'the requester never votes');
              assert.ok(!parties.some((p) => same(p, v.seat)), 'the requester never holds a seat');
              assert.equal(v.version, final.version, 'only the current version counts');
              const designated = policyStep
                ? policyStep.approvers.some((a) => same(a, v.seat))
                : LEADS.some((a) => same(a, v.seat));
              assert.ok(
                designated && onSide(step.side, v.seat),
                'the seat is a designated approver',
              );
              assert.ok(onSide(step.side, v.by));
              if (same(v.seat, v.by)) assert.equal(v.delegationId, undefined);
              else
                assert.ok(
                  delegationValid(delegations, v.seat, v.by, final.risk, Date.parse(v.at)),
                  'a delegate votes only under a direct delegation in force at that instant',
                );
            }
          }
        },
      ),
      RUNS,
    );
  });

  it('counts a delegate exactly while the delegation is in force and covers the risk; never an older version', () => {
    fc.assert(
      fc.property(
        policyArb(ALL_RULES),
        factsArb,
        fc.array(opArb, { maxLength: 20 }),
        delegationArb,
        fc.integer({ min: -96, max: 96 }),
        fc.nat(),
        fc.integer({ min: 1, max: 4 }),
        (policy, f, ops, d, atH, pick, behind) => {
          const initial = start(policy, f);
          fc.pre(initial !== undefined);
          const { final } = run(initial, ops, []);
          const now = T0 + atH * 3_600_000;
          const open = final.steps.find((s) => s.status === 'open');
          fc.pre(open !== undefined);
          const seat = open.approvers.find((a) => !open.votes.some((v) => same(v.seat, a)))!;
          const parties = [f.requester, ...(f.onBehalfOf ? [f.onBehalfOf] : [])];
          const delegates = EVERYONE.filter(
            (p) =>
              !open.approvers.some((a) => same(a, p)) &&
              !parties.some((x) => same(x, p)) &&
              onSide(open.side, p),
          );
          fc.pre(delegates.length > 0);
          const delegate = delegates[pick % delegates.length]!;
          const delegation = { ...d, from: seat, to: delegate };
          const decision: ApprovalDecisionInput = {
            by: delegate,
            step: open.id,
            version: final.version,
            outcome: 'approved',
            at: iso(now),
          };
          const r = recordDecision(final, decision, [delegation], iso(now));
          const valid =
            delegation.clientTenantId === CLIENT &&
            delegationValid([delegation], seat, delegate, final.risk, now);
          assert.equal(r.ok, valid);
          if (r.ok) {
            const vote = r.value.next.steps.find((s) => s.id === open.id)!.votes.at(-1)!;
            assert.deepEqual([vote.by, vote.seat, vote.delegationId], [delegate, seat, d.id]);
          }
          const stale = recordDecision(
            final,
            { ...decision, version: final.version - behind },
            [delegation],
            iso(now),
          );
          assert.ok(!stale.ok);
          const staleOwn = recordDecision(
            final,
            { ...decision, by: seat, version: final.version - behind },
            [],
            iso(now),
          );
          assert.ok(!staleOwn.ok && staleOwn.error.code === 'CR.STALE_VERSION');
        },
      ),
      RUNS,
    );
  });
});

/**
 * Applies decisions in the given order, retrying those refused because their step was not open
 * yet (as an approver would once the card arrives), until nothing more moves. Returns the status.
 */
function settleAll(initial: ApprovalState, decisions: readonly ApprovalDecisionInput[]): string {
  let state = initial;
  let pending = [...decisions];
  for (let moved = true; moved; ) {
    moved = false;
    const retry: ApprovalDecisionInput[] = [];
    for (const d of pending) {
      const r = recordDecision(state, d, [], iso(T0));
      if (r.ok) {
        moved ||= r.value.next !== state;
        state = r.value.next;
      } else if (r.error.code === 'APPROVAL.STEP_NOT_OPEN') retry.push(d);
    }
    pending = retry;
  }
  return state.status;
}
