import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { AuditEvent, AuditEventType } from '../../../src/domain/audit/audit-event';
import { CHANGE_STATUSES } from '../../../src/domain/change-request/change-request';
import { validatePsaMapping } from '../../../src/domain/psa/psa-mapping.policy';
import {
  PSA_NOTE_TEXT_MAX,
  psaPriorityLevel,
  psaSyncFor,
} from '../../../src/domain/psa/psa-sync.policy';
import {
  applyAll,
  assessedEvent,
  contextFor,
  people,
  requestAt,
  submitted,
  validAssessment,
} from '../../support/fixtures';

/** Every audit type, so the property runs over all of them (the `satisfies` keeps it complete at compile time). */
const ALL_TYPES = {
  'client.onboarded': 1,
  'client.roles_changed': 1,
  'request.submitted': 1,
  'request.triaged': 1,
  'request.edited': 1,
  'approval.requested': 1,
  'approval.granted': 1,
  'approval.denied': 1,
  'approval.refused': 1,
  'work.started': 1,
  'work.implemented': 1,
  'request.failed': 1,
  'request.rolled_back': 1,
  'request.closed': 1,
  'request.cancelled': 1,
  'action.refused': 1,
  'execution.queued': 1,
  'execution.planned': 1,
  'execution.step_started': 1,
  'execution.step_succeeded': 1,
  'execution.step_failed': 1,
  'execution.step_compensating': 1,
  'execution.step_compensated': 1,
  'execution.compensation_failed': 1,
  'execution.waiting': 1,
  'execution.finished': 1,
  'access.granted': 1,
  'access.revoked': 1,
  'checklist.ticked': 1,
  'password.revealed': 1,
  'client.settings_changed': 1,
  'request.reclassified': 1,
  'request.assessed': 1,
  'risk.overridden': 1,
  'approval.pre_approved': 1,
  'approval.vote': 1,
  'approval.step_opened': 1,
  'approval.reminded': 1,
  'approval.escalated': 1,
  'approval.retrospective_requested': 1,
  'approval.retrospective_decided': 1,
  'info.requested': 1,
  'info.provided': 1,
  'review.due': 1,
  'review.filed': 1,
  'review.escalated': 1,
  'notice.sent': 1,
  'delegation.created': 1,
  'delegation.revoked': 1,
  'template.created': 1,
  'template.changed': 1,
  'template.proposed': 1,
  'template.approved': 1,
  'template.declined': 1,
  'template.suspended': 1,
  'template.reenabled': 1,
  'template.promotion_suggested': 1,
  'sla.at_risk': 1,
  'sla.breached': 1,
  'sla.channel_bound': 1,
  'psa.ticket_linked': 1,
  'psa.note_received': 1,
  'note.added': 1,
  'webhook.accepted': 1,
  'webhook.key_created': 1,
  'webhook.key_rotated': 1,
  'webhook.key_retired': 1,
  'report.monthly_posted': 1,
} satisfies Record<AuditEventType, 1>;
const TYPES = Object.keys(ALL_TYPES) as AuditEventType[];

const request = requestAt('triaged');

const anEvent = fc.record({
  type: fc.constantFrom(...TYPES),
  from: fc.option(fc.constantFrom(...CHANGE_STATUSES), { nil: undefined }),
  status: fc.option(fc.constantFrom(...CHANGE_STATUSES), { nil: undefined }),
  text: fc.option(fc.string({ maxLength: 3000 }), { nil: undefined }),
});

function toAudit(e: {
  type: AuditEventType;
  from?: string | undefined;
  status?: string | undefined;
  text?: string | undefined;
}): AuditEvent {
  return {
    type: e.type,
    actor: { tid: request.tenantId, oid: people.tina.oid },
    requestId: request.id,
    payload: {
      ...(e.from !== undefined ? { from: e.from } : {}),
      ...(e.status !== undefined ? { status: e.status } : {}),
    },
    ...(e.text !== undefined ? { personal: { notes: e.text } } : {}),
  };
}

describe('psaSyncFor', () => {
  it('never turns a psa.* event into PSA work (no echo loops)', () => {
    fc.assert(
      fc.property(fc.array(anEvent, { maxLength: 8 }), (events) => {
        const psaOnly = events.map(toAudit).filter((e) => e.type.startsWith('psa.'));
        assert.deepEqual(psaSyncFor(request, psaOnly), []);
      }),
    );
  });

  it('adds exactly one note, with the new status, for every status-changing event; bounded text', () => {
    fc.assert(
      fc.property(fc.array(anEvent, { maxLength: 8 }), (raw) => {
        const events = raw.map(toAudit).filter((e) => e.type !== 'request.submitted');
        const work = psaSyncFor(request, events);
        const moves = events.filter(
          (e) =>
            !e.type.startsWith('psa.') &&
            typeof e.payload['from'] === 'string' &&
            typeof e.payload['status'] === 'string' &&
            e.payload['from'] !== e.payload['status'],
        );
        const withStatus = work.filter((w) => w.op === 'note' && w.status !== undefined);
        assert.deepEqual(
          withStatus.map((w) => (w.op === 'note' ? w.status : undefined)),
          moves.map((e) => e.payload['status']),
        );
        for (const w of work)
          if (w.op === 'note') assert.ok(w.text.length > 0 && w.text.length <= PSA_NOTE_TEXT_MAX);
      }),
    );
  });

  it('opens the ticket for request.submitted', () => {
    const { request: fresh, audit } = submitted();
    assert.deepEqual(psaSyncFor(fresh, [audit]), [{ op: 'ticket' }]);
  });

  it('ignores SLA, reminder, template and execution-step noise', () => {
    const noise: AuditEventType[] = [
      'sla.at_risk',
      'sla.breached',
      'approval.reminded',
      'approval.escalated',
      'template.suspended',
      'execution.step_started',
      'execution.step_succeeded',
      'client.settings_changed',
    ];
    const events = noise.map((type) =>
      toAudit({ type, from: undefined, status: undefined, text: 'x' }),
    );
    assert.deepEqual(psaSyncFor(request, events), []);
  });

  it('assessment adds an internal note with the priority level from the risk', () => {
    const triaged = requestAt('triaged');
    const { request: assessed, audit } = applyAll(triaged, [
      [assessedEvent(triaged, validAssessment()), contextFor(people.tina)],
    ]);
    const risk = assessed.assessment?.risk;
    const [work] = psaSyncFor(assessed, audit);
    assert.equal(work?.op, 'note');
    if (work?.op !== 'note') return;
    assert.equal(work.internal, true);
    assert.equal(work.priority, risk);
    assert.match(work.text, new RegExp(`Risk: ${risk}`));
  });

  it('cancelling carries the reason and the new status', () => {
    const triaged = requestAt('triaged');
    const { request: cancelled, audit } = applyAll(triaged, [
      [{ type: 'Cancelled', reason: 'No longer needed.' }, contextFor(people.tina)],
    ]);
    const [work] = psaSyncFor(cancelled, audit);
    assert.ok(work?.op === 'note');
    assert.equal(work.status, 'cancelled');
    assert.equal(work.internal, false);
    assert.match(work.text, /No longer needed\./);
  });
});

describe('psaPriorityLevel', () => {
  it('uses the risk, else the type level from the mapping, else medium', () => {
    assert.equal(psaPriorityLevel('general', 'low'), 'low');
    assert.equal(
      psaPriorityLevel('general', undefined, { typePriorities: { general: 'low' } }),
      'low',
    );
    assert.equal(psaPriorityLevel('general'), 'medium');
  });

  it('puts an incident at high or above, whatever the risk or mapping', () => {
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom('low', 'medium', 'high', 'critical' as const), {
          nil: undefined,
        }),
        fc.constantFrom('low', 'medium', 'high', 'critical' as const),
        (risk, typeLevel) => {
          const level = psaPriorityLevel('incident', risk, {
            typePriorities: { incident: typeLevel },
          });
          assert.ok(level === 'high' || level === 'critical');
        },
      ),
    );
  });
});

describe('validatePsaMapping', () => {
  const priorities = { low: '4', medium: '3', high: '2', critical: '1' };

  it('accepts a full mapping and trims ids', () => {
    const result = validatePsaMapping({
      psa: 'halopsa',
      company: ' 12 ',
      board: 'Changes',
      priorities,
      typePriorities: { incident: 'critical' },
      statuses: { closed: 'Closed', in_progress: '2' },
    });
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    assert.equal(result.value.company, '12');
    assert.equal(result.value.typePriorities?.incident, 'critical');
  });

  it('reports every field to fix at once', () => {
    const result = validatePsaMapping({
      psa: 'servicenow',
      company: '',
      priorities: { low: '4', medium: '3', high: '2' },
      typePriorities: { nope: 'low', general: 'urgent' },
      statuses: { draft: 'x', bogus: 'y' },
      extra: 1,
    });
    assert.equal(result.ok, false);
    if (result.ok) return;
    const fields = result.error.issues.map((i) => i.field).sort();
    for (const f of [
      'psa',
      'company',
      'priorities.critical',
      'typePriorities',
      'typePriorities.general',
      'statuses',
    ])
      assert.ok(fields.includes(f), `${f} in ${fields.join(', ')}`);
  });
});
