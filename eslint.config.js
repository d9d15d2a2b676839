// gts (Google's TypeScript style: eslint + prettier) with the project's
// own ignores. Generated code is rebuilt by `npm run generate`, never linted.
import gts from 'gts';

export default [
  {
    ignores: [
      'dist/',
      'generated/',
      '.tools/',
      'node_modules/',
      'bench/results/',
    ],
  },
  ...gts,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite'],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    languageOptions: {sourceType: 'module'},
  },
];
