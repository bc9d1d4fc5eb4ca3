import { strict as assert } from 'node:assert';
import type { ChangeRequest } from '../../../src/domain/change-request/change-request';
import type { ChangeType } from '../../../src/domain/change-request/change-request.payloads';
import {
  CREATED_USER,
  type DirectoryGroup,
  type DirectorySku,
  type DirectoryUser,
} from '../../../src/domain/execution/directory';
import type {
  AccessChangeSnapshot,
  LicenceChangeSnapshot,
  NewUserSnapshot,
  OffboardSnapshot,
} from '../../../src/domain/execution/directory-snapshot';
import type { ExecutionPlan } from '../../../src/domain/execution/execution-plan';
import { planDigest, planExecution } from '../../../src/domain/execution/plan-execution';
import {
  parseWizardOptions,
  wizardDefaults,
  type WizardOptions,
} from '../../../src/domain/execution/wizard-options';
import type { DirectorySnapshot } from '../../../src/domain/execution/directory-snapshot';
import { requestAt, validInput } from '../../support/fixtures';

function approved(
  type: ChangeType,
  overrides: Readonly<Record<string, unknown>> = {},
): ChangeRequest {
  return requestAt('approved', { type, input: validInput(type, overrides) });
}

function options(
  request: ChangeRequest,
  raw: Readonly<Record<string, unknown>> = {},
): WizardOptions {
  const parsed = parseWizardOptions(request, raw);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

function user(overrides: Partial<DirectoryUser> = {}): DirectoryUser {
  return {
    id: 'u-leaver',
    userPrincipalName: 'leaver@contoso.example',
    displayName: 'Lee Leaver',
    accountEnabled: true,
    usageLocation: 'GB',
    assignedLicences: [],
    inheritedLicences: [],
    ...overrides,
  };
}

function group(
  id: string,
  displayName: string,
  overrides: Partial<DirectoryGroup> = {},
): DirectoryGroup {
  return {
    id,
    displayName,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    ...overrides,
  };
}

const SPB: DirectorySku = {
  skuId: 'sku-spb',
  skuPartNumber: 'SPB',
  enabledUnits: 25,
  consumedUnits: 20,
  capabilityStatus: 'Enabled',
};
const E3: DirectorySku = {
  skuId: 'sku-e3',
  skuPartNumber: 'ENTERPRISEPACK',
  enabledUnits: 10,
  consumedUnits: 3,
  capabilityStatus: 'Enabled',
};

function plan(request: ChangeRequest, snapshot: DirectorySnapshot, raw = {}): ExecutionPlan {
  const result = planExecution(request, options(request, raw), snapshot);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

function refusal(request: ChangeRequest, snapshot: DirectorySnapshot, raw = {}) {
  const result = planExecution(request, options(request, raw), snapshot);
  assert.ok(!result.ok, 'the plan should have been refused');
  return result.error;
}

describe('Execution planners', () => {
  describe('new_user', () => {
    const request = approved('new_user', {
      managerUpn: 'boss@contoso.example',
      groups: 'Finance, Sales list',
      licenceSkus: 'SPB',
    });
    const snapshot: NewUserSnapshot = {
      type: 'new_user',
      manager: {
        userPrincipalName: 'boss@contoso.example',
        user: user({ id: 'u-boss', displayName: 'Bea Boss' }),
      },
      groups: [
        { name: 'Finance', matches: [group('g-fin', 'Finance')] },
        {
          name: 'Sales list',
          matches: [group('g-dl', 'Sales list', { mailEnabled: true, securityEnabled: false })],
        },
      ],
      skus: [SPB],
    };

    it('creates the account first, then licences, groups and manager together, all undoable', () => {
      const sut = plan(request, snapshot);
      assert.deepEqual(
        sut.steps.map((s) => [s.id, s.wave, s.forward.kind, s.compensation?.kind]),
        [
          ['create-user', 0, 'user.create', 'user.delete'],
          ['assign-licences', 1, 'user.assignLicences', 'user.assignLicences'],
          ['join-g-fin', 1, 'group.add', 'group.remove'],
          ['set-manager', 1, 'user.setManager', 'user.removeManager'],
        ],
      );
      assert.equal(sut.pointOfNoReturn, sut.steps.length);
      const create = sut.steps[0]!.forward;
      assert.ok(create.kind === 'user.create');
      assert.equal(create.user.usageLocation, 'GB');
      assert.equal(create.user.mailNickname, 'jane.doe');
      assert.deepEqual(sut.steps[0]!.verify, {
        kind: 'user.exists',
        userPrincipalName: 'jane.doe@contoso.example',
        expected: true,
      });
      for (const s of sut.steps.slice(1))
        assert.equal((s.forward as { userId: string }).userId, CREATED_USER);
      assert.deepEqual(sut.steps[2]!.access, {
        change: 'granted',
        resourceId: 'g-fin',
        resourceName: 'Finance',
        relation: 'member',
        userId: CREATED_USER,
        userPrincipalName: 'jane.doe@contoso.example',
      });
    });

    it('makes a distribution list a named checklist task, not a silent skip', () => {
      const sut = plan(request, snapshot);
      assert.equal(sut.checklist.length, 1);
      assert.match(sut.checklist[0]!.title, /Sales list/);
      assert.match(sut.checklist[0]!.detail, /Add-DistributionGroupMember -Identity 'Sales list'/);
    });

    it('refuses a user principal name that is already taken', () => {
      const error = refusal(request, {
        ...snapshot,
        existingUser: user({ displayName: 'Jane Older' }),
      });
      assert.equal(error.code, 'EXEC.UPN_TAKEN');
      assert.match(error.message, /already used by Jane Older: choose another/);
    });

    it('refuses a manager who is not in the directory', () => {
      const error = refusal(request, {
        ...snapshot,
        manager: { userPrincipalName: 'boss@contoso.example' },
      });
      assert.equal(error.code, 'EXEC.MANAGER_NOT_FOUND');
    });

    it('refuses unknown, ambiguous and dynamic groups', () => {
      const groups = (matches: DirectoryGroup[]) => ({
        ...snapshot,
        groups: [{ name: 'Finance', matches }, snapshot.groups[1]!],
      });
      assert.equal(refusal(request, groups([])).code, 'EXEC.GROUP_NOT_FOUND');
      const ambiguous = refusal(
        request,
        groups([group('g-1', 'Finance'), group('g-2', 'Finance')]),
      );
      assert.equal(ambiguous.code, 'EXEC.GROUP_AMBIGUOUS');
      assert.match(ambiguous.message, /g-1, g-2/);
      const dynamic = refusal(
        request,
        groups([group('g-d', 'Finance', { groupTypes: ['DynamicMembership'] })]),
      );
      assert.equal(dynamic.code, 'EXEC.DYNAMIC_GROUP');
    });

    it('refuses an unknown licence part number, listing what the client has', () => {
      const error = refusal(request, { ...snapshot, skus: [E3] });
      assert.equal(error.code, 'EXEC.SKU_UNKNOWN');
      assert.match(error.message, /SPB.*ENTERPRISEPACK/);
    });

    it('refuses when the licence has no free seats, saying how to fix it', () => {
      const error = refusal(request, { ...snapshot, skus: [{ ...SPB, consumedUnits: 25 }] });
      assert.equal(error.code, 'EXEC.NO_FREE_SEATS');
      assert.equal(
        error.message,
        'Microsoft 365 Business Premium has no free seats (25 of 25 assigned): buy a seat or free one, then preview again.',
      );
    });

    it('notes when the last seat is taken', () => {
      const sut = plan(request, { ...snapshot, skus: [{ ...SPB, consumedUnits: 24 }] });
      assert.ok(sut.notes.some((n) => /no free seats left after this/.test(n)));
    });
  });

  describe('offboard', () => {
    const request = approved('offboard', {
      removeLicences: 'true',
      forwardMailTo: 'boss@contoso.example',
      delegateOneDriveTo: 'boss@contoso.example',
    });
    const leaver = user({
      assignedLicences: [{ skuId: 'sku-spb', disabledPlans: ['plan-x'] }],
      inheritedLicences: [{ skuId: 'sku-e3', groupId: 'g-all' }],
    });
    const snapshot: OffboardSnapshot = {
      type: 'offboard',
      user: leaver,
      memberOf: [
        group('g-fin', 'Finance'),
        group('g-team', 'Team', { groupTypes: ['Unified'], mailEnabled: true }),
        group('g-dyn', 'All Sales', { groupTypes: ['DynamicMembership'] }),
        group('g-dl', 'Newsletter', { mailEnabled: true, securityEnabled: false }),
        group('g-all', 'All staff'),
      ],
      ownerOf: [group('g-team', 'Team')],
      manager: user({ id: 'u-boss', displayName: 'Bea Boss' }),
      autoReply: {
        status: 'scheduled',
        externalAudience: 'contactsOnly',
        internalReplyMessage: 'On holiday',
        externalReplyMessage: 'On holiday',
        scheduledStart: '2026-11-01T00:00:00Z',
        scheduledEnd: '2026-11-10T00:00:00Z',
      },
      skus: [SPB, E3],
      licenceGroups: [group('g-all', 'All staff')],
    };

    it('follows the playbook order with independent steps in one wave and licences last', () => {
      const sut = plan(request, snapshot);
      assert.deepEqual(
        sut.steps.map((s) => [s.id, s.wave]),
        [
          ['block-sign-in', 0],
          ['revoke-sessions', 1],
          ['set-auto-reply', 2],
          ['leave-g-fin', 2],
          ['leave-g-team', 2],
          ['leave-g-all', 2],
          ['remove-manager', 2],
          ['remove-licences', 3],
        ],
      );
      assert.equal(sut.steps[sut.pointOfNoReturn]!.id, 'remove-licences');
      assert.equal(sut.subject.userId, 'u-leaver');
    });

    it('captures the prior state each compensation restores; revoking sessions has none', () => {
      const sut = plan(request, snapshot);
      const byId = new Map(sut.steps.map((s) => [s.id, s]));
      assert.equal(byId.get('revoke-sessions')!.compensation, undefined);
      assert.deepEqual(byId.get('block-sign-in')!.compensation, {
        kind: 'user.update',
        userId: 'u-leaver',
        changes: { accountEnabled: true },
      });
      const autoReply = byId.get('set-auto-reply')!;
      assert.deepEqual(autoReply.compensation, {
        kind: 'user.setAutoReply',
        userId: 'u-leaver',
        autoReply: snapshot.autoReply,
      });
      assert.deepEqual(autoReply.prior, { autoReply: snapshot.autoReply });
      assert.deepEqual(byId.get('remove-manager')!.compensation, {
        kind: 'user.setManager',
        userId: 'u-leaver',
        managerId: 'u-boss',
      });
      assert.deepEqual(byId.get('remove-licences')!.compensation, {
        kind: 'user.assignLicences',
        userId: 'u-leaver',
        add: [{ skuId: 'sku-spb', disabledPlans: ['plan-x'] }],
        remove: [],
      });
      assert.equal(byId.get('leave-g-fin')!.access?.change, 'revoked');
    });

    it('turns what Graph cannot do into checklist tasks, the mailbox conversion before the licences', () => {
      const sut = plan(request, snapshot);
      const items = new Map(sut.checklist.map((c) => [c.id, c]));
      assert.equal(items.get('convert-to-shared-mailbox')?.before, 'remove-licences');
      assert.ok(items.has('forward-mail'));
      assert.ok(items.has('hand-over-onedrive'));
      assert.match(items.get('leave-list-g-dl')!.title, /Newsletter/);
      assert.ok(sut.notes.some((n) => /All Sales: its membership follows a rule/.test(n)));
      assert.ok(sut.notes.some((n) => /owns Team/.test(n)));
      assert.ok(sut.notes.some((n) => /Office 365 E3 comes from All staff and goes/.test(n)));
    });

    it('keeps the groups the technician chose and can leave manager and licences alone', () => {
      const sut = plan(request, snapshot, {
        keepGroupIds: ['g-fin'],
        removeManager: false,
        removeLicences: false,
        autoReply: { enabled: false },
      });
      const ids = sut.steps.map((s) => s.id);
      assert.ok(!ids.includes('leave-g-fin'));
      assert.ok(!ids.includes('remove-manager'));
      assert.ok(!ids.includes('set-auto-reply'));
      assert.equal(sut.pointOfNoReturn, sut.steps.length);
      assert.equal(
        sut.checklist.find((c) => c.id === 'convert-to-shared-mailbox')?.before,
        undefined,
      );
      assert.ok(
        sut.notes.some((n) =>
          /Changed in the wizard from what was approved: remove licences \(yes → no\)\./.test(n),
        ),
      );
    });

    it('refuses a user who is not in the directory', () => {
      const error = refusal(request, { ...snapshot, user: undefined });
      assert.equal(error.code, 'EXEC.USER_NOT_FOUND');
      assert.match(error.message, /leaver@contoso.example/);
    });
  });

  describe('licence_change', () => {
    const request = approved('licence_change', { addSkus: 'SPB', removeSkus: 'ENTERPRISEPACK' });
    const jane = user({
      id: 'u-jane',
      userPrincipalName: 'jane.doe@contoso.example',
      displayName: 'Jane Doe',
      assignedLicences: [{ skuId: 'sku-e3', disabledPlans: [] }],
    });
    const snapshot: LicenceChangeSnapshot = {
      type: 'licence_change',
      user: jane,
      skus: [SPB, E3],
      licenceGroups: [],
    };

    it('adds before it removes, and the removal is the point of no return', () => {
      const sut = plan(request, snapshot);
      assert.deepEqual(
        sut.steps.map((s) => s.id),
        ['assign-licences', 'remove-licences'],
      );
      assert.equal(sut.pointOfNoReturn, 1);
    });

    it('refuses when there are no free seats', () => {
      const error = refusal(request, { ...snapshot, skus: [{ ...SPB, consumedUnits: 25 }, E3] });
      assert.equal(error.code, 'EXEC.NO_FREE_SEATS');
    });

    it('refuses without a usage location, or sets the one the wizard gives first', () => {
      const noLocation = {
        ...snapshot,
        user: { ...jane, usageLocation: undefined },
      } as LicenceChangeSnapshot;
      assert.equal(refusal(request, noLocation).code, 'EXEC.NO_USAGE_LOCATION');
      const sut = plan(request, noLocation, { usageLocation: 'de' });
      assert.deepEqual(sut.steps[0]!.forward, {
        kind: 'user.update',
        userId: 'u-jane',
        changes: { usageLocation: 'DE' },
      });
    });

    it('refuses to remove a licence inherited from a group, naming the group', () => {
      const inherited = {
        ...snapshot,
        user: {
          ...jane,
          assignedLicences: [],
          inheritedLicences: [{ skuId: 'sku-e3', groupId: 'g-all' }],
        },
        licenceGroups: [group('g-all', 'All staff')],
      };
      const error = refusal(request, inherited);
      assert.equal(error.code, 'EXEC.INHERITED_LICENCE');
      assert.match(error.message, /"All staff"/);
    });
  });

  describe('access_change', () => {
    const request = approved('access_change', { resource: 'Finance', accessLevel: 'owner' });
    const jane = user({
      id: 'u-jane',
      userPrincipalName: 'jane.doe@contoso.example',
      displayName: 'Jane Doe',
    });
    const snapshot: AccessChangeSnapshot = {
      type: 'access_change',
      user: jane,
      group: { name: 'Finance', matches: [group('g-fin', 'Finance')] },
      current: [],
    };

    it('records who gains what on the step', () => {
      const sut = plan(request, snapshot);
      assert.equal(sut.steps.length, 1);
      assert.deepEqual(sut.steps[0]!.forward, {
        kind: 'group.add',
        groupId: 'g-fin',
        userId: 'u-jane',
        relation: 'owner',
      });
      assert.deepEqual(sut.steps[0]!.access, {
        change: 'granted',
        resourceId: 'g-fin',
        resourceName: 'Finance',
        relation: 'owner',
        userId: 'u-jane',
        userPrincipalName: 'jane.doe@contoso.example',
      });
    });

    it('plans nothing, with a note, when the access is already there', () => {
      const sut = plan(request, { ...snapshot, current: [group('g-fin', 'Finance')] });
      assert.equal(sut.steps.length, 0);
      assert.ok(sut.notes.some((n) => /already an owner/.test(n)));
    });

    it('refuses dynamic groups and picks among same-named groups by id', () => {
      const dyn = {
        ...snapshot,
        group: {
          name: 'Finance',
          matches: [group('g-d', 'Finance', { groupTypes: ['DynamicMembership'] })],
        },
      };
      assert.equal(refusal(request, dyn).code, 'EXEC.DYNAMIC_GROUP');
      const two = {
        ...snapshot,
        group: { name: 'Finance', matches: [group('g-1', 'Finance'), group('g-2', 'Finance')] },
      };
      assert.equal(refusal(request, two).code, 'EXEC.GROUP_AMBIGUOUS');
    });
  });

  describe('wizard options', () => {
    it('are pre-filled from the request', () => {
      const request = approved('offboard', { forwardMailTo: 'boss@contoso.example' });
      const defaults = wizardDefaults(request);
      assert.equal(defaults['userPrincipalName'], 'leaver@contoso.example');
      assert.equal(defaults['convertToSharedMailbox'], true);
      assert.match(
        String((defaults['autoReply'] as { message: string }).message),
        /boss@contoso.example/,
      );
    });

    it('refuse offboarding someone other than the approved user', () => {
      const request = approved('offboard');
      const result = parseWizardOptions(request, { userPrincipalName: 'ceo@contoso.example' });
      assert.ok(!result.ok);
      assert.match(result.error.message, /must stay leaver@contoso.example/);
    });

    it('say which field is wrong', () => {
      const result = parseWizardOptions(approved('new_user'), {
        usageLocation: 'Britain',
        mailNickname: '.x',
      });
      assert.ok(!result.ok);
      assert.deepEqual(result.error.issues.map((i) => i.field).sort(), [
        'mailNickname',
        'usageLocation',
      ]);
    });
  });

  describe(planDigest.name, () => {
    const request = approved('access_change', { resource: 'Finance' });
    const snapshot: AccessChangeSnapshot = {
      type: 'access_change',
      user: user({ id: 'u-jane' }),
      group: { name: 'Finance', matches: [group('g-fin', 'Finance')] },
      current: [],
    };

    it('ignores wording but changes with any command', () => {
      const base = plan(request, snapshot);
      const reworded = {
        ...base,
        steps: base.steps.map((s) => ({ ...s, title: 'other words' })),
        notes: ['x'],
      };
      assert.equal(planDigest(reworded), planDigest(base));
      const otherGroup = plan(request, {
        ...snapshot,
        group: { name: 'Finance', matches: [group('g-2', 'Finance')] },
      });
      assert.notEqual(planDigest(otherGroup), planDigest(base));
      assert.match(planDigest(base), /^[0-9a-f]{64}$/);
    });
  });
});
