import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the bot made to the Bot Connector API. */
export interface ConnectorCall {
  readonly method: string;
  readonly path: string;
  readonly conversationId: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: ConnectorActivity | undefined;
}

export interface ConnectorActivity {
  readonly type?: string;
  readonly id?: string;
  readonly text?: string;
  readonly attachments?: { readonly contentType: string; readonly content: CardJson }[];
}

export type CardJson = Record<string, unknown>;

export interface LoopbackConnector {
  readonly url: string;
  readonly calls: ConnectorCall[];
  /** Cards the bot sent or updated in one conversation, in order. */
  cardsIn(conversationId: string): CardJson[];
  waitFor(
    predicate: (calls: readonly ConnectorCall[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /** Makes the next sends to this conversation fail with the status (403/404 mark a reference stale). */
  failConversation(conversationId: string, status: number): void;
  close(): Promise<void>;
}

/**
 * A Bot Connector v3 stand-in on loopback: records every reply, proactive send and update the bot
 * makes, answering like the real service (`{ id }` for creates).
 */
export async function startLoopbackConnector(): Promise<LoopbackConnector> {
  const calls: ConnectorCall[] = [];
  const failing = new Map<string, number>();
  let next = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      const conversationId = decodeURIComponent(
        /\/v3\/conversations\/([^/]+)/.exec(path)?.[1] ?? '',
      );
      const failure = failing.get(conversationId);
      if (failure) {
        res.writeHead(failure, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'ConversationNotFound', message: 'gone' } }));
        return;
      }
      const body = raw ? (JSON.parse(raw) as ConnectorActivity) : undefined;
      calls.push({ method: req.method ?? '', path, conversationId, headers: req.headers, body });
      const activityId = /\/activities\/([^/]+)$/.exec(path)?.[1];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id:
            req.method === 'PUT' && activityId
              ? decodeURIComponent(activityId)
              : `activity-${++next}`,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    cardsIn: (conversationId) =>
      calls
        .filter((c) => c.conversationId === conversationId && c.body?.type === 'message')
        .flatMap((c) => (c.body?.attachments ?? []).map((a) => a.content)),
    async waitFor(predicate, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (!predicate(calls)) {
        if (Date.now() > end)
          throw new Error(
            `connector: condition not met within ${timeoutMs} ms; ${calls.length} calls recorded`,
          );
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    failConversation: (conversationId, status) => failing.set(conversationId, status),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
