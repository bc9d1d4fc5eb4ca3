// Typed lint for the whole project; `npm run lint` runs it with --max-warnings 0.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.cabinet/**',
      'artifacts/**',
      'scratch/**',
      '*.config.*',
      '.dependency-cruiser.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@azure/*', '@microsoft/*', 'botbuilder*', 'restify', 'adaptivecards*'],
              message: 'The domain core is pure: no SDKs.',
            },
            {
              group: [
                'node:fs',
                'node:net',
                'node:http',
                'node:https',
                'node:child_process',
                'fs',
                'net',
                'http',
                'https',
              ],
              message: 'The domain core does no I/O.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Inject a Clock.' },
        { object: 'DateTime', property: 'now', message: 'Inject a Clock; pass the instant in.' },
        { object: 'DateTime', property: 'local', message: 'Name the zone: DateTime.fromObject(…, { zone }).' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Inject a Clock.',
        },
      ],
    },
  },
  {
    // The tab's browser scripts, served as written: tsc checks them, undefined names included,
    // with the DOM library (checkJs in src/surfaces/tab/public/tsconfig.json).
    files: ['src/surfaces/tab/public/**/*.js'],
    rules: { 'no-undef': 'off' },
  },
  {
    // The offline verifier ships alone in evidence bundles as dependency-free JavaScript, outside every
    // tsconfig: linted untyped (its declarations for the tests are in verify.d.mts).
    files: ['verifier/**'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
