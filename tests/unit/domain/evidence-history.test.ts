import { strict as assert } from 'node:assert';
import type { AuditEntry } from '../../../src/domain/audit/audit-chain';
import { controlMap, controlMapHtml } from '../../../src/domain/evidence/control-map';
import {
  buildHistory,
  ERASED,
  historyHtml,
  type OpenedEntry,
} from '../../../src/domain/evidence/evidence-history';

const TENANT = '11111111-1111-1111-1111-111111111111';
const APPROVER = { tid: TENANT, oid: 'aaaaaaaa-0000-0000-0000-000000000001' };

function entry(seq: number, ts: string, type: string, requestId: string | null, payload = {}) {
  return {
    tenantId: TENANT,
    seq,
    prev: '0'.repeat(64),
    ts,
    type,
    actor: APPROVER,
    requestId,
    payload: { ...payload, personal: { sealed: 'x' } },
  } satisfies AuditEntry;
}

const options = {
  tenantId: TENANT,
  range: { from: '2026-11-02', to: '2026-11-30' },
  fromTs: '2026-11-02T00:00:00.000Z',
  names: new Map([[`${APPROVER.tid}/${APPROVER.oid}`, 'Alex Approver']]),
  numbers: new Map([['r1', 7]]),
};

describe('buildHistory', () => {
  const opened: OpenedEntry[] = [
    {
      entry: entry(1, '2026-11-01T09:00:00.000Z', 'request.submitted', 'r1', {
        changeType: 'add_user',
        changeClass: 'normal',
        status: 'submitted',
      }),
      personal: { title: 'New starter <b>', requester: 'Rita Requester' },
    },
    { entry: entry(2, '2026-11-01T09:05:00.000Z', 'request.submitted', 'r0', {}), personal: ERASED },
    {
      entry: entry(3, '2026-11-03T10:00:00.000Z', 'approval.granted', 'r1', {
        step: 'client',
        outcome: 'approve',
        approvalVersion: 1,
        cardHash: 'ab'.repeat(32),
        status: 'approved',
      }),
      personal: { reason: 'fine' },
    },
    {
      entry: entry(4, '2026-11-04T10:00:00.000Z', 'request.closed', 'r1', {
        outcome: 'successful',
        status: 'closed',
      }),
      personal: ERASED,
    },
    { entry: entry(5, '2026-11-04T11:00:00.000Z', 'client.settings_changed', null) },
  ];

  it('lists only requests with activity in the range, with all their entries and decisions', () => {
    const sut = buildHistory(opened, options);
    assert.deepEqual(
      sut.requests.map((r) => r.requestId),
      ['r1'],
    );
    const r1 = sut.requests[0]!;
    assert.equal(r1.number, 7);
    assert.equal(r1.title, 'New starter <b>');
    assert.equal(r1.status, 'closed');
    assert.deepEqual(
      r1.events.map((e) => e.seq),
      [1, 3, 4],
    );
    assert.deepEqual(r1.decisions, [
      {
        seq: 3,
        ts: '2026-11-03T10:00:00.000Z',
        type: 'approval.granted',
        approver: { ...APPROVER, name: 'Alex Approver' },
        step: 'client',
        outcome: 'approve',
        approvalVersion: 1,
        cardHash: 'ab'.repeat(32),
        reason: 'fine',
      },
    ]);
    assert.equal(r1.closeNotes[0]!.text, ERASED);
    assert.equal(r1.closeNotes[0]!.outcome, 'successful');
    assert.ok(!('personal' in r1.events[0]!.payload), 'sealed personal data is not repeated');
  });

  it('renders an offline page that escapes text and has no scripts', () => {
    const html = historyHtml(buildHistory(opened, options));
    assert.match(html, /New starter &lt;b&gt;/);
    assert.match(html, /Alex Approver/);
    assert.match(html, new RegExp('ab'.repeat(32)));
    assert.doesNotMatch(html, /<script|https?:\/\//i);
  });
});

describe('controlMap', () => {
  it('maps the controls the issue names to bundle files', () => {
    const controls = controlMap().controls.map((c) => `${c.framework} ${c.control}`);
    for (const wanted of ['A.8.32', 'A.8.15', 'CC8.1', 'Essential Eight', '6.5.1', '6.5.2'])
      assert.ok(controls.some((c) => c.includes(wanted)), wanted);
    assert.doesNotMatch(controlMapHtml(controlMap()), /<script|https?:\/\//i);
  });
});
