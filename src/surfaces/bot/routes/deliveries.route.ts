import { z } from 'zod';
import { addNote } from '../../../application/use-cases/add-note';
import type { UseCaseDeps } from '../../../application/use-cases/context';
import {
  parkedDeliveries,
  retryDelivery,
  type DeliveriesDeps,
} from '../../../application/use-cases/deliveries';
import type { Person } from '../../../domain/change-request/change-request';
import type { DomainError } from '../../../domain/shared/errors';
import { parkedDeliveriesCard } from '../cards/deliveries.view';
import { messageCard } from '../cards/message.view';
import type { AdaptiveCardJson } from '../cards/template';

/** What **Retry** sends: which client's row. Who may retry is decided from the activity's identity. */
const RetryData = z.object({
  tenantId: z.string().trim().min(1).max(40),
  rowId: z.string().trim().min(1).max(80),
});

/** `note CONTOSO-1042 the text…`: the text keeps its case and line breaks. */
const NOTE = /^note\s+(\S+)\s+([\s\S]+)$/i;

/** `deliveries`: an MSP lead's parked deliveries, each with its last error and Retry. */
export async function deliveriesCommand(
  deps: DeliveriesDeps,
  actor: Person,
): Promise<AdaptiveCardJson> {
  const listed = await parkedDeliveries(deps, actor);
  return listed.ok ? parkedDeliveriesCard(listed.value) : refusal(listed.error);
}

/**
 * **Retry** on a parked row: checked again server-side (the actor leads that client, the row is
 * still parked); the list comes back refreshed with what happened.
 */
export async function retryDeliveryVerb(
  deps: DeliveriesDeps,
  actor: Person,
  data: Record<string, unknown>,
): Promise<AdaptiveCardJson> {
  const parsed = RetryData.safeParse(data);
  if (!parsed.success)
    return messageCard({
      title: 'That card sent data Cabinet cannot use',
      text: 'The card may be out of date or was altered. Type **deliveries** for a fresh list.',
      style: 'attention',
      code: 'CARD.INVALID_DATA',
    });
  const retried = await retryDelivery(deps, actor, parsed.data.tenantId, parsed.data.rowId);
  const listed = await parkedDeliveries(deps, actor);
  if (!listed.ok) return refusal(listed.error);
  return parkedDeliveriesCard(
    listed.value,
    retried.ok
      ? {
          text: `Due again: ${retried.value.what}. The relay tries it on its next pass.`,
          style: 'good',
        }
      : { text: retried.error.message, style: 'attention' },
  );
}

/** `note <request id> <text>`: adds a Cabinet note; undefined when the text is not this command. */
export function noteCommand(
  uc: UseCaseDeps,
  actor: Person,
  text: string,
): Promise<AdaptiveCardJson> | undefined {
  const found = NOTE.exec(text);
  if (!found) return undefined;
  return addNote(uc, actor, undefined, found[1]!, found[2]!).then((added) =>
    added.ok
      ? messageCard({
          title: `Note added to ${added.value.request.id}`,
          text:
            added.value.side === 'msp'
              ? 'It is on the request’s timeline, and the requester hears of it.'
              : 'It is on the request’s timeline, and the technicians hear of it.',
          style: 'good',
        })
      : messageCard({
          title: "Cabinet couldn't add that note",
          text: `${added.error.message} Try **note CONTOSO-1042 your note**.`,
          style: 'attention',
          code: added.error.code,
        }),
  );
}

function refusal(error: DomainError): AdaptiveCardJson {
  return messageCard({
    title: "Cabinet couldn't show deliveries",
    text: error.message,
    style: 'attention',
    code: error.code,
  });
}
