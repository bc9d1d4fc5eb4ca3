import { strict as assert } from 'node:assert';
import sinon from 'sinon';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Config } from '../../src/config';
import { KEY_MANIFEST_FORMAT, keyManifestEntry } from '../../src/domain/audit/key-manifest';
import { startCabinet } from '../../src/main';
import type { RunningCabinet } from '../../src/sandbox/launcher';
import { startAzurite, type RunningAzurite } from '../../src/sandbox/azurite';
import { CONTOSO, MSP_TENANT } from '../../src/sandbox/sandbox-tenants';

describe('Cabinet in production mode', function () {
  this.timeout(30_000);
  let azurite: RunningAzurite;
  let cabinet: RunningCabinet;

  before(async () => {
    azurite = await startAzurite();
    // Built directly: loadConfig rightly refuses the emulator in production, but the point here is bot auth.
    const config: Config = {
      mode: 'production',
      http: { host: '127.0.0.1', port: 0 },
      botAuth: {
        appId: randomUUID(),
        appType: 'SingleTenant',
        tenantId: MSP_TENANT,
        password: 'not-a-real-secret',
      },
      storage: {
        connectionString: azurite.connectionString,
        tablePrefix: `prod${randomUUID().slice(0, 8)}`,
      },
      mspTenantId: MSP_TENANT,
      relay: { enabled: false, intervalMs: 1000 },
      execution: { together: true },
      psa: { pollIntervalMs: 60_000 },
      checkpoints: {
        everyEntries: 100,
        maxAgeMs: 300_000,
        container: 'prodanchors',
        ...signingKey(),
      },
      sandbox: {
        dataDir: '.cabinet',
        playgrounds: false,
        playgroundBasePort: 56150,
        azuritePort: 10002,
        azuriteBlobPort: 10000,
        cloudPort: 0,
      },
    };
    cabinet = await startCabinet(config, { log: () => undefined });
  });

  after(async () => {
    await cabinet?.stop();
    await azurite?.stop();
  });

  const activity = (serviceUrl: string) => ({
    type: 'message',
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl,
    from: { id: '29:x', aadObjectId: CONTOSO.carla.oid, name: 'Carla' },
    recipient: { id: '28:cabinet' },
    conversation: { id: 'personal-x', conversationType: 'personal', tenantId: CONTOSO.tenantId },
    channelData: { tenant: { id: CONTOSO.tenantId } },
    text: 'help',
  });

  it('refuses activities without a Bot Framework token', async () => {
    // CloudAdapter reports every refused token with console.error; the seam cannot be injected.
    const quiet = sinon.createSandbox();
    quiet.stub(console, 'error');
    const res = await fetch(`${cabinet.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity('https://smba.trafficmanager.net/emea/')),
    });
    quiet.restore();
    assert.equal(res.status, 401);
  });

  it('refuses activities whose serviceUrl is not a Microsoft connector before any handler runs', async () => {
    for (const serviceUrl of [
      'https://evil.trafficmanager.net/',
      'http://smba.trafficmanager.net/',
      'https://user@smba.trafficmanager.net/',
      'https://smba.trafficmanager.net.evil.com/',
      'https://127.0.0.1/',
    ]) {
      const res = await fetch(`${cabinet.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer forged' },
        body: JSON.stringify(activity(serviceUrl)),
      });
      assert.equal(res.status, 400, serviceUrl);
    }
  });

  it('answers health and readiness', async () => {
    assert.equal((await fetch(`${cabinet.url}/healthz`)).status, 200);
    const ready = await fetch(`${cabinet.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
  });

  it('refuses to start without bot authentication, naming each missing variable', () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !/^(Microsoft|CABINET_)/.test(key)),
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...env, CABINET_MODE: 'production' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 1);
    for (const variable of [
      'MicrosoftAppId',
      'MicrosoftAppType',
      'MicrosoftAppTenantId',
      'MicrosoftAppPassword',
      'CABINET_STORAGE_CONNECTION_STRING',
    ]) {
      assert.match(run.stderr, new RegExp(variable));
    }
  });
});

/** A production checkpoint key and its one-key manifest, as `cabinet evidence keys create` makes them. */
function signingKey(): { keyPem: string; manifestJson: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const manifest = {
    format: KEY_MANIFEST_FORMAT,
    keys: [
      keyManifestEntry({
        name: 'cabinet-production-test',
        publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
        createdAt: '2026-11-01T00:00:00.000Z',
      }),
    ],
  };
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    manifestJson: JSON.stringify(manifest),
  };
}
