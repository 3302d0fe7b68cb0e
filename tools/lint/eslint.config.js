// ESLint for the whole repo, with typescript-eslint's type-aware rules. Run it through
// `npm run lint` at the root (which also type-checks with the build's compiler).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/*.d.ts', '.raftkit-data/**', 'tools/**', 'bench/**', 'scripts/**', 'packages/*/bin/**'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        project: ['packages/*/tsconfig.json', 'test/tsconfig.json'],
        tsconfigRootDir: root,
      },
    },
    rules: {
      // A promise nobody awaits or handles loses its error: the bugs these catch are real here.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      // (typeof import('ws') types a lazily loaded module.)
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // A handler installed before the variable it reads is assigned (servers answering 503 until ready).
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }],
      // The code base uses these deliberately (test doubles, JSON of unknown shape, empty no-op loggers).
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Decorator metadata hands over constructors and `design:type` values as plain Functions.
    files: ['packages/framework/src/fsm/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-function-type': 'off' },
  },
);
