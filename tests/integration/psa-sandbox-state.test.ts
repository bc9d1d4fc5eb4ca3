import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAutotaskConnector } from '../../src/adapters/psa/autotask-connector';
import { createConnectWiseConnector } from '../../src/adapters/psa/connectwise-connector';
import { createHaloPsaConnector } from '../../src/adapters/psa/halopsa-connector';
import type { PsaConnector, PsaTicketDraft } from '../../src/application/ports/psa';
import { psaMarker } from '../../src/domain/psa/psa';
import {
  startAutotaskSandbox,
  type RunningAutotaskSandbox,
} from '../../src/sandbox/psa/autotask-server';
import {
  startConnectWiseSandbox,
  type RunningConnectWiseSandbox,
} from '../../src/sandbox/psa/connectwise-server';
import {
  startHaloPsaSandbox,
  type RunningHaloPsaSandbox,
} from '../../src/sandbox/psa/halopsa-server';
import { startSandboxPsas } from '../../src/sandbox/psa/sandbox-psas';
import type { RunningPsaSandbox } from '../../src/sandbox/psa/types';

/**
 * One PSA's restart story: what to start, which connector Cabinet builds from the credentials it
 * was given in the first run (pointed at the restarted server's new port), and a ticket draft.
 */
interface Case<S extends RunningPsaSandbox> {
  readonly name: string;
  start(stateFile: string): Promise<S>;
  /** Cabinet's connector: the first run's credentials, the current server's address. */
  connector(first: S, current: S): PsaConnector;
  /** What must stay the same for Cabinet's stored configuration to keep working. */
  credentials(psa: S): Promise<unknown>;
  readonly draft: PsaTicketDraft;
}

const halo: Case<RunningHaloPsaSandbox> = {
  name: 'HaloPSA',
  start: (stateFile) => startHaloPsaSandbox({ stateFile }),
  connector: (first, current) =>
    createHaloPsaConnector({
      apiUrl: current.url,
      authUrl: current.authUrl,
      clientId: first.clientId,
      clientSecret: first.clientSecret,
      webhookSecret: first.webhookSecret,
    }),
  credentials: (psa) =>
    Promise.resolve([psa.clientId, psa.clientSecret, psa.webhookSecret] as const),
  draft: {
    company: '12',
    priority: '2',
    summary: 'CONTOSO-1: Onboard Jane Doe',
    details: 'Onboard Jane Doe',
    externalRef: 'cr_restart1',
  },
};

const connectwise: Case<RunningConnectWiseSandbox> = {
  name: 'ConnectWise PSA',
  start: (stateFile) => startConnectWiseSandbox({ stateFile }),
  connector: (first, current) =>
    createConnectWiseConnector({
      siteUrl: current.siteUrl,
      companyId: first.companyId,
      publicKey: first.publicKey,
      privateKey: first.privateKey,
      clientId: first.clientId,
    }),
  // The callback signing key is generated at first start; receivers verify callbacks with it.
  credentials: async (psa) => {
    const key = (await (await fetch(psa.keyUrl)).json()) as { signing_key: string };
    return [psa.companyId, psa.publicKey, psa.privateKey, psa.clientId, key.signing_key];
  },
  draft: {
    company: 'FABRIKAM',
    board: 'Service Desk',
    priority: 'Priority 2 - High',
    summary: 'FABRIKAM-1: New laptop',
    details: 'A new laptop for Ben',
    externalRef: 'cr_restart2',
  },
};

const autotask: Case<RunningAutotaskSandbox> = {
  name: 'Autotask',
  start: (stateFile) => startAutotaskSandbox({ stateFile }),
  connector: (first, current) =>
    createAutotaskConnector({
      zoneUrl: current.zoneUrl,
      username: first.username,
      secret: first.secret,
      integrationCode: first.integrationCode,
      webhookSecret: first.webhookSecret,
    }),
  credentials: (psa) =>
    Promise.resolve([psa.username, psa.secret, psa.integrationCode, psa.webhookSecret] as const),
  draft: {
    company: '174',
    board: '29682833',
    priority: '2',
    summary: 'CONTOSO-2: Printer',
    details: 'The printer jams',
    externalRef: 'cr_restart3',
  },
};

describe('Sandbox PSA state survives a restart (stateFile)', () => {
  let dir: string;
  const running: RunningPsaSandbox[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cabinet-psa-state-'));
  });

  afterEach(async () => {
    await Promise.allSettled(running.splice(0).map((psa) => psa.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  function restartCase<S extends RunningPsaSandbox>(c: Case<S>): void {
    it(`${c.name}: tickets, notes and credentials carry over and ids continue`, async () => {
      const stateFile = join(dir, 'psa', `${c.name}.json`);
      const first = await c.start(stateFile);
      running.push(first);
      const before = c.connector(first, first);
      const ticket = await before.createTicket(c.draft);
      const cabinetNote = await before.addNote(ticket.ticketId, {
        text: 'Assessed: low risk',
        internal: false,
        marker: psaMarker('ob_1'),
      });
      const techNote = await first.addTechnicianNote(ticket.ticketId, 'Laptop ordered');
      const tickets = first.tickets();
      const credentials = await c.credentials(first);
      await first.close();

      const second = await c.start(stateFile);
      running.push(second);
      assert.deepEqual(second.tickets(), tickets);
      assert.deepEqual(await c.credentials(second), credentials);
      // Cabinet's stored configuration (the first run's credentials) still works.
      const after = c.connector(first, second);
      assert.equal(
        (await after.findTicket(c.draft.company, c.draft.externalRef))?.ticketId,
        ticket.ticketId,
      );
      const notes = await after.listNotes(ticket.ticketId);
      assert.deepEqual(
        notes.map((n) => n.id),
        [cabinetNote.noteId, techNote],
      );
      const next = await after.createTicket({ ...c.draft, externalRef: `${c.draft.externalRef}b` });
      assert.ok(Number(next.ticketId) > Number(ticket.ticketId), 'ticket ids continue');
      const later = await second.addTechnicianNote(ticket.ticketId, 'Laptop delivered');
      assert.ok(Number(later) > Number(techNote), 'note ids continue');
      assert.deepEqual(
        (await after.listNotes(ticket.ticketId)).map((n) => n.id),
        [cabinetNote.noteId, techNote, later],
      );
    });
  }

  restartCase(halo);
  restartCase(connectwise);
  restartCase(autotask);

  it('a state file that cannot be written is logged; the call still succeeds', async () => {
    // A file where the state file's folder should be: every write fails.
    writeFileSync(join(dir, 'blocked'), '');
    const lines: string[] = [];
    const psa = await startHaloPsaSandbox({
      stateFile: join(dir, 'blocked', 'halopsa.json'),
      log: (line) => lines.push(line),
    });
    running.push(psa);
    const ticket = await halo.connector(psa, psa).createTicket(halo.draft);
    assert.equal(psa.tickets()[0]?.id, ticket.ticketId);
    assert.ok(
      lines.some((line) => line.includes('could not write')),
      lines.join('\n'),
    );
  });

  it('startSandboxPsas keeps each PSA under the data dir given', async () => {
    const psas = await startSandboxPsas(dir);
    running.push(...psas.all());
    const halopsa = createHaloPsaConnector({
      apiUrl: psas.halopsa.url,
      authUrl: psas.halopsa.authUrl,
      clientId: psas.halopsa.clientId,
      clientSecret: psas.halopsa.clientSecret,
      webhookSecret: psas.halopsa.webhookSecret,
    });
    await halopsa.createTicket(halo.draft);
    await psas.stop();
    running.splice(0);
    assert.deepEqual(readdirSync(dir), ['halopsa.json']);
    const again = await startSandboxPsas(dir);
    running.push(...again.all());
    assert.equal(again.halopsa.tickets().length, 1);
    assert.equal(again.halopsa.clientSecret, psas.halopsa.clientSecret);
  });
});
