import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'cdk.out/',
      'dist/',
      'out/',
      'coverage/',
      '.tmp/',
      '.data/',
      '**/*.cjs',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  // Type-aware rules: floating promises, awaits of non-promises, async functions with nothing to
  // wait for, unsafe `any` flows, needless assertions... checked with the project's own types.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A switch over a union names every case; a `default` is a deliberate catch-all.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      'no-console': 'off',
    },
  },
  {
    files: ['tests/**'],
    rules: {
      // Tests read parsed JSON, recorded requests and SDK mock calls, typed `any` by their libraries:
      // the assertion on the value is the check.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // jest's expect(mock.method) passes methods around unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
      // Test doubles implement async ports with immediate answers.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
