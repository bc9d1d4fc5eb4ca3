import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import {
  APP_PACKAGE_DIR,
  AppPackageError,
  MANIFEST_PLACEHOLDERS,
  buildAppPackage,
  checkIcons,
  validateManifest,
} from '../../scripts/app-package';
import { encodePng, pngSize } from '../../scripts/png';

interface BotManifest {
  readonly botId: string;
  readonly scopes: readonly string[];
  readonly commandLists: readonly {
    readonly scopes: readonly string[];
    readonly commands: readonly { readonly title: string }[];
  }[];
}

interface TabManifest {
  readonly staticTabs: readonly {
    readonly entityId: string;
    readonly name?: string;
    readonly contentUrl?: string;
    readonly websiteUrl?: string;
    readonly scopes: readonly string[];
  }[];
  readonly webApplicationInfo: { readonly id: string; readonly resource: string };
  readonly validDomains: readonly string[];
}

type Manifest = Record<string, unknown> & { bots: BotManifest[] } & TabManifest;

const manifestText = readFileSync(join(APP_PACKAGE_DIR, 'manifest.json'), 'utf8');
const readManifest = (): Manifest => JSON.parse(manifestText) as Manifest;
const icons = () => ({
  color: readFileSync(join(APP_PACKAGE_DIR, 'color.png')),
  outline: readFileSync(join(APP_PACKAGE_DIR, 'outline.png')),
});
const deployment = {
  appId: '3f1c2b7a-1111-4222-8333-444455556666',
  botId: '9a8b7c6d-1111-4222-8333-444455556666',
  domain: 'cabinet.northwind-it.example',
};

describe('Teams app manifest', () => {
  it('is valid against the official schema of its manifest version', async () => {
    assert.deepEqual(await validateManifest(readManifest()), []);
  });

  it('offers the bot in personal chat, teams and group chats', () => {
    const [bot, ...others] = readManifest().bots;
    assert.equal(others.length, 0);
    assert.deepEqual([...bot!.scopes].sort(), ['groupChat', 'personal', 'team']);
  });

  it('lists new, my requests, status and help in every scope', () => {
    const bot = readManifest().bots[0]!;
    for (const scope of bot.scopes) {
      const titles = bot.commandLists
        .filter((list) => list.scopes.includes(scope))
        .flatMap((list) => list.commands.map((c) => c.title));
      assert.deepEqual(titles, ['new', 'my requests', 'status', 'help'], `commands in ${scope}`);
    }
  });

  it('offers the Requests tab, served by Cabinet on its own host, beside the chat', () => {
    const { staticTabs, validDomains } = readManifest();

    assert.deepEqual(
      staticTabs.map((t) => t.entityId),
      ['conversations', 'requests'],
    );
    const tab = staticTabs.find((t) => t.entityId === 'requests')!;
    assert.equal(tab.contentUrl, `https://${MANIFEST_PLACEHOLDERS.domain}/tab/`);
    assert.equal(tab.websiteUrl, tab.contentUrl);
    assert.deepEqual(tab.scopes, ['personal']);
    assert.deepEqual(validDomains, [MANIFEST_PLACEHOLDERS.domain]);
  });

  it('declares Teams SSO for the tab: the client id and its api:// resource on that host', () => {
    assert.deepEqual(readManifest().webApplicationInfo, {
      id: MANIFEST_PLACEHOLDERS.tabClientId,
      resource: `api://${MANIFEST_PLACEHOLDERS.domain}/${MANIFEST_PLACEHOLDERS.tabClientId}`,
    });
  });

  it('ships a 192×192 colour icon and a 32×32 white-on-transparent outline icon', () => {
    const files = icons();
    assert.deepEqual(pngSize(files.color), { width: 192, height: 192 });
    assert.deepEqual(pngSize(files.outline), { width: 32, height: 32 });
    assert.deepEqual(checkIcons(files), []);
  });

  it('reports schema errors with JSON pointers for a broken copy', async () => {
    const broken = readManifest();
    delete (broken.name as Record<string, unknown>).full;
    broken.bots[0] = { ...broken.bots[0]!, botId: 'not-a-guid', scopes: ['personal', 'meeting'] };

    const errors = await validateManifest(broken);

    assert.ok(
      errors.some((e) => e.startsWith('/name ') && e.includes('full')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => e.startsWith('/bots/0/botId ')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => e.startsWith('/bots/0/scopes/1 ')),
      errors.join('\n'),
    );
  });

  it('reports an outline icon with colour in it', () => {
    const data = new Uint8Array(32 * 32 * 4).fill(0);
    data.set([0x2b, 0x57, 0x97, 0xff], 0);

    const problems = checkIcons({
      ...icons(),
      outline: encodePng({ width: 32, height: 32, data }),
    });

    assert.deepEqual(problems, ['outline icon has a pixel that is neither transparent nor white.']);
  });
});

describe('Teams app package', () => {
  let outDir: string;
  beforeEach(() => {
    outDir = mkdtempSync(join(tmpdir(), 'cabinet-package-'));
  });
  afterEach(() => rmSync(outDir, { recursive: true, force: true }));

  it('the package script writes a zip with a valid manifest and the icons at its root', async function () {
    this.timeout(60_000);
    const outFile = join(outDir, 'cabinet-app.zip');
    const root = resolve(__dirname, '../..');
    await promisify(execFile)(
      process.execPath,
      [
        require.resolve('tsx/cli'),
        'scripts/package-app.ts',
        ...[
          '--app-id',
          deployment.appId,
          '--bot-id',
          deployment.botId,
          '--domain',
          deployment.domain,
        ],
        ...['--version', '1.2.3', '--out', outFile],
      ],
      { cwd: root },
    );

    const zip = await JSZip.loadAsync(readFileSync(outFile));
    assert.deepEqual(Object.keys(zip.files).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const packedText = await zip.file('manifest.json')!.async('string');
    const packed = JSON.parse(packedText) as Manifest;
    assert.deepEqual(await validateManifest(packed), []);
    assert.equal(packed.id, deployment.appId);
    assert.equal(packed.bots[0]!.botId, deployment.botId);
    assert.equal(packed.version, '1.2.3');
    assert.deepEqual(packed.validDomains, [deployment.domain]);
    assert.equal(
      packed.staticTabs.find((t) => t.entityId === 'requests')!.contentUrl,
      `https://${deployment.domain}/tab/`,
    );
    assert.deepEqual(packed.webApplicationInfo, {
      id: deployment.botId,
      resource: `api://${deployment.domain}/${deployment.botId}`,
    });
    for (const placeholder of Object.values(MANIFEST_PLACEHOLDERS))
      assert.ok(!packedText.includes(placeholder), placeholder);
    assert.deepEqual(Buffer.from(await zip.file('color.png')!.async('uint8array')), icons().color);
  });

  it('puts a separate tab sign-in app into webApplicationInfo when given one', async () => {
    const tabClientId = '7c6d5e4f-1111-4222-8333-444455556666';

    const { manifest } = await buildAppPackage({
      ...deployment,
      tabClientId,
      version: '1.0.0',
      outFile: join(outDir, 'tab.zip'),
    });

    assert.deepEqual((manifest as Manifest).webApplicationInfo, {
      id: tabClientId,
      resource: `api://${deployment.domain}/${tabClientId}`,
    });
    assert.equal((manifest as Manifest).bots[0]!.botId, deployment.botId);
  });

  it('refuses to ship the placeholder ids and says which argument to set', async () => {
    const attempt = buildAppPackage({
      ...deployment,
      botId: MANIFEST_PLACEHOLDERS.botId,
      version: '1.0.0',
      outFile: join(outDir, 'never.zip'),
    });

    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof AppPackageError);
      assert.deepEqual(error.problems, [
        "--bot-id is the placeholder from manifest.json; set it to the Azure Bot's Microsoft App ID.",
      ]);
      return true;
    });
  });
});
