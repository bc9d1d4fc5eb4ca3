import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { OutboxStore } from '../../src/application/ports/outbox';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { loadConfig } from '../../src/config';
import { SYSTEM_OID } from '../../src/domain/audit/audit-event';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { startCabinet } from '../../src/main';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { BotClient, cardText } from '../support/bot-client';
import { useCasesOn } from '../support/bot-itil';
import { asPerson } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';
import {
  startLoopbackConnector,
  type CardJson,
  type LoopbackConnector,
} from '../support/loopback-connector';

interface FoundAction {
  readonly type: string;
  readonly title: string;
  readonly verb?: string;
  readonly data: Record<string, unknown>;
  readonly inputIds: string[];
}

/** Every action on a card wherever it sits (body action sets, Action.ShowCard forms), with its form's inputs. */
function actionsOf(card: CardJson): FoundAction[] {
  const found: FoundAction[] = [];
  const inputIds = (node: unknown): string[] => {
    const body = (node as { body?: unknown[] } | undefined)?.body ?? [];
    return body
      .filter((b): b is { id: string } => typeof (b as { id?: unknown }).id === 'string')
      .map((b) => b.id);
  };
  const walk = (node: unknown, inputs: string[]): void => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, inputs));
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      const type = String(record['type']);
      if (type.startsWith('Action.'))
        found.push({
          type,
          title: String(record['title']),
          ...(typeof record['verb'] === 'string' ? { verb: record['verb'] } : {}),
          data: (record['data'] ?? {}) as Record<string, unknown>,
          inputIds: inputs,
        });
      const nested = type === 'Action.ShowCard' ? record['card'] : undefined;
      for (const [key, value] of Object.entries(record))
        walk(value, key === 'card' && nested ? inputIds(nested) : inputs);
    }
  };
  walk(card, []);
  return found;
}

/**
 * The request card's Add note form (Carla the requester and Tina the technician; not Fiona of
 * another client) and its PSA ticket line, over the Bot Framework protocol on Azurite.
 */
describe('Notes and PSA links on the request card over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let uc: UseCaseDeps & { readonly outbox: OutboxStore };
  const { carla } = CONTOSO;
  const { tina } = MSP;
  const { fiona } = FABRIKAM;

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    const config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `notes${randomUUID().slice(0, 8)}`,
      // No relay pass during the test: the PSA link is recorded here, as the relay would.
      CABINET_RELAY_INTERVAL_MS: '600000',
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
    uc = useCasesOn(azurite.connectionString, config.storage.tablePrefix, config.mspTenantId);
    for (const user of [carla, tina, fiona]) assert.equal(await bot.install(user), 200);
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  async function raise(): Promise<ChangeRequest> {
    const raised = await submitChange(uc, {
      actor: asPerson(carla),
      type: 'general',
      fields: validFields('general'),
    });
    assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
    return raised.value.request;
  }

  const statusCard = async (user: typeof carla, id: string) =>
    (await bot.invoke(user, CardVerbs.Status, { requestId: id })).card;
  const addNoteAction = (card: CardJson) =>
    actionsOf(card).find((a) => a.type === 'Action.Execute' && a.verb === CardVerbs.AddNote);
  const notesOf = async (id: string) =>
    (await uc.audit.read(CONTOSO.tenantId)).filter((e) => {
      const entry = JSON.parse(e.canonical) as { type: string; requestId?: string };
      return entry.type === 'note.added' && entry.requestId === id;
    });

  it('offers Add note to the requester and the technician, not to someone of another client', async () => {
    const request = await raise();
    for (const user of [carla, tina]) {
      const card = await statusCard(user, request.id);
      const form = actionsOf(card).find(
        (a) => a.type === 'Action.ShowCard' && a.title === 'Add note',
      );
      assert.ok(form, `${user.name} sees Add note: ${JSON.stringify(actionsOf(card))}`);
      const submit = addNoteAction(card);
      assert.ok(submit);
      assert.deepEqual(submit.inputIds, ['note']);
      assert.equal(submit.data['requestId'], request.id);
    }
    const other = await statusCard(fiona, request.id);
    assert.equal(addNoteAction(other), undefined);
    assert.ok(!cardText(other).includes('Add note'), cardText(other));
  });

  it('stores the note with its audit entry and answers with the refreshed card', async () => {
    const request = await raise();
    const submit = addNoteAction(await statusCard(tina, request.id))!;
    const reply = await bot.invoke(tina, submit.verb!, {
      ...submit.data,
      note: 'Licence ordered; ETA Friday.',
    });
    assert.equal(reply.httpStatus, 200);
    const text = cardText(reply.card);
    assert.ok(text.includes('Note added to the timeline; the requester hears of it.'), text);
    assert.ok(text.includes(request.id), text);
    assert.ok(addNoteAction(reply.card), 'the refreshed card keeps Add note');
    const notes = await notesOf(request.id);
    assert.equal(notes.length, 1);
    assert.equal(
      (await uc.audit.openPersonal(CONTOSO.tenantId, notes[0]!))?.['text'],
      'Licence ordered; ETA Friday.',
    );

    // The requester's note goes the other way; Fiona's forwarded click is refused, nothing stored.
    const fromCarla = await bot.invoke(carla, submit.verb!, { ...submit.data, note: 'Thanks!' });
    assert.ok(
      cardText(fromCarla.card).includes('Note added to the timeline; the technicians hear of it.'),
    );
    const refused = await bot.invoke(fiona, submit.verb!, { ...submit.data, note: 'Hello' });
    assert.ok(cardText(refused.card).includes("Cabinet couldn't add that note"));
    assert.equal((await notesOf(request.id)).length, 2);
  });

  it('refuses a note over 2,000 characters with what to fix, storing nothing', async () => {
    const request = await raise();
    const submit = addNoteAction(await statusCard(carla, request.id))!;
    const reply = await bot.invoke(carla, submit.verb!, { ...submit.data, note: 'x'.repeat(2001) });
    assert.equal(reply.httpStatus, 200);
    const text = cardText(reply.card);
    assert.ok(text.includes('CR.TEXT_TOO_LONG'), text);
    assert.ok(text.includes('at most 2000 characters'), text);
    assert.ok(text.includes('Shorten it'), text);
    assert.equal((await notesOf(request.id)).length, 0);
  });

  it('shows the PSA ticket, linked, once the request is linked to one', async () => {
    const request = await raise();
    assert.ok(!cardText(await statusCard(carla, request.id)).includes('HaloPSA ticket'));
    const stored = await uc.requests.get(CONTOSO.tenantId, request.id);
    assert.ok(stored);
    const ticketUrl = 'https://halo.example/tickets?id=1234';
    await uc.requests.update(CONTOSO.tenantId, stored.etag, {
      request: {
        ...stored.request,
        psa: { psa: 'halopsa', ticketId: '1234', ticketUrl },
      },
      audit: [
        {
          type: 'psa.ticket_linked',
          actor: { tid: CONTOSO.tenantId, oid: SYSTEM_OID },
          requestId: request.id,
          payload: { psa: 'halopsa', ticketId: '1234', ticketUrl, version: request.version },
        },
      ],
      outbox: [],
    });
    for (const user of [carla, tina])
      assert.ok(
        cardText(await statusCard(user, request.id)).includes(
          `[HaloPSA ticket 1234](${ticketUrl})`,
        ),
      );
  });
});
