/** One control an auditor tests, and which files in the evidence bundle support it. */
export interface ControlMapping {
  readonly framework: string;
  readonly control: string;
  readonly title: string;
  /** What the bundle shows for this control, in the auditor's terms. */
  readonly evidence: string;
  /** Bundle paths (exact member paths, or a folder ending in `/`). */
  readonly files: readonly string[];
  /** Where the bundle is only partial evidence, what the auditor must look for elsewhere. */
  readonly limits?: string;
}

export interface ControlMap {
  readonly format: 'cabinet-control-map/v1';
  readonly controls: readonly ControlMapping[];
}

const CHAIN_FILES = ['entries.ndjson', 'checkpoints/', 'proofs/consistency.json', 'keys/keys.json'];
const HISTORY_FILES = ['history/requests.json', 'history/index.html'];

/**
 * The control map shipped in every bundle. Fixed text, so it never makes two exports of the same
 * range differ.
 * @remarks Honest about scope: Cabinet records change control, not patch levels or allow-lists,
 * so the Essential Eight rows say what they do not cover.
 */
export function controlMap(): ControlMap {
  return {
    format: 'cabinet-control-map/v1',
    controls: [
      {
        framework: 'ISO/IEC 27001:2022',
        control: 'A.8.32',
        title: 'Change management',
        evidence:
          'Every change request in the range with its submission, assessment, approvals (approver identity and the hash of the card each approver saw), implementation, close notes, rollbacks and post-implementation reviews, each backed by a chained audit entry.',
        files: [...HISTORY_FILES, 'entries.ndjson'],
      },
      {
        framework: 'ISO/IEC 27001:2022',
        control: 'A.8.15',
        title: 'Logging',
        evidence:
          'The complete tamper-evident audit log of the client from its first entry: a hash chain, RFC 6962 Merkle checkpoints signed with ECDSA P-256, consistency proofs between checkpoints and anchors kept outside the tables Cabinet writes. verifier/verify.mjs checks all of it offline.',
        files: [...CHAIN_FILES, 'anchors/anchors.json', 'verifier/verify.mjs'],
      },
      {
        framework: 'SOC 2 (2017 TSC, rev. 2022)',
        control: 'CC8.1',
        title: 'Changes are authorised, designed, tested, approved and implemented',
        evidence:
          'Authorisation and approval of each change (who approved, under which approval plan, what they saw), its implementation and outcome, and emergency changes with their retrospective approval and review.',
        files: [...HISTORY_FILES, 'entries.ndjson', 'manifest.json', 'manifest.sig'],
      },
      {
        framework: 'Essential Eight (ACSC, November 2023)',
        control: 'Patch applications / Patch operating systems',
        title: 'Change evidence for patching',
        evidence:
          'Where patches were deployed as Cabinet change requests, their approval and outcome records.',
        files: HISTORY_FILES,
        limits:
          'Cabinet does not scan patch levels or measure patch timeliness; use the RMM/patch tool reports for the maturity level itself.',
      },
      {
        framework: 'Essential Eight (ACSC, November 2023)',
        control: 'Application control',
        title: 'Change evidence for allow-list changes',
        evidence:
          'Where allow-list or rule-set changes were raised in Cabinet, their approval and outcome records.',
        files: HISTORY_FILES,
        limits:
          'Cabinet does not enforce or inspect application control; it only evidences changes made through it.',
      },
      {
        framework: 'PCI DSS v4.0',
        control: '6.5.1',
        title: 'Changes to system components are made according to established procedures',
        evidence:
          'Each change with its reason and description, security impact assessment (risk and signals), documented approval by authorised parties, and its outcome including failures and rollbacks.',
        files: [...HISTORY_FILES, 'entries.ndjson'],
        limits:
          'Testing evidence for the changed software itself lives in the client’s development tooling, not in Cabinet.',
      },
      {
        framework: 'PCI DSS v4.0',
        control: '6.5.2',
        title: 'Post-change confirmation of applicable requirements',
        evidence:
          'Close notes and post-implementation reviews recorded on completion of each significant change.',
        files: HISTORY_FILES,
      },
    ],
  };
}

/** The control map as a page that opens offline: no scripts, no remote assets. */
export function controlMapHtml(map: ControlMap): string {
  const rows = map.controls
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.framework)}</td><td>${escapeHtml(c.control)}</td><td>${escapeHtml(c.title)}</td>` +
        `<td>${escapeHtml(c.evidence)}${c.limits ? `<p class="limits">Limits: ${escapeHtml(c.limits)}</p>` : ''}</td>` +
        `<td>${c.files.map((f) => `<code>${escapeHtml(f)}</code>`).join('<br>')}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Control map</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.4em;vertical-align:top;text-align:left}.limits{color:#733}</style>
</head><body>
<h1>Control map</h1>
<p>Which files in this evidence bundle support each control. Open <a href="../history/index.html">the change history</a>.</p>
<table><thead><tr><th>Framework</th><th>Control</th><th>Title</th><th>Evidence</th><th>Files</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
