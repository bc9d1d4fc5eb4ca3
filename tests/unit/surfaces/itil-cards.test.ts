import { strict as assert } from 'node:assert';
import type { ChangeRequest } from '../../../src/domain/change-request/change-request';
import { formCard } from '../../../src/surfaces/bot/cards/forms.view';
import { formatWindow } from '../../../src/surfaces/bot/cards/itil.view';
import {
  approvalCard,
  cardHash,
  requestStatusCard,
  type Viewer,
} from '../../../src/surfaces/bot/cards/request.view';
import type { AdaptiveCardJson } from '../../../src/surfaces/bot/cards/template';
import { CONTOSO } from '../../../src/sandbox/sandbox-tenants';
import { people, requestAt } from '../../support/fixtures';
import { cardText } from '../../support/bot-client';
import { allCardActions, showCardTitles } from '../../support/bot-itil';

const viewers = {
  requester: { person: people.carla, roles: new Set(['client_admin']) },
  approver: { person: people.andy, roles: new Set(['approver']) },
  tech: { person: people.tina, roles: new Set(['tech']) },
} satisfies Record<string, Viewer>;

function bound(card: AdaptiveCardJson): AdaptiveCardJson {
  assert.ok(!JSON.stringify(card).includes('${'), 'unbound template expression');
  return card;
}
const titles = (card: AdaptiveCardJson) => allCardActions(card).map((a) => a.title);

describe('ITIL card views', () => {
  it('shows a window in the client’s zone, or in UTC when it has none, always labelled', () => {
    const window = { start: '2026-11-24T18:00:00.000Z', end: '2026-11-24T19:30:00.000Z' };
    assert.equal(
      formatWindow(window, 'Europe/London'),
      'Tue 24 Nov 2026, 18:00–19:30 (Europe/London)',
    );
    assert.equal(
      formatWindow(window, 'America/New_York'),
      'Tue 24 Nov 2026, 13:00–14:30 (America/New_York)',
    );
    assert.equal(formatWindow(window), 'Tue 24 Nov 2026, 18:00–19:30 (UTC)');
    assert.equal(formatWindow(window, 'Not/AZone'), 'Tue 24 Nov 2026, 18:00–19:30 (UTC)');
  });

  it('lists the schedule conflicts found when the change was assessed, and nothing when there were none', () => {
    const request = requestAt('awaiting_approval');
    const clash = 'Overlaps CONTOSO-7 (Tue 24 Nov, 18:00–19:00) for the same client.';
    const withClash: ChangeRequest = {
      ...request,
      assessment: {
        ...request.assessment!,
        conflicts: [{ kind: 'client_overlap', message: clash }],
      },
    };
    const card = bound(approvalCard(withClash, viewers.approver, 'Contoso Ltd'));
    includesText(card, 'Schedule conflicts when it was assessed');
    includesText(card, clash);
    const clean = bound(approvalCard(request, viewers.approver, 'Contoso Ltd'));
    assert.ok(!cardText(clean).includes('Schedule conflicts'));
  });

  it('puts the step and version in the approval buttons and keeps the hash a function of request and viewer', () => {
    const request = requestAt('awaiting_approval');
    const card = bound(
      approvalCard(request, viewers.approver, 'Contoso Ltd', undefined, {
        timeZone: 'Europe/London',
      }),
    );
    const approve = allCardActions(card).find((a) => a.title === 'Approve');
    assert.deepEqual(approve?.data, {
      requestId: request.id,
      version: request.version,
      step: 'client',
    });
    includesText(
      card,
      'You are voting on step 1 of 1, Client approval: any one of 2 must approve.',
    );
    includesText(card, 'Rollback plan');
    assert.equal(
      cardHash(card),
      cardHash(
        approvalCard(structuredClone(request), viewers.approver, 'Contoso Ltd', undefined, {
          timeZone: 'Europe/London',
        }),
      ),
    );
  });

  it('flags emergencies, the emergency quota and pre-approved standard changes', () => {
    const emergency: ChangeRequest = {
      ...requestAt('awaiting_approval'),
      changeClass: 'emergency',
      overEmergencyQuota: true,
    };
    const card = bound(approvalCard(emergency, viewers.tech, 'Contoso Ltd'));
    includesText(
      card,
      'Emergency — approved by an MSP lead; retrospective client approval follows.',
    );
    includesText(card, "Over this month's emergency quota.");
    const standard: ChangeRequest = {
      ...requestAt('approved'),
      changeClass: 'standard',
      templateId: 'tp_wifi',
    };
    includesText(
      bound(requestStatusCard(standard, viewers.requester, 'Contoso Ltd')),
      'Pre-approved under standard template tp_wifi',
    );
  });

  it('offers the review form for normal and emergency changes and Close for standard ones', () => {
    const implemented = requestAt('implemented');
    const normal = bound(requestStatusCard(implemented, viewers.tech, 'Contoso Ltd'));
    assert.ok(showCardTitles(normal).includes('File the review'));
    assert.ok(!titles(normal).includes('Close'));
    const standard = bound(
      requestStatusCard({ ...implemented, changeClass: 'standard' }, viewers.tech, 'Contoso Ltd'),
    );
    assert.ok(titles(standard).includes('Close'));
    assert.ok(!showCardTitles(standard).includes('File the review'));
    assert.ok(
      !showCardTitles(
        bound(requestStatusCard(implemented, viewers.requester, 'Contoso Ltd')),
      ).includes('File the review'),
    );
  });

  it('gives the requester the question and an answer field while the request needs information', () => {
    const waiting: ChangeRequest = {
      ...requestAt('awaiting_approval'),
      status: 'needs_info',
      clarification: {
        question: 'Which floor?',
        askedBy: people.andy,
        askedAt: '2026-11-23T10:00:00Z',
        returnTo: 'awaiting_approval',
      },
    };
    const mine = bound(requestStatusCard(waiting, viewers.requester, 'Contoso Ltd'));
    includesText(mine, 'Andy Approver asks: Which floor?');
    assert.ok(titles(mine).includes('Send answer'));
    const theirs = bound(requestStatusCard(waiting, viewers.tech, 'Contoso Ltd'));
    assert.ok(!titles(theirs).includes('Send answer'));
    includesText(theirs, 'Waiting for Carla Admin to answer.');
  });

  it('offers the emergency toggle on the raise form only to MSP staff', () => {
    includesText(bound(formCard('general', { clients: [CONTOSO] })), 'Emergency change');
    assert.ok(!cardText(bound(formCard('general'))).includes('Emergency change'));
    assert.ok(
      !cardText(
        bound(
          formCard('general', { clients: [CONTOSO], edit: { requestId: 'CONTOSO-1', version: 1 } }),
        ),
      ).includes('Emergency change'),
    );
  });
});

function includesText(card: AdaptiveCardJson, text: string): void {
  assert.ok(
    cardText(card).includes(text),
    `expected ${JSON.stringify(text)} in ${cardText(card).slice(0, 2000)}`,
  );
}
