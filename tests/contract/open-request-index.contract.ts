import assert from 'node:assert/strict';
import type { OpenRequestIndex } from '../../src/application/ports/open-request-index';
import type { ClientCode } from '../../src/domain/shared/ids';
import type { SlaSnapshot } from '../../src/domain/sla/sla';
import { newOid, newTenant, request } from './contract-support';

/** A request's SLA: acknowledged on time, resolution late. */
const SLA: SlaSnapshot = {
  acknowledge: {
    targetMinutes: 60,
    dueAt: '2026-11-23T10:00:00.000Z',
    metAt: '2026-11-23T09:05:00.000Z',
    usedMinutes: 5,
    state: 'met',
  },
  resolve: {
    targetMinutes: 480,
    dueAt: '2026-11-23T17:00:00.000Z',
    usedMinutes: 480,
    state: 'breached',
  },
  state: 'breached',
  computedAt: '2026-11-23T17:00:00.000Z',
};

/** Makes a fresh, empty open-request index for one test. */
export type MakeOpenRequestIndex = () => Promise<OpenRequestIndex>;

/** The OpenRequestIndex contract: open requests in, terminal ones out, a newer state never replaced by an older one. */
export function describeOpenRequestIndexContract(name: string, make: MakeOpenRequestIndex): void {
  describe(`OpenRequestIndex contract: ${name}`, () => {
    let sut: OpenRequestIndex;
    beforeEach(async () => {
      sut = await make();
    });

    it('writes an open request as a small entry and updates it in place', async () => {
      const tenant = newTenant();
      const assignee = { tid: tenant, oid: newOid(), name: 'Tina Tech' };
      await sut.sync(request(tenant, 7));
      await sut.sync(
        request(tenant, 7, {
          version: 2,
          status: 'triaged',
          assignee,
          acknowledgedAt: '2026-11-23T09:05:00.000Z',
          slaPosted: ['acknowledge.at_risk'],
          updatedAt: '2026-11-23T09:05:00.000Z',
        }),
      );

      const entry = await sut.get(tenant, request(tenant, 7).id);
      assert.deepEqual(entry, {
        tenantId: tenant,
        clientCode: 'CONTOSO',
        requestId: 'CONTOSO-7',
        number: 7,
        type: 'general',
        changeClass: 'normal',
        title: 'Change 7',
        status: 'triaged',
        version: 2,
        assignee,
        acknowledgedAt: '2026-11-23T09:05:00.000Z',
        slaPosted: ['acknowledge.at_risk'],
        createdAt: '2026-11-23T09:00:00.000Z',
        updatedAt: '2026-11-23T09:05:00.000Z',
      });
      assert.deepEqual(await sut.list(), [entry]);
    });

    it('never lets an older state of a request replace a newer one', async () => {
      const tenant = newTenant();
      const newer = request(tenant, 1, {
        version: 3,
        status: 'awaiting_approval',
        updatedAt: '2026-11-23T10:00:00.000Z',
      });
      await sut.sync(newer);
      await sut.sync(request(tenant, 1, { version: 2, updatedAt: '2026-11-23T11:00:00.000Z' }));
      await sut.sync(
        request(tenant, 1, {
          version: 3,
          status: 'triaged',
          updatedAt: '2026-11-23T09:30:00.000Z',
        }),
      );
      await sut.sync(request(tenant, 1, { version: 2, status: 'cancelled' }));

      const entry = await sut.get(tenant, newer.id);
      assert.equal(entry?.version, 3);
      assert.equal(entry?.status, 'awaiting_approval');
      assert.equal(entry?.updatedAt, '2026-11-23T10:00:00.000Z');
    });

    it('keeps the newest of many concurrent syncs of one request', async () => {
      const tenant = newTenant();
      const versions = [4, 9, 1, 7, 10, 2, 8, 3, 6, 5];
      await Promise.all(
        versions.map((version) =>
          sut.sync(
            request(tenant, 1, {
              version,
              updatedAt: `2026-11-23T09:${String(version).padStart(2, '0')}:00.000Z`,
            }),
          ),
        ),
      );

      assert.equal((await sut.get(tenant, request(tenant, 1).id))?.version, 10);
    });

    it('removes a request once it is terminal, and a terminal request never enters', async () => {
      const tenant = newTenant();
      await sut.sync(request(tenant, 1));
      await sut.sync(request(tenant, 2));
      await sut.sync(request(tenant, 1, { version: 2, status: 'closed' }));
      await sut.sync(request(tenant, 3, { status: 'denied' }));
      await sut.sync(request(tenant, 1, { version: 2, status: 'closed' }));

      assert.equal(await sut.get(tenant, request(tenant, 1).id), undefined);
      assert.equal(await sut.get(tenant, request(tenant, 3).id), undefined);
      assert.deepEqual(
        (await sut.list()).map((e) => e.requestId),
        ['CONTOSO-2'],
      );
    });

    it('records the SLA outcome of a request once when it ends, newest state winning', async () => {
      const [a, b] = [newTenant(), newTenant()];
      const since = '2026-11-20T00:00:00.000Z';
      await sut.sync(request(a, 1, { sla: SLA }));
      assert.deepEqual(await sut.outcomes({ since: '2026-01-01T00:00:00.000Z' }), []);

      const closed = request(a, 1, {
        version: 3,
        status: 'closed',
        sla: { ...SLA, resolve: { ...SLA.resolve, metAt: '2026-11-24T11:00:00.000Z' } },
        updatedAt: '2026-11-24T11:00:00.000Z',
      });
      await sut.sync(closed);
      await sut.sync(closed);
      await sut.sync(
        request(a, 1, {
          version: 2,
          status: 'cancelled',
          sla: SLA,
          updatedAt: '2026-11-30T09:00:00.000Z',
        }),
      );
      await sut.sync(request(a, 2, { status: 'denied' }));
      await sut.sync(
        request(b, 1, {
          clientCode: 'BRAVO' as ClientCode,
          status: 'cancelled',
          sla: SLA,
          updatedAt: '2026-10-31T23:30:00.000Z',
        }),
      );

      assert.equal(await sut.get(a, closed.id), undefined);
      const outcome = {
        tenantId: a,
        clientCode: 'CONTOSO',
        requestId: 'CONTOSO-1',
        number: 1,
        type: 'general',
        status: 'closed',
        version: 3,
        endedAt: '2026-11-24T11:00:00.000Z',
        acknowledge: {
          state: 'met',
          dueAt: '2026-11-23T10:00:00.000Z',
          metAt: '2026-11-23T09:05:00.000Z',
        },
        resolve: {
          state: 'breached',
          dueAt: '2026-11-23T17:00:00.000Z',
          metAt: '2026-11-24T11:00:00.000Z',
        },
      };
      assert.deepEqual(await sut.outcomes({ since, tenantIds: [a, b] }), [outcome]);
      const ids = async (options: Parameters<OpenRequestIndex['outcomes']>[0]) =>
        (await sut.outcomes(options)).map((o) => o.requestId).sort();
      assert.deepEqual(await ids({ since: '2026-10-31T23:30:00.000Z' }), ['BRAVO-1', 'CONTOSO-1']);
      assert.deepEqual(await ids({ since: '2026-10-01T00:00:00.000Z', tenantIds: [b] }), [
        'BRAVO-1',
      ]);
      assert.deepEqual(await ids({ since: '2026-11-24T11:00:00.001Z' }), []);
      assert.deepEqual(await sut.outcomes({ since, tenantIds: [] }), []);
      assert.deepEqual(await sut.list(), []);
    });

    it("lists every client's open requests, or only the clients asked for", async () => {
      const [a, b, c] = [newTenant(), newTenant(), newTenant()];
      for (const [tenant, code] of [
        [a, 'ALPHA'],
        [b, 'BRAVO'],
        [c, 'CHARLIE'],
      ] as const)
        for (const n of [1, 2, 3])
          await sut.sync(request(tenant, n, { clientCode: code as ClientCode }));

      const ids = (entries: readonly { readonly requestId: string }[]) =>
        entries.map((e) => e.requestId).sort();
      assert.equal((await sut.list()).length, 9);
      assert.deepEqual(ids(await sut.list({ tenantIds: [a, c] })), [
        'ALPHA-1',
        'ALPHA-2',
        'ALPHA-3',
        'CHARLIE-1',
        'CHARLIE-2',
        'CHARLIE-3',
      ]);
      assert.deepEqual(await sut.list({ tenantIds: [] }), []);
      assert.deepEqual(await sut.list({ tenantIds: [newTenant()] }), []);
      assert.equal(
        await sut.get(b, request(a, 1, { clientCode: 'ALPHA' as ClientCode }).id),
        undefined,
      );
    });
  });
}
