import { strict as assert } from 'node:assert';
import type { Person } from '../../../src/domain/change-request/change-request';
import {
  CONTOSO_TENANT_ID,
  FABRIKAM_TENANT_ID,
  contosoProfile,
  createHarness,
  fabrikamProfile,
  people,
  seedClients,
  type Harness,
} from '../../support/fixtures';
import { pdfText } from '../../support/pdf-text';
import { bookNovember, type NovemberScenario } from '../../support/summary-fixtures';
import { startTabApi, type TabApiServer, type TabJson } from '../../support/tab-api-server';
import { mintTabToken, signingKey, type SigningKey } from '../../support/tab-tokens';

/** `GET /api/tab/changelog` and `/api/tab/report` over real HTTP, with Teams-SSO-like tokens. */
describe('Tab change log and monthly report API', () => {
  let key: SigningKey;
  let h: Harness;
  let api: TabApiServer;
  let s: NovemberScenario;

  before(async () => {
    key = await signingKey();
    h = createHarness();
    await seedClients(h);
    s = await bookNovember(h.deps, { contoso: contosoProfile(), fabrikam: fabrikamProfile() });
    api = await startTabApi({ surface: { useCases: h.deps }, key, now: () => h.clock.now() });
  });

  after(() => api.close());

  const log = (query: string, who?: Person): Promise<TabJson> =>
    api.call(who, `changelog?${query}`);
  const ids = (res: TabJson) => (res.body.rows as { id: string }[]).map((r) => r.id);
  const download = async (query: string, who: Person) => {
    const token = await mintTabToken(who, { key, now: Math.floor(h.clock.now().getTime() / 1000) });
    const res = await fetch(`${api.url}/api/tab/report?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { res, bytes: Buffer.from(await res.arrayBuffer()) };
  };

  it('answers a client admin and an approver with their own tenant’s log only', async () => {
    for (const who of [people.carla, people.andy]) {
      const res = await log('month=2026-11', who);
      assert.equal(res.status, 200);
      assert.equal((res.body.client as { code: string }).code, 'CONTOSO');
      assert.equal(ids(res).length, 6);
      assert.ok(!ids(res).includes(s.fabrikam.id));
    }
    const fiona = await log('month=2026-11', people.fiona);
    assert.equal(fiona.status, 200);
    assert.deepEqual(ids(fiona), [s.fabrikam.id]);
  });

  it('ignores a forged client in the URL: another tenant is not found', async () => {
    for (const client of ['CONTOSO', CONTOSO_TENANT_ID]) {
      const res = await log(`client=${client}&month=2026-11`, people.fiona);
      assert.equal(res.status, 404);
      assert.ok(!JSON.stringify(res.body).includes(s.standard.id));
    }
    const report = await download(
      `client=${FABRIKAM_TENANT_ID}&month=2026-11&format=pdf`,
      people.carla,
    );
    assert.equal(report.res.status, 404);
    assert.equal(report.bytes.subarray(0, 5).toString(), '{"err');
  });

  it('answers the client’s MSP staff per client, and nobody without a token', async () => {
    assert.deepEqual(ids(await log('client=FABRIKAM&month=2026-11', people.lena)), [s.fabrikam.id]);
    assert.equal(ids(await log('client=CONTOSO&month=2026-11', people.lena)).length, 6);
    assert.equal((await log('client=FABRIKAM&month=2026-11', people.tina)).status, 404);
    assert.equal((await log('month=2026-11')).status, 401);
  });

  it('downloads the report as PDF and as HTML with its charts and red flags', async () => {
    const pdf = await download('month=2026-11&format=pdf', people.carla);
    assert.equal(pdf.res.status, 200);
    assert.equal(pdf.res.headers.get('content-type'), 'application/pdf');
    assert.match(
      pdf.res.headers.get('content-disposition') ?? '',
      /attachment; filename="cabinet-report-CONTOSO-2026-11\.pdf"/,
    );
    assert.equal(pdf.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdfText(pdf.bytes), /Monthly change report: Contoso Ltd, 2026-11/);

    const html = await download('month=2026-11&format=html', people.andy);
    assert.equal(html.res.status, 200);
    assert.match(html.res.headers.get('content-type') ?? '', /^text\/html/);
    const page = html.bytes.toString('utf8');
    assert.match(page, /<svg id="chart-class"/);
    assert.match(page, /data-flag="overdue_review"/);
    assert.ok(!page.includes('Fabrikam VPN'));
  });
});
