import { DateTime } from 'luxon';
import type { ChangeClass } from '../change-request/change-class';
import type { Person } from '../shared/person';
import { samePerson } from '../shared/person';
import { NOTE_MAX, type ChangeType } from '../change-request/change-request.payloads';
import type { DomainError } from '../shared/errors';
import type { TenantId } from '../shared/ids';
import { err, ok, type Result } from '../shared/result';
import {
  compareRisk,
  RESERVED_STEP_IDS,
  type ApprovalTimingSettings,
  type ClientApprovalPolicy,
  type PolicyStep,
  type RiskLevel,
  type StepRule,
  type StepSide,
} from './approval-policy';
import { ApprovalErrors as E } from './approval.errors';
import { delegationFor, instantMillis, isInForce, type Delegation } from './delegation.policy';

/** What the planner needs to know about one version of a request. */
export interface RequestFacts {
  readonly version: number;
  readonly clientTenantId: TenantId;
  readonly mspTenantId: TenantId;
  readonly type: ChangeType;
  readonly changeClass: ChangeClass;
  readonly risk: RiskLevel;
  /** Sensitive (executive mailbox, admin roles, finance data): risk floor high plus an extra approver. */
  readonly sensitive: boolean;
  readonly requester: Person;
  readonly onBehalfOf?: Person;
  /** Set when the request matches a standard-change template that is active for this client. */
  readonly activeTemplateId?: string;
}

/** One step of a plan, with its people resolved for this request. */
export interface PlannedStep {
  readonly id: string;
  readonly name: string;
  readonly side: StepSide;
  readonly rule: StepRule;
  /** The seats: designated people who may decide, the requester and on-behalf-of already removed. */
  readonly approvers: readonly Person[];
  /** True when nobody who approved an earlier step may approve this one (a second pair of eyes). */
  readonly independent: boolean;
}

/**
 * The approval a request version needs.
 * @remarks `pre_approved`: a standard change under an active template, approved with no step.
 * `emergency`: one MSP lead approves; `notify` are the client's approvers to tell at once;
 * `retrospective` is the client's approval due after implementation (open it with `openRetrospective`).
 */
export interface ApprovalPlan {
  readonly mode: 'per_change' | 'pre_approved' | 'emergency';
  readonly version: number;
  readonly clientTenantId: TenantId;
  readonly mspTenantId: TenantId;
  /** The risk the steps were chosen by: the request's risk, raised to high when sensitive. */
  readonly risk: RiskLevel;
  readonly requester: Person;
  readonly onBehalfOf?: Person;
  readonly leads: readonly Person[];
  readonly steps: readonly PlannedStep[];
  readonly templateId?: string;
  readonly notify: readonly Person[];
  readonly retrospective?: PlannedStep;
}

/**
 * Works out the concrete approval steps for one request version from the client's policy.
 * @remarks Refuses, rather than produce a step that can never settle: a step with nobody eligible,
 * or a quorum larger than its eligible voters. The requester and on-behalf-of are never seated.
 */
export function planApprovals(
  policy: ClientApprovalPolicy,
  facts: RequestFacts,
  leads: readonly Person[],
): Result<ApprovalPlan, DomainError> {
  const parties = partiesOf(facts);
  const risk =
    facts.sensitive && compareRisk(facts.risk, 'high') < 0 ? ('high' as const) : facts.risk;
  const mspLeads = leads.filter((p) => p.tid === facts.mspTenantId);
  const base = {
    version: facts.version,
    clientTenantId: facts.clientTenantId,
    mspTenantId: facts.mspTenantId,
    risk,
    requester: facts.requester,
    ...(facts.onBehalfOf ? { onBehalfOf: facts.onBehalfOf } : {}),
    leads: mspLeads,
  };
  const resolve = (step: PolicyStep, independent = false) =>
    resolveStep(step, facts, parties, independent);

  if (facts.changeClass === 'emergency') {
    const lead = resolve({
      id: RESERVED_STEP_IDS.emergencyLead,
      name: 'MSP lead (emergency)',
      side: 'msp',
      approvers: mspLeads,
      rule: { kind: 'any_of' },
    });
    if (!lead.ok) return lead;
    const clientApprovers = uniquePeople(
      policy.steps.filter((s) => s.side === 'client').flatMap((s) => s.approvers),
    );
    const retrospective = resolve({
      id: RESERVED_STEP_IDS.retrospective,
      name: 'Retrospective client approval',
      side: 'client',
      approvers: clientApprovers,
      rule: { kind: 'any_of' },
    });
    if (!retrospective.ok) return retrospective;
    return ok({
      ...base,
      mode: 'emergency',
      steps: [lead.value],
      notify: clientApprovers.filter((p) => p.tid === facts.clientTenantId),
      retrospective: retrospective.value,
    });
  }

  const sensitiveStep = (): PolicyStep => ({
    id: RESERVED_STEP_IDS.sensitive,
    name: 'Sensitive change: second approver',
    side: policy.sensitiveApprovers.length > 0 ? 'client' : 'msp',
    approvers: policy.sensitiveApprovers.length > 0 ? policy.sensitiveApprovers : mspLeads,
    rule: { kind: 'any_of' },
  });

  const preApproved = facts.changeClass === 'standard' && facts.activeTemplateId !== undefined;
  const chosen: { step: PolicyStep; independent: boolean }[] = [];
  if (!preApproved) {
    if (policy.mspGate)
      chosen.push({
        step: {
          id: RESERVED_STEP_IDS.mspGate,
          name: 'MSP approval',
          side: 'msp',
          approvers: mspLeads,
          rule: { kind: 'any_of' },
        },
        independent: false,
      });
    for (const step of policy.steps)
      if (applies(step, facts, risk)) chosen.push({ step, independent: false });
  }
  // A template pre-approves the change, never the extra eyes a sensitive one needs.
  if (facts.sensitive) chosen.push({ step: sensitiveStep(), independent: true });

  const steps: PlannedStep[] = [];
  for (const { step, independent } of chosen) {
    const planned = resolve(step, independent);
    if (!planned.ok) return planned;
    steps.push(planned.value);
  }
  if (steps.length === 0 && !preApproved) return err(E.noSteps());
  return ok({
    ...base,
    mode: preApproved && steps.length === 0 ? 'pre_approved' : 'per_change',
    steps,
    ...(preApproved ? { templateId: facts.activeTemplateId } : {}),
    notify: [],
  });
}

function applies(step: PolicyStep, facts: RequestFacts, risk: RiskLevel): boolean {
  const when = step.when;
  if (!when) return true;
  if (when.minRisk !== undefined && compareRisk(risk, when.minRisk) < 0) return false;
  if (when.classes !== undefined && !when.classes.includes(facts.changeClass)) return false;
  if (when.types !== undefined && !when.types.includes(facts.type)) return false;
  return true;
}

function resolveStep(
  step: PolicyStep,
  facts: RequestFacts,
  parties: readonly Person[],
  independent: boolean,
): Result<PlannedStep, DomainError> {
  const approvers = uniquePeople(step.approvers).filter(
    (p) =>
      onSide(step.side, p, facts.clientTenantId, facts.mspTenantId) &&
      !parties.some((x) => samePerson(x, p)),
  );
  if (approvers.length === 0) return err(E.noEligibleApprovers(step.name));
  if (step.rule.kind === 'quorum' && step.rule.required > approvers.length)
    return err(E.quorumUnreachable(step.name, step.rule.required, approvers.length));
  return ok({
    id: step.id,
    name: step.name,
    side: step.side,
    rule: step.rule,
    approvers,
    independent,
  });
}

function onSide(
  side: StepSide,
  p: Person,
  clientTenantId: TenantId,
  mspTenantId: TenantId,
): boolean {
  switch (side) {
    case 'client':
      return p.tid === clientTenantId;
    case 'msp':
      return p.tid === mspTenantId;
    case 'cab':
      return p.tid === clientTenantId || p.tid === mspTenantId;
  }
}

function partiesOf(x: { readonly requester: Person; readonly onBehalfOf?: Person }): Person[] {
  return x.onBehalfOf ? [x.requester, x.onBehalfOf] : [x.requester];
}

function uniquePeople(people: readonly Person[]): Person[] {
  const out: Person[] = [];
  for (const p of people) if (!out.some((q) => samePerson(q, p))) out.push(p);
  return out;
}

/** One recorded vote. `seat` is the designated approver; `by` is who decided (a delegate, or the same). */
export interface Vote {
  readonly seat: Person;
  readonly by: Person;
  readonly delegationId?: string;
  readonly outcome: 'approved' | 'denied';
  readonly reason?: string;
  readonly at: string;
  readonly version: number;
  readonly cardHash?: string;
}

export type StepStatus = 'waiting' | 'open' | 'approved' | 'denied';

export interface StepState extends PlannedStep {
  readonly status: StepStatus;
  readonly openedAt?: string;
  readonly settledAt?: string;
  readonly votes: readonly Vote[];
}

/** Where a request version's approval stands; `recordDecision` is the only way it moves. */
export interface ApprovalState {
  readonly version: number;
  readonly clientTenantId: TenantId;
  readonly mspTenantId: TenantId;
  readonly risk: RiskLevel;
  readonly requester: Person;
  readonly onBehalfOf?: Person;
  readonly leads: readonly Person[];
  readonly status: 'pending' | 'approved' | 'denied';
  readonly steps: readonly StepState[];
  readonly settledAt?: string;
}

/** Starts the approval of a plan at `now`: the first step opens; a plan with no step is approved. */
export function openApprovals(plan: ApprovalPlan, now: string): ApprovalState {
  return openSteps(plan, plan.steps, plan.version, now);
}

/**
 * Starts the client's retrospective approval of an implemented emergency change (issue 4 §4),
 * bound to the version current at that point. Undefined for plans that have none.
 */
export function openRetrospective(
  plan: ApprovalPlan,
  version: number,
  now: string,
): ApprovalState | undefined {
  return plan.retrospective ? openSteps(plan, [plan.retrospective], version, now) : undefined;
}

function openSteps(
  plan: ApprovalPlan,
  steps: readonly PlannedStep[],
  version: number,
  now: string,
): ApprovalState {
  return {
    version,
    clientTenantId: plan.clientTenantId,
    mspTenantId: plan.mspTenantId,
    risk: plan.risk,
    requester: plan.requester,
    ...(plan.onBehalfOf ? { onBehalfOf: plan.onBehalfOf } : {}),
    leads: plan.leads,
    status: steps.length === 0 ? 'approved' : 'pending',
    steps: steps.map((s, i) =>
      i === 0
        ? { ...s, status: 'open', openedAt: now, votes: [] }
        : { ...s, status: 'waiting', votes: [] },
    ),
    ...(steps.length === 0 ? { settledAt: now } : {}),
  };
}

/** A decision as it arrives from an authenticated card action or the tab. */
export interface ApprovalDecisionInput {
  readonly by: Person;
  readonly step: string;
  /** The request version the decider saw. */
  readonly version: number;
  readonly outcome: 'approved' | 'denied';
  readonly reason?: string;
  readonly at: string;
  /** The designated approver whose seat a delegate fills; found from `delegations` when absent. */
  readonly delegatedFrom?: Person;
  readonly cardHash?: string;
}

/** What a recorded decision caused, in order: past tense, for audit and notifications. */
export type ApprovalEvent =
  | {
      readonly type: 'VoteCounted';
      readonly step: string;
      readonly by: Person;
      readonly for?: Person;
      readonly outcome: 'approved' | 'denied';
    }
  | { readonly type: 'DuplicateVoteIgnored'; readonly step: string; readonly by: Person }
  | { readonly type: 'StepApproved'; readonly step: string }
  | { readonly type: 'StepDenied'; readonly step: string }
  | { readonly type: 'StepOpened'; readonly step: string; readonly approvers: readonly Person[] }
  | { readonly type: 'RequestApproved' }
  | { readonly type: 'RequestDenied'; readonly step: string; readonly reason: string };

export interface DecisionRecorded {
  readonly next: ApprovalState;
  readonly events: readonly ApprovalEvent[];
}

/**
 * Records one approver's decision on one step.
 * @remarks Who may decide is checked before anything about the state, so nobody learns where a
 * round stands without a part in it. The same vote twice is not an error and changes nothing; a
 * different vote from a seat that has voted is refused. A refused decision changes nothing.
 */
export function recordDecision(
  state: ApprovalState,
  decision: ApprovalDecisionInput,
  delegations: readonly Delegation[],
  now: string,
): Result<DecisionRecorded, DomainError> {
  const index = state.steps.findIndex((s) => s.id === decision.step);
  const step = state.steps[index];
  if (!step) return err(E.unknownStep(decision.step));
  const parties = partiesOf(state);
  const isParty = (p: Person) => parties.some((x) => samePerson(x, p));
  if (isParty(decision.by) || (decision.delegatedFrom && isParty(decision.delegatedFrom)))
    return err(E.selfApproval());

  const seated = seatFor(state, step, decision, delegations, now);
  if (!seated.ok) return seated;
  const { seat, delegation } = seated.value;

  if (decision.version !== state.version)
    return err(E.staleVersion(decision.version, state.version));

  const previous = step.votes.find((v) => samePerson(v.seat, seat));
  if (previous) {
    if (samePerson(previous.by, decision.by) && previous.outcome === decision.outcome)
      return ok({
        next: state,
        events: [{ type: 'DuplicateVoteIgnored', step: step.id, by: decision.by }],
      });
    return err(E.alreadyVoted(step.name, previous.outcome));
  }
  if (state.status !== 'pending') return err(E.requestSettled(state.status));
  if (step.status === 'approved' || step.status === 'denied')
    return err(E.stepSettled(step.name, step.status));
  if (step.status === 'waiting') {
    const open = state.steps.find((s) => s.status === 'open');
    return err(E.stepNotOpen(step.name, open?.name ?? 'the previous step'));
  }
  if (step.votes.some((v) => samePerson(v.by, decision.by)))
    return err(E.oneSeatPerPerson(step.name));
  if (
    step.independent &&
    decision.outcome === 'approved' &&
    state.steps
      .slice(0, index)
      .some((s) => s.votes.some((v) => v.outcome === 'approved' && samePerson(v.by, decision.by)))
  )
    return err(E.needsSecondPerson(step.name));

  let reason: string | undefined;
  if (decision.outcome === 'denied') {
    reason = (decision.reason ?? '').trim();
    if (reason.length === 0) return err(E.reasonRequired());
    if (reason.length > NOTE_MAX) return err(E.reasonTooLong(NOTE_MAX));
  } else if (decision.reason !== undefined && decision.reason.trim().length > 0) {
    reason = decision.reason.trim();
    if (reason.length > NOTE_MAX) return err(E.reasonTooLong(NOTE_MAX));
  }

  const vote: Vote = {
    seat,
    by: decision.by,
    ...(delegation ? { delegationId: delegation.id } : {}),
    outcome: decision.outcome,
    ...(reason !== undefined ? { reason } : {}),
    at: decision.at,
    version: decision.version,
    ...(decision.cardHash ? { cardHash: decision.cardHash } : {}),
  };
  const events: ApprovalEvent[] = [
    {
      type: 'VoteCounted',
      step: step.id,
      by: decision.by,
      ...(delegation ? { for: seat } : {}),
      outcome: decision.outcome,
    },
  ];
  const voted: StepState = { ...step, votes: [...step.votes, vote] };
  const outcome = settlement(voted);
  const steps = [...state.steps];
  if (outcome === undefined) {
    steps[index] = voted;
    return ok({ next: { ...state, steps }, events });
  }
  steps[index] = { ...voted, status: outcome, settledAt: now };
  if (outcome === 'denied') {
    events.push(
      { type: 'StepDenied', step: step.id },
      { type: 'RequestDenied', step: step.id, reason: denialReason(voted) },
    );
    return ok({ next: { ...state, steps, status: 'denied', settledAt: now }, events });
  }
  events.push({ type: 'StepApproved', step: step.id });
  const following = steps[index + 1];
  if (following) {
    steps[index + 1] = { ...following, status: 'open', openedAt: now };
    events.push({ type: 'StepOpened', step: following.id, approvers: following.approvers });
    return ok({ next: { ...state, steps }, events });
  }
  events.push({ type: 'RequestApproved' });
  return ok({ next: { ...state, steps, status: 'approved', settledAt: now }, events });
}

/** How a step's votes settle it under its rule, or undefined while it is still open. */
export function settlement(
  step: Pick<StepState, 'rule' | 'approvers' | 'votes'>,
): 'approved' | 'denied' | undefined {
  const approvals = step.votes.filter((v) => v.outcome === 'approved').length;
  const denials = step.votes.length - approvals;
  switch (step.rule.kind) {
    case 'any_of':
      return step.votes[0]?.outcome;
    case 'all_of':
      if (denials > 0) return 'denied';
      return approvals >= step.approvers.length ? 'approved' : undefined;
    case 'quorum':
      if (approvals >= step.rule.required) return 'approved';
      return step.approvers.length - denials < step.rule.required ? 'denied' : undefined;
  }
}

function denialReason(step: StepState): string {
  const reasons = step.votes.filter((v) => v.outcome === 'denied').map((v) => v.reason ?? '');
  return reasons.join('; ');
}

/**
 * The seat a decision fills: the decider's own, or the one a direct, valid delegation lets them fill.
 * @remarks Delegates must belong on the step's side too, so a client approver cannot hand the
 * client's approval to the MSP that raised the change.
 */
function seatFor(
  state: ApprovalState,
  step: StepState,
  decision: ApprovalDecisionInput,
  delegations: readonly Delegation[],
  now: string,
): Result<{ seat: Person; delegation?: Delegation }, DomainError> {
  const isSeat = (p: Person) => step.approvers.find((a) => samePerson(a, p));
  const ctx = {
    clientTenantId: state.clientTenantId,
    risk: state.risk,
    parties: partiesOf(state),
    now,
  };
  const delegateAllowed = onSideOfState(step.side, decision.by, state);
  // Naming yourself as the one you stand in for is just your own vote.
  if (decision.delegatedFrom && !samePerson(decision.delegatedFrom, decision.by)) {
    const seat = isSeat(decision.delegatedFrom);
    if (!seat || !delegateAllowed) return err(E.notAnApprover());
    const found = delegationFor(delegations, seat, decision.by, ctx);
    return found.ok ? ok({ seat, delegation: found.value }) : found;
  }
  const own = isSeat(decision.by);
  if (own) return ok({ seat: own });
  if (!delegateAllowed) return err(E.notAnApprover());
  // Not seated: a direct delegation from a seat may stand in. An earlier vote by this delegate
  // keeps its seat (so a repeated vote stays idempotent); otherwise the first free seat in order.
  const earlier = step.votes.find(
    (v) => samePerson(v.by, decision.by) && v.delegationId !== undefined,
  );
  if (earlier) return ok({ seat: earlier.seat });
  let firstRefusal: DomainError | undefined;
  for (const seat of step.approvers) {
    if (step.votes.some((v) => samePerson(v.seat, seat))) continue;
    const found = delegationFor(delegations, seat, decision.by, ctx);
    if (found.ok) return ok({ seat, delegation: found.value });
    if (found.error.code !== 'CR.NOT_AN_APPROVER') firstRefusal ??= found.error;
  }
  return err(firstRefusal ?? E.notAnApprover());
}

function onSideOfState(side: StepSide, p: Person, state: ApprovalState): boolean {
  return onSide(side, p, state.clientTenantId, state.mspTenantId);
}

/** Tell this approver their vote is awaited. `key` is stable, so an outbox can send it once. */
export interface DueReminder {
  readonly key: string;
  readonly step: string;
  readonly to: Person;
  /** Set when `to` is a delegate reminded for a seat's holder. */
  readonly for?: Person;
  readonly dueAt: string;
}

/** Tell the MSP leads a step has stalled, and on whom it waits. */
export interface DueEscalation {
  readonly key: string;
  readonly step: string;
  readonly to: readonly Person[];
  readonly waitingOn: readonly Person[];
  readonly dueAt: string;
}

export interface ReminderSchedule {
  readonly reminders: readonly DueReminder[];
  readonly escalations: readonly DueEscalation[];
  /** The next instant something falls due after `now`, for the sweeper; absent when nothing will. */
  readonly nextDueAt?: string;
}

export interface DueRemindersOptions {
  /** Delegations in force at `now` are reminded alongside the seat they cover. */
  readonly delegations?: readonly Delegation[];
}

/**
 * Which reminders and escalations are due at `now` for the open step: the undecided approvers
 * `remindAfterHours` after it opened, the MSP leads `escalateAfterHours` after it opened.
 * @remarks Deterministic: the same state and `now` give the same answer. Everything due is returned
 * every time; callers send each `key` once.
 */
export function dueReminders(
  state: ApprovalState,
  settings: ApprovalTimingSettings,
  now: string,
  options: DueRemindersOptions = {},
): ReminderSchedule {
  const step = state.steps.find((s) => s.status === 'open');
  if (state.status !== 'pending' || !step?.openedAt) return { reminders: [], escalations: [] };
  const opened = DateTime.fromISO(step.openedAt, { setZone: true });
  const at = instantMillis(now);
  if (!opened.isValid || at === undefined) throw new Error('openedAt and now must be ISO instants');
  const remindAt = opened.plus({ hours: settings.remindAfterHours });
  const escalateAt = opened.plus({ hours: settings.escalateAfterHours });
  const waitingOn = step.approvers.filter((a) => !step.votes.some((v) => samePerson(v.seat, a)));
  const keyBase = `${state.version}:${step.id}:${step.openedAt}`;
  const reminders: DueReminder[] = [];
  if (remindAt.toMillis() <= at) {
    const dueAt = remindAt.toUTC().toISO();
    for (const seat of waitingOn) {
      reminders.push({
        key: `${keyBase}:remind:${seat.tid}:${seat.oid}`,
        step: step.id,
        to: seat,
        dueAt,
      });
      for (const d of options.delegations ?? []) {
        if (
          samePerson(d.from, seat) &&
          d.clientTenantId === state.clientTenantId &&
          isInForce(d, now)
        )
          reminders.push({
            key: `${keyBase}:remind:${d.to.tid}:${d.to.oid}:for:${seat.oid}`,
            step: step.id,
            to: d.to,
            for: seat,
            dueAt,
          });
      }
    }
  }
  const escalations: DueEscalation[] =
    escalateAt.toMillis() <= at && waitingOn.length > 0
      ? [
          {
            key: `${keyBase}:escalate`,
            step: step.id,
            to: state.leads,
            waitingOn,
            dueAt: escalateAt.toUTC().toISO(),
          },
        ]
      : [];
  const upcoming = [remindAt, escalateAt].filter((t) => t.toMillis() > at);
  const next = upcoming.sort((a, b) => a.toMillis() - b.toMillis())[0];
  return { reminders, escalations, ...(next ? { nextDueAt: next.toUTC().toISO() } : {}) };
}
