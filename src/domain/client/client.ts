import type { ClientApprovalPolicy } from '../approval/approval-policy';
import type { ClassOverrides } from '../change-request/change-class';
import type { PsaMapping } from '../psa/psa';
import type { ScheduleSettings } from '../schedule/schedule';
import type { ClientSlaSettings } from '../sla/sla';
import type { ClientCode, ObjectId, TenantId } from '../shared/ids';
import type { Person } from '../shared/person';

/** Per-client settings (read through `rulesFor`, which fills in Cabinet's defaults). */
export interface ClientSettings {
  /** IANA zone the client's dates are read in (form dates, "today"). */
  readonly timeZone: string;
  /** Approval steps (issue 4 §3); absent: any one of the client's approvers approves. */
  readonly approvalPolicy?: ClientApprovalPolicy;
  /** Maintenance windows, blackouts and notice (issue 4 §5); absent: no windows, 48 h notice. */
  readonly schedule?: ScheduleSettings;
  /** The client's changes to the MSP's class defaults per change type. */
  readonly classOverrides?: ClassOverrides;
  /** Emergency changes a month before the next one is flagged (default 2). */
  readonly emergencyQuotaPerMonth?: number;
  /** Business days after implementation an emergency change's review is due (default 5). */
  readonly reviewDueBusinessDays?: number;
  /** SLA targets per type, business hours and holidays (issue 5); absent: Cabinet's defaults. */
  readonly sla?: ClientSlaSettings;
  /** Where the client's requests go in the MSP's PSA (issue 6); absent: no PSA sync. */
  readonly psa?: PsaMapping;
}

/**
 * One client tenant the MSP serves, and who plays which part for it.
 * @remarks Client admins and approvers live in the client's tenant; technicians and leads in the MSP's.
 */
export interface ClientProfile {
  readonly tenantId: TenantId;
  readonly code: ClientCode;
  readonly name: string;
  readonly admins: readonly Person[];
  readonly approvers: readonly Person[];
  readonly techs: readonly Person[];
  readonly leads: readonly Person[];
  readonly settings: ClientSettings;
}

export type ClientRole = 'client_admin' | 'approver' | 'tech' | 'lead';

/** The parts `who` plays for this client. Identity is tenant + object id, never a name. */
export function rolesFor(
  profile: ClientProfile,
  who: { readonly tid: TenantId; readonly oid: ObjectId },
): ReadonlySet<ClientRole> {
  const roles = new Set<ClientRole>();
  const has = (people: readonly Person[]) =>
    people.some((p) => p.tid === who.tid && p.oid === who.oid);
  if (has(profile.admins)) roles.add('client_admin');
  if (has(profile.approvers)) roles.add('approver');
  if (has(profile.techs)) roles.add('tech');
  if (has(profile.leads)) roles.add('lead');
  return roles;
}

/** MSP staff (technicians and leads) may work on the client's requests. */
export function isMspStaff(roles: ReadonlySet<ClientRole>): boolean {
  return roles.has('tech') || roles.has('lead');
}

/** Client-side people (admins, approvers) may raise and follow requests in their own tenant. */
export function mayRaise(roles: ReadonlySet<ClientRole>): boolean {
  return roles.has('client_admin') || roles.has('approver') || isMspStaff(roles);
}
