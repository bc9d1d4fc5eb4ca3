import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { createTableStorage, type TableStorage } from '../../src/adapters/storage/table-storage';
import { proposeTemplate, saveTemplate } from '../../src/application/use-cases/catalogue';
import { loadConfig } from '../../src/config';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import { startCabinet } from '../../src/main';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { BotClient, cardActions, cardText } from '../support/bot-client';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopback-connector';

const TEMPLATE = {
  name: 'Add an Exchange Online Plan 1 licence',
  ranges: { type: 'licence_change', addSkus: ['EXCHANGESTANDARD'], removeSkus: [] },
  implementationPlan: 'Assign EXCHANGESTANDARD in Entra; the mailbox appears within 15 minutes.',
  rollbackPlan:
    'If the mailbox is not provisioned within an hour, the technician removes EXCHANGESTANDARD and ' +
    're-assigns the previous licence, then verifies the user can sign in (about 10 minutes).',
};

describe('A standard-change template approved over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let storage: TableStorage;
  const { andy } = CONTOSO;
  const { tina, lena } = MSP;
  const conv = (user: { oid: string }) => `personal-${user.oid}`;

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    const prefix = `e2e${randomUUID().slice(0, 8)}`;
    const config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: prefix,
      CABINET_RELAY_INTERVAL_MS: '100',
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
    storage = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: prefix,
    });
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  it('sends the client approver a card, refuses MSP staff, and activates on the approver’s click', async () => {
    for (const user of [andy, tina]) assert.equal(await bot.install(user), 200);
    const deps = {
      templates: storage.catalogue(MSP.tenantId),
      clients: storage.clients,
      audit: storage.audit,
      requests: storage.requests,
      clock: { now: () => new Date() },
      mspTenantId: MSP.tenantId,
    };
    const lead = { tid: lena.tid, oid: lena.oid, name: lena.name };
    const saved = await saveTemplate(deps, { actor: lead, id: 'exo-p1-add', content: TEMPLATE });
    assert.ok(saved.ok, saved.ok ? '' : saved.error.message);
    const proposed = await proposeTemplate(deps, {
      actor: lead,
      templateId: 'exo-p1-add',
      clientTenantId: CONTOSO.tenantId,
    });
    assert.ok(proposed.ok, proposed.ok ? '' : proposed.error.message);

    await connector.waitFor(() =>
      connector.cardsIn(conv(andy)).some((c) => cardText(c).includes(TEMPLATE.name)),
    );
    const card = connector
      .cardsIn(conv(andy))
      .filter((c) => cardText(c).includes(TEMPLATE.name))
      .at(-1)!;
    const text = cardText(card);
    assert.ok(text.includes('Awaiting your approval'), text);
    assert.ok(text.includes('Add licences: EXCHANGESTANDARD'), text);
    assert.ok(text.includes(TEMPLATE.rollbackPlan), text);
    const approve = cardActions(card).find((a) => a.verb === CardVerbs.ApproveTemplate);
    assert.ok(approve, JSON.stringify(cardActions(card)));

    // The same card data sent by an MSP technician is refused: identity comes from the activity.
    const byTech = await bot.invoke(tina, CardVerbs.ApproveTemplate, approve.data);
    assert.equal(byTech.httpStatus, 200);
    assert.ok(
      cardText(byTech.card).includes('TEMPLATE.NOT_CLIENT_APPROVER'),
      cardText(byTech.card),
    );
    assert.deepEqual(await deps.templates.activeFor(CONTOSO.tenantId), []);

    const byAndy = await bot.invoke(andy, CardVerbs.ApproveTemplate, approve.data);
    assert.ok(cardText(byAndy.card).includes('Approved'), cardText(byAndy.card));
    assert.equal(
      cardActions(byAndy.card).some((a) => a.verb === CardVerbs.ApproveTemplate),
      false,
    );
    const again = await bot.invoke(andy, CardVerbs.ApproveTemplate, approve.data);
    assert.ok(cardText(again.card).includes('Approved'));

    const active = await deps.templates.activeFor(CONTOSO.tenantId);
    assert.deepEqual(
      active.map((a) => [a.template.id, a.activation.approvedBy?.oid]),
      [['exo-p1-add', andy.oid]],
    );
    const entries = await storage.audit.read(CONTOSO.tenantId);
    const types = entries.map((e) => (JSON.parse(e.canonical) as { type: string }).type);
    assert.equal(types.filter((t) => t === 'template.approved').length, 1);
    assert.ok(types.includes('action.refused'));
    assert.ok(verifyChain(CONTOSO.tenantId, entries).ok);
  });
});
