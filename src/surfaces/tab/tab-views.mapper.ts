import { reviewRequiredFor } from '../../domain/assessment/post-implementation-review';
import { decidedBy, settledDecision } from '../../domain/change-request/approval-summary';
import type { ClosureOutcome } from '../../domain/change-request/change-class';
import type { ChangeEvent } from '../../domain/change-request/change-request.machine';
import {
  PROBE_ASSESSED,
  reviewOutcomesAllowed,
} from '../../domain/change-request/change-request.probes';
import type { TimelineEntry } from '../../application/use-cases/browse-requests';
import type { ApprovalState } from '../../domain/approval/approval.policy';
import { samePerson } from '../../domain/shared/person';
import type { DirectoryFailure, GroupRelation } from '../../domain/execution/directory';
import { isFinal, type ExecutionRun } from '../../domain/execution/execution-run';
import type { ExecutionPlan } from '../../domain/execution/execution-plan';
import { rollbackFor } from '../../domain/execution/rollback-plan';
import type { Identity } from '../../application/use-cases/identify';
import type { ChangeRequest } from '../../domain/change-request/change-request';
import { PAYLOAD_FIELDS } from '../../domain/change-request/change-request.payloads';
import { isMspStaff, type ClientProfile, type ClientRole } from '../../domain/client/client';
import { isExecutableType } from '../../domain/execution/execution-plan';
import type { JsonObject, JsonValue } from '../../domain/shared/json';
import { FIELD_LABELS, STATUS_LABELS, TYPE_LABELS } from '../bot/cards/labels';

/** The states in which a technician may plan and run (or re-run) a request's wizard. */
const EXECUTION_STATES: ReadonlySet<ChangeRequest['status']> = new Set([
  'approved',
  'in_progress',
  'failed',
]);

export interface MeView {
  readonly name: string;
  readonly isMspStaff: boolean;
  readonly clients: readonly {
    readonly code: string;
    readonly name: string;
    readonly roles: readonly ClientRole[];
  }[];
}

export function meView(identity: Identity): MeView {
  return {
    name: identity.person.name,
    isMspStaff: identity.isMspStaff,
    clients: identity.memberships.map((m) => ({
      code: m.client.code,
      name: m.client.name,
      roles: [...m.roles].sort(),
    })),
  };
}

export interface RequestSummaryView {
  readonly id: string;
  readonly clientCode: string;
  readonly clientName: string;
  readonly type: string;
  readonly typeLabel: string;
  readonly title: string;
  readonly status: string;
  readonly statusLabel: string;
  readonly version: number;
  readonly requester: string;
  readonly updatedAt: string;
  /** Cabinet can carry this type out through Graph (a wizard exists for it). */
  readonly executable: boolean;
}

export function requestSummaryView(
  client: ClientProfile,
  request: ChangeRequest,
): RequestSummaryView {
  return {
    id: request.id,
    clientCode: client.code,
    clientName: client.name,
    type: request.type,
    typeLabel: TYPE_LABELS[request.type],
    title: request.title,
    status: request.status,
    statusLabel: STATUS_LABELS[request.status],
    version: request.version,
    requester: request.onBehalfOf?.name ?? request.requester.name,
    updatedAt: request.updatedAt,
    executable: isExecutableType(request.type),
  };
}

export interface FieldView {
  readonly name: string;
  readonly label: string;
  /** As the request payload holds it: a string, boolean, number or list. */
  readonly value: JsonValue;
}

export interface RequestDetailView extends RequestSummaryView {
  readonly description: string;
  readonly createdAt: string;
  readonly fields: readonly FieldView[];
  readonly approval?: {
    readonly outcome: string;
    readonly by: string;
    readonly at: string;
    readonly reason?: string;
  };
  readonly assignee?: string;
  readonly failure?: { readonly reason: string; readonly by: string; readonly at: string };
  readonly closure?: { readonly outcome: string; readonly notes: string; readonly by: string };
  readonly changeClass: string;
  readonly assessment?: AssessmentView;
  readonly approvalSteps?: readonly ApprovalStepView[];
  readonly retrospectiveSteps?: readonly ApprovalStepView[];
  readonly question?: { readonly text: string; readonly by: string; readonly at: string };
  readonly clarifications?: readonly {
    readonly question: string;
    readonly by: string;
    readonly answer: string;
    readonly answeredBy: string;
    readonly at: string;
  }[];
  readonly review?: {
    readonly objectiveAchieved: string;
    readonly outcome: string;
    readonly unexpectedImpacts?: string;
    readonly becomeStandard: boolean;
    readonly becomeStandardNote?: string;
    readonly by: string;
    readonly at: string;
  };
  readonly reviewDueAt?: string;
  readonly overEmergencyQuota?: boolean;
}

export interface AssessmentView {
  readonly impact: string;
  readonly risk: string;
  readonly suggestedRisk: string;
  readonly riskOverridden: boolean;
  readonly signals: readonly { readonly code: string; readonly detail: string }[];
  readonly affectedUsers: number;
  readonly affectedServices: readonly string[];
  readonly implementationPlan: string;
  readonly testPlan: string;
  readonly rollbackPlan?: string;
  readonly dependencies: readonly string[];
  readonly window?: { readonly start: string; readonly end: string };
  readonly sensitivity: readonly string[];
  readonly sensitivityOther?: string;
  readonly by: string;
  readonly at: string;
}

export interface ApprovalStepView {
  readonly name: string;
  /** "any one of", "all of", "2 of 3". */
  readonly rule: string;
  readonly status: string;
  readonly approvers: readonly string[];
  readonly votes: readonly {
    readonly by: string;
    /** The seat's holder when a delegate voted for them. */
    readonly for?: string;
    readonly outcome: string;
    readonly reason?: string;
    readonly at: string;
  }[];
}

export function requestDetailView(
  client: ClientProfile,
  request: ChangeRequest,
): RequestDetailView {
  const payload = request.payload as unknown as JsonObject;
  const decision = settledDecision(request.approval);
  return {
    ...requestSummaryView(client, request),
    description: request.description,
    createdAt: request.createdAt,
    fields: PAYLOAD_FIELDS[request.type]
      .filter((name) => payload[name] !== undefined)
      .map((name) => ({ name, label: FIELD_LABELS[name] ?? name, value: payload[name]! })),
    ...(decision
      ? {
          approval: {
            outcome: decision.outcome,
            by: decidedBy(decision),
            at: decision.at,
            ...(decision.reason ? { reason: decision.reason } : {}),
          },
        }
      : {}),
    ...(request.assignee ? { assignee: request.assignee.name } : {}),
    ...(request.failure
      ? {
          failure: {
            reason: request.failure.reason,
            by: request.failure.by.name,
            at: request.failure.at,
          },
        }
      : {}),
    ...(request.closure
      ? {
          closure: {
            outcome: request.closure.outcome,
            notes: request.closure.notes,
            by: request.closure.by.name,
          },
        }
      : {}),
    ...itilView(request),
  };
}

/** Issue 4's part of the detail: class, assessment, approval steps, questions, review. */
function itilView(request: ChangeRequest) {
  const a = request.assessment;
  const q = request.clarification;
  const review = request.review;
  return {
    changeClass: request.changeClass,
    ...(a
      ? {
          assessment: {
            impact: a.impact,
            risk: a.risk,
            suggestedRisk: a.suggestedRisk,
            riskOverridden: a.riskOverridden,
            signals: a.signals.map((x) => ({ code: x.code, detail: x.detail })),
            affectedUsers: a.affectedUsers,
            affectedServices: [...a.affectedServices],
            implementationPlan: a.implementationPlan,
            testPlan: a.testPlan,
            ...(a.rollbackPlan !== undefined ? { rollbackPlan: a.rollbackPlan } : {}),
            dependencies: [...a.dependencies],
            ...(a.requestedWindow ? { window: { ...a.requestedWindow } } : {}),
            sensitivity: [...a.sensitivity],
            ...(a.sensitivityOther ? { sensitivityOther: a.sensitivityOther } : {}),
            by: a.by.name,
            at: a.at,
          },
        }
      : {}),
    ...(request.approval ? { approvalSteps: stepViews(request.approval) } : {}),
    ...(request.retrospective ? { retrospectiveSteps: stepViews(request.retrospective) } : {}),
    ...(q ? { question: { text: q.question, by: q.askedBy.name, at: q.askedAt } } : {}),
    ...(request.clarifications?.length
      ? {
          clarifications: request.clarifications.map((c) => ({
            question: c.question,
            by: c.askedBy.name,
            answer: c.answer,
            answeredBy: c.answeredBy.name,
            at: c.answeredAt,
          })),
        }
      : {}),
    ...(review
      ? {
          review: {
            objectiveAchieved: review.objectiveAchieved,
            outcome: review.outcome,
            ...(review.unexpectedImpacts ? { unexpectedImpacts: review.unexpectedImpacts } : {}),
            becomeStandard: review.becomeStandard,
            ...(review.becomeStandardNote ? { becomeStandardNote: review.becomeStandardNote } : {}),
            by: review.by.name,
            at: review.at,
          },
        }
      : {}),
    ...(request.reviewDueAt ? { reviewDueAt: request.reviewDueAt } : {}),
    ...(request.overEmergencyQuota ? { overEmergencyQuota: true } : {}),
  };
}

function stepViews(state: ApprovalState): ApprovalStepView[] {
  return state.steps.map((step) => ({
    name: step.name,
    rule:
      step.rule.kind === 'any_of'
        ? 'any one of'
        : step.rule.kind === 'all_of'
          ? 'all of'
          : `${step.rule.required} of ${step.approvers.length}`,
    status: step.status,
    approvers: step.approvers.map((p) => p.name),
    votes: step.votes.map((v) => ({
      by: v.by.name,
      ...(samePerson(v.by, v.seat) ? {} : { for: v.seat.name }),
      outcome: v.outcome,
      ...(v.reason ? { reason: v.reason } : {}),
      at: v.at,
    })),
  }));
}

export interface ViewerView {
  readonly roles: readonly ClientRole[];
  /** MSP staff on an executable request in a state that allows a run. */
  readonly mayExecute: boolean;
  /** The viewer may assess (and so reclassify and send for approval) now. */
  readonly mayAssess: boolean;
  /** The review outcomes the viewer may file now; empty when there is no review to file. */
  readonly reviewOutcomes: readonly ClosureOutcome[];
}

/**
 * What the viewer may do on the request page. The ITIL actions are dry runs of the machine, so the
 * page offers exactly what the server would accept.
 */
export function viewerView(
  roles: ReadonlySet<ClientRole>,
  request: ChangeRequest,
  accepts: (event: ChangeEvent) => boolean,
): ViewerView {
  return {
    roles: [...roles].sort(),
    mayExecute:
      isMspStaff(roles) && isExecutableType(request.type) && EXECUTION_STATES.has(request.status),
    // Assessing is offered on triaged requests; re-assessing one awaiting approval withdraws its round.
    mayAssess: request.status === 'triaged' && accepts(PROBE_ASSESSED),
    reviewOutcomes: reviewRequiredFor(request.changeClass) ? reviewOutcomesAllowed(accepts) : [],
  };
}

export interface TimelineEntryView {
  readonly seq: number;
  readonly at: string;
  readonly type: string;
  readonly actor: string;
  /** The request's state after the entry, when the entry moved it. */
  readonly status?: string;
  readonly statusLabel?: string;
  /** Free text people wrote (reason, notes, comment), or the step's title for execution entries. */
  readonly text?: string;
  /** Execution entries: which run and step they are about. */
  readonly runId?: string;
  readonly stepId?: string;
}

// `text`: a Cabinet note's or a PSA note's text (issue 6).
const TEXT_FIELDS = [
  'reason',
  'notes',
  'comment',
  'note',
  'step',
  'title',
  'item',
  'text',
] as const;

export function timelineEntryView(entry: TimelineEntry): TimelineEntryView {
  const status = typeof entry.payload.status === 'string' ? entry.payload.status : undefined;
  const statusLabel =
    status && status in STATUS_LABELS
      ? STATUS_LABELS[status as keyof typeof STATUS_LABELS]
      : undefined;
  const textField = TEXT_FIELDS.find(
    (f) => typeof entry.personal?.[f] === 'string' && entry.personal[f] !== '',
  );
  // A submission's personal data holds the whole form; only its title belongs in a timeline line.
  const text =
    accessText(entry) ?? (textField ? (entry.personal?.[textField] as string) : undefined);
  const runId = typeof entry.payload.runId === 'string' ? entry.payload.runId : undefined;
  const stepId = typeof entry.payload.stepId === 'string' ? entry.payload.stepId : undefined;
  return {
    seq: entry.seq,
    at: entry.at,
    type: entry.type,
    actor: entry.actorName,
    ...(status ? { status } : {}),
    ...(statusLabel ? { statusLabel } : {}),
    ...(text ? { text: text.slice(0, 500) } : {}),
    ...(runId ? { runId } : {}),
    ...(stepId ? { stepId } : {}),
  };
}

/** "lee@contoso.example lost member of Finance": who gained or lost access to what. */
function accessText(entry: TimelineEntry): string | undefined {
  if (entry.type !== 'access.granted' && entry.type !== 'access.revoked') return undefined;
  const who = entry.personal?.userPrincipalName;
  const what = entry.personal?.resourceName;
  const relation = entry.payload.relation;
  if (typeof who !== 'string' || typeof what !== 'string') return undefined;
  const as = typeof relation === 'string' ? `${relation} of ` : '';
  return `${who} ${entry.type === 'access.granted' ? 'gained' : 'lost'} ${as}${what}`;
}

export interface PlanStepView {
  readonly id: string;
  readonly title: string;
  readonly wave: number;
  /** The step has a compensation: a failure before the point of no return, or a roll back, undoes it. */
  readonly undoable: boolean;
  /** What the step found before changing it, as the plan captured it. */
  readonly prior?: JsonObject;
  /** Who gains or loses access to which group: the offboarding wizard lets a group be kept by its id. */
  readonly access?: {
    readonly change: 'granted' | 'revoked';
    readonly resourceId: string;
    readonly resourceName: string;
    readonly relation: GroupRelation;
  };
}

export interface PlanView {
  readonly type: string;
  readonly subject: { readonly userPrincipalName: string; readonly displayName: string };
  readonly steps: readonly PlanStepView[];
  readonly pointOfNoReturn: number;
  readonly checklist: readonly {
    readonly id: string;
    readonly title: string;
    readonly detail: string;
    readonly before?: string;
  }[];
  readonly notes: readonly string[];
}

/** The plan without its wire commands: people read titles, waves, prior state and the checklist. */
export function planView(plan: ExecutionPlan): PlanView {
  return {
    type: plan.type,
    subject: {
      userPrincipalName: plan.subject.userPrincipalName,
      displayName: plan.subject.displayName,
    },
    steps: plan.steps.map((step) => ({
      id: step.id,
      title: step.title,
      wave: step.wave,
      undoable: step.compensation !== undefined,
      ...(step.prior ? { prior: step.prior } : {}),
      ...(step.access
        ? {
            access: {
              change: step.access.change,
              resourceId: step.access.resourceId,
              resourceName: step.access.resourceName,
              relation: step.access.relation,
            },
          }
        : {}),
    })),
    pointOfNoReturn: plan.pointOfNoReturn,
    checklist: plan.checklist.map((item) => ({
      id: item.id,
      title: item.title,
      detail: item.detail,
      ...(item.before ? { before: item.before } : {}),
    })),
    notes: plan.notes,
  };
}

export interface RunView {
  readonly id: string;
  readonly kind: 'execute' | 'rollback';
  readonly rollbackOf?: string;
  readonly status: string;
  readonly final: boolean;
  readonly reason?: string;
  readonly startedBy: string;
  readonly createdAt: string;
  readonly finishedAt?: string;
  readonly waitUntil?: string;
  /** False while the worker has not read the tenant and planned yet (no steps to show). */
  readonly planned: boolean;
  readonly pointOfNoReturn?: number;
  readonly steps: readonly {
    readonly id: string;
    readonly title: string;
    readonly wave: number;
    readonly status: string;
    readonly attempts: number;
    readonly undoable: boolean;
    readonly failure?: string;
    readonly startedAt?: string;
    readonly finishedAt?: string;
  }[];
  readonly checklist: readonly {
    readonly id: string;
    readonly title: string;
    readonly detail: string;
    readonly before?: string;
    readonly done: boolean;
    readonly by?: string;
    readonly at?: string;
    readonly note?: string;
  }[];
  /** A Roll back button makes sense now (the use case decides for certain). */
  readonly canRollBack: boolean;
  /** For a run that stopped short (`compensated`, `needs_manual`): where everything ended up. */
  readonly outcome?: RunOutcomeView;
}

/**
 * What a technician must know after a run stopped short, step by step: what failed and why, what
 * is still changed in the client's directory, what was put back, what never started.
 */
export interface RunOutcomeView {
  /** Failed steps, each with what Microsoft said. */
  readonly failed: readonly string[];
  /** Done and still in effect; an undo Microsoft refused says why. */
  readonly inPlace: readonly string[];
  readonly undone: readonly string[];
  readonly notStarted: readonly string[];
  /** Checklist tasks ticked off: done by hand, so never undone by Cabinet. */
  readonly doneByHand: readonly string[];
}

/**
 * A run for the progress panel: every planned step with its state, the checklist with who ticked
 * what, and whether it can be rolled back.
 * @param runs every run of the request, to know whether a roll-back already exists or one is under way
 */
export function runView(
  run: ExecutionRun,
  request: ChangeRequest,
  runs: readonly ExecutionRun[],
): RunView {
  const plan = run.plan;
  const canRollBack = rollbackFor(request.status, run, runs).ok;
  const steps = (plan?.steps ?? []).map((step) => {
    const progress = run.steps.find((p) => p.id === step.id);
    const failure = progress?.compensationFailure ?? progress?.failure;
    return {
      id: step.id,
      title: step.title,
      wave: step.wave,
      status: progress?.status ?? 'pending',
      attempts: progress?.attempts ?? 0,
      undoable: step.compensation !== undefined,
      ...(failure ? { failure: failureText(failure) } : {}),
      ...(progress?.startedAt ? { startedAt: progress.startedAt } : {}),
      ...(progress?.finishedAt ? { finishedAt: progress.finishedAt } : {}),
    };
  });
  const checklist = (plan?.checklist ?? []).map((item) => {
    const progress = run.checklist.find((p) => p.id === item.id);
    return {
      id: item.id,
      title: item.title,
      detail: item.detail,
      ...(item.before ? { before: item.before } : {}),
      done: progress?.done ?? false,
      ...(progress?.by ? { by: progress.by.name } : {}),
      ...(progress?.at ? { at: progress.at } : {}),
      ...(progress?.note ? { note: progress.note } : {}),
    };
  });
  const stoppedShort = run.status === 'compensated' || run.status === 'needs_manual';
  return {
    id: run.id,
    kind: run.kind,
    ...(run.rollbackOf ? { rollbackOf: run.rollbackOf } : {}),
    status: run.status,
    final: isFinal(run.status),
    ...(run.reason ? { reason: run.reason } : {}),
    startedBy: run.startedBy.name,
    createdAt: run.createdAt,
    ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
    ...(run.waitUntil ? { waitUntil: run.waitUntil } : {}),
    planned: plan !== undefined,
    ...(plan ? { pointOfNoReturn: plan.pointOfNoReturn } : {}),
    steps,
    checklist,
    canRollBack,
    ...(stoppedShort ? { outcome: outcomeOf(steps, checklist) } : {}),
  };
}

function outcomeOf(steps: RunView['steps'], checklist: RunView['checklist']): RunOutcomeView {
  const withStatus = (status: string) => steps.filter((s) => s.status === status);
  return {
    failed: withStatus('failed').map((s) => (s.failure ? `${s.title} — ${s.failure}` : s.title)),
    // A done step carrying a failure is one whose undo Microsoft refused.
    inPlace: withStatus('done').map((s) =>
      s.failure ? `${s.title} — undoing it was refused: ${s.failure}` : s.title,
    ),
    undone: withStatus('compensated').map((s) => s.title),
    notStarted: withStatus('pending').map((s) => s.title),
    doneByHand: checklist.filter((c) => c.done).map((c) => c.title),
  };
}

/** What Microsoft said, with its code for the admin centre or support. */
function failureText(failure: DirectoryFailure): string {
  return `${failure.message} (${failure.code}${failure.httpStatus ? `, HTTP ${failure.httpStatus}` : ''})`;
}
