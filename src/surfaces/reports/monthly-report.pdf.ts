import PDFDocument from 'pdfkit';
import type { ClientMonthlyReport } from '../../application/use-cases/change-log';
import type { Ratio } from '../../domain/reporting/monthly-report';
import { ratioText } from './monthly-report.html';

const ACCENT = '#4f6bed';
const MUTED = '#dddddd';
const FLAG = '#a4262c';

/**
 * The monthly change report as a PDF (A4, the built-in Helvetica so no font files ship), charts
 * drawn as vector bars and pies. `CreationDate` is the report's month end, so the same report
 * renders to the same bytes.
 */
export function monthlyReportPdf(report: ClientMonthlyReport): Promise<Buffer> {
  const { summary: s, figures: f } = report;
  const title = `Monthly change report: ${s.client.name}, ${s.month}`;
  const doc = new PDFDocument({
    size: 'A4',
    margin: 48,
    // Uncompressed content keeps the text greppable for whoever checks the file by hand.
    compress: false,
    info: { Title: title, Author: 'Cabinet', CreationDate: new Date(s.end) },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(16).text(title);
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(`${s.client.code} · ${s.timeZone} · ${s.total} ${s.total === 1 ? 'change' : 'changes'}`);
  doc.moveDown();

  doc.font('Helvetica-Bold').fontSize(12).text('Red flags');
  doc.font('Helvetica').fontSize(10);
  if (f.redFlags.length === 0) doc.text('No red flags this month.');
  for (const flag of f.redFlags)
    doc
      .fillColor(FLAG)
      .text(
        `• ${flag.text}${flag.requestIds.length > 0 ? ` (${flag.requestIds.join(', ')})` : ''}`,
      );
  doc.fillColor('black').moveDown();

  doc.font('Helvetica-Bold').fontSize(12).text('Figures');
  doc.font('Helvetica').fontSize(10);
  doc.text(
    `Emergency share: ${ratioText(f.emergencyShare)} (target at most ${Math.round(f.emergencyShareTarget * 100)} %)`,
  );
  doc.text(`Success rate: ${ratioText(f.success)}`);
  doc.text(`SLA attainment: ${ratioText(f.sla)}`);
  doc.moveDown();

  bars(doc, 'Changes by class', f.byClass);
  bars(doc, 'Changes by type', f.byType);
  const pieTop = doc.y;
  pie(doc, 48, pieTop, 'Emergency share', f.emergencyShare);
  pie(doc, 216, pieTop, 'Success rate', f.success);
  pie(doc, 384, pieTop, 'SLA attainment', f.sla);
  doc.x = 48;
  doc.y = pieTop + 130;

  doc.addPage();
  doc.font('Helvetica-Bold').fontSize(12).text('Change log');
  doc.font('Helvetica').fontSize(9);
  if (f.log.length === 0) doc.text('No changes this month.');
  for (const r of f.log) {
    doc.font('Helvetica-Bold').text(`${r.localDate}  ${r.id}  ${r.title} (${r.changeClass})`);
    doc.font('Helvetica');
    doc.text(`Authorised by: ${r.authorisedBy}`);
    doc.text(`Expected: ${r.expected}`);
    doc.text(`Actual: ${r.actual}`);
    doc.text(`Rollback: ${r.rollback}`);
    doc.moveDown(0.5);
  }
  doc.end();
  return done;
}

function bars(
  doc: PDFKit.PDFDocument,
  title: string,
  items: readonly { readonly label: string; readonly count: number }[],
): void {
  doc.font('Helvetica-Bold').fontSize(11).text(title);
  doc.font('Helvetica').fontSize(9);
  const max = Math.max(1, ...items.map((i) => i.count));
  const left = 48;
  let y = doc.y + 4;
  for (const item of items) {
    const width = Math.round((item.count / max) * 260);
    doc.fillColor('black').text(item.label, left, y, { width: 120 });
    if (width > 0) doc.rect(left + 130, y, width, 10).fill(ACCENT);
    doc.fillColor('black').text(String(item.count), left + 136 + width, y);
    y += 16;
  }
  doc.x = left;
  doc.y = y + 8;
}

function pie(doc: PDFKit.PDFDocument, x: number, y: number, title: string, r: Ratio): void {
  const cx = x + 50;
  const cy = y + 60;
  const radius = 40;
  doc.fillColor('black').font('Helvetica-Bold').fontSize(10).text(title, x, y, { width: 160 });
  doc.circle(cx, cy, radius).fill(MUTED);
  if (r.rate !== undefined && r.rate >= 1) doc.circle(cx, cy, radius).fill(ACCENT);
  else if (r.rate !== undefined && r.rate > 0) {
    const angle = r.rate * 2 * Math.PI;
    const ex = cx + radius * Math.sin(angle);
    const ey = cy - radius * Math.cos(angle);
    doc
      .path(
        `M ${cx} ${cy} L ${cx} ${cy - radius} A ${radius} ${radius} 0 ${r.rate > 0.5 ? 1 : 0} 1 ${ex.toFixed(2)} ${ey.toFixed(2)} Z`,
      )
      .fill(ACCENT);
  }
  doc
    .fillColor('black')
    .font('Helvetica')
    .fontSize(9)
    .text(ratioText(r), x, y + 108, { width: 160 });
}
