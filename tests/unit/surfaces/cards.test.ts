import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  ChangeRequest,
  ChangeStatus,
} from '../../../src/domain/change-request/change-request';
import { CHANGE_TYPES } from '../../../src/domain/change-request/change-request.payloads';
import { ALL_CARD_VERBS } from '../../../src/surfaces/bot/card-verbs';
import { formCard, typePickerCard } from '../../../src/surfaces/bot/cards/forms.view';
import { messageCard } from '../../../src/surfaces/bot/cards/message.view';
import {
  approvalCard,
  cardHash,
  requestStatusCard,
  type Viewer,
} from '../../../src/surfaces/bot/cards/request.view';
import type { AdaptiveCardJson } from '../../../src/surfaces/bot/cards/template';
import { requestListCard, welcomeCard } from '../../../src/surfaces/bot/cards/welcome.view';
import { CONTOSO, MSP } from '../../../src/sandbox/sandbox-tenants';
import { requestAt, type PathStatus } from '../../support/fixtures';

// The npm main of adaptivecards is ESM without extensions; its UMD bundle parses cards in Node.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AC = require('adaptivecards/dist/adaptivecards.js') as typeof import('adaptivecards');

/** Teams refuses cards above about 28 KB. */
const MAX_CARD_BYTES = 28 * 1024;

function assertRenderable(card: AdaptiveCardJson): void {
  const json = JSON.stringify(card);
  assert.ok(!json.includes('${'), `unbound template expression in ${json.slice(0, 400)}`);
  assert.ok(json.length < MAX_CARD_BYTES, `card is ${json.length} bytes`);
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  parsed.parse(card, context);
  const problems = [
    ...(context.eventCount
      ? Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i).message)
      : []),
    ...parsed.validateProperties().validationEvents.map((e) => e.message),
  ];
  assert.deepEqual(problems, []);
  for (const action of (card['actions'] as { verb?: string }[] | undefined) ?? []) {
    if (action.verb) assert.ok(ALL_CARD_VERBS.has(action.verb), `unknown verb ${action.verb}`);
  }
}

const carla = CONTOSO.carla;
const andy = CONTOSO.andy;
/** Where each status is reached on the normal path; the others are set on top of the nearest. */
const PATH: { readonly [S in ChangeStatus]?: PathStatus } = {
  submitted: 'submitted',
  triaged: 'triaged',
  awaiting_approval: 'awaiting_approval',
  approved: 'approved',
  in_progress: 'in_progress',
  implemented: 'implemented',
  closed: 'closed',
  failed: 'failed',
  denied: 'awaiting_approval',
  cancelled: 'triaged',
  rolled_back: 'failed',
  needs_info: 'awaiting_approval',
  review_pending: 'implemented',
};
const request = (status: ChangeStatus, overrides: Partial<ChangeRequest> = {}): ChangeRequest => ({
  ...requestAt(PATH[status] ?? 'submitted', { type: 'new_user', number: 7 }),
  status,
  ...overrides,
});
const viewers: Record<string, Viewer> = {
  requester: { person: carla, roles: new Set(['client_admin']) },
  approver: { person: andy, roles: new Set(['approver']) },
  tech: { person: MSP.tina, roles: new Set(['tech']) },
};
const STATUSES: ChangeStatus[] = [
  'submitted',
  'triaged',
  'awaiting_approval',
  'approved',
  'in_progress',
  'implemented',
  'closed',
  'denied',
  'cancelled',
  'failed',
  'rolled_back',
  'needs_info',
  'review_pending',
];

describe('Adaptive Card views', () => {
  it('bind every template completely into cards the Adaptive Cards parser accepts', () => {
    for (const type of CHANGE_TYPES) {
      assertRenderable(formCard(type));
      assertRenderable(
        formCard(type, {
          clients: [CONTOSO],
          errors: [{ field: 'title', message: 'is required' }],
          values: { title: 'x' },
        }),
      );
      assertRenderable(formCard(type, { edit: { requestId: 'CONTOSO-7', version: 2 } }));
    }
    assertRenderable(typePickerCard([]));
    assertRenderable(typePickerCard([CONTOSO]));
    assertRenderable(
      messageCard({
        title: 't',
        text: 'x',
        code: 'C',
        facts: [{ title: 'a', value: 'b' }],
        actions: [{ title: 'Go', verb: 'cr.new', data: {} }],
      }),
    );
    assertRenderable(requestListCard([request('approved')], true));
    assertRenderable(requestListCard([], false));
    for (const status of STATUSES) {
      for (const viewer of Object.values(viewers)) {
        assertRenderable(requestStatusCard(request(status), viewer, 'Contoso Ltd'));
        assertRenderable(approvalCard(request(status), viewer, 'Contoso Ltd'));
      }
    }
  });

  it('shows Approve and Deny only to a designated approver of the current version', () => {
    const titles = (card: AdaptiveCardJson) =>
      ((card['actions'] as { title: string }[]) ?? []).map((a) => a.title);
    assert.deepEqual(
      titles(approvalCard(request('awaiting_approval'), viewers['approver']!, 'Contoso Ltd')),
      ['Approve', 'Deny', 'Ask a question', 'Refresh'],
    );
    assert.deepEqual(
      titles(approvalCard(request('awaiting_approval'), viewers['tech']!, 'Contoso Ltd')),
      ['Ask a question', 'Refresh'],
    );
    const decided = request('approved');
    assert.deepEqual(titles(approvalCard(decided, viewers['approver']!, 'Contoso Ltd')), [
      'Refresh',
    ]);
  });

  it('gives technicians the next step of the work and requesters only cancel or edit', () => {
    const titles = (status: ChangeStatus, viewer: Viewer) =>
      (
        (requestStatusCard(request(status), viewer, 'Contoso Ltd')['actions'] as {
          title: string;
        }[]) ?? []
      ).map((a) => a.title);
    assert.deepEqual(titles('approved', viewers['tech']!), [
      'Start work',
      'Cancel request',
      'Refresh',
    ]);
    assert.deepEqual(titles('in_progress', viewers['tech']!), [
      'Mark implemented',
      'Mark failed',
      'Refresh',
    ]);
    // A normal change closes by its review; the requester waits on the MSP's question.
    assert.deepEqual(titles('implemented', viewers['tech']!), ['Refresh', 'File the review']);
    assert.deepEqual(titles('awaiting_approval', viewers['requester']!), [
      'Cancel request',
      'Edit',
      'Refresh',
    ]);
    assert.deepEqual(titles('closed', viewers['requester']!), ['Refresh']);
    const unapproved = request('approved', { approval: request('awaiting_approval').approval });
    const buttons = (
      requestStatusCard(unapproved, viewers['tech']!, 'Contoso Ltd')['actions'] as {
        title: string;
      }[]
    ).map((a) => a.title);
    assert.ok(
      !buttons.includes('Start work'),
      'the card must not offer what the domain would refuse',
    );
  });

  it('offers technicians the wizard for executable work and the requester the password once', () => {
    const extras = {
      wizardUrl: 'http://127.0.0.1:3978/tab/?request=CONTOSO-7',
      revealPasswordRunId: '7-1',
    };
    const titles = (
      status: ChangeStatus,
      viewer: Viewer,
      type: ChangeRequest['type'] = 'new_user',
    ) => {
      const card = requestStatusCard(
        request(status, { type }),
        viewer,
        'Contoso Ltd',
        undefined,
        extras,
      );
      assertRenderable(card);
      return (card['actions'] as { title: string }[]).map((a) => a.title);
    };
    assert.ok(titles('approved', viewers['tech']!).includes('Open wizard'));
    assert.ok(titles('in_progress', viewers['tech']!).includes('Open wizard'));
    assert.ok(!titles('approved', viewers['tech']!, 'general').includes('Open wizard'));
    assert.ok(!titles('closed', viewers['tech']!).includes('Open wizard'));
    assert.ok(!titles('approved', viewers['requester']!).includes('Open wizard'));
    assert.ok(
      titles('implemented', viewers['requester']!).includes('Show temporary password (once)'),
    );
    assert.ok(!titles('implemented', viewers['tech']!).includes('Show temporary password (once)'));
    assert.ok(
      !titles('implemented', viewers['approver']!).includes('Show temporary password (once)'),
    );
  });

  it('hashes the card an approver saw identically however often it is rendered', () => {
    const a = cardHash(
      approvalCard(request('awaiting_approval'), viewers['approver']!, 'Contoso Ltd'),
    );
    const b = cardHash(
      approvalCard(
        structuredClone(request('awaiting_approval')),
        viewers['approver']!,
        'Contoso Ltd',
      ),
    );
    assert.equal(a, b);
    assert.notEqual(
      a,
      cardHash(
        approvalCard(
          request('awaiting_approval', { title: 'Something else' }),
          viewers['approver']!,
          'Contoso Ltd',
        ),
      ),
    );
  });

  it('welcomes a person with the roles they hold', () => {
    const card = welcomeCard({ person: carla, isMspStaff: false, memberships: [] });
    assertRenderable(card);
    assert.match(JSON.stringify(card), /Not registered yet/);
  });

  it('uses only verbs the bot registers in every template file', () => {
    const dir = join(__dirname, '..', '..', '..', 'adaptiveCards');
    for (const file of readdirSync(dir)) {
      const verbs = [
        ...readFileSync(join(dir, file), 'utf8').matchAll(/"verb":\s*"([^"$]+)"/g),
      ].map((m) => m[1]!);
      for (const verb of verbs)
        assert.ok(ALL_CARD_VERBS.has(verb), `${file} uses unregistered verb ${verb}`);
    }
  });
});
