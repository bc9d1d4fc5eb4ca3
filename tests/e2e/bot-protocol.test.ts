import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import { startCabinet } from '../../src/main';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { BotClient, cardActions, cardText } from '../support/bot-client';
import { startLoopbackConnector, type LoopbackConnector } from '../support/loopback-connector';

function includes(haystack: string | readonly string[], needle: string): void {
  assert.ok(
    haystack.includes(needle),
    `expected ${JSON.stringify(needle)} in ${JSON.stringify(haystack).slice(0, 2000)}`,
  );
}
function excludes(haystack: string | readonly string[], needle: string): void {
  assert.ok(
    !haystack.includes(needle),
    `did not expect ${JSON.stringify(needle)} in ${JSON.stringify(haystack).slice(0, 2000)}`,
  );
}
function includesAll(haystack: readonly string[], needles: readonly string[]): void {
  for (const needle of needles) includes(haystack, needle);
}

const NEW_USER = {
  type: 'new_user',
  title: 'New starter: Jane Doe',
  description: 'Jane joins Sales on Monday and needs an account.',
  givenName: 'Jane',
  surname: 'Doe',
  displayName: 'Jane Doe',
  userPrincipalName: 'jane.doe@contoso.example',
  usageLocation: 'GB',
  startDate: '2030-01-06',
  licenceSkus: 'SPB',
  groups: 'All Staff, Sales',
};

describe('Cabinet over the Bot Framework protocol', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let connector: LoopbackConnector;
  let cabinet: RunningCabinet;
  let bot: BotClient;
  let config: Config;
  const { carla, andy, avery } = CONTOSO;
  const { tina, theo } = MSP;
  const { frank } = FABRIKAM;

  before(async () => {
    azurite = await startAzurite();
    connector = await startLoopbackConnector();
    config = loadConfig({
      CABINET_MODE: 'sandbox',
      PORT: '0',
      CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
      CABINET_TABLE_PREFIX: `e2e${randomUUID().slice(0, 8)}`,
      CABINET_RELAY_INTERVAL_MS: '100',
    });
    cabinet = await startCabinet(config, { log: () => undefined });
    bot = new BotClient(cabinet.url, connector.url);
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  const conv = (user: { oid: string }) => `personal-${user.oid}`;
  const lastCardIn = (user: { oid: string }) => connector.cardsIn(conv(user)).at(-1);
  const waitForCard = async (user: { oid: string }, text: string) => {
    await connector.waitFor(() =>
      connector.cardsIn(conv(user)).some((c) => cardText(c).includes(text)),
    );
    return connector
      .cardsIn(conv(user))
      .filter((c) => cardText(c).includes(text))
      .at(-1)!;
  };

  it('welcomes each person once and says who they are', async () => {
    for (const user of [carla, andy, tina]) assert.equal(await bot.install(user), 200);
    await bot.install(carla);
    await connector.waitFor(() => connector.cardsIn(conv(tina)).length > 0);
    const welcomes = connector
      .cardsIn(conv(carla))
      .filter((c) => cardText(c).includes('Welcome to Cabinet'));
    assert.equal(welcomes.length, 1);
    includes(cardText(welcomes[0]), 'client admin of Contoso Ltd');
    includes(cardText(lastCardIn(andy)), 'approver of Contoso Ltd');
    includes(cardText(lastCardIn(tina)), 'MSP technician of Contoso Ltd');
  });

  it('raises a new_user request through the picker and form, validating on the server', async () => {
    await bot.say(carla, 'new');
    const picker = await waitForCard(carla, 'What do you need?');
    includes(
      cardActions(picker).map((a) => a.verb),
      CardVerbs.ShowForm,
    );

    const form = await bot.invoke(carla, CardVerbs.ShowForm, { type: 'new_user' });
    assert.equal(form.httpStatus, 200);
    includes(cardText(form.card), 'Sign-in name (UPN)');

    const invalid = await bot.invoke(carla, CardVerbs.Submit, {
      ...NEW_USER,
      userPrincipalName: 'not a upn',
      startDate: '2030-02-30',
    });
    includes(cardText(invalid.card), 'Please fix the following');
    includes(cardText(invalid.card), 'userPrincipalName: must be a user principal name');
    includes(cardText(invalid.card), 'startDate: is not a real calendar date');

    const submitted = await bot.invoke(carla, CardVerbs.Submit, NEW_USER);
    const text = cardText(submitted.card);
    includes(text, 'CONTOSO-1');
    includes(text, 'Awaiting approval');
    includes(text, 'Not reached yet: Avery Approver');
  });

  it('delivers the approval card to the reachable approver', async () => {
    const card = await waitForCard(andy, 'New starter: Jane Doe');
    includesAll(
      cardActions(card).map((a) => a.title),
      ['Approve', 'Deny'],
    );
    assert.deepEqual(cardActions(card).find((a) => a.title === 'Approve')!.data, {
      requestId: 'CONTOSO-1',
      version: 1,
    });
  });

  it('refuses clicks by anyone but a designated approver, with a card that says why', async () => {
    const byTech = await bot.invoke(tina, CardVerbs.Approve, {
      requestId: 'CONTOSO-1',
      version: 1,
    });
    includes(cardText(byTech.card), 'You are not a designated approver');
    const bySelf = await bot.invoke(carla, CardVerbs.Approve, {
      requestId: 'CONTOSO-1',
      version: 1,
    });
    includes(cardText(bySelf.card), 'You cannot decide on a request you raised');
    const byOtherTenant = await bot.invoke(frank, CardVerbs.Approve, {
      requestId: 'CONTOSO-1',
      version: 1,
    });
    includes(cardText(byOtherTenant.card), 'was not found');
    excludes(cardText(byOtherTenant.card), 'New starter');
    const spoofedTenant = await bot.invoke(
      andy,
      CardVerbs.Approve,
      { requestId: 'CONTOSO-1', version: 1 },
      {
        overrides: { channelData: { tenant: { id: FABRIKAM.tenantId } } },
      },
    );
    includes(cardText(spoofedTenant.card), 'could not tell who you are');
    const stale = await bot.invoke(andy, CardVerbs.Approve, { requestId: 'CONTOSO-1', version: 0 });
    includes(cardText(stale.card), 'now at version 1');
    const denyWithoutReason = await bot.invoke(andy, CardVerbs.Deny, {
      requestId: 'CONTOSO-1',
      version: 1,
      reason: '  ',
    });
    includes(cardText(denyWithoutReason.card), 'A reason is required');
  });

  it('records one decision however often the approval arrives', async () => {
    const clickId = randomUUID();
    const first = await bot.invoke(
      andy,
      CardVerbs.Approve,
      { requestId: 'CONTOSO-1', version: 1 },
      { id: clickId },
    );
    const replayed = await bot.invoke(
      andy,
      CardVerbs.Approve,
      { requestId: 'CONTOSO-1', version: 1 },
      { id: clickId },
    );
    const retried = await bot.invoke(andy, CardVerbs.Approve, {
      requestId: 'CONTOSO-1',
      version: 1,
    });
    const lateDeny = await bot.invoke(andy, CardVerbs.Deny, {
      requestId: 'CONTOSO-1',
      version: 1,
      reason: 'changed my mind',
    });
    assert.equal(first.type, 'application/vnd.microsoft.card.adaptive');
    includes(cardText(first.card), 'Approved by Andy Approver');
    assert.deepEqual(replayed.card, first.card);
    assert.deepEqual(retried.card, first.card);
    assert.deepEqual(lateDeny.card, first.card);
    excludes(
      cardActions(first.card).map((a) => a.title),
      'Approve',
    );
  });

  it('tells the requester and hands the work to the technicians', async () => {
    includes(cardText(await waitForCard(carla, 'Approved by Andy Approver')), 'CONTOSO-1');
    const ready = await waitForCard(tina, 'ready to execute');
    includes(
      cardActions(ready).map((a) => a.title),
      'Start work',
    );
    assert.equal(connector.cardsIn(conv(theo)).length, 0);
  });

  it('delivers held cards when an approver first opens Cabinet', async () => {
    assert.equal(connector.cardsIn(conv(avery)).length, 0);
    await bot.install(avery, { withoutName: true });
    includes(cardText(await waitForCard(avery, 'Welcome to Cabinet')), 'Hi Avery Approver.');
    const card = await waitForCard(avery, 'New starter: Jane Doe');
    includes(cardText(card), 'Approved by Andy Approver');
    excludes(
      cardActions(card).map((a) => a.title),
      'Approve',
    );
  });

  it('lets a technician start, implement and close, and tells the requester the notes', async () => {
    const byClient = await bot.invoke(carla, CardVerbs.Start, {
      requestId: 'CONTOSO-1',
      version: 1,
    });
    includes(cardText(byClient.card), 'Only the MSP technicians');
    // Each step clicks the button the previous card rendered, with the data that card carries.
    const button = (card: Record<string, unknown>, title: string) => {
      const found = cardActions(card).find((a) => a.title === title);
      assert.ok(found, `no ${title} button`);
      return found;
    };
    const ready = await waitForCard(tina, 'ready to execute');
    const start = button(ready, 'Start work');
    const started = await bot.invoke(tina, start.verb, start.data);
    includes(cardText(started.card), 'In progress');
    const implement = button(started.card, 'Mark implemented');
    const implemented = await bot.invoke(tina, implement.verb, {
      ...implement.data,
      notes: 'Account created',
    });
    includes(cardText(implemented.card), 'Implemented');
    const close = button(implemented.card, 'Close');
    const closed = await bot.invoke(tina, close.verb, {
      ...close.data,
      outcome: 'successful',
      notes: 'Jane can sign in from Monday.',
    });
    includes(cardText(closed.card), 'Closed');
    const told = await waitForCard(carla, 'Jane can sign in from Monday.');
    includes(cardText(told), 'Closed');
  });

  it('handles a general request through denial with a reason', async () => {
    const submitted = await bot.invoke(carla, CardVerbs.Submit, {
      type: 'general',
      title: 'Replace the office Wi-Fi password',
      description: 'Quarterly rotation.',
      affectedSystems: 'Wi-Fi',
    });
    includes(cardText(submitted.card), 'CONTOSO-2');
    await waitForCard(andy, 'Replace the office Wi-Fi password');
    const denied = await bot.invoke(andy, CardVerbs.Deny, {
      requestId: 'CONTOSO-2',
      version: 1,
      reason: 'Not this quarter.',
    });
    includes(cardText(denied.card), 'Denied by Andy Approver: Not this quarter.');
    await waitForCard(carla, 'Not this quarter.');
  });

  it('lets an MSP technician raise a request only for a client they serve', async () => {
    await bot.say(tina, 'new');
    const picker = await waitForCard(tina, 'You are raising this on behalf of a client.');
    includes(cardText(picker), 'Contoso Ltd (CONTOSO)');
    excludes(cardText(picker), 'Fabrikam');
    const forFabrikam = await bot.invoke(tina, CardVerbs.Submit, {
      type: 'general',
      title: 'Sneaky change',
      description: 'x',
      clientTenantId: FABRIKAM.tenantId,
    });
    includes(cardText(forFabrikam.card), 'You cannot raise requests for that client');
    const forContoso = await bot.invoke(tina, CardVerbs.Submit, {
      type: 'incident',
      title: 'Printer on fire',
      description: 'Smoke from floor 2 printer.',
      severity: 'sev2',
      affectedService: 'Printing',
      affectedUsers: '40',
      startedAt: '2026-11-23T08:00',
      clientTenantId: CONTOSO.tenantId,
    });
    includes(cardText(forContoso.card), 'CONTOSO-3');
    includes(cardText(forContoso.card), 'raised by Tina Tech for Contoso Ltd');
  });

  it('re-issues approval cards when the requester edits, and refuses the old card', async () => {
    await waitForCard(andy, 'Printer on fire');
    const edited = await bot.invoke(tina, CardVerbs.SaveEdit, {
      requestId: 'CONTOSO-3',
      version: 1,
      type: 'incident',
      title: 'Printer on fire (floor 2)',
      description: 'Smoke from floor 2 printer.',
      severity: 'sev1',
      affectedService: 'Printing',
      affectedUsers: '40',
      startedAt: '2026-11-23T08:00',
    });
    includes(cardText(edited.card), 'Saved as version 2');
    const updated = await waitForCard(andy, 'Printer on fire (floor 2)');
    assert.equal(cardActions(updated).find((a) => a.title === 'Approve')!.data['version'], 2);
    const old = await bot.invoke(andy, CardVerbs.Approve, { requestId: 'CONTOSO-3', version: 1 });
    includes(cardText(old.card), 'This card shows version 1, but the request is now at version 2');
    const current = await bot.invoke(andy, CardVerbs.Approve, {
      requestId: 'CONTOSO-3',
      version: 2,
    });
    includes(cardText(current.card), 'Approved by Andy Approver');
  });

  it('shows requests only within the caller’s own tenant or assigned clients', async () => {
    await bot.say(carla, 'status CONTOSO-1');
    includes(cardText(await waitForCard(carla, 'Jane can sign in')), 'CONTOSO-1');
    await bot.install(frank);
    await bot.say(frank, 'status CONTOSO-1');
    excludes(cardText(await waitForCard(frank, 'was not found')), 'New starter');
    await bot.say(frank, 'my requests');
    const list = await waitForCard(frank, 'Requests for Fabrikam Inc');
    excludes(cardText(list), 'CONTOSO');
    await bot.say(tina, 'my requests');
    const staffList = await waitForCard(tina, 'Requests for your clients');
    includes(cardText(staffList), 'CONTOSO-1');
    includes(cardText(staffList), 'CONTOSO-2');
    includes(cardText(staffList), 'CONTOSO-3');
  });

  it('answers unknown verbs and malformed card data with a card, never an empty body', async () => {
    const unknown = await bot.invoke(carla, 'cr.explode', { requestId: 'CONTOSO-1' });
    assert.equal(unknown.httpStatus, 200);
    includes(cardText(unknown.card), 'Unknown action');
    const malformed = await bot.invoke(andy, CardVerbs.Approve, {
      requestId: { $gt: '' },
      version: 'x',
    });
    includes(cardText(malformed.card), 'cannot use');
    const huge = await bot.invoke(carla, CardVerbs.Submit, {
      ...NEW_USER,
      description: 'x'.repeat(70_000),
    });
    includes(cardText(huge.card), 'too much data');
  });

  it('keeps a verifiable audit chain with every step', async () => {
    const storage = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: config.storage.tablePrefix,
    });
    const entries = await storage.audit.read(CONTOSO.tenantId);
    const verdict = verifyChain(CONTOSO.tenantId, entries);
    assert.deepEqual(verdict, { ok: true, count: entries.length, headHash: entries.at(-1)?.hash });
    const parsed = entries.map(
      (e) => JSON.parse(e.canonical) as { type: string; requestId: string | null },
    );
    const types = parsed.map((e) => e.type);
    assert.equal(
      parsed.filter((e) => e.type === 'approval.granted' && e.requestId === 'CONTOSO-1').length,
      1,
    );
    includesAll(types, [
      'client.onboarded',
      'request.submitted',
      'approval.requested',
      'approval.refused',
      'work.started',
      'work.implemented',
      'request.closed',
      'approval.denied',
    ]);
    assert.ok(types.filter((t) => t === 'approval.refused').length >= 3);
  });
});
