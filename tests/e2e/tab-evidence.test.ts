import { strict as assert } from 'node:assert';
import type { TableStorage } from '../../src/adapters/storage/table-storage';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import {
  exportEvidence,
  type EvidenceExportDeps,
} from '../../src/application/use-cases/evidence-export';
import { openEvidenceDeps } from '../../src/cli/evidence-deps';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, MSP } from '../../src/sandbox/sandbox-tenants';
import { MovableClock } from '../support/approval-flow';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { startTabApi, type TabApiServer } from '../support/tab-api-server';
import { mintTabToken, signingKey, type SigningKey } from '../support/tab-tokens';

/** The Evidence download over real HTTP with Teams SSO tokens, on Azurite (tables and blobs). */
describe('Tab evidence download', function () {
  this.timeout(60_000);
  const azurite = useAzurite();
  const clock = new MovableClock();
  let storage: TableStorage & { readonly prefix: string };
  let evidence: EvidenceExportDeps;
  let http: TabApiServer;
  let key: SigningKey;
  const range = 'from=2026-11-01&to=2026-11-30';

  before(async () => {
    storage = await azurite.newStorage({ clock });
    await onboardSandboxClients(storage);
    clock.moveTo('2026-11-10T09:00:00.000Z');
    await storage.audit.append(CONTOSO.tenantId, [
      {
        type: 'request.submitted',
        actor: { tid: CONTOSO.tenantId, oid: CONTOSO.carla.oid },
        requestId: 'r-evidence-1',
        payload: { status: 'submitted' },
        personal: { title: 'Shared mailbox for finance' },
      },
    ]);
    evidence = await openEvidenceDeps(storage, {
      connectionString: azurite.connectionString,
      tablePrefix: storage.prefix,
      anchorContainer: `anchors-${storage.prefix}`,
      clock,
      generatorVersion: '0.1.0-test',
    });
    const useCases: UseCaseDeps = {
      ...storage,
      templates: storage.catalogue(MSP.tenantId),
      clock,
      mspTenantId: MSP.tenantId,
    };
    key = await signingKey();
    http = await startTabApi({ surface: { useCases, evidence }, key, now: () => clock.now() });
  });

  after(async () => {
    await http?.close();
  });

  async function download(who: Person | undefined, query: string) {
    const token = who
      ? await mintTabToken(who, { key, now: Math.floor(clock.now().getTime() / 1000) })
      : undefined;
    const response = await fetch(`${http.url}/api/tab/evidence?${query}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    return { response, bytes };
  }

  it("gives the client's admin their own bundle as a ZIP download, identical to the CLI's", async () => {
    const { response, bytes } = await download(asPerson(CONTOSO.carla), range);
    assert.equal(response.status, 200, bytes.toString('utf8'));
    assert.equal(response.headers.get('content-type'), 'application/zip');
    assert.match(
      response.headers.get('content-disposition') ?? '',
      new RegExp(`attachment; filename="evidence-${CONTOSO.tenantId}-2026-11-01-2026-11-30.zip"`),
    );
    const direct = await exportEvidence(evidence, {
      tenantId: CONTOSO.tenantId,
      from: '2026-11-01',
      to: '2026-11-30',
    });
    assert.ok(direct.ok);
    assert.ok(bytes.equals(direct.value.zip));
    const verifier = await import('../../verifier/verify.mjs');
    assert.equal((await verifier.verifyBundle(bytes)).exitCode, 0);
  });

  it('gives an MSP lead the client they name, the same bytes', async () => {
    const mine = await download(asPerson(CONTOSO.carla), range);
    const lead = await download(asPerson(MSP.lena), `${range}&client=CONTOSO`);
    assert.equal(lead.response.status, 200);
    assert.ok(lead.bytes.equals(mine.bytes));
  });

  it('refuses technicians, approvers, other tenants, no token and bad dates', async () => {
    const status = async (who: Person | undefined, query: string) =>
      (await download(who, query)).response.status;
    assert.equal(await status(asPerson(MSP.tina), `${range}&client=CONTOSO`), 403);
    assert.equal(await status(asPerson(CONTOSO.andy), range), 403);
    assert.equal(await status(asPerson(CONTOSO.carla), `${range}&client=FABRIKAM`), 404);
    assert.equal(await status(undefined, range), 401);
    assert.equal(await status(asPerson(CONTOSO.carla), 'from=2026-11&to=2026-11-30'), 400);
  });
});
