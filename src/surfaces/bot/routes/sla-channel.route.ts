import { TurnContext } from 'botbuilder';
import {
  bindSlaChannel,
  type BindSlaChannelDeps,
} from '../../../application/use-cases/bind-sla-channel';
import type { Person } from '../../../domain/change-request/change-request';
import { messageCard } from '../cards/message.view';
import type { AdaptiveCardJson } from '../cards/template';

const BIND_SLA_CHANNEL = /^bind\s+sla\s+channel$/;

/**
 * `bind sla channel`, typed in a team's channel by an MSP lead: makes it the SLA channel. Anyone
 * else, or anywhere else, gets a card saying what to do. Undefined when the text is not this command.
 */
export function slaChannelCommand(
  deps: BindSlaChannelDeps,
  context: TurnContext,
  actor: Person,
): Promise<AdaptiveCardJson> | undefined {
  const command = (context.activity.text ?? '')
    .replace(/<at>.*?<\/at>/g, '')
    .trim()
    .toLowerCase();
  if (!BIND_SLA_CHANNEL.test(command)) return undefined;
  const { activityId: _activityId, ...reference } = TurnContext.getConversationReference(
    context.activity,
  );
  const channelName = (context.activity.channelData as { channel?: { name?: unknown } } | undefined)
    ?.channel?.name;
  return bindSlaChannel(deps, {
    actor,
    conversationType: context.activity.conversation?.conversationType,
    conversationId: context.activity.conversation?.id ?? '',
    reference,
    ...(typeof channelName === 'string' ? { channelName: channelName.slice(0, 120) } : {}),
  }).then((result) =>
    result.ok
      ? messageCard({
          title: 'This is the SLA channel',
          text: `Cabinet will post requests at risk of breaching their SLA, and breaches, here, once per threshold; later changes update the same post.${result.value.released > 0 ? ` ${result.value.released} alert(s) that waited for a channel are on their way.` : ''}`,
          style: 'good',
        })
      : messageCard({
          title: "Cabinet didn't bind this channel",
          text: result.error.message,
          style: 'warning',
          code: result.error.code,
        }),
  );
}
