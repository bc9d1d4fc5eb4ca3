import { parseApprovalPolicy } from '../../domain/approval/approval-policy';
import { validateClassOverrides } from '../../domain/assessment/change-class.policy';
import type { AuditActor } from '../../domain/audit/audit-event';
import { rolesFor, type ClientProfile, type ClientSettings } from '../../domain/client/client';
import { validatePsaMapping } from '../../domain/psa/psa-mapping.policy';
import { validateScheduleSettings } from '../../domain/schedule/schedule.settings';
import { isValidZone } from '../../domain/schedule/schedule.time';
import { validateSlaSettings } from '../../domain/sla/sla.settings';
import { DomainError, ValidationError, type FieldIssue } from '../../domain/shared/errors';
import { asClientCode, asTenantId } from '../../domain/shared/ids';
import { samePerson, type Person } from '../../domain/shared/person';
import { err, ok, type Result } from '../../domain/shared/result';
import type { StoredClientProfile } from '../ports/client-directory';
import type { UseCaseDeps } from './context';

/** The parts of a client's settings that can be configured, each replaced whole. */
export const SETTINGS_PARTS = [
  'timeZone',
  'approvalPolicy',
  'schedule',
  'classOverrides',
  'emergencyQuotaPerMonth',
  'reviewDueBusinessDays',
  'sla',
  'psa',
] as const;
export type SettingsPart = (typeof SETTINGS_PARTS)[number];

/**
 * Who configures: a person signed in through Teams (who must be an MSP lead of the client), or an
 * operator at the MSP acting as the system (the CLI), trusted because it holds storage credentials.
 */
export type SettingsActor =
  | { readonly kind: 'person'; readonly person: Person }
  | { readonly kind: 'operator'; readonly operator: AuditActor };

export interface ConfigureClientSettingsCommand {
  readonly actor: SettingsActor;
  /** The client by tenant id or by code; the tenant wins when both are given. */
  readonly clientTenantId?: string;
  readonly code?: string;
  /**
   * `{ approvalPolicy?, schedule?, classOverrides?, emergencyQuotaPerMonth?, reviewDueBusinessDays?,
   * timeZone?, sla?, psa? }`: each part given replaces the stored one; `null` clears a part back to Cabinet's
   * default; parts not given stay as they are.
   */
  readonly settings: unknown;
}

export interface ConfiguredSettings {
  readonly profile: ClientProfile;
  /** The parts whose value changed (empty: nothing was written). */
  readonly changed: readonly SettingsPart[];
}

const QUOTA = { min: 0, max: 100 } as const;
const REVIEW_DAYS = { min: 1, max: 30 } as const;

export const SettingsErrors = {
  clientNotFound: () =>
    new DomainError(
      'CLIENT.NOT_FOUND',
      'No such client, or you are not one of its MSP leads. Name an onboarded client by its code (see clients list).',
    ),
  notLead: (client: ClientProfile) =>
    new DomainError(
      'ACCESS.NOT_LEAD',
      `Only an MSP lead of ${client.name} can change its settings${
        client.leads.length > 0 ? `; ask ${client.leads.map((l) => l.name).join(' or ')}` : ''
      }.`,
      { code: client.code },
    ),
} as const;

/**
 * Configures a client's ITIL settings (issue 4 §1, §3, §4, §5), SLA (issue 5) and PSA mapping
 * (issue 6): approval policy, schedule, class overrides, emergency quota, review due days, SLA
 * targets, business hours and holidays, and the PSA company, priorities and statuses, each checked by its domain validator, and every field to fix reported at once. Saved
 * with a `client.settings_changed` entry naming the parts that changed.
 * @remarks The profile's time zone and the schedule's are one: a schedule without a zone takes the
 * client's, a different zone is refused, and moving the client to another zone needs its schedule
 * again (local window times would otherwise silently move).
 */
export async function configureClientSettings(
  deps: Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
  command: ConfigureClientSettingsCommand,
): Promise<Result<ConfiguredSettings, DomainError>> {
  const stored = await findClient(deps, command);
  if (!stored) return err(SettingsErrors.clientNotFound());
  const client = stored.profile;
  const actor = command.actor;
  if (actor.kind === 'person') {
    const roles = rolesFor(client, actor.person);
    if (roles.size === 0) return err(SettingsErrors.clientNotFound());
    if (!roles.has('lead')) return err(SettingsErrors.notLead(client));
  }
  const parsed = parseSettings(command.settings, client, deps.mspTenantId);
  if (!parsed.ok) return parsed;
  const settings = parsed.value;
  const changed = SETTINGS_PARTS.filter(
    (part) => JSON.stringify(settings[part]) !== JSON.stringify(client.settings[part]),
  );
  if (changed.length === 0) return ok({ profile: client, changed });
  const profile: ClientProfile = { ...client, settings };
  const auditActor =
    actor.kind === 'person' ? { tid: actor.person.tid, oid: actor.person.oid } : actor.operator;
  const saved = await deps.clients.update(profile, stored.etag, [
    {
      type: 'client.settings_changed',
      actor: auditActor,
      requestId: null,
      payload: { tenantId: client.tenantId, parts: [...changed] },
    },
  ]);
  return ok({ profile: saved.profile, changed });
}

async function findClient(
  deps: Pick<UseCaseDeps, 'clients'>,
  command: ConfigureClientSettingsCommand,
): Promise<StoredClientProfile | undefined> {
  const tenantId = command.clientTenantId ? asTenantId(command.clientTenantId) : undefined;
  if (tenantId) return deps.clients.get(tenantId);
  const code = command.code ? asClientCode(command.code.toUpperCase()) : undefined;
  return code ? deps.clients.getByCode(code) : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The client's settings with `raw` applied, or every field to fix. */
function parseSettings(
  raw: unknown,
  client: ClientProfile,
  mspTenantId: string,
): Result<ClientSettings, ValidationError> {
  if (!isObject(raw))
    return err(
      new ValidationError([
        {
          field: 'settings',
          message: `must be an object with any of ${SETTINGS_PARTS.join(', ')}`,
        },
      ]),
    );
  const issues: FieldIssue[] = [];
  for (const key of Object.keys(raw))
    if (!(SETTINGS_PARTS as readonly string[]).includes(key))
      issues.push({ field: key, message: `is not a setting (${SETTINGS_PARTS.join(', ')})` });
  const given = (part: SettingsPart) => Object.prototype.hasOwnProperty.call(raw, part);
  const next: Record<string, unknown> = { ...client.settings };
  const nested = (part: SettingsPart, found: readonly FieldIssue[]) =>
    issues.push(
      ...found.map((i) => ({
        field:
          i.field === 'form' || i.field === 'settings' || i.field === 'policy'
            ? part
            : `${part}.${i.field}`,
        message: i.message,
      })),
    );

  let timeZone = client.settings.timeZone;
  if (given('timeZone')) {
    const zone = raw['timeZone'];
    if (typeof zone !== 'string' || !isValidZone(zone.trim()))
      issues.push({
        field: 'timeZone',
        message: 'must be an IANA time zone like Europe/London or America/New_York',
      });
    else timeZone = zone.trim();
    next['timeZone'] = timeZone;
  }

  if (given('approvalPolicy')) {
    const value = raw['approvalPolicy'];
    if (value === null) delete next['approvalPolicy'];
    else {
      const policy = parseApprovalPolicy(value);
      if (!policy.ok) nested('approvalPolicy', policy.error.issues);
      else {
        nested('approvalPolicy', policyPeopleIssues(policy.value, client, mspTenantId));
        next['approvalPolicy'] = policy.value;
      }
    }
  }

  const storedSchedule = client.settings.schedule;
  if (given('schedule')) {
    const value = raw['schedule'];
    if (value === null) delete next['schedule'];
    else {
      const withZone =
        isObject(value) && value['timeZone'] === undefined ? { ...value, timeZone } : value;
      const schedule = validateScheduleSettings(withZone);
      if (!schedule.ok) nested('schedule', schedule.error.issues);
      else if (schedule.value.timeZone !== timeZone)
        issues.push({
          field: 'schedule.timeZone',
          message: `must be the client's time zone (${timeZone}); leave it out, or change timeZone itself`,
        });
      else next['schedule'] = schedule.value;
    }
  } else if (storedSchedule && storedSchedule.timeZone !== timeZone)
    issues.push({
      field: 'schedule',
      message: `is kept in ${storedSchedule.timeZone}; send the schedule again for ${timeZone} so its local times are meant there`,
    });

  if (given('classOverrides')) {
    const value = raw['classOverrides'];
    if (value === null) delete next['classOverrides'];
    else {
      const overrides = validateClassOverrides(value);
      if (!overrides.ok) nested('classOverrides', overrides.error.issues);
      else next['classOverrides'] = overrides.value;
    }
  }

  if (given('sla')) {
    const value = raw['sla'];
    if (value === null) delete next['sla'];
    else {
      const sla = validateSlaSettings(value);
      if (!sla.ok) nested('sla', sla.error.issues);
      else next['sla'] = sla.value;
    }
  }

  // Issue 6: requests raised from now on are linked to this PSA; clearing it stops new links only.
  if (given('psa')) {
    const value = raw['psa'];
    if (value === null) delete next['psa'];
    else {
      const psa = validatePsaMapping(value);
      if (!psa.ok) nested('psa', psa.error.issues);
      else next['psa'] = psa.value;
    }
  }

  const whole = (part: SettingsPart, range: { min: number; max: number }, unit: string) => {
    if (!given(part)) return;
    const value = raw[part];
    if (value === null) delete next[part];
    else if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < range.min ||
      value > range.max
    )
      issues.push({
        field: part,
        message: `must be a whole number of ${unit} from ${range.min} to ${range.max}`,
      });
    else next[part] = value;
  };
  whole('emergencyQuotaPerMonth', QUOTA, 'emergency changes a month');
  whole('reviewDueBusinessDays', REVIEW_DAYS, 'business days');

  return issues.length > 0
    ? err(new ValidationError(issues))
    : ok(next as unknown as ClientSettings);
}

/**
 * Each approver must sit on their step's side and be one of the client's people, so a typo in an
 * object id cannot create a seat nobody can fill.
 */
function policyPeopleIssues(
  policy: NonNullable<ClientSettings['approvalPolicy']>,
  client: ClientProfile,
  mspTenantId: string,
): FieldIssue[] {
  const known = [...client.admins, ...client.approvers, ...client.techs, ...client.leads];
  const issues: FieldIssue[] = [];
  const check = (field: string, p: Person, sides: readonly string[], sideText: string) => {
    if (!sides.includes(p.tid))
      issues.push({ field: `${field}.tid`, message: `must be ${sideText}` });
    else if (!known.some((k) => samePerson(k, p)))
      issues.push({
        field,
        message: `${p.name} is not one of ${client.name}'s people; add them with cabinet clients set-approvers (or set-techs, set-leads) first`,
      });
  };
  const clientSide = [client.tenantId as string];
  const mspSide = [mspTenantId];
  policy.steps.forEach((step, s) =>
    step.approvers.forEach((p, i) => {
      const field = `steps.${s}.approvers.${i}`;
      if (step.side === 'client')
        check(field, p, clientSide, "in the client's tenant (a client step)");
      else if (step.side === 'msp') check(field, p, mspSide, "in the MSP's tenant (an MSP step)");
      else check(field, p, [...clientSide, ...mspSide], "in the client's or the MSP's tenant");
    }),
  );
  policy.sensitiveApprovers.forEach((p, i) =>
    check(`sensitiveApprovers.${i}`, p, clientSide, "in the client's tenant (its second approver)"),
  );
  return issues;
}
