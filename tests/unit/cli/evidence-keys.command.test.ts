import { strict as assert } from 'node:assert';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfiguredCheckpointSigner } from '../../../src/adapters/crypto/checkpoint-signer';
import { runEvidenceKeysCommand } from '../../../src/cli/evidence-keys.command';
import { noteKeyHash } from '../../../src/domain/audit/checkpoint';
import { keyFingerprint, verifyKeyManifest } from '../../../src/domain/audit/key-manifest';
import {
  buildLog,
  bundleFiles,
  honestParts,
  zipFiles,
  type TestKey,
} from '../../support/evidence-fixture';

describe(runEvidenceKeysCommand.name, () => {
  let dir: string;
  let lines: string[];
  let clock: Date;
  const path = (name: string) => join(dir, name);
  const run = (...args: string[]) =>
    runEvidenceKeysCommand(args, { out: (l) => lines.push(l), now: () => clock });
  const text = (name: string) => readFile(path(name), 'utf8');
  const signerFor = async (key: string, manifest: string) =>
    createConfiguredCheckpointSigner({
      privateKeyPem: await text(key),
      manifestJson: await text(manifest),
    });
  const fingerprintOf = async (key: string) =>
    keyFingerprint(
      createPublicKey(createPrivateKey(await text(key))).export({ type: 'spki', format: 'der' }),
    );

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cabinet-keys-'));
    lines = [];
    clock = new Date('2026-11-01T09:00:00.000Z');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const create = () =>
    run(
      'create',
      '--name',
      'contoso-msp-2026',
      '--key-out',
      path('key1.pem'),
      '--manifest-out',
      path('keys.json'),
    );
  const rotate = (manifestOut = 'keys.json') =>
    run(
      'rotate',
      '--key',
      path('key1.pem'),
      '--manifest',
      path('keys.json'),
      '--name',
      'contoso-msp-2027',
      '--key-out',
      path('key2.pem'),
      '--manifest-out',
      path(manifestOut),
    );

  it('create writes a 0600 PKCS #8 key and a one-key manifest the production signer accepts', async () => {
    assert.equal(await create(), 0, lines.join('\n'));
    assert.equal((await stat(path('key1.pem'))).mode & 0o777, 0o600);
    assert.match(await text('key1.pem'), /^-----BEGIN PRIVATE KEY-----\n/);
    const manifest = JSON.parse(await text('keys.json')) as { keys: { createdAt: string }[] };
    assert.equal(manifest.keys.length, 1);
    assert.equal(manifest.keys[0]!.createdAt, '2026-11-01T09:00:00.000Z');
    const signer = await signerFor('key1.pem', 'keys.json');
    assert.equal(signer.keyName, 'contoso-msp-2026');
    const fingerprint = await fingerprintOf('key1.pem');
    assert.ok(lines.includes(`Pinned key fingerprint (SHA-256): ${fingerprint}`), lines.join('\n'));
  });

  it('rotate appends an endorsed key: the signer takes the new pair and refuses the old key with the new manifest', async () => {
    assert.equal(await create(), 0);
    const pinned = await fingerprintOf('key1.pem');
    clock = new Date('2027-01-01T00:00:00.000Z');
    lines = [];
    assert.equal(await rotate(), 0, lines.join('\n'));
    assert.equal((await stat(path('key2.pem'))).mode & 0o777, 0o600);
    const verdict = verifyKeyManifest(JSON.parse(await text('keys.json')), pinned);
    assert.ok(verdict.ok);
    assert.deepEqual(
      verdict.keys.map((k) => k.name),
      ['contoso-msp-2026', 'contoso-msp-2027'],
    );
    assert.equal((await signerFor('key2.pem', 'keys.json')).keyName, 'contoso-msp-2027');
    await assert.rejects(signerFor('key1.pem', 'keys.json'), /not the newest key/);
    assert.ok(lines.includes(`Current key fingerprint (SHA-256): ${pinned}`));
    assert.ok(lines.includes(`New key fingerprint (SHA-256): ${await fingerprintOf('key2.pem')}`));
    assert.ok(lines.includes(`Pinned key fingerprint (SHA-256) unchanged: ${pinned}`));

    lines = [];
    assert.equal(await run('show', '--manifest', path('keys.json'), '--pin', pinned), 0);
    assert.match(lines.join('\n'), /2 key\(s\), endorsement chain verified/);
    assert.match(
      lines.join('\n'),
      /2\. contoso-msp-2027 .*endorsed by "contoso-msp-2026", signs now/,
    );
  });

  it('verify.mjs accepts a bundle signed by the rotated key under the rotated manifest, pinned to the first key', async () => {
    assert.equal(await create(), 0);
    clock = new Date('2027-01-01T00:00:00.000Z');
    assert.equal(await rotate(), 0);
    const keyOf = async (name: string, file: string): Promise<TestKey> => {
      const privateKey = createPrivateKey(await text(file));
      const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
      return { name, privateKey, spki, keyHash: noteKeyHash(name, spki) };
    };
    const keys = [
      await keyOf('contoso-msp-2026', 'key1.pem'),
      await keyOf('contoso-msp-2027', 'key2.pem'),
    ];
    // The fixture lays out the bundle; its keys/keys.json is replaced by the manifest the CLI wrote.
    const parts = {
      ...honestParts(buildLog(30), { keys }),
      extra: new Map([['keys/keys.json', await readFile(path('keys.json'))]]),
    };
    const { verifyBundle } = await import('../../../verifier/verify.mjs');
    const pin = await fingerprintOf('key1.pem');
    const { exitCode, report } = await verifyBundle(await zipFiles(bundleFiles(parts)), { pin });
    assert.equal(exitCode, 0, JSON.stringify(report));
  });

  it('rotate refuses a key that is not the newest of the manifest, and writes nothing', async () => {
    assert.equal(await create(), 0);
    assert.equal(await rotate('keys2.json'), 0);
    lines = [];
    const code = await run(
      'rotate',
      '--key',
      path('key1.pem'),
      '--manifest',
      path('keys2.json'),
      '--name',
      'contoso-msp-2028',
      '--key-out',
      path('key3.pem'),
      '--manifest-out',
      path('keys2.json'),
    );
    assert.equal(code, 1);
    assert.match(lines.join('\n'), /is not the newest key of .*"contoso-msp-2027"/);
    await assert.rejects(stat(path('key3.pem')), { code: 'ENOENT' });
  });

  it('bad inputs exit 1 saying what to fix', async () => {
    const expectFailure = async (args: string[], message: RegExp) => {
      lines = [];
      assert.equal(await run(...args), 1, args.join(' '));
      assert.match(lines.join('\n'), message);
    };
    await expectFailure(['frobnicate'], /cabinet evidence keys create/);
    await expectFailure(['create', '--name', 'x'], /needs --key-out/);
    await expectFailure(
      ['create', '--name', 'has space', '--key-out', path('k.pem'), '--manifest-out', path('m')],
      /has spaces/,
    );
    await expectFailure(['create', '--bogus'], /Unknown option/);
    assert.equal(await create(), 0);
    await expectFailure(
      ['create', '--name', 'n', '--key-out', path('key1.pem'), '--manifest-out', path('m.json')],
      /exists; --key-out never overwrites a key/,
    );
    await expectFailure(
      ['create', '--name', 'n', '--key-out', path('k9.pem'), '--manifest-out', path('keys.json')],
      /keys\.json exists/,
    );
    await assert.rejects(stat(path('k9.pem')), { code: 'ENOENT' });
    await writeFile(path('bad.json'), '{"format":"cabinet-keys/v1","keys":[]}');
    await expectFailure(['show', '--manifest', path('bad.json')], /does not verify: .*no keys/);
    await expectFailure(['show', '--manifest', path('missing.json')], /Cannot read .*ENOENT/);
    await expectFailure(
      ['show', '--manifest', path('keys.json'), '--pin', '00'.repeat(32)],
      /is not the pinned/,
    );
    await writeFile(path('not-a-key.pem'), 'hello');
    await expectFailure(
      [
        'rotate',
        '--key',
        path('not-a-key.pem'),
        '--manifest',
        path('keys.json'),
        '--name',
        'n2',
        '--key-out',
        path('n2.pem'),
        '--manifest-out',
        path('keys.json'),
      ],
      /not a PEM private key/,
    );
    clock = new Date('2020-01-01T00:00:00.000Z');
    await expectFailure(
      [
        'rotate',
        '--key',
        path('key1.pem'),
        '--manifest',
        path('keys.json'),
        '--name',
        'contoso-msp-2026',
        '--key-out',
        path('n2.pem'),
        '--manifest-out',
        path('keys.json'),
      ],
      /already has a key named/,
    );
  });
});
