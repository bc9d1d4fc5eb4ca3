import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import ts from 'typescript';
import { TAB_PUBLIC_DIR } from '../../../src/surfaces/tab/tab-static.route';

/**
 * The tab's browser scripts are served as written (no build step), so the type checker runs on them
 * here: `// @ts-check` with the DOM library, per src/surfaces/tab/public/tsconfig.json.
 */
describe('Tab browser scripts', () => {
  it('type-check against the DOM and the API shapes they declare', function () {
    this.timeout(60_000);
    const configPath = join(TAB_PUBLIC_DIR, 'tsconfig.json');
    const config = ts.getParsedCommandLineOfConfigFile(
      configPath,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) =>
          assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
      },
    );
    assert.ok(config, `cannot read ${configPath}`);
    assert.ok(config.fileNames.length > 0, 'no scripts found');

    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where =
        d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const file = d.file ? `${d.file.fileName}:${(where?.line ?? 0) + 1}` : 'config';
      return `${file}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });

    assert.deepEqual(problems, []);
  });
});
