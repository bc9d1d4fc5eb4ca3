import { strict as assert } from 'node:assert';
import {
  assessChange,
  previewAssessment,
  sendForApproval,
} from '../../src/application/use-cases/assess-change';
import { configureClientSettings } from '../../src/application/use-cases/client-settings';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import type { Clock } from '../../src/application/ports/clock';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { Assessment, RequestedWindow } from '../../src/domain/assessment/assessment';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { bookableSchedule, rulesFor, type ClientRules } from '../../src/domain/client/client-rules';
import { nextFittingSlots } from '../../src/domain/schedule/schedule.policy';
import type { Person } from '../../src/domain/shared/person';
import type { TenantId } from '../../src/domain/shared/ids';
import { validAssessment } from './fixtures';

/**
 * Real time, moved on when a test needs the change's window to come: a normal change starts only
 * inside its scheduled slot, which is at least the client's notice period ahead.
 */
export class MovableClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  /** From now on the clock reads `instant` plus the real time that has passed since. */
  moveTo(instant: string): void {
    this.offsetMs = Date.parse(instant) - Date.now();
  }
}

/**
 * Use cases on the same tables as a running Cabinet, for steps whose surface is not under test;
 * its relay picks the outbox rows they write up on its next sweep.
 */
export function useCasesOn(
  storage: TableStorage,
  clock: Clock,
  mspTenantId: TenantId,
): UseCaseDeps {
  return {
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    templates: storage.catalogue(mspTenantId),
    clock,
    mspTenantId,
  };
}

export interface AssessmentOptions {
  /** Who assesses and sends; the client's first technician unless given. */
  readonly technician?: Person;
  /** Parts of the assessment to change; the window defaults to the client's next fitting slot. */
  readonly assessment?: Partial<Assessment>;
}

const SLOT_MINUTES = 120;
const HOUR_MS = 3_600_000;

/**
 * The first two-hour slot the client's schedule accepts after its notice period, from the
 * deps' clock: inside a maintenance window (any time when none is configured), outside blackout.
 */
export function nextSlot(rules: ClientRules, now: Date): RequestedWindow {
  const schedule = bookableSchedule(rules);
  // An hour past the notice period, so the slot still fits when the test's clock has moved on a bit.
  const from = now.getTime() + (rules.schedule.noticeHours + 1) * HOUR_MS;
  const slots = nextFittingSlots(schedule, SLOT_MINUTES, from, 1);
  assert.ok(slots.ok && slots.value[0], 'the client has no slot for a change');
  return { start: slots.value[0].start, end: slots.value[0].end };
}

/** Card or tab form fields for an assessment, as a technician would send them. */
export function assessmentFields(a: Assessment): Record<string, unknown> {
  return {
    impact: a.impact,
    risk: a.risk,
    affectedUsers: a.affectedUsers,
    affectedServices: [...a.affectedServices],
    implementationPlan: a.implementationPlan,
    testPlan: a.testPlan,
    ...(a.rollbackPlan !== undefined ? { rollbackPlan: a.rollbackPlan } : {}),
    dependencies: [...a.dependencies],
    ...(a.requestedWindow
      ? { windowStart: a.requestedWindow.start, windowEnd: a.requestedWindow.end }
      : {}),
    sensitivity: [...a.sensitivity],
    ...(a.sensitivityOther !== undefined ? { sensitivityOther: a.sensitivityOther } : {}),
  };
}

/**
 * Takes a submitted (triaged) request to `awaiting_approval` through the real use cases: the
 * client's technician assesses it (a real rollback plan, the next slot the client's schedule
 * accepts, Cabinet's suggested risk) and sends it for approval. Fails the test on any refusal.
 */
export async function sendToApprovers(
  deps: UseCaseDeps,
  request: Pick<ChangeRequest, 'id' | 'tenantId'>,
  options: AssessmentOptions = {},
): Promise<ChangeRequest> {
  const client = (await deps.clients.get(request.tenantId))?.profile;
  assert.ok(client, `no client ${request.tenantId}`);
  const technician = options.technician ?? client.techs[0];
  assert.ok(technician, `${client.name} has no technician`);
  const draft = validAssessment({
    requestedWindow: nextSlot(rulesFor(client), deps.clock.now()),
    ...options.assessment,
  });
  const command = { actor: technician, requestId: request.id, fields: assessmentFields(draft) };
  const preview = await previewAssessment(deps, command);
  assert.ok(preview.ok, preview.ok ? '' : preview.error.message);
  // The technician settles on Cabinet's suggestion, so no override reason is needed.
  const fields = assessmentFields({ ...draft, risk: preview.value.suggestion.level });
  const assessed = await assessChange(deps, { ...command, fields });
  assert.equal(assessed.kind, 'done', assessed.kind === 'refused' ? assessed.error.message : '');
  assert.ok(assessed.kind === 'done');
  const sent = await sendForApproval(deps, {
    actor: technician,
    requestId: request.id,
    version: assessed.request.version,
  });
  assert.equal(sent.kind, 'done', sent.kind === 'refused' ? sent.error.message : '');
  assert.ok(sent.kind === 'done');
  assert.equal(sent.request.status, 'awaiting_approval');
  return sent.request;
}

/**
 * Clears a client's schedule back to Cabinet's default (no maintenance windows, no blackouts), as
 * `cabinet clients settings` would, so its approved changes may start at once. For tests about
 * execution in sandbox mode, where the seed gives Contoso evening windows 48 h ahead and the
 * surfaces check tokens against real time, so the clock cannot be moved into the window.
 */
export async function takeChangesAnyTime(
  deps: Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
  tenantId: string,
): Promise<void> {
  const cleared = await configureClientSettings(deps, {
    actor: { kind: 'operator', operator: { tid: deps.mspTenantId, oid: 'cabinet-test' } },
    clientTenantId: tenantId,
    settings: { schedule: null },
  });
  assert.ok(cleared.ok, cleared.ok ? '' : cleared.error.message);
  assert.equal(rulesFor(cleared.value.profile).windowsConfigured, false);
}
