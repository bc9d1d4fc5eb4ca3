import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConnectWiseConnector } from '../../src/adapters/psa/connectwise-connector';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { PsaConnector, PsaInboundDelivery } from '../../src/application/ports/psa';
import {
  pollPsas,
  takeInPsaNotes,
  type PsaInboundDeps,
} from '../../src/application/use-cases/psa-inbound';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { psaMarker } from '../../src/domain/psa/psa';
import type { ChangeRequestId } from '../../src/domain/shared/ids';
import {
  startConnectWiseSandbox,
  type RunningConnectWiseSandbox,
} from '../../src/sandbox/psa/connectwise-server';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { psaWebhookRoute, PSA_WEBHOOK_MAX_BYTES } from '../../src/surfaces/http/psa-webhook.route';
import { FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';

interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Inbound PSA notes end to end: the sandbox ConnectWise PSA (real wire API, signed callbacks) calls
 * Cabinet's `/api/psa/connectwise` raw route over HTTP; intake reads the notes back through the
 * ConnectWise connector and records them on the request in Azurite.
 */
describe('PSA inbound notes over HTTP (sandbox ConnectWise, Azurite)', () => {
  const azurite = useAzurite();
  let clock: FakeClock;
  let storage: TableStorage;
  let sandbox: RunningConnectWiseSandbox;
  let connector: PsaConnector;
  let deps: PsaInboundDeps;
  let cabinet: Listening;
  let requestId: ChangeRequestId;
  let ticketId: string;
  const routeLog: string[] = [];

  before(async () => {
    clock = new FakeClock(new Date('2026-11-23T09:00:00.000Z'));
    storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
    sandbox = await startConnectWiseSandbox({ now: () => clock.now() });
    connector = createConnectWiseConnector({
      siteUrl: sandbox.siteUrl,
      companyId: sandbox.companyId,
      publicKey: sandbox.publicKey,
      privateKey: sandbox.privateKey,
      clientId: sandbox.clientId,
    });
    deps = {
      requests: storage.requests,
      clients: storage.clients,
      connectors: new Map([['connectwise', connector]]),
      links: storage.psaLinks,
      clock,
    };
    const route = psaWebhookRoute({ ...deps, log: (line) => routeLog.push(line) });
    cabinet = await listen(
      createServer((req, res) => {
        route.handle(req, res).catch(() => {
          res.writeHead(500);
          res.end();
        });
      }),
    );
    sandbox.setWebhookTarget(`${cabinet.url}/api/psa/connectwise`);
  });

  after(async () => {
    await cabinet.close();
    await sandbox.close();
  });

  beforeEach(async () => {
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
    requestId = raised.value.request.id;
    // What the outbound relay does once it has opened the ticket: link it both ways.
    ticketId = (
      await connector.createTicket({
        company: 'CONTOSO',
        priority: 'Priority 3 - Normal Response',
        summary: `${requestId}: general`,
        details: 'Raised in Cabinet',
        externalRef: requestId,
      })
    ).ticketId;
    const stored = (await storage.requests.get(CONTOSO.tenantId, requestId))!;
    await storage.requests.update(CONTOSO.tenantId, stored.etag, {
      request: { ...stored.request, psa: { psa: 'connectwise', ticketId } },
      audit: [],
      outbox: [],
    });
    await storage.psaLinks.link('connectwise', ticketId, {
      tenantId: CONTOSO.tenantId,
      requestId,
    });
  });

  async function notesOnRequest(): Promise<{ noteId: string; text: string }[]> {
    const notes: { noteId: string; text: string }[] = [];
    for (const entry of await storage.audit.read(CONTOSO.tenantId)) {
      const parsed = JSON.parse(entry.canonical) as {
        type: string;
        requestId: string | null;
        payload: { noteId?: string };
      };
      if (parsed.type !== 'psa.note_received' || parsed.requestId !== requestId) continue;
      const personal = await storage.audit.openPersonal(CONTOSO.tenantId, entry);
      notes.push({ noteId: parsed.payload.noteId!, text: personal?.['text'] as string });
    }
    return notes;
  }

  async function noteCards(): Promise<string[]> {
    return (await storage.outbox.list(CONTOSO.tenantId))
      .filter(
        (r) =>
          r.message.kind === 'teams.notify' &&
          r.message.notification.template === 'psa_note' &&
          r.message.notification.requestId === requestId,
      )
      .map((r) => (r.message.kind === 'teams.notify' ? r.message.recipient.oid : ''));
  }

  /** Contoso's technicians, as onboarded (the sandbox seeds more than one). */
  async function techs(): Promise<string[]> {
    return (await storage.clients.get(CONTOSO.tenantId))!.profile.techs.map((t) => t.oid);
  }

  /** A technician's note whose signed callback is kept, not sent to Cabinet. */
  async function captureCallback(text: string): Promise<PsaInboundDelivery> {
    const captured: PsaInboundDelivery[] = [];
    const receiver = await listen(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(req.headers))
            headers[name] = Array.isArray(value) ? value.join(', ') : value;
          captured.push({ headers, rawBody: Buffer.concat(chunks) });
          res.writeHead(200);
          res.end();
        });
      }),
    );
    sandbox.setWebhookTarget(receiver.url);
    try {
      await sandbox.addTechnicianNote(ticketId, text, { author: 'Connie Wise' });
    } finally {
      sandbox.setWebhookTarget(`${cabinet.url}/api/psa/connectwise`);
      await receiver.close();
    }
    assert.equal(captured.length, 1);
    return captured[0]!;
  }

  function post(path: string, delivery: PsaInboundDelivery): Promise<Response> {
    return fetch(`${cabinet.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-content-signature': delivery.headers['x-content-signature'] ?? '',
      },
      body: delivery.rawBody,
    });
  }

  it('a signed callback puts the technician’s note on the request once; the same note by poll is not taken again', async () => {
    const noteId = await sandbox.addTechnicianNote(ticketId, 'Licence assigned', {
      author: 'Connie Wise',
    });
    assert.deepEqual(await notesOnRequest(), [{ noteId, text: 'Licence assigned' }]);
    // Contoso's techs and Carla (the requester, a person) hear of a note visible to the client.
    assert.deepEqual((await noteCards()).sort(), [CONTOSO.carla.oid, ...(await techs())].sort());
    const stored = (await storage.requests.get(CONTOSO.tenantId, requestId))!.request;
    assert.equal(stored.psa?.lastNoteId, noteId);

    const polled = await pollPsas(deps);
    assert.deepEqual(polled.failed, []);
    assert.equal(polled.taken, 0);
    assert.equal((await notesOnRequest()).length, 1);
    assert.equal(
      (await storage.psaLinks.watermark('connectwise'))?.toISOString(),
      clock.now().toISOString(),
      'the poller moves its watermark to the poll’s start',
    );
  });

  it('drops Cabinet’s own marked notes and takes in the technician’s', async () => {
    await connector.addNote(ticketId, {
      text: 'Approved by Andy Approver',
      internal: false,
      marker: psaMarker('o_inbound_1'),
    });
    const noteId = await sandbox.addTechnicianNote(ticketId, 'Done on our side', {
      author: 'Connie Wise',
      internal: true,
    });
    assert.deepEqual(await notesOnRequest(), [{ noteId, text: 'Done on our side' }]);
    assert.deepEqual(await noteCards(), await techs(), 'an internal note reaches technicians only');
  });

  it('refuses a forged callback (one byte altered) with 401 and stores nothing', async () => {
    const real = await captureCallback('Signed by ConnectWise');
    const forged = Buffer.from(real.rawBody);
    const at = forged.indexOf('"Action":"updated"') + '"Action":"u'.length;
    forged[at] = 'U'.charCodeAt(0);
    const refused = await post('/api/psa/connectwise', { ...real, rawBody: forged });
    assert.equal(refused.status, 401);
    assert.deepEqual(await notesOnRequest(), []);
    assert.equal(
      (await storage.requests.get(CONTOSO.tenantId, requestId))!.request.psa?.lastNoteId,
      undefined,
    );

    const accepted = await post('/api/psa/connectwise', real);
    assert.equal(accepted.status, 200);
    assert.deepEqual(await accepted.json(), { taken: 1 });
  });

  it('records a note once when a webhook and a poll race, and when the same callback arrives twice', async () => {
    const delivery = await captureCallback('Rebooted twice');
    const [a, b] = await Promise.all([
      post('/api/psa/connectwise', delivery),
      post('/api/psa/connectwise', delivery),
      takeInPsaNotes(deps, 'connectwise', ticketId),
      pollPsas(deps),
    ]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.deepEqual(
      (await notesOnRequest()).map((n) => n.text),
      ['Rebooted twice'],
    );
    assert.equal(
      (await noteCards()).length,
      (await techs()).length + 1,
      'the techs and Carla, once each',
    );
  });

  it('answers 404 for a PSA not configured, 405 for a GET and 413 past the cap, unread', async () => {
    const delivery = { headers: {}, rawBody: Buffer.from('{}') };
    assert.equal((await post('/api/psa/halopsa', delivery)).status, 404);
    assert.equal((await post('/api/psa/nonsense', delivery)).status, 404);
    assert.equal((await fetch(`${cabinet.url}/api/psa/connectwise`)).status, 405);
    const big = await post('/api/psa/connectwise', {
      headers: {},
      rawBody: Buffer.alloc(PSA_WEBHOOK_MAX_BYTES + 1, 0x20),
    });
    assert.equal(big.status, 413);
  });
});
