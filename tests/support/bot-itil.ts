import { DateTime } from 'luxon';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import type { OutboxStore } from '../../src/application/ports/outbox';
import { assessChange, sendForApproval } from '../../src/application/use-cases/assess-change';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import type { Person } from '../../src/domain/shared/person';
import type { TenantId } from '../../src/domain/shared/ids';
import type { CardJson } from './loopback-connector';

export interface CardAction {
  readonly title: string;
  readonly verb: string;
  readonly data: Record<string, unknown>;
}

/**
 * Every `Action.Execute` of a card, including those inside `Action.ShowCard` forms (Ask a
 * question, File the review), by title.
 */
export function allCardActions(card: CardJson | undefined): CardAction[] {
  const out: CardAction[] = [];
  const walk = (actions: unknown): void => {
    for (const a of (actions as Record<string, unknown>[] | undefined) ?? []) {
      if (typeof a['verb'] === 'string')
        out.push({
          title: typeof a['title'] === 'string' ? a['title'] : '',
          verb: a['verb'],
          data: (a['data'] as Record<string, unknown> | undefined) ?? {},
        });
      const nested = a['card'] as CardJson | undefined;
      if (nested) walk(nested['actions']);
    }
  };
  walk(card?.['actions']);
  return out;
}

/** The titles of a card's `Action.ShowCard` forms. */
export function showCardTitles(card: CardJson | undefined): string[] {
  return ((card?.['actions'] as Record<string, unknown>[] | undefined) ?? [])
    .filter((a) => a['type'] === 'Action.ShowCard')
    .map((a) => String(a['title']));
}

/**
 * The use cases over the same Table storage a running Cabinet uses: the tests play the
 * technician's assessment through them (the tab's assessment page is another surface).
 */
export function useCasesOn(
  connectionString: string,
  tablePrefix: string,
  mspTenantId: TenantId,
): UseCaseDeps & { readonly outbox: OutboxStore } {
  const storage = createTableStorage({ connectionString, tablePrefix });
  return {
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    templates: storage.catalogue(mspTenantId),
    outbox: storage.outbox,
    clock: { now: () => new Date() },
    mspTenantId,
  };
}

/**
 * A one-hour slot in Contoso's sandbox maintenance window (Tuesday or Thursday 18:00 London) at
 * least three days out, so the 48 h notice holds, and before the 26th, clear of the month-end blackout.
 */
export function contosoSlot(from: Date = new Date()): { windowStart: string; windowEnd: string } {
  let day = DateTime.fromJSDate(from, { zone: 'Europe/London' }).plus({ days: 3 }).startOf('day');
  while (!([2, 4].includes(day.weekday) && day.day <= 25)) day = day.plus({ days: 1 });
  const start = day.set({ hour: 18 });
  return { windowStart: start.toISO()!, windowEnd: start.plus({ hours: 1 }).toISO()! };
}

/** An assessment form as the technician would fill it in the tab. */
export function assessmentFields(
  overrides: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    impact: 'minor',
    risk: 'low',
    affectedUsers: '25',
    affectedServices: 'Wi-Fi',
    implementationPlan: 'Change the key on the controller and push it to the access points.',
    testPlan: 'Join the network from a laptop and a phone on each floor.',
    rollbackPlan:
      'If devices cannot join within 10 minutes, the technician restores the previous key from the controller backup and confirms a laptop reconnects; takes about 5 minutes.',
    dependencies: '',
    sensitivity: '',
    ...overrides,
  };
}

/** The technician assesses the request (overriding the risk with a reason) and sends it for approval. */
export async function assessAndSend(
  deps: UseCaseDeps,
  tech: Person,
  requestId: string,
  fields: Readonly<Record<string, unknown>>,
): Promise<void> {
  const assessed = await assessChange(deps, {
    actor: tech,
    requestId,
    fields,
    overrideReason: 'The technician knows this client’s network better than the score does.',
  });
  if (assessed.kind !== 'done')
    throw new Error(
      `assessing ${requestId} refused: ${assessed.error.code} ${assessed.error.message}`,
    );
  const sent = await sendForApproval(deps, { actor: tech, requestId });
  if (sent.kind !== 'done')
    throw new Error(`sending ${requestId} refused: ${sent.error.code} ${sent.error.message}`);
}
