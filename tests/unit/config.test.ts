import { strict as assert } from 'node:assert';
import { ConfigError, loadConfig } from '../../src/config';

const PRODUCTION = {
  CABINET_MODE: 'production',
  MicrosoftAppId: '11111111-2222-4333-8444-555555555555',
  MicrosoftAppType: 'SingleTenant',
  MicrosoftAppTenantId: '0b5e55ed-0000-4000-8000-000000000001',
  MicrosoftAppPassword: 'secret',
  CABINET_STORAGE_CONNECTION_STRING:
    'DefaultEndpointsProtocol=https;AccountName=cabinetprod;AccountKey=a2V5;EndpointSuffix=core.windows.net',
  // Checked for shape when Cabinet starts (the signer refuses a key that is not the manifest's newest).
  CABINET_CHECKPOINT_KEY_PEM: '-----BEGIN PRIVATE KEY-----\\nMIG…\\n-----END PRIVATE KEY-----',
  CABINET_CHECKPOINT_KEY_MANIFEST: '{"format":"cabinet-keys/v1","keys":[]}',
};

function refusal(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error: unknown) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail('expected the configuration to be refused');
}

describe(loadConfig.name, () => {
  it('runs the sandbox on loopback when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.mode, 'sandbox');
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.http.port, 3978);
    assert.equal(config.botAuth, undefined);
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig(PRODUCTION);
    assert.equal(config.mode, 'production');
    assert.equal(config.botAuth?.appId, PRODUCTION.MicrosoftAppId);
    assert.equal(config.mspTenantId, PRODUCTION.MicrosoftAppTenantId);
  });

  for (const variable of [
    'MicrosoftAppId',
    'MicrosoftAppTenantId',
    'MicrosoftAppPassword',
    'CABINET_STORAGE_CONNECTION_STRING',
  ]) {
    it(`refuses production without ${variable} and names it`, () => {
      assert.match(refusal({ ...PRODUCTION, [variable]: undefined }), new RegExp(variable));
    });
  }

  it('refuses a multi-tenant bot registration in production', () => {
    assert.match(
      refusal({ ...PRODUCTION, MicrosoftAppType: 'MultiTenant' }),
      /MicrosoftAppType is "MultiTenant"; set it to SingleTenant/,
    );
  });

  it('accepts a certificate instead of a secret', () => {
    const config = loadConfig({
      ...PRODUCTION,
      MicrosoftAppPassword: undefined,
      MicrosoftAppCertificateThumbprint: 'AB12',
      MicrosoftAppCertificatePrivateKey: '-----BEGIN PRIVATE KEY-----',
    });
    assert.equal(config.botAuth?.certificateThumbprint, 'AB12');
  });

  it('refuses the storage emulator in production', () => {
    assert.match(
      refusal({ ...PRODUCTION, CABINET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' }),
      /local emulator/,
    );
  });

  it('never runs the sandbox with production credentials or off loopback', () => {
    assert.match(
      refusal({ MicrosoftAppPassword: 'secret' }),
      /sandbox never runs with production credentials/,
    );
    assert.match(refusal({ HOST: '0.0.0.0' }), /binds to 127\.0\.0\.1 only/);
  });

  it('leaves Graph execution and the tab off in production until they are configured', () => {
    const config = loadConfig(PRODUCTION);
    assert.equal(config.graph, undefined);
    assert.equal(config.tab, undefined);
    assert.equal(config.execution.together, true);
  });

  it('configures the Graph app and the tab in production', () => {
    const config = loadConfig({
      ...PRODUCTION,
      CABINET_GRAPH_CLIENT_ID: 'AAAAAAAA-2222-4333-8444-555555555555',
      CABINET_GRAPH_CLIENT_SECRET: 'graph-secret',
      CABINET_PUBLIC_URL: 'https://cabinet.example.com',
    });
    assert.equal(config.graph?.clientId, 'aaaaaaaa-2222-4333-8444-555555555555');
    assert.equal(config.graph?.clientSecret, 'graph-secret');
    assert.deepEqual(config.tab, {
      clientId: PRODUCTION.MicrosoftAppId,
      publicUrl: 'https://cabinet.example.com',
    });
  });

  it('restores the line breaks of a private key kept on one line with \\n escapes', () => {
    const config = loadConfig({
      ...PRODUCTION,
      CABINET_GRAPH_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
      CABINET_GRAPH_CERTIFICATE_THUMBPRINT: 'AB12',
      CABINET_GRAPH_CERTIFICATE_PRIVATE_KEY:
        '-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----',
    });
    assert.equal(
      config.graph?.certificatePrivateKey,
      '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----',
    );
  });

  it('refuses a Graph app without a credential, and credentials without an app', () => {
    assert.match(
      refusal({ ...PRODUCTION, CABINET_GRAPH_CLIENT_ID: '11111111-2222-4333-8444-555555555555' }),
      /neither CABINET_GRAPH_CLIENT_SECRET nor CABINET_GRAPH_CERTIFICATE_THUMBPRINT/,
    );
    assert.match(
      refusal({ ...PRODUCTION, CABINET_GRAPH_CLIENT_SECRET: 'graph-secret' }),
      /CABINET_GRAPH_CLIENT_ID was not configured/,
    );
    assert.match(
      refusal({ ...PRODUCTION, CABINET_PUBLIC_URL: 'http://cabinet.example.com/tab' }),
      /CABINET_PUBLIC_URL is "http:\/\/cabinet.example.com\/tab"; set it to the HTTPS origin/,
    );
  });

  it('leaves PSA sync off until a PSA is configured, and reads each one whole', () => {
    assert.deepEqual(loadConfig(PRODUCTION).psa, { pollIntervalMs: 60_000 });
    const config = loadConfig({
      ...PRODUCTION,
      CABINET_HALOPSA_API_URL: 'https://msp.halopsa.com/api',
      CABINET_HALOPSA_CLIENT_ID: 'halo-app',
      CABINET_HALOPSA_CLIENT_SECRET: 'halo-secret',
      CABINET_HALOPSA_WEBHOOK_SECRET: 'halo-hook',
      CABINET_CONNECTWISE_SITE_URL: 'https://api-na.myconnectwise.net',
      CABINET_CONNECTWISE_COMPANY_ID: 'northwind',
      CABINET_CONNECTWISE_PUBLIC_KEY: 'pub',
      CABINET_CONNECTWISE_PRIVATE_KEY: 'priv',
      CABINET_CONNECTWISE_CLIENT_ID: 'cw-client',
      CABINET_PSA_POLL_INTERVAL_MS: '120000',
    });
    assert.equal(config.psa.halopsa?.authUrl, 'https://msp.halopsa.com/auth');
    assert.equal(config.psa.halopsa?.webhookSecret, 'halo-hook');
    assert.equal(config.psa.connectwise?.companyId, 'northwind');
    assert.equal(config.psa.autotask, undefined);
    assert.equal(config.psa.pollIntervalMs, 120_000);
  });

  it('refuses a partly configured PSA and a PSA address that is not https', () => {
    assert.match(
      refusal({ ...PRODUCTION, CABINET_AUTOTASK_USERNAME: 'api@msp.example' }),
      /Autotask is partly configured; also set CABINET_AUTOTASK_SECRET, CABINET_AUTOTASK_INTEGRATION_CODE, CABINET_AUTOTASK_WEBHOOK_SECRET/,
    );
    assert.match(
      refusal({
        ...PRODUCTION,
        CABINET_CONNECTWISE_SITE_URL: 'http://cw.example',
        CABINET_CONNECTWISE_COMPANY_ID: 'northwind',
        CABINET_CONNECTWISE_PUBLIC_KEY: 'pub',
        CABINET_CONNECTWISE_PRIVATE_KEY: 'priv',
        CABINET_CONNECTWISE_CLIENT_ID: 'cw-client',
      }),
      /CABINET_CONNECTWISE_SITE_URL is "http:\/\/cw.example"; set it to the PSA's https:\/\/ address/,
    );
  });

  it('needs the checkpoint signing key in production, and reads the checkpoint settings', () => {
    const config = loadConfig({
      ...PRODUCTION,
      CABINET_CHECKPOINT_EVERY_ENTRIES: '50',
      CABINET_CHECKPOINT_EVERY_MINUTES: '2',
      CABINET_ANCHOR_CONNECTION_STRING: 'DefaultEndpointsProtocol=https;AccountName=cabinetworm',
    });
    assert.equal(config.checkpoints.everyEntries, 50);
    assert.equal(config.checkpoints.maxAgeMs, 120_000);
    assert.equal(config.checkpoints.container, 'cabinetanchors');
    assert.match(config.checkpoints.keyPem ?? '', /\n-----END PRIVATE KEY-----$/);
    assert.match(
      refusal({ ...PRODUCTION, CABINET_CHECKPOINT_KEY_PEM: undefined }),
      /Audit checkpoints are unavailable because CABINET_CHECKPOINT_KEY_PEM and CABINET_CHECKPOINT_KEY_MANIFEST/,
    );
    assert.match(
      refusal({ CABINET_CHECKPOINT_CONTAINER: 'Bad_Name' }),
      /CABINET_CHECKPOINT_CONTAINER is "bad_name"/,
    );
    assert.match(
      refusal({ CABINET_CHECKPOINT_KEY_PEM: 'x' }),
      /the sandbox signs with its own key/,
    );
  });

  it('never runs the sandbox with PSA credentials', () => {
    assert.match(
      refusal({ CABINET_HALOPSA_CLIENT_SECRET: 'halo-secret' }),
      /PSA settings \(CABINET_HALOPSA_CLIENT_SECRET\) are set but CABINET_MODE is sandbox/,
    );
  });

  it('never runs the sandbox with Graph credentials', () => {
    assert.match(
      refusal({ CABINET_GRAPH_CLIENT_SECRET: 'graph-secret' }),
      /uses its own local Microsoft cloud/,
    );
  });

  it('names the variable and the fix for a bad value', () => {
    assert.match(refusal({ PORT: 'eighty' }), /PORT is "eighty"; set it to a whole number/);
    assert.match(refusal({ CABINET_MODE: 'staging' }), /CABINET_MODE is "staging"/);
  });
});
