import { strict as assert } from 'node:assert';
import type { ChangeRequest } from '../../../src/domain/change-request/change-request';
import { transition } from '../../../src/domain/change-request/change-request.machine';
import {
  ASSESS_INPUTS,
  assessFields,
  assessInputsFor,
  type AssessInputs,
} from '../../../src/surfaces/bot/cards/assessment.view';
import {
  approvalCard,
  cardHash,
  requestStatusCard,
  type Viewer,
} from '../../../src/surfaces/bot/cards/request.view';
import type { AdaptiveCardJson } from '../../../src/surfaces/bot/cards/template';
import { CardVerbs } from '../../../src/surfaces/bot/card-verbs';
import { AssessData } from '../../../src/surfaces/bot/card-data';
import { cardText } from '../../support/bot-client';
import {
  assessedEvent,
  contextFor,
  people,
  requestAt,
  validAssessment,
} from '../../support/fixtures';

const viewers = {
  clientAdmin: { person: people.carla, roles: new Set(['client_admin']) },
  approver: { person: people.andy, roles: new Set(['approver']) },
  tech: { person: people.tina, roles: new Set(['tech']) },
} satisfies Record<string, Viewer>;

const LONDON = { timeZone: 'Europe/London' };

// The Adaptive Cards parser Teams' own renderer uses; it ships CommonJS only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AC = require('adaptivecards/dist/adaptivecards.js') as typeof import('adaptivecards');

/** The parser accepts the card as it is sent: no problems, within Teams' size limit. */
function assertRenderable(card: AdaptiveCardJson): void {
  assert.ok(JSON.stringify(card).length < 28 * 1024);
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  parsed.parse(card, context);
  const problems = [
    ...Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i).message),
    ...parsed.validateProperties().validationEvents.map((e) => e.message),
  ];
  assert.deepEqual(problems, []);
}

function bound(card: AdaptiveCardJson): AdaptiveCardJson {
  assert.ok(!JSON.stringify(card).includes('${'), 'unbound template expression');
  return card;
}

/** A triaged request the technician has assessed (Cabinet's suggested risk kept). */
function assessedTriaged(): ChangeRequest {
  const triaged = requestAt('triaged');
  const next = transition(triaged, assessedEvent(triaged), contextFor(people.tina));
  assert.ok(next.ok);
  return next.value.next;
}

/** Every input of a card, wherever it sits (body, columns, shown cards), by id. */
function inputs(card: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const el = node as Record<string, unknown>;
      if (typeof el['type'] === 'string' && el['type'].startsWith('Input.'))
        out.set(String(el['id']), el);
      Object.values(el).forEach(walk);
    }
  };
  walk(card);
  return out;
}

/** Every element of `type` anywhere in a card (actions in the body's action sets, shown cards). */
function elements(card: unknown, type: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const el = node as Record<string, unknown>;
      if (el['type'] === type) out.push(el);
      Object.values(el).forEach(walk);
    }
  };
  walk(card);
  return out;
}
const showCardTitles = (card: unknown) =>
  elements(card, 'Action.ShowCard').map((a) => String(a['title']));
const allCardActions = (card: unknown) =>
  elements(card, 'Action.Execute').map((a) => ({
    title: String(a['title']),
    verb: String(a['verb']),
    data: a['data'] as Record<string, unknown>,
  }));
const shownCardActions = (card: unknown, title: string) =>
  allCardActions(
    elements(card, 'Action.ShowCard').find((a) => a['title'] === title)?.['card'] ?? {},
  );

function blankInputs(overrides: Partial<AssessInputs> = {}): AssessInputs {
  const blank = Object.fromEntries(ASSESS_INPUTS.map((k) => [k, ''])) as Record<
    keyof AssessInputs,
    string
  >;
  return { ...blank, ...overrides };
}

describe('Assess card', () => {
  it('offers the technician Assess and Reclassify on a triaged request, and Send for approval only once assessed', () => {
    const triaged = requestAt('triaged');
    const card = bound(requestStatusCard(triaged, viewers.tech, 'Contoso Ltd', undefined, LONDON));
    assert.ok(showCardTitles(card).includes('Assess'));
    assert.ok(showCardTitles(card).includes('Reclassify'));
    assert.deepEqual(shownCardActions(card, 'Assess'), [
      {
        title: 'Save assessment',
        verb: CardVerbs.Assess,
        data: { requestId: triaged.id, version: triaged.version },
      },
    ]);
    assert.ok(!allCardActions(card).some((a) => a.verb === CardVerbs.SendForApproval));

    const assessed = assessedTriaged();
    const after = bound(
      requestStatusCard(assessed, viewers.tech, 'Contoso Ltd', undefined, LONDON),
    );
    const send = allCardActions(after).find((a) => a.verb === CardVerbs.SendForApproval);
    assert.deepEqual(send?.data, { requestId: assessed.id, version: assessed.version });
    assert.ok(showCardTitles(after).includes('Assess'), 'the technician may assess again');
  });

  it('never shows Assess, Reclassify or Send for approval to the client’s admin or approver', () => {
    for (const request of [requestAt('triaged'), assessedTriaged()])
      for (const viewer of [viewers.clientAdmin, viewers.approver]) {
        const card = bound(requestStatusCard(request, viewer, 'Contoso Ltd', undefined, LONDON));
        assert.ok(!showCardTitles(card).includes('Assess'));
        assert.ok(!showCardTitles(card).includes('Reclassify'));
        assert.ok(!allCardActions(card).some((a) => a.verb === CardVerbs.SendForApproval));
        assert.ok(!inputs(card).has('rollbackPlan'));
      }
  });

  it('offers reclassification to the other classes only', () => {
    const card = bound(
      requestStatusCard(requestAt('triaged'), viewers.tech, 'Contoso Ltd', undefined, LONDON),
    );
    const choices = (inputs(card).get('changeClass')?.['choices'] as { value: string }[]).map(
      (c) => c.value,
    );
    assert.deepEqual(choices, ['standard', 'emergency']);
    assert.ok(inputs(card).has('reclassifyReason'));
  });

  it('pre-fills a re-assessment from the assessment, with Cabinet’s suggested risk and the window in the client’s zone', () => {
    const assessed = assessedTriaged();
    const values = inputs(
      requestStatusCard(assessed, viewers.tech, 'Contoso Ltd', undefined, LONDON),
    );
    assert.equal(values.get('risk')?.['value'], assessed.assessment!.suggestedRisk);
    assert.equal(values.get('impact')?.['value'], 'minor');
    assert.equal(values.get('windowStartDate')?.['value'], '2026-11-25');
    assert.equal(values.get('windowStartTime')?.['value'], '18:00');
    assert.equal(values.get('windowEndTime')?.['value'], '20:00');
    assert.equal(values.get('affectedServices')?.['value'], 'Microsoft 365');
    assert.ok(
      String(values.get('rollbackPlan')?.['value']).includes('restores the previous settings'),
    );
  });

  it('shows the assessment with Cabinet’s signals on the status card', () => {
    const assessed = assessedTriaged();
    const text = cardText(
      requestStatusCard(assessed, viewers.tech, 'Contoso Ltd', undefined, LONDON),
    );
    assert.ok(text.includes('Why Cabinet rates the risk so'));
    for (const signal of assessed.assessment!.signals) assert.ok(text.includes(signal.detail));
    assert.ok(text.includes('Rollback plan'));
  });

  it('re-opens the form in the card with the values kept and each field’s problem beside it', () => {
    const triaged = requestAt('triaged');
    const values = blankInputs({
      impact: 'minor',
      risk: 'high',
      implementationPlan: 'Swap the key.',
      windowStartDate: '2026-11-25',
    });
    const card = bound(
      requestStatusCard(triaged, viewers.tech, 'Contoso Ltd', undefined, {
        ...LONDON,
        assessForm: {
          values,
          issues: [
            { field: 'testPlan', message: 'is required' },
            { field: 'windowStart', message: 'needs both a date and a time' },
            { field: 'overrideReason', message: 'A reason is required to override.' },
          ],
        },
      }),
    );
    assert.ok(!showCardTitles(card).includes('Assess'), 'the form is open, not behind a button');
    const found = inputs(card);
    assert.equal(found.get('risk')?.['value'], 'high');
    assert.equal(found.get('implementationPlan')?.['value'], 'Swap the key.');
    assert.equal(found.get('windowStartDate')?.['value'], '2026-11-25');
    const text = cardText(card);
    assert.ok(text.includes('Test plan is required'));
    assert.ok(text.includes('Window start needs both a date and a time'));
    assert.ok(text.includes('Reason A reason is required to override.'));
    const body = JSON.stringify(card['body']);
    assert.ok(body.includes(`"verb":"${CardVerbs.Assess}"`), 'Save assessment sits under the form');
  });

  it('reads the window in the client’s zone, across the clocks changing', () => {
    const summer = assessFields(
      blankInputs({
        windowStartDate: '2026-03-29',
        windowStartTime: '18:00',
        windowEndDate: '2026-03-29',
        windowEndTime: '19:30',
      }),
      'Europe/London',
    );
    assert.deepEqual(summer.issues, []);
    assert.equal(summer.fields['windowStart'], '2026-03-29T18:00:00+01:00');
    assert.equal(summer.fields['windowEnd'], '2026-03-29T19:30:00+01:00');
    const winter = assessFields(
      blankInputs({
        windowStartDate: '2026-03-28',
        windowStartTime: '18:00',
        windowEndDate: '2026-03-28',
        windowEndTime: '19:00',
      }),
      'Europe/London',
    );
    assert.equal(winter.fields['windowStart'], '2026-03-28T18:00:00+00:00');
  });

  it('leaves the window out when it is empty, and names what is missing when half given', () => {
    const none = assessFields(blankInputs(), 'Europe/London');
    assert.deepEqual(none.issues, []);
    assert.ok(!('windowStart' in none.fields) && !('windowEnd' in none.fields));
    const half = assessFields(
      blankInputs({
        windowStartDate: '2026-11-25',
        windowEndDate: '2026-11-25',
        windowEndTime: 'x',
      }),
      'Europe/London',
    );
    assert.deepEqual(
      half.issues.map((i) => i.field),
      ['windowStart', 'windowEnd'],
    );
    assert.ok(!('windowStart' in half.fields));
  });

  it('round-trips an assessment through the form to the same fields', () => {
    const assessed = assessedTriaged();
    const { fields, issues } = assessFields(
      assessInputsFor(assessed, 'Europe/London'),
      'Europe/London',
    );
    assert.deepEqual(issues, []);
    assert.equal(fields['windowStart'], '2026-11-25T18:00:00+00:00');
    assert.equal(fields['rollbackPlan'], validAssessment().rollbackPlan);
  });

  it('bounds the Assess card data and refuses anything nested', () => {
    assert.ok(
      AssessData.safeParse({ requestId: 'CONTOSO-1', rollbackPlan: 'x'.repeat(8000) }).success,
    );
    assert.ok(
      !AssessData.safeParse({ requestId: 'CONTOSO-1', rollbackPlan: 'x'.repeat(8001) }).success,
    );
    assert.ok(!AssessData.safeParse({ requestId: 'CONTOSO-1', risk: { level: 'low' } }).success);
    assert.ok(!AssessData.safeParse({ requestId: '' }).success);
  });

  it('renders, folded and opened with problems, for the technician who also has the tab link', () => {
    for (const request of [requestAt('triaged'), assessedTriaged()]) {
      const extras = { ...LONDON, wizardUrl: 'https://tab.example/wizard' };
      assertRenderable(
        bound(requestStatusCard(request, viewers.tech, 'Contoso Ltd', undefined, extras)),
      );
      assertRenderable(
        bound(
          requestStatusCard(request, viewers.tech, 'Contoso Ltd', undefined, {
            ...extras,
            assessForm: {
              values: assessInputsFor(request, 'Europe/London'),
              issues: [{ field: 'form', message: 'something odd' }],
            },
          }),
        ),
      );
    }
  });

  it('keeps the approval card free of the technician’s forms, so its hash depends on request and viewer only', () => {
    const request = requestAt('awaiting_approval');
    const first = approvalCard(request, viewers.approver, 'Contoso Ltd', undefined, LONDON);
    assert.ok(!showCardTitles(first).includes('Assess'));
    assert.ok(!showCardTitles(first).includes('Reclassify'));
    assert.equal(
      cardHash(first),
      cardHash(approvalCard(request, viewers.approver, 'Contoso Ltd', undefined, LONDON)),
    );
  });
});
