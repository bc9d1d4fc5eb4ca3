import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { createTableStorage, type TableStorage } from '../../src/adapters/storage/table-storage';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { loadConfig } from '../../src/config';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { parseRequestId, type TenantId } from '../../src/domain/shared/ids';
import { startCabinet } from '../../src/main';
import type { RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { MovableClock, useCasesOn } from './approval-flow';
import { BotClient, cardText, type ChannelUser } from './bot-client';
import { allCardActions, type CardAction } from './bot-itil';
import {
  startLoopbackConnector,
  type CardJson,
  type LoopbackConnector,
} from './loopback-connector';

/** One audit entry as the chain stores it, parsed. */
export interface AuditLine {
  readonly type: string;
  readonly requestId: string | null;
  readonly actor: { readonly tid: string; readonly oid: string };
  readonly payload: Record<string, unknown>;
}

/**
 * A sandbox Cabinet on its own tables and its own movable clock, driven over the Bot Framework
 * protocol through a loopback connector; the use cases share its tables and clock for the steps
 * whose surface is not under test (the technician's assessment, a lead's catalogue work).
 */
export interface ClassesStack {
  readonly bot: BotClient;
  readonly connector: LoopbackConnector;
  readonly clock: MovableClock;
  readonly storage: TableStorage;
  readonly uc: UseCaseDeps;
  /** The newest card `user` received that contains every one of `texts`. */
  waitForCard(user: { readonly oid: string }, ...texts: string[]): Promise<CardJson>;
  /** Cards `user` received that contain `text`, oldest first. */
  cardsWith(user: { readonly oid: string }, text: string): CardJson[];
  /** The client's audit chain, verified, oldest first. */
  audit(tenantId: TenantId): Promise<AuditLine[]>;
  /** The stored request. */
  stored(id: string, tenantId: TenantId): Promise<ChangeRequest>;
  /** Raises a request through the form's Submit, as the user's click sends it; returns its id. */
  raise(user: ChannelUser, fields: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

export async function startClassesStack(azurite: RunningAzurite): Promise<ClassesStack> {
  const connector = await startLoopbackConnector();
  const clock = new MovableClock();
  const config = loadConfig({
    CABINET_MODE: 'sandbox',
    PORT: '0',
    CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
    CABINET_TABLE_PREFIX: `cls${randomUUID().slice(0, 8)}`,
    CABINET_RELAY_INTERVAL_MS: '100',
  });
  let cabinet: RunningCabinet;
  try {
    cabinet = await startCabinet(config, { log: () => undefined, clock });
  } catch (error: unknown) {
    await connector.close();
    throw error;
  }
  const bot = new BotClient(cabinet.url, connector.url);
  const storage = createTableStorage({
    connectionString: azurite.connectionString,
    tablePrefix: config.storage.tablePrefix,
    clock,
  });
  const uc = useCasesOn(storage, clock, MSP.tenantId);
  const conv = (user: { readonly oid: string }) => `personal-${user.oid}`;
  const cardsWith = (user: { readonly oid: string }, ...texts: string[]) =>
    connector.cardsIn(conv(user)).filter((c) => texts.every((t) => cardText(c).includes(t)));
  return {
    bot,
    connector,
    clock,
    storage,
    uc,
    cardsWith,
    async waitForCard(user, ...texts) {
      await connector.waitFor(() => cardsWith(user, ...texts).length > 0);
      return cardsWith(user, ...texts).at(-1)!;
    },
    async audit(tenantId) {
      const entries = await storage.audit.read(tenantId);
      const verdict = verifyChain(tenantId, entries);
      assert.deepEqual(verdict, { ok: true, count: entries.length, headHash: entries.at(-1)?.hash });
      return entries.map((e) => JSON.parse(e.canonical) as AuditLine);
    },
    async stored(id, tenantId) {
      const found = await storage.requests.get(tenantId, parseRequestId(id)!.id);
      assert.ok(found, `no stored request ${id}`);
      return found.request;
    },
    async raise(user, fields) {
      const submitted = await bot.invoke(user, CardVerbs.Submit, fields);
      const id = /\b((?:CONTOSO|FABRIKAM)-\d+)\b/.exec(cardText(submitted.card))?.[1];
      assert.ok(id, `no request id in ${cardText(submitted.card)}`);
      return id;
    },
    async stop() {
      await cabinet.stop();
      await connector.close();
    },
  };
}

/** The card's `Action.Execute` titled `title` (forms behind `Action.ShowCard` included); fails the test when absent. */
export function button(card: CardJson, title: string): CardAction {
  const found = allCardActions(card).find((a) => a.title === title);
  assert.ok(found, `no ${title} button in ${JSON.stringify(allCardActions(card).map((a) => a.title))}`);
  return found;
}

/** Every `Action.Execute` anywhere in the card (item action sets included), in order. */
export function executeActionsIn(card: CardJson): CardAction[] {
  const found: CardAction[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record['type'] === 'Action.Execute' && typeof record['verb'] === 'string')
        found.push({
          title: typeof record['title'] === 'string' ? record['title'] : '',
          verb: record['verb'],
          data: (record['data'] as Record<string, unknown> | undefined) ?? {},
        });
      Object.values(record).forEach(walk);
    }
  };
  walk(card);
  return found;
}

/** Whether the card offers a button titled `title`. */
export function hasButton(card: CardJson, title: string): boolean {
  return allCardActions(card).some((a) => a.title === title);
}

export function includes(haystack: string | readonly string[], needle: string): void {
  assert.ok(
    haystack.includes(needle),
    `expected ${JSON.stringify(needle)} in ${JSON.stringify(haystack).slice(0, 3000)}`,
  );
}

export function excludes(haystack: string | readonly string[], needle: string): void {
  assert.ok(
    !haystack.includes(needle),
    `did not expect ${JSON.stringify(needle)} in ${JSON.stringify(haystack).slice(0, 3000)}`,
  );
}
