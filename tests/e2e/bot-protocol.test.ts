import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import { startCabinet } from '../../src/main';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { createTableStorage, type TableStorage } from '../../src/adapters/storage/table-storage';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import { parseRequestId } from '../../src/domain/shared/ids';
import { CardVerbs } from '../../src/surfaces/bot/card-verbs';
import { MovableClock, sendToApprovers, useCasesOn } from '../support/approval-flow';
import { BotClient, cardActions, cardText, shownCardActions } from '../support/bot-client';
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
  let storage: TableStorage;
  let useCases: UseCaseDeps;
  // Real time until a test moves it into a change's window: Contoso's sandbox rules allow work on
  // Tuesday and Thursday evenings, booked 48 h ahead.
  const clock = new MovableClock();
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
    cabinet = await startCabinet(config, { log: () => undefined, clock });
    bot = new BotClient(cabinet.url, connector.url);
    storage = createTableStorage({
      connectionString: azurite.connectionString,
      tablePrefix: config.storage.tablePrefix,
      clock,
    });
    useCases = useCasesOn(storage, clock, MSP.tenantId);
  });

  after(async () => {
    await cabinet?.stop();
    await connector?.close();
    await azurite?.stop();
  });

  const conv = (user: { oid: string }) => `personal-${user.oid}`;
  /**
   * Tina assesses the request and sends it for approval through the use cases, on Cabinet's own
   * tables: the assessment's surfaces are not what this suite drives.
   */
  const contosoRequest = (id: string) => ({
    id: parseRequestId(id)!.id,
    tenantId: CONTOSO.tenantId,
  });
  const assessAndSend = (requestId: string) =>
    sendToApprovers(useCases, contosoRequest(requestId), { technician: tina });
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
    includes(text, 'Triaged');
    includes(text, 'Your MSP will assess it');
    excludes(text, 'Awaiting approval');
  });

  it('asks the technicians to assess it, and tells the requester whom it waits for once sent', async () => {
    includes(cardText(await waitForCard(tina, 'needs your assessment')), 'CONTOSO-1');
    assert.equal(
      connector.cardsIn(conv(andy)).filter((c) => cardText(c).includes('Jane Doe')).length,
      0,
    );
    const sent = await assessAndSend('CONTOSO-1');
    assert.equal(sent.version, 2);
    const waiting = await waitForCard(carla, 'Awaiting approval');
    includes(cardText(waiting), 'CONTOSO-1');
    includes(cardText(waiting), 'Avery Approver');
  });

  it('delivers the approval card to the reachable approver', async () => {
    const card = await waitForCard(andy, 'New starter: Jane Doe');
    includesAll(
      cardActions(card).map((a) => a.title),
      ['Approve', 'Deny'],
    );
    assert.deepEqual(cardActions(card).find((a) => a.title === 'Approve')!.data, {
      requestId: 'CONTOSO-1',
      version: 2,
      step: 'client',
    });
  });

  it('refuses clicks by anyone but a designated approver, with a card that says why', async () => {
    const byTech = await bot.invoke(tina, CardVerbs.Approve, {
      requestId: 'CONTOSO-1',
      version: 2,
    });
    includes(cardText(byTech.card), 'You are not a designated approver');
    const bySelf = await bot.invoke(carla, CardVerbs.Approve, {
      requestId: 'CONTOSO-1',
      version: 2,
    });
    includes(cardText(bySelf.card), 'You cannot decide on a request you raised');
    const byOtherTenant = await bot.invoke(frank, CardVerbs.Approve, {
      requestId: 'CONTOSO-1',
      version: 2,
    });
    includes(cardText(byOtherTenant.card), 'was not found');
    excludes(cardText(byOtherTenant.card), 'New starter');
    const spoofedTenant = await bot.invoke(
      andy,
      CardVerbs.Approve,
      { requestId: 'CONTOSO-1', version: 2 },
      {
        overrides: { channelData: { tenant: { id: FABRIKAM.tenantId } } },
      },
    );
    includes(cardText(spoofedTenant.card), 'could not tell who you are');
    // The version Carla submitted: the assessment changed what Andy decides on.
    const stale = await bot.invoke(andy, CardVerbs.Approve, { requestId: 'CONTOSO-1', version: 1 });
    includes(cardText(stale.card), 'now at version 2');
    const denyWithoutReason = await bot.invoke(andy, CardVerbs.Deny, {
      requestId: 'CONTOSO-1',
      version: 2,
      reason: '  ',
    });
    includes(cardText(denyWithoutReason.card), 'A reason is required');
  });

  it('records one decision however often the approval arrives', async () => {
    // Every click carries what Andy's card carries: the request, its version and the step.
    const card = await waitForCard(andy, 'New starter: Jane Doe');
    const approve = cardActions(card).find((a) => a.title === 'Approve')!;
    const deny = cardActions(card).find((a) => a.title === 'Deny')!;
    const clickId = randomUUID();
    const first = await bot.invoke(andy, approve.verb, approve.data, { id: clickId });
    const replayed = await bot.invoke(andy, approve.verb, approve.data, { id: clickId });
    const retried = await bot.invoke(andy, approve.verb, approve.data);
    const lateDeny = await bot.invoke(andy, deny.verb, {
      ...deny.data,
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

  it('lets a technician start in the window, implement and file the review, and tells the requester the notes', async () => {
    // Thursday evening comes: work may start inside the slot the assessment booked.
    const { id, tenantId } = contosoRequest('CONTOSO-1');
    const booked = (await storage.requests.get(tenantId, id))!.request;
    const window = booked.assessment!.requestedWindow!;
    clock.moveTo(new Date(Date.parse(window.start) + 60_000).toISOString());
    const byClient = await bot.invoke(carla, CardVerbs.Start, {
      requestId: 'CONTOSO-1',
      version: 2,
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
    // A normal change closes by its post-implementation review, filed from the form behind the button.
    excludes(
      cardActions(implemented.card).map((a) => a.title),
      'Close',
    );
    const review = shownCardActions(implemented.card, 'File the review').find(
      (a) => a.title === 'File review and close',
    );
    assert.ok(review, 'no File review and close button');
    const closed = await bot.invoke(tina, review.verb, {
      ...review.data,
      objectiveAchieved: 'yes',
      outcome: 'successful_with_issues',
      unexpectedImpacts: 'The mailbox took an hour to appear. Jane can sign in from Monday.',
      becomeStandard: 'false',
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
    await assessAndSend('CONTOSO-2');
    await waitForCard(andy, 'Replace the office Wi-Fi password');
    const denied = await bot.invoke(andy, CardVerbs.Deny, {
      requestId: 'CONTOSO-2',
      version: 2,
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
    await assessAndSend('CONTOSO-3');
    await waitForCard(andy, 'Printer on fire');
    const edited = await bot.invoke(tina, CardVerbs.SaveEdit, {
      requestId: 'CONTOSO-3',
      version: 2,
      type: 'incident',
      title: 'Printer on fire (floor 2)',
      description: 'Smoke from floor 2 printer.',
      severity: 'sev1',
      affectedService: 'Printing',
      affectedUsers: '40',
      startedAt: '2026-11-23T08:00',
    });
    includes(cardText(edited.card), 'Saved as version 3');
    const updated = await waitForCard(andy, 'Printer on fire (floor 2)');
    assert.equal(cardActions(updated).find((a) => a.title === 'Approve')!.data['version'], 3);
    const old = await bot.invoke(andy, CardVerbs.Approve, { requestId: 'CONTOSO-3', version: 2 });
    includes(cardText(old.card), 'This card shows version 2, but the request is now at version 3');
    const current = await bot.invoke(andy, CardVerbs.Approve, {
      requestId: 'CONTOSO-3',
      version: 3,
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
      'request.triaged',
      'request.assessed',
      'approval.requested',
      'approval.refused',
      'work.started',
      'work.implemented',
      'review.filed',
      'approval.denied',
    ]);
    assert.ok(types.filter((t) => t === 'approval.refused').length >= 3);
  });
});
