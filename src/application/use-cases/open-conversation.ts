import type { Person } from '../../domain/change-request/change-request';
import type { OutboxStore } from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { identify, type Identity } from './identify';

export interface OpenConversationCommand {
  readonly person: Person;
  /** The Bot Framework conversation reference of this personal chat, opaque here. */
  readonly reference: Readonly<Record<string, unknown>>;
}

export interface OpenedConversation {
  readonly identity: Identity;
  /** True exactly once per person: the turn that should send the welcome card. */
  readonly welcome: boolean;
  /** Messages that were waiting for this person and are now being delivered. */
  readonly released: number;
}

/**
 * Records how to reach a person (idempotent: Teams and the playground resend install events), and
 * releases the cards that were held because they had never opened Cabinet.
 */
export async function openConversation(
  deps: UseCaseDeps & { readonly outbox: OutboxStore },
  command: OpenConversationCommand,
): Promise<OpenedConversation> {
  const { person } = command;
  const identity = await identify(deps, person);
  const saved = await deps.conversations.save({
    tid: person.tid,
    oid: person.oid,
    reference: command.reference,
  });
  const welcome =
    !saved.welcomed &&
    (await deps.conversations.markWelcomed(person.tid, person.oid, deps.clock.now().toISOString()));
  const partitions =
    person.tid === deps.mspTenantId
      ? identity.memberships.map((m) => m.client.tenantId)
      : [person.tid];
  let released = 0;
  for (const tenantId of partitions) {
    const count = await deps.outbox.releaseWaiting(
      tenantId,
      { tid: person.tid, oid: person.oid },
      deps.clock.now(),
    );
    if (count > 0) deps.outboxWritten?.(tenantId);
    released += count;
  }
  return { identity, welcome, released };
}
