import { strict as assert } from 'node:assert';
import {
  CHANGE_TYPES,
  DESCRIPTION_MAX,
  TITLE_MAX,
  validateChangeInput,
  type ChangeType,
  type LicenceChangePayload,
  type NewUserPayload,
  type OffboardPayload,
} from '../../../src/domain/change-request/change-request.payloads';
import type { FieldIssue } from '../../../src/domain/shared/errors';
import { validFields } from '../../support/fixtures';

/** The issues a failed validation reports, or a test failure if it passed. */
function issuesOf(
  type: unknown,
  raw: Readonly<Record<string, unknown>>,
  today?: string,
): FieldIssue[] {
  const result = validateChangeInput(type, raw, today ? { today } : {});
  assert.equal(result.ok, false, `expected ${String(type)} input to be refused`);
  if (result.ok) return [];
  assert.equal(result.error.code, 'CR.INVALID_INPUT');
  return [...result.error.issues];
}

function messageFor(issues: readonly FieldIssue[], field: string): string | undefined {
  return issues.find((i) => i.field === field)?.message;
}

const REQUIRED: { readonly [T in ChangeType]: readonly string[] } = {
  new_user: [
    'givenName',
    'surname',
    'displayName',
    'userPrincipalName',
    'usageLocation',
    'startDate',
  ],
  offboard: ['userPrincipalName', 'lastWorkingDay'],
  licence_change: ['userPrincipalName'],
  access_change: ['userPrincipalName', 'action', 'resource', 'accessLevel'],
  general: [],
  incident: ['severity', 'affectedService', 'affectedUsers', 'startedAt'],
};

describe(validateChangeInput.name, () => {
  const sut = validateChangeInput;

  describe('every type', () => {
    for (const type of CHANGE_TYPES) {
      it(`accepts a valid ${type} form and returns its typed input`, () => {
        const result = sut(type, validFields(type), { today: '2026-11-23' });
        assert.ok(result.ok, result.ok ? '' : result.error.message);
        assert.equal(result.value.type, type);
        assert.equal(result.value.title, validFields(type)['title']);
      });

      it(`reports "is required" with the field path for every missing ${type} field`, () => {
        const issues = issuesOf(type, {});
        for (const field of ['title', 'description', ...REQUIRED[type]]) {
          assert.equal(
            messageFor(issues, field),
            'is required',
            `${field} in ${JSON.stringify(issues)}`,
          );
        }
      });

      it(`reports required ${type} fields left blank as required`, () => {
        const blanks = Object.fromEntries(
          ['title', 'description', ...REQUIRED[type]].map((f) => [f, '   ']),
        );
        const issues = issuesOf(type, { ...validFields(type), ...blanks });
        for (const field of ['title', 'description', ...REQUIRED[type]]) {
          assert.ok(
            messageFor(issues, field),
            `${field} should be reported in ${JSON.stringify(issues)}`,
          );
        }
      });
    }
  });

  describe('common fields', () => {
    it(`refuses a title longer than ${TITLE_MAX} and a description longer than ${DESCRIPTION_MAX} characters`, () => {
      const issues = issuesOf('general', {
        title: 'x'.repeat(TITLE_MAX + 1),
        description: 'y'.repeat(DESCRIPTION_MAX + 1),
      });
      assert.equal(messageFor(issues, 'title'), `must be at most ${TITLE_MAX} characters`);
      assert.equal(
        messageFor(issues, 'description'),
        `must be at most ${DESCRIPTION_MAX} characters`,
      );
    });

    it('accepts a title and description exactly at their limits, trimmed', () => {
      const result = sut('general', {
        title: ` ${'x'.repeat(TITLE_MAX)} `,
        description: 'y'.repeat(DESCRIPTION_MAX),
      });
      assert.ok(result.ok);
      assert.equal(result.value.title.length, TITLE_MAX);
    });

    it('refuses a title shorter than three characters', () => {
      assert.equal(
        messageFor(issuesOf('general', { title: 'ab', description: 'd' }), 'title'),
        'must be at least 3 characters',
      );
    });

    it('reports every problem at once, common and type-specific', () => {
      const issues = issuesOf(
        'new_user',
        validFields('new_user', { title: '', userPrincipalName: 'nope', startDate: '2026-02-30' }),
      );
      assert.deepEqual(issues.map((i) => i.field).sort(), [
        'startDate',
        'title',
        'userPrincipalName',
      ]);
    });
  });

  it('refuses an unknown type, naming the six it knows', () => {
    for (const type of ['password_reset', '', undefined, 42, 'NEW_USER']) {
      const issues = issuesOf(type, validFields('general'));
      assert.equal(issues.length, 1);
      assert.equal(issues[0]!.field, 'type');
      for (const known of CHANGE_TYPES) assert.ok(issues[0]!.message.includes(known));
    }
  });

  describe('user principal names and e-mails', () => {
    for (const bad of [
      'jane',
      'jane@',
      '@contoso.com',
      'jane@contoso',
      'jane doe@contoso.com',
      '.jane@contoso.com',
      'jane.@contoso.com',
      'jane@-contoso.com',
      'jane@contoso.c',
      `${'a'.repeat(65)}@contoso.com`,
    ]) {
      it(`refuses the UPN ${JSON.stringify(bad)} with a field-level message`, () => {
        const issues = issuesOf('offboard', validFields('offboard', { userPrincipalName: bad }));
        assert.equal(
          messageFor(issues, 'userPrincipalName'),
          'must be a user principal name like jane.doe@contoso.com',
        );
      });
    }

    it('lower-cases and trims a good UPN', () => {
      const result = sut(
        'offboard',
        validFields('offboard', { userPrincipalName: "  Jane.O'Neil@Contoso.Example " }),
      );
      assert.ok(result.ok);
      assert.equal(
        (result.value.payload as OffboardPayload).userPrincipalName,
        "jane.o'neil@contoso.example",
      );
    });

    it('checks optional UPNs when given and ignores them when blank', () => {
      assert.equal(
        messageFor(
          issuesOf('new_user', validFields('new_user', { managerUpn: 'boss' })),
          'managerUpn',
        ),
        'must be a user principal name like jane.doe@contoso.com',
      );
      const blank = sut('new_user', validFields('new_user', { managerUpn: '' }));
      assert.ok(blank.ok);
      assert.equal((blank.value.payload as NewUserPayload).managerUpn, undefined);
    });

    for (const bad of ['not-mail', 'jane@', 'jane@@example.com', 'jane example.com']) {
      it(`refuses the e-mail ${JSON.stringify(bad)}`, () => {
        const issues = issuesOf('offboard', validFields('offboard', { forwardMailTo: bad }));
        assert.equal(
          messageFor(issues, 'forwardMailTo'),
          'must be an e-mail address like jane@example.com',
        );
        assert.equal(
          messageFor(
            issuesOf('new_user', validFields('new_user', { personalEmail: bad })),
            'personalEmail',
          ),
          'must be an e-mail address like jane@example.com',
        );
      });
    }
  });

  describe('dates', () => {
    for (const impossible of [
      '2026-02-30',
      '2026-13-01',
      '2026-00-10',
      '2025-02-29',
      '2026-04-31',
    ]) {
      it(`refuses the impossible date ${impossible}`, () => {
        const issues = issuesOf('new_user', validFields('new_user', { startDate: impossible }));
        assert.equal(messageFor(issues, 'startDate'), 'is not a real calendar date');
      });
    }

    it('accepts 29 February in a leap year', () => {
      assert.ok(sut('new_user', validFields('new_user', { startDate: '2028-02-29' })).ok);
    });

    for (const malformed of ['01/12/2026', '2026-1-5', 'next monday', '2026-12-01T00:00']) {
      it(`refuses the malformed date ${JSON.stringify(malformed)}`, () => {
        const issues = issuesOf('offboard', validFields('offboard', { lastWorkingDay: malformed }));
        assert.equal(messageFor(issues, 'lastWorkingDay'), 'must be a date like 2026-01-31');
      });
    }

    it('refuses dates before `today` for start, effective and until dates', () => {
      const today = '2026-11-23';
      assert.match(
        messageFor(
          issuesOf('new_user', validFields('new_user', { startDate: '2026-11-22' }), today),
          'startDate',
        ) ?? '',
        /must not be in the past/,
      );
      assert.match(
        messageFor(
          issuesOf(
            'licence_change',
            validFields('licence_change', { effectiveDate: '2026-01-01' }),
            today,
          ),
          'effectiveDate',
        ) ?? '',
        /must not be in the past/,
      );
      assert.match(
        messageFor(
          issuesOf('access_change', validFields('access_change', { until: '2025-12-31' }), today),
          'until',
        ) ?? '',
        /must not be in the past/,
      );
    });

    it('reports a past date in the same round as other field errors', () => {
      const issues = issuesOf(
        'new_user',
        validFields('new_user', { userPrincipalName: 'jane', startDate: ' 2026-11-01 ' }),
        '2026-11-23',
      );
      assert.deepEqual(issues.map((i) => i.field).sort(), ['startDate', 'userPrincipalName']);
      const malformed = issuesOf(
        'new_user',
        validFields('new_user', { userPrincipalName: 'jane', startDate: '2026-02-30' }),
        '2026-11-23',
      );
      assert.deepEqual(
        malformed.filter((i) => i.field === 'startDate'),
        [{ field: 'startDate', message: 'is not a real calendar date' }],
      );
    });

    it('accepts today itself, and past dates when no `today` is given', () => {
      assert.ok(
        sut('new_user', validFields('new_user', { startDate: '2026-11-23' }), {
          today: '2026-11-23',
        }).ok,
      );
      assert.ok(sut('new_user', validFields('new_user', { startDate: '2020-01-01' })).ok);
    });

    for (const bad of ['2026-02-30T09:30', '2026-13-01T09:30', 'yesterday', '', '09:30']) {
      it(`refuses the incident start ${JSON.stringify(bad)}`, () => {
        const issues = issuesOf('incident', validFields('incident', { startedAt: bad }));
        assert.ok(messageFor(issues, 'startedAt'), JSON.stringify(issues));
      });
    }

    it('accepts an incident start as an ISO date and time', () => {
      for (const good of [
        '2026-11-23T08:30',
        '2026-11-23T08:30:00Z',
        '2026-11-23T08:30:00.000+01:00',
      ]) {
        assert.ok(sut('incident', validFields('incident', { startedAt: good })).ok, good);
      }
    });
  });

  describe('new_user', () => {
    it('parses comma-separated SKU and group lists into clean, upper-cased SKUs', () => {
      const result = sut(
        'new_user',
        validFields('new_user', {
          licenceSkus: ' spb, ENTERPRISEPACK ;;, ',
          groups: 'Finance, Sales\nAll staff',
        }),
      );
      assert.ok(result.ok);
      const payload = result.value.payload as NewUserPayload;
      assert.deepEqual(payload.licenceSkus, ['SPB', 'ENTERPRISEPACK']);
      assert.deepEqual(payload.groups, ['Finance', 'Sales', 'All staff']);
    });

    it('treats absent lists as empty', () => {
      const result = sut(
        'new_user',
        validFields('new_user', { licenceSkus: undefined, groups: undefined }),
      );
      assert.ok(result.ok);
      assert.deepEqual((result.value.payload as NewUserPayload).licenceSkus, []);
    });

    it('points at the bad SKU inside a list', () => {
      const issues = issuesOf(
        'new_user',
        validFields('new_user', { licenceSkus: 'SPB, not a sku' }),
      );
      assert.equal(
        messageFor(issues, 'licenceSkus.1'),
        'must be licence SKU part numbers like SPB or ENTERPRISEPACK',
      );
    });

    it('refuses a usage location that is not a two-letter country code and upper-cases one that is', () => {
      assert.equal(
        messageFor(
          issuesOf('new_user', validFields('new_user', { usageLocation: 'GBR' })),
          'usageLocation',
        ),
        'must be a two-letter country code like GB or US',
      );
      const ok = sut('new_user', validFields('new_user', { usageLocation: 'us' }));
      assert.ok(ok.ok);
      assert.equal((ok.value.payload as NewUserPayload).usageLocation, 'US');
    });
  });

  describe('offboard', () => {
    it('reads card booleans given as strings', () => {
      const result = sut(
        'offboard',
        validFields('offboard', { convertToSharedMailbox: 'true', removeLicences: 'false' }),
      );
      assert.ok(result.ok);
      const payload = result.value.payload as OffboardPayload;
      assert.equal(payload.convertToSharedMailbox, true);
      assert.equal(payload.removeLicences, false);
    });
  });

  describe('licence_change', () => {
    it('refuses a change that neither adds nor removes a licence', () => {
      const issues = issuesOf(
        'licence_change',
        validFields('licence_change', { addSkus: '', removeSkus: ' , ' }),
      );
      assert.deepEqual(issues, [
        { field: 'addSkus', message: 'name at least one licence to add or remove' },
      ]);
    });

    it('accepts a removal alone, parsed from a comma-separated list', () => {
      const result = sut(
        'licence_change',
        validFields('licence_change', { addSkus: undefined, removeSkus: 'spb,flow_free' }),
      );
      assert.ok(result.ok);
      const payload = result.value.payload as LicenceChangePayload;
      assert.deepEqual(payload.addSkus, []);
      assert.deepEqual(payload.removeSkus, ['SPB', 'FLOW_FREE']);
    });

    it('accepts SKU arrays from an API caller', () => {
      const result = sut('licence_change', validFields('licence_change', { addSkus: ['spb'] }));
      assert.ok(result.ok);
      assert.deepEqual((result.value.payload as LicenceChangePayload).addSkus, ['SPB']);
    });
  });

  describe('access_change', () => {
    it('refuses an unknown action and access level with the allowed values', () => {
      const issues = issuesOf(
        'access_change',
        validFields('access_change', { action: 'steal', accessLevel: 'god' }),
      );
      assert.equal(messageFor(issues, 'action'), 'must be grant or revoke');
      assert.equal(
        messageFor(issues, 'accessLevel'),
        'must be member, owner, read, contribute or full_access',
      );
    });
  });

  describe('incident', () => {
    it('reads the number of affected users from card text', () => {
      const result = sut('incident', validFields('incident', { affectedUsers: ' 40 ' }));
      assert.ok(result.ok);
      assert.equal((result.value.payload as { affectedUsers: number }).affectedUsers, 40);
    });

    for (const blank of ['', '   ', null]) {
      it(`treats affected users ${JSON.stringify(blank)} as missing, not as zero`, () => {
        assert.equal(
          messageFor(
            issuesOf('incident', validFields('incident', { affectedUsers: blank })),
            'affectedUsers',
          ),
          'is required',
        );
      });
    }

    it('refuses affected users that are not a whole, plausible, non-negative number', () => {
      assert.equal(
        messageFor(
          issuesOf('incident', validFields('incident', { affectedUsers: 'lots' })),
          'affectedUsers',
        ),
        'must be a number',
      );
      assert.equal(
        messageFor(
          issuesOf('incident', validFields('incident', { affectedUsers: '2.5' })),
          'affectedUsers',
        ),
        'must be a whole number',
      );
      assert.equal(
        messageFor(
          issuesOf('incident', validFields('incident', { affectedUsers: '-1' })),
          'affectedUsers',
        ),
        'cannot be negative',
      );
      assert.equal(
        messageFor(
          issuesOf('incident', validFields('incident', { affectedUsers: '9999999' })),
          'affectedUsers',
        ),
        'is implausibly large',
      );
    });

    it('refuses an unknown severity', () => {
      assert.equal(
        messageFor(issuesOf('incident', validFields('incident', { severity: 'sev0' })), 'severity'),
        'must be sev1, sev2, sev3 or sev4',
      );
    });
  });
});
