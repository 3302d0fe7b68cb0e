#!/usr/bin/env node
// `npm run lint`: type-checks everything with the build's compiler, then ESLint (typescript-eslint's
// type-aware rules) and a Prettier check over the TypeScript sources. The linters live in
// tools/lint with their own lock file: typescript-eslint needs TypeScript's JavaScript API
// (TypeScript 5.x), while the build uses the native TypeScript 7 compiler. They are installed
// there on first use. `npm run format` rewrites the files Prettier would change.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tools = join(root, 'tools', 'lint');
const bin = (name) => join(tools, 'node_modules', '.bin', name);
const write = process.argv.includes('--write');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`lint: ${[cmd, ...args].join(' ').slice(0, 200)} failed`);
    process.exit(r.status ?? 1);
  }
}

if (!existsSync(bin('eslint')) || !existsSync(bin('prettier'))) {
  run('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: tools });
}
const sources = ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'test/**/*.ts'];
if (write) {
  run(bin('prettier'), ['--config', join(tools, 'prettier.config.js'), '--log-level', 'warn', '--write', ...sources]);
  process.exit(0);
}
run(join(root, 'node_modules', '.bin', 'tsc'), ['-b', '--noEmit']);
run(bin('eslint'), ['--config', join(tools, 'eslint.config.js'), '--max-warnings', '0', ...sources]);
run(bin('prettier'), ['--config', join(tools, 'prettier.config.js'), '--log-level', 'warn', '--check', ...sources]);
console.log('lint: types, ESLint and Prettier are clean');
