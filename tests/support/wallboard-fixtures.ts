/**
 * Open-request index entries for the SLA wallboard tests: Contoso (Europe/London) and Fabrikam
 * (America/New_York) on Wednesday 25 November 2026, 10:00 UTC, with clocks met, at risk, paused,
 * breached (one only in the stored snapshot's future, one before New York's midnight) and no SLA yet.
 * @packageDocumentation
 */
import type {
  OpenRequestEntry,
  OpenRequestIndex,
  SlaOutcome,
} from '../../src/application/ports/open-request-index';
import type { ChangeStatus } from '../../src/domain/change-request/change-request';
import type { ChangeType } from '../../src/domain/change-request/change-request.payloads';
import type { ChangeRequestId, ClientCode, TenantId } from '../../src/domain/shared/ids';
import type { SlaClock, SlaSnapshot, SlaState } from '../../src/domain/sla/sla';
import { CONTOSO, FABRIKAM } from '../../src/sandbox/sandbox-tenants';

/** The wallboard's "now": a Wednesday, so "this week" (from Monday) is longer than "today". */
export const WALLBOARD_NOW = new Date('2026-11-25T10:00:00.000Z');

const clock = (dueAt: string, state: SlaState, metAt?: string): SlaClock => ({
  targetMinutes: 60,
  dueAt,
  usedMinutes: 30,
  state,
  ...(metAt ? { metAt } : {}),
});

const sla = (acknowledge: SlaClock, resolve: SlaClock, state: SlaState): SlaSnapshot => ({
  acknowledge,
  resolve,
  state,
  computedAt: '2026-11-25T09:40:00.000Z',
});

function entry(
  client: { readonly tenantId: string; readonly code: string },
  number: number,
  type: ChangeType,
  status: ChangeStatus,
  title: string,
  snapshot?: SlaSnapshot,
): OpenRequestEntry {
  return {
    tenantId: client.tenantId as TenantId,
    clientCode: client.code as ClientCode,
    requestId: `${client.code}-${number}` as ChangeRequestId,
    number,
    type,
    changeClass: 'normal',
    title,
    status,
    version: 3,
    ...(snapshot ? { sla: snapshot } : {}),
    slaPosted: [],
    createdAt: '2026-11-24T08:00:00.000Z',
    updatedAt: '2026-11-25T09:40:00.000Z',
  };
}

/** Eight open requests, four a client; ids are `<CODE>-<n>`. */
export function wallboardEntries(): OpenRequestEntry[] {
  const c = CONTOSO;
  const f = FABRIKAM;
  return [
    entry(
      c,
      1,
      'incident',
      'triaged',
      'Mail flow down',
      sla(
        clock('2026-11-25T09:15:00.000Z', 'met', '2026-11-25T09:05:00.000Z'),
        clock('2026-11-25T10:30:00.000Z', 'at_risk'),
        'at_risk',
      ),
    ),
    // Stored while still on track; its acknowledge time passed since, so it is breached now.
    entry(
      c,
      2,
      'offboard',
      'submitted',
      'Offboard Sam',
      sla(
        clock('2026-11-25T09:50:00.000Z', 'on_track'),
        clock('2026-11-26T09:00:00.000Z', 'on_track'),
        'on_track',
      ),
    ),
    entry(
      c,
      3,
      'new_user',
      'needs_info',
      'New starter Kim',
      sla(
        clock('2026-11-24T09:00:00.000Z', 'breached', '2026-11-24T10:00:00.000Z'),
        clock('2026-11-26T12:00:00.000Z', 'paused'),
        'breached',
      ),
    ),
    entry(
      c,
      4,
      'general',
      'approved',
      'Printer rollout',
      sla(
        clock('2026-11-24T09:00:00.000Z', 'met', '2026-11-24T08:30:00.000Z'),
        clock('2026-11-27T17:00:00.000Z', 'on_track'),
        'on_track',
      ),
    ),
    entry(
      f,
      1,
      'licence_change',
      'submitted',
      'Visio for Pat',
      sla(
        clock('2026-11-25T11:15:00.000Z', 'on_track'),
        clock('2026-11-26T11:00:00.000Z', 'on_track'),
        'on_track',
      ),
    ),
    entry(f, 2, 'access_change', 'triaged', 'Finance share for Lee'),
    // 04:30 UTC is 23:30 on Tuesday in New York: this week, not today there.
    entry(
      f,
      3,
      'incident',
      'in_progress',
      'VPN outage',
      sla(
        clock('2026-11-24T21:00:00.000Z', 'met', '2026-11-24T20:50:00.000Z'),
        clock('2026-11-25T04:30:00.000Z', 'breached'),
        'breached',
      ),
    ),
    entry(
      f,
      4,
      'general',
      'awaiting_approval',
      'Firewall rule',
      sla(
        clock('2026-11-24T16:00:00.000Z', 'met', '2026-11-24T15:00:00.000Z'),
        clock('2026-11-26T15:00:00.000Z', 'on_track'),
        'on_track',
      ),
    ),
  ];
}

/** An index holding `entries` and the `outcomes` of ended requests (the wallboard only reads). */
export function seededIndex(
  entries: readonly OpenRequestEntry[],
  outcomes: readonly SlaOutcome[] = [],
): Pick<OpenRequestIndex, 'list' | 'outcomes'> {
  return {
    list: (options = {}) =>
      Promise.resolve(
        entries.filter((e) => !options.tenantIds || options.tenantIds.includes(e.tenantId)),
      ),
    outcomes: (options) =>
      Promise.resolve(
        outcomes.filter(
          (o) =>
            o.endedAt >= options.since &&
            (!options.tenantIds || options.tenantIds.includes(o.tenantId)),
        ),
      ),
  };
}
