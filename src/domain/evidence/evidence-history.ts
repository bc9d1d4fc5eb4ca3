import type { AuditEntry } from '../audit/audit-chain';
import type { JsonObject, JsonValue } from '../shared/json';
import { escapeHtml } from './control-map';

/** Shown wherever personal data was sealed with a client key that has since been destroyed. */
export const ERASED = '[erased]';

/** A person as the history shows them: the identity the chain records, and a name where known. */
export interface HistoryPerson {
  readonly tid: string;
  readonly oid: string;
  readonly name?: string;
}

/** One audit entry of a request, readable: its clear payload and its decrypted personal data. */
export interface HistoryEvent {
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly actor: HistoryPerson;
  readonly payload: JsonObject;
  /** Decrypted at export; `ERASED` once the client's key is destroyed. */
  readonly personal?: JsonObject | typeof ERASED;
}

/** An approval decision with what the approver saw (DESIGN.md §5 "what you saw is what you approved"). */
export interface HistoryDecision {
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly approver: HistoryPerson;
  readonly step: JsonValue;
  readonly outcome: JsonValue;
  readonly approvalVersion: JsonValue;
  readonly cardHash: JsonValue;
  readonly reason?: JsonValue;
}

export interface HistoryNote {
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly by: HistoryPerson;
  readonly outcome?: JsonValue;
  readonly text: JsonValue;
}

export interface RequestHistory {
  readonly requestId: string;
  readonly number?: number;
  readonly title: JsonValue;
  readonly changeType: JsonValue;
  readonly changeClass: JsonValue;
  readonly requester: JsonValue;
  /** The status after the last event in the bundle. */
  readonly status: JsonValue;
  readonly decisions: readonly HistoryDecision[];
  readonly closeNotes: readonly HistoryNote[];
  readonly reviews: readonly HistoryNote[];
  readonly rollbacks: readonly HistoryNote[];
  readonly events: readonly HistoryEvent[];
}

export interface EvidenceHistory {
  readonly format: 'cabinet-history/v1';
  readonly tenantId: string;
  readonly range: { readonly from: string; readonly to: string };
  readonly requests: readonly RequestHistory[];
}

/** An entry of the bundle with its personal data already opened (or known erased). */
export interface OpenedEntry {
  readonly entry: AuditEntry;
  readonly personal?: JsonObject | typeof ERASED;
}

export interface BuildHistoryOptions {
  readonly tenantId: string;
  readonly range: { readonly from: string; readonly to: string };
  /** Entries at or after this instant are "activity in the range". */
  readonly fromTs: string;
  /** Display names by `tid/oid`, from records that never change once written (votes, requesters). */
  readonly names: ReadonlyMap<string, string>;
  /** Request numbers by id. */
  readonly numbers: ReadonlyMap<string, number>;
}

const DECISION_TYPES = new Set([
  'approval.vote',
  'approval.granted',
  'approval.denied',
  'approval.retrospective_decided',
]);

/**
 * The readable change history: every request with an entry in the range, with all its entries in
 * the bundle (so a change approved before the range and closed in it shows its approval).
 * @remarks Built from the bundle's own entries only, so it cannot disagree with what the verifier
 * checks, and entries appended after the range never change it.
 */
export function buildHistory(
  opened: readonly OpenedEntry[],
  options: BuildHistoryOptions,
): EvidenceHistory {
  const active = new Set<string>();
  for (const { entry } of opened)
    if (entry.requestId !== null && entry.ts >= options.fromTs) active.add(entry.requestId);
  const byRequest = new Map<string, HistoryEvent[]>();
  for (const { entry, personal } of opened) {
    if (entry.requestId === null || !active.has(entry.requestId)) continue;
    const clear = Object.fromEntries(
      Object.entries(entry.payload).filter(([key]) => key !== 'personal'),
    );
    const event: HistoryEvent = {
      seq: entry.seq,
      ts: entry.ts,
      type: entry.type,
      actor: person(entry.actor, options.names),
      payload: clear,
      ...(personal !== undefined ? { personal } : {}),
    };
    const list = byRequest.get(entry.requestId) ?? [];
    list.push(event);
    byRequest.set(entry.requestId, list);
  }
  const requests = [...byRequest].map(([requestId, events]) =>
    requestHistory(requestId, events, options),
  );
  return { format: 'cabinet-history/v1', tenantId: options.tenantId, range: options.range, requests };
}

function requestHistory(
  requestId: string,
  events: readonly HistoryEvent[],
  options: BuildHistoryOptions,
): RequestHistory {
  const submitted = events.find((e) => e.type === 'request.submitted');
  const submittedPersonal = opened(submitted?.personal);
  const field = (obj: JsonObject | undefined, key: string): JsonValue =>
    obj === undefined ? null : (obj[key] ?? null);
  const status = [...events].reverse().find((e) => typeof e.payload['status'] === 'string');
  /** `key` absent: the whole personal record (a review has several free-text fields). */
  const note = (e: HistoryEvent, key?: string): HistoryNote => ({
    seq: e.seq,
    ts: e.ts,
    type: e.type,
    by: e.actor,
    ...(e.payload['outcome'] !== undefined ? { outcome: e.payload['outcome'] } : {}),
    text:
      e.personal === ERASED
        ? ERASED
        : key === undefined
          ? (e.personal ?? null)
          : field(e.personal, key),
  });
  const number = options.numbers.get(requestId);
  return {
    requestId,
    ...(number !== undefined ? { number } : {}),
    title: submitted?.personal === ERASED ? ERASED : field(submittedPersonal, 'title'),
    changeType: field(submitted?.payload, 'changeType'),
    changeClass: field(submitted?.payload, 'changeClass'),
    requester: submitted?.personal === ERASED ? ERASED : field(submittedPersonal, 'requester'),
    status: status?.payload['status'] ?? null,
    decisions: events
      .filter((e) => DECISION_TYPES.has(e.type))
      .map((e) => ({
        seq: e.seq,
        ts: e.ts,
        type: e.type,
        approver: e.actor,
        step: field(e.payload, 'step'),
        outcome: field(e.payload, 'outcome'),
        approvalVersion: field(e.payload, 'approvalVersion'),
        cardHash: field(e.payload, 'cardHash'),
        ...(e.personal === ERASED
          ? { reason: ERASED }
          : e.personal?.['reason'] !== undefined
            ? { reason: e.personal['reason'] }
            : {}),
      })),
    closeNotes: events.filter((e) => e.type === 'request.closed').map((e) => note(e, 'notes')),
    reviews: events.filter((e) => e.type === 'review.filed').map((e) => note(e)),
    rollbacks: events
      .filter((e) => e.type === 'request.rolled_back')
      .map((e) => note(e, 'notes')),
    events,
  };
}

function opened(personal: JsonObject | typeof ERASED | undefined): JsonObject | undefined {
  return personal === ERASED ? undefined : personal;
}

function person(actor: { tid: string; oid: string }, names: ReadonlyMap<string, string>) {
  const name = names.get(`${actor.tid}/${actor.oid}`);
  return { tid: actor.tid, oid: actor.oid, ...(name !== undefined ? { name } : {}) };
}

/** The history as one page that opens offline: no scripts, no remote assets. */
export function historyHtml(history: EvidenceHistory): string {
  const text = (v: JsonValue | undefined): string =>
    v === undefined || v === null ? '' : escapeHtml(typeof v === 'string' ? v : JSON.stringify(v));
  const who = (p: HistoryPerson) =>
    `${p.name !== undefined ? `${escapeHtml(p.name)} ` : ''}<code>${escapeHtml(p.oid)}</code>`;
  const sections = history.requests.map((r) => {
    const decisions = r.decisions
      .map(
        (d) =>
          `<tr><td>${d.seq}</td><td>${escapeHtml(d.ts)}</td><td>${who(d.approver)}</td><td>${text(d.step)}</td>` +
          `<td>${text(d.outcome)}</td><td>${text(d.approvalVersion)}</td><td><code>${text(d.cardHash)}</code></td><td>${text(d.reason)}</td></tr>`,
      )
      .join('\n');
    const notes = (title: string, list: readonly HistoryNote[]) =>
      list.length === 0
        ? ''
        : `<h3>${title}</h3><ul>${list
            .map(
              (n) =>
                `<li>#${n.seq} ${escapeHtml(n.ts)} ${who(n.by)}${n.outcome !== undefined ? ` (${text(n.outcome)})` : ''}: ${text(n.text)}</li>`,
            )
            .join('')}</ul>`;
    const events = r.events
      .map(
        (e) =>
          `<tr><td>${e.seq}</td><td>${escapeHtml(e.ts)}</td><td>${escapeHtml(e.type)}</td><td>${who(e.actor)}</td>` +
          `<td><code>${text(e.payload)}</code></td><td>${text(e.personal)}</td></tr>`,
      )
      .join('\n');
    return `<section id="r-${escapeHtml(r.requestId)}">
<h2>${r.number !== undefined ? `#${r.number} ` : ''}${text(r.title)}</h2>
<p>Type ${text(r.changeType)}, class ${text(r.changeClass)}, requested by ${text(r.requester)}, status ${text(r.status)}. Id <code>${escapeHtml(r.requestId)}</code></p>
${decisions ? `<h3>Approvals and decisions</h3><table><thead><tr><th>Entry</th><th>When (UTC)</th><th>Approver</th><th>Step</th><th>Outcome</th><th>Version</th><th>Card hash seen</th><th>Reason</th></tr></thead><tbody>${decisions}</tbody></table>` : ''}
${notes('Close notes', r.closeNotes)}${notes('Reviews', r.reviews)}${notes('Rollbacks', r.rollbacks)}
<details><summary>All ${r.events.length} entries</summary><table><thead><tr><th>Entry</th><th>When (UTC)</th><th>Type</th><th>By</th><th>Payload</th><th>Personal data</th></tr></thead><tbody>${events}</tbody></table></details>
</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Change history ${escapeHtml(history.range.from)} to ${escapeHtml(history.range.to)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;padding:.3em;vertical-align:top;text-align:left}code{font-size:.85em;word-break:break-all}</style>
</head><body>
<h1>Change history</h1>
<p>Client tenant <code>${escapeHtml(history.tenantId)}</code>, ${escapeHtml(history.range.from)} to ${escapeHtml(history.range.to)} (UTC): ${history.requests.length} change request(s) with activity in the range. Each row names the audit entry (<code>entries.ndjson</code>, by seq) it comes from. See also <a href="../controls/control-map.html">the control map</a>.</p>
${sections.join('\n') || '<p>No change requests had activity in this range.</p>'}
</body></html>
`;
}
