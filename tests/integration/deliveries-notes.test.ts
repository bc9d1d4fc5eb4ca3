import { strict as assert } from 'node:assert';
import type { OutboxRow, OutboxStore } from '../../src/application/ports/outbox';
import { addNote } from '../../src/application/use-cases/add-note';
import type { UseCaseDeps } from '../../src/application/use-cases/context';
import {
  describeDelivery,
  parkedDeliveries,
  retryDelivery,
} from '../../src/application/use-cases/deliveries';
import { submitChange } from '../../src/application/use-cases/submit-change';
import type { ChangeRequest } from '../../src/domain/change-request/change-request';
import { NOTE_MAX } from '../../src/domain/change-request/change-request.payloads';
import type { ClientProfile } from '../../src/domain/client/client';
import type { TenantId } from '../../src/domain/shared/ids';
import type { Person } from '../../src/domain/shared/person';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { asPerson, onboardSandboxClients } from '../support/client-settings-fixture';
import { validFields } from '../support/fixtures';

type Deps = UseCaseDeps & { readonly outbox: OutboxStore };
type Storage = Omit<Deps, 'templates' | 'mspTenantId' | 'clock'> & {
  readonly catalogue: (msp: TenantId) => UseCaseDeps['templates'];
};

const lena = asPerson(MSP.lena);
const tina = asPerson(MSP.tina);
const theo = asPerson(MSP.theo);
const carla = asPerson(CONTOSO.carla);
const andy = asPerson(CONTOSO.andy);
const fiona = asPerson(FABRIKAM.fiona);

async function raise(deps: Deps, actor: Person): Promise<ChangeRequest> {
  const raised = await submitChange(deps, {
    actor,
    type: 'general',
    fields: validFields('general'),
  });
  assert.ok(raised.ok, raised.ok ? '' : raised.error.message);
  return raised.value.request;
}

/** Claims the tenant's due rows and parks the first Teams message among them, as the relay would. */
async function parkOne(deps: Deps, tenantId: TenantId, error: string): Promise<OutboxRow> {
  const claimed = await deps.outbox.claimDue(tenantId, deps.clock.now(), { limit: 50 });
  const row = claimed.find((r) => r.message.kind === 'teams.notify');
  assert.ok(row, 'a Teams message to park');
  await deps.outbox.fail(row, { error, park: true }, deps.clock.now());
  return row;
}

async function auditTypes(deps: Deps, tenantId: TenantId): Promise<string[]> {
  return (await deps.audit.read(tenantId)).map(
    (e) => (JSON.parse(e.canonical) as { type: string }).type,
  );
}

function behaviour(setUp: () => Promise<{ deps: Deps }>) {
  let deps: Deps;
  beforeEach(async () => {
    ({ deps } = await setUp());
  });

  describe('parkedDeliveries and retryDelivery', () => {
    it('shows a lead the parked rows of every client they lead, with what, attempts and error', async () => {
      const contoso = await raise(deps, carla);
      const fabrikam = await raise(deps, fiona);
      const a = await parkOne(deps, CONTOSO.tenantId, 'Teams answered 403 Forbidden');
      const b = await parkOne(deps, FABRIKAM.tenantId, 'Teams answered 404 conversation gone');
      const listed = await parkedDeliveries(deps, lena);
      assert.ok(listed.ok);
      assert.deepEqual(new Set(listed.value.map((d) => d.rowId)), new Set([a.id, b.id]));
      const first = listed.value.find((d) => d.rowId === a.id)!;
      assert.equal(first.clientName, CONTOSO.name);
      assert.equal(first.requestId, contoso.id);
      assert.equal(first.attempts, 1);
      assert.equal(first.lastError, 'Teams answered 403 Forbidden');
      assert.match(
        first.what,
        new RegExp(`^Teams .* for ${contoso.id} to (${tina.name}|${theo.name})$`),
      );
      assert.equal(listed.value.find((d) => d.rowId === b.id)?.requestId, fabrikam.id);
    });

    it('refuses technicians and client people', async () => {
      await raise(deps, carla);
      await parkOne(deps, CONTOSO.tenantId, 'boom');
      for (const who of [tina, theo, carla]) {
        const listed = await parkedDeliveries(deps, who);
        assert.equal(listed.ok ? 'ok' : listed.error.code, 'DELIVERY.NOT_LEAD');
      }
    });

    it('makes a parked row due again for its lead only, once', async () => {
      await raise(deps, carla);
      const row = await parkOne(deps, CONTOSO.tenantId, 'boom');
      const refused = await retryDelivery(deps, tina, CONTOSO.tenantId, row.id);
      assert.equal(refused.ok ? 'ok' : refused.error.code, 'DELIVERY.NOT_LEAD');
      assert.equal((await deps.outbox.list(CONTOSO.tenantId, { statuses: ['parked'] })).length, 1);

      const retried = await retryDelivery(deps, lena, CONTOSO.tenantId, row.id);
      assert.ok(retried.ok);
      assert.equal(retried.value.rowId, row.id);
      const [after] = (await deps.outbox.list(CONTOSO.tenantId)).filter((r) => r.id === row.id);
      assert.equal(after?.status, 'pending');
      assert.equal(after?.attempts, 0);
      const due = await deps.outbox.claimDue(CONTOSO.tenantId, deps.clock.now(), { limit: 50 });
      assert.ok(due.some((r) => r.id === row.id));

      const again = await retryDelivery(deps, lena, CONTOSO.tenantId, row.id);
      assert.equal(again.ok ? 'ok' : again.error.code, 'DELIVERY.NOT_FOUND');
      const elsewhere = await retryDelivery(deps, lena, FABRIKAM.tenantId, row.id);
      assert.equal(elsewhere.ok ? 'ok' : elsewhere.error.code, 'DELIVERY.NOT_FOUND');
      // Nothing about a retry goes into the client's audit chain (see retryDelivery).
      assert.ok(!(await auditTypes(deps, CONTOSO.tenantId)).some((t) => t.startsWith('delivery')));
    });
  });

  describe('addNote', () => {
    it('records a technician note without a new version and tells the requester', async () => {
      const request = await raise(deps, carla);
      const before = new Set((await deps.outbox.list(CONTOSO.tenantId)).map((r) => r.id));
      const added = await addNote(deps, tina, CONTOSO.tenantId, request.id, '  Licence ordered.  ');
      assert.ok(added.ok, added.ok ? '' : added.error.message);
      assert.equal(added.value.side, 'msp');
      assert.equal(added.value.text, 'Licence ordered.');
      const stored = await deps.requests.get(CONTOSO.tenantId, request.id);
      assert.equal(stored?.request.version, request.version);

      const entries = await deps.audit.read(CONTOSO.tenantId);
      const last = entries.at(-1)!;
      const parsed = JSON.parse(last.canonical) as { type: string; requestId: string };
      assert.equal(parsed.type, 'note.added');
      assert.equal(parsed.requestId, request.id);
      assert.ok(!last.canonical.includes('Licence ordered'), 'the text is sealed, not in clear');
      assert.deepEqual(await deps.audit.openPersonal(CONTOSO.tenantId, last), {
        name: tina.name,
        text: 'Licence ordered.',
      });

      const rows = (await deps.outbox.list(CONTOSO.tenantId)).filter((r) => !before.has(r.id));
      const notes = rows.filter((r) => r.message.kind === 'teams.notify');
      assert.deepEqual(
        notes.map((r) =>
          r.message.kind === 'teams.notify'
            ? [
                r.message.recipient.oid,
                r.message.notification.template,
                r.message.notification.note,
              ]
            : [],
        ),
        [[carla.oid, 'status_update', `Note from ${tina.name}: Licence ordered.`]],
      );
    });

    it("tells the client's technicians when the requester or an approver writes", async () => {
      const request = await raise(deps, carla);
      const before = new Set((await deps.outbox.list(CONTOSO.tenantId)).map((r) => r.id));
      const added = await addNote(
        deps,
        carla,
        CONTOSO.tenantId,
        request.id,
        'Please do it tonight',
      );
      assert.ok(added.ok);
      assert.equal(added.value.side, 'client');
      const approver = await addNote(deps, andy, CONTOSO.tenantId, request.id, 'Fine by me');
      assert.ok(approver.ok);
      const recipients = (await deps.outbox.list(CONTOSO.tenantId))
        .filter((r) => !before.has(r.id))
        .flatMap((r) => (r.message.kind === 'teams.notify' ? [r.message.recipient.oid] : []));
      // Rows list in key order, not creation order.
      assert.deepEqual(recipients.sort(), [tina.oid, tina.oid, theo.oid, theo.oid].sort());
    });

    it('keeps every one of several notes written at once (a stale ETag makes addNote read again)', async () => {
      const request = await raise(deps, carla);
      const texts = ['First', 'Second', 'Third'];
      const results = await Promise.all(
        texts.map((text, i) =>
          addNote(deps, [tina, carla, andy][i]!, CONTOSO.tenantId, request.id, text),
        ),
      );
      assert.ok(results.every((r) => r.ok));
      const notes = (await deps.audit.read(CONTOSO.tenantId)).filter(
        (e) => (JSON.parse(e.canonical) as { type: string }).type === 'note.added',
      );
      const written = await Promise.all(
        notes.map(async (e) => (await deps.audit.openPersonal(CONTOSO.tenantId, e))?.['text']),
      );
      assert.deepEqual(written.sort(), texts.sort());
    });

    it('refuses empty, too long, another tenant and people of another client', async () => {
      const request = await raise(deps, carla);
      const code = async (who: Person, tenant: string, text: string) => {
        const r = await addNote(deps, who, tenant, request.id, text);
        return r.ok ? 'ok' : r.error.code;
      };
      assert.equal(await code(tina, CONTOSO.tenantId, '   '), 'CR.REASON_REQUIRED');
      assert.equal(
        await code(tina, CONTOSO.tenantId, 'x'.repeat(NOTE_MAX + 1)),
        'CR.TEXT_TOO_LONG',
      );
      assert.equal(await code(tina, FABRIKAM.tenantId, 'hello'), 'CR.NOT_FOUND');
      assert.equal(await code(fiona, CONTOSO.tenantId, 'hello'), 'CR.NOT_FOUND');
      assert.equal(await code(tina, CONTOSO.tenantId, 'x'.repeat(NOTE_MAX)), 'ok');
      assert.deepEqual(
        (await auditTypes(deps, CONTOSO.tenantId)).filter((t) => t === 'note.added'),
        ['note.added'],
      );
    });
  });
}

describe('Deliveries and notes', function () {
  this.timeout(60_000);

  describe('in memory', () => {
    behaviour(async () => {
      const clock = new FakeClock();
      const storage = createInMemoryStorage(clock);
      await onboardSandboxClients(storage);
      return { deps: depsOf(storage, clock) };
    });
  });

  describe('on Azurite', () => {
    const azurite = useAzurite();
    behaviour(async () => {
      const clock = new FakeClock();
      const storage = await azurite.newStorage({ clock });
      await onboardSandboxClients(storage);
      return { deps: depsOf(storage, clock) };
    });
  });

  it('describes PSA work with the PSA the client maps to', () => {
    const client = {
      code: CONTOSO.code,
      settings: {
        timeZone: 'Europe/London',
        psa: { psa: 'halopsa', company: '12', priorities: {} },
      },
    } as unknown as ClientProfile;
    assert.equal(
      describeDelivery({ kind: 'psa.sync', requestId: 'CONTOSO-7', op: 'ticket' }, client),
      'Open the HaloPSA ticket for CONTOSO-7',
    );
    assert.equal(
      describeDelivery(
        { kind: 'psa.sync', requestId: 'CONTOSO-7', op: 'note', status: 'awaiting_approval' },
        client,
      ),
      'Add a note to the HaloPSA ticket for CONTOSO-7, moving it to awaiting approval',
    );
  });
});

function depsOf(storage: Storage, clock: FakeClock): Deps {
  return {
    requests: storage.requests,
    audit: storage.audit,
    clients: storage.clients,
    conversations: storage.conversations,
    delegations: storage.delegations,
    outbox: storage.outbox,
    templates: storage.catalogue(MSP.tenantId),
    clock,
    mspTenantId: MSP.tenantId,
  };
}
