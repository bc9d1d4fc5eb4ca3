import assert from 'node:assert/strict';
import {
  autoReplyWire,
  commandRequest,
  displayNameFilter,
  encodePathSegment,
  toAutoReply,
  toDirectoryUser,
  toUtcIso,
} from '../../../src/adapters/graph/graph-directory.mapper';

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const BP = 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46';
const GROUP = '0a2b3c4d-0000-4000-8000-000000000001';

describe('Graph directory mapper', () => {
  it('encodes # and quote characters in a UPN path segment', () => {
    assert.equal(encodePathSegment("o'neil#ext@contoso.com"), 'o%27neil%23ext%40contoso.com');
    assert.equal(encodePathSegment('a(b)*!'), 'a%28b%29%2A%21');
  });

  it('doubles quotes in a display-name filter and encodes it whole, so a name cannot inject', () => {
    const filter = decodeURIComponent(
      displayNameFilter("O'Brien & Co' or true or displayName eq '#1"),
    );
    assert.equal(filter, "displayName eq 'O''Brien & Co'' or true or displayName eq ''#1'");
    assert.doesNotMatch(displayNameFilter("a'&$top=1#"), /[&#' ]/);
  });

  it('separates directly assigned licences from group-inherited ones', () => {
    const user = toDirectoryUser({
      id: 'u1',
      userPrincipalName: 'sam@contoso.com',
      displayName: 'Sam',
      accountEnabled: true,
      usageLocation: 'GB',
      assignedLicenses: [
        { skuId: E3, disabledPlans: ['p1'] },
        { skuId: BP, disabledPlans: [] },
      ],
      licenseAssignmentStates: [
        { skuId: E3, assignedByGroup: null },
        { skuId: BP, assignedByGroup: GROUP },
      ],
    });
    assert.deepEqual(user.assignedLicences, [{ skuId: E3, disabledPlans: ['p1'] }]);
    assert.deepEqual(user.inheritedLicences, [{ skuId: BP, groupId: GROUP }]);
  });

  it('counts a licence as direct when Graph reports no assignment state for it', () => {
    const user = toDirectoryUser({ id: 'u1', assignedLicenses: [{ skuId: E3 }] });
    assert.deepEqual(user.assignedLicences, [{ skuId: E3, disabledPlans: [] }]);
    assert.equal(user.accountEnabled, false);
    assert.equal(user.usageLocation, undefined);
  });

  it('reads a scheduled auto-reply in UTC ISO and writes it back in UTC', () => {
    const reply = toAutoReply({
      status: 'scheduled',
      externalAudience: 'all',
      internalReplyMessage: 'Away',
      externalReplyMessage: 'Away (ext)',
      scheduledStartDateTime: { dateTime: '2026-03-20T18:00:00.0000000', timeZone: 'UTC' },
      scheduledEndDateTime: { dateTime: '2026-04-20T18:00:00.0000000', timeZone: 'UTC' },
    });
    assert.deepEqual(reply, {
      status: 'scheduled',
      externalAudience: 'all',
      internalReplyMessage: 'Away',
      externalReplyMessage: 'Away (ext)',
      scheduledStart: '2026-03-20T18:00:00.000Z',
      scheduledEnd: '2026-04-20T18:00:00.000Z',
    });
    assert.deepEqual(autoReplyWire(reply).scheduledStartDateTime, {
      dateTime: '2026-03-20T18:00:00',
      timeZone: 'UTC',
    });
  });

  it('converts IANA zones across daylight saving and refuses zones it cannot resolve', () => {
    assert.equal(
      toUtcIso({ dateTime: '2026-07-01T09:00:00.0000000', timeZone: 'Europe/London' }),
      '2026-07-01T08:00:00.000Z',
    );
    assert.equal(
      toUtcIso({ dateTime: '2026-01-15T09:00:00', timeZone: 'America/New_York' }),
      '2026-01-15T14:00:00.000Z',
    );
    assert.throws(
      () => toUtcIso({ dateTime: '2026-01-15T09:00:00', timeZone: 'W. Europe Standard Time' }),
      /set the schedule in UTC/,
    );
  });

  it('drops schedule times from a reply that is not scheduled', () => {
    const reply = toAutoReply({
      status: 'alwaysEnabled',
      scheduledStartDateTime: { dateTime: '2026-03-20T18:00:00', timeZone: 'UTC' },
    });
    assert.equal(reply.scheduledStart, undefined);
    assert.equal(autoReplyWire(reply).scheduledStartDateTime, undefined);
  });

  it('creates users enabled with a temporary password they must change, and keeps it out of the route', () => {
    const request = commandRequest(
      {
        kind: 'user.create',
        user: {
          userPrincipalName: 'nina@contoso.com',
          displayName: 'Nina New',
          givenName: 'Nina',
          surname: 'New',
          mailNickname: 'nina',
          usageLocation: 'GB',
        },
      },
      'https://graph.microsoft.com',
      'Temp-Pass-1!',
    );
    assert.equal(request.route, 'POST /users');
    assert.deepEqual((request.body as Record<string, unknown>).passwordProfile, {
      password: 'Temp-Pass-1!',
      forceChangePasswordNextSignIn: true,
    });
    assert.equal((request.body as Record<string, unknown>).accountEnabled, true);
  });

  it('addresses members and owners by $ref, never the member object itself', () => {
    const remove = commandRequest(
      { kind: 'group.remove', groupId: GROUP, userId: 'u1', relation: 'owner' },
      'https://graph.microsoft.com',
      '',
    );
    assert.equal(remove.path, `/groups/${GROUP}/owners/u1/$ref`);
    const add = commandRequest(
      { kind: 'group.add', groupId: GROUP, userId: 'u1', relation: 'member' },
      'https://graph.microsoft.com',
      '',
    );
    assert.deepEqual(add.body, {
      '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/u1',
    });
  });
});
