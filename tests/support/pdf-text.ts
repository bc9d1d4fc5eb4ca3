/**
 * The text a PDF shows, from its uncompressed content streams: pdfkit writes each run of the
 * standard fonts as hex strings inside `TJ` arrays (kerning numbers between them), one per line.
 */
export function pdfText(pdf: Buffer): string {
  const source = pdf.toString('latin1');
  const lines: string[] = [];
  for (const found of source.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
    const parts = [...found[1]!.matchAll(/<([0-9a-fA-F]*)>/g)].map((m) =>
      Buffer.from(m[1]!, 'hex').toString('latin1'),
    );
    lines.push(parts.join(''));
  }
  return lines.join('\n');
}
