import { randomBytes } from 'node:crypto';
import { RISK_LEVELS } from '../../domain/approval/approval-policy';
import {
  createDelegation as checkDelegation,
  instantMillis,
  isInForce,
  type Delegation,
} from '../../domain/approval/delegation.policy';
import type { AuditEvent } from '../../domain/audit/audit-event';
import { rulesFor } from '../../domain/client/client-rules';
import type { ClientProfile } from '../../domain/client/client';
import { DomainError, ValidationError, type FieldIssue } from '../../domain/shared/errors';
import { asClientCode } from '../../domain/shared/ids';
import { samePerson, type Person } from '../../domain/shared/person';
import { err, ok, type Result } from '../../domain/shared/result';
import type { UseCaseDeps } from './context';
import { identify, type ClientMembership } from './identify';

type DelegationDeps = Pick<UseCaseDeps, 'clients' | 'delegations' | 'clock' | 'mspTenantId'>;

export const DelegationErrors = {
  notFound: () =>
    new DomainError(
      'DELEGATION.NOT_FOUND',
      'That delegation was not found, or it is not yours to see. Reload the list of delegations.',
    ),
  clientNotFound: (code: string) =>
    new DomainError(
      'CLIENT.NOT_FOUND',
      `No client ${code} that you work with. Pick one of your clients.`,
      { code },
    ),
  noSeat: (client: ClientProfile) =>
    new DomainError(
      'ACCESS.NO_SEAT',
      `You do not approve changes for ${client.name}, so there is no seat of yours to delegate. Only its approvers and MSP leads (or members of its approval steps) can delegate.`,
      { code: client.code },
    ),
  notRevoker: () =>
    new DomainError(
      'ACCESS.NOT_DELEGATOR',
      'Only the person who delegated, or an MSP lead of the client, can revoke this delegation.',
    ),
  alreadyEnded: (why: 'revoked' | 'expired') =>
    new DomainError(
      'DELEGATION.ENDED',
      why === 'revoked'
        ? 'This delegation has already been revoked.'
        : 'This delegation has already expired; there is nothing to revoke.',
      { why },
    ),
} as const;

/** A delegation as lists show it, with whether it counts at the moment of asking. */
export interface DelegationView {
  readonly delegation: Delegation;
  readonly clientCode: string;
  readonly clientName: string;
  readonly inForce: boolean;
  /** Revoked or past its end: it will never count again, so there is nothing left to revoke. */
  readonly ended: boolean;
}

export interface CreateDelegationCommand {
  readonly actor: Person;
  readonly clientCode: string;
  /** The delegate's object id; the client's profile says who that is and on which side. */
  readonly toOid: string;
  readonly riskCeiling: string;
  /** ISO 8601 instants with an offset; `validFrom` defaults to now. */
  readonly validFrom?: string;
  readonly validUntil: string;
}

/**
 * An approver (or an MSP lead, for MSP-side seats) delegates their own seat for one client to
 * another person of that client's profile on the same side, up to a risk ceiling, for a date range.
 * Audited `delegation.created`, names sealed.
 */
export async function delegateSeat(
  deps: DelegationDeps,
  command: CreateDelegationCommand,
): Promise<Result<DelegationView, DomainError>> {
  const membership = await clientOf(deps, command.actor, command.clientCode);
  if (!membership) return err(DelegationErrors.clientNotFound(command.clientCode));
  const client = membership.client;
  if (!holdsSeat(client, command.actor, membership)) return err(DelegationErrors.noSeat(client));
  const issues: FieldIssue[] = [];
  const clientSide = command.actor.tid === client.tenantId;
  const sameSide = clientSide
    ? [...client.approvers, ...client.admins]
    : [...client.leads, ...client.techs];
  const to = sameSide.find((p) => p.oid === command.toOid.trim().toLowerCase());
  if (!to)
    issues.push({
      field: 'to',
      message: clientSide
        ? `must be one of ${client.name}'s approvers or admins (a client approver delegates within the client)`
        : `must be an MSP technician or lead of ${client.name} (an MSP seat stays with MSP staff)`,
    });
  const riskCeiling = RISK_LEVELS.find((r) => r === command.riskCeiling);
  if (!riskCeiling)
    issues.push({ field: 'riskCeiling', message: `must be one of ${RISK_LEVELS.join(', ')}` });
  if (!to || !riskCeiling) return err(new ValidationError(issues));
  const now = deps.clock.now();
  const candidate: Delegation = {
    id: newDelegationId(now),
    from: command.actor,
    to,
    clientTenantId: client.tenantId,
    riskCeiling,
    validFrom: command.validFrom?.trim() || now.toISOString(),
    validUntil: command.validUntil.trim(),
  };
  const checked = checkDelegation(candidate, now.toISOString());
  if (!checked.ok) return checked;
  const saved = await deps.delegations.create(checked.value, [
    delegationEvent('delegation.created', command.actor, checked.value),
  ]);
  return ok(view(client, saved, now.toISOString()));
}

export interface RevokeDelegationCommand {
  readonly actor: Person;
  readonly id: string;
}

/** The delegator, or an MSP lead of the client, ends a delegation now. Audited `delegation.revoked`. */
export async function revokeDelegation(
  deps: DelegationDeps,
  command: RevokeDelegationCommand,
): Promise<Result<DelegationView, DomainError>> {
  const identity = await identify(deps, command.actor);
  for (const membership of identity.memberships) {
    const found = (await deps.delegations.list(membership.client.tenantId)).find(
      (d) => d.id === command.id,
    );
    if (!found) continue;
    const isDelegator = samePerson(found.from, command.actor);
    const isLead = membership.roles.has('lead');
    if (!isDelegator && !isLead) {
      if (samePerson(found.to, command.actor)) return err(DelegationErrors.notRevoker());
      return err(DelegationErrors.notFound());
    }
    const now = deps.clock.now().toISOString();
    if (found.revokedAt !== undefined) return err(DelegationErrors.alreadyEnded('revoked'));
    if ((instantMillis(found.validUntil) ?? 0) <= deps.clock.now().getTime())
      return err(DelegationErrors.alreadyEnded('expired'));
    const revoked = await deps.delegations.revoke(membership.client.tenantId, found.id, now, [
      delegationEvent('delegation.revoked', command.actor, found),
    ]);
    if (!revoked) return err(DelegationErrors.notFound());
    return ok(view(membership.client, revoked, now));
  }
  return err(DelegationErrors.notFound());
}

/** Delegations the person gave or received, across the clients they work with, newest first. */
export async function listMyDelegations(
  deps: DelegationDeps,
  actor: Person,
): Promise<DelegationView[]> {
  const identity = await identify(deps, actor);
  const now = deps.clock.now().toISOString();
  const lists = await Promise.all(
    identity.memberships.map(async ({ client }) =>
      (await deps.delegations.list(client.tenantId))
        .filter((d) => samePerson(d.from, actor) || samePerson(d.to, actor))
        .map((d) => view(client, d, now)),
    ),
  );
  return newestFirst(lists.flat());
}

/** Every delegation of one client, for its MSP leads (who may revoke any of them). */
export async function listClientDelegations(
  deps: DelegationDeps,
  command: { readonly actor: Person; readonly clientCode: string },
): Promise<Result<DelegationView[], DomainError>> {
  const membership = await clientOf(deps, command.actor, command.clientCode);
  if (!membership || !membership.roles.has('lead'))
    return err(DelegationErrors.clientNotFound(command.clientCode));
  const now = deps.clock.now().toISOString();
  const all = await deps.delegations.list(membership.client.tenantId);
  return ok(newestFirst(all.map((d) => view(membership.client, d, now))));
}

/** Where the person may delegate: clients where they hold a seat, and who on their side could stand in. */
export interface DelegationOption {
  readonly client: ClientProfile;
  readonly candidates: readonly Person[];
  readonly isLead: boolean;
}

export async function delegationOptions(
  deps: DelegationDeps,
  actor: Person,
): Promise<DelegationOption[]> {
  const identity = await identify(deps, actor);
  return identity.memberships
    .filter((m) => holdsSeat(m.client, actor, m) || m.roles.has('lead'))
    .map((m) => {
      const side =
        actor.tid === m.client.tenantId
          ? [...m.client.approvers, ...m.client.admins]
          : [...m.client.leads, ...m.client.techs];
      const candidates: Person[] = [];
      for (const p of side)
        if (!samePerson(p, actor) && !candidates.some((c) => samePerson(c, p))) candidates.push(p);
      return { client: m.client, candidates, isLead: m.roles.has('lead') };
    });
}

async function clientOf(
  deps: DelegationDeps,
  actor: Person,
  clientCode: string,
): Promise<ClientMembership | undefined> {
  const code = asClientCode(clientCode.trim().toUpperCase());
  if (!code) return undefined;
  const identity = await identify(deps, actor);
  return identity.memberships.find((m) => m.client.code === code);
}

/**
 * A seat is a client approver's or MSP lead's role, or a place in one of the client's approval
 * steps (a technician on the CAB).
 */
function holdsSeat(client: ClientProfile, person: Person, membership: ClientMembership): boolean {
  if (membership.roles.has('approver') || membership.roles.has('lead')) return true;
  const policy = rulesFor(client).approvalPolicy;
  return [...policy.steps.flatMap((s) => s.approvers), ...policy.sensitiveApprovers].some((p) =>
    samePerson(p, person),
  );
}

/** Time-ordered like outbox ids (13-digit milliseconds + 48 random bits), so rows sort by creation. */
function newDelegationId(now: Date): string {
  return `${String(now.getTime()).padStart(13, '0')}-${randomBytes(6).toString('hex')}`;
}

function delegationEvent(
  type: 'delegation.created' | 'delegation.revoked',
  actor: Person,
  d: Delegation,
): AuditEvent {
  return {
    type,
    actor: { tid: actor.tid, oid: actor.oid },
    requestId: null,
    payload: {
      tenantId: d.clientTenantId,
      delegationId: d.id,
      from: { tid: d.from.tid, oid: d.from.oid },
      to: { tid: d.to.tid, oid: d.to.oid },
      riskCeiling: d.riskCeiling,
      validFrom: d.validFrom,
      validUntil: d.validUntil,
    },
    personal: { from: d.from.name, to: d.to.name },
  };
}

function view(client: ClientProfile, delegation: Delegation, now: string): DelegationView {
  return {
    delegation,
    clientCode: client.code,
    clientName: client.name,
    inForce: isInForce(delegation, now),
    ended:
      delegation.revokedAt !== undefined ||
      (instantMillis(delegation.validUntil) ?? 0) <= (instantMillis(now) ?? 0),
  };
}

function newestFirst(views: DelegationView[]): DelegationView[] {
  return views.sort((a, b) => b.delegation.id.localeCompare(a.delegation.id));
}
