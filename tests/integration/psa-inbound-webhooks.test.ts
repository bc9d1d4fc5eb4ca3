import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAutotaskConnector } from '../../src/adapters/psa/autotask-connector';
import { createHaloPsaConnector } from '../../src/adapters/psa/halopsa-connector';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { PsaConnector, PsaTicketDraft } from '../../src/application/ports/psa';
import { pollPsas, type PsaInboundDeps } from '../../src/application/use-cases/psa-inbound';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { psaMarker, type PsaKind } from '../../src/domain/psa/psa';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import { startAutotaskSandbox } from '../../src/sandbox/psa/autotask-server';
import { startHaloPsaSandbox } from '../../src/sandbox/psa/halopsa-server';
import type { RunningPsaSandbox } from '../../src/sandbox/psa/types';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { psaWebhookRoute } from '../../src/surfaces/http/psa-webhook.route';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';

interface PsaUnderTest {
  readonly kind: PsaKind;
  start(clock: FakeClock): Promise<{ sandbox: RunningPsaSandbox; connector: PsaConnector }>;
  readonly draft: Omit<PsaTicketDraft, 'summary' | 'details' | 'externalRef'>;
}

const PSAS: readonly PsaUnderTest[] = [
  {
    kind: 'halopsa',
    // Halo also calls the webhook for Cabinet's own notes (a webhook without conditions): echoes to drop.
    async start(clock) {
      const sandbox = await startHaloPsaSandbox({
        now: () => clock.now(),
        webhookOnApiActions: true,
      });
      const connector = createHaloPsaConnector({
        apiUrl: sandbox.url,
        authUrl: sandbox.authUrl,
        clientId: sandbox.clientId,
        clientSecret: sandbox.clientSecret,
        webhookSecret: sandbox.webhookSecret,
        now: () => clock.now(),
      });
      return { sandbox, connector };
    },
    draft: { company: '12', board: '3', priority: '2' },
  },
  {
    kind: 'autotask',
    async start(clock) {
      const sandbox = await startAutotaskSandbox({ now: () => clock.now() });
      const connector = createAutotaskConnector({
        zoneUrl: sandbox.zoneUrl,
        username: sandbox.username,
        secret: sandbox.secret,
        integrationCode: sandbox.integrationCode,
        webhookSecret: sandbox.webhookSecret,
      });
      return { sandbox, connector };
    },
    draft: { company: '174', board: '29682833', priority: '2' },
  },
];

/** The other PSAs' webhooks through Cabinet's `/api/psa/<kind>` route, on Azurite. */
describe('PSA inbound webhooks: HaloPSA and Autotask (sandbox PSAs, Azurite)', () => {
  const azurite = useAzurite();

  for (const psa of PSAS) {
    it(`${psa.kind}: a technician's note arrives once by webhook, Cabinet's echo is dropped, a poll adds nothing`, async () => {
      const clock = new FakeClock(new Date('2026-11-23T09:00:00.000Z'));
      const storage: TableStorage = await azurite.newStorage({ clock });
      await onboardSandboxClients(storage);
      const { sandbox, connector } = await psa.start(clock);
      const deps: PsaInboundDeps = {
        requests: storage.requests,
        clients: storage.clients,
        connectors: new Map([[psa.kind, connector]]),
        links: storage.psaLinks,
        clock,
      };
      const route = psaWebhookRoute(deps);
      const server = createServer((req, res) => {
        route.handle(req, res).catch(() => {
          res.writeHead(500);
          res.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        sandbox.setWebhookTarget(`http://127.0.0.1:${port}/api/psa/${psa.kind}`);

        const raised = await submitChange(
          {
            ...storage,
            templates: storage.catalogue(MSP.tenantId),
            clock,
            mspTenantId: MSP.tenantId,
          },
          { actor: asPerson(CONTOSO.carla), type: 'general', fields: validFields('general') },
        );
        assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
        const requestId: ChangeRequestId = raised.value.request.id;
        const { ticketId } = await connector.createTicket({
          ...psa.draft,
          summary: `${requestId}: general`,
          details: 'Raised in Cabinet',
          externalRef: requestId,
        });
        const stored = (await storage.requests.get(CONTOSO.tenantId, requestId))!;
        await storage.requests.update(CONTOSO.tenantId, stored.etag, {
          request: { ...stored.request, psa: { psa: psa.kind, ticketId } },
          audit: [],
          outbox: [],
        });
        await storage.psaLinks.link(psa.kind, ticketId, { tenantId: CONTOSO.tenantId, requestId });

        await connector.addNote(ticketId, {
          text: 'Approved in Cabinet',
          internal: false,
          marker: psaMarker('o_echo_1'),
        });
        const noteId = await sandbox.addTechnicianNote(ticketId, 'Mailbox moved', {
          author: 'Pat Tech',
        });

        const received = async () => {
          const out: { noteId: unknown; text: unknown }[] = [];
          for (const entry of await storage.audit.read(CONTOSO.tenantId)) {
            const parsed = JSON.parse(entry.canonical) as {
              type: string;
              payload: { noteId?: unknown };
            };
            if (parsed.type !== 'psa.note_received') continue;
            const personal = await storage.audit.openPersonal(CONTOSO.tenantId, entry);
            out.push({ noteId: parsed.payload.noteId, text: personal?.['text'] });
          }
          return out;
        };
        assert.deepEqual(await received(), [{ noteId, text: 'Mailbox moved' }]);

        const polled = await pollPsas(deps);
        assert.deepEqual([polled.taken, polled.failed], [0, []]);
        assert.ok(polled.tickets >= 1, 'the poll read the ticket back and found nothing new');
        assert.equal((await received()).length, 1);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await sandbox.close();
      }
    });
  }
});
