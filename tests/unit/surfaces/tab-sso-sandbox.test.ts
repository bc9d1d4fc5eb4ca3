import { strict as assert } from 'node:assert';
import type { Clock } from '../../../src/application/ports/clock';
import {
  TEAMS_CLIENT_IDS,
  UNCONSENTED_TENANT,
  type IssueUserTokenOptions,
  type RunningMicrosoftCloud,
} from '../../../src/sandbox/microsoft-cloud';
import { CONTOSO, MSP } from '../../../src/sandbox/sandbox-tenants';
import { TabTokenValidator, type TokenFailure } from '../../../src/surfaces/tab/sso-token';
import { startTestCloud } from '../../support/microsoft-cloud-fixture';
import { TAB_CLIENT_ID } from '../../support/tab-tokens';

/**
 * The validator against the sandbox cloud's own authority: its issuer format, its key set over
 * HTTPS signed by its local CA, and tokens from `issueUserToken`, so the sandbox sign-in and the
 * production rules cannot drift apart.
 */
describe(`${TabTokenValidator.name} with the sandbox cloud`, () => {
  let cloud: RunningMicrosoftCloud;
  let sut: TabTokenValidator;
  const clock: Clock = { now: () => new Date() };
  const served = new Set<string>([MSP.tenantId, CONTOSO.tenantId]);

  before(async function () {
    this.timeout(60_000);
    cloud = await startTestCloud({ port: 0 });
    sut = new TabTokenValidator({
      clientId: TAB_CLIENT_ID,
      authority: {
        jwksUri: (tid) => cloud.jwksUrl(tid),
        issuer: (tid, version) => cloud.sandboxIssuer(tid, version),
        ca: cloud.caCertificatePem,
      },
      tenantAllowed: (tid) => Promise.resolve(served.has(tid)),
      clock,
    });
  });
  after(() => cloud?.stop());

  const issue = (overrides: Partial<IssueUserTokenOptions> = {}) =>
    cloud.issueUserToken({
      tid: MSP.tina.tid,
      oid: MSP.tina.oid,
      name: MSP.tina.name,
      preferredUsername: MSP.tina.upn,
      audience: TAB_CLIENT_ID,
      scopes: ['access_as_user'],
      clientAppId: TEAMS_CLIENT_IDS.web,
      ...overrides,
    });

  it('accepts the token the sandbox issues for Tina', async () => {
    assert.deepEqual(await sut.validate(await issue()), {
      ok: true,
      value: { tid: MSP.tina.tid, oid: MSP.tina.oid, name: MSP.tina.name },
    });
  });

  it('refuses every bent token of the matrix', async () => {
    const matrix: [string, Partial<IssueUserTokenOptions>, TokenFailure][] = [
      ['wrong aud', { audience: 'api://elsewhere/another-app' }, 'wrong_audience'],
      ['iss tenant ≠ tid', { issuerTenantId: CONTOSO.tenantId }, 'wrong_issuer'],
      ['expired', { lifetimeSeconds: -600 }, 'expired'],
      ['unknown key', { signWithUnknownKey: true }, 'bad_signature'],
      // An ID token for Cabinet's own app: right audience, no delegated scope.
      ['ID token', { tokenUse: 'id', clientAppId: TAB_CLIENT_ID }, 'missing_scope'],
      ['missing access_as_user', { scopes: ['User.Read'] }, 'missing_scope'],
      [
        'non-Teams azp',
        { clientAppId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46' },
        'unauthorized_client',
      ],
      ['tid not onboarded', { tid: UNCONSENTED_TENANT.tenantId }, 'unknown_tenant'],
    ];
    for (const [name, overrides, reason] of matrix) {
      assert.deepEqual(
        await sut.validate(await issue(overrides)),
        { ok: false, error: reason },
        name,
      );
    }
  });
});
