import assert from 'node:assert/strict';
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomUUID,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose';
import { Agent, fetch } from 'undici';
import {
  createGraphDirectory,
  type GraphTenantDirectory,
} from '../../src/adapters/graph/graph-tenant-directory';
import type { GraphAppCredential } from '../../src/adapters/graph/msal-token-provider';
import { createTableStorage } from '../../src/adapters/storage/table-storage';
import { DirectoryError } from '../../src/application/ports/tenant-directory';
import { decideApproval } from '../../src/application/use-cases/decide-approval';
import { submitChange } from '../../src/application/use-cases/submit-change';
import { loadConfig, type Config } from '../../src/config';
import { isFinal, type RunId, type RunStatus } from '../../src/domain/execution/execution-run';
import { startCabinet } from '../../src/main';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import {
  SANDBOX_APP_ROLES,
  SANDBOX_DIRECTORY,
  startMicrosoftCloud,
  type RunningMicrosoftCloud,
} from '../../src/sandbox/microsoft-cloud';
import { CONTOSO, FABRIKAM, MSP } from '../../src/sandbox/sandbox-tenants';
import { sendToApprovers, takeChangesAnyTime } from '../support/approval-flow';
import { uniquePrefix, useAzurite } from '../support/azurite-fixture';
import { asPerson } from '../support/fixtures';
import { startTestCloud } from '../support/microsoft-cloud-fixture';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CONTOSO_ID = CONTOSO.tenantId;
const FABRIKAM_ID = FABRIKAM.tenantId;
const { users: contoso } = SANDBOX_DIRECTORY.contoso;
const { users: fabrikam } = SANDBOX_DIRECTORY.fabrikam;

/** The real MSAL Node with a certificate credential, aimed at the sandbox authority. */
function certificateClient(
  cloud: RunningMicrosoftCloud,
  certificate: { thumbprint: string } | { thumbprintSha256: string },
  privateKey = cloud.app.certificate.privateKeyPem,
): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: cloud.app.clientId,
      clientCertificate: { ...certificate, privateKey },
      authority: `${cloud.url}/organizations`,
      knownAuthorities: [new URL(cloud.url).host],
    },
    system: { customAgentOptions: { ca: cloud.caCertificatePem } },
  });
}

function openDirectory(
  cloud: RunningMicrosoftCloud,
  credential: Partial<Extract<GraphAppCredential, { kind: 'certificate' }>> = {},
): GraphTenantDirectory {
  return createGraphDirectory({
    clientId: cloud.app.clientId,
    credential: {
      kind: 'certificate',
      thumbprint: cloud.app.certificate.thumbprint,
      privateKeyPem: cloud.app.certificate.privateKeyPem,
      ...credential,
    },
    cloud: { kind: 'sandbox', url: cloud.url, caCertificatePem: cloud.caCertificatePem },
    sleep: () => Promise.resolve(),
  });
}

async function directoryError(promise: Promise<unknown>): Promise<DirectoryError> {
  try {
    await promise;
  } catch (error: unknown) {
    assert.ok(error instanceof DirectoryError, String(error));
    return error;
  }
  assert.fail('expected a DirectoryError');
}

function anotherRsaKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

describe('Graph app certificate credential', function () {
  this.timeout(60_000);

  describe('the sandbox authority', () => {
    let cloud: RunningMicrosoftCloud;
    let appKey: KeyObject;
    before(async () => {
      cloud = await startTestCloud();
      appKey = createPrivateKey(cloud.app.certificate.privateKeyPem);
    });
    after(async () => {
      await cloud.stop();
    });

    const tokenEndpoint = (tenantId: string) => `${cloud.authorityFor(tenantId)}/oauth2/v2.0/token`;
    const x5t = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

    /** A client assertion as MSAL signs it (RS256, `x5t`), with any header field or claim bent. */
    async function assertion(
      tenantId: string,
      bend: {
        readonly key?: KeyObject;
        readonly header?: Record<string, unknown>;
        readonly claims?: JWTPayload;
      } = {},
    ): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        aud: tokenEndpoint(tenantId),
        iss: cloud.app.clientId,
        sub: cloud.app.clientId,
        jti: randomUUID(),
        nbf: now,
        exp: now + 600,
        ...bend.claims,
      };
      return new SignJWT(claims)
        .setProtectedHeader({
          alg: 'RS256',
          typ: 'JWT',
          x5t: x5t(cloud.app.certificate.thumbprint),
          ...bend.header,
        })
        .sign(bend.key ?? appKey);
    }

    async function postToken(
      tenantId: string,
      clientAssertion: string,
      form: Record<string, string> = {},
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      const response = await fetch(tokenEndpoint(tenantId), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: cloud.app.clientId,
          scope: GRAPH_SCOPE,
          client_assertion_type: JWT_BEARER,
          client_assertion: clientAssertion,
          ...form,
        }).toString(),
        dispatcher: new Agent({ connect: { ca: cloud.caCertificatePem } }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    const refusedAs = (
      answer: { status: number; body: Record<string, unknown> },
      error: string,
      code: number,
    ) => {
      assert.equal(answer.status, error === 'invalid_client' ? 401 : 400, JSON.stringify(answer));
      assert.equal(answer.body['error'], error);
      assert.deepEqual(answer.body['error_codes'], [code]);
      return String(answer.body['error_description']);
    };

    it('registers a certificate on the app whose thumbprints are its SHA-1 and SHA-256', () => {
      const { thumbprint, thumbprintSha256, certificatePem, privateKeyPem } = cloud.app.certificate;
      const certificate = new X509Certificate(certificatePem);
      assert.equal(thumbprint, certificate.fingerprint.replaceAll(':', ''));
      assert.equal(thumbprintSha256, certificate.fingerprint256.replaceAll(':', ''));
      assert.ok(certificate.checkPrivateKey(createPrivateKey(privateKeyPem)));
    });

    for (const [what, certificate] of [
      ['SHA-1 thumbprint (RS256, x5t)', () => ({ thumbprint: cloud.app.certificate.thumbprint })],
      [
        'SHA-256 thumbprint (PS256, x5t#S256)',
        () => ({ thumbprintSha256: cloud.app.certificate.thumbprintSha256 }),
      ],
    ] as const)
      it(`issues each client tenant a token to the real MSAL Node signing with the ${what}`, async () => {
        const cca = certificateClient(cloud, certificate());
        for (const tenantId of [CONTOSO.tenantId, FABRIKAM.tenantId]) {
          const result = await cca.acquireTokenByClientCredential({
            authority: cloud.authorityFor(tenantId),
            scopes: [GRAPH_SCOPE],
          });
          assert.ok(result);
          const claims = decodeJwt(result.accessToken);
          assert.equal(claims['tid'], tenantId);
          assert.equal(claims['appid'], cloud.app.clientId);
          assert.deepEqual(claims['roles'], [...SANDBOX_APP_ROLES]);
        }
      });

    it('accepts an RS256 or PS256 assertion naming the key by x5t or x5t#S256', async () => {
      const { thumbprint, thumbprintSha256 } = cloud.app.certificate;
      for (const header of [
        { alg: 'RS256', x5t: x5t(thumbprint) },
        { alg: 'PS256', x5t: undefined, 'x5t#S256': x5t(thumbprintSha256) },
        { alg: 'RS256', x5t: undefined, 'x5t#S256': x5t(thumbprintSha256) },
      ]) {
        const signed = await assertion(CONTOSO.tenantId, { header });
        assert.equal(decodeProtectedHeader(signed).alg, header.alg);
        const answer = await postToken(CONTOSO.tenantId, signed);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
      }
    });

    it('refuses a thumbprint the app does not have with AADSTS700027 (key not found)', async () => {
      const unknown = 'AB'.repeat(20);
      const description = refusedAs(
        await postToken(
          CONTOSO.tenantId,
          await assertion(CONTOSO.tenantId, { header: { x5t: x5t(unknown) } }),
        ),
        'invalid_client',
        700027,
      );
      assert.match(description, /not registered on application/);
      assert.match(description, /The key was not found/);
      assert.ok(description.includes(unknown), description);
      refusedAs(
        await postToken(
          CONTOSO.tenantId,
          await assertion(CONTOSO.tenantId, { header: { x5t: undefined } }),
        ),
        'invalid_client',
        700027,
      );
    });

    it('refuses an assertion signed with another key under the registered thumbprint (AADSTS700027)', async () => {
      const other = createPrivateKey(anotherRsaKeyPem());
      const description = refusedAs(
        await postToken(CONTOSO.tenantId, await assertion(CONTOSO.tenantId, { key: other })),
        'invalid_client',
        700027,
      );
      assert.match(description, /Client assertion contains an invalid signature/);
      assert.ok(description.includes(cloud.app.certificate.thumbprint), description);
    });

    it('refuses an expired assertion, and one not yet valid, with AADSTS700024', async () => {
      const hourAgo = Math.floor(Date.now() / 1000) - 3600;
      const expired = refusedAs(
        await postToken(
          CONTOSO.tenantId,
          await assertion(CONTOSO.tenantId, { claims: { nbf: hourAgo - 600, exp: hourAgo } }),
        ),
        'invalid_client',
        700024,
      );
      assert.match(expired, /not within its valid time range/);
      const inAnHour = Math.floor(Date.now() / 1000) + 3600;
      refusedAs(
        await postToken(
          CONTOSO.tenantId,
          await assertion(CONTOSO.tenantId, { claims: { nbf: inAnHour, exp: inAnHour + 600 } }),
        ),
        'invalid_client',
        700024,
      );
    });

    it("refuses an assertion addressed to another tenant's token endpoint with AADSTS700023", async () => {
      const description = refusedAs(
        await postToken(
          FABRIKAM.tenantId,
          await assertion(FABRIKAM.tenantId, { claims: { aud: tokenEndpoint(CONTOSO.tenantId) } }),
        ),
        'invalid_client',
        700023,
      );
      assert.match(description, /audience claim does not match/);
    });

    it('refuses iss or sub other than the client id with AADSTS700021, and a missing jti with AADSTS50027', async () => {
      const stranger = '00000000-0000-4000-8000-0000000000ff';
      for (const claims of [{ iss: stranger }, { sub: stranger }])
        refusedAs(
          await postToken(CONTOSO.tenantId, await assertion(CONTOSO.tenantId, { claims })),
          'invalid_client',
          700021,
        );
      refusedAs(
        await postToken(
          CONTOSO.tenantId,
          await assertion(CONTOSO.tenantId, { claims: { jti: undefined } }),
        ),
        'invalid_client',
        50027,
      );
      refusedAs(
        await postToken(CONTOSO.tenantId, await assertion(CONTOSO.tenantId), {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
        }),
        'invalid_request',
        900144,
      );
    });

    it('refuses an assertion that already bought a token, but not one whose request was refused', async () => {
      const once = await assertion(CONTOSO.tenantId);
      refusedAs(
        await postToken(CONTOSO.tenantId, once, { scope: 'https://example.test/.default' }),
        'invalid_resource',
        500011,
      );
      assert.equal((await postToken(CONTOSO.tenantId, once)).status, 200);
      const replay = refusedAs(await postToken(CONTOSO.tenantId, once), 'invalid_client', 50013);
      assert.match(replay, /already used/);
    });
  });

  describe('the registered certificate', () => {
    let certDir: string;
    before(() => {
      certDir = mkdtempSync(join(tmpdir(), 'cabinet-app-cert-'));
    });
    after(() => {
      rmSync(certDir, { recursive: true, force: true });
    });

    it('is made on first start, kept across starts, and refused once it has expired', async () => {
      let now = new Date();
      const first = await startMicrosoftCloud({ certDir, now: () => now });
      const second = await startMicrosoftCloud({ certDir, now: () => now });
      try {
        assert.deepEqual(second.app.certificate, first.app.certificate);
        assert.equal(statSync(join(certDir, 'graph-app.key.pem')).mode & 0o777, 0o600);
        const directory = openDirectory(second);
        try {
          now = new Date(Date.now() + 400 * 24 * 3600_000);
          const error = await directoryError(directory.findUser(CONTOSO_ID, contoso.sam.id));
          assert.equal(error.failure.code, 'AADSTS700027');
          assert.equal(error.failure.retryable, false);
          assert.match(error.failure.message, /has expired\. Renew it/);
          assert.ok(error.failure.message.includes(second.app.certificate.thumbprint));
        } finally {
          await directory.close();
        }
      } finally {
        await Promise.all([first.stop(), second.stop()]);
      }
      const renewed = await startMicrosoftCloud({ certDir, now: () => now });
      await renewed.stop();
      assert.notEqual(renewed.app.certificate.thumbprint, first.app.certificate.thumbprint);
    });
  });

  describe('the Graph adapter', () => {
    let cloud: RunningMicrosoftCloud;
    before(async () => {
      cloud = await startTestCloud();
    });
    after(async () => {
      await cloud.stop();
    });

    it('reads and writes in each client tenant with the certificate', async () => {
      for (const thumbprint of [
        cloud.app.certificate.thumbprint,
        cloud.app.certificate.thumbprintSha256,
      ]) {
        const directory = openDirectory(cloud, { thumbprint });
        try {
          for (const [tenantId, userId, location] of [
            [CONTOSO_ID, contoso.sam.id, thumbprint.length === 40 ? 'IE' : 'FR'],
            [FABRIKAM_ID, fabrikam.gail.id, thumbprint.length === 40 ? 'CA' : 'MX'],
          ] as const) {
            assert.equal((await directory.findUser(tenantId, userId))?.id, userId);
            const [outcome] = await directory.perform(
              tenantId,
              [{ kind: 'user.update', userId, changes: { usageLocation: location } }],
              { together: true },
            );
            assert.deepEqual(outcome, { ok: true });
            assert.equal(cloud.tenant(tenantId).user(userId)?.usageLocation, location);
          }
        } finally {
          await directory.close();
        }
      }
    });

    it('tells the MSP to upload the certificate when its thumbprint is not registered', async () => {
      const unknown = createHash('sha1').update('not registered').digest('hex');
      const directory = openDirectory(cloud, { thumbprint: unknown });
      try {
        const error = await directoryError(directory.findUser(CONTOSO_ID, contoso.sam.id));
        assert.equal(error.failure.reason, 'forbidden');
        assert.equal(error.failure.code, 'AADSTS700027');
        assert.equal(error.failure.retryable, false);
        assert.match(
          error.failure.message,
          /is not registered on the app\. Upload the certificate/,
        );
        assert.ok(error.failure.message.includes(unknown.toUpperCase()), error.failure.message);
      } finally {
        await directory.close();
      }
    });

    it('tells the MSP the private key is not the certificate’s when it signs with another key', async () => {
      const directory = openDirectory(cloud, { privateKeyPem: anotherRsaKeyPem() });
      try {
        const [outcome] = await directory.perform(
          CONTOSO_ID,
          [{ kind: 'user.revokeSessions', userId: contoso.sam.id }],
          { together: true },
        );
        assert.ok(outcome && !outcome.ok);
        assert.equal(outcome.failure.code, 'AADSTS700027');
        assert.match(outcome.failure.message, /private key Cabinet signs with is not the key of/);
        assert.match(outcome.failure.message, /CABINET_GRAPH_CERTIFICATE_PRIVATE_KEY/);
      } finally {
        await directory.close();
      }
    });

    it('refuses a private key it cannot sign with before any request', () => {
      const before = cloud.tenant(CONTOSO_ID).counters().tokenRequests;
      const escaped = cloud.app.certificate.privateKeyPem.replaceAll('\n', '\\n');
      assert.throws(() => openDirectory(cloud, { privateKeyPem: escaped }), /cannot be read/);
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      assert.throws(() => openDirectory(cloud, { privateKeyPem: ec }), /signed with RSA/);
      assert.equal(cloud.tenant(CONTOSO_ID).counters().tokenRequests, before);
    });
  });

  describe('Cabinet started in sandbox mode with a certificate and no secret', () => {
    const azurite = useAzurite();
    let cloud: RunningMicrosoftCloud;
    let cabinet: RunningCabinet | undefined;
    let prefix: string;

    before(async () => {
      cloud = await startTestCloud();
      prefix = uniquePrefix();
      const base = loadConfig({
        CABINET_MODE: 'sandbox',
        PORT: '0',
        CABINET_STORAGE_CONNECTION_STRING: azurite.connectionString,
        CABINET_TABLE_PREFIX: prefix,
        CABINET_RELAY_INTERVAL_MS: '100',
      });
      const config: Config = {
        ...base,
        graph: {
          clientId: cloud.app.clientId,
          certificateThumbprint: cloud.app.certificate.thumbprint,
          certificatePrivateKey: cloud.app.certificate.privateKeyPem,
          sandboxCloud: { url: cloud.url, caCertificatePem: cloud.caCertificatePem },
        },
      };
      cabinet = await startCabinet(config, { log: () => undefined, sandbox: { cloud } });
    });

    after(async () => {
      await cabinet?.stop();
      await cloud?.stop();
    });

    it('previews and executes a new user in the client tenant', async () => {
      const storage = createTableStorage({
        connectionString: azurite.connectionString,
        tablePrefix: prefix,
      });
      const deps = {
        requests: storage.requests,
        audit: storage.audit,
        clients: storage.clients,
        conversations: storage.conversations,
        delegations: storage.delegations,
        templates: storage.catalogue(MSP.tenantId),
        clock: { now: () => new Date() },
        mspTenantId: MSP.tenantId,
      };
      const upn = 'cora.cert@contoso.example';
      const submitted = await submitChange(deps, {
        actor: asPerson(CONTOSO.carla),
        type: 'new_user',
        fields: {
          title: 'New starter: Cora Cert',
          description: 'Signs in to Graph with a certificate.',
          givenName: 'Cora',
          surname: 'Cert',
          displayName: 'Cora Cert',
          userPrincipalName: upn,
          usageLocation: 'GB',
          startDate: '2030-01-06',
          licenceSkus: 'SPB',
          groups: 'Sales Team',
        },
      });
      assert.ok(submitted.ok, submitted.ok ? '' : submitted.error.message);
      await takeChangesAnyTime(deps, CONTOSO_ID);
      const sent = await sendToApprovers(deps, submitted.value.request, {
        technician: asPerson(MSP.tina),
      });
      const decided = await decideApproval(deps, {
        actor: asPerson(CONTOSO.andy),
        requestId: sent.id,
        version: sent.version,
        decision: 'approve',
      });
      assert.equal(decided.kind, 'decided');
      const requestId = submitted.value.request.id;

      const signIn = await fetch(`${cabinet!.url}/api/tab/sandbox/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ person: 'tina' }),
      });
      const { token } = (await signIn.json()) as { token: string };
      const api = (path: string, body: unknown) =>
        fetch(`${cabinet!.url}/api/tab/requests/${requestId}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const preview = await api('/preview', { options: {} });
      assert.equal(preview.status, 200, await preview.clone().text());
      const { digest, version } = (await preview.json()) as { digest: string; version: number };
      const started = await api('/runs', { version, previewDigest: digest });
      assert.equal(started.status, 202, await started.clone().text());
      const { run } = (await started.json()) as { run: { id: RunId } };

      // Cabinet's own relay drives the run; wait for it to end (a stuck run fails, not a slow one).
      let status: RunStatus | undefined;
      for (let pass = 0; pass < 300 && !(status && isFinal(status)); pass += 1) {
        if (pass > 0) await delay(100);
        status = (await storage.runs.get(CONTOSO_ID, run.id))?.run.status;
      }
      assert.equal(status, 'completed');
      const created = cloud.tenant(CONTOSO_ID).user(upn);
      assert.ok(created, 'the account exists in the client tenant');
      assert.deepEqual(
        created.licences.map((licence) => licence.skuPartNumber),
        ['SPB'],
      );
      const stored = await storage.requests.get(CONTOSO_ID, requestId);
      assert.equal(stored?.request.status, 'implemented');
    });
  });
});
