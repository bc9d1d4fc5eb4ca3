/**
 * `npm run package -- --app-id <guid> --bot-id <guid> --domain <host> [--tab-client-id <guid>] [--version x.y.z] [--out file.zip]`:
 * builds the Teams app package to upload to a tenant's app catalogue.
 * @remarks Values come from arguments, not the environment, so the same command line reproduces the same zip.
 * The version defaults to package.json's.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppPackageError, buildAppPackage } from './app-package';

const USAGE =
  'Usage: npm run package -- --app-id <guid> --bot-id <guid> --domain <host> [--tab-client-id <guid>] [--version x.y.z] [--out artifacts/cabinet-app.zip]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'app-id': { type: 'string', default: '' },
      'bot-id': { type: 'string', default: '' },
      'tab-client-id': { type: 'string' },
      domain: { type: 'string', default: '' },
      version: { type: 'string' },
      out: { type: 'string', default: 'artifacts/cabinet-app.zip' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const root = resolve(__dirname, '..');
  const { version } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  const outFile = resolve(values.out);
  await buildAppPackage({
    appId: values['app-id'],
    botId: values['bot-id'],
    ...(values['tab-client-id'] ? { tabClientId: values['tab-client-id'] } : {}),
    domain: values.domain,
    version: values.version ?? version,
    outFile,
  });
  console.log(`Teams app package written to ${relative(process.cwd(), outFile)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof AppPackageError ? `${error.message}\n${USAGE}` : error);
  process.exitCode = 1;
});
