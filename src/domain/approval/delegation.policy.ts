import { DateTime } from 'luxon';
import { samePerson, type Person } from '../shared/person';
import type { DomainError } from '../shared/errors';
import type { TenantId } from '../shared/ids';
import { err, ok, type Result } from '../shared/result';
import { compareRisk, type RiskLevel } from './approval-policy';
import { ApprovalErrors as E } from './approval.errors';

/**
 * "Alice delegates to Bob for Contoso, up to medium risk, from 3 to 17 March" (issue 4 §3).
 * @remarks In force from `validFrom` (inclusive) to `validUntil` (exclusive), unless revoked earlier;
 * it expires by itself: nothing has to run for it to stop counting. Chains are never followed: if
 * Bob delegates onwards, that only covers Bob's own seats, never Alice's.
 */
export interface Delegation {
  readonly id: string;
  readonly from: Person;
  readonly to: Person;
  readonly clientTenantId: TenantId;
  readonly riskCeiling: RiskLevel;
  /** ISO 8601 instants with an offset or `Z`. */
  readonly validFrom: string;
  readonly validUntil: string;
  readonly revokedAt?: string;
}

/** Parses an ISO 8601 instant that names its offset; a bare local time is ambiguous and refused. */
export function instantMillis(value: string): number | undefined {
  if (!/(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(value.trim())) return undefined;
  const parsed = DateTime.fromISO(value.trim(), { setZone: true });
  return parsed.isValid ? parsed.toMillis() : undefined;
}

/**
 * Checks a new delegation before it is saved: two different people, a real range that has not
 * already ended at `now`.
 */
export function createDelegation(input: Delegation, now: string): Result<Delegation, DomainError> {
  if (samePerson(input.from, input.to))
    return err(E.invalidDelegation('a person cannot delegate to themselves'));
  const from = instantMillis(input.validFrom);
  const until = instantMillis(input.validUntil);
  const at = instantMillis(now);
  if (from === undefined || until === undefined)
    return err(
      E.invalidDelegation(
        'the dates must be ISO instants with a time zone, like 2026-03-03T09:00:00Z',
      ),
    );
  if (at === undefined) throw new Error(`now is not an ISO instant: ${now}`);
  if (until <= from) return err(E.invalidDelegation('the end must be after the start'));
  if (until <= at) return err(E.invalidDelegation('the end is already in the past'));
  return ok(input);
}

/** True while the delegation is in force at `now` (inside its range and not revoked). */
export function isInForce(d: Delegation, now: string): boolean {
  const at = instantMillis(now);
  const from = instantMillis(d.validFrom);
  const until = instantMillis(d.validUntil);
  if (at === undefined || from === undefined || until === undefined) return false;
  const revoked = d.revokedAt === undefined ? undefined : instantMillis(d.revokedAt);
  if (d.revokedAt !== undefined && (revoked === undefined || revoked <= at)) return false;
  return from <= at && at < until;
}

/** What a delegated decision is checked against at the instant it is recorded. */
export interface DelegationContext {
  readonly clientTenantId: TenantId;
  readonly risk: RiskLevel;
  /** The requester and the person the request is for: neither may decide, delegated or not. */
  readonly parties: readonly Person[];
  readonly now: string;
}

/**
 * Finds the delegation that lets `delegate` decide in `delegator`'s seat now, or says why none does.
 * @remarks Only a direct delegation from `delegator` to `delegate` counts (no chains). When several
 * match, one in force is preferred, so a stale row never hides a valid one.
 */
export function delegationFor(
  delegations: readonly Delegation[],
  delegator: Person,
  delegate: Person,
  ctx: DelegationContext,
): Result<Delegation, DomainError> {
  const direct = delegations.filter(
    (d) => samePerson(d.from, delegator) && samePerson(d.to, delegate) && !samePerson(d.from, d.to),
  );
  if (direct.length === 0) return err(E.notAnApprover());
  if (ctx.parties.some((p) => samePerson(p, delegate))) return err(E.delegateIsRequester());
  const forClient = direct.filter((d) => d.clientTenantId === ctx.clientTenantId);
  if (forClient.length === 0) return err(E.delegationNotForClient(delegator.name));
  const inForce = forClient.filter((d) => isInForce(d, ctx.now));
  if (inForce.length === 0) return err(E.delegationExpired(delegator.name));
  const covering = inForce.find((d) => compareRisk(ctx.risk, d.riskCeiling) <= 0);
  if (!covering) {
    const highest = [...inForce].sort((a, b) => compareRisk(b.riskCeiling, a.riskCeiling))[0]!;
    return err(E.delegationRiskCeiling(delegator.name, highest.riskCeiling, ctx.risk));
  }
  return ok(covering);
}

/** How a decision reads when a delegate made it: "Bob for Alice". */
export function decidedByLabel(by: Person, delegatedFrom?: Person): string {
  return delegatedFrom ? `${by.name} for ${delegatedFrom.name}` : by.name;
}
