/**
 * Builds and checks the Teams app package (`manifest.json`, `color.png`, `outline.png` in one zip).
 * @remarks Validation uses the official manifest JSON schema shipped inside `@microsoft/app-manifest`, read
 * from node_modules: never `fetchSchema`, which downloads it from the `$schema` URL.
 * @packageDocumentation
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AppManifestUtils, type AppManifest } from '@microsoft/app-manifest';
import JSZip from 'jszip';
import { decodePng, pngSize } from './png';

/** The source folder of the app package. */
export const APP_PACKAGE_DIR = resolve(__dirname, '../appPackage');

/**
 * Values in `appPackage/manifest.json` that stand in for a deployment's own.
 * @remarks The ids are schema-valid GUIDs (a `${{BOT_ID}}` token would fail validation) that no real Entra
 * app will ever have; the packager refuses to ship any of them.
 */
export const MANIFEST_PLACEHOLDERS = {
  appId: '00000000-0000-0000-0000-0000000000a1',
  botId: '00000000-0000-0000-0000-0000000000b1',
  /** The Entra app Teams SSO issues the tab's tokens for (`webApplicationInfo`). */
  tabClientId: '00000000-0000-0000-0000-0000000000c1',
  domain: 'cabinet.example.com',
} as const;

const ICON_SIZES = { color: 192, outline: 32 } as const;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const FIXED_ZIP_DATE = new Date(Date.UTC(2020, 0, 1));

/** Reads the official schema for a manifest version from the installed `@microsoft/app-manifest`. */
export function loadManifestSchema(
  manifestVersion: string,
): Parameters<typeof AppManifestUtils.validateAgainstSchema>[1] {
  const root = dirname(require.resolve('@microsoft/app-manifest/package.json'));
  const file = join(
    root,
    'build',
    'json-schemas',
    'teams',
    `v${manifestVersion}`,
    'MicrosoftTeams.schema.json',
  );
  if (!/^\d+\.\d+$/.test(manifestVersion) || !existsSync(file)) {
    throw new Error(
      `No schema for manifestVersion "${manifestVersion}" in @microsoft/app-manifest (looked for ${file}).`,
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Parameters<
    typeof AppManifestUtils.validateAgainstSchema
  >[1];
}

/** Schema errors for a parsed manifest, as JSON pointers with messages; empty when it is valid. */
export async function validateManifest(manifest: unknown): Promise<string[]> {
  const version = (manifest as { manifestVersion?: unknown } | null)?.manifestVersion;
  if (typeof version !== 'string') return ['/manifestVersion is missing or not a string'];
  return AppManifestUtils.validateAgainstSchema(
    manifest as AppManifest,
    loadManifestSchema(version),
  );
}

/**
 * Problems with the two icons that the schema cannot see: Teams rejects a colour icon that is not 192×192
 * and an outline icon that is not 32×32 pure white on transparent.
 */
export function checkIcons(files: { readonly color: Buffer; readonly outline: Buffer }): string[] {
  const problems: string[] = [];
  for (const kind of ['color', 'outline'] as const) {
    const expected = ICON_SIZES[kind];
    const { width, height } = pngSize(files[kind]);
    if (width !== expected || height !== expected) {
      problems.push(`${kind} icon is ${width}×${height}; Teams needs ${expected}×${expected}.`);
    }
  }
  const outline = decodePng(files.outline);
  for (let i = 0; i < outline.data.length; i += 4) {
    const [r, g, b, a] = outline.data.subarray(i, i + 4);
    if (a !== 0 && (r !== 255 || g !== 255 || b !== 255)) {
      problems.push('outline icon has a pixel that is neither transparent nor white.');
      break;
    }
  }
  return problems;
}

export interface BuildAppPackageOptions {
  /** The Teams app id (manifest `id`): one GUID per Cabinet deployment, kept across versions. */
  readonly appId: string;
  /** The Azure Bot's Microsoft App ID. */
  readonly botId: string;
  /**
   * The Entra app whose `access_as_user` scope the tab's SSO token is for (Cabinet's
   * CABINET_TAB_CLIENT_ID); defaults to the bot's app id, which is what Cabinet assumes too.
   */
  readonly tabClientId?: string;
  /** Public host name of the Cabinet service, e.g. `cabinet.northwind-it.com`. */
  readonly domain: string;
  /** App version (semver); bump it for every upload that should replace the previous one. */
  readonly version: string;
  readonly outFile: string;
  /** Defaults to `appPackage/`. */
  readonly sourceDir?: string;
}

/** Substitutes the deployment's values, validates manifest and icons, and writes the zip. */
export async function buildAppPackage(
  options: BuildAppPackageOptions,
): Promise<{ readonly manifest: unknown }> {
  const problems = checkDeploymentValues(options);
  if (problems.length > 0) throw new AppPackageError(problems);
  const sourceDir = options.sourceDir ?? APP_PACKAGE_DIR;
  const text = readFileSync(join(sourceDir, 'manifest.json'), 'utf8')
    .replaceAll(MANIFEST_PLACEHOLDERS.appId, options.appId.toLowerCase())
    .replaceAll(MANIFEST_PLACEHOLDERS.botId, options.botId.toLowerCase())
    .replaceAll(
      MANIFEST_PLACEHOLDERS.tabClientId,
      (options.tabClientId ?? options.botId).toLowerCase(),
    )
    .replaceAll(MANIFEST_PLACEHOLDERS.domain, options.domain.toLowerCase());
  const manifest = { ...(JSON.parse(text) as Record<string, unknown>), version: options.version };
  const icons = {
    color: readFileSync(join(sourceDir, 'color.png')),
    outline: readFileSync(join(sourceDir, 'outline.png')),
  };
  const errors = [...(await validateManifest(manifest)), ...checkIcons(icons)];
  if (errors.length > 0) throw new AppPackageError(errors);

  const zip = new JSZip();
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, { date: FIXED_ZIP_DATE });
  zip.file('color.png', icons.color, { date: FIXED_ZIP_DATE });
  zip.file('outline.png', icons.outline, { date: FIXED_ZIP_DATE });
  const bytes = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  mkdirSync(dirname(options.outFile), { recursive: true });
  writeFileSync(options.outFile, bytes);
  return { manifest };
}

/** The package was not built; every message says what to fix. */
export class AppPackageError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The Teams app package was not built:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AppPackageError';
  }
}

function checkDeploymentValues(options: BuildAppPackageOptions): string[] {
  const problems: string[] = [];
  const guid = (value: string, flag: string, what: string, placeholder: string): void => {
    if (!GUID.test(value)) problems.push(`${flag} is "${value}"; set it to ${what} (a GUID).`);
    else if (value.toLowerCase() === placeholder)
      problems.push(`${flag} is the placeholder from manifest.json; set it to ${what}.`);
  };
  guid(
    options.appId,
    '--app-id',
    'the Teams app id of this Cabinet deployment',
    MANIFEST_PLACEHOLDERS.appId,
  );
  guid(options.botId, '--bot-id', "the Azure Bot's Microsoft App ID", MANIFEST_PLACEHOLDERS.botId);
  if (options.tabClientId !== undefined)
    guid(
      options.tabClientId,
      '--tab-client-id',
      "the client id of the Entra app the tab's sign-in is for",
      MANIFEST_PLACEHOLDERS.tabClientId,
    );
  if (!HOST.test(options.domain)) {
    problems.push(
      `--domain is "${options.domain}"; set it to the host name Cabinet is served from, without https://.`,
    );
  } else if (options.domain.toLowerCase() === MANIFEST_PLACEHOLDERS.domain) {
    problems.push(
      '--domain is the placeholder from manifest.json; set it to the host name Cabinet is served from.',
    );
  }
  if (!/^\d+\.\d+\.\d+$/.test(options.version))
    problems.push(`--version is "${options.version}"; use major.minor.patch.`);
  return problems;
}
