import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'coverage/**', 'bench/out/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read arbitrary JSON responses.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // The layers (docs/architecture.md): api/ (HTTP) -> services/ (behaviour, domain errors) ->
  // adapters/ (SQL, S3, brokers); activities/ use services and adapters; nothing below api/ knows HTTP.
  {
    files: ['services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../api', '../api/*', 'hono', 'hono/*', '@hono/*'],
              message: 'Services know no HTTP: they throw ServiceError, and api/ maps it to an answer.',
            },
            { group: ['../activities', '../activities/*'], message: 'Services do not call activities.' },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../api', '../api/*', 'hono', 'hono/*', '@hono/*'],
              message: 'Activities know no HTTP: share behaviour through services/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../api', '../api/*', '../../api/*', 'hono', 'hono/*', '@hono/*'],
              message: 'Adapters know no HTTP.',
            },
            {
              group: ['../services/*', '../../services/*', '../activities/*', '../../activities/*'],
              allowTypeImports: true,
              message: 'Adapters are the bottom layer: import only types from services and activities.',
            },
          ],
        },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no clocks, no randomness.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Workflows import only types from activities.',
            },
            {
              group: ['../adapters/*'],
              allowTypeImports: true,
              message: 'No I/O in workflow code: import only types from the adapters.',
            },
            { group: ['pg', 'pg-boss', '@aws-sdk/*', 'node:*'], message: 'No I/O in workflow code.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
      ],
    },
  },
);
