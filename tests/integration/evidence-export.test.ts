import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import JSZip from 'jszip';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import { checkpointTenant } from '../../src/application/use-cases/checkpoints';
import {
  exportEvidence,
  exportEvidenceFor,
  type EvidenceExportDeps,
  type EvidenceProgress,
} from '../../src/application/use-cases/evidence-export';
import type { AuditEvent } from '../../src/domain/audit/audit-event';
import type { EvidenceHistory } from '../../src/domain/evidence/evidence-history';
import { asTenantId, type TenantId } from '../../src/domain/shared/ids';
import { openEvidenceDeps } from '../../src/cli/evidence-deps';
import { runEvidenceCommand } from '../../src/cli/evidence.command';
import { MovableClock } from '../support/approval-flow';
import {
  applyAll,
  assessedEvent,
  contextFor,
  people,
  planFor,
  submitted,
  voteEvent,
} from '../support/fixtures';
import { CONTOSO } from '../../src/sandbox/sandbox-tenants';
import { useAzurite } from '../support/azurite-fixture';

const RANGE = { from: '2026-11-01', to: '2026-11-30' };

/** verify.mjs is plain ESM outside every tsconfig; this file compiles to CommonJS. */
async function verifyBundle(zip: Buffer): Promise<{ exitCode: number; report: object }> {
  const verifier = await import('../../verifier/verify.mjs');
  return verifier.verifyBundle(zip);
}

/** A stderr stand-in that records what was written. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, columns: 100, written, write: (text: string) => written.push(text) };
}

describe('exportEvidence', function () {
  this.timeout(60_000);
  const azurite = useAzurite();
  const clock = new MovableClock();
  let storage: TableStorage & { readonly prefix: string };
  let deps: EvidenceExportDeps;

  before(async () => {
    storage = await azurite.newStorage({ clock });
    deps = await openEvidenceDeps(storage, {
      connectionString: azurite.connectionString,
      tablePrefix: storage.prefix,
      anchorContainer: `anchors-${storage.prefix}`,
      clock,
      generatorVersion: '0.1.0-test',
    });
  });

  function event(
    tenant: TenantId,
    type: AuditEvent['type'],
    requestId: string | null,
    payload: AuditEvent['payload'],
    personal?: AuditEvent['personal'],
  ): AuditEvent {
    return {
      type,
      actor: { tid: tenant, oid: 'aaaaaaaa-1111-4111-8111-000000000001' },
      requestId,
      payload,
      ...(personal ? { personal } : {}),
    };
  }

  /** A client log: a request submitted before the range and approved and closed in it, one outside. */
  async function seedTenant(): Promise<{ tenant: TenantId; inRange: string; before: string }> {
    const tenant = asTenantId(randomUUID())!;
    const inRange = randomUUID();
    const earlier = randomUUID();
    const at = async (ts: string, e: AuditEvent) => {
      clock.moveTo(ts);
      await storage.audit.append(tenant, [e]);
    };
    await at(
      '2026-10-01T09:00:00.000Z',
      event(tenant, 'request.submitted', earlier, { status: 'submitted' }, { title: 'Old one' }),
    );
    await at(
      '2026-10-30T09:00:00.000Z',
      event(
        tenant,
        'request.submitted',
        inRange,
        { status: 'submitted', changeType: 'add_user', changeClass: 'normal' },
        { title: 'New starter Dana', requester: 'Rita Requester' },
      ),
    );
    await at(
      '2026-11-02T10:00:00.000Z',
      event(
        tenant,
        'approval.granted',
        inRange,
        {
          status: 'approved',
          step: 'client',
          outcome: 'approved',
          approvalVersion: 1,
          cardHash: 'c'.repeat(64),
        },
        { reason: 'Fine by me' },
      ),
    );
    await at(
      '2026-11-03T10:00:00.000Z',
      event(
        tenant,
        'request.closed',
        inRange,
        { status: 'closed', outcome: 'successful' },
        { notes: 'Done, verified with Dana' },
      ),
    );
    return { tenant, inRange, before: earlier };
  }

  async function contents(zip: Buffer): Promise<JSZip> {
    return JSZip.loadAsync(zip);
  }

  it('builds the bundle layout, decrypts the history, and verifies with verify.mjs', async () => {
    const { tenant, inRange, before } = await seedTenant();
    await checkpointTenant(deps, tenant);
    clock.moveTo('2026-12-05T00:00:00.000Z');
    await storage.audit.append(tenant, [
      event(tenant, 'request.submitted', randomUUID(), { status: 'submitted' }),
    ]);
    const phases: EvidenceProgress['phase'][] = [];
    const result = await exportEvidence(deps, { tenantId: tenant, ...RANGE }, (p) => {
      if (phases.at(-1) !== p.phase) phases.push(p.phase);
    });
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    const { zip, manifest } = result.value;
    assert.deepEqual(phases, ['entries', 'history', 'checkpoints', 'zip']);

    const archive = await contents(zip);
    const names = Object.keys(archive.files);
    assert.deepEqual(names, [...names].sort(), 'members in sorted path order');
    assert.deepEqual(names, [
      'README.txt',
      'anchors/anchors.json',
      'checkpoints/0000000000000004.note',
      'controls/control-map.html',
      'controls/control-map.json',
      'entries.ndjson',
      'history/index.html',
      'history/requests.json',
      'keys/keys.json',
      'manifest.json',
      'manifest.sig',
      'proofs/consistency.json',
      'verifier/verify.mjs',
    ]);
    assert.equal(manifest.entries.last, 4, 'the entry after the range is not in the bundle');
    assert.equal(manifest.origin, `audit.cabinet/${tenant}`);
    const ndjson = await archive.files['entries.ndjson']!.async('string');
    assert.equal(ndjson.split('\n').length, 5);
    assert.ok(ndjson.endsWith('\n'));

    const history = JSON.parse(
      await archive.files['history/requests.json']!.async('string'),
    ) as EvidenceHistory;
    assert.deepEqual(
      history.requests.map((r) => r.requestId),
      [inRange],
      'only requests with activity in the range',
    );
    assert.ok(!history.requests.some((r) => r.requestId === before));
    const request = history.requests[0]!;
    assert.equal(request.title, 'New starter Dana');
    assert.equal(request.decisions[0]!.cardHash, 'c'.repeat(64));
    assert.equal(request.decisions[0]!.reason, 'Fine by me');
    assert.equal(request.closeNotes[0]!.text, 'Done, verified with Dana');
    const html = await archive.files['history/index.html']!.async('string');
    assert.match(html, /New starter Dana/);
    assert.doesNotMatch(html, /<script|src="http/i);
    const readme = await archive.files['README.txt']!.async('string');
    assert.match(readme, new RegExp(manifest.pinnedKey));

    const verdict = await verifyBundle(zip);
    assert.equal(verdict.exitCode, 0, JSON.stringify(verdict.report));
  });

  it('exports the same range to byte-identical ZIPs, even after new entries and checkpoints', async () => {
    const { tenant } = await seedTenant();
    const first = await exportEvidence(deps, { tenantId: tenant, ...RANGE });
    assert.ok(first.ok);
    clock.moveTo('2026-12-01T00:00:01.000Z');
    await storage.audit.append(tenant, [
      event(tenant, 'request.submitted', randomUUID(), { status: 'submitted' }),
    ]);
    await checkpointTenant(deps, tenant);
    const second = await exportEvidence(deps, { tenantId: tenant, ...RANGE });
    assert.ok(second.ok);
    assert.ok(first.value.zip.equals(second.value.zip), 'byte-identical');
    const wider = await exportEvidence(deps, {
      tenantId: tenant,
      from: RANGE.from,
      to: '2026-12-01',
    });
    assert.ok(wider.ok);
    assert.equal(wider.value.manifest.entries.last, 5);
    assert.equal((await verifyBundle(wider.value.zip)).exitCode, 0);
  });

  it('shows personal data as [erased] once the client key is destroyed; the bundle still verifies', async () => {
    const { tenant } = await seedTenant();
    await storage.keyring.destroy(tenant);
    const result = await exportEvidence(deps, { tenantId: tenant, ...RANGE });
    assert.ok(result.ok);
    const archive = await contents(result.value.zip);
    const history = JSON.parse(
      await archive.files['history/requests.json']!.async('string'),
    ) as EvidenceHistory;
    assert.equal(history.requests[0]!.title, '[erased]');
    assert.equal(history.requests[0]!.closeNotes[0]!.text, '[erased]');
    assert.equal((await verifyBundle(result.value.zip)).exitCode, 0);
  });

  it('refuses a bad range and an empty log', async () => {
    const tenant = asTenantId(randomUUID())!;
    const bad = await exportEvidence(deps, {
      tenantId: tenant,
      from: '2026-11-31',
      to: '2026-12-01',
    });
    assert.equal(!bad.ok && bad.error.code, 'EVIDENCE.INVALID_INPUT');
    const reversed = await exportEvidence(deps, {
      tenantId: tenant,
      from: '2026-12-02',
      to: '2026-12-01',
    });
    assert.equal(!reversed.ok && reversed.error.code, 'EVIDENCE.INVALID_INPUT');
    const empty = await exportEvidence(deps, { tenantId: tenant, ...RANGE });
    assert.equal(!empty.ok && empty.error.code, 'EVIDENCE.NO_ENTRIES');
  });

  it('is refused to people who are not registered with the client', async () => {
    const { tenant } = await seedTenant();
    const refused = await exportEvidenceFor(
      { ...deps, clients: storage.clients, mspTenantId: asTenantId(randomUUID())! },
      { actor: { tid: tenant, oid: randomUUID() as never, name: 'Stranger' }, ...RANGE },
    );
    assert.equal(!refused.ok && refused.error.code, 'ACCESS.NOT_REGISTERED');
  });

  it('CLI: export writes the same bytes as the use case, with a progress bar on a terminal', async () => {
    const { tenant } = await seedTenant();
    const files = new Map<string, Buffer>();
    const out: string[] = [];
    const tty = stream(true);
    const args = ['export', '--tenant', tenant, '--from', RANGE.from, '--to', RANGE.to];
    const code = await runEvidenceCommand([...args, '--out', 'bundle.zip'], {
      ...deps,
      out: (line) => out.push(line),
      progress: tty,
      writeOut: (path, bytes) => Promise.resolve(void files.set(path, bytes)),
    });
    assert.equal(code, 0, out.join('\n'));
    const direct = await exportEvidence(deps, { tenantId: tenant, ...RANGE });
    assert.ok(direct.ok);
    assert.ok(files.get('bundle.zip')!.equals(direct.value.zip));
    assert.ok(tty.written.some((t) => t.startsWith('\r') && t.includes('100%')));
    assert.match(
      out.join('\n'),
      new RegExp(`Pinned key fingerprint \\(SHA-256\\): ${direct.value.manifest.pinnedKey}`),
    );

    const piped = stream(false);
    await runEvidenceCommand([...args, '--out', 'again.zip'], {
      ...deps,
      out: () => undefined,
      progress: piped,
      writeOut: (path, bytes) => Promise.resolve(void files.set(path, bytes)),
    });
    assert.deepEqual(piped.written, [
      'Reading entries...\n',
      'Decrypting history...\n',
      'Checkpoints...\n',
      'Writing ZIP...\n',
    ]);
  });

  it('CLI: prove writes an inclusion proof verify.mjs accepts; bad arguments exit 1', async () => {
    const { tenant, inRange } = await seedTenant();
    const files = new Map<string, Buffer>();
    const cli = (args: string[], out: string[] = []) =>
      runEvidenceCommand(args, {
        ...deps,
        out: (line) => out.push(line),
        progress: stream(false),
        writeOut: (path, bytes) => Promise.resolve(void files.set(path, bytes)),
      });
    assert.equal(
      await cli(['prove', '--tenant', tenant, '--request', inRange, '--out', 'p.json']),
      0,
    );
    const verifier = await import('../../verifier/verify.mjs');
    const proof = JSON.parse(files.get('p.json')!.toString('utf8')) as unknown;
    const verdict = await verifier.verifyInclusionProof(proof);
    assert.equal(verdict.exitCode, 0, JSON.stringify(verdict.report));
    const out: string[] = [];
    assert.equal(await cli(['export', '--tenant', 'nope', '--out', 'x.zip'], out), 1);
    assert.match(out.join('\n'), /needs --tenant/);
    assert.equal(
      await cli(
        [
          'export',
          '--tenant',
          tenant,
          '--from',
          '2026-13-01',
          '--to',
          '2026-12-01',
          '--out',
          'x.zip',
        ],
        out,
      ),
      1,
    );
    assert.match(out.join('\n'), /EVIDENCE.INVALID_INPUT/);
  });

  it('names approvers from the request record and keeps the card hash each one saw', async () => {
    const tenant = CONTOSO.tenantId;
    clock.moveTo('2026-11-20T09:00:00.000Z');
    const first = submitted({ number: 1 });
    const created = await storage.requests.create(tenant, () => ({
      request: first.request,
      audit: [first.audit],
      outbox: [],
    }));
    const system = contextFor(first.request.requester, { system: true });
    const tech = contextFor(people.tina);
    let cr = created.request;
    const audit = [];
    for (const [build, ctx] of [
      [() => ({ type: 'Triaged' as const }), system],
      [(r: typeof cr) => assessedEvent(r), tech],
      [(r: typeof cr) => ({ type: 'ApprovalRequested' as const, plan: planFor(r) }), system],
      [
        (r: typeof cr) =>
          voteEvent(r, people.andy, 'approved', { cardHash: 'd'.repeat(64), reason: 'ok' }),
        contextFor(people.andy),
      ],
    ] as const) {
      const step = applyAll(cr, [[build(cr), ctx]]);
      cr = step.request;
      audit.push(...step.audit);
    }
    await storage.requests.update(tenant, created.etag, { request: cr, audit, outbox: [] });
    const result = await exportEvidence(deps, { tenantId: tenant, ...RANGE });
    assert.ok(result.ok);
    const archive = await contents(result.value.zip);
    const history = JSON.parse(
      await archive.files['history/requests.json']!.async('string'),
    ) as EvidenceHistory;
    const request = history.requests.find((r) => r.requestId === cr.id)!;
    assert.equal(request.number, 1);
    assert.equal(request.requester, people.carla.name);
    const decision = request.decisions.at(-1)!;
    assert.equal(decision.approver.name, people.andy.name);
    assert.equal(decision.approver.oid, people.andy.oid);
    assert.equal(decision.cardHash, 'd'.repeat(64));
    assert.equal(decision.reason, 'ok');
    assert.equal((await verifyBundle(result.value.zip)).exitCode, 0);
  });
});
