#!/usr/bin/env node
// `npm run docs:reference`: renders the TSDoc of the framework's and the client's public API as
// HTML into docs/reference/ (not committed). TypeDoc lives in tools/docs with its own lock file
// (it needs TypeScript's JavaScript API, 5.x; the build uses the native TypeScript 7 compiler)
// and is installed there on first use.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tools = join(root, 'tools', 'docs');
const typedoc = join(tools, 'node_modules', '.bin', 'typedoc');
const run = (cmd, args, cwd) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!existsSync(typedoc)) run('npm', ['ci', '--no-audit', '--no-fund', '--silent'], tools);
run(typedoc, ['--options', join(tools, 'typedoc.json'), '--treatWarningsAsErrors'], root);
console.log('docs:reference: open docs/reference/index.html');
