import { AuthError, ServerError } from '@azure/msal-node';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { Agent, fetch } from 'undici';
import {
  SANDBOX_APP_ROLES,
  SANDBOX_DIRECTORY,
  startMicrosoftCloud,
  TEAMS_CLIENT_IDS,
  UNCONSENTED_TENANT,
  type RunningMicrosoftCloud,
} from '../../src/sandbox/microsoft-cloud';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { confidentialClientFor, startTestCloud } from '../support/microsoft-cloud-fixture';

const GRAPH_SCOPE = ['https://graph.microsoft.com/.default'];
const TAB_AUDIENCE = 'api://localhost/cab1e700-0000-4000-8000-0000000000b2';

describe('Sandbox Microsoft cloud: authority', () => {
  let cloud: RunningMicrosoftCloud;

  before(async () => {
    cloud = await startTestCloud();
  });

  after(async () => {
    await cloud.stop();
  });

  const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    return assert.fail('expected a rejection');
  };

  const jwks = () =>
    createRemoteJWKSet(new URL(cloud.jwksUrl(CONTOSO.tenantId)), {
      agent: new HttpsAgent({ ca: cloud.caCertificatePem }),
    });

  it('issues each client tenant a Graph app token through the real MSAL Node', async () => {
    const cca = confidentialClientFor(cloud);
    for (const tenantId of [CONTOSO.tenantId, FABRIKAM.tenantId]) {
      const result = await cca.acquireTokenByClientCredential({
        authority: cloud.authorityFor(tenantId),
        scopes: GRAPH_SCOPE,
      });
      assert.ok(result);
      const claims = decodeJwt(result.accessToken);
      assert.equal(claims.aud, 'https://graph.microsoft.com');
      assert.equal(claims.iss, `https://sts.windows.net/${tenantId}/`);
      assert.equal(claims['tid'], tenantId);
      assert.equal(claims['appid'], cloud.app.clientId);
      assert.equal(claims['azp'], cloud.app.clientId);
      assert.equal(claims['idtyp'], 'app');
      assert.deepEqual(claims['roles'], [...SANDBOX_APP_ROLES]);
      assert.ok(decodeProtectedHeader(result.accessToken).kid);
      await jwtVerify(result.accessToken, jwks());
    }
  });

  it('answers an unknown tenant with AADSTS90002, which MSAL reports as an auth error', async () => {
    const error = await rejection(
      confidentialClientFor(cloud).acquireTokenByClientCredential({
        authority: cloud.authorityFor('00000000-0000-4000-8000-00000000dead'),
        scopes: GRAPH_SCOPE,
      }),
    );
    assert.ok(error instanceof AuthError, String(error));
    const raw = await postToken('00000000-0000-4000-8000-00000000dead', {
      grant_type: 'client_credentials',
      client_id: cloud.app.clientId,
      client_secret: cloud.app.clientSecret,
      scope: GRAPH_SCOPE[0]!,
    });
    assert.equal(raw.status, 400);
    assert.deepEqual(raw.body.error_codes, [90002]);
  });

  it('refuses a tenant that has not consented to the app with AADSTS700016', async () => {
    const error = await rejection(
      confidentialClientFor(cloud).acquireTokenByClientCredential({
        authority: cloud.authorityFor(UNCONSENTED_TENANT.tenantId),
        scopes: GRAPH_SCOPE,
      }),
    );
    assert.ok(error instanceof ServerError, String(error));
    assert.equal(error.errorCode, 'unauthorized_client');
    assert.match(error.errorMessage, /AADSTS700016/);
  });

  it('refuses a wrong client secret with AADSTS7000215', async () => {
    const error = await rejection(
      confidentialClientFor(cloud, {
        clientSecret: 'not-the-secret',
      }).acquireTokenByClientCredential({
        authority: cloud.authorityFor(CONTOSO.tenantId),
        scopes: GRAPH_SCOPE,
      }),
    );
    assert.ok(error instanceof ServerError, String(error));
    assert.equal(error.errorCode, 'invalid_client');
    assert.match(error.errorMessage, /AADSTS7000215/);
  });

  it('requires grant_type (AADSTS900144) and counts token requests per tenant', async () => {
    const before = cloud.tenant(CONTOSO.tenantId).counters().tokenRequests;
    const raw = await postToken(CONTOSO.tenantId, { client_id: cloud.app.clientId });
    assert.equal(raw.status, 400);
    assert.equal(raw.body.error, 'invalid_request');
    assert.deepEqual(raw.body.error_codes, [900144]);
    assert.match(String(raw.body.error_description), /'grant_type'/);
    assert.equal(cloud.tenant(CONTOSO.tenantId).counters().tokenRequests, before + 1);
  });

  it('gives the MSP tenant a token without Graph roles', async () => {
    const result = await confidentialClientFor(cloud).acquireTokenByClientCredential({
      authority: cloud.authorityFor(MSP.tenantId),
      scopes: GRAPH_SCOPE,
    });
    assert.equal(decodeJwt(result!.accessToken)['roles'], undefined);
  });

  describe('user tokens for tab SSO', () => {
    const tina = MSP.tina;
    const base = {
      tid: tina.tid,
      oid: tina.oid,
      name: tina.name,
      preferredUsername: tina.upn,
      audience: TAB_AUDIENCE,
      scopes: ['access_as_user'],
      clientAppId: TEAMS_CLIENT_IDS.web,
    };

    it('signs v2 access tokens with the published key and the sandbox issuer', async () => {
      const token = await cloud.issueUserToken(base);
      const { payload } = await jwtVerify(token, jwks(), {
        issuer: cloud.sandboxIssuer(tina.tid),
        audience: TAB_AUDIENCE,
      });
      assert.equal(cloud.sandboxIssuer(tina.tid), `${cloud.url}/${tina.tid}/v2.0`);
      assert.equal(payload['tid'], tina.tid);
      assert.equal(payload['oid'], tina.oid);
      assert.equal(payload['name'], tina.name);
      assert.equal(payload['preferred_username'], tina.upn);
      assert.equal(payload['scp'], 'access_as_user');
      assert.equal(payload['azp'], TEAMS_CLIENT_IDS.web);
      assert.equal(payload['ver'], '2.0');
    });

    it('bends every claim a validator checks', async () => {
      const otherTenant = await cloud.issueUserToken({ ...base, issuerTenantId: CONTOSO.tenantId });
      assert.equal(decodeJwt(otherTenant).iss, cloud.sandboxIssuer(CONTOSO.tenantId));
      assert.equal(decodeJwt(otherTenant)['tid'], tina.tid);

      const expired = await cloud.issueUserToken({
        ...base,
        issuedAt: new Date(Date.now() - 2 * 3600_000),
      });
      await assert.rejects(jwtVerify(expired, jwks()), { code: 'ERR_JWT_EXPIRED' });

      const unknownKey = await cloud.issueUserToken({ ...base, signWithUnknownKey: true });
      await assert.rejects(jwtVerify(unknownKey, jwks()), { code: 'ERR_JWKS_NO_MATCHING_KEY' });

      const idToken = decodeJwt(await cloud.issueUserToken({ ...base, tokenUse: 'id' }));
      assert.equal(idToken['scp'], undefined);
      assert.equal(idToken.aud, TEAMS_CLIENT_IDS.web);

      const v1 = decodeJwt(await cloud.issueUserToken({ ...base, version: '1.0' }));
      assert.equal(v1.iss, `https://sts.windows.net/${tina.tid}/`);
      assert.equal(v1['appid'], TEAMS_CLIENT_IDS.web);
      assert.equal(v1['upn'], tina.upn);
    });
  });

  async function postToken(
    tenant: string,
    form: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${cloud.authorityFor(tenant)}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      dispatcher: new Agent({ connect: { ca: cloud.caCertificatePem } }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
});

describe('Sandbox Microsoft cloud: certificates', () => {
  let certDir: string;

  before(() => {
    certDir = mkdtempSync(join(tmpdir(), 'cabinet-cloud-certs-'));
  });

  after(() => {
    rmSync(certDir, { recursive: true, force: true });
  });

  it('creates the CA once, keeps it across starts and renews an expiring server certificate', async () => {
    const first = await startMicrosoftCloud({ certDir });
    await first.stop();
    for (const key of ['ca.key.pem', 'server.key.pem', 'token-signing.key.pem'])
      assert.equal(statSync(join(certDir, key)).mode & 0o777, 0o600, key);

    const second = await startMicrosoftCloud({ certDir });
    await second.stop();
    assert.equal(second.caCertificatePem, first.caCertificatePem);
    assert.equal(second.caCertificatePath, join(certDir, 'ca.crt.pem'));

    const server = () => statSync(join(certDir, 'server.crt.pem')).mtimeMs;
    const serverBefore = server();
    const nextYear = new Date(Date.now() + 400 * 24 * 3600_000);
    const later = await startMicrosoftCloud({ certDir, now: () => nextYear });
    await later.stop();
    assert.equal(later.caCertificatePem, first.caCertificatePem);
    assert.notEqual(server(), serverBefore);
  });

  it('serves a certificate the CA vouches for, for localhost and 127.0.0.1', async () => {
    const cloud = await startMicrosoftCloud({ certDir });
    try {
      const dispatcher = new Agent({ connect: { ca: cloud.caCertificatePem } });
      for (const host of ['localhost', '127.0.0.1']) {
        const response = await fetch(`https://${host}:${cloud.port}/common/discovery/instance`, {
          dispatcher,
        });
        assert.equal(response.status, 200);
        await response.body?.cancel();
      }
    } finally {
      await cloud.stop();
    }
  });

  it('exports the seeded tenants by name', () => {
    assert.equal(SANDBOX_DIRECTORY.contoso.users.carla.userPrincipalName, CONTOSO.carla.upn);
    assert.equal(SANDBOX_DIRECTORY.fabrikam.users.frank.id, FABRIKAM.frank.oid);
  });
});
