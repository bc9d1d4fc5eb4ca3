import { strict as assert } from 'node:assert';
import type { UseCaseDeps } from '../../../src/application/use-cases/context';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import type { ChangeType } from '../../../src/domain/change-request/change-request.payloads';
import { rulesFor } from '../../../src/domain/client/client-rules';
import type { Person } from '../../../src/domain/shared/person';
import { CONTOSO, FABRIKAM, MSP } from '../../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../../fakes/in-memory-storage';
import { nextSlot, sendToApprovers } from '../../support/approval-flow';
import { asPerson, onboardSandboxClients } from '../../support/client-settings-fixture';
import { validFields } from '../../support/fixtures';
import { startTabApi, type TabApiServer, type TabJson } from '../../support/tab-api-server';
import { signingKey, type SigningKey } from '../../support/tab-tokens';

const carla = asPerson(CONTOSO.carla);
const andy = asPerson(CONTOSO.andy);
const fiona = asPerson(FABRIKAM.fiona);
const frank = asPerson(FABRIKAM.frank);

type Row = Record<string, unknown>;

const DAY_MS = 24 * 3600_000;

describe('Tab approvals API', () => {
  let key: SigningKey;
  let clock: FakeClock;
  let storage: ReturnType<typeof createInMemoryStorage>;
  let deps: UseCaseDeps;
  let api: TabApiServer;

  before(async () => {
    key = await signingKey();
  });

  beforeEach(async () => {
    clock = new FakeClock(new Date('2026-03-02T09:00:00.000Z'));
    storage = createInMemoryStorage(clock);
    await onboardSandboxClients(storage);
    deps = { ...storage, templates: storage.catalogue(MSP.tenantId), mspTenantId: MSP.tenantId };
    api = await startTabApi({ surface: { useCases: deps }, key, now: () => clock.now() });
  });

  afterEach(() => api.close());

  const call = (person: Person | undefined, method: string, path: string, body?: unknown) =>
    api.call(person, path, { method, body });

  /** Submitted by `requester` and sent to the approvers in its own week, so bookings never conflict. */
  async function awaiting(requester: Person, type: ChangeType, week: number) {
    const raised = await submitChange(deps, { actor: requester, type, fields: validFields(type) });
    assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
    const client = (await deps.clients.get(raised.value.request.tenantId))?.profile;
    assert.ok(client);
    const slot = nextSlot(rulesFor(client), clock.now());
    const shift = (iso: string) => new Date(Date.parse(iso) + week * 7 * DAY_MS).toISOString();
    return sendToApprovers(deps, raised.value.request, {
      assessment: { requestedWindow: { start: shift(slot.start), end: shift(slot.end) } },
    });
  }

  const items = (json: TabJson) => json.body['items'] as Row[];

  it("lists the caller's waiting requests oldest first and bulk-approves only the routine ones", async () => {
    const routine = await awaiting(carla, 'licence_change', 0);
    clock.advance(3600_000);
    const general = await awaiting(carla, 'general', 1);
    const elsewhere = await awaiting(fiona, 'licence_change', 0);

    const inbox = await call(andy, 'GET', 'approvals');
    assert.equal(inbox.status, 200, JSON.stringify(inbox.body));
    assert.deepEqual(
      items(inbox).map((i) => [i['id'], i['clientCode'], i['bulkApprovable'], i['version']]),
      [
        [routine.id, 'CONTOSO', true, routine.version],
        [general.id, 'CONTOSO', false, general.version],
      ],
    );
    const first = items(inbox)[0];
    assert.equal(first?.['title'], routine.title);
    assert.equal(first?.['risk'], 'low');
    assert.equal(first?.['changeClass'], 'normal');
    assert.equal(typeof first?.['stepName'], 'string');
    assert.equal(first?.['retrospective'], false);

    const fabrikamSide = items(await call(frank, 'GET', 'approvals'));
    assert.deepEqual(
      fabrikamSide.map((i) => i['id']),
      [elsewhere.id],
      "a client's approver never sees another client's requests",
    );
    assert.deepEqual(items(await call(carla, 'GET', 'approvals')), [], 'the requester owes none');

    const bulk = await call(andy, 'POST', 'approvals/bulk', {
      items: [
        { requestId: routine.id, version: routine.version },
        { requestId: general.id, version: general.version },
        { requestId: elsewhere.id, version: elsewhere.version },
      ],
    });
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    assert.deepEqual(
      (bulk.body['results'] as Row[]).map((r) => [r['requestId'], r['outcome']]),
      [
        [routine.id, 'approved'],
        [general.id, 'not_eligible'],
        [elsewhere.id, 'not_eligible'],
      ],
    );
    const status = async (r: typeof routine) =>
      (await storage.requests.get(r.tenantId, r.id))?.request.status;
    assert.equal(await status(routine), 'approved');
    assert.equal(await status(general), 'awaiting_approval');
    assert.equal(await status(elsewhere), 'awaiting_approval', 'untouched by the other client');
    assert.deepEqual(
      items(await call(andy, 'GET', 'approvals')).map((i) => i['id']),
      [general.id],
    );
  });

  it('refuses a stale version with its message, bad bodies with their fields, unsigned calls', async () => {
    const routine = await awaiting(carla, 'licence_change', 0);
    const stale = await call(andy, 'POST', 'approvals/bulk', {
      items: [{ requestId: routine.id, version: routine.version - 1 }],
    });
    assert.equal(stale.status, 200);
    const [result] = stale.body['results'] as Row[];
    assert.equal(result?.['outcome'], 'refused');
    assert.equal(result?.['code'], 'CR.STALE_VERSION');
    assert.ok(String(result?.['message']).length > 0);

    const tooMany = await call(andy, 'POST', 'approvals/bulk', {
      items: Array.from({ length: 51 }, (_, i) => ({ requestId: `CONTOSO-${i + 1}`, version: 1 })),
    });
    assert.equal(tooMany.status, 400);
    const empty = await call(andy, 'POST', 'approvals/bulk', { items: [] });
    assert.equal(empty.status, 400);
    assert.deepEqual(
      ((empty.body['error'] as Row)['issues'] as Array<{ field: string }>).map((i) => i.field),
      ['items'],
    );
    assert.equal((await call(undefined, 'GET', 'approvals')).status, 401);
    assert.equal((await call(undefined, 'POST', 'approvals/bulk', { items: [] })).status, 401);
    assert.equal(
      (await storage.requests.get(routine.tenantId, routine.id))?.request.status,
      'awaiting_approval',
    );
  });
});
