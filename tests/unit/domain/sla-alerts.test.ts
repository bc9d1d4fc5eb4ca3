import { strict as assert } from 'node:assert';
import { SYSTEM_OID } from '../../../src/domain/audit/audit-event';
import type { SlaClock, SlaSnapshot, SlaState } from '../../../src/domain/sla/sla';
import { newThresholds, recordThresholds } from '../../../src/domain/sla/sla-alerts';
import { requestAt } from '../../support/fixtures';

function clock(state: SlaState): SlaClock {
  return { targetMinutes: 60, dueAt: '2026-11-23T10:00:00.000Z', usedMinutes: 50, state };
}

function snapshot(acknowledge: SlaState, resolve: SlaState): SlaSnapshot {
  return {
    acknowledge: clock(acknowledge),
    resolve: clock(resolve),
    state: acknowledge,
    computedAt: '2026-11-23T09:50:00.000Z',
  };
}

describe('SLA alerts', () => {
  describe(newThresholds.name, () => {
    it('finds nothing while both clocks are on track, paused or met', () => {
      assert.deepEqual(newThresholds(snapshot('on_track', 'paused')), []);
      assert.deepEqual(newThresholds(snapshot('met', 'on_track')), []);
    });

    it('names each clock at risk once', () => {
      assert.deepEqual(newThresholds(snapshot('at_risk', 'on_track')), ['acknowledge.at_risk']);
      assert.deepEqual(newThresholds(snapshot('at_risk', 'at_risk'), ['acknowledge.at_risk']), [
        'resolve.at_risk',
      ]);
    });

    it('counts a clock found already breached as past its at-risk mark too', () => {
      assert.deepEqual(newThresholds(snapshot('met', 'breached')), [
        'resolve.at_risk',
        'resolve.breached',
      ]);
      assert.deepEqual(newThresholds(snapshot('breached', 'on_track'), ['acknowledge.at_risk']), [
        'acknowledge.breached',
      ]);
    });
  });

  describe(recordThresholds.name, () => {
    it('stores the snapshot and the thresholds posted without a version bump, with one system audit event each', () => {
      const request = { ...requestAt('triaged'), slaPosted: ['acknowledge.at_risk' as const] };
      const sla = snapshot('breached', 'at_risk');
      const { next, audit } = recordThresholds(request, sla, [
        'acknowledge.breached',
        'resolve.at_risk',
      ]);
      assert.equal(next.version, request.version);
      assert.equal(next.updatedAt, request.updatedAt);
      assert.deepEqual(next.sla, sla);
      assert.deepEqual(next.slaPosted, [
        'acknowledge.at_risk',
        'acknowledge.breached',
        'resolve.at_risk',
      ]);
      assert.deepEqual(
        audit.map((e) => [e.type, e.payload['clock'], e.actor.oid, e.requestId]),
        [
          ['sla.breached', 'acknowledge', SYSTEM_OID, request.id],
          ['sla.at_risk', 'resolve', SYSTEM_OID, request.id],
        ],
      );
    });
  });
});
