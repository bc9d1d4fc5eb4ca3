import type { Person } from '../../domain/change-request/change-request';
import type { ClientProfile } from '../../domain/client/client';
import { rulesFor } from '../../domain/client/client-rules';
import {
  monthAt,
  parseReportMonth,
  summarizeMonth,
  type MonthlySummary,
} from '../../domain/reporting/monthly-summary';
import { DomainError } from '../../domain/shared/errors';
import type { ClientCode, TenantId } from '../../domain/shared/ids';
import { err, ok, type Result } from '../../domain/shared/result';
import { CalendarErrors } from './calendar';
import type { UseCaseDeps } from './context';
import { AccessErrors } from './errors';
import { identify } from './identify';

/**
 * Requests read per summary. The store lists a client's requests newest first with no date
 * filter, so this bounds how far back a month can be summarised for a very busy client.
 */
const REQUESTS_READ = 10_000;

export const SummaryErrors = {
  chooseClient: (codes: readonly string[]) =>
    new DomainError(
      'SUMMARY.CHOOSE_CLIENT',
      `You work with several clients; name one, e.g. "summary ${codes[0] ?? 'CONTOSO'} 2026-11". Yours: ${codes.join(', ')}.`,
    ),
} as const;

export interface MonthlySummaryInput {
  readonly actor: Person;
  /** The client, by tenant id or by code; absent: the actor's only client. */
  readonly clientTenantId?: string;
  readonly clientCode?: string;
  /** `YYYY-MM` in the client's zone; absent: the current month there. */
  readonly month?: string;
}

/** The summary with the client it is about. */
export interface ClientMonthlySummary extends MonthlySummary {
  readonly client: {
    readonly tenantId: TenantId;
    readonly code: ClientCode;
    readonly name: string;
  };
}

/**
 * The monthly change summary of one client for anyone with a part in it (client admins and
 * approvers, the MSP staff who serve it).
 * @remarks A client the actor has no part in answers exactly like one that does not exist.
 */
export async function monthlySummary(
  deps: UseCaseDeps,
  input: MonthlySummaryInput,
): Promise<Result<ClientMonthlySummary, DomainError>> {
  const identity = await identify(deps, input.actor);
  if (identity.memberships.length === 0) return err(AccessErrors.notRegistered());
  const clients = identity.memberships.map((m) => m.client);
  const named = input.clientTenantId ?? input.clientCode;
  let client: ClientProfile | undefined;
  if (named === undefined) {
    if (clients.length > 1) return err(SummaryErrors.chooseClient(clients.map((c) => c.code)));
    client = clients[0];
  } else {
    const wanted = named.trim();
    client = clients.find((c) => c.tenantId === wanted || c.code === wanted.toUpperCase());
  }
  if (!client) return err(CalendarErrors.clientNotFound());
  return clientMonthlySummary(deps, client, input.month);
}

/**
 * The summary of a client already in scope (the operator CLI, which has the storage itself).
 * @param month `YYYY-MM`; absent: the current month in the client's zone.
 */
export async function clientMonthlySummary(
  deps: Pick<UseCaseDeps, 'requests' | 'templates' | 'clock'>,
  client: ClientProfile,
  month?: string,
): Promise<Result<ClientMonthlySummary, DomainError>> {
  const rules = rulesFor(client);
  const now = deps.clock.now();
  const parsed =
    month === undefined ? ok(monthAt(now.getTime(), rules.timeZone)) : parseReportMonth(month);
  if (!parsed.ok) return parsed;
  const [requests, templates] = await Promise.all([
    deps.requests.list(client.tenantId, { limit: REQUESTS_READ }),
    deps.templates.templatesFor(client.tenantId),
  ]);
  const summary = summarizeMonth(requests, {
    tenantId: client.tenantId,
    month: parsed.value,
    timeZone: rules.timeZone,
    emergencyQuotaPerMonth: rules.emergencyQuotaPerMonth,
    now: now.toISOString(),
    templateNames: new Map(templates.map((t) => [t.template.id as string, t.template.name])),
  });
  return ok({
    ...summary,
    client: { tenantId: client.tenantId, code: client.code, name: client.name },
  });
}
