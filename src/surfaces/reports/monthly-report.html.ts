import type { ClientMonthlyReport } from '../../application/use-cases/change-log';
import type { Ratio } from '../../domain/reporting/monthly-report';

/**
 * The monthly change report as one self-contained HTML page: inline SVG charts and styles, no
 * scripts and no remote assets, so it reads the same saved to disk, mailed or printed.
 */
export function monthlyReportHtml(report: ClientMonthlyReport): string {
  const { summary: s, figures: f } = report;
  const title = `Monthly change report: ${s.client.name}, ${s.month}`;
  const rows = f.log
    .map(
      (r) =>
        `<tr><td>${esc(r.localDate)}</td><td>${esc(r.id)}</td><td>${esc(r.title)}</td><td>${esc(r.changeClass)}</td><td>${esc(r.authorisedBy)}</td><td>${esc(r.expected)}</td><td>${esc(r.actual)}</td><td>${esc(r.rollback)}</td></tr>`,
    )
    .join('\n');
  const flags =
    f.redFlags.length > 0
      ? `<ul id="red-flags">${f.redFlags
          .map(
            (flag) =>
              `<li class="red-flag" data-flag="${flag.code}">${esc(flag.text)}${flag.requestIds.length > 0 ? ` (${flag.requestIds.map(esc).join(', ')})` : ''}</li>`,
          )
          .join('')}</ul>`
      : '<p id="red-flags">No red flags this month.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%;font-size:.85rem}td,th{border:1px solid #bbb;padding:.25rem;text-align:left;vertical-align:top}
.charts{display:flex;flex-wrap:wrap;gap:2rem}.red-flag{color:#a4262c;font-weight:bold}figure{margin:0}
</style></head>
<body>
<h1>${esc(title)}</h1>
<p>${esc(s.client.code)} · ${esc(s.timeZone)} · ${s.total} ${s.total === 1 ? 'change' : 'changes'}</p>
<h2>Red flags</h2>
${flags}
<h2>Figures</h2>
<ul id="figures">
<li>Emergency share: ${ratioText(f.emergencyShare)} (target at most ${Math.round(f.emergencyShareTarget * 100)} %)</li>
<li>Success rate: ${ratioText(f.success)}</li>
<li>SLA attainment: ${ratioText(f.sla)}</li>
</ul>
<div class="charts">
${barChart('chart-class', 'Changes by class', f.byClass)}
${barChart('chart-type', 'Changes by type', f.byType)}
${pieChart('chart-emergency', 'Emergency share', f.emergencyShare, 'emergency', 'other')}
${pieChart('chart-success', 'Success rate', f.success, 'succeeded', 'failed or rolled back')}
${pieChart('chart-sla', 'SLA attainment', f.sla, 'met', 'breached')}
</div>
<h2>Change log</h2>
<table id="change-log"><thead><tr><th>Date</th><th>Change</th><th>What</th><th>Class</th><th>Authorised by</th><th>Expected</th><th>Actual</th><th>Rollback</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** "3 of 4 (75 %)", or "none measured". */
export function ratioText(r: Ratio): string {
  return r.rate === undefined
    ? 'none measured'
    : `${r.count} of ${r.of} (${Math.round(r.rate * 100)} %)`;
}

function barChart(
  id: string,
  title: string,
  bars: readonly { readonly label: string; readonly count: number }[],
): string {
  const max = Math.max(1, ...bars.map((b) => b.count));
  const rowHeight = 24;
  const height = Math.max(1, bars.length) * rowHeight + 10;
  const body = bars
    .map((b, i) => {
      const y = 5 + i * rowHeight;
      const w = Math.round((b.count / max) * 200);
      return `<text x="0" y="${y + 15}" font-size="12">${esc(b.label)}</text><rect x="130" y="${y + 3}" width="${w}" height="16" fill="#4f6bed"/><text x="${136 + w}" y="${y + 15}" font-size="12">${b.count}</text>`;
    })
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg id="${id}" role="img" aria-label="${esc(title)}" width="380" height="${height}" viewBox="0 0 380 ${height}">${body}</svg></figure>`;
}

function pieChart(id: string, title: string, r: Ratio, part: string, rest: string): string {
  const label = `${title}: ${ratioText(r)}`;
  const cx = 60;
  const cy = 60;
  const radius = 50;
  let shape: string;
  if (r.rate === undefined) shape = `<circle cx="${cx}" cy="${cy}" r="${radius}" fill="#ddd"/>`;
  else if (r.rate >= 1) shape = `<circle cx="${cx}" cy="${cy}" r="${radius}" fill="#4f6bed"/>`;
  else {
    const angle = r.rate * 2 * Math.PI;
    const x = cx + radius * Math.sin(angle);
    const y = cy - radius * Math.cos(angle);
    const large = r.rate > 0.5 ? 1 : 0;
    shape =
      `<circle cx="${cx}" cy="${cy}" r="${radius}" fill="#ddd"/>` +
      (r.rate > 0
        ? `<path d="M${cx},${cy} L${cx},${cy - radius} A${radius},${radius} 0 ${large} 1 ${x.toFixed(2)},${y.toFixed(2)} Z" fill="#4f6bed"/>`
        : '');
  }
  return `<figure><figcaption>${esc(label)}</figcaption><svg id="${id}" role="img" aria-label="${esc(label)}" width="260" height="120" viewBox="0 0 260 120">${shape}<text x="125" y="50" font-size="12">■ ${esc(part)} ${r.count}</text><text x="125" y="70" font-size="12" fill="#777">■ ${esc(rest)} ${r.of - r.count}</text></svg></figure>`;
}

function esc(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
