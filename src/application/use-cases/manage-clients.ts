import type { AuditActor, AuditEvent } from '../../domain/audit/audit-event';
import type { Person } from '../../domain/change-request/change-request';
import type { ClientProfile } from '../../domain/client/client';
import { DomainError, ValidationError, type FieldIssue } from '../../domain/shared/errors';
import { asClientCode, asObjectId, asTenantId, type TenantId } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';
import { err, ok, type Result } from '../../domain/shared/result';
import { ConflictError } from '../ports/errors';
import type { UseCaseDeps } from './context';

/** A person as an operator types them: object id and display name; the tenant is implied by the role. */
export interface PersonInput {
  readonly oid: string;
  readonly name: string;
}

export interface OnboardClientCommand {
  readonly operator: AuditActor;
  readonly tenantId: string;
  readonly code: string;
  readonly name: string;
  readonly admins?: readonly PersonInput[];
  readonly approvers?: readonly PersonInput[];
  readonly techs?: readonly PersonInput[];
  readonly leads?: readonly PersonInput[];
  readonly timeZone?: string;
}

export type ClientRoleList = 'admins' | 'approvers' | 'techs' | 'leads';

/** Onboards a client tenant; the onboarding is the first entry of the client's audit chain. */
export async function onboardClient(
  deps: Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
  command: OnboardClientCommand,
): Promise<Result<ClientProfile, DomainError>> {
  const issues: FieldIssue[] = [];
  const tenantId = asTenantId(command.tenantId);
  if (!tenantId)
    issues.push({ field: 'tenant', message: "must be the client's Entra tenant id (a GUID)" });
  if (tenantId === deps.mspTenantId)
    issues.push({ field: 'tenant', message: "is the MSP's own tenant, not a client" });
  const code = asClientCode(command.code);
  if (!code)
    issues.push({
      field: 'code',
      message: 'must be 2–16 letters or digits starting with a letter, e.g. CONTOSO',
    });
  const name = command.name.trim();
  if (name.length === 0 || name.length > 120)
    issues.push({ field: 'name', message: 'must be 1–120 characters' });
  const people = (role: ClientRoleList, tid: TenantId | undefined) =>
    toPeople(command[role] ?? [], tid, role, issues);
  const profile = {
    tenantId: tenantId!,
    code: code!,
    name,
    admins: people('admins', tenantId),
    approvers: people('approvers', tenantId),
    techs: people('techs', deps.mspTenantId),
    leads: people('leads', deps.mspTenantId),
    settings: { timeZone: command.timeZone ?? 'UTC' },
  };
  if (issues.length > 0) return err(new ValidationError(issues));
  try {
    const stored = await deps.clients.create(profile, [
      clientEvent(
        'client.onboarded',
        command.operator,
        profile,
        { code: profile.code },
        { name: profile.name },
      ),
    ]);
    return ok(stored.profile);
  } catch (error: unknown) {
    if (error instanceof ConflictError) return err(new DomainError('CLIENT.EXISTS', error.message));
    throw error;
  }
}

export interface SetClientRoleCommand {
  readonly operator: AuditActor;
  readonly tenantId: string;
  readonly role: ClientRoleList;
  readonly people: readonly PersonInput[];
}

/** Replaces who holds one role for a client (e.g. its approvers), audited in the client's chain. */
export async function setClientRole(
  deps: Pick<UseCaseDeps, 'clients' | 'mspTenantId'>,
  command: SetClientRoleCommand,
): Promise<Result<ClientProfile, DomainError>> {
  const tenantId = asTenantId(command.tenantId);
  const stored = tenantId ? await deps.clients.get(tenantId) : undefined;
  if (!stored)
    return err(new DomainError('CLIENT.NOT_FOUND', `No client with tenant ${command.tenantId}.`));
  const issues: FieldIssue[] = [];
  const memberTenant =
    command.role === 'techs' || command.role === 'leads'
      ? deps.mspTenantId
      : stored.profile.tenantId;
  const people = toPeople(command.people, memberTenant, command.role, issues);
  if (issues.length > 0) return err(new ValidationError(issues));
  const profile: ClientProfile = { ...stored.profile, [command.role]: people };
  const saved = await deps.clients.update(profile, stored.etag, [
    clientEvent(
      'client.roles_changed',
      command.operator,
      profile,
      { role: command.role, oids: people.map((p) => p.oid) },
      { names: people.map((p) => p.name) },
    ),
  ]);
  return ok(saved.profile);
}

function toPeople(
  input: readonly PersonInput[],
  tid: TenantId | undefined,
  role: string,
  issues: FieldIssue[],
): Person[] {
  const people: Person[] = [];
  for (const [index, p] of input.entries()) {
    const oid = asObjectId(p.oid);
    const name = p.name.trim();
    if (!oid)
      issues.push({
        field: `${role}[${index}]`,
        message: `"${p.oid.slice(0, 60)}" is not an Entra object id (a GUID)`,
      });
    if (name.length === 0 || name.length > 120)
      issues.push({
        field: `${role}[${index}]`,
        message: 'needs a display name of 1–120 characters',
      });
    if (oid && tid && !people.some((x) => x.oid === oid)) people.push({ tid, oid, name });
  }
  return people;
}

function clientEvent(
  type: AuditEvent['type'],
  operator: AuditActor,
  profile: ClientProfile,
  payload: JsonObject,
  personal: JsonObject,
): AuditEvent {
  return {
    type,
    actor: operator,
    requestId: null,
    payload: { tenantId: profile.tenantId, ...payload },
    personal,
  };
}
