/**
 * Scheduled changes and client schedules for the change-calendar tests, written through the real
 * stores (the assess and send-for-approval use cases are not what these tests are about).
 * @packageDocumentation
 */
import type { ChangeRequestWrite } from '../../src/application/ports/change-request-store';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { onboardClient } from '../../src/application/use-cases/manage-clients';
import type {
  ChangeClass,
  ChangeRequest,
  ChangeStatus,
  Person,
} from '../../src/domain/change-request/change-request';
import type { ClientProfile } from '../../src/domain/client/client';
import type { ScheduleSettings } from '../../src/domain/schedule/schedule';
import { validateScheduleSettings } from '../../src/domain/schedule/schedule.settings';
import { formatRequestId, type ChangeRequestId } from '../../src/domain/shared/ids';
import { validInput } from './fixtures';

/** Onboards clients through the real use case (each chain starts with `client.onboarded`). */
export async function onboard(
  deps: Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
  operator: Person,
  ...profiles: ClientProfile[]
): Promise<void> {
  const names = (list: readonly Person[]) => list.map((p) => ({ oid: p.oid, name: p.name }));
  for (const profile of profiles) {
    const result = await onboardClient(deps, {
      operator: { tid: operator.tid, oid: operator.oid },
      tenantId: profile.tenantId,
      code: profile.code,
      name: profile.name,
      admins: names(profile.admins),
      approvers: names(profile.approvers),
      techs: names(profile.techs),
      leads: names(profile.leads),
      timeZone: profile.settings.timeZone,
    });
    if (!result.ok) throw new Error(`onboarding ${profile.code} failed: ${result.error.message}`);
  }
}

/** Saves validated schedule settings on a client's profile, audited as a settings change. */
export async function setSchedule(
  deps: Pick<UseCaseDeps, 'clients'>,
  client: ClientProfile,
  raw: unknown,
  by: Person,
): Promise<ScheduleSettings> {
  const settings = validateScheduleSettings(raw);
  if (!settings.ok) throw new Error(`fixture schedule is invalid: ${settings.error.message}`);
  const stored = await deps.clients.get(client.tenantId);
  if (!stored) throw new Error(`${client.code} is not onboarded`);
  await deps.clients.update(
    {
      ...stored.profile,
      settings: { ...stored.profile.settings, schedule: settings.value },
    },
    stored.etag,
    [
      {
        type: 'client.settings_changed',
        actor: { tid: by.tid, oid: by.oid },
        requestId: null,
        payload: { section: 'schedule' },
      },
    ],
  );
  return settings.value;
}

export interface ScheduledRequestOptions {
  readonly client: ClientProfile;
  readonly title: string;
  /** The requested window, UTC instants. */
  readonly start: string;
  readonly end: string;
  readonly requester: Person;
  /** Who assessed it (the technician unless an assignee is given). */
  readonly assessor: Person;
  readonly assignee?: Person;
  readonly changeClass?: ChangeClass;
  readonly status?: ChangeStatus;
  readonly dependencies?: readonly ChangeRequestId[];
  /** Leaves the assessment without a requested window (an unscheduled change). */
  readonly unscheduled?: boolean;
}

const ASSESSED_AT = '2026-03-01T09:00:00.000Z';

/** Creates an assessed request with a requested window in the client's partition, with its audit. */
export async function createScheduledRequest(
  deps: Pick<UseCaseDeps, 'requests'>,
  options: ScheduledRequestOptions,
): Promise<ChangeRequest> {
  const input = validInput('general', { title: options.title });
  const { client } = options;
  const stored = await deps.requests.create(client.tenantId, (number): ChangeRequestWrite => {
    const request: ChangeRequest = {
      id: formatRequestId(client.code, number),
      number,
      tenantId: client.tenantId,
      clientCode: client.code,
      type: input.type,
      changeClass: options.changeClass ?? 'normal',
      title: input.title,
      description: input.description,
      payload: input.payload,
      requester: options.requester,
      source: 'teams',
      status: options.status ?? 'awaiting_approval',
      version: 2,
      assessment: {
        impact: 'minor',
        risk: 'medium',
        affectedUsers: 10,
        affectedServices: ['Network'],
        implementationPlan: 'Apply the change during the window, one site at a time.',
        testPlan: 'Check connectivity from each site afterwards.',
        rollbackPlan: 'Restore the saved configuration from before the change and reboot.',
        dependencies: options.dependencies ?? [],
        ...(options.unscheduled
          ? {}
          : { requestedWindow: { start: options.start, end: options.end } }),
        sensitivity: [],
        suggestedRisk: 'medium',
        signals: [],
        riskOverridden: false,
        by: options.assessor,
        at: ASSESSED_AT,
      },
      ...(options.assignee ? { assignee: options.assignee } : {}),
      createdAt: ASSESSED_AT,
      updatedAt: ASSESSED_AT,
    };
    const actor = (p: Person) => ({ tid: p.tid, oid: p.oid });
    return {
      request,
      audit: [
        {
          type: 'request.submitted',
          actor: actor(options.requester),
          requestId: request.id,
          payload: { status: 'submitted', changeType: 'general', version: 1 },
          personal: { title: request.title },
        },
        {
          type: 'request.assessed',
          actor: actor(options.assessor),
          requestId: request.id,
          payload: {
            version: 2,
            risk: 'medium',
            windowStart: options.start,
            windowEnd: options.end,
          },
        },
      ],
      outbox: [],
    };
  });
  return stored.request;
}

/**
 * Contoso's schedule for the scenario: Sunday 00:30 for 3 h (spanning the night British clocks go
 * forward, 29 March 2026) and a freeze on the last business day of each month.
 */
export const CONTOSO_SCHEDULE = {
  timeZone: 'Europe/London',
  maintenanceWindows: [
    {
      kind: 'weekly',
      id: 'sunday-early',
      name: 'Sunday early',
      days: ['sun'],
      start: '00:30',
      durationMinutes: 180,
    },
  ],
  blackouts: [{ kind: 'month_end', id: 'month-end', name: 'Month-end close', businessDays: 1 }],
  noticeHours: 48,
  emergencyExempt: true,
} as const;

/** The requests the scenario books, by role in the story. */
export interface CalendarScenario {
  /** Contoso, Tina: overlaps `switchUpgrade` (same client). */
  readonly firewall: ChangeRequest;
  /** Contoso, Lena: overlaps `firewall`, and Lena is double-booked on `fabrikamVpn`. */
  readonly switchUpgrade: ChangeRequest;
  /** Contoso: inside the month-end blackout. */
  readonly mailbox: ChangeRequest;
  /** Contoso: depends on `directorySync` but starts before it ends. */
  readonly licences: ChangeRequest;
  readonly directorySync: ChangeRequest;
  /** Fabrikam, Lena, overlapping `switchUpgrade`. */
  readonly fabrikamVpn: ChangeRequest;
  /** Contoso, closed: not on the calendar. */
  readonly closed: ChangeRequest;
  /** Contoso, assessed without a window: not on the calendar. */
  readonly unscheduled: ChangeRequest;
}

/**
 * Books the scenario's changes in March and April 2026 around the British clock change.
 * @param cast Contoso's requester and technician, Fabrikam's requester, and Lena (lead of both).
 */
export async function bookCalendarScenario(
  deps: Pick<UseCaseDeps, 'requests' | 'clients'>,
  clients: { readonly contoso: ClientProfile; readonly fabrikam: ClientProfile },
  cast: {
    readonly carla: Person;
    readonly tina: Person;
    readonly lena: Person;
    readonly fiona: Person;
  },
): Promise<CalendarScenario> {
  const { contoso, fabrikam } = clients;
  await setSchedule(deps, contoso, CONTOSO_SCHEDULE, cast.lena);
  const book = (
    options: Omit<ScheduledRequestOptions, 'requester' | 'assessor'> & {
      readonly requester?: Person;
      readonly assessor?: Person;
    },
  ) =>
    createScheduledRequest(deps, {
      requester: cast.carla,
      assessor: cast.tina,
      ...options,
    });
  const firewall = await book({
    client: contoso,
    title: 'Patch the firewall',
    start: '2026-03-22T01:00:00.000Z',
    end: '2026-03-22T02:00:00.000Z',
    assignee: cast.tina,
  });
  const switchUpgrade = await book({
    client: contoso,
    title: 'Upgrade the core switch',
    start: '2026-03-22T01:30:00.000Z',
    end: '2026-03-22T03:00:00.000Z',
    assignee: cast.lena,
  });
  const mailbox = await book({
    client: contoso,
    title: 'Migrate the finance mailbox',
    start: '2026-03-31T09:00:00.000Z',
    end: '2026-03-31T10:00:00.000Z',
    changeClass: 'emergency',
    status: 'approved',
  });
  const directorySync = await book({
    client: contoso,
    title: 'Turn on directory sync',
    start: '2026-04-05T01:30:00.000Z',
    end: '2026-04-05T02:00:00.000Z',
  });
  const licences = await book({
    client: contoso,
    title: 'Tidy up licences',
    start: '2026-04-05T00:00:00.000Z',
    end: '2026-04-05T01:00:00.000Z',
    dependencies: [directorySync.id],
  });
  const closed = await book({
    client: contoso,
    title: 'Old closed change',
    start: '2026-03-22T01:00:00.000Z',
    end: '2026-03-22T02:00:00.000Z',
    status: 'closed',
  });
  const unscheduled = await book({
    client: contoso,
    title: 'Not scheduled yet',
    start: '2026-03-22T01:00:00.000Z',
    end: '2026-03-22T02:00:00.000Z',
    unscheduled: true,
  });
  const fabrikamVpn = await book({
    client: fabrikam,
    title: 'Replace the VPN concentrator',
    start: '2026-03-22T02:00:00.000Z',
    end: '2026-03-22T04:00:00.000Z',
    requester: cast.fiona,
    assessor: cast.lena,
    assignee: cast.lena,
  });
  return {
    firewall,
    switchUpgrade,
    mailbox,
    licences,
    directorySync,
    fabrikamVpn,
    closed,
    unscheduled,
  };
}
