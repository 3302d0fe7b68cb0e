#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js and dist of test/) with
// node's built-in runner. Node 20's `node --test` takes no globs, so the files are listed here.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = [];
for (const pkg of readdirSync(join(root, 'packages'))) roots.push(join(root, 'packages', pkg, 'dist', 'test'));
roots.push(join(root, 'test', 'dist'));

function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
const files = roots.flatMap((dir) => collect(dir, [])).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('run-tests: no compiled test files found (did the build run?)');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
