/**
 * November 2026 at Contoso (Europe/London, emergency quota 2) for the monthly-summary tests,
 * written through the real stores; the template through the catalogue use case, so it has a name.
 * @packageDocumentation
 */
import type { ChangeRequestWrite } from '../../src/application/ports/change-request-store';
import { saveTemplate } from '../../src/application/use-cases/catalogue';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import type { ApprovalState } from '../../src/domain/approval/approval.policy';
import type { ChangeRequest, Person } from '../../src/domain/change-request/change-request';
import type { ClientProfile } from '../../src/domain/client/client';
import { formatRequestId } from '../../src/domain/shared/ids';
import { people, SUCCESSFUL_REVIEW, validInput } from './fixtures';

export const SUMMARY_TEMPLATE = {
  id: 'spb-add',
  name: 'Add a Business Premium licence',
  ranges: { type: 'licence_change', addSkus: ['SPB'], removeSkus: [] },
  implementationPlan: 'Assign SPB in Entra.',
  rollbackPlan:
    'If the user cannot sign in within 10 minutes, the technician removes SPB and re-assigns the ' +
    'previous licence, then verifies the user can open Outlook (about 15 minutes).',
} as const;

/** Writes one request row with its submission audit entry. */
export async function createRequestRow(
  deps: Pick<UseCaseDeps, 'requests'>,
  client: ClientProfile,
  patch: Partial<ChangeRequest> & Pick<ChangeRequest, 'title' | 'createdAt'>,
): Promise<ChangeRequest> {
  const input = validInput('general', { title: patch.title });
  const requester: Person = patch.requester ?? client.admins[0]!;
  const stored = await deps.requests.create(client.tenantId, (number): ChangeRequestWrite => {
    const request: ChangeRequest = {
      id: formatRequestId(client.code, number),
      number,
      tenantId: client.tenantId,
      clientCode: client.code,
      type: input.type,
      changeClass: 'normal',
      description: input.description,
      payload: input.payload,
      requester,
      source: 'teams',
      status: 'triaged',
      version: 2,
      updatedAt: patch.createdAt,
      ...patch,
    };
    return {
      request,
      audit: [
        {
          type: 'request.submitted',
          actor: { tid: requester.tid, oid: requester.oid },
          requestId: request.id,
          payload: { status: 'submitted', changeType: 'general', version: 1 },
          personal: { title: request.title },
        },
      ],
      outbox: [],
    };
  });
  return stored.request;
}

function retrospective(client: ClientProfile, status: ApprovalState['status']): ApprovalState {
  return {
    version: 3,
    clientTenantId: client.tenantId,
    mspTenantId: people.tina.tid,
    risk: 'high',
    requester: people.tina,
    leads: [people.lena],
    status,
    steps: [],
  };
}

export interface NovemberScenario {
  readonly standard: ChangeRequest;
  readonly normalDone: ChangeRequest;
  readonly normalOpen: ChangeRequest;
  readonly emergencyClosed: ChangeRequest;
  readonly emergencyOverdue: ChangeRequest;
  readonly emergencyOver: ChangeRequest;
  /** 23:30 on 31 October in London: October. */
  readonly october: ChangeRequest;
  /** Fabrikam, in November. */
  readonly fabrikam: ChangeRequest;
}

/** Books the scenario; the clock is expected at 23 November 2026 (the FakeClock default). */
export async function bookNovember(
  deps: UseCaseDeps,
  clients: { readonly contoso: ClientProfile; readonly fabrikam: ClientProfile },
): Promise<NovemberScenario> {
  const { contoso, fabrikam } = clients;
  const saved = await saveTemplate(deps, {
    actor: people.lena,
    id: SUMMARY_TEMPLATE.id,
    content: SUMMARY_TEMPLATE,
  });
  if (!saved.ok) throw new Error(`fixture template refused: ${saved.error.message}`);
  const row = (patch: Parameters<typeof createRequestRow>[2]) =>
    createRequestRow(deps, contoso, patch);
  const closure = (outcome: 'successful' | 'failed') => ({
    outcome,
    notes: '',
    by: people.tina,
    at: '2026-11-10T12:00:00.000Z',
  });
  const october = await row({
    title: 'Late October change',
    createdAt: '2026-10-31T23:30:00.000Z',
  });
  const standard = await row({
    title: 'Business Premium for Jane',
    createdAt: '2026-11-02T10:00:00.000Z',
    changeClass: 'standard',
    templateId: SUMMARY_TEMPLATE.id,
    status: 'closed',
    closure: closure('successful'),
  });
  const window = { start: '2026-11-08T01:00:00.000Z', end: '2026-11-08T03:00:00.000Z' };
  const assessment = (w = window) =>
    ({
      impact: 'minor',
      risk: 'medium',
      affectedUsers: 10,
      affectedServices: ['Network'],
      implementationPlan: 'Apply the change during the window, one site at a time.',
      testPlan: 'Check connectivity from each site afterwards.',
      rollbackPlan: 'Restore the saved configuration from before the change and reboot.',
      dependencies: [],
      requestedWindow: w,
      sensitivity: [],
      suggestedRisk: 'medium',
      signals: [],
      riskOverridden: false,
      by: people.tina,
      at: '2026-11-03T09:00:00.000Z',
    }) as const;
  const normalDone = await row({
    title: 'Patch the firewall',
    createdAt: '2026-11-03T09:00:00.000Z',
    assessment: assessment(),
    status: 'closed',
    review: {
      ...SUCCESSFUL_REVIEW,
      outcome: 'failed',
      objectiveAchieved: 'no',
      by: people.tina,
      at: '2026-11-09T09:00:00.000Z',
    },
    closure: closure('failed'),
  });
  const normalOpen = await row({
    title: 'Upgrade the core switch',
    createdAt: '2026-11-20T09:00:00.000Z',
    assessment: assessment({ start: '2026-11-29T01:00:00.000Z', end: '2026-11-29T02:00:00.000Z' }),
    status: 'awaiting_approval',
  });
  const emergencyClosed = await row({
    title: 'Block the phishing domain',
    createdAt: '2026-11-04T08:00:00.000Z',
    changeClass: 'emergency',
    requester: people.tina,
    status: 'closed',
    retrospective: retrospective(contoso, 'approved'),
    reviewDueAt: '2026-11-11T17:00:00.000Z',
    review: { ...SUCCESSFUL_REVIEW, by: people.tina, at: '2026-11-06T09:00:00.000Z' },
    closure: closure('successful'),
  });
  const emergencyOverdue = await row({
    title: 'Restore the mail flow',
    createdAt: '2026-11-12T08:00:00.000Z',
    changeClass: 'emergency',
    requester: people.tina,
    status: 'review_pending',
    retrospective: retrospective(contoso, 'pending'),
    reviewDueAt: '2026-11-19T17:00:00.000Z',
  });
  const emergencyOver = await row({
    title: 'Rotate the leaked key',
    createdAt: '2026-11-21T08:00:00.000Z',
    changeClass: 'emergency',
    requester: people.tina,
    status: 'approved',
    overEmergencyQuota: true,
  });
  const fabrikamRow = await createRequestRow(deps, fabrikam, {
    title: 'Fabrikam VPN',
    createdAt: '2026-11-05T09:00:00.000Z',
  });
  return {
    standard,
    normalDone,
    normalOpen,
    emergencyClosed,
    emergencyOverdue,
    emergencyOver,
    october,
    fabrikam: fabrikamRow,
  };
}
