import { strict as assert } from 'node:assert';
import type { ClientRole } from '../../../src/domain/client/client';
import { noteSide } from '../../../src/domain/change-request/notes.policy';
import { people, requestAt } from '../../support/fixtures';

describe(noteSide.name, () => {
  const request = requestAt('triaged', { requester: people.sam });
  const roles = (...r: ClientRole[]) => new Set<ClientRole>(r);

  it('puts MSP staff on the MSP side and the client’s own people on the client side', () => {
    assert.equal(noteSide(request, people.tina, roles('tech')), 'msp');
    assert.equal(noteSide(request, people.lena, roles('lead')), 'msp');
    assert.equal(noteSide(request, people.carla, roles('client_admin')), 'client');
    assert.equal(noteSide(request, people.andy, roles('approver')), 'client');
    assert.equal(noteSide(request, people.sam, roles()), 'client', 'the requester, with no role');
  });

  it('refuses anyone else, including a look-alike from another tenant', () => {
    assert.equal(noteSide(request, people.avery, roles()), undefined);
    assert.equal(noteSide(request, people.impostor, roles('approver')), undefined);
    assert.equal(noteSide(request, people.fiona, roles('client_admin')), undefined);
  });
});
