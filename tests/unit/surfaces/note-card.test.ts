import { strict as assert } from 'node:assert';
import type { ChangeRequest } from '../../../src/domain/change-request/change-request';
import { CONTOSO, FABRIKAM, MSP } from '../../../src/sandbox/sandbox-tenants';
import { CardVerbs } from '../../../src/surfaces/bot/card-verbs';
import { requestStatusCard, type Viewer } from '../../../src/surfaces/bot/cards/request.view';
import { welcomeCard } from '../../../src/surfaces/bot/cards/welcome.view';
import { contosoProfile, requestAt } from '../../support/fixtures';

const request = (overrides: Partial<ChangeRequest> = {}): ChangeRequest => ({
  ...requestAt('triaged', { type: 'general', number: 7 }),
  ...overrides,
});

const json = (r: ChangeRequest, viewer: Viewer) =>
  JSON.stringify(requestStatusCard(r, viewer, 'Contoso Ltd'));

describe('Request card: Add note and the PSA ticket line', () => {
  it('offers Add note to the people addNote accepts, and to nobody else', () => {
    const r = request();
    const offered = (viewer: Viewer) => json(r, viewer).includes(`"verb":"${CardVerbs.AddNote}"`);
    assert.ok(offered({ person: CONTOSO.carla, roles: new Set(['client_admin']) }));
    assert.ok(offered({ person: CONTOSO.andy, roles: new Set(['approver']) }));
    assert.ok(offered({ person: MSP.tina, roles: new Set(['tech']) }));
    assert.ok(!offered({ person: CONTOSO.sam, roles: new Set() }));
    assert.ok(!offered({ person: FABRIKAM.fiona, roles: new Set() }));
  });

  it('names the PSA ticket once linked, as a link only for a web address', () => {
    const viewer: Viewer = { person: CONTOSO.carla, roles: new Set(['client_admin']) };
    assert.ok(!json(request({ psa: { psa: 'halopsa' } }), viewer).includes('ticket'));
    assert.ok(
      json(request({ psa: { psa: 'connectwise', ticketId: '88' } }), viewer).includes(
        '"text":"ConnectWise PSA ticket 88"',
      ),
    );
    assert.ok(
      json(
        request({ psa: { psa: 'autotask', ticketId: '5', ticketUrl: 'javascript:alert(1)' } }),
        viewer,
      ).includes('"text":"Autotask ticket 5"'),
    );
    assert.ok(
      json(
        request({
          psa: { psa: 'halopsa', ticketId: '1234', ticketUrl: 'https://halo.example/t?id=(1234)' },
        }),
        viewer,
      ).includes('"text":"[HaloPSA ticket 1234](https://halo.example/t?id=%281234%29)"'),
    );
  });

  it('lists `note` to registered people and `deliveries` to MSP leads only', () => {
    const client = contosoProfile();
    const welcome = (person: Viewer['person'], roles: Viewer['roles']) =>
      JSON.stringify(
        welcomeCard({ person, isMspStaff: roles.has('lead'), memberships: [{ client, roles }] }),
      );
    const lead = welcome(MSP.lena, new Set(['lead']));
    assert.ok(lead.includes('(**deliveries**)'), lead);
    assert.ok(lead.includes('**note CONTOSO-1042 your note**'), lead);
    const admin = welcome(CONTOSO.carla, new Set(['client_admin']));
    assert.ok(admin.includes('**note CONTOSO-1042 your note**'), admin);
    assert.ok(!admin.includes('deliveries'), admin);
    assert.ok(!welcome(MSP.tina, new Set(['tech'])).includes('deliveries'));
  });
});
