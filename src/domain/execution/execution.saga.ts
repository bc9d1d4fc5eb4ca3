/**
 * The execution saga's rules (reliability reference §4.4), pure: {@link nextMove} reads a persisted
 * run and says what to do next; the `record*` reducers apply what happened and return the next
 * run with its audit events. The worker only does I/O between the two, so a crash at any point
 * leaves a run that the same rules resume.
 * @remarks Before the point of no return a refused step undoes every done step in exactly the
 * reverse order of completion, best effort: a compensation refused for good is left in place and
 * the others still run, and the run then ends `needs_manual` naming what could not be undone. From
 * the point of no return on, the run keeps going forward and ends `needs_manual` with what failed
 * and what was done. Throttling never counts as failure: the step waits and is retried, up to
 * {@link MAX_STEP_ATTEMPTS} sends.
 */

import { SYSTEM_OID, type AuditEvent, type AuditEventType } from '../audit/audit-event';
import type { Person } from '../shared/person';
import { NOTE_MAX } from '../change-request/change-request.payloads';
import type { JsonObject } from '../shared/json';
import { CREATED_USER, type CommandOutcome, type DirectoryFailure } from './directory';
import type { AccessChange, ExecutionPlan, PlanStep } from './execution-plan';
import {
  isFinal,
  type ChecklistProgress,
  type ExecutionRun,
  type StepProgress,
} from './execution-run';

/** Sends of one command (forward or compensation) before a throttled or unavailable service counts as a failure. */
export const MAX_STEP_ATTEMPTS = 5;
/** How long to wait when a throttled service did not say. */
export const DEFAULT_RETRY_AFTER_MS = 30_000;

/** The three ways a run ends. */
export type FinalStatus = 'completed' | 'compensated' | 'needs_manual';

/** What the worker does next with a run; computed from the stored run alone. */
export type SagaMove =
  /** Nothing left to do: the run is final. */
  | { readonly kind: 'none' }
  /** Read the tenant, build the plan and capture the prior state. */
  | { readonly kind: 'prepare' }
  /** A throttled service asked for a pause; come back at `until`. */
  | { readonly kind: 'sleep'; readonly until: string }
  /** Steps whose outcome was lost (a crash after sending): read back before sending anything. */
  | {
      readonly kind: 'verify';
      readonly phase: 'forward' | 'compensation';
      readonly steps: readonly PlanStep[];
    }
  /** Send these forward commands (one wave, independent of each other). */
  | { readonly kind: 'forward'; readonly steps: readonly PlanStep[] }
  /** Send this compensation (the latest-completed done step's; one at a time, in reverse). */
  | { readonly kind: 'compensate'; readonly steps: readonly PlanStep[] }
  /** A person has to tick checklist items first. */
  | { readonly kind: 'wait'; readonly reason: string; readonly items: readonly string[] }
  | { readonly kind: 'finish'; readonly status: FinalStatus; readonly reason?: string };

/** A run after a reducer, with what the audit chain should record about it. */
export interface SagaUpdate {
  readonly run: ExecutionRun;
  readonly audit: readonly AuditEvent[];
}

/** What the saga does next with `run` at `now` (ISO). */
export function nextMove(run: ExecutionRun, now: string): SagaMove {
  if (isFinal(run.status)) return { kind: 'none' };
  const plan = run.plan;
  if (!plan) return { kind: 'prepare' };
  if (run.waitUntil && now < run.waitUntil) return { kind: 'sleep', until: run.waitUntil };
  const started = plan.steps.filter((s) => progressOf(run, s.id).status === 'started');
  if (started.length > 0) return { kind: 'verify', phase: 'forward', steps: started };
  const undoing = plan.steps.filter((s) => progressOf(run, s.id).status === 'compensating');
  if (undoing.length > 0) return { kind: 'verify', phase: 'compensation', steps: undoing };
  return isUndoing(run) ? nextUndo(run, plan) : nextForward(run, plan);
}

/** A step at or after the point of no return has been sent: failures no longer undo anything. */
export function pastPointOfNoReturn(run: ExecutionRun): boolean {
  const plan = run.plan;
  if (!plan) return false;
  return plan.steps.some((s, i) => {
    const p = progressOf(run, s.id);
    return i >= plan.pointOfNoReturn && (p.status !== 'pending' || p.attempts > 0);
  });
}

/** The run is undoing its done steps: a step failed for good before the point of no return. */
export function isUndoing(run: ExecutionRun): boolean {
  return run.steps.some((s) => s.status === 'failed') && !pastPointOfNoReturn(run);
}

function nextForward(run: ExecutionRun, plan: ExecutionPlan): SagaMove {
  const pending = plan.steps.filter((s) => progressOf(run, s.id).status === 'pending');
  if (pending.length === 0) {
    const failed = plan.steps.filter((s) => progressOf(run, s.id).status === 'failed');
    if (failed.length > 0)
      return {
        kind: 'finish',
        status: 'needs_manual',
        reason:
          run.kind === 'rollback'
            ? rollbackStoppedReason(run, plan, failed)
            : stoppedReason(run, plan, failed),
      };
    const open = openItems(run, plan);
    if (open.length > 0)
      return {
        kind: 'wait',
        reason: `Waiting for the technician to tick: ${open.map((c) => c.title).join('; ')}.`,
        items: open.map((c) => c.id),
      };
    return { kind: 'finish', status: 'completed' };
  }
  const wave = Math.min(...pending.map((s) => s.wave));
  const inWave = pending.filter((s) => s.wave === wave);
  const gatesOf = (s: PlanStep) => openItems(run, plan).filter((c) => c.before === s.id);
  const ready = inWave.filter((s) => gatesOf(s).length === 0);
  if (ready.length > 0) return { kind: 'forward', steps: ready };
  const gates = [...new Map(inWave.flatMap(gatesOf).map((c) => [c.id, c])).values()];
  return {
    kind: 'wait',
    reason: `Waiting for the technician to tick: ${gates.map((c) => c.title).join('; ')} (needed before: ${inWave.map((s) => s.title).join('; ')}).`,
    items: gates.map((c) => c.id),
  };
}

function nextUndo(run: ExecutionRun, plan: ExecutionPlan): SagaMove {
  // Best effort: a compensation refused for good stays for the technician; the others still run,
  // so the tenant is left as close to its prior state as Cabinet can bring it.
  const todo = plan.steps
    .filter((s) => {
      const p = progressOf(run, s.id);
      return s.compensation && p.status === 'done' && !gaveUpUndoing(p);
    })
    .sort((a, b) => orderOf(run, b) - orderOf(run, a));
  const last = todo[0];
  // One at a time: a batch could half succeed and leave the undo out of order.
  if (last) return { kind: 'compensate', steps: [last] };
  const stuck = plan.steps.filter((s) => gaveUpUndoing(progressOf(run, s.id)));
  if (stuck.length > 0)
    return { kind: 'finish', status: 'needs_manual', reason: undoStuckReason(run, plan, stuck) };
  return { kind: 'finish', status: 'compensated', reason: compensatedReason(run, plan) };
}

/** Fresh progress for every step and checklist item of a plan. */
export function initialProgress(plan: ExecutionPlan): {
  readonly steps: StepProgress[];
  readonly checklist: ChecklistProgress[];
} {
  return {
    steps: plan.steps.map((s) => ({ id: s.id, status: 'pending', attempts: 0 })),
    checklist: plan.checklist.map((c) => ({ id: c.id, done: false })),
  };
}

/** The worker read the tenant and built the plan: the prior state is captured from here on. */
export function recordPlanned(
  run: ExecutionRun,
  plan: ExecutionPlan,
  digest: string,
  at: string,
): SagaUpdate {
  const { reason: _reason, waitUntil: _waitUntil, ...rest } = run;
  const next: ExecutionRun = {
    ...rest,
    plan,
    ...initialProgress(plan),
    status: 'running',
    updatedAt: at,
  };
  return {
    run: next,
    audit: [
      engineEvent(next, 'execution.planned', {
        payload: {
          digest,
          previewDigest: run.previewDigest ?? null,
          matchesPreview: run.previewDigest === undefined ? null : run.previewDigest === digest,
          steps: plan.steps.length,
          pointOfNoReturn: plan.pointOfNoReturn,
          checklist: plan.checklist.length,
        },
        personal: { subject: plan.subject.userPrincipalName, notes: [...plan.notes] },
      }),
    ],
  };
}

/** Written before the commands are sent, so a crash after sending is noticed and read back. */
export function recordStarted(
  run: ExecutionRun,
  stepIds: readonly string[],
  at: string,
): SagaUpdate {
  let next = resumed(run, 'running', at);
  const audit: AuditEvent[] = [];
  for (const id of stepIds) {
    const before = progressOf(next, id);
    next = patchStep(next, id, { status: 'started', attempts: before.attempts + 1, startedAt: at });
    const s = stepOf(next, id);
    audit.push(
      engineEvent(next, 'execution.step_started', {
        payload: {
          stepId: id,
          command: s.forward.kind,
          wave: s.wave,
          attempt: before.attempts + 1,
        },
        personal: { title: s.title },
      }),
    );
  }
  return { run: next, audit };
}

/** What the directory answered for one forward command. */
export function recordOutcome(
  run: ExecutionRun,
  stepId: string,
  outcome: CommandOutcome,
  at: string,
): SagaUpdate {
  const s = stepOf(run, stepId);
  if (outcome.ok) {
    const next = markDone(run, stepId, at, outcome.createdUserId);
    return {
      run: next,
      audit: succeededEvents(next, s, { requestId: outcome.requestId ?? null, verified: false }),
    };
  }
  const failure = outcome.failure;
  const attempts = progressOf(run, stepId).attempts;
  const retry = failure.retryable && attempts < MAX_STEP_ATTEMPTS;
  let next = patchStep(run, stepId, {
    status: retry ? 'pending' : 'failed',
    failure,
    ...(retry ? {} : { finishedAt: at }),
  });
  next = retry
    ? throttled(next, s, failure, at)
    : { ...next, status: isUndoing(next) ? 'compensating' : 'running' };
  return {
    run: next,
    audit: [
      engineEvent(next, 'execution.step_failed', {
        payload: {
          stepId,
          command: s.forward.kind,
          ...failurePayload(failure),
          attempt: attempts,
          willRetry: retry,
        },
        personal: { title: s.title, message: failure.message },
      }),
      ...(retry ? [pausedEvent(next, s, 'forward', failure)] : []),
    ],
  };
}

/**
 * A read-back of a step found `started` (forward) or `compensating` after a crash: if the effect
 * is there the step counts as done (or undone) without sending anything again.
 */
export function recordVerified(
  run: ExecutionRun,
  stepId: string,
  held: boolean,
  at: string,
  createdUserId?: string,
): SagaUpdate {
  const s = stepOf(run, stepId);
  const status = progressOf(run, stepId).status;
  if (status === 'started') {
    if (!held) return { run: patchStep(run, stepId, { status: 'pending' }), audit: [] };
    const next = markDone(run, stepId, at, createdUserId);
    return { run: next, audit: succeededEvents(next, s, { requestId: null, verified: true }) };
  }
  if (status === 'compensating') {
    if (!held) return { run: patchStep(run, stepId, { status: 'done' }), audit: [] };
    const next = markCompensated(run, stepId, at);
    return { run: next, audit: compensatedEvents(next, s, { requestId: null, verified: true }) };
  }
  return { run, audit: [] };
}

/** Written before compensations are sent. */
export function recordCompensating(
  run: ExecutionRun,
  stepIds: readonly string[],
  at: string,
): SagaUpdate {
  let next = resumed(run, 'compensating', at);
  const audit: AuditEvent[] = [];
  for (const id of stepIds) {
    const p = progressOf(next, id);
    next = patchStep(next, id, {
      status: 'compensating',
      compensationAttempts: (p.compensationAttempts ?? 0) + 1,
    });
    const s = stepOf(next, id);
    audit.push(
      engineEvent(next, 'execution.step_compensating', {
        payload: {
          stepId: id,
          command: s.compensation?.kind ?? null,
          attempt: (p.compensationAttempts ?? 0) + 1,
        },
        personal: { title: s.title },
      }),
    );
  }
  return { run: next, audit };
}

/** What the directory answered for one compensation. */
export function recordCompensation(
  run: ExecutionRun,
  stepId: string,
  outcome: CommandOutcome,
  at: string,
): SagaUpdate {
  const s = stepOf(run, stepId);
  if (outcome.ok) {
    const next = markCompensated(run, stepId, at);
    return {
      run: next,
      audit: compensatedEvents(next, s, { requestId: outcome.requestId ?? null, verified: false }),
    };
  }
  const failure = outcome.failure;
  const attempts = progressOf(run, stepId).compensationAttempts ?? 0;
  const retry = failure.retryable && attempts < MAX_STEP_ATTEMPTS;
  let next = patchStep(run, stepId, { status: 'done', compensationFailure: failure });
  if (retry) next = throttled(next, s, failure, at);
  return {
    run: next,
    audit: [
      engineEvent(next, 'execution.compensation_failed', {
        payload: {
          stepId,
          command: s.compensation?.kind ?? null,
          ...failurePayload(failure),
          attempt: attempts,
          willRetry: retry,
        },
        personal: { title: s.title, message: failure.message },
      }),
      ...(retry ? [pausedEvent(next, s, 'compensation', failure)] : []),
    ],
  };
}

/** The run pauses: for a checklist tick (no `until`) or a throttled service (`until`). */
export function recordWaiting(
  run: ExecutionRun,
  reason: string,
  at: string,
  until?: string,
): SagaUpdate {
  const { waitUntil: _waitUntil, ...rest } = run;
  const next: ExecutionRun = {
    ...rest,
    status: 'waiting',
    reason: bounded(reason),
    ...(until ? { waitUntil: until } : {}),
    updatedAt: at,
  };
  return {
    run: next,
    audit: [
      engineEvent(next, 'execution.waiting', {
        payload: { until: until ?? null },
        personal: { reason: next.reason ?? '' },
      }),
    ],
  };
}

/** The run ends in one of its three final states. */
export function recordFinished(
  run: ExecutionRun,
  status: FinalStatus,
  at: string,
  reason?: string,
): SagaUpdate {
  const { waitUntil: _waitUntil, lease: _lease, reason: _reason, ...rest } = run;
  const next: ExecutionRun = {
    ...rest,
    status,
    ...(reason ? { reason: bounded(reason) } : {}),
    updatedAt: at,
    finishedAt: at,
  };
  const count = (st: StepProgress['status']) => next.steps.filter((p) => p.status === st).length;
  return {
    run: next,
    audit: [
      engineEvent(next, 'execution.finished', {
        payload: {
          kind: next.kind,
          status,
          done: count('done'),
          compensated: count('compensated'),
          failed: count('failed'),
          notRun: count('pending'),
        },
        ...(next.reason ? { personal: { reason: next.reason } } : {}),
      }),
    ],
  };
}

/** A person ticked a checklist item (idempotent: ticking again changes nothing). */
export function recordTicked(
  run: ExecutionRun,
  itemId: string,
  by: Person,
  at: string,
  note?: string,
): SagaUpdate {
  const item = run.plan?.checklist.find((c) => c.id === itemId);
  const current = run.checklist.find((c) => c.id === itemId);
  if (!item || !current || current.done) return { run, audit: [] };
  const next: ExecutionRun = {
    ...run,
    checklist: run.checklist.map((c) =>
      c.id === itemId ? { id: c.id, done: true, by, at, ...(note ? { note } : {}) } : c,
    ),
    updatedAt: at,
  };
  return {
    run: next,
    audit: [
      {
        type: 'checklist.ticked',
        actor: { tid: by.tid, oid: by.oid },
        requestId: run.requestId,
        payload: { runId: run.id, itemId },
        personal: { title: item.title, ...(note ? { note } : {}) },
      },
    ],
  };
}

/** Checklist items not ticked yet. */
export function openItems(run: ExecutionRun, plan: ExecutionPlan = run.plan!) {
  const done = new Set(run.checklist.filter((c) => c.done).map((c) => c.id));
  return plan.checklist.filter((c) => !done.has(c.id));
}

/** The stored progress of a step (a missing one is a broken invariant). */
export function progressOf(run: ExecutionRun, stepId: string): StepProgress {
  const p = run.steps.find((s) => s.id === stepId);
  if (!p) throw new Error(`Run ${run.id} has no progress for step ${stepId}.`);
  return p;
}

/** The planned step with this id (a missing one is a broken invariant). */
export function stepOf(run: ExecutionRun, stepId: string): PlanStep {
  const s = run.plan?.steps.find((x) => x.id === stepId);
  if (!s) throw new Error(`Run ${run.id} has no step ${stepId}.`);
  return s;
}

/** A compensation that was refused for good, or throttled past its retries. */
function gaveUpUndoing(p: StepProgress): boolean {
  return (
    p.status === 'done' &&
    p.compensationFailure !== undefined &&
    (!p.compensationFailure.retryable || (p.compensationAttempts ?? 0) >= MAX_STEP_ATTEMPTS)
  );
}

function orderOf(run: ExecutionRun, s: PlanStep): number {
  return progressOf(run, s.id).order ?? 0;
}

function patchStep(run: ExecutionRun, stepId: string, patch: Partial<StepProgress>): ExecutionRun {
  progressOf(run, stepId);
  return { ...run, steps: run.steps.map((p) => (p.id === stepId ? { ...p, ...patch } : p)) };
}

function markDone(
  run: ExecutionRun,
  stepId: string,
  at: string,
  createdUserId?: string,
): ExecutionRun {
  const order = Math.max(0, ...run.steps.map((p) => p.order ?? 0)) + 1;
  const { failure: _failure, ...rest } = progressOf(run, stepId);
  const next: ExecutionRun = {
    ...run,
    steps: run.steps.map((p) =>
      p.id === stepId ? { ...rest, status: 'done', order, finishedAt: at } : p,
    ),
    updatedAt: at,
  };
  const creates = stepOf(run, stepId).forward.kind === 'user.create';
  return creates && createdUserId ? { ...next, createdUserId } : next;
}

function markCompensated(run: ExecutionRun, stepId: string, at: string): ExecutionRun {
  const { compensationFailure: _failure, ...rest } = progressOf(run, stepId);
  return {
    ...run,
    steps: run.steps.map((p) =>
      p.id === stepId ? { ...rest, status: 'compensated', finishedAt: at } : p,
    ),
    updatedAt: at,
  };
}

/** Back at work after a pause: the wait and its reason are over. */
function resumed(run: ExecutionRun, status: 'running' | 'compensating', at: string): ExecutionRun {
  const { waitUntil: _waitUntil, reason: _reason, ...rest } = run;
  return { ...rest, status, updatedAt: at };
}

/** A throttled or unavailable service: wait as long as it asked (the longest ask wins). */
function throttled(
  run: ExecutionRun,
  s: PlanStep,
  failure: DirectoryFailure,
  at: string,
): ExecutionRun {
  const until = new Date(
    Date.parse(at) + (failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS),
  ).toISOString();
  const waitUntil = run.waitUntil && run.waitUntil > until ? run.waitUntil : until;
  return {
    ...run,
    status: 'waiting',
    waitUntil,
    reason: `Microsoft Graph is busy or unavailable (${failure.code}) and asked Cabinet to wait: ${s.title} is sent again at ${waitUntil.slice(11, 16)} UTC.`,
    updatedAt: at,
  };
}

/**
 * The run paused because the service throttled a step past the adapter's own retries: the trail
 * shows why and until when, as it does for a throttled read while planning.
 */
function pausedEvent(
  run: ExecutionRun,
  s: PlanStep,
  phase: 'forward' | 'compensation',
  failure: DirectoryFailure,
): AuditEvent {
  return engineEvent(run, 'execution.waiting', {
    payload: { until: run.waitUntil ?? null, stepId: s.id, phase, code: failure.code },
    personal: { reason: run.reason ?? '', title: s.title },
  });
}

function succeededEvents(
  run: ExecutionRun,
  s: PlanStep,
  detail: { readonly requestId: string | null; readonly verified: boolean },
): AuditEvent[] {
  return [
    engineEvent(run, 'execution.step_succeeded', {
      payload: { stepId: s.id, command: s.forward.kind, ...detail },
      personal: { title: s.title },
    }),
    ...(s.access ? [accessEvent(run, s, s.access)] : []),
  ];
}

function compensatedEvents(
  run: ExecutionRun,
  s: PlanStep,
  detail: { readonly requestId: string | null; readonly verified: boolean },
): AuditEvent[] {
  const undone = s.access
    ? ({ ...s.access, change: s.access.change === 'granted' ? 'revoked' : 'granted' } as const)
    : undefined;
  return [
    engineEvent(run, 'execution.step_compensated', {
      payload: { stepId: s.id, command: s.compensation?.kind ?? null, ...detail },
      personal: { title: s.title },
    }),
    ...(undone ? [accessEvent(run, s, undone)] : []),
  ];
}

/** Who gained or lost access to what (DESIGN.md §2): ids in clear, names and UPNs sealed. */
function accessEvent(run: ExecutionRun, s: PlanStep, access: AccessChange): AuditEvent {
  const userId = access.userId === CREATED_USER ? (run.createdUserId ?? null) : access.userId;
  return engineEvent(run, access.change === 'granted' ? 'access.granted' : 'access.revoked', {
    payload: {
      stepId: s.id,
      resourceId: access.resourceId,
      relation: access.relation,
      userId,
    },
    personal: { userPrincipalName: access.userPrincipalName, resourceName: access.resourceName },
  });
}

function failurePayload(failure: DirectoryFailure): JsonObject {
  return {
    reason: failure.reason,
    code: failure.code,
    httpStatus: failure.httpStatus ?? null,
    requestId: failure.requestId ?? null,
    retryable: failure.retryable,
  };
}

/** Cabinet's own steps, carried out on behalf of the technician who started the run. */
function engineEvent(
  run: ExecutionRun,
  type: AuditEventType,
  body: { readonly payload: JsonObject; readonly personal?: JsonObject },
): AuditEvent {
  return {
    type,
    actor: { tid: run.startedBy.tid, oid: SYSTEM_OID },
    requestId: run.requestId,
    payload: { runId: run.id, onBehalfOf: run.startedBy.oid, ...body.payload },
    ...(body.personal ? { personal: body.personal } : {}),
  };
}

/** How a rollback step's title starts; the reasons drop it to name the change that was (not) undone. */
export const UNDO_TITLE_PREFIX = 'Undo: ';

/**
 * One short sentence on how a final run ended, for a card banner: Teams shows it in a card, and
 * the run's reason (in the tab) tells the whole story.
 */
export function finishedHeadline(run: ExecutionRun): string {
  const plan = run.plan;
  const failed = plan ? withStatus(run, plan, 'failed') : [];
  const first = failed[0];
  if (!plan || !first) return firstSentence(run.reason ?? `Run ${run.id} ended ${run.status}.`);
  const more = (n: number) => (n > 1 ? ` and ${n - 1} more` : '');
  if (run.kind === 'rollback')
    return `${count(failed.length, 'change')} could not be undone: ${changeOf(first)}${more(failed.length)}; the rest was rolled back.`;
  if (run.status === 'compensated')
    return `${first.title}${more(failed.length)} failed; Cabinet undid what it had changed.`;
  const stuck = plan.steps.filter((s) => gaveUpUndoing(progressOf(run, s.id)));
  const firstStuck = stuck[0];
  if (firstStuck)
    return `${first.title}${more(failed.length)} failed, and ${count(stuck.length, 'change')} could not be undone: ${firstStuck.title}${more(stuck.length)}.`;
  return `${first.title}${more(failed.length)} failed past the point of no return; nothing was undone.`;
}

const titles = (steps: readonly PlanStep[]) => steps.map((s) => s.title).join('; ');
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const firstSentence = (text: string) => /^.*?[.!?](?=\s|$)/s.exec(text)?.[0] ?? text;
/** The change a rollback step undoes, named as the run that made it named it. */
const changeOf = (s: PlanStep) =>
  s.title.startsWith(UNDO_TITLE_PREFIX) ? s.title.slice(UNDO_TITLE_PREFIX.length) : s.title;

/** Why a command did not go through, for a technician: a service that never let up says so. */
function why(failure: DirectoryFailure | undefined): string {
  if (!failure) return 'no answer';
  if (failure.retryable)
    return `Microsoft Graph was still busy or unavailable after ${MAX_STEP_ATTEMPTS} tries: ${failure.code}`;
  return failure.message;
}

const failureText = (run: ExecutionRun, s: PlanStep, which: 'failure' | 'compensationFailure') =>
  `${s.title} (${why(progressOf(run, s.id)[which])})`;

function withStatus(run: ExecutionRun, plan: ExecutionPlan, status: StepProgress['status']) {
  return plan.steps.filter((s) => progressOf(run, s.id).status === status);
}

/** Newest first, the order in which they were undone. */
function undoneOf(run: ExecutionRun, plan: ExecutionPlan): PlanStep[] {
  return withStatus(run, plan, 'compensated').sort((a, b) => orderOf(run, b) - orderOf(run, a));
}

function tickedByHand(run: ExecutionRun, plan: ExecutionPlan): string {
  const ticked = plan.checklist.filter((c) => run.checklist.some((p) => p.id === c.id && p.done));
  return ticked.length > 0
    ? `Done by hand and not undone (reverse by hand if needed): ${ticked.map((c) => c.title).join('; ')}.`
    : '';
}

const sentences = (parts: readonly string[]) => parts.filter((t) => t.length > 0).join(' ');

function stoppedReason(
  run: ExecutionRun,
  plan: ExecutionPlan,
  failed: readonly PlanStep[],
): string {
  const done = withStatus(run, plan, 'done');
  const open = openItems(run, plan);
  return sentences([
    `Could not finish: ${failed.map((s) => failureText(run, s, 'failure')).join('; ')}.`,
    done.length > 0 ? `Done: ${titles(done)}.` : 'Nothing else was done.',
    open.length > 0
      ? `Not done yet from the checklist: ${open.map((c) => c.title).join('; ')}.`
      : '',
    'This was past the point of no return, so nothing was undone.',
    `Next: finish by hand what is not done${open.length > 0 ? ' (the failed steps and the checklist)' : ''}, or fix the cause and execute again.`,
  ]);
}

function compensatedReason(run: ExecutionRun, plan: ExecutionPlan): string {
  const failed = withStatus(run, plan, 'failed');
  const undone = undoneOf(run, plan);
  const kept = withStatus(run, plan, 'done');
  return sentences([
    `Stopped because ${failed.map((s) => failureText(run, s, 'failure')).join('; ')} failed.`,
    undone.length > 0
      ? `Cabinet undid what it had changed, newest first: ${titles(undone)}.`
      : 'Nothing had been changed yet, so nothing needed undoing.',
    kept.length > 0 ? `Cannot be undone, so left as done: ${titles(kept)}.` : '',
    tickedByHand(run, plan),
    'Next: fix the cause, then execute again.',
  ]);
}

function undoStuckReason(
  run: ExecutionRun,
  plan: ExecutionPlan,
  stuck: readonly PlanStep[],
): string {
  const failed = withStatus(run, plan, 'failed');
  const undone = undoneOf(run, plan);
  const kept = withStatus(run, plan, 'done').filter((s) => !stuck.includes(s));
  return sentences([
    `Stopped because ${failed.map((s) => failureText(run, s, 'failure')).join('; ')} failed.`,
    `Cabinet undid what it could, but could not undo: ${stuck.map((s) => failureText(run, s, 'compensationFailure')).join('; ')}.`,
    undone.length > 0 ? `Undone, newest first: ${titles(undone)}.` : 'Nothing else was undone.',
    kept.length > 0 ? `Cannot be undone, so left as done: ${titles(kept)}.` : '',
    tickedByHand(run, plan),
    'Next: undo by hand what could not be undone (each step shows the state before the run), then fix the cause and execute again if the change is still wanted.',
  ]);
}

function rollbackStoppedReason(
  run: ExecutionRun,
  plan: ExecutionPlan,
  failed: readonly PlanStep[],
): string {
  const undone = withStatus(run, plan, 'done');
  const open = openItems(run, plan);
  const original = run.rollbackOf ? `run ${run.rollbackOf}` : 'the run';
  return sentences([
    `Could not undo: ${failed.map((s) => `${changeOf(s)} (${why(progressOf(run, s.id).failure)})`).join('; ')}.`,
    undone.length > 0 ? `Undone: ${undone.map(changeOf).join('; ')}.` : 'Nothing else was undone.',
    ...plan.notes,
    open.length > 0 ? `Checklist still open: ${open.map((c) => c.title).join('; ')}.` : '',
    `Next: undo by hand what could not be undone (each step shows the state before ${original})${open.length > 0 ? ' and work through the open checklist' : ''}, or fix the cause and roll back again. The request is marked rolled back only when a rollback completes.`,
  ]);
}

/** Reasons end up on the request (its failure reason), which holds at most NOTE_MAX characters. */
function bounded(text: string): string {
  return text.length <= NOTE_MAX ? text : `${text.slice(0, NOTE_MAX - 1)}…`;
}
