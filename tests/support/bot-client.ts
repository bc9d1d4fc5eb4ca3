import { randomUUID } from 'node:crypto';
import type { CardJson } from './loopback-connector';

/** A Teams user as the Bot Framework channel presents them. */
export interface ChannelUser {
  readonly tid: string;
  readonly oid: string;
  readonly name: string;
}

export interface InvokeReply {
  readonly httpStatus: number;
  readonly statusCode?: number;
  readonly type?: string;
  readonly card: CardJson;
}

/**
 * Sends real Bot Framework activities over HTTP to Cabinet's /api/messages, as Teams would for a
 * personal chat, with the loopback connector as serviceUrl.
 */
export class BotClient {
  constructor(
    private readonly botUrl: string,
    private readonly serviceUrl: string,
  ) {}

  conversationId(user: ChannelUser): string {
    return `personal-${user.oid}`;
  }

  private activity(user: ChannelUser, extra: Record<string, unknown>): Record<string, unknown> {
    return {
      id: randomUUID(),
      channelId: 'msteams',
      serviceUrl: this.serviceUrl,
      timestamp: new Date().toISOString(),
      from: { id: `29:${user.oid}`, name: user.name, aadObjectId: user.oid },
      recipient: { id: '28:cabinet-sandbox-bot', name: 'Cabinet' },
      conversation: {
        id: this.conversationId(user),
        conversationType: 'personal',
        tenantId: user.tid,
      },
      channelData: { tenant: { id: user.tid } },
      ...extra,
    };
  }

  async post(body: Record<string, unknown>): Promise<Response> {
    return fetch(`${this.botUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** The install event Teams (and the playground, on every page load) sends; often without the user's name. */
  async install(
    user: ChannelUser,
    options: { readonly withoutName?: boolean } = {},
  ): Promise<number> {
    const activity = this.activity(user, {
      type: 'conversationUpdate',
      membersAdded: [
        { id: `29:${user.oid}`, aadObjectId: user.oid },
        { id: '28:cabinet-sandbox-bot' },
      ],
    });
    if (options.withoutName) activity['from'] = { id: `29:${user.oid}`, aadObjectId: user.oid };
    const res = await this.post(activity);
    return res.status;
  }

  async say(user: ChannelUser, text: string): Promise<number> {
    const res = await this.post(this.activity(user, { type: 'message', text }));
    return res.status;
  }

  /** Clicks an Action.Execute button: `data` is what the card carried plus any inputs. */
  async invoke(
    user: ChannelUser,
    verb: string,
    data: Record<string, unknown>,
    options: { readonly id?: string; readonly overrides?: Record<string, unknown> } = {},
  ): Promise<InvokeReply> {
    const res = await this.post({
      ...this.activity(user, {
        type: 'invoke',
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
      }),
      ...(options.id ? { id: options.id } : {}),
      ...(options.overrides ?? {}),
    });
    const text = await res.text();
    const body = text
      ? (JSON.parse(text) as { statusCode?: number; type?: string; value?: CardJson })
      : {};
    return {
      httpStatus: res.status,
      ...(body.statusCode !== undefined ? { statusCode: body.statusCode } : {}),
      ...(body.type ? { type: body.type } : {}),
      card: body.value ?? {},
    };
  }
}

/** All text in a card, flattened, for assertions that do not depend on layout. */
export function cardText(card: CardJson | undefined): string {
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (
          (key === 'text' || key === 'title' || key === 'value' || key === 'label') &&
          typeof value === 'string'
        )
          parts.push(value);
        else walk(value);
      }
    }
  };
  walk(card);
  return parts.join('\n');
}

/** The `Action.Execute` buttons of a card, by title. */
export function cardActions(
  card: CardJson | undefined,
): { title: string; verb: string; data: Record<string, unknown> }[] {
  const actions =
    (card?.['actions'] as
      | { title?: string; verb?: string; data?: Record<string, unknown> }[]
      | undefined) ?? [];
  return actions
    .filter((a) => a.verb)
    .map((a) => ({ title: a.title ?? '', verb: a.verb!, data: a.data ?? {} }));
}

/** The `Action.Execute` buttons inside the card's `Action.ShowCard` titled `title` (a form behind a button). */
export function shownCardActions(
  card: CardJson | undefined,
  title: string,
): { title: string; verb: string; data: Record<string, unknown> }[] {
  const actions = (card?.['actions'] as { type?: string; title?: string; card?: CardJson }[]) ?? [];
  const shown = actions.find((a) => a.type === 'Action.ShowCard' && a.title === title);
  return cardActions(shown?.card);
}
