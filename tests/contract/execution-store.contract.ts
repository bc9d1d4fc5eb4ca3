import assert from 'node:assert/strict';
import { ConcurrencyError, ConflictError } from '../../src/application/ports/errors';
import { RunTooLargeError, type StoredRun } from '../../src/application/ports/execution-store';
import { isGraphExecuteRow } from '../../src/application/ports/outbox';
import { verifyChain } from '../../src/domain/audit/audit-chain';
import type { RunId } from '../../src/domain/execution/execution-run';
import type { TenantId } from '../../src/domain/shared/ids';
import { event, newTenant, rejection, request, write } from './contract-support';
import {
  executeMessage,
  run,
  runNear,
  runOverLimit,
  type ExecutionStorageUnderTest,
  type MakeExecutionStorage,
} from './execution-support';

/** The ExecutionStore contract: runs beside their request, saved atomically with request, audit and outbox. */
export function describeExecutionStoreContract(name: string, make: MakeExecutionStorage): void {
  describe(`ExecutionStore contract: ${name}`, () => {
    let sut: ExecutionStorageUnderTest;
    beforeEach(async () => {
      sut = await make();
    });

    /** Everything a failed save must leave untouched. */
    async function snapshot(tenant: TenantId, runId: RunId) {
      return {
        run: await sut.runs.get(tenant, runId),
        request: await sut.requests.get(tenant, request(tenant, 1).id),
        audit: (await sut.audit.read(tenant)).length,
        outbox: (await sut.outbox.list(tenant)).length,
      };
    }

    async function created(tenant: TenantId, number = 1, runNumber = 1): Promise<StoredRun> {
      const queued = run(tenant, number, runNumber);
      return (await sut.runs.save(tenant, { run: queued, audit: [], outbox: [] })).run;
    }

    it('stores a run, reads it back and lists a request’s runs in run order', async () => {
      const tenant = newTenant();
      const first = await created(tenant, 1, 1);
      await created(tenant, 1, 10);
      await created(tenant, 1, 2);
      await created(tenant, 2, 1);
      await created(tenant, 10, 1);

      assert.ok(first.etag.length > 0);
      assert.deepEqual(await sut.runs.get(tenant, first.run.id), first);
      assert.deepEqual(first.run, run(tenant, 1, 1, { startedBy: first.run.startedBy }));
      assert.deepEqual(
        (await sut.runs.listForRequest(tenant, 1)).map((s) => s.run.id),
        ['1-1', '1-2', '1-10'],
      );
      assert.deepEqual(
        (await sut.runs.listForRequest(tenant, 2)).map((s) => s.run.id),
        ['2-1'],
      );
      assert.deepEqual(await sut.runs.listForRequest(tenant, 3), []);
      assert.equal(await sut.runs.get(tenant, '1-3' as RunId), undefined);
      for (const bad of ['1', '0-1', '1-0', 'x_1', "1-1' or true", '1-1/..', ''])
        assert.equal(await sut.runs.get(tenant, bad as RunId), undefined, bad);
    });

    it('saves an update on the current ETag and hands back a new one', async () => {
      const tenant = newTenant();
      const first = await created(tenant);
      const running = { ...first.run, status: 'running' as const, updatedAt: 'later' };

      const saved = await sut.runs.save(tenant, {
        run: running,
        runEtag: first.etag,
        audit: [event(tenant, { step: 'one' })],
        outbox: [],
      });

      assert.notEqual(saved.run.etag, first.etag);
      assert.equal(saved.requestEtag, undefined);
      assert.deepEqual(await sut.runs.get(tenant, first.run.id), saved.run);
      assert.equal((await sut.audit.read(tenant)).length, 1);
    });

    it('refuses to create a run that exists, writing nothing', async () => {
      const tenant = newTenant();
      const first = await created(tenant);
      const before = await snapshot(tenant, first.run.id);

      const error = await rejection(
        sut.runs.save(tenant, {
          run: { ...first.run, status: 'running' },
          audit: [event(tenant)],
          outbox: [executeMessage(first.run)],
        }),
      );

      assert.ok(error instanceof ConflictError, String(error));
      assert.deepEqual(await snapshot(tenant, first.run.id), before);
    });

    it('refuses a stale run ETag, writing nothing: no audit entry, no outbox row, request unchanged', async () => {
      const tenant = newTenant();
      const req = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      const first = await created(tenant);
      await sut.runs.save(tenant, {
        run: { ...first.run, status: 'running' },
        runEtag: first.etag,
        audit: [],
        outbox: [],
      });
      const before = await snapshot(tenant, first.run.id);

      const error = await rejection(
        sut.runs.save(tenant, {
          run: { ...first.run, status: 'completed' },
          runEtag: first.etag,
          request: {
            next: { ...req.request, status: 'implemented', version: 2 },
            etag: req.etag,
          },
          audit: [event(tenant, { lost: true })],
          outbox: [executeMessage(first.run)],
        }),
      );

      assert.ok(error instanceof ConcurrencyError, String(error));
      assert.deepEqual(await snapshot(tenant, first.run.id), before);
    });

    it('refuses a stale request ETag, writing nothing, not even the run', async () => {
      const tenant = newTenant();
      const req = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      await sut.requests.update(tenant, req.etag, write({ ...req.request, version: 2 }));
      const first = await created(tenant);
      const before = await snapshot(tenant, first.run.id);

      const error = await rejection(
        sut.runs.save(tenant, {
          run: { ...first.run, status: 'completed' },
          runEtag: first.etag,
          request: { next: { ...req.request, status: 'implemented', version: 3 }, etag: req.etag },
          audit: [event(tenant)],
          outbox: [executeMessage(first.run)],
        }),
      );

      assert.ok(error instanceof ConcurrencyError, String(error));
      assert.deepEqual(await snapshot(tenant, first.run.id), before);
    });

    it('writes the run, the request, the audit entries and the outbox rows together', async () => {
      const tenant = newTenant();
      const req = await sut.requests.create(tenant, (n) => write(request(tenant, n)));
      const queued = run(tenant, 1);
      const started = { ...req.request, status: 'in_progress' as const, version: 2 };

      const saved = await sut.runs.save(tenant, {
        run: queued,
        request: { next: started, etag: req.etag },
        audit: [event(tenant, { run: queued.id }, undefined, 'work.started')],
        outbox: [executeMessage(queued)],
      });

      assert.ok(saved.requestEtag);
      assert.deepEqual(await sut.requests.get(tenant, req.request.id), {
        request: started,
        etag: saved.requestEtag,
      });
      assert.deepEqual(await sut.runs.get(tenant, queued.id), saved.run);
      const entries = await sut.audit.read(tenant);
      assert.equal(verifyChain(tenant, entries).ok, true);
      assert.deepEqual(
        entries.map((e) => (JSON.parse(e.canonical) as { type: string }).type),
        ['request.submitted', 'work.started'],
      );
      const rows = await sut.outbox.list(tenant);
      assert.deepEqual(
        rows.filter(isGraphExecuteRow).map((r) => [r.status, r.message.runId, r.message.requestId]),
        [['pending', queued.id, req.request.id]],
      );

      const finished = await sut.runs.save(tenant, {
        run: { ...queued, status: 'completed' },
        runEtag: saved.run.etag,
        request: {
          next: { ...started, status: 'implemented', version: 3 },
          etag: saved.requestEtag,
        },
        audit: [event(tenant, {}, undefined, 'work.implemented')],
        outbox: [],
      });
      assert.equal((await sut.requests.get(tenant, req.request.id))?.etag, finished.requestEtag);
      assert.equal((await sut.runs.get(tenant, queued.id))?.run.status, 'completed');
    });

    it('lets exactly one of two concurrent saves on the same run ETag win', async () => {
      const tenant = newTenant();
      const first = await created(tenant);

      const results = await Promise.allSettled(
        (['running', 'compensating'] as const).map((status) =>
          sut.runs.save(tenant, {
            run: { ...first.run, status },
            runEtag: first.etag,
            audit: [event(tenant, { status })],
            outbox: [executeMessage(first.run)],
          }),
        ),
      );

      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.ok(lost[0]?.reason instanceof ConcurrencyError);
      assert.deepEqual(await sut.runs.get(tenant, first.run.id), won[0]!.value.run);
      assert.equal((await sut.audit.read(tenant)).length, 1);
      assert.equal((await sut.outbox.list(tenant)).length, 1);
    });

    it('keeps the audit chain verifiable across many saves of several runs', async () => {
      const tenant = newTenant();
      const runs = await Promise.all([1, 2, 3].map((n) => created(tenant, n)));

      await Promise.all(
        runs.map(async (stored) => {
          let current = stored;
          for (let step = 0; step < 8; step += 1) {
            const next = await sut.runs.save(tenant, {
              run: { ...current.run, status: 'running', updatedAt: `step ${step}` },
              runEtag: current.etag,
              audit: [event(tenant, { run: current.run.id, step }, { upn: 'sam@contoso.example' })],
              outbox: [],
            });
            current = next.run;
          }
        }),
      );

      const entries = await sut.audit.read(tenant);
      assert.deepEqual(verifyChain(tenant, entries), {
        ok: true,
        count: 24,
        headHash: entries.at(-1)!.hash,
      });
      assert.deepEqual(await sut.audit.openPersonal(tenant, entries[0]!), {
        upn: 'sam@contoso.example',
      });
    });

    it('keeps tenants apart: a run of one tenant is not found in another', async () => {
      const tenant = newTenant();
      const other = newTenant();
      const first = await created(tenant, 1);

      assert.equal(await sut.runs.get(other, first.run.id), undefined);
      assert.deepEqual(await sut.runs.listForRequest(other, 1), []);
      const misplaced = await rejection(
        sut.runs.save(other, { run: first.run, audit: [], outbox: [] }),
      );
      assert.match(String(misplaced), /cannot be stored for tenant/);
      assert.equal(await sut.runs.get(other, first.run.id), undefined);
    });

    it('refuses a run whose id does not name its own request', async () => {
      const tenant = newTenant();
      const mismatched = run(tenant, 1, 1, { requestId: request(tenant, 2).id });

      const error = await rejection(
        sut.runs.save(tenant, { run: mismatched, audit: [], outbox: [] }),
      );

      assert.match(String(error), /<request number>-<run number>/);
      assert.deepEqual(await sut.runs.listForRequest(tenant, 1), []);
    });

    it('stores a plan near the size limit and refuses one beyond it, writing nothing', async function () {
      this.timeout(20_000);
      const tenant = newTenant();
      const big = runNear(run(tenant, 1, 1));
      const tooBig = runOverLimit(run(tenant, 1, 2));

      const saved = await sut.runs.save(tenant, { run: big, audit: [event(tenant)], outbox: [] });
      const error = await rejection(
        sut.runs.save(tenant, { run: tooBig, audit: [event(tenant)], outbox: [] }),
      );

      assert.ok(big.plan!.steps.length > 500, `${big.plan!.steps.length} steps`);
      assert.deepEqual((await sut.runs.get(tenant, big.id))?.run, big);
      assert.equal((await sut.runs.get(tenant, big.id))?.etag, saved.run.etag);
      assert.ok(error instanceof RunTooLargeError, String(error));
      assert.match(error.message, /Split the change/);
      assert.equal(await sut.runs.get(tenant, tooBig.id), undefined);
      assert.equal((await sut.audit.read(tenant)).length, 1);
    });
  });
}
