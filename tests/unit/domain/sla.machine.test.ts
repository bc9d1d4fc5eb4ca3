import { strict as assert } from 'node:assert';
import { transition } from '../../../src/domain/change-request/change-request.machine';
import {
  NOW,
  applyAll,
  assessedEvent,
  contextFor,
  people,
  requestAt,
  submitted,
  validInput,
} from '../../support/fixtures';

/** Monday 2026-11-23, London (= UTC in winter); a general request runs on business hours. */
const at = (time: string) => `2026-11-23T${time}:00.000Z`;

describe('Change request machine: SLA', () => {
  it('starts the clocks when the request is created', () => {
    const { request } = submitted();
    assert.equal(request.sla?.computedAt, NOW);
    assert.equal(request.sla?.acknowledge.state, 'on_track');
    assert.equal(request.sla?.acknowledge.dueAt, at('17:30'));
    assert.equal(request.acknowledgedAt, undefined);
  });

  it('is acknowledged once, by the first action of MSP staff acting as themselves', () => {
    const { request } = submitted();
    const triaged = applyAll(request, [
      [{ type: 'Triaged' }, contextFor(request.requester, { system: true, now: at('09:05') })],
      [
        { type: 'Edited', changes: validInput('general', { title: 'Printer on floor 2' }) },
        contextFor(people.carla, { now: at('09:10') }),
      ],
    ]).request;
    assert.equal(triaged.acknowledgedAt, undefined, 'neither Cabinet nor the client acknowledges');

    const assessed = applyAll(triaged, [
      [assessedEvent(triaged), contextFor(people.tina, { now: at('10:00') })],
    ]).request;
    assert.equal(assessed.acknowledgedAt, at('10:00'));
    assert.equal(assessed.sla?.acknowledge.state, 'met');
    assert.equal(assessed.sla?.acknowledge.metAt, at('10:00'));

    const edited = applyAll(assessed, [
      [
        { type: 'Edited', changes: validInput('general', { title: 'Printer on floor 3' }) },
        contextFor(people.lena, { now: at('11:00') }),
      ],
    ]).request;
    assert.equal(edited.acknowledgedAt, at('10:00'), 'a later staff action changes nothing');
  });

  it('recomputes the SLA on every accepted transition', () => {
    const { request } = submitted();
    const triaged = transition(
      request,
      { type: 'Triaged' },
      contextFor(request.requester, { system: true, now: at('16:00') }),
    );
    assert.ok(triaged.ok);
    assert.equal(triaged.value.next.sla?.computedAt, at('16:00'));
    assert.equal(triaged.value.next.sla?.acknowledge.usedMinutes, 420);
    assert.equal(triaged.value.next.sla?.acknowledge.state, 'at_risk');
  });

  it('pauses while waiting on the client and resumes when the client answers', () => {
    const { request } = submitted();
    const asked = applyAll(request, [
      [{ type: 'Triaged' }, contextFor(request.requester, { system: true, now: at('09:00') })],
      [
        { type: 'InfoRequested', question: 'Which printer?' },
        contextFor(people.tina, { now: at('10:00') }),
      ],
    ]).request;
    assert.equal(asked.status, 'needs_info');
    assert.equal(asked.sla?.resolve.state, 'paused');
    assert.equal(asked.sla?.state, 'paused');

    const answered = applyAll(asked, [
      [
        { type: 'InfoProvided', answer: 'The one by the lifts' },
        contextFor(people.carla, { now: at('13:00') }),
      ],
    ]).request;
    assert.equal(answered.status, 'triaged');
    assert.equal(answered.sla?.resolve.state, 'on_track');
    assert.equal(answered.sla?.resolve.usedMinutes, 60, 'the three hours waited do not count');
  });

  it('meets the resolve clock on implementation and records its state in the audit entry', () => {
    const cr = requestAt('in_progress');
    const done = transition(cr, { type: 'ImplementationCompleted' }, contextFor(people.tina));
    assert.ok(done.ok);
    assert.equal(done.value.next.sla?.resolve.state, 'met');
    assert.equal(done.value.next.sla?.resolve.metAt, NOW);
    assert.equal(done.value.audit.payload['slaState'], 'met');
  });
});
