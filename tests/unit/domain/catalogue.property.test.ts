import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  decideTemplate,
  effectiveStatus,
  newTemplate,
  proposeTemplate,
  recordRun,
  reenableTemplate,
  reviseTemplate,
  type TemplateActivation,
} from '../../../src/domain/catalogue/activation.policy';
import { matchActiveTemplate } from '../../../src/domain/catalogue/template-match.policy';
import { promotionSuggestion } from '../../../src/domain/catalogue/promotion.policy';
import {
  asTemplateId,
  validateTemplateContent,
  type StandardTemplate,
  type TemplateContent,
} from '../../../src/domain/catalogue/template';
import type { ChangeRequest } from '../../../src/domain/change-request/change-request';
import type { LicenceChangePayload } from '../../../src/domain/change-request/change-request.payloads';
import type { Person } from '../../../src/domain/shared/person';
import { contosoProfile, fabrikamProfile, people } from '../../support/fixtures';

const AT = '2026-11-23T09:00:00.000Z';
const ROLLBACK =
  'If the user cannot sign in within 10 minutes, the technician removes the added licence and ' +
  're-assigns the previous one, then verifies the user can sign in to Outlook (about 15 minutes).';
const SKUS = ['SPB', 'ENTERPRISEPACK', 'EXCHANGESTANDARD', 'POWER_BI_PRO', 'VISIOCLIENT'];
const contoso = contosoProfile();

function content(overrides: Partial<Record<string, unknown>> = {}): TemplateContent {
  const result = validateTemplateContent({
    name: 'Add Business Premium or Power BI',
    ranges: { type: 'licence_change', addSkus: ['SPB', 'POWER_BI_PRO'], removeSkus: ['SPB'] },
    implementationPlan: 'Assign the licence in Entra and confirm the user sees the apps.',
    rollbackPlan: ROLLBACK,
    ...overrides,
  });
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

const template = (c: TemplateContent = content()): StandardTemplate =>
  newTemplate(asTemplateId('licence-std')!, 'global', c, { by: people.lena, at: AT });

function active(t: StandardTemplate): TemplateActivation {
  const proposed = proposeTemplate(t, contoso, undefined, { by: people.lena, at: AT });
  assert.ok(proposed.ok);
  const approved = decideTemplate(
    t,
    proposed.value,
    contoso,
    { kind: 'approve', version: t.version },
    { by: people.andy, at: AT },
  );
  assert.ok(approved.ok, approved.ok ? '' : approved.error.message);
  return approved.value;
}

const licence = (addSkus: string[], removeSkus: string[]): LicenceChangePayload => ({
  userPrincipalName: 'jane@contoso.example',
  addSkus,
  removeSkus,
});

describe('standard-change catalogue', () => {
  describe(validateTemplateContent.name, () => {
    it('refuses a boilerplate rollback plan and says what a good plan names', () => {
      const result = validateTemplateContent({
        name: 'x licence',
        ranges: { type: 'licence_change', addSkus: ['SPB'], removeSkus: [] },
        implementationPlan: 'Assign it.',
        rollbackPlan: 'Revert changes if issues arise.',
      });
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'TEMPLATE.INVALID');
      assert.match(result.error.message, /rollbackPlan: .*good rollback plan/i);
    });

    it('refuses general and incident, which no range can bound', () => {
      for (const type of ['general', 'incident']) {
        const result = validateTemplateContent({ ...content(), ranges: { type } });
        assert.ok(!result.ok);
        assert.equal(result.error.code, 'TEMPLATE.TYPE_NOT_TEMPLATABLE');
      }
    });
  });

  describe(matchActiveTemplate.name, () => {
    it('matches exactly the licence changes inside the ranges, and says why others do not fit', () => {
      fc.assert(
        fc.property(
          fc.subarray(SKUS, { minLength: 1 }),
          fc.subarray(SKUS, { minLength: 0 }),
          fc.subarray(SKUS, { minLength: 0, maxLength: 2 }),
          fc.subarray(SKUS, { minLength: 0, maxLength: 2 }),
          (allowAdd, allowRemove, add, remove) => {
            const t = template(
              content({
                ranges: { type: 'licence_change', addSkus: allowAdd, removeSkus: allowRemove },
              }),
            );
            const match = matchActiveTemplate([{ template: t, activation: active(t) }], {
              type: 'licence_change',
              payload: licence(add, remove),
            });
            const inside =
              add.every((s) => allowAdd.includes(s)) &&
              remove.every((s) => allowRemove.includes(s));
            assert.equal(match.template !== undefined, inside);
            if (!inside) {
              assert.equal(match.misfits.length, 1);
              for (const sku of [...add.filter((s) => !allowAdd.includes(s))])
                assert.ok(match.misfits[0]!.reasons.some((r) => r.includes(sku)));
            }
          },
        ),
      );
    });

    it('never matches a template that is only proposed, suspended, withdrawn or of another type', () => {
      const t = template();
      const on = active(t);
      const payload = licence(['SPB'], []);
      for (const status of ['proposed', 'suspended', 'withdrawn'] as const) {
        const match = matchActiveTemplate([{ template: t, activation: { ...on, status } }], {
          type: 'licence_change',
          payload,
        });
        assert.equal(match.template, undefined);
      }
      assert.equal(
        matchActiveTemplate([{ template: t, activation: on }], {
          type: 'offboard',
          payload: {
            userPrincipalName: 'a@b.example',
            lastWorkingDay: '2026-12-01',
            convertToSharedMailbox: false,
            removeLicences: true,
          },
        }).template,
        undefined,
      );
    });

    it('bounds access grants by resource, level and duration', () => {
      const t = template(
        content({
          ranges: {
            type: 'access_change',
            actions: ['grant'],
            resources: ['Finance Share'],
            accessLevels: ['read'],
            maxDays: 30,
          },
        }),
      );
      const entry = { template: t, activation: active(t) };
      const grant = (until: string | undefined, resource = 'finance share') => ({
        type: 'access_change' as const,
        today: '2026-11-23',
        payload: {
          userPrincipalName: 'a@contoso.example',
          action: 'grant' as const,
          resource,
          accessLevel: 'read' as const,
          ...(until ? { until } : {}),
        },
      });
      assert.ok(matchActiveTemplate([entry], grant('2026-12-20')).template);
      const tooLong = matchActiveTemplate([entry], grant('2027-02-01'));
      assert.match(tooLong.misfits[0]!.reasons.join(), /longer than the 30 days/);
      assert.match(
        matchActiveTemplate([entry], grant(undefined)).misfits[0]!.reasons.join(),
        /until/,
      );
      assert.match(
        matchActiveTemplate([entry], grant('2026-12-01', 'Payroll')).misfits[0]!.reasons.join(),
        /resource Payroll is not in the template/,
      );
    });
  });

  describe(reviseTemplate.name, () => {
    it('bumps the version and puts every approval back to proposed, so nothing matches until re-approved', () => {
      fc.assert(
        fc.property(fc.subarray(SKUS, { minLength: 1 }), fc.nat({ max: 5 }), (skus, runs) => {
          const t = template();
          const on = { ...active(t), successfulRuns: runs };
          const revised = reviseTemplate(
            t,
            content({ ranges: { type: 'licence_change', addSkus: skus, removeSkus: ['VISIO'] } }),
            [on],
            { by: people.lena, at: AT },
          );
          assert.ok(revised.ok);
          assert.equal(revised.value.template.version, t.version + 1);
          for (const a of revised.value.activations) {
            assert.equal(a.status, 'proposed');
            assert.equal(a.templateVersion, t.version + 1);
            assert.equal(a.approvedBy, undefined);
            assert.equal(a.successfulRuns, runs);
          }
          // Even an activation row not yet rewritten stops counting once the template moved on.
          assert.equal(effectiveStatus(revised.value.template, on), 'proposed');
          assert.equal(
            matchActiveTemplate([{ template: revised.value.template, activation: on }], {
              type: 'licence_change',
              payload: licence([skus[0]!], []),
            }).template,
            undefined,
          );
        }),
      );
    });

    it('refuses an edit that changes nothing', () => {
      const t = template();
      const result = reviseTemplate(t, content(), [], { by: people.lena, at: AT });
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'TEMPLATE.UNCHANGED');
    });
  });

  describe(decideTemplate.name, () => {
    const everyone: Person[] = Object.values(people);
    it('activates only for one of that client’s own approvers, never MSP staff or other tenants', () => {
      fc.assert(
        fc.property(fc.constantFrom(...everyone), fc.boolean(), (who, listStaffAsApprover) => {
          const client = listStaffAsApprover
            ? contosoProfile({ approvers: [people.andy, people.avery, people.tina, people.lena] })
            : contoso;
          const t = template();
          const proposed = proposeTemplate(t, client, undefined, { by: people.lena, at: AT });
          assert.ok(proposed.ok);
          const result = decideTemplate(
            t,
            proposed.value,
            client,
            { kind: 'approve', version: 1 },
            { by: who, at: AT },
          );
          const isApprover = who === people.andy || who === people.avery;
          assert.equal(result.ok, isApprover, `${who.name}`);
          if (!result.ok) assert.equal(result.error.code, 'TEMPLATE.NOT_CLIENT_APPROVER');
          else assert.equal(result.value.status, 'active');
        }),
      );
    });

    it('refuses a decision on an older version of the template', () => {
      const t = template();
      const proposed = proposeTemplate(t, contoso, undefined, { by: people.lena, at: AT });
      assert.ok(proposed.ok);
      const result = decideTemplate(
        { ...t, version: 2 },
        proposed.value,
        contoso,
        { kind: 'approve', version: 1 },
        { by: people.andy, at: AT },
      );
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'TEMPLATE.STALE_VERSION');
    });

    it('lets only leads propose, and a client template only to its own client', () => {
      const t = template();
      const byTech = proposeTemplate(t, contoso, undefined, { by: people.tina, at: AT });
      assert.ok(!byTech.ok);
      assert.equal(byTech.error.code, 'TEMPLATE.NOT_LEAD');
      const own = { ...t, scope: contoso.tenantId };
      const elsewhere = proposeTemplate(own, fabrikamProfile(), undefined, {
        by: people.lena,
        at: AT,
      });
      assert.ok(!elsewhere.ok);
      assert.equal(elsewhere.error.code, 'TEMPLATE.WRONG_CLIENT');
    });
  });

  describe(recordRun.name, () => {
    it('suspends on a failure until a lead re-enables it', () => {
      const t = template();
      const suspended = recordRun(active(t), 'failed', AT, 'Licence assignment failed');
      assert.equal(suspended.status, 'suspended');
      assert.equal(suspended.failedRuns, 1);
      const byApprover = reenableTemplate(t, suspended, contoso, 'checked the seat count', {
        by: people.andy,
        at: AT,
      });
      assert.ok(!byApprover.ok);
      assert.equal(byApprover.error.code, 'TEMPLATE.NOT_LEAD');
      const byLead = reenableTemplate(t, suspended, contoso, 'bought more seats', {
        by: people.lena,
        at: AT,
      });
      assert.ok(byLead.ok);
      assert.equal(byLead.value.status, 'active');
      assert.equal(byLead.value.suspendedReason, undefined);
    });
  });

  describe(promotionSuggestion.name, () => {
    const closed = (n: number, add: string[], extra: Partial<ChangeRequest> = {}) =>
      ({
        id: `CONTOSO-${n}`,
        number: n,
        type: 'licence_change',
        changeClass: 'normal',
        status: 'closed',
        payload: licence(add, []),
        closure: { outcome: 'successful', notes: '', by: people.tina, at: AT },
        ...extra,
      }) as unknown as ChangeRequest;

    it('suggests a shape after N successes, never when one of that shape failed', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 9 }), fc.boolean(), (count, oneFailed) => {
          const history = Array.from({ length: count }, (_, i) => closed(i + 1, ['SPB']));
          if (oneFailed)
            history.push(
              closed(50, ['SPB'], {
                closure: { outcome: 'failed', notes: '', by: people.tina, at: AT },
              }),
            );
          history.push(closed(60, ['VISIOCLIENT']));
          const suggestions = promotionSuggestion(history);
          const expected = count >= 5 && !oneFailed;
          assert.equal(suggestions.length, expected ? 1 : 0);
          if (expected) {
            assert.equal(suggestions[0]!.requestIds.length, count);
            assert.deepEqual(suggestions[0]!.draft.ranges, {
              type: 'licence_change',
              addSkus: ['SPB'],
              removeSkus: [],
            });
          }
        }),
      );
    });

    it('suggests at once when a review says it should become standard, unless a template covers it', () => {
      const reviewed = closed(1, ['SPB'], {
        review: {
          objectiveAchieved: 'yes',
          outcome: 'successful',
          becomeStandard: true,
          becomeStandardNote: 'repeats weekly',
          by: people.tina,
          at: AT,
        },
      });
      assert.equal(promotionSuggestion([reviewed])[0]?.because, 'review');
      assert.deepEqual(promotionSuggestion([reviewed], { templates: [template()] }), []);
    });
  });
});
