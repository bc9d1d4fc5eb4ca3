import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReportCommand } from '../../../src/cli/report.command';
import {
  contosoProfile,
  createHarness,
  fabrikamProfile,
  seedClients,
} from '../../support/fixtures';
import { runCli } from '../../support/run-cli';
import { bookNovember, type NovemberScenario } from '../../support/summary-fixtures';

describe(runReportCommand.name, () => {
  let s: NovemberScenario;
  let run: (...args: string[]) => Promise<number>;
  const lines: string[] = [];

  before(async () => {
    const h = createHarness();
    await seedClients(h);
    s = await bookNovember(h.deps, { contoso: contosoProfile(), fabrikam: fabrikamProfile() });
    run = (...args) => runReportCommand(args, { ...h.deps, out: (l) => lines.push(l) });
  });
  beforeEach(() => (lines.length = 0));

  it('prints the month: counts, the flagged quota line and one line per change', async () => {
    assert.equal(await run('monthly', '--client', 'CONTOSO', '--month', '2026-11'), 0);
    const text = lines.join('\n');
    assert.match(
      text,
      /^Monthly change summary: Contoso .*\(CONTOSO\), 2026-11 \(Europe\/London\)/,
    );
    assert.match(text, /Changes: 6 \(standard 1, normal 2, emergency 3\)/);
    assert.match(text, /Outcomes: successful 2, failed 1, open 3/);
    assert.match(text, /Emergency quota: 3 emergencies, quota 2: over by 1 {2}\[FLAGGED\]/);
    assert.ok(
      lines.includes(
        `  ${s.standard.id}\tBusiness Premium for Jane\tAdd a Business Premium licence\tsuccessful`,
      ),
    );
    assert.ok(
      lines.includes(
        `  ${s.emergencyOverdue.id}\tRestore the mail flow\tretrospective pending, review overdue\topen`,
      ),
    );
    assert.ok(
      lines.includes(
        `  ${s.normalDone.id}\tPatch the firewall\t2026-11-08 01:00 to 2026-11-08 03:00\tfailed`,
      ),
    );
    assert.ok(!text.includes(s.october.id) && !text.includes(s.fabrikam.id));
  });

  it('prints JSON with --json', async () => {
    assert.equal(await run('monthly', '--client', 'contoso', '--month', '2026-11', '--json'), 0);
    const parsed = JSON.parse(lines.join('\n')) as {
      total: number;
      emergencyQuota: { overBy: number };
    };
    assert.equal(parsed.total, 6);
    assert.equal(parsed.emergencyQuota.overBy, 1);
  });

  it('says what to fix: no client, an unknown client, a bad month, an unknown command', async () => {
    assert.equal(await run('monthly'), 1);
    assert.match(lines.at(-1)!, /needs --client/);
    assert.equal(await run('monthly', '--client', 'NOPE'), 1);
    assert.match(lines.at(-1)!, /No client NOPE; give its code or tenant id/);
    assert.equal(await run('monthly', '--client', 'CONTOSO', '--month', '2026-13'), 1);
    assert.match(
      lines.at(-1)!,
      /month: must be a month like 2026-11 \(YYYY-MM\) \(CR.INVALID_INPUT\)/,
    );
    assert.equal(await run('weekly'), 1);
    assert.match(lines.at(-1)!, /cabinet report monthly --client/);
  });

  it('is listed in the CLI’s usage', async () => {
    const help = await runCli(['help'], {});
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /cabinet report monthly --client <CODE> \[--month YYYY-MM\] \[--json\]/,
    );
  });

  it('writes the monthly change report as PDF and HTML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cabinet-report-'));
    try {
      const pdf = join(dir, 'out.pdf');
      const html = join(dir, 'out.html');
      assert.equal(
        await run(
          'monthly',
          '--client',
          'CONTOSO',
          '--month',
          '2026-11',
          '--pdf',
          pdf,
          '--html',
          html,
        ),
        0,
      );
      assert.ok(
        lines.includes(`Report written to ${pdf}`) && lines.includes(`Report written to ${html}`),
      );
      assert.equal(readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');
      const page = readFileSync(html, 'utf8');
      assert.match(page, /<svg id="chart-emergency"/);
      assert.match(page, /data-flag="emergency_share"/);
      assert.ok(page.includes(s.normalDone.id) && !page.includes('Fabrikam VPN'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
