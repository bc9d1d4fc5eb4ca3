import { DateTime } from 'luxon';
import type { StepRule } from '../../../domain/approval/approval-policy';
import type { ApprovalState, StepState, Vote } from '../../../domain/approval/approval.policy';
import type { ChangeRequest } from '../../../domain/change-request/change-request';
import { samePerson, type Person } from '../../../domain/shared/person';
import { CLASS_LABELS, IMPACT_LABELS, RISK_LABELS, SENSITIVITY_LABELS } from './labels';

/** A line of a card with the container style that tells its weight at a glance. */
export interface Notice {
  readonly text: string;
  readonly style: 'default' | 'good' | 'warning' | 'attention' | 'accent';
}

/**
 * An instant as the client reads it: in the client's zone when it is a valid IANA zone, else in
 * UTC, and always labelled with the zone so nobody guesses.
 */
export function formatInstant(iso: string, timeZone?: string): string {
  return inZone(iso, timeZone).toFormat("ccc d LLL yyyy, HH:mm '('z')'");
}

/** A window as "Tue 24 Nov 2026, 18:00–20:00 (Europe/London)", or with both dates when it spans days. */
export function formatWindow(window: { start: string; end: string }, timeZone?: string): string {
  const start = inZone(window.start, timeZone);
  const end = inZone(window.end, timeZone);
  const sameDay = start.hasSame(end, 'day');
  return `${start.toFormat('ccc d LLL yyyy, HH:mm')}–${end.toFormat(sameDay ? 'HH:mm' : 'ccc d LLL yyyy, HH:mm')} (${start.zoneName ?? 'UTC'})`;
}

function inZone(iso: string, timeZone?: string): DateTime {
  const utc = DateTime.fromISO(iso, { zone: 'utc' });
  const zoned = timeZone ? utc.setZone(timeZone) : utc;
  return zoned.isValid ? zoned : utc;
}

/** How a step's rule reads on a card: "any one of 2", "all of 3", "2 of 3". */
export function ruleText(rule: StepRule, seats: number): string {
  switch (rule.kind) {
    case 'any_of':
      return seats === 1 ? 'one approver' : `any one of ${seats}`;
    case 'all_of':
      return seats === 1 ? 'one approver' : `all ${seats}`;
    case 'quorum':
      return `${rule.required} of ${seats}`;
  }
}

/** The assessment as card facts: class, risk (and Cabinet's suggestion when overridden), impact, window, scope. */
export function assessmentFacts(
  request: ChangeRequest,
  timeZone?: string,
): { title: string; value: string }[] {
  const facts = [{ title: 'Class', value: CLASS_LABELS[request.changeClass] }];
  const a = request.assessment;
  if (!a) return facts;
  facts.push({
    title: 'Risk',
    value: a.riskOverridden
      ? `${RISK_LABELS[a.risk]} (set by ${a.by.name}; Cabinet suggested ${RISK_LABELS[a.suggestedRisk].toLowerCase()})`
      : RISK_LABELS[a.risk],
  });
  facts.push({ title: 'Impact', value: IMPACT_LABELS[a.impact] });
  facts.push({
    title: 'Window',
    value: a.requestedWindow ? formatWindow(a.requestedWindow, timeZone) : 'Not scheduled',
  });
  const services = a.affectedServices.join(', ');
  facts.push({
    title: 'Affected',
    value: `${a.affectedUsers} ${a.affectedUsers === 1 ? 'user' : 'users'}${services ? `; ${services}` : ''}`,
  });
  const sensitive = [
    ...a.sensitivity.map((f) => SENSITIVITY_LABELS[f]),
    ...(a.sensitivityOther ? [a.sensitivityOther] : []),
  ];
  if (sensitive.length > 0) facts.push({ title: 'Sensitive', value: sensitive.join(', ') });
  if (a.dependencies.length > 0)
    facts.push({ title: 'Depends on', value: a.dependencies.join(', ') });
  return facts;
}

/** One line per approval step: its name, rule, and the votes so far. */
export function stepLines(round: ApprovalState | undefined): { heading: string; votes: string }[] {
  if (!round) return [];
  return round.steps.map((step, i) => ({
    heading: `${i + 1}. ${step.name} — ${ruleText(step.rule, step.approvers.length)} must approve: ${step.approvers.map((p) => p.name).join(', ')} · ${STEP_STATUS[step.status]}`,
    votes: step.votes.length > 0 ? step.votes.map(voteText).join(' · ') : 'No votes yet.',
  }));
}

const STEP_STATUS: { readonly [S in StepState['status']]: string } = {
  waiting: 'waiting for the step before',
  open: 'open now',
  approved: 'approved',
  denied: 'denied',
};

function voteText(vote: Vote): string {
  const who = samePerson(vote.by, vote.seat)
    ? vote.by.name
    : `${vote.by.name} (for ${vote.seat.name})`;
  return `${who} ${vote.outcome}${vote.reason ? `: ${vote.reason}` : ''}`;
}

/** The open step `viewer` holds a seat in and has not voted on yet, with its position in the round. */
export function viewerStep(
  round: ApprovalState | undefined,
  viewer: Person,
): { step: StepState; position: number; of: number } | undefined {
  if (!round) return undefined;
  const index = round.steps.findIndex((s) => s.status === 'open');
  const step = round.steps[index];
  if (!step || !step.approvers.some((p) => samePerson(p, viewer))) return undefined;
  return { step, position: index + 1, of: round.steps.length };
}

/** The class-specific lines every card carries: pre-approved, emergency, over quota. */
export function classNotices(request: ChangeRequest): Notice[] {
  const notices: Notice[] = [];
  const mode = request.approvalPlan?.mode;
  if (mode === 'pre_approved' || (request.changeClass === 'standard' && request.templateId))
    notices.push({
      text: `Pre-approved under standard template ${request.approvalPlan?.templateId ?? request.templateId ?? ''}: the client approved the template, so this change needs no approval of its own.`,
      style: 'good',
    });
  if (request.changeClass === 'emergency')
    notices.push({
      text: 'Emergency — approved by an MSP lead; retrospective client approval follows.',
      style: 'attention',
    });
  if (request.overEmergencyQuota)
    notices.push({ text: "Over this month's emergency quota.", style: 'warning' });
  return notices;
}

/** Questions asked and answered so far, newest last, and the open one. */
export function questionLines(request: ChangeRequest): { text: string }[] {
  const lines = (request.clarifications ?? []).map((q) => ({
    text: `${q.askedBy.name} asked: ${q.question} — ${q.answeredBy.name} answered: ${q.answer}`,
  }));
  if (request.clarification)
    lines.push({
      text: `${request.clarification.askedBy.name} asked: ${request.clarification.question} — waiting for an answer.`,
    });
  return lines;
}
