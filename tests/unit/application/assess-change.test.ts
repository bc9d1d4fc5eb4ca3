import { strict as assert } from 'node:assert';
import {
  assessChange,
  previewAssessment,
  reclassifyChange,
} from '../../../src/application/use-cases/assess-change';
import { assessmentFields, sendToApprovers } from '../../support/approval-flow';
import {
  CONTOSO_TENANT_ID,
  createHarness,
  people,
  raiseGeneral,
  seedClients,
  validAssessment,
} from '../../support/fixtures';

const WINDOW = { start: '2026-11-26T18:00:00.000Z', end: '2026-11-26T20:00:00.000Z' };

describe(assessChange.name, () => {
  it('counts a clash with another booking in the suggestion and keeps it on the request for the approval card', async () => {
    const h = createHarness();
    await seedClients(h);
    const first = (await raiseGeneral(h, people.carla)).request;
    await sendToApprovers(h.deps, first, { assessment: { requestedWindow: WINDOW } });
    const second = (await raiseGeneral(h, people.carla)).request;
    const fields = assessmentFields(validAssessment({ requestedWindow: WINDOW }));

    const preview = await previewAssessment(h.deps, {
      actor: people.tina,
      requestId: second.id,
      fields,
    });
    assert.ok(preview.ok, preview.ok ? '' : preview.error.message);
    assert.deepEqual(
      preview.value.conflicts.map((c) => c.kind),
      ['client_overlap'],
    );
    assert.ok(preview.value.suggestion.signals.some((s) => s.code === 'conflicts'));

    const assessed = await assessChange(h.deps, {
      actor: people.tina,
      requestId: second.id,
      fields: { ...fields, risk: preview.value.suggestion.level },
    });
    assert.equal(assessed.kind, 'done', JSON.stringify(assessed));
    const stored = await h.deps.requests.get(CONTOSO_TENANT_ID, second.id);
    assert.deepEqual(
      stored?.request.assessment?.conflicts?.map((c) => c.kind),
      ['client_overlap'],
    );
    assert.match(stored?.request.assessment?.conflicts?.[0]?.message ?? '', new RegExp(first.id));
  });

  it('refuses a client admin, and refuses a standard class without an active template, changing nothing', async () => {
    const h = createHarness();
    await seedClients(h);
    const request = (await raiseGeneral(h, people.carla)).request;
    const byClient = await assessChange(h.deps, {
      actor: people.carla,
      requestId: request.id,
      fields: assessmentFields(validAssessment()),
    });
    assert.equal(byClient.kind, 'refused');
    const toStandard = await reclassifyChange(h.deps, {
      actor: people.tina,
      requestId: request.id,
      to: 'standard',
      reason: 'It is routine',
    });
    assert.equal(toStandard.kind, 'refused');
    const stored = await h.deps.requests.get(CONTOSO_TENANT_ID, request.id);
    assert.equal(stored?.request.version, request.version);
    assert.equal(stored?.request.assessment, undefined);
  });
});
