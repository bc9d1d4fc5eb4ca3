import { strict as assert } from 'node:assert';
import {
  MonthlyReporter,
  postMonthlyReports,
} from '../../src/application/use-cases/monthly-reporter';
import type { TeamsNotifyMessage } from '../../src/application/ports/outbox';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { monthlyReportNoticeCard } from '../../src/surfaces/bot/cards/change-log.view';
import { tabReportUrl } from '../../src/surfaces/reports/report-links';
import { OutboxRelay } from '../../src/application/use-cases/relay-outbox';
import { asObjectId } from '../../src/domain/shared/ids';
import { createBotAdapter } from '../../src/surfaces/bot/bot-adapter';
import { TeamsNotifier } from '../../src/surfaces/bot/teams-notifier';
import { FakeClock } from '../fakes/in-memory-storage';
import { startLoopbackConnector } from '../support/loopback-connector';
import { useAzurite } from '../support/azurite-fixture';
import { cardText } from '../support/bot-client';
import { onboardSandboxClients } from '../support/client-settings-fixture';
import { bookNovember } from '../support/summary-fixtures';

/** The monthly report is posted to each client's admins once after the month ends, on Azurite. */
describe('MonthlyReporter on Azurite', function () {
  this.timeout(60_000);
  const azurite = useAzurite();

  it('posts last month’s report once per client: marker, audit entry and admin cards in one commit', async () => {
    // Onboarded on 23 November 2026: October ended before, so it is never reported.
    const clock = new FakeClock(new Date('2026-11-23T09:00:00.000Z'));
    const storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
    const deps = {
      ...storage,
      templates: storage.catalogue(MSP.tenantId),
      clock,
      mspTenantId: MSP.tenantId,
    };
    const contoso = (await storage.clients.get(CONTOSO.tenantId))!.profile;
    const fabrikam = (await storage.clients.get(FABRIKAM.tenantId))!.profile;
    await bookNovember(deps, { contoso, fabrikam });
    const reporters = [1, 2].map(
      (n) =>
        new MonthlyReporter(
          { ...deps, monthlyReports: storage.monthlyReports, lease: storage.leases },
          { holder: `instance-${n}` },
        ),
    );

    assert.deepEqual((await reporters[0]!.runOnce())?.posted, []);
    assert.ok(!(await storage.monthlyReports.posted(CONTOSO.tenantId, '2026-10')));

    // 2 December 2026, 09:00 London: November has ended for both clients.
    clock.advance(9 * 24 * 3600_000);
    const passes = await Promise.all(reporters.map((r) => r.runOnce()));
    const posted = passes.flatMap((p) => p?.posted ?? []);
    assert.deepEqual(
      posted.map((p) => [p.tenantId, p.month]).sort(),
      [
        [CONTOSO.tenantId, '2026-11'],
        [FABRIKAM.tenantId, '2026-11'],
      ].sort(),
    );
    await Promise.all(reporters.map((r) => r.stop()));
    // Without the lease too (two passes at once): the marker row decides, nothing is posted twice.
    const again = await Promise.all(
      [1, 2].map(() => postMonthlyReports({ ...deps, monthlyReports: storage.monthlyReports })),
    );
    assert.deepEqual(
      again.flatMap((p) => p.posted),
      [],
    );
    assert.ok(await storage.monthlyReports.posted(CONTOSO.tenantId, '2026-11'));
    assert.ok(!(await storage.monthlyReports.posted(CONTOSO.tenantId, '2026-12')));

    const cards = (await storage.outbox.list(CONTOSO.tenantId))
      .map((r) => r.message)
      .filter(
        (m): m is TeamsNotifyMessage =>
          m.kind === 'teams.notify' && m.notification.template === 'monthly_report',
      );
    assert.deepEqual(
      cards.map((c) => [c.recipient.oid, c.notification.requestId, c.notification.note]),
      contoso.admins.map((a) => [a.oid, '2026-11', '6 changes, 4 red flags']),
    );
    const entries = (await storage.audit.read(CONTOSO.tenantId))
      .map((e) => JSON.parse(e.canonical) as { type: string; payload: unknown })
      .filter((e) => e.type === 'report.monthly_posted');
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0]!.payload, {
      month: '2026-11',
      changes: 6,
      redFlags: ['emergency_share', 'emergency_quota', 'no_rollback_plan', 'overdue_review'],
      recipients: contoso.admins.length,
    });
  });

  it('delivers the card to the client admin in Teams with a link to the tab’s report page', async () => {
    const clock = new FakeClock(new Date('2026-11-23T09:00:00.000Z'));
    const storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
    clock.advance(9 * 24 * 3600_000);
    const deps = { ...storage, templates: storage.catalogue(MSP.tenantId), clock };
    const connector = await startLoopbackConnector();
    const tenant = CONTOSO.tenantId;
    try {
      await storage.conversations.save({
        tid: tenant,
        oid: asObjectId(CONTOSO.carla.oid)!,
        reference: {
          channelId: 'msteams',
          serviceUrl: connector.url,
          conversation: { id: 'a:carla-chat', conversationType: 'personal', tenantId: tenant },
          bot: { id: '28:cabinet-sandbox-bot', name: 'Cabinet' },
          user: { id: `29:${CONTOSO.carla.oid}`, aadObjectId: CONTOSO.carla.oid },
        },
      });
      await postMonthlyReports({ ...deps, monthlyReports: storage.monthlyReports });
      const relay = new OutboxRelay(
        {
          outbox: storage.outbox,
          notifier: new TeamsNotifier({
            adapter: createBotAdapter(undefined),
            appId: '',
            conversations: storage.conversations,
            requests: storage.requests,
            clients: storage.clients,
            delegations: storage.delegations,
            clock,
            reportLink: (month) => tabReportUrl('https://cabinet.example.com', month),
          }),
          clients: storage.clients,
          clock,
        },
        { baseDelayMs: 1, maxDelayMs: 1, random: () => 0 },
      );
      await relay.deliverDue(tenant);
      const sent = connector.calls.flatMap((c) => c.body?.attachments ?? []);
      assert.equal(sent.length, 1);
      const card = sent[0]!.content as { actions?: unknown };
      assert.match(
        cardText(card),
        /Monthly change report: Contoso Ltd, 2026-11.*Your change report for 2026-11 is ready: 0 changes, 0 red flags/s,
      );
      assert.deepEqual(card.actions, [
        {
          type: 'Action.OpenUrl',
          title: 'Open the report',
          url: 'https://cabinet.example.com/tab/?page=report&month=2026-11',
        },
      ]);
    } finally {
      await connector.close();
    }
  });

  it('renders the card with a link to the tab’s report page', () => {
    const link = tabReportUrl('https://cabinet.example.com/', '2026-11');
    assert.equal(link, 'https://cabinet.example.com/tab/?page=report&month=2026-11');
    const card = monthlyReportNoticeCard({
      clientName: 'Contoso Ltd',
      month: '2026-11',
      headline: '6 changes, 4 red flags',
      link,
    });
    assert.match(cardText(card), /Your change report for 2026-11 is ready: 6 changes, 4 red flags/);
    assert.deepEqual(card.actions, [
      { type: 'Action.OpenUrl', title: 'Open the report', url: link },
    ]);
  });
});
