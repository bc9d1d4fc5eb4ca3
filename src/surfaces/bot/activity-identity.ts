import type { Activity } from 'botbuilder';
import type { Person } from '../../domain/change-request/change-request';
import { asObjectId, asTenantId } from '../../domain/shared/ids';

/**
 * The acting person, from an activity the adapter has authenticated: `from.aadObjectId` and the
 * tenant Teams stamped on the channel data. Never from card data or message text.
 * @remarks Refuses activities whose channel tenant and conversation tenant disagree. The name may be
 * empty (install events often carry none); see withDisplayName.
 */
export function actorOf(activity: Partial<Activity>): Person | undefined {
  const channelTenant = (activity.channelData as { tenant?: { id?: unknown } } | undefined)?.tenant
    ?.id;
  const conversationTenant = activity.conversation?.tenantId;
  if (
    typeof channelTenant === 'string' &&
    typeof conversationTenant === 'string' &&
    channelTenant.toLowerCase() !== conversationTenant.toLowerCase()
  ) {
    return undefined;
  }
  const tid = asTenantId(
    typeof channelTenant === 'string' ? channelTenant : (conversationTenant ?? ''),
  );
  const oid = asObjectId(activity.from?.aadObjectId ?? '');
  if (!tid || !oid) return undefined;
  const added = activity.membersAdded?.find(
    (m) => m.aadObjectId === activity.from?.aadObjectId || m.id === activity.from?.id,
  );
  const name = (activity.from?.name || added?.name || '').trim().slice(0, 120);
  return { tid, oid, name };
}
