import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  IMPACT_LEVELS,
  RISK_LEVELS,
  riskRank,
  type Impact,
} from '../../../src/domain/assessment/assessment';
import {
  BOILERPLATE_PHRASES,
  FILLER_WORDS,
  checkRollbackPlan,
} from '../../../src/domain/assessment/rollback-plan.policy';
import {
  overrideRisk,
  suggestRisk,
  type RiskSignals,
} from '../../../src/domain/assessment/risk.policy';
import { CHANGE_TYPES } from '../../../src/domain/change-request/change-request.payloads';
import type { ClientRole } from '../../../src/domain/client/client';

/** Quarter hours, mostly near the lead-time steps: fc.double clusters at 0 and the bounds and misses them. */
const hours = (min: number, max: number) =>
  fc.integer({ min: min * 4, max: max * 4 }).map((n) => n / 4);

const signals: fc.Arbitrary<RiskSignals> = fc.record(
  {
    type: fc.constantFrom(...CHANGE_TYPES),
    affectedUsers: fc.nat({ max: 5000 }),
    affectedServices: fc.nat({ max: 10 }),
    impact: fc.constantFrom(...IMPACT_LEVELS),
    sensitive: fc.boolean(),
    leadTimeHours: fc.oneof(hours(-6, 72), hours(-48, 500)),
    outsideMaintenanceWindow: fc.boolean(),
    overlapsBlackout: fc.boolean(),
    conflicts: fc.nat({ max: 6 }),
  },
  {
    requiredKeys: [
      'type',
      'affectedUsers',
      'affectedServices',
      'sensitive',
      'outsideMaintenanceWindow',
      'overlapsBlackout',
      'conflicts',
    ],
  },
);

/** One signal made "worse" (more exposure, less lead time, a flag set); the rest unchanged. */
const worsened: fc.Arbitrary<[RiskSignals, RiskSignals]> = fc
  .tuple(signals, fc.nat({ max: 5000 }), fc.oneof(hours(0, 72), hours(0, 500)), fc.nat(7))
  .map(([s, more, less, which]): [RiskSignals, RiskSignals] => {
    switch (which) {
      case 0:
        return [s, { ...s, affectedUsers: s.affectedUsers + more }];
      case 1:
        return [s, { ...s, affectedServices: s.affectedServices + (more % 10) }];
      case 2: {
        const from: Impact = s.impact ?? 'none';
        const to = IMPACT_LEVELS[Math.min(2, IMPACT_LEVELS.indexOf(from) + (more % 3))]!;
        return [
          { ...s, impact: from },
          { ...s, impact: to },
        ];
      }
      case 3:
        return [
          { ...s, sensitive: false },
          { ...s, sensitive: true },
        ];
      case 4: {
        const lead = s.leadTimeHours ?? 100;
        return [
          { ...s, leadTimeHours: lead },
          { ...s, leadTimeHours: lead - less },
        ];
      }
      case 5:
        return [
          { ...s, outsideMaintenanceWindow: false },
          { ...s, outsideMaintenanceWindow: true },
        ];
      case 6:
        return [
          { ...s, overlapsBlackout: false },
          { ...s, overlapsBlackout: true },
        ];
      default:
        return [s, { ...s, conflicts: s.conflicts + (more % 5) }];
    }
  });

const roles: fc.Arbitrary<ReadonlySet<ClientRole>> = fc
  .subarray(['client_admin', 'approver', 'tech', 'lead'] as ClientRole[])
  .map((r) => new Set(r));
const reasons = fc.oneof(
  fc.constant(''),
  fc.constant('n/a'),
  fc.constant('Client confirmed the mailbox is archived already'),
  fc.string({ maxLength: 40 }),
);

describe('assessment properties', () => {
  it('risk is monotone: a worse signal never lowers the suggestion or its score', () => {
    fc.assert(
      fc.property(worsened, ([base, worse]) => {
        const a = suggestRisk(base);
        const b = suggestRisk(worse);
        assert.ok(riskRank(b.level) >= riskRank(a.level), `${a.level} → ${b.level}`);
        assert.ok(b.score >= a.score);
        assert.ok(riskRank(b.floor) >= riskRank(a.floor));
      }),
      { numRuns: 400 },
    );
  });

  it('the suggestion never sits below its floor, and sensitivity sets the floor to high', () => {
    fc.assert(
      fc.property(signals, (s) => {
        const sut = suggestRisk(s);
        assert.ok(riskRank(sut.level) >= riskRank(sut.floor));
        if (s.sensitive) assert.ok(riskRank(sut.level) >= riskRank('high'));
      }),
      { numRuns: 200 },
    );
  });

  it('no override of a sensitive change ends below high, whoever asks and whatever the reason', () => {
    fc.assert(
      fc.property(
        signals.map((s) => ({ ...s, sensitive: true })),
        fc.constantFrom(...RISK_LEVELS),
        reasons,
        roles,
        (s, chosen, reason, who) => {
          const sut = overrideRisk(suggestRisk(s), chosen, reason, who);
          if (sut.ok) assert.ok(riskRank(sut.value.level) >= riskRank('high'));
          else if (riskRank(chosen) < riskRank('high'))
            assert.ok(['ASSESS.BELOW_RISK_FLOOR', 'ASSESS.NOT_STAFF'].includes(sut.error.code));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never accepts a rollback plan made only of boilerplate phrases and filler', () => {
    const piece = fc.oneof(
      fc.constantFrom(...BOILERPLATE_PHRASES),
      fc.constantFrom(...FILLER_WORDS),
    );
    const casing = fc.constantFrom(
      (t: string) => t,
      (t: string) => t.toUpperCase(),
      (t: string) => t.replace(/^./, (c) => c.toUpperCase()),
    );
    const sep = fc.constantFrom(' ', ', ', '. ', '! ', ' - ', '\n', '; ', ' ... ', ': ');
    const text = fc
      .array(fc.tuple(piece, casing, sep), { minLength: 1, maxLength: 30 })
      .map((parts) => parts.map(([p, c, s]) => c(p) + s).join(''));
    fc.assert(
      fc.property(text, fc.constantFrom('normal' as const, 'emergency' as const), (plan, cls) => {
        const sut = checkRollbackPlan(plan, cls);
        assert.equal(sut.ok, false, plan);
        if (!sut.ok) assert.equal(sut.error.code, 'ASSESS.ROLLBACK_PLAN_BOILERPLATE', plan);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts any plan that names a trigger, steps and a verification, whatever else it says', () => {
    const trigger = fc.constantFrom(
      'If more than 5 users cannot sign in by 09:00',
      'When the sync job fails twice',
      'Abort if the error rate exceeds 2 percent',
      'Users complain that shared calendars are missing',
    );
    const steps = fc.constantFrom(
      'Re-add the E3 licence to the affected accounts',
      'remove the new conditional access policy and re-enable the old one',
      'Restore the forwarding rule from the exported settings',
      '1. Reassign the mailbox permissions to the previous owner group',
    );
    const verification = fc.constantFrom(
      'Confirm a test user can sign in',
      'verify mail arrives in the shared mailbox',
      'Check the group membership report shows the old members',
      'a smoke test of the payroll export succeeds',
    );
    const extra = fc.oneof(
      fc.constantFrom(...BOILERPLATE_PHRASES),
      fc.constantFrom('Tina does it', 'It takes about 20 minutes', 'Noted in the PSA ticket'),
      fc.string({ maxLength: 60 }),
    );
    const plan = fc
      .tuple(trigger, steps, verification, fc.array(extra, { maxLength: 4 }), fc.nat())
      .map(([t, s, v, more, seed]) => {
        const parts = [t, s, v, ...more];
        // A deterministic shuffle from the seed: order must not matter.
        for (let i = parts.length - 1; i > 0; i--) {
          const j = (seed + i * 7919) % (i + 1);
          [parts[i], parts[j]] = [parts[j]!, parts[i]!];
        }
        return parts.join('. ');
      });
    fc.assert(
      fc.property(plan, fc.constantFrom('normal' as const, 'emergency' as const), (text, cls) => {
        const sut = checkRollbackPlan(text, cls);
        if (!sut.ok) assert.fail(`${sut.error.code} for: ${text}`);
        for (const e of ['trigger', 'steps', 'verification'] as const)
          assert.ok(sut.value.found.includes(e), `${e} not found in: ${text}`);
      }),
      { numRuns: 300 },
    );
  });
});
