import { strict as assert } from 'node:assert';
import { clientChangeLog, monthlyReport } from '../../../src/application/use-cases/change-log';
import { monthlyReportHtml } from '../../../src/surfaces/reports/monthly-report.html';
import { monthlyReportPdf } from '../../../src/surfaces/reports/monthly-report.pdf';
import {
  FABRIKAM_TENANT_ID,
  contosoProfile,
  createHarness,
  fabrikamProfile,
  people,
  seedClients,
  type Harness,
} from '../../support/fixtures';
import { bookNovember, type NovemberScenario } from '../../support/summary-fixtures';
import { pdfText } from '../../support/pdf-text';

describe('client change log and monthly change report', () => {
  let h: Harness;
  let s: NovemberScenario;

  before(async () => {
    h = createHarness();
    await seedClients(h);
    s = await bookNovember(h.deps, { contoso: contosoProfile(), fabrikam: fabrikamProfile() });
  });

  it('lists the client’s month: when, what, who authorised, expected vs actual, rollback', async () => {
    const result = await clientChangeLog(h.deps, { actor: people.carla, month: '2026-11' });
    assert.ok(result.ok, !result.ok ? result.error.message : '');
    const rows = result.value.rows;
    assert.deepEqual(
      rows.map((r) => r.id),
      [
        s.standard.id,
        s.normalDone.id,
        s.emergencyClosed.id,
        s.emergencyOverdue.id,
        s.normalOpen.id,
        s.emergencyOver.id,
      ],
    );
    const done = rows.find((r) => r.id === s.normalDone.id)!;
    assert.equal(done.localDate, '2026-11-03 09:00');
    assert.equal(done.expected, 'Check connectivity from each site afterwards.');
    assert.equal(done.actual, 'failed');
    // It failed, so its plan is not "not needed".
    assert.match(done.rollback, /^Plan: Restore the saved configuration/);
    assert.equal(
      rows.find((r) => r.id === s.emergencyOverdue.id)!.authorisedBy,
      'retrospective approval pending',
    );
    assert.equal(
      rows.find((r) => r.id === s.standard.id)!.rollback,
      'Not needed (standard change)',
    );
    assert.equal(
      rows.find((r) => r.id === s.emergencyOver.id)!.rollback,
      'No rollback plan recorded',
    );
    assert.ok(!rows.some((r) => r.id === s.fabrikam.id || r.id === s.october.id));
  });

  it('gives a client user their own tenant only, whatever client they name', async () => {
    const forged = await clientChangeLog(h.deps, {
      actor: people.carla,
      clientTenantId: FABRIKAM_TENANT_ID,
      month: '2026-11',
    });
    assert.ok(!forged.ok);
    assert.equal(forged.error.code, 'CLIENT.NOT_FOUND');
  });

  it('reports the figures and red flags, as HTML with charts and as a PDF', async () => {
    const result = await monthlyReport(h.deps, { actor: people.carla, month: '2026-11' });
    assert.ok(result.ok, !result.ok ? result.error.message : '');
    const f = result.value.figures;
    assert.deepEqual(f.emergencyShare, { count: 3, of: 6, rate: 0.5 });
    assert.deepEqual(f.success, { count: 2, of: 3, rate: 2 / 3 });
    assert.deepEqual(f.sla, { count: 0, of: 0 });
    assert.deepEqual(
      f.redFlags.map((r) => r.code),
      ['emergency_share', 'emergency_quota', 'no_rollback_plan', 'overdue_review'],
    );
    assert.deepEqual(f.redFlags.find((r) => r.code === 'overdue_review')!.requestIds, [
      s.emergencyOverdue.id,
    ]);

    const html = monthlyReportHtml(result.value);
    for (const id of ['chart-class', 'chart-type', 'chart-emergency', 'chart-success', 'chart-sla'])
      assert.match(html, new RegExp(`<svg id="${id}"`));
    assert.match(
      html,
      /<li class="red-flag" data-flag="emergency_share">Emergency share 50 % \(3 of 6\) is above the target of 10 %/,
    );
    assert.match(html, /1 post-implementation review is overdue/);
    assert.ok(!/<script|https?:\/\//.test(html), 'self-contained: no scripts, no remote assets');

    const pdf = await monthlyReportPdf(result.value);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    const text = pdfText(pdf);
    assert.match(text, /Monthly change report: Contoso/);
    assert.match(text, /Emergency share 50 % \(3 of 6\) is above the target of 10 %/);
    assert.match(text, /Success rate: 2 of 3 \(67 %\)/);
    assert.match(text, /Changes by class/);
    assert.match(text, new RegExp(s.normalDone.id));
  });
});
