import type { Person } from '../../domain/change-request/change-request';
import { DomainError } from '../../domain/shared/errors';
import { err, ok, type Result } from '../../domain/shared/result';
import type { ChannelBinding, ChannelStore } from '../ports/channel-store';
import type { OutboxStore } from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { identify } from './identify';

export interface BindSlaChannelCommand {
  readonly actor: Person;
  /** Where the command was typed: Teams says `channel` for a team's channel. */
  readonly conversationType: string | undefined;
  readonly conversationId: string;
  /** The Bot Framework conversation reference of that channel, opaque here. */
  readonly reference: Readonly<Record<string, unknown>>;
  /** The channel's name as Teams sent it, for the audit trail (free text: kept sealed). */
  readonly channelName?: string;
}

export type BindSlaChannelDeps = UseCaseDeps & {
  readonly channels: ChannelStore;
  readonly outbox: OutboxStore;
};

/**
 * An MSP lead makes this Teams channel the SLA channel (issue 5). Audited in the MSP tenant's
 * chain; SLA alerts that waited for a channel are released to it.
 * @remarks Only a team's channel qualifies: a personal or group chat would hide breaches from the
 * rest of the desk. Only an MSP lead (a lead of at least one client) may choose it.
 */
export async function bindSlaChannel(
  deps: BindSlaChannelDeps,
  command: BindSlaChannelCommand,
): Promise<Result<ChannelBinding & { readonly released: number }, DomainError>> {
  const identity = await identify(deps, command.actor);
  const isLead =
    command.actor.tid === deps.mspTenantId && identity.memberships.some((m) => m.roles.has('lead'));
  if (!isLead)
    return err(
      new DomainError(
        'SLA.LEAD_ONLY',
        'Only an MSP lead can choose the SLA channel. Ask a lead to type "bind sla channel" in it.',
      ),
    );
  if (command.conversationType !== 'channel')
    return err(
      new DomainError(
        'SLA.CHANNEL_ONLY',
        'The SLA channel must be a channel of a team: add Cabinet to the team, then type "@Cabinet bind sla channel" in the channel the service desk watches.',
      ),
    );
  const now = deps.clock.now();
  const binding: ChannelBinding = {
    purpose: 'sla',
    conversationId: command.conversationId,
    reference: command.reference,
    boundBy: { tid: command.actor.tid, oid: command.actor.oid },
    boundAt: now.toISOString(),
  };
  await deps.channels.bind(binding);
  await deps.audit.append(deps.mspTenantId, [
    {
      type: 'sla.channel_bound',
      actor: binding.boundBy,
      requestId: null,
      payload: { purpose: 'sla', conversationId: command.conversationId },
      personal: { by: command.actor.name, channelName: command.channelName ?? null },
    },
  ]);
  let released = 0;
  for (const client of await deps.clients.list()) {
    const waiting = await deps.outbox.list(client.tenantId, {
      statuses: ['waiting_for_recipient'],
    });
    let count = 0;
    for (const row of waiting)
      if (
        row.message.kind === 'teams.channel' &&
        (await deps.outbox.retry(row.tenantId, row.id, now))
      )
        count += 1;
    if (count > 0) deps.outboxWritten?.(client.tenantId);
    released += count;
  }
  return ok({ ...binding, released });
}
