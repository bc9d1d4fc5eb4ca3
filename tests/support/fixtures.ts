import { strict as assert } from 'node:assert';
import type { AuditEvent } from '../../src/domain/audit/audit-event';
import { submitChange, type SubmittedChange } from '../../src/application/use-cases/submit-change';
import type {
  ChangeRequest,
  ChangeSource,
  Person,
} from '../../src/domain/change-request/change-request';
import {
  createChangeRequest,
  transition,
  type ChangeEvent,
  type TransitionContext,
} from '../../src/domain/change-request/change-request.machine';
import {
  validateChangeInput,
  type ChangeInput,
  type ChangeType,
} from '../../src/domain/change-request/change-request.payloads';
import { rolesFor, type ClientProfile } from '../../src/domain/client/client';
import { rulesFor } from '../../src/domain/client/client-rules';
import { planApprovals, type ApprovalPlan } from '../../src/domain/approval/approval.policy';
import type { Assessment } from '../../src/domain/assessment/assessment';
import type { PostImplementationReview } from '../../src/domain/assessment/post-implementation-review';
import { suggestRisk } from '../../src/domain/assessment/risk.policy';
import { approvalFacts, riskSignals } from '../../src/domain/change-request/approval-facts';
import { formatRequestId, type ObjectId, type TenantId } from '../../src/domain/shared/ids';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import type { DeliveryResult, Notifier } from '../../src/application/ports/notifier';
import type { ConversationStore } from '../../src/application/ports/conversation-store';
import type { Notification, OutboxStore, Recipient } from '../../src/application/ports/outbox';
import { onboardClient, type PersonInput } from '../../src/application/use-cases/manage-clients';
import {
  CONTOSO,
  FABRIKAM,
  MSP,
  MSP_TENANT,
  type SandboxPerson,
} from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';

/** A sandbox identity as the domain sees it: tenant, object id, display name. */
export function asPerson(p: SandboxPerson): Person {
  return { tid: p.tid, oid: p.oid, name: p.name };
}

/**
 * The cast of the unit tests. Contoso: Carla (admin), Andy and Avery (approvers), Sam (same tenant,
 * no role). MSP: Tina (Contoso's tech), Theo (Fabrikam's tech), Lena (lead of both).
 * `impostor` is a Fabrikam user who carries Andy's object id: same oid, other tenant.
 */
export const people = {
  carla: asPerson(CONTOSO.carla),
  andy: asPerson(CONTOSO.andy),
  avery: asPerson(CONTOSO.avery),
  sam: asPerson(CONTOSO.sam),
  tina: asPerson(MSP.tina),
  theo: asPerson(MSP.theo),
  lena: asPerson(MSP.lena),
  fiona: asPerson(FABRIKAM.fiona),
  frank: asPerson(FABRIKAM.frank),
  impostor: {
    tid: FABRIKAM.tenantId,
    oid: CONTOSO.andy.oid,
    name: 'Andy Approver (Fabrikam)',
  } as Person,
} as const;

export const MSP_TENANT_ID: TenantId = MSP_TENANT;
export const CONTOSO_TENANT_ID: TenantId = CONTOSO.tenantId;
export const FABRIKAM_TENANT_ID: TenantId = FABRIKAM.tenantId;

/** Contoso as seeded for the tests: Carla admin, Andy + Avery approvers, Tina tech, Lena lead. */
export function contosoProfile(overrides: Partial<ClientProfile> = {}): ClientProfile {
  return {
    tenantId: CONTOSO.tenantId,
    code: CONTOSO.code,
    name: CONTOSO.name,
    admins: [people.carla],
    approvers: [people.andy, people.avery],
    techs: [people.tina],
    leads: [people.lena],
    settings: { timeZone: 'Europe/London' },
    ...overrides,
  };
}

/** Fabrikam: Fiona admin, Frank approver, Theo tech, Lena lead. */
export function fabrikamProfile(overrides: Partial<ClientProfile> = {}): ClientProfile {
  return {
    tenantId: FABRIKAM.tenantId,
    code: FABRIKAM.code,
    name: FABRIKAM.name,
    admins: [people.fiona],
    approvers: [people.frank],
    techs: [people.theo],
    leads: [people.lena],
    settings: { timeZone: 'America/New_York' },
    ...overrides,
  };
}

/** Valid form data per change type, dated after the FakeClock's default "today" (2026-11-23). */
export function validFields(
  type: ChangeType,
  overrides: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const common = {
    title: `Please do a ${type.replace('_', ' ')}`,
    description: 'Details the approver needs to decide.',
  };
  const byType: { readonly [T in ChangeType]: Record<string, unknown> } = {
    new_user: {
      givenName: 'Jane',
      surname: 'Doe',
      displayName: 'Jane Doe',
      userPrincipalName: 'jane.doe@contoso.example',
      jobTitle: 'Analyst',
      usageLocation: 'GB',
      startDate: '2026-12-01',
      licenceSkus: 'SPB',
      groups: 'Finance',
    },
    offboard: {
      userPrincipalName: 'leaver@contoso.example',
      lastWorkingDay: '2026-11-30',
      convertToSharedMailbox: 'true',
    },
    licence_change: { userPrincipalName: 'jane.doe@contoso.example', addSkus: 'ENTERPRISEPACK' },
    access_change: {
      userPrincipalName: 'jane.doe@contoso.example',
      action: 'grant',
      resource: 'Finance share',
      accessLevel: 'read',
    },
    general: { affectedSystems: 'Firewall', preferredWindow: 'Saturday morning' },
    incident: {
      severity: 'sev2',
      affectedService: 'E-mail',
      affectedUsers: '12',
      startedAt: '2026-11-23T08:30',
    },
  };
  return { ...common, ...byType[type], ...overrides };
}

/** The typed input of a valid form, for building requests directly in domain tests. */
export function validInput(
  type: ChangeType = 'general',
  overrides: Readonly<Record<string, unknown>> = {},
): ChangeInput {
  const result = validateChangeInput(type, validFields(type, overrides));
  if (!result.ok) throw new Error(`fixture input for ${type} is invalid: ${result.error.message}`);
  return result.value;
}

export const NOW = '2026-11-23T09:00:00.000Z';

/** The acting context for `actor` as Contoso (or `profile`) knows them. */
export function contextFor(
  actor: Person,
  options: {
    readonly profile?: ClientProfile;
    readonly system?: boolean;
    readonly now?: string;
  } = {},
): TransitionContext {
  const profile = options.profile ?? contosoProfile();
  return {
    actor,
    roles: rolesFor(profile, actor),
    now: options.now ?? NOW,
    rules: rulesFor(profile),
    ...(options.system ? { system: true } : {}),
  };
}

/** An assessment that passes every readiness rule: a real rollback plan and a window two days out. */
export function validAssessment(overrides: Partial<Assessment> = {}): Assessment {
  return {
    impact: 'minor',
    risk: 'low',
    affectedUsers: 1,
    affectedServices: ['Microsoft 365'],
    implementationPlan: 'Apply the change in the admin centre and confirm it in the audit log.',
    testPlan: 'Sign in as the user and check the change is visible.',
    rollbackPlan:
      'If the user cannot sign in within 15 minutes, the technician restores the previous settings from the change record and verifies sign-in with the user; takes about 10 minutes.',
    dependencies: [],
    requestedWindow: { start: '2026-11-25T18:00:00.000Z', end: '2026-11-25T20:00:00.000Z' },
    sensitivity: [],
    ...overrides,
  };
}

/** The `Assessed` event for `assessment`, keeping Cabinet's suggestion as the chosen risk. */
export function assessedEvent(
  request: ChangeRequest,
  assessment: Assessment = validAssessment(),
  profile: ClientProfile = contosoProfile(),
): ChangeEvent {
  const suggestion = suggestRisk(riskSignals(request, assessment, rulesFor(profile), NOW, 0));
  return { type: 'Assessed', assessment: { ...assessment, risk: suggestion.level }, suggestion };
}

/** The approval plan Contoso's (or `profile`'s) policy gives the request's current version. */
export function planFor(
  request: ChangeRequest,
  profile: ClientProfile = contosoProfile(),
): ApprovalPlan {
  const plan = planApprovals(
    rulesFor(profile).approvalPolicy,
    approvalFacts(request, MSP_TENANT),
    profile.leads,
  );
  if (!plan.ok) throw new Error(`No approval plan: ${plan.error.code}`);
  return plan.value;
}

/** A vote on the step open now, by `who`. */
export function voteEvent(
  request: ChangeRequest,
  who: Person,
  outcome: 'approved' | 'denied' = 'approved',
  options: { readonly reason?: string; readonly version?: number; readonly cardHash?: string } = {},
): ChangeEvent {
  const round = request.status === 'review_pending' ? request.retrospective : request.approval;
  const open = round?.steps.find((st) => st.status === 'open');
  return {
    type: 'VoteCast',
    decision: {
      by: who,
      step: open?.id ?? 'client',
      version: options.version ?? round?.version ?? request.version,
      outcome,
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      at: NOW,
      ...(options.cardHash ? { cardHash: options.cardHash } : {}),
    },
    delegations: [],
  };
}

/** A review that closes a change that went as planned. */
export const SUCCESSFUL_REVIEW: PostImplementationReview = {
  objectiveAchieved: 'yes',
  outcome: 'successful',
  becomeStandard: false,
};

export interface NewRequestOptions {
  readonly type?: ChangeType;
  readonly requester?: Person;
  readonly onBehalfOf?: Person;
  readonly source?: ChangeSource;
  readonly number?: number;
  readonly input?: ChangeInput;
}

/** A freshly submitted Contoso request (CONTOSO-1 unless told otherwise) and its submission audit event. */
export function submitted(options: NewRequestOptions = {}): {
  readonly request: ChangeRequest;
  readonly audit: AuditEvent;
} {
  const number = options.number ?? 1;
  const created = createChangeRequest(options.input ?? validInput(options.type ?? 'general'), {
    id: formatRequestId(CONTOSO.code, number),
    number,
    tenantId: CONTOSO.tenantId,
    clientCode: CONTOSO.code,
    requester: options.requester ?? people.carla,
    ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
    source: options.source ?? 'teams',
    changeClass: 'normal',
    now: NOW,
    rules: rulesFor(contosoProfile()),
  });
  return { request: created.next, audit: created.audit };
}

/** Applies events that must be accepted; a refusal fails the test with its code. */
export function applyAll(
  request: ChangeRequest,
  steps: readonly (readonly [ChangeEvent, TransitionContext])[],
): { readonly request: ChangeRequest; readonly audit: AuditEvent[] } {
  let current = request;
  const audit: AuditEvent[] = [];
  for (const [event, ctx] of steps) {
    const result = transition(current, event, ctx);
    if (!result.ok)
      throw new Error(
        `${event.type} by ${ctx.actor.name} refused in ${current.status}: ${result.error.code}`,
      );
    current = result.value.next;
    audit.push(result.value.audit);
  }
  return { request: current, audit };
}

/** The normal path as far as `status`, with Contoso's cast playing their usual parts. */
export type PathStatus =
  | 'submitted'
  | 'triaged'
  | 'awaiting_approval'
  | 'approved'
  | 'in_progress'
  | 'implemented'
  | 'closed'
  | 'failed';

export function requestAt(status: PathStatus, options: NewRequestOptions = {}): ChangeRequest {
  const { request } = submitted(options);
  const system = contextFor(request.requester, { system: true });
  const tech = contextFor(people.tina);
  // Each step is built from the request as it stands, since assessing bumps the version.
  const path: [PathStatus, (cr: ChangeRequest) => ChangeEvent, TransitionContext][] = [
    ['triaged', () => ({ type: 'Triaged' }), system],
    ['awaiting_approval', (cr) => assessedEvent(cr), tech],
    ['awaiting_approval', (cr) => ({ type: 'ApprovalRequested', plan: planFor(cr) }), system],
    ['approved', (cr) => voteEvent(cr, people.andy), contextFor(people.andy)],
    ['in_progress', () => ({ type: 'WorkStarted' }), tech],
  ];
  const tail: [PathStatus, (cr: ChangeRequest) => ChangeEvent, TransitionContext][] =
    status === 'failed'
      ? [['failed', () => ({ type: 'Failed', reason: 'Graph said no' }), tech]]
      : [
          ['implemented', () => ({ type: 'ImplementationCompleted', notes: 'done' }), tech],
          ['closed', () => ({ type: 'ReviewFiled', review: SUCCESSFUL_REVIEW }), tech],
        ];
  const steps = [...path, ...tail];
  const upTo =
    status === 'submitted'
      ? 0
      : steps.length - [...steps].reverse().findIndex(([s]) => s === status);
  let current = request;
  for (const [, build, ctx] of steps.slice(0, upTo))
    current = applyAll(current, [[build(current), ctx]]).request;
  return current;
}

/** Use-case dependencies over the in-memory fakes, plus the fakes themselves for assertions. */
export interface Harness {
  readonly clock: FakeClock;
  readonly storage: ReturnType<typeof createInMemoryStorage>;
  readonly deps: UseCaseDeps & { readonly outbox: OutboxStore };
  /** Tenants whose outbox a use case said it wrote to, in order. */
  readonly outboxWrites: TenantId[];
}

export function createHarness(): Harness {
  const clock = new FakeClock();
  const storage = createInMemoryStorage(clock);
  const outboxWrites: TenantId[] = [];
  const deps = {
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    templates: storage.catalogue(MSP_TENANT),
    outbox: storage.outbox,
    clock,
    mspTenantId: MSP_TENANT,
    outboxWritten: (tenantId: TenantId) => void outboxWrites.push(tenantId),
  };
  return { clock, storage, deps, outboxWrites };
}

const asInput = (list: readonly Person[]): PersonInput[] =>
  list.map((p) => ({ oid: p.oid, name: p.name }));

/** Onboards clients through the real use case, so each chain starts with its `client.onboarded` entry. */
export async function seedClients(harness: Harness, ...profiles: ClientProfile[]): Promise<void> {
  for (const profile of profiles.length > 0 ? profiles : [contosoProfile(), fabrikamProfile()]) {
    const result = await onboardClient(harness.deps, {
      operator: { tid: people.lena.tid, oid: people.lena.oid },
      tenantId: profile.tenantId,
      code: profile.code,
      name: profile.name,
      admins: asInput(profile.admins),
      approvers: asInput(profile.approvers),
      techs: asInput(profile.techs),
      leads: asInput(profile.leads),
      timeZone: profile.settings.timeZone,
    });
    if (!result.ok) throw new Error(`seeding ${profile.code} failed: ${result.error.message}`);
  }
}

/** Gives people a stored conversation reference, as if they had opened Cabinet. */
export async function openChats(harness: Harness, ...who: Person[]): Promise<void> {
  for (const p of who) {
    await harness.storage.conversations.save({
      tid: p.tid,
      oid: p.oid,
      reference: { conversation: { id: `chat-${p.oid}` } },
    });
  }
}

/** What the notifier does for one delivery: a result, or an error to throw. */
export type DeliveryBehaviour = DeliveryResult | Error;

export interface RecordedDelivery {
  readonly tenantId: TenantId;
  readonly recipient: Recipient;
  readonly notification: Notification;
  readonly outcome: DeliveryResult | { readonly status: 'threw'; readonly error: string };
}

export interface RecordingNotifierOptions {
  /**
   * When given, people without a live conversation in this store get `no_conversation`, as the real
   * Teams notifier answers; everyone else gets the scripted or default behaviour.
   */
  readonly conversations?: ConversationStore;
}

const key = (r: { readonly tid: string; readonly oid: string }) => `${r.tid}|${r.oid}`;

/**
 * A Notifier that records every delivery attempt and answers from a per-recipient script
 * (the last scripted answer repeats), defaulting to `sent`.
 */
export class RecordingNotifier implements Notifier {
  readonly attempts: RecordedDelivery[] = [];
  private readonly scripts = new Map<string, DeliveryBehaviour[]>();
  private sentCount = 0;

  constructor(private readonly options: RecordingNotifierOptions = {}) {}

  /** Scripts the answers for one recipient, in order; the last answer repeats. */
  script(
    recipient: { readonly tid: TenantId; readonly oid: ObjectId },
    ...behaviours: DeliveryBehaviour[]
  ): this {
    this.scripts.set(key(recipient), [...behaviours]);
    return this;
  }

  /** Deliveries that reached Teams. */
  get sent(): RecordedDelivery[] {
    return this.attempts.filter((a) => a.outcome.status === 'sent');
  }

  sentTo(recipient: { readonly tid: string; readonly oid: string }): RecordedDelivery[] {
    return this.sent.filter((a) => key(a.recipient) === key(recipient));
  }

  async deliver(
    tenantId: TenantId,
    recipient: Recipient,
    notification: Notification,
  ): Promise<DeliveryResult> {
    const behaviour = await this.next(recipient);
    const record = (outcome: RecordedDelivery['outcome']) =>
      this.attempts.push({ tenantId, recipient, notification, outcome });
    if (behaviour instanceof Error) {
      record({ status: 'threw', error: behaviour.message });
      throw behaviour;
    }
    record(behaviour);
    return behaviour;
  }

  private async next(recipient: Recipient): Promise<DeliveryBehaviour> {
    const script = this.scripts.get(key(recipient));
    const scripted = script && script.length > 1 ? script.shift() : script?.[0];
    if (scripted) return scripted;
    if (this.options.conversations) {
      const reachable = await this.options.conversations.reachable([recipient]);
      if (!reachable.has(key(recipient))) return { status: 'no_conversation' };
    }
    this.sentCount += 1;
    return { status: 'sent', activityId: `activity-${this.sentCount}` };
  }
}

/** Raises a valid general request as `actor` and fails the test if it is refused. */
export async function raiseGeneral(harness: Harness, actor: Person): Promise<SubmittedChange> {
  const result = await submitChange(harness.deps, {
    actor,
    type: 'general',
    fields: validFields('general'),
  });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.value;
}
