import type { AuditEvent } from '../../domain/audit/audit-event';
import type {
  ChangeRequest,
  ChangeSource,
  Person,
} from '../../domain/change-request/change-request';
import {
  createChangeRequest,
  transition,
  type Transition,
  type TransitionContext,
} from '../../domain/change-request/change-request.machine';
import { validateChangeInput } from '../../domain/change-request/change-request.payloads';
import { planApprovals } from '../../domain/approval/approval.policy';
import { classDefaultFor, reclassify } from '../../domain/assessment/change-class.policy';
import { matchActiveTemplate } from '../../domain/catalogue/template-match.policy';
import { approvalFacts } from '../../domain/change-request/approval-facts';
import { mayRaise, type ClientProfile, type ClientRole } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import type { DomainError } from '../../domain/shared/errors';
import { formatRequestId } from '../../domain/shared/ids';
import { err, ok, type Result } from '../../domain/shared/result';
import type { Receipt } from '../ports/change-request-store';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';
import { identify, membershipFor } from './identify';
import { notify } from './notifications';

export interface SubmitChangeCommand {
  /** From the authenticated activity or token, never from form data. */
  readonly actor: Person;
  /** Which client an MSP technician raises this for; ignored for client users (always their own tenant). */
  readonly clientTenantId?: string;
  readonly type: unknown;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface SubmittedChange {
  /** Triaged and waiting for the MSP's assessment, or approved at once under a standard-change template. */
  readonly request: ChangeRequest;
}

/**
 * Raises a change request for a Teams user, after checking they may raise one for the client
 * (their own tenant, or a client they work for as MSP staff). A request that fits a standard-change
 * template the client approved is approved at once; others wait for the MSP's assessment (issue 4:
 * no approval without a rollback plan).
 */
export async function submitChange(
  deps: UseCaseDeps,
  command: SubmitChangeCommand,
): Promise<Result<SubmittedChange, DomainError>> {
  const identity = await identify(deps, command.actor);
  const isMsp = command.actor.tid === deps.mspTenantId;
  const membership = isMsp
    ? command.clientTenantId
      ? membershipFor(identity, command.clientTenantId)
      : undefined
    : membershipFor(identity, command.actor.tid);
  if (!membership || !mayRaise(membership.roles)) {
    if (isMsp && identity.isMspStaff)
      return err(
        command.clientTenantId ? AccessErrors.clientNotAllowed() : AccessErrors.chooseClient(),
      );
    return err(AccessErrors.notRegistered());
  }
  return raiseChange(deps, {
    client: membership.client,
    roles: membership.roles,
    requester: command.actor,
    source: isMsp ? 'msp' : 'teams',
    type: command.type,
    fields: command.fields,
  });
}

/** A request to raise for a client whose caller is already known to be allowed to raise it. */
export interface RaiseChangeInput {
  readonly client: ClientProfile;
  /** The requester's parts for this client (an emergency needs MSP staff). */
  readonly roles: ReadonlySet<ClientRole>;
  readonly requester: Person;
  readonly source: ChangeSource;
  readonly type: unknown;
  readonly fields: Readonly<Record<string, unknown>>;
  /** What an integration writes in the same transaction as the request (webhook receipts, its audit entry). */
  readonly alongside?: (request: ChangeRequest) => {
    readonly audit: readonly AuditEvent[];
    readonly receipts: readonly Receipt[];
  };
}

/**
 * Raises a change request for an allowed caller (a Teams user through `submitChange`, a signed
 * webhook through intake): validates the form, creates the request with the client's next number,
 * class and PSA link, and triages it — one transaction with its audit entries and notifications.
 */
export async function raiseChange(
  deps: UseCaseDeps,
  input: RaiseChangeInput,
): Promise<Result<SubmittedChange, DomainError>> {
  const { client, requester, fields } = input;
  const now = deps.clock.now();
  const form = validateChangeInput(input.type, fields, {
    today: now.toISOString().slice(0, 10),
  });
  if (!form.ok) return form;

  const rules = rulesFor(client);
  const at = now.toISOString();
  const template = matchActiveTemplate(await deps.templates.activeFor(client.tenantId), {
    type: form.value.type,
    payload: form.value.payload,
  }).template;
  const changeClass = template
    ? 'standard'
    : classDefaultFor(form.value.type, rules.classOverrides).defaultClass;
  const emergency =
    fields['changeClass'] === 'emergency' && changeClass !== 'emergency'
      ? reclassify(
          form.value.type,
          changeClass,
          'emergency',
          typeof fields['emergencyReason'] === 'string' ? fields['emergencyReason'] : '',
          input.roles,
          { overrides: rules.classOverrides },
        )
      : undefined;
  if (emergency && !emergency.ok) return emergency;

  const stored = await deps.requests.create(client.tenantId, (number) => {
    const created = createChangeRequest(form.value, {
      id: formatRequestId(client.code, number),
      number,
      tenantId: client.tenantId,
      clientCode: client.code,
      requester,
      source: input.source,
      ...(client.settings.psa ? { psa: { psa: client.settings.psa.psa } } : {}),
      changeClass,
      ...(template ? { templateId: template.template.id } : {}),
      now: at,
      rules,
    });
    const system: TransitionContext = {
      actor: requester,
      roles: new Set(),
      system: true,
      now: at,
      rules,
    };
    const steps = [created, mustTransition(transition(created.next, { type: 'Triaged' }, system))];
    if (emergency)
      steps.push(
        mustTransition(
          transition(
            steps.at(-1)!.next,
            { type: 'Reclassified', to: 'emergency', reason: emergency.value.reason },
            { ...system, system: false, roles: input.roles },
          ),
        ),
      );
    if (template) {
      const triaged = steps.at(-1)!.next;
      const plan = planApprovals(
        rules.approvalPolicy,
        approvalFacts(triaged, deps.mspTenantId),
        client.leads,
      );
      if (plan.ok && plan.value.mode === 'pre_approved')
        steps.push(
          mustTransition(
            transition(triaged, { type: 'ApprovalRequested', plan: plan.value }, system),
          ),
        );
    }
    const request = steps.at(-1)!.next;
    const extra = input.alongside?.(request);
    return {
      request,
      audit: [...steps.map((t) => t.audit), ...(extra?.audit ?? [])],
      ...(extra ? { receipts: extra.receipts } : {}),
      outbox:
        request.status === 'approved'
          ? client.techs.map((t) => notify(t, request, 'ready_to_execute'))
          : client.techs.map((t) => notify(t, request, 'assessment_needed')),
    };
  });
  deps.outboxWritten?.(client.tenantId);
  return ok({ request: stored.request });
}

/** Transitions inside a create are pre-checked; a refusal there is a broken invariant, not a user error. */
function mustTransition(result: Result<Transition, DomainError>): Transition {
  if (!result.ok)
    throw new Error(`Invariant broken while submitting: ${result.error.code}`, {
      cause: result.error,
    });
  return result.value;
}
