import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  CHANGE_STATUSES,
  isTerminal,
  type ChangeRequest,
  type ChangeStatus,
} from '../../../src/domain/change-request/change-request';
import { CHANGE_CLASSES } from '../../../src/domain/change-request/change-class';
import {
  finalOutcome,
  monthAt,
  monthBounds,
  parseReportMonth,
  reportedAt,
  summarizeMonth,
  SUMMARY_OUTCOMES,
  type ReportMonth,
} from '../../../src/domain/reporting/monthly-summary';
import { formatRequestId } from '../../../src/domain/shared/ids';
import { CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID, submitted } from '../../support/fixtures';

/**
 * The monthly summary's aggregation: counts add up, months are the client's calendar months
 * across daylight-saving changes, and nothing from another month or client is counted.
 */

const ZONES = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'Pacific/Chatham'] as const;
const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2027-01-01T00:00:00Z');
const HOUR = 3_600_000;
const BASE = submitted().request;

/** Instants drawn uniformly over 2026, or within a few hours of a month's start in the zone. */
const instantIn = (zone: string) =>
  fc.oneof(
    fc.integer({ min: FROM, max: TO - 1 }),
    fc
      .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: -3 * HOUR, max: 3 * HOUR }))
      .map(
        ([m, delta]) =>
          DateTime.fromObject({ year: 2026, month: m, day: 1 }, { zone }).toMillis() + delta,
      ),
  );

const requestArb = (zone: string) =>
  fc
    .record({
      tenant: fc.constantFrom(CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID),
      at: instantIn(zone),
      changeClass: fc.constantFrom(...CHANGE_CLASSES),
      status: fc.constantFrom(...CHANGE_STATUSES),
      sentLater: fc.integer({ min: 0, max: 40 * 24 * HOUR }),
      closedAs: fc.constantFrom(
        'successful',
        'successful_with_issues',
        'failed',
        'rolled_back' as const,
      ),
    })
    .map((g): ChangeRequest => {
      const createdAt = new Date(g.at).toISOString();
      const sentAt = new Date(g.at + g.sentLater).toISOString();
      const emergencySent = g.changeClass === 'emergency' && g.status !== 'triaged';
      return {
        ...BASE,
        tenantId: g.tenant,
        changeClass: g.changeClass,
        status: g.status,
        createdAt,
        updatedAt: createdAt,
        ...(g.status === 'closed'
          ? { closure: { outcome: g.closedAs, notes: '', by: BASE.requester, at: createdAt } }
          : {}),
        ...(emergencySent
          ? {
              approvalPlan: { mode: 'emergency' } as ChangeRequest['approvalPlan'],
              approval: {
                status: 'approved',
                steps: [{ openedAt: sentAt }],
              } as unknown as ChangeRequest['approval'],
            }
          : {}),
      };
    });

const scenario = fc.constantFrom(...ZONES).chain((zone) =>
  fc.record({
    zone: fc.constant(zone),
    requests: fc
      .array(requestArb(zone), { maxLength: 40 })
      .map((rs) =>
        rs.map((r, i) => ({ ...r, number: i + 1, id: formatRequestId(r.clientCode, i + 1) })),
      ),
    month: fc.integer({ min: 1, max: 12 }),
    quota: fc.integer({ min: 0, max: 4 }),
  }),
);

const monthText = (m: number) => `2026-${String(m).padStart(2, '0')}` as ReportMonth;
const summarize = (
  requests: readonly ChangeRequest[],
  zone: string,
  month: ReportMonth,
  quota = 2,
) =>
  summarizeMonth(requests, {
    tenantId: CONTOSO_TENANT_ID,
    month,
    timeZone: zone,
    emergencyQuotaPerMonth: quota,
    now: '2027-06-01T00:00:00.000Z',
  });

describe('monthly summary (property)', () => {
  it('counts by class and by outcome add up to the total, and each list matches its count', () => {
    fc.assert(
      fc.property(scenario, ({ zone, requests, month, quota }) => {
        const s = summarize(requests, zone, monthText(month), quota);
        const sum = (o: Readonly<Record<string, number>>) =>
          Object.values(o).reduce((a, b) => a + b, 0);
        assert.equal(sum(s.byClass), s.total);
        assert.equal(sum(s.byOutcome), s.total);
        assert.equal(s.standard.length, s.byClass.standard);
        assert.equal(s.normal.length, s.byClass.normal);
        assert.equal(s.emergencies.length, s.byClass.emergency);
        assert.equal(s.open.length, s.byOutcome.open);
        assert.ok(s.open.every((o) => !isTerminal(o.status)));
        assert.equal(s.emergencyQuota.count, s.emergencies.length);
        assert.equal(s.emergencyQuota.overBy, Math.max(0, s.emergencies.length - quota));
        assert.equal(s.emergencyQuota.flagged, s.emergencyQuota.overBy > 0);
      }),
    );
  });

  it('takes only the client’s requests placed in the month of its zone', () => {
    fc.assert(
      fc.property(scenario, ({ zone, requests, month }) => {
        const m = monthText(month);
        const s = summarize(requests, zone, m);
        const expected = requests
          .filter((r) => r.tenantId === CONTOSO_TENANT_ID)
          .filter((r) => monthAt(Date.parse(reportedAt(r)), zone) === m)
          .map((r) => r.id)
          .sort();
        const listed = [...s.standard, ...s.normal, ...s.emergencies].map((i) => i.id).sort();
        assert.deepEqual(listed, expected);
      }),
    );
  });

  it('partitions a year: every request of the client is in exactly one month', () => {
    fc.assert(
      fc.property(scenario, ({ zone, requests }) => {
        const ids = Array.from({ length: 12 }, (_, i) =>
          summarize(requests, zone, monthText(i + 1)),
        ).flatMap((s) => [...s.standard, ...s.normal, ...s.emergencies].map((x) => x.id));
        assert.equal(new Set(ids).size, ids.length);
        const localYear = requests.filter(
          (r) =>
            r.tenantId === CONTOSO_TENANT_ID &&
            monthAt(Date.parse(reportedAt(r)), zone).startsWith('2026-'),
        );
        assert.equal(ids.length, localYear.length);
      }),
    );
  });

  it('bounds each month at local midnight on the 1st, whatever the offset that day', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: 1, max: 12 }), (zone, month) => {
        const m = monthText(month);
        const { start, end } = monthBounds(m, zone);
        const local = DateTime.fromMillis(start, { zone });
        assert.equal(local.toFormat('yyyy-MM-dd HH:mm'), `${m}-01 00:00`);
        assert.equal(monthAt(start, zone), m);
        assert.notEqual(monthAt(start - 1, zone), m);
        assert.equal(monthAt(end - 1, zone), m);
        assert.notEqual(monthAt(end, zone), m);
        const next = month === 12 ? '2027-01' : monthText(month + 1);
        assert.equal(monthBounds(next as ReportMonth, zone).start, end);
      }),
    );
  });
});

describe(summarizeMonth.name, () => {
  const at = (iso: string, patch: Partial<ChangeRequest> = {}): ChangeRequest => ({
    ...BASE,
    createdAt: iso,
    updatedAt: iso,
    ...patch,
  });

  it('places a change raised just after local midnight on 1 April in London in April', () => {
    // 2026-03-31T23:30Z is 00:30 on 1 April in London (summer time began on 29 March).
    const r = at('2026-03-31T23:30:00.000Z');
    assert.equal(summarize([r], 'Europe/London', monthText(4)).total, 1);
    assert.equal(summarize([r], 'Europe/London', monthText(3)).total, 0);
    assert.equal(summarize([r], 'UTC', monthText(3)).total, 1);
  });

  it('counts an emergency in the month it was sent, as the quota does', () => {
    const r = at('2026-10-31T20:00:00.000Z', {
      changeClass: 'emergency',
      status: 'approved',
      approvalPlan: { mode: 'emergency' } as ChangeRequest['approvalPlan'],
      approval: {
        status: 'approved',
        steps: [{ openedAt: '2026-11-02T08:00:00.000Z' }],
      } as unknown as ChangeRequest['approval'],
      overEmergencyQuota: true,
    });
    const s = summarize([r], 'Europe/London', monthText(11), 2);
    assert.equal(s.emergencies.length, 1);
    assert.equal(s.emergencies[0]!.overEmergencyQuota, true);
    assert.deepEqual(
      { line: s.emergencyQuota.line, flagged: s.emergencyQuota.flagged },
      { line: '1 emergency, quota 2: flagged over quota', flagged: true },
    );
  });

  it('says by how much the month went over its emergency quota', () => {
    const e = (n: number) =>
      at('2026-11-05T10:00:00.000Z', {
        changeClass: 'emergency',
        number: n,
        id: formatRequestId(BASE.clientCode, n),
      });
    const s = summarize([e(1), e(2), e(3)], 'Europe/London', monthText(11), 1);
    assert.equal(s.emergencyQuota.line, '3 emergencies, quota 1: over by 2');
    assert.equal(s.emergencyQuota.flagged, true);
    assert.equal(
      summarize([e(1)], 'Europe/London', monthText(11), 1).emergencyQuota.line,
      '1 emergency, quota 1: within quota',
    );
  });

  it('gives each final outcome and leaves unfinished changes open', () => {
    const statuses: ChangeStatus[] = [
      'denied',
      'cancelled',
      'rolled_back',
      'review_pending',
      'failed',
    ];
    assert.deepEqual(
      statuses.map((status) => finalOutcome(at('2026-11-05T10:00:00.000Z', { status }))),
      ['denied', 'cancelled', 'rolled_back', 'open', 'open'],
    );
    assert.ok(SUMMARY_OUTCOMES.includes('open'));
  });

  it('refuses a month that is not YYYY-MM, saying the form', () => {
    for (const bad of ['2026-13', '26-11', '2026-1', 'November']) {
      const parsed = parseReportMonth(bad);
      assert.ok(!parsed.ok);
      assert.match(parsed.error.message, /month: must be a month like 2026-11 \(YYYY-MM\)/);
    }
    assert.deepEqual(parseReportMonth('2026-11'), { ok: true, value: '2026-11' });
  });
});
